//! What a client asks a node, as data: swarm's verbs without docker's syntax or presentation
//! (`--quiet`, `--pretty`, `--no-trunc` stay at the CLI edge). The simulator's runner, swarmd's
//! control socket and a follower forwarding a write to its leader all carry a `Request`.

use crate::api::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    InitSwarm {
        advertise_addr: Option<String>,
        listen_addr: Option<String>,
        force_new_cluster: bool,
        default_addr_pool: Option<AddrPool>,
    },
    JoinSwarm {
        token: String,
        remote_addr: String,
        advertise_addr: Option<String>,
    },
    LeaveSwarm {
        force: bool,
    },
    GetJoinToken {
        role: NodeRole,
    },
    RotateJoinToken {
        role: NodeRole,
    },
    ListNodes,
    /// Names, IDs, ID prefixes, or `self`.
    InspectNodes {
        nodes: Vec<String>,
    },
    UpdateNode(NodeUpdateArgs),
    PromoteNodes {
        nodes: Vec<String>,
    },
    DemoteNodes {
        nodes: Vec<String>,
    },
    RemoveNodes {
        nodes: Vec<String>,
        force: bool,
    },
    CreateNetwork {
        name: String,
        driver: NetworkDriver,
        subnet: Option<Subnet>,
        /// `--label` (a stack's `com.docker.stack.namespace`).
        #[serde(default)]
        labels: std::collections::BTreeMap<String, String>,
        /// `--attachable`.
        #[serde(default)]
        attachable: bool,
    },
    /// The daemon's own networks and the swarm's.
    ListNetworks,
    InspectNetworks {
        networks: Vec<String>,
    },
    RemoveNetworks {
        networks: Vec<String>,
    },
    CreateService(ServiceCreateArgs),
    ListServices,
    InspectServices {
        services: Vec<String>,
    },
    /// The tasks of these services.
    ListTasks {
        services: Vec<String>,
    },
    ScaleServices {
        scales: Vec<(String, u64)>,
    },
    UpdateService(ServiceUpdateArgs),
    RemoveServices {
        services: Vec<String>,
    },
    /// The containers of the answering node; without `all` only the running ones.
    ListContainers {
        all: bool,
    },
    /// SIGKILL: the containers exit 137.
    KillContainers {
        containers: Vec<String>,
    },
    /// Runs a command in a container; the simulated images understand `nslookup NAME`.
    Exec {
        container: String,
        command: Vec<String>,
    },
    /// A connection from outside the cluster to `port` on the answering node: the routing mesh
    /// picks the task that serves it.
    RouteIngress {
        port: u16,
    },
    /// `swarm update`: the cluster's settings, each only when given.
    UpdateSwarm(SwarmUpdateArgs),
    /// `node ps [NODE...]`: the tasks on these nodes (names, IDs, ID prefixes, or `self`).
    ListNodeTasks {
        nodes: Vec<String>,
    },
    // ----- secrets and configs (`docker secret|config ...`) -----
    /// `secret create` / `config create`: the bytes travel in the request (to the leader, and
    /// into the Raft log); `DataSpec`'s `Debug` and `summary()` never show them.
    CreateData {
        kind: DataKind,
        /// Boxed: a request travels inside every node-to-node message's enum.
        spec: Box<DataSpec>,
    },
    /// `secret ls` / `config ls`.
    ListData {
        kind: DataKind,
    },
    /// `secret inspect` / `config inspect`: names, IDs or ID prefixes.
    InspectData {
        kind: DataKind,
        names: Vec<String>,
    },
    /// `secret rm` / `config rm`: each refused while a service uses it.
    RemoveData {
        kind: DataKind,
        names: Vec<String>,
    },
    // ----- the Docker Engine API's (swarmd's HTTP API) -----
    /// What `docker info` shows of the answering node's swarm: its ID and state, whether it is
    /// a manager, the cluster's ID and counts. Answered by the node itself, never forwarded.
    SystemInfo,
}

/// `docker swarm update`'s flags, as the changes they ask for (swarmkit `ClusterSpec` fields).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmUpdateArgs {
    pub task_history_limit: Option<u64>,
    pub dispatcher_heartbeat: Option<Duration>,
    pub node_cert_expiry: Option<Duration>,
    /// `--autolock`: swarmsim keeps no encrypted Raft log, so `true` is refused.
    pub autolock: Option<bool>,
}

impl SwarmUpdateArgs {
    fn summary(&self) -> String {
        let mut s = "swarm update".to_string();
        if let Some(n) = self.task_history_limit {
            s.push_str(&format!(" task-history-limit={n}"));
        }
        if let Some(d) = self.dispatcher_heartbeat {
            s.push_str(&format!(" dispatcher-heartbeat={}ms", d.as_millis()));
        }
        if let Some(d) = self.node_cert_expiry {
            s.push_str(&format!(" cert-expiry={}s", d.as_secs()));
        }
        if let Some(a) = self.autolock {
            s.push_str(&format!(" autolock={a}"));
        }
        s
    }
}

impl Request {
    /// Reads answer from the local manager's store; writes go to the leader through Raft.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Request::UpdateNode(_)
                | Request::PromoteNodes { .. }
                | Request::DemoteNodes { .. }
                | Request::RemoveNodes { .. }
                | Request::CreateNetwork { .. }
                | Request::RemoveNetworks { .. }
                | Request::CreateService(_)
                | Request::ScaleServices { .. }
                | Request::UpdateService(_)
                | Request::RemoveServices { .. }
                | Request::RotateJoinToken { .. }
                | Request::UpdateSwarm(_)
                | Request::CreateData { .. }
                | Request::RemoveData { .. }
        )
    }

    /// One stable line for the simulator's trace: the verb and what it names, in swarm's words
    /// (`service create mynginx replicas=2`). Unlike `Debug` it does not move when a field is
    /// added to a request.
    pub fn summary(&self) -> String {
        let list = |items: &[String]| items.join(" ");
        match self {
            Request::InitSwarm { advertise_addr, default_addr_pool, force_new_cluster, .. } => {
                let mut s = "swarm init".to_string();
                if *force_new_cluster {
                    s.push_str(" force-new-cluster");
                }
                if let Some(a) = advertise_addr {
                    s.push_str(&format!(" advertise={a}"));
                }
                if let Some(pool) = default_addr_pool {
                    let subnets: Vec<String> = pool.pools.iter().map(|p| p.to_string()).collect();
                    s.push_str(&format!(" pool={} size={}", subnets.join(","), pool.subnet_size));
                }
                s
            }
            Request::JoinSwarm { remote_addr, advertise_addr, .. } => match advertise_addr {
                Some(a) => format!("swarm join {remote_addr} advertise={a}"),
                None => format!("swarm join {remote_addr}"),
            },
            Request::LeaveSwarm { force } => format!("swarm leave force={force}"),
            Request::GetJoinToken { role } => format!("swarm join-token {}", role.as_str()),
            Request::RotateJoinToken { role } => format!("swarm join-token rotate {}", role.as_str()),
            Request::UpdateSwarm(args) => args.summary(),
            Request::ListNodes => "node ls".into(),
            Request::InspectNodes { nodes } => format!("node inspect {}", list(nodes)),
            Request::UpdateNode(u) => {
                let mut s = format!("node update {}", u.node);
                if let Some(a) = u.availability {
                    s.push_str(&format!(" availability={}", a.as_str().to_lowercase()));
                }
                if let Some(r) = u.role {
                    s.push_str(&format!(" role={}", r.as_str()));
                }
                for (k, v) in &u.label_add {
                    s.push_str(&format!(" label+{k}={v}"));
                }
                for k in &u.label_rm {
                    s.push_str(&format!(" label-{k}"));
                }
                s
            }
            Request::PromoteNodes { nodes } => format!("node promote {}", list(nodes)),
            Request::DemoteNodes { nodes } => format!("node demote {}", list(nodes)),
            Request::RemoveNodes { nodes, force } => format!("node rm {} force={force}", list(nodes)),
            Request::CreateNetwork { name, driver, subnet, .. } => match subnet {
                Some(s) => format!("network create {name} driver={} subnet={s}", driver.as_str()),
                None => format!("network create {name} driver={}", driver.as_str()),
            },
            Request::ListNetworks => "network ls".into(),
            Request::InspectNetworks { networks } => format!("network inspect {}", list(networks)),
            Request::RemoveNetworks { networks } => format!("network rm {}", list(networks)),
            Request::CreateService(c) => {
                let mut s = format!("service create {}", c.name.as_deref().unwrap_or("-"));
                if c.job {
                    let total = c.replicas.unwrap_or(1);
                    match c.global {
                        true => s.push_str(" mode=global-job"),
                        false => s.push_str(&format!(
                            " mode=replicated-job completions={total} max-concurrent={}",
                            c.max_concurrent.unwrap_or(total)
                        )),
                    }
                } else if c.global {
                    s.push_str(" mode=global");
                } else {
                    s.push_str(&format!(" replicas={}", c.replicas.unwrap_or(1)));
                }
                s.push_str(&format!(" image={}", c.image));
                for p in &c.publish {
                    s.push_str(&format!(" publish={}:{}", p.published_port, p.target_port));
                }
                for n in &c.networks {
                    s.push_str(&format!(" network={n}"));
                }
                for c in &c.constraints {
                    s.push_str(&format!(" constraint={c}"));
                }
                s
            }
            Request::ListServices => "service ls".into(),
            Request::InspectServices { services } => format!("service inspect {}", list(services)),
            Request::ListTasks { services } => format!("service ps {}", list(services)),
            Request::ScaleServices { scales } => {
                let parts: Vec<String> = scales.iter().map(|(n, r)| format!("{n}={r}")).collect();
                format!("service scale {}", parts.join(" "))
            }
            Request::UpdateService(u) => {
                let mut s = format!("service update {}", u.service);
                if let Some(r) = u.replicas {
                    s.push_str(&format!(" replicas={r}"));
                }
                if let Some(i) = &u.image {
                    s.push_str(&format!(" image={i}"));
                }
                if u.force {
                    s.push_str(" force");
                }
                if u.rollback_to_previous {
                    s.push_str(" rollback");
                }
                s
            }
            Request::RemoveServices { services } => format!("service rm {}", list(services)),
            Request::ListContainers { all } => format!("ps all={all}"),
            Request::KillContainers { containers } => format!("kill {}", list(containers)),
            Request::Exec { container, command } => format!("exec {container} {}", list(command)),
            Request::RouteIngress { port } => format!("route ingress port={port}"),
            Request::SystemInfo => "info".into(),
            Request::ListNodeTasks { nodes } => format!("node ps {}", list(nodes)),
            Request::CreateData { kind, spec } => {
                let mut s = format!("{} create {} bytes={}", kind.as_str(), spec.name, spec.data.len());
                for (k, v) in &spec.labels {
                    s.push_str(&format!(" label={k}={v}"));
                }
                s
            }
            Request::ListData { kind } => format!("{} ls", kind.as_str()),
            Request::InspectData { kind, names } => format!("{} inspect {}", kind.as_str(), list(names)),
            Request::RemoveData { kind, names } => format!("{} rm {}", kind.as_str(), list(names)),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeUpdateArgs {
    pub node: String,
    pub availability: Option<Availability>,
    pub role: Option<NodeRole>,
    pub label_add: Vec<(String, String)>,
    pub label_rm: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCreateArgs {
    pub name: Option<String>,
    pub image: String,
    pub command: Vec<String>,
    /// `--replicas N`; replicated mode defaults to 1.
    pub replicas: Option<u64>,
    /// `--mode global`.
    pub global: bool,
    /// `--publish 8000:80`, `--publish published=8000,target=80,mode=host`.
    pub publish: Vec<PortConfig>,
    /// `--network NAME` (names or IDs, resolved by the manager).
    pub networks: Vec<String>,
    pub constraints: Vec<Constraint>,
    pub env: Vec<String>,
    pub reservations: Resources,
    pub restart_condition: Option<RestartCondition>,
    pub restart_delay: Option<Duration>,
    pub restart_max_attempts: Option<u64>,
    pub restart_window: Option<Duration>,
    /// `--health-*`, `--no-healthcheck` (boxed: a request travels inside every message).
    #[serde(default)]
    pub health: Box<super::HealthFlags>,
    /// `--placement-pref`, `--replicas-max-per-node`.
    #[serde(default)]
    pub placement: Box<super::PlacementFlags>,
    /// `--update-*` (boxed: a request travels inside every node-to-node message's enum).
    pub update: Box<UpdateConfigFlags>,
    /// `--rollback-*`.
    pub rollback: Box<UpdateConfigFlags>,
    /// `--mode replicated-job` (with `global`: `--mode global-job`): `replicas` is then the
    /// total of completions.
    #[serde(default)]
    pub job: bool,
    /// `--max-concurrent` (replicated jobs; docker's CLI defaults it to the replicas).
    #[serde(default)]
    pub max_concurrent: Option<u64>,
    /// `--secret`, `--config` (`secret_add`, `config_add`; boxed as the other flag groups).
    #[serde(default)]
    pub references: Box<DataReferenceFlags>,
    /// `--label` (a stack's `com.docker.stack.namespace` and `com.docker.stack.image`).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceUpdateArgs {
    pub service: String,
    pub replicas: Option<u64>,
    pub image: Option<String>,
    /// `--force`: replace the tasks even if nothing changed (rebalances).
    pub force: bool,
    pub constraint_add: Vec<Constraint>,
    pub constraint_rm: Vec<String>,
    pub env_add: Vec<String>,
    pub env_rm: Vec<String>,
    pub publish_add: Vec<PortConfig>,
    pub publish_rm: Vec<u16>,
    pub network_add: Vec<String>,
    pub network_rm: Vec<String>,
    pub reservations: Option<Resources>,
    pub restart_condition: Option<RestartCondition>,
    pub restart_delay: Option<Duration>,
    pub restart_max_attempts: Option<u64>,
    /// `--health-*`, `--no-healthcheck` (boxed: a request travels inside every message).
    #[serde(default)]
    pub health: Box<super::HealthFlags>,
    /// `--placement-pref-add/-rm`, `--replicas-max-per-node`.
    #[serde(default)]
    pub placement: Box<super::PlacementFlags>,
    pub restart_window: Option<Duration>,
    /// `--update-*` (boxed: a request travels inside every node-to-node message's enum).
    pub update: Box<UpdateConfigFlags>,
    /// `--rollback-*`.
    pub rollback: Box<UpdateConfigFlags>,
    /// `--rollback` (and `docker service rollback`): back to the previous spec, nothing else.
    pub rollback_to_previous: bool,
    /// A whole new spec in place of the current one, as `docker stack deploy` sends a service
    /// it finds already there (the other fields are then ignored; `force_update` is kept, as
    /// the CLI keeps `ForceUpdate`). Boxed: a request travels inside every message.
    #[serde(default)]
    pub replace: Option<Box<ServiceCreateArgs>>,
    /// `--secret-add`, `--secret-rm`, `--config-add`, `--config-rm`.
    #[serde(default)]
    pub references: Box<DataReferenceFlags>,
}

/// A service's secret and config references as flags: `service create --secret/--config`
/// fill the `_add` lists, `service update` all four (`--secret-rm NAME` drops every reference
/// to that secret). Names, resolved to IDs by the manager.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataReferenceFlags {
    pub secret_add: Vec<DataReferenceArg>,
    pub secret_rm: Vec<String>,
    pub config_add: Vec<DataReferenceArg>,
    pub config_rm: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli;

    fn request(line: &str) -> Request {
        cli::parse(line).unwrap_or_else(|e| panic!("{line}: {e}")).request
    }

    #[test]
    fn summaries_name_the_verb_and_what_it_acts_on() {
        assert_eq!(
            request("docker service create --replicas 2 --name mynginx --publish 8000:80 nginx").summary(),
            "service create mynginx replicas=2 image=nginx publish=8000:80"
        );
        assert_eq!(request("docker service scale web=5 api=1").summary(), "service scale web=5 api=1");
        assert_eq!(
            request("docker node update --availability drain w1").summary(),
            "node update w1 availability=drain"
        );
        assert_eq!(request("curl http://bd0:8000/").summary(), "route ingress port=8000");
    }

    #[test]
    fn view_flags_stay_at_the_edge() {
        assert_eq!(request("docker service ps -q --no-trunc web"), request("docker service ps web"));
        assert_eq!(request("docker node inspect --pretty self"), request("docker node inspect self"));
        assert_eq!(request("docker swarm join-token -q worker"), Request::GetJoinToken { role: NodeRole::Worker });
        assert_eq!(
            request("docker swarm join-token --rotate manager"),
            Request::RotateJoinToken { role: NodeRole::Manager }
        );
    }

    #[test]
    fn a_request_and_a_reply_survive_json() {
        let req = request("docker service create --name web --constraint node.role==worker nginx");
        let back: Request = serde_json::from_str(&serde_json::to_string(&req).unwrap()).unwrap();
        assert_eq!(back, req);
        let reply: crate::control::Reply = Err(crate::control::ApiError::new("network a not found"));
        let text = serde_json::to_string(&reply).unwrap();
        assert_eq!(serde_json::from_str::<crate::control::Reply>(&text).unwrap(), reply);
    }
}
