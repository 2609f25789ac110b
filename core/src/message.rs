//! What nodes say to each other over the cluster port (2377).
//!
//! Raft traffic between managers, the join handshake, forwarded control requests (a follower
//! manager hands writes to the leader), and the dispatcher protocol between every node's agent
//! and the leader (sessions, heartbeats, assignments, task status, the routing-mesh directory).

use crate::api::{NodeDescription, NodeRole, Task, TaskStatus};
use crate::cli::Command;
use crate::ids::{NodeId, TaskId};
use crate::net::Directory;
use std::time::Duration;

/// An address on the cluster port, `192.168.0.109:2377`.
pub type Addr = String;

#[derive(Clone, Debug)]
pub enum Message {
    Raft(Box<raft::eraftpb::Message>),
    JoinRequest(JoinRequest),
    JoinResponse { request_id: u64, result: Result<JoinAccepted, JoinRefused> },
    /// A follower manager passes a write to the leader.
    Forward { request_id: u64, command: Command },
    ForwardReply { request_id: u64, reply: crate::node::Reply },
    /// Agent → dispatcher.
    Session(SessionMessage),
    /// Dispatcher → agent.
    Dispatch(DispatchMessage),
}

#[derive(Clone, Debug)]
pub struct JoinRequest {
    pub request_id: u64,
    pub token: String,
    /// Where the joining node is reached: `IP:2377`.
    pub advertise_addr: Addr,
    pub description: NodeDescription,
}

#[derive(Clone, Debug)]
pub struct JoinAccepted {
    pub node_id: NodeId,
    pub role: NodeRole,
    /// Set for managers: the Raft ID the new member was given.
    pub raft_id: Option<u64>,
    /// Every manager's Raft ID and address.
    pub managers: Vec<(u64, Addr)>,
    pub leader_addr: Addr,
}

#[derive(Clone, Debug)]
pub enum JoinRefused {
    /// The contacted manager is not the leader; try there.
    NotLeader { leader_addr: Option<Addr> },
    Error(String),
}

#[derive(Clone, Debug)]
pub enum SessionMessage {
    /// Opens (or re-opens) the node's session with the leader's dispatcher.
    Register { node_id: NodeId, session_seq: u64 },
    Heartbeat { node_id: NodeId, session_seq: u64 },
    /// Observed task states, batched.
    UpdateTaskStatus { node_id: NodeId, updates: Vec<(TaskId, TaskStatus)> },
}

#[derive(Clone, Debug)]
pub enum DispatchMessage {
    SessionAccepted { session_seq: u64, heartbeat_period: Duration, managers: Vec<Addr> },
    HeartbeatAck { session_seq: u64, heartbeat_period: Duration },
    /// This manager is not the leader (or lost leadership): go elsewhere.
    NotLeader { leader_addr: Option<Addr> },
    /// The node is not (or no longer) part of the swarm.
    UnknownNode,
    /// The full set of tasks assigned to the node.
    Assignments { tasks: Vec<Task> },
    /// Services, VIPs and running task addresses for the routing mesh and DNS.
    Directory(Directory),
}
