//! A reply as docker's CLI prints it: tables, inspect JSON, success lines and
//! `Error response from daemon: ...`, from the reply's objects alone.

use super::invocation::Invocation;
use super::{inspect, listing, tables};
use crate::api::{Network, NodeRole, Service};
use crate::control::{Reply, Request, Response};
use crate::docker_version::DockerVersion;
use crate::ids::NodeId;
use std::collections::BTreeMap;

/// What the CLI prints for `reply` (stdout on success, stderr on an error).
pub fn render(invocation: &Invocation, reply: &Reply) -> String {
    let reply = &*super::filter::apply(&invocation.view.filters, &invocation.request, reply);
    match reply {
        Err(e) => match (&invocation.view.curl, &invocation.request) {
            (Some(curl), _) => format!("curl: (7) Failed to connect to port {}: {e}\n", curl.port),
            // `service scale` names the service each refusal is about (docker/cli
            // `service/scale.go`, 1.12's `api/client/service/scale.go` alike; seen on 20.10:
            // `web: Error response from daemon: ...`). The request is one write here, so a
            // refusal is every service's.
            // The mode check is the CLI's own (after it inspected the service): no daemon words.
            (None, Request::ScaleServices { .. }) if e.to_string().contains(": scale can only be used with") => {
                format!("{e}\n")
            }
            (None, Request::ScaleServices { scales }) => {
                scales.iter().map(|(name, _)| format!("{name}: Error response from daemon: {e}\n")).collect()
            }
            // `inspect` prints what it found (here: nothing) before the CLI's status error
            // (seen on docker 20.10: `[]` then `Status: Error: No such secret: x, Code: 1`).
            (None, Request::InspectData { .. }) if e.is_client_side() => format!("[]\nStatus: {e}, Code: 1\n"),
            (None, _) if e.is_client_side() => format!("{e}\n"),
            (None, _) => format!("Error response from daemon: {e}\n"),
        },
        Ok(response) => render_response(invocation, response),
    }
}

/// The CLI's exit status: docker's 1 when the daemon refuses, curl's 7 when no connection.
pub fn exit_code(invocation: &Invocation, reply: &Reply) -> i32 {
    let reply = &*super::filter::apply(&invocation.view.filters, &invocation.request, reply);
    match (reply, &invocation.view.curl) {
        (Ok(Response::DataRemoved { refused, .. }), _) if !refused.is_empty() => 1,
        (Ok(_), _) => 0,
        (Err(_), Some(_)) => 7,
        (Err(_), None) => 1,
    }
}

fn render_response(invocation: &Invocation, response: &Response) -> String {
    let view = &invocation.view;
    let version = view.docker_version;
    let lines = |items: &[String]| items.iter().map(|i| format!("{i}\n")).collect::<String>();
    match response {
        Response::SwarmInitialized { node_id, worker_token, advertise_addr } => {
            let join = join_instructions(NodeRole::Worker, worker_token, &advertise_addr.to_string(), version);
            // 1.12's hint ends on the command's last line; 20.10's already ends with a blank one.
            let gap = if version == DockerVersion::V1_12 { "\n" } else { "" };
            format!(
                "Swarm initialized: current node ({node_id}) is now a manager.\n\n{join}{gap}To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.\n\n"
            )
        }
        Response::SwarmJoined { role } => format!("This node joined a swarm as a {}.\n", role.as_str()),
        Response::SwarmLeft => "Node left the swarm.\n".into(),
        Response::SwarmUpdated => "Swarm updated.\n".into(),
        Response::JoinToken { role, token, manager_addr } => {
            if view.quiet {
                format!("{token}\n")
            } else {
                join_instructions(*role, token, &manager_addr.to_string(), version)
            }
        }
        // docker/cli `swarm join-token --rotate`: the rotation, then the join command (with
        // `-q`, only the new token), as `join-token` prints it.
        Response::JoinTokenRotated { role, token, manager_addr } => {
            if view.quiet {
                format!("{token}\n")
            } else {
                let join = join_instructions(*role, token, &manager_addr.to_string(), version);
                format!("Successfully rotated {} join token.\n\n{join}", role.as_str())
            }
        }
        Response::Nodes(nodes) => match invocation.request {
            Request::InspectNodes { .. } => {
                let statuses: BTreeMap<NodeId, String> =
                    nodes.iter().filter_map(|v| v.manager_status.clone().map(|s| (v.node.id.clone(), s))).collect();
                let found: Vec<_> = nodes.iter().map(|v| &v.node).collect();
                inspect::node_inspect(&found, &statuses, view.pretty)
            }
            _ => match &view.format {
                Some(format) => listing::nodes(nodes, format),
                None => tables::node_ls(nodes, view.quiet, version),
            },
        },
        Response::RolesChanged(changes) => {
            // docker's CLI names each node as it was typed (a hostname, an ID prefix), not by
            // its ID (docker/cli `node/promote.go`; seen on docker 20.10).
            let typed: &[String] = match &invocation.request {
                Request::PromoteNodes { nodes } | Request::DemoteNodes { nodes } => nodes,
                _ => &[],
            };
            changes
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let name = typed.get(i).map_or(c.node_id.as_str(), String::as_str);
                    match (c.changed, c.role) {
                        (false, role) => format!("Node {name} is already a {}.\n", role.as_str()),
                        (true, NodeRole::Manager) => format!("Node {name} promoted to a manager in the swarm.\n"),
                        (true, NodeRole::Worker) => format!("Manager {name} demoted in the swarm.\n"),
                    }
                })
                .collect()
        }
        Response::NodeUpdated { node } => format!("{node}\n"),
        Response::NetworkCreated { id } => format!("{id}\n"),
        Response::Networks(networks) => match invocation.request {
            Request::InspectNetworks { .. } => {
                let found: Vec<&Network> = networks.iter().collect();
                inspect::network_inspect(&found)
            }
            _ => tables::network_ls(networks, view.quiet, version),
        },
        Response::ServiceCreated { id } => format!("{id}\n"),
        Response::Services(services) => match invocation.request {
            Request::InspectServices { .. } => {
                let found: Vec<&Service> = services.iter().map(|v| &v.service).collect();
                if view.pretty {
                    let as_of = services.first().map(|v| v.as_of).unwrap_or_default();
                    inspect::service_inspect_pretty(&found, as_of)
                } else {
                    inspect::service_inspect(&found)
                }
            }
            _ => match &view.format {
                Some(format) => listing::services(services, format),
                None => tables::service_ls(services, view.quiet, version),
            },
        },
        Response::Tasks { tasks, as_of } => match &view.format {
            Some(format) => listing::tasks(tasks, *as_of, view.no_trunc, view.quiet, format),
            None => tables::service_ps(tasks, *as_of, view.no_trunc, view.quiet, version),
        },
        Response::ServicesScaled { scales } => {
            scales.iter().map(|(name, n)| format!("{name} scaled to {n}\n")).collect()
        }
        Response::ServiceUpdated { service } => format!("{service}\n"),
        Response::Removed { names } => lines(names),
        Response::Containers { containers, as_of } => match &view.format {
            Some(format) => listing::containers(containers, *as_of, version, format),
            None => tables::container_ps(containers, *as_of, view.quiet, version),
        },
        Response::Killed { containers } => lines(containers),
        Response::ExecOutput { stdout } => stdout.clone(),
        Response::FileContent { data, .. } => String::from_utf8_lossy(data.as_slice()).into_owned(),
        Response::Route(route) => format!("{} -> {}\n", route.service, route.backend.container_name),
        // No docker verb asks for it alone (`docker info` is served by swarmd's Engine API).
        Response::SystemInfo(info) => format!("{}\n", serde_json::to_string(info).unwrap_or_default()),
        Response::DataCreated { id, .. } => format!("{id}\n"),
        Response::DataObjects { kind, objects, as_of } => match invocation.request {
            Request::InspectData { .. } if view.pretty => inspect::data::data_inspect_pretty(objects),
            Request::InspectData { .. } => inspect::data::data_inspect(objects),
            _ => inspect::data::data_ls(*kind, objects, *as_of, view.quiet),
        },
        // docker's CLI prints each name removed, then each refusal (cli/command/secret/rm.go).
        Response::DataRemoved { removed, refused, .. } => {
            let refusals: Vec<String> = refused
                .iter()
                .map(|r| {
                    let e = crate::control::ApiError::new(r.clone());
                    if e.is_client_side() {
                        e.to_string()
                    } else {
                        format!("Error response from daemon: {e}")
                    }
                })
                .collect();
            lines(removed) + &lines(&refusals)
        }
    }
}

/// `swarm init`'s and `join-token`'s hint. 1.12 spread the command over three lines with `\`;
/// since moby#32731 (docker 17.06) it is one line, so that shells without `\` continuations
/// can paste it, followed by a blank line.
fn join_instructions(role: NodeRole, token: &str, addr: &str, version: DockerVersion) -> String {
    let role = role.as_str();
    match version {
        DockerVersion::V1_12 => format!(
            "To add a {role} to this swarm, run the following command:\n\n    docker swarm join \\\n    --token {token} \\\n    {addr}\n"
        ),
        DockerVersion::V20_10 => format!(
            "To add a {role} to this swarm, run the following command:\n\n    docker swarm join --token {token} {addr}\n\n"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::parse;

    const TOKEN: &str = "SWMTKN-1-0r1q96jvgog3704332b35vi756gpanmf63z3vrdbzlprhxwoio-7lpdmx2bp8u818533uwi4k0xb";

    fn rendered(line: &str, version: DockerVersion, response: Response) -> String {
        let invocation = parse(line).expect("parses").for_docker(version);
        render(&invocation, &Ok(response))
    }

    #[test]
    fn swarm_init_under_20_10_is_what_real_20_10_printed() {
        let response = Response::SwarmInitialized {
            node_id: NodeId("4iqrawg0fxk7aib2u5003yvgn".into()),
            worker_token: TOKEN.into(),
            advertise_addr: "10.98.0.11:2377".parse().expect("an address"),
        };
        let real = format!(
            "Swarm initialized: current node (4iqrawg0fxk7aib2u5003yvgn) is now a manager.\n\n\
             To add a worker to this swarm, run the following command:\n\n    \
             docker swarm join --token {TOKEN} 10.98.0.11:2377\n\n\
             To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.\n\n"
        );
        assert_eq!(rendered("docker swarm init --advertise-addr 10.98.0.11", DockerVersion::V20_10, response), real);
    }

    #[test]
    fn swarm_init_under_1_12_spreads_the_join_command_over_three_lines() {
        let response = Response::SwarmInitialized {
            node_id: NodeId("1egy2ark49q6xokudps5wykhn".into()),
            worker_token: TOKEN.into(),
            advertise_addr: "192.168.0.109:2377".parse().expect("an address"),
        };
        let text = rendered("docker swarm init --advertise-addr 192.168.0.109", DockerVersion::V1_12, response);
        let tutorial_lines = format!(
            "To add a worker to this swarm, run the following command:\n\n    docker swarm join \\\n    --token {TOKEN} \\\n    192.168.0.109:2377\n\nTo add a manager"
        );
        assert!(text.contains(&tutorial_lines), "{text}");
    }

    #[test]
    fn join_token_under_20_10_ends_with_a_blank_line() {
        let response = Response::JoinToken {
            role: NodeRole::Worker,
            token: TOKEN.into(),
            manager_addr: "10.98.0.11:2377".parse().expect("an address"),
        };
        let real = format!(
            "To add a worker to this swarm, run the following command:\n\n    docker swarm join --token {TOKEN} 10.98.0.11:2377\n\n"
        );
        assert_eq!(rendered("docker swarm join-token worker", DockerVersion::V20_10, response), real);
    }
}
