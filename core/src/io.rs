//! What a driver hands a node and what it gets back: the node's whole conversation with the
//! outside world. This module (with `control`, the requests and replies) sits below everything else in core (the node, the manager and
//! the agent all speak in these types), so it depends on no component.

pub use crate::control::Reply;
use crate::control::Request;
use crate::message::{Addr, Message};
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
        request: Request,
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
    /// What the node serves changed (published ports, VIPs, remote task addresses), for a
    /// driver that asked (`Node::report_serving`): it opens or closes a listener.
    Serve(crate::serve::ServeChange),
}
