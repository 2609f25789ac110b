//! The docker-like verbs, parsed: what a user types on a node, and what `swarmctl` sends.

use crate::api::*;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One command line: `docker [-H HOST] <verb> ...` with `docker` optional.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// `-H HOST[:PORT]`: answer on that daemon instead of the local one.
    pub host: Option<String>,
    pub command: Command,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    SwarmInit {
        advertise_addr: Option<String>,
        listen_addr: Option<String>,
        force_new_cluster: bool,
    },
    /// `swarm init --default-addr-pool CIDR [--default-addr-pool-mask-length N]`. A variant of its
    /// own so that `SwarmInit` keeps its shape: the simulator's traces print commands, and a
    /// scenario's trace hash must not change.
    SwarmInitWithPool {
        advertise_addr: Option<String>,
        listen_addr: Option<String>,
        force_new_cluster: bool,
        default_addr_pool: AddrPool,
    },
    SwarmJoin {
        token: String,
        remote_addr: String,
        advertise_addr: Option<String>,
    },
    SwarmJoinToken {
        role: NodeRole,
        quiet: bool,
        rotate: bool,
    },
    SwarmLeave {
        force: bool,
    },
    NodeLs {
        quiet: bool,
    },
    NodeInspect {
        nodes: Vec<String>,
        pretty: bool,
    },
    NodeUpdate(NodeUpdateArgs),
    NodePromote {
        nodes: Vec<String>,
    },
    NodeDemote {
        nodes: Vec<String>,
    },
    NodeRm {
        nodes: Vec<String>,
        force: bool,
    },
    NetworkCreate {
        name: String,
        driver: NetworkDriver,
        subnet: Option<Subnet>,
    },
    NetworkLs {
        quiet: bool,
    },
    NetworkInspect {
        networks: Vec<String>,
    },
    NetworkRm {
        networks: Vec<String>,
    },
    ServiceCreate(ServiceCreateArgs),
    ServiceLs {
        quiet: bool,
    },
    ServicePs {
        services: Vec<String>,
        quiet: bool,
        no_trunc: bool,
    },
    ServiceInspect {
        services: Vec<String>,
        pretty: bool,
    },
    ServiceScale {
        scales: Vec<(String, u64)>,
    },
    ServiceUpdate(ServiceUpdateArgs),
    ServiceRm {
        services: Vec<String>,
    },
    /// `docker ps [-a] [-q]`: the containers of the answering node.
    Ps {
        all: bool,
        quiet: bool,
    },
    /// `docker kill NAME...`: SIGKILL, the container exits 137.
    Kill {
        containers: Vec<String>,
    },
    /// `docker exec NAME CMD...`; the simulated images understand `nslookup NAME`.
    Exec {
        container: String,
        command: Vec<String>,
    },
    /// Not a docker verb: an HTTP GET from outside the cluster to `http://HOST:PORT/`, answered
    /// by the routing mesh of the node HOST names.
    Curl {
        url: String,
    },
}

impl Command {
    /// Reads answer from the local manager's store; writes go to the leader through Raft.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Command::NodeUpdate(_)
                | Command::NodePromote { .. }
                | Command::NodeDemote { .. }
                | Command::NodeRm { .. }
                | Command::NetworkCreate { .. }
                | Command::NetworkRm { .. }
                | Command::ServiceCreate(_)
                | Command::ServiceScale { .. }
                | Command::ServiceUpdate(_)
                | Command::ServiceRm { .. }
                | Command::SwarmJoinToken { rotate: true, .. }
        )
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
}
