//! The daemon-local verbs: what a node answers from its own containers and networks, in or
//! out of a swarm (`ps`, `kill`, `exec`, `network ls`, the routing mesh's ingress route).

use super::Node;
use crate::api::{Network, NetworkDriver, NetworkScope};
use crate::control::Response;
use crate::docker_version::DockerVersion;
use crate::ids::NetworkId;
use crate::io::Output;
use crate::runtime::{ContainerCommand, ContainerInfo, ContainerState};
use crate::time::Instant;

impl Node {
    pub(super) fn ps(&mut self, now: Instant, req_id: u64, all: bool) {
        let containers = match self.agent() {
            Some(agent) => agent
                .containers
                .values()
                .filter(|c| all || matches!(c.state, ContainerState::Running { .. }))
                .cloned()
                .collect(),
            None => Vec::new(),
        };
        self.reply(req_id, Ok(Response::Containers { containers, as_of: now }));
    }

    /// The daemon's own networks, and the swarm's it knows.
    pub(super) fn known_networks(&self) -> Vec<Network> {
        let mut networks = self.local_networks.clone();
        if self.config.docker_version == DockerVersion::V20_10 && self.member().is_none() {
            // libnetwork makes `docker_gwbridge` when the daemon first joins a swarm: real
            // 20.10 has none before `swarm init`/`join` (conformance/reference/docker-20.10,
            // 01-network-ls-before-init). The 1.12 profile keeps it from the start, as the
            // walkthrough's first step expects.
            networks.retain(|n| n.name != "docker_gwbridge");
        }
        if let Some(mgr) = self.manager() {
            networks.extend(mgr.store.networks.values().cloned());
        } else if self.member().is_some() {
            // A worker lists the swarm networks its tasks use; ingress is always there.
            let id = self.agent().and_then(|a| a.directory.ingress_network.clone()).unwrap_or(NetworkId(String::new()));
            networks.push(Network {
                labels: Default::default(),
                attachable: false,
                id,
                name: "ingress".into(),
                driver: NetworkDriver::Overlay,
                scope: NetworkScope::Swarm,
                subnet: None,
                ingress: true,
                created_at: Instant::ZERO,
            });
        }
        networks
    }

    /// A container as docker finds one: by its full name, or by its ID or a unique prefix of
    /// it. (A service name is no container's name: `docker exec mynginx` is refused with
    /// `No such container`, as docker 20.10 does; conformance found the simulator accepting
    /// name prefixes.)
    fn find_container(&self, name: &str) -> Option<String> {
        let agent = self.agent()?;
        if agent.containers.contains_key(name) {
            return Some(name.to_string());
        }
        let matches: Vec<&ContainerInfo> = agent.containers.values().filter(|c| c.id.starts_with(name)).collect();
        (matches.len() == 1).then(|| matches[0].name.clone())
    }

    pub(super) fn kill(&mut self, req_id: u64, containers: &[String]) {
        for name in containers {
            match self.find_container(name) {
                Some(full) => {
                    self.outputs.push(Output::Container(ContainerCommand::Kill { name: full.clone() }));
                }
                None => {
                    return self.reply(
                        req_id,
                        Err(format!("Cannot kill container: {name}: No such container: {name}").into()),
                    );
                }
            }
        }
        self.reply(req_id, Ok(Response::Killed { containers: containers.to_vec() }));
    }

    pub(super) fn exec(&mut self, req_id: u64, container: &str, command: &[String]) {
        let Some(full) = self.find_container(container) else {
            return self.reply(req_id, Err(format!("No such container: {container}").into()));
        };
        match command {
            [cmd, name] if cmd == "nslookup" => {
                // The embedded DNS's answer, as a driver's DNS server gets it (`Node::resolve`).
                let ips = self.resolve(&full, name);
                let mut text = String::from("Server:    127.0.0.11\nAddress 1: 127.0.0.11\n\n");
                if ips.is_empty() {
                    return self.reply(req_id, Err(format!("{text}nslookup: can't resolve '{name}'").into()));
                }
                text.push_str(&format!("Name:      {name}\n"));
                for (i, ip) in ips.iter().enumerate() {
                    text.push_str(&format!("Address {}: {ip}\n", i + 1));
                }
                self.reply(req_id, Ok(Response::ExecOutput { stdout: text }));
            }
            // A task's secret or config file, as the container sees it. The simulated images
            // hold no other files: any other path is missing, in busybox's words.
            [cmd, path] if cmd == "cat" => match self.agent().and_then(|a| a.container_file(&full, path)) {
                Some(file) => self.reply(req_id, Ok(Response::FileContent { kind: file.kind, data: file.data })),
                None => self.reply(
                    req_id,
                    Err(crate::control::errors::client_side(format!(
                        "cat: can't open '{path}': No such file or directory"
                    ))
                    .into()),
                ),
            },
            _ => self.reply(
                req_id,
                Err(format!("exec: the simulated image only runs `nslookup NAME` and `cat FILE`, not {command:?}")
                    .into()),
            ),
        }
    }

    /// A connection from outside to `port` on this node: the routing mesh picks the task. The
    /// error is why the connection is refused (`Connection refused`), as a client shows it.
    pub(super) fn answer_route_ingress(&mut self, req_id: u64, port: u16) {
        if self.agent().is_none() {
            return self.reply(req_id, Err("Connection refused".into()));
        }
        match self.route_ingress(port) {
            Ok(route) => self.reply(req_id, Ok(Response::Route(route))),
            Err(e) => self.reply(req_id, Err(e.into())),
        }
    }
}
