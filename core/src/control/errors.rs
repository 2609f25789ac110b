//! The daemon's refusals: an [`ApiError`] carries docker's exact words, which the CLI prints
//! after `Error response from daemon: `. The ones more than one component gives live here.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const NOT_A_MANAGER_WORKER: &str = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";
pub const NOT_IN_SWARM: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";
pub const ALREADY_IN_SWARM: &str =
    "This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.";
/// A node that is no manager answering a join or a certificate request.
pub const NOT_A_MANAGER_RPC: &str = "rpc error: code = Unavailable desc = this node is not a swarm manager";
pub const JOIN_TIMED_OUT: &str = "Timeout was reached before node joined. The attempt to join the swarm will continue in the background. Use the \"docker info\" command to see the current swarm status of your node.";
/// A manager with no leader to forward to: swarmkit's raft proxy fails the gRPC call (code
/// Unknown), reads as well as writes; docker prints the gRPC error as it is. Seen on docker
/// 20.10 (conformance): `rpc error: code = Unknown desc = The swarm does not have a leader. ...`.
pub const NO_LEADER_ERROR: &str = "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";
pub const LOST_LEADERSHIP_ERROR: &str =
    "rpc error: code = Unknown desc = raft: failed to process the request: node lost leader status";

/// Marks a refusal docker's CLI gives itself, before or instead of asking the daemon (`secret
/// not found: NAME` from `service create --secret`, `No such secret: NAME`): it is printed
/// without `Error response from daemon: `. The mark travels inside `message`, so every place
/// that carries a `String` error (a write's plan, a forwarded reply) keeps it.
pub const CLIENT_SIDE_MARK: &str = "[client] ";

/// A refusal in the CLI's own words (see [`CLIENT_SIDE_MARK`]).
pub fn client_side(message: impl std::fmt::Display) -> String {
    format!("{CLIENT_SIDE_MARK}{message}")
}

/// A request the daemon refused, in docker's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub message: String,
}

impl ApiError {
    pub fn new(message: impl Into<String>) -> ApiError {
        ApiError { message: message.into() }
    }

    /// Given by docker's CLI itself, not by the daemon (see [`CLIENT_SIDE_MARK`]).
    pub fn is_client_side(&self) -> bool {
        self.message.starts_with(CLIENT_SIDE_MARK)
    }

    /// The words, without the client-side mark.
    pub fn text(&self) -> &str {
        self.message.strip_prefix(CLIENT_SIDE_MARK).unwrap_or(&self.message)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl From<String> for ApiError {
    fn from(message: String) -> ApiError {
        ApiError { message }
    }
}

impl From<&str> for ApiError {
    fn from(message: &str) -> ApiError {
        ApiError { message: message.to_string() }
    }
}
