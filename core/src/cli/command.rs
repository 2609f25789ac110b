//! The docker-like verbs, parsed: docker's syntax tree, flags and all. It stays at the CLI's
//! edge: `Invocation::of` lowers it into a control-API `Request` and the view options.

pub use super::filter::Filters;
use crate::api::*;
use crate::control::{NodeUpdateArgs, ServiceCreateArgs, ServiceUpdateArgs};

/// One command line: `docker [-H HOST] <verb> ...` with `docker` optional.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    /// `-H HOST[:PORT]`: answer on that daemon instead of the local one.
    pub host: Option<String>,
    pub command: Command,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    SwarmInit {
        advertise_addr: Option<String>,
        listen_addr: Option<String>,
        force_new_cluster: bool,
    },
    /// `swarm init --default-addr-pool CIDR [--default-addr-pool-mask-length N]`.
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
    SwarmUpdate(crate::control::SwarmUpdateArgs),
    NodeLs {
        quiet: bool,
        /// `--format TEMPLATE` (checked against the listing's fields when parsed).
        format: Option<String>,
        /// `--filter KEY=VALUE`, each (`filter.rs`).
        filter: Filters,
    },
    /// `node ps [NODE...]` (default: `self`).
    NodePs {
        nodes: Vec<String>,
        quiet: bool,
        no_trunc: bool,
        format: Option<String>,
        filter: Filters,
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
        format: Option<String>,
        filter: Filters,
    },
    ServicePs {
        services: Vec<String>,
        quiet: bool,
        no_trunc: bool,
        format: Option<String>,
        filter: Filters,
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
    /// `docker ps [-a] [-q] [--format T] [--filter K=V]`: the containers of the answering node.
    Ps {
        all: bool,
        quiet: bool,
        format: Option<String>,
        filter: Filters,
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
    // ----- `docker secret …` and `docker config …` -----
    /// `create [-l K=V]... NAME FILE|-`; `file` is `-` for stdin.
    DataCreate {
        kind: DataKind,
        name: String,
        labels: std::collections::BTreeMap<String, String>,
        file: String,
    },
    DataLs {
        kind: DataKind,
        quiet: bool,
        filter: Filters,
    },
    DataInspect {
        kind: DataKind,
        names: Vec<String>,
        pretty: bool,
    },
    DataRm {
        kind: DataKind,
        names: Vec<String>,
    },
    /// Not a docker verb: an HTTP GET from outside the cluster to `http://HOST:PORT/`, answered
    /// by the routing mesh of the node HOST names.
    Curl {
        url: String,
    },
}
