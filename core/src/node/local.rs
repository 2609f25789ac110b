//! The daemon-local verbs: what a node answers from its own containers and networks, in or
//! out of a swarm (`ps`, `kill`, `exec`, `network ls`, the routing mesh's ingress route).

use super::Node;
use crate::cli::tables;
use crate::io::{Output, Reply};
use crate::runtime::{ContainerCommand, ContainerInfo, ContainerState};
use crate::time::Instant;

impl Node {
    pub(super) fn ps(&mut self, now: Instant, req_id: u64, all: bool, quiet: bool) {
        let text = match self.agent() {
            Some(agent) => {
                let containers: Vec<_> = agent.containers.values().cloned().collect();
                tables::container_ps(&containers, now, all, quiet)
            }
            None => tables::container_ps(&[], now, all, quiet),
        };
        self.reply(req_id, Reply::Text(text));
    }

    pub(super) fn network_ls(&self, quiet: bool) -> String {
        let mut rows: Vec<tables::NetworkRow> = self
            .local_networks
            .iter()
            .map(|n| tables::NetworkRow {
                id: n.id.to_string(),
                name: n.name.clone(),
                driver: n.driver.as_str().into(),
                scope: n.scope.as_str().into(),
            })
            .collect();
        if let Some(mgr) = self.manager() {
            rows.extend(mgr.store.networks.values().map(|n| tables::NetworkRow {
                id: n.id.to_string(),
                name: n.name.clone(),
                driver: n.driver.as_str().into(),
                scope: n.scope.as_str().into(),
            }));
        } else if self.member().is_some() {
            // A worker lists the swarm networks its tasks use; ingress is always there.
            rows.push(tables::NetworkRow {
                id: self
                    .agent()
                    .and_then(|a| a.directory.ingress_network.clone())
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                name: "ingress".into(),
                driver: "overlay".into(),
                scope: "swarm".into(),
            });
        }
        tables::network_ls(&rows, quiet)
    }

    fn find_container(&self, name: &str) -> Option<String> {
        let agent = self.agent()?;
        if agent.containers.contains_key(name) {
            return Some(name.to_string());
        }
        // Docker accepts ID prefixes; swarmsim also accepts a name prefix such as `mynginx.2`,
        // since task IDs are not known before the run.
        let matches: Vec<&ContainerInfo> = agent
            .containers
            .values()
            .filter(|c| c.id.starts_with(name) || c.name.starts_with(&format!("{name}.")))
            .collect();
        if matches.len() == 1 {
            return Some(matches[0].name.clone());
        }
        // Several (a slot's dead container beside its replacement): the one running, if unique.
        let running: Vec<&&ContainerInfo> =
            matches.iter().filter(|c| matches!(c.state, ContainerState::Running { .. })).collect();
        (running.len() == 1).then(|| running[0].name.clone())
    }

    pub(super) fn kill(&mut self, req_id: u64, containers: &[String]) {
        let mut text = String::new();
        for name in containers {
            match self.find_container(name) {
                Some(full) => {
                    self.outputs.push(Output::Container(ContainerCommand::Kill { name: full.clone() }));
                    text.push_str(name);
                    text.push('\n');
                }
                None => {
                    return self.reply(
                        req_id,
                        Reply::Error(format!("Cannot kill container: {name}: No such container: {name}")),
                    );
                }
            }
        }
        self.reply(req_id, Reply::Text(text));
    }

    pub(super) fn exec(&mut self, req_id: u64, container: &str, command: &[String]) {
        let Some(full) = self.find_container(container) else {
            return self.reply(req_id, Reply::Error(format!("No such container: {container}")));
        };
        let agent = self.agent().expect("find_container found one");
        match command {
            [cmd, name] if cmd == "nslookup" => {
                let networks = agent.container_networks(&full).unwrap_or_default();
                let ips = agent.directory.resolve(name, &networks);
                let mut text = String::from("Server:    127.0.0.11\nAddress 1: 127.0.0.11\n\n");
                if ips.is_empty() {
                    return self.reply(req_id, Reply::Error(format!("{text}nslookup: can't resolve '{name}'")));
                }
                text.push_str(&format!("Name:      {name}\n"));
                for (i, ip) in ips.iter().enumerate() {
                    text.push_str(&format!("Address {}: {ip}\n", i + 1));
                }
                self.reply(req_id, Reply::Text(text));
            }
            _ => self.reply(
                req_id,
                Reply::Error(format!("exec: the simulated image only runs `nslookup NAME`, not {command:?}")),
            ),
        }
    }

    pub(super) fn curl(&mut self, req_id: u64, url: &str) {
        let port = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .and_then(|hostport| hostport.rsplit_once(':'))
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .unwrap_or(80);
        let Some(agent) = self.agent() else {
            return self.reply(
                req_id,
                Reply::Error(format!("curl: (7) Failed to connect to port {port}: Connection refused")),
            );
        };
        let ingress = agent.directory.ingress_network.clone();
        let directory = agent.directory.clone();
        match self.mesh.route(&directory, port, ingress.as_ref()) {
            Ok(route) => self.reply(req_id, Reply::Route(route)),
            Err(e) => self.reply(req_id, Reply::Error(format!("curl: (7) Failed to connect to port {port}: {e}"))),
        }
    }
}
