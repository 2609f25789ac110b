//! The node's door for drivers: the questions a driver with real sockets, certificates and
//! tasks asks core instead of answering them itself, and what the node serves, as changes.
//!
//! ```text
//! node.advertise_ip(given)        // the address `swarm init/join` will advertise (certificates)
//! node.authorize_join(token)      // what this manager grants a CSR carrying `token`
//! node.route_ingress(port)        // the task a connection on a published port goes to
//! node.route_vip(vip, port)       // the task a connection to a VIP goes to
//! node.resolve(container, name)   // the embedded DNS's answer inside a task
//! node.gauges()                   // what a metrics endpoint shows
//! node.report_serving()          // then Output::Serve(ServeChange): ports, VIPs and remote
//!                                 // task addresses to serve, as changes
//! ```

use super::Node;
use crate::api::{NodeRole, NodeState, TaskState};
use crate::control::errors::NOT_A_MANAGER_RPC;
use crate::net::Route;
use crate::serve::ServeView;
use crate::tokens;
use core::net::Ipv4Addr;
use std::collections::BTreeMap;

/// What a manager grants a node that asks for a certificate with a join token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinGrant {
    pub role: NodeRole,
    /// Whether the node gets the cluster's root CA key with its certificate: managers do, so
    /// that any manager can sign joining nodes' certificates (swarmkit's managers each hold
    /// the root CA key); workers never see it.
    pub ca_key: bool,
}

/// What a driver's metrics endpoint shows of a node: its store's view of the swarm and Raft
/// when it is a manager, the containers its agent knows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeGauges {
    pub manager: Option<ManagerGauges>,
    pub containers: usize,
    /// Messages core dropped (not for this node's role or state).
    pub messages_dropped: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ManagerGauges {
    pub nodes_by_state: BTreeMap<NodeState, u64>,
    /// By observed state.
    pub tasks_by_state: BTreeMap<TaskState, u64>,
    pub raft_term: u64,
    pub raft_commit_index: u64,
    pub is_leader: bool,
    /// Inputs after which the manager stopped at its pass limit with work left (it resumes at
    /// once; a steady rise means a round keeps feeding itself).
    pub process_pass_limit_hits: u64,
}

impl Node {
    /// The IPv4 address `swarm init` or `swarm join` with `--advertise-addr given` will
    /// advertise, or docker's error. A driver that makes a certificate for that address asks
    /// before handing the command in, so the certificate and the node record agree.
    pub fn advertise_ip(&self, given: Option<&str>) -> Result<Ipv4Addr, String> {
        self.choose_advertise_addr(given.map(str::to_string))
    }

    /// What this node, as a manager, answers a certificate request carrying `token`: the
    /// role its token stands for and the CA-key policy, or the error a join with that token
    /// would get. Any manager answers (signing needs no Raft round); the join that follows
    /// goes to the leader.
    pub fn authorize_join(&self, token: &str) -> Result<JoinGrant, String> {
        let manager = self.manager().ok_or_else(|| NOT_A_MANAGER_RPC.to_string())?;
        let cluster = manager.store.cluster.as_ref().ok_or_else(|| "This node is not part of a swarm".to_string())?;
        let role = tokens::join_role(cluster, token)?;
        Ok(JoinGrant { role, ca_key: role == NodeRole::Manager })
    }

    /// Where the routing mesh sends a connection that arrived on this node's published `port`
    /// (round-robin over the service's running tasks), or why nothing takes it.
    pub fn route_ingress(&mut self, port: u16) -> Result<Route, String> {
        let agent = self.agent().ok_or_else(|| "not in a swarm".to_string())?;
        let directory = agent.directory.clone();
        self.mesh.route(&directory, port, directory.ingress_network.as_ref())
    }

    /// The embedded DNS's answer to `name` asked inside `container` (`NAME` → the service's
    /// VIP, `tasks.NAME` → its tasks' addresses, on the networks the container is attached
    /// to); empty when nothing answers.
    pub fn resolve(&self, container: &str, name: &str) -> Vec<Ipv4Addr> {
        let Some(agent) = self.agent() else { return Vec::new() };
        agent.directory.resolve(name, &agent.container_networks(container).unwrap_or_default())
    }

    /// Counts for a metrics endpoint, read from this node's own state (a manager's store may
    /// lag the leader's).
    pub fn gauges(&self) -> NodeGauges {
        let manager = self.manager().map(|mgr| {
            let mut g = ManagerGauges {
                raft_term: mgr.raft.term(),
                raft_commit_index: mgr.raft.commit_index(),
                is_leader: mgr.is_leader(),
                process_pass_limit_hits: mgr.process_pass_limit_hits,
                ..Default::default()
            };
            for n in mgr.store.nodes.values() {
                *g.nodes_by_state.entry(n.status.state).or_default() += 1;
            }
            for t in mgr.store.tasks.values() {
                *g.tasks_by_state.entry(t.status.state).or_default() += 1;
            }
            g
        });
        NodeGauges {
            manager,
            containers: self.agent().map(|a| a.containers.len()).unwrap_or(0),
            messages_dropped: self.stats.messages_dropped,
        }
    }

    /// Asks for `Output::Serve`: a driver that opens listeners (swarmd) calls this once after
    /// building or restarting the node; from the next input on, the node reports what it
    /// serves, from nothing. The simulator opens no listener and does not ask.
    pub fn report_serving(&mut self) {
        self.serving.enable();
    }

    /// Compares what the node should serve now with what it served, and queues the
    /// differences as `Output::Serve` (after every input, once a driver asked).
    pub(super) fn refresh_serving(&mut self) {
        if !self.serving.is_enabled() {
            return;
        }
        let mut changes = Vec::new();
        let member = match &self.membership {
            super::Membership::Member(m) => Some(m),
            _ => None,
        };
        let own_ip = member.map(|m| m.advertise_addr.ip.to_string());
        let view = member.zip(own_ip.as_deref()).map(|(m, own_ip)| ServeView {
            directory: &m.agent.directory,
            own_ip,
            containers: &m.agent.containers,
        });
        self.serving.update(view, &mut changes);
        self.outputs.extend(changes.into_iter().map(super::Output::Serve));
    }
}

#[cfg(test)]
#[path = "door_tests.rs"]
mod tests;
