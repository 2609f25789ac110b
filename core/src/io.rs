//! What a driver hands a node and what it gets back: the node's whole conversation with the
//! outside world. This module sits below everything else in core (the node, the manager and
//! the agent all speak in these types), so it depends on no component.

use crate::cli::Command;
use crate::message::{Addr, Message};
use crate::net::Route;
use crate::persist::{Identity, PersistRaft};
use crate::runtime::{ContainerCommand, ContainerEvent};

#[derive(Clone, Debug)]
pub enum Input {
    Message {
        from: Addr,
        msg: Message,
    },
    /// `now` reached `next_deadline()`.
    Timer,
    Container(ContainerEvent),
    Client {
        req_id: u64,
        command: Command,
    },
}

#[derive(Clone, Debug)]
pub enum Output {
    Send {
        to: Addr,
        msg: Message,
    },
    Container(ContainerCommand),
    /// Raft state to make durable before the sends that follow.
    Persist(PersistRaft),
    /// The node's identity in its swarm (`None`: it left): durable before the reply.
    SaveIdentity(Option<Identity>),
    Reply {
        req_id: u64,
        reply: Reply,
    },
}

/// What a command returns to the user.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Reply {
    /// Success: what the CLI prints on stdout.
    Text(String),
    /// The daemon refused: the CLI prints `Error response from daemon: <text>` and exits 1.
    Error(String),
    /// `curl`: where the routing mesh sent the request; the driver delivers it to the task.
    Route(Route),
}
