use crate::ids::NodeId;
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NodeRole {
    Worker,
    Manager,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Worker => "worker",
            NodeRole::Manager => "manager",
        }
    }
}

/// What the scheduler may do with the node (`node update --availability`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Availability {
    Active,
    Pause,
    Drain,
}

impl Availability {
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Active => "Active",
            Availability::Pause => "Pause",
            Availability::Drain => "Drain",
        }
    }
    pub fn parse(s: &str) -> Option<Availability> {
        match s {
            "active" => Some(Availability::Active),
            "pause" => Some(Availability::Pause),
            "drain" => Some(Availability::Drain),
            _ => None,
        }
    }
}

/// The node's health as the dispatcher sees it (swarmkit `NodeStatus.State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NodeState {
    Unknown,
    Down,
    Ready,
    Disconnected,
}

impl NodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Unknown => "Unknown",
            NodeState::Down => "Down",
            NodeState::Ready => "Ready",
            NodeState::Disconnected => "Disconnected",
        }
    }
}

/// Resources a node offers and a task reserves: CPU in nano-CPUs, memory in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Resources {
    pub nano_cpus: u64,
    pub memory_bytes: u64,
}

/// What the node reports about itself when it joins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDescription {
    pub hostname: String,
    pub platform_os: String,
    pub platform_arch: String,
    pub resources: Resources,
    pub engine_version: String,
    pub engine_labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    pub role: NodeRole,
    pub availability: Availability,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStatus {
    pub state: NodeState,
    pub message: String,
    /// The address the node reaches the managers from (its advertise address, no port).
    pub addr: String,
}

/// Set on manager nodes: their Raft membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerStatus {
    pub raft_id: u64,
    /// `IP:2377`, where other managers reach this one.
    pub addr: crate::addr::Addr,
    /// Whether the leader hears from this manager (swarmkit's raft member reachability),
    /// kept in the store by the leader so every manager's `node ls` agrees.
    pub reachable: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub id: NodeId,
    pub spec: NodeSpec,
    pub description: NodeDescription,
    pub status: NodeStatus,
    pub manager_status: Option<ManagerStatus>,
    pub created_at: Instant,
}

impl Node {
    /// Whether the scheduler may place new tasks here (its first filter).
    pub fn is_schedulable(&self) -> bool {
        self.status.state == NodeState::Ready && self.spec.availability == Availability::Active
    }
}
