//! What nodes say to each other over the cluster port (2377).
//!
//! Raft traffic between managers, the join handshake, forwarded control requests (a follower
//! manager hands writes to the leader), and the dispatcher protocol between every node's agent
//! and the leader (sessions, heartbeats, assignments, task status, the routing-mesh directory).
//!
//! Every type here is serde: the real daemons put them on the wire as they are (postcard, behind
//! a version byte, in swarmd's `wire.rs`); Raft messages go as raft-rs's own protobuf bytes.

use crate::api::{NodeDescription, NodeRole, Task, TaskStatus};
use crate::control::Request;
use crate::ids::{NodeId, TaskId};
use crate::net::Directory;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The port managers and agents talk on.
pub const CLUSTER_PORT: u16 = 2377;

/// An address on the cluster port, `192.168.0.109:2377` (a value: see `addr.rs`).
pub use crate::addr::Addr;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Message {
    Raft(#[serde(with = "raft_protobuf")] Box<raft::eraftpb::Message>),
    JoinRequest(JoinRequest),
    JoinResponse {
        request_id: u64,
        result: Result<JoinAccepted, JoinRefused>,
    },
    /// A follower manager passes a write to the leader.
    Forward {
        request_id: u64,
        request: Request,
    },
    /// A follower manager passes a read to the leader: swarmkit's raft proxy sends every control
    /// call there, so a follower never answers from its own store, which lags by a commit. The
    /// leader answers as the asking node would show it (`*` in `node ls`, `self`, the address
    /// in the join hint).
    ForwardRead {
        request_id: u64,
        request: Request,
        asker: crate::ids::NodeId,
        asker_addr: Addr,
    },
    ForwardReply {
        request_id: u64,
        reply: crate::io::Reply,
    },
    /// Agent → dispatcher.
    Session(SessionMessage),
    /// Dispatcher → agent.
    Dispatch(DispatchMessage),
    /// A manager to a Raft member its cluster removed (`--force-new-cluster` leaves the other
    /// managers out) that still sends it Raft messages: swarmkit's `ErrMemberRemoved`. The
    /// member stops its manager and carries on as a worker.
    RaftMemberRemoved {
        raft_id: u64,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinRequest {
    pub request_id: u64,
    pub token: String,
    /// Where the joining node is reached: `IP:2377`.
    pub advertise_addr: Addr,
    pub description: NodeDescription,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JoinAccepted {
    pub node_id: NodeId,
    pub role: NodeRole,
    /// Set for managers: the Raft ID the new member was given.
    pub raft_id: Option<u64>,
    /// Every manager's Raft ID and address.
    pub managers: Vec<(u64, Addr)>,
    pub leader_addr: Addr,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum JoinRefused {
    /// The contacted manager is not the leader; try there.
    NotLeader {
        leader_addr: Option<Addr>,
    },
    Error(String),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum SessionMessage {
    /// Opens (or re-opens) the node's session with the leader's dispatcher.
    Register {
        node_id: NodeId,
        session_seq: u64,
    },
    Heartbeat {
        node_id: NodeId,
        session_seq: u64,
    },
    /// Observed task states, batched.
    UpdateTaskStatus {
        node_id: NodeId,
        updates: Vec<(TaskId, TaskStatus)>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum DispatchMessage {
    SessionAccepted {
        session_seq: u64,
        heartbeat_period: Duration,
        managers: Vec<Addr>,
    },
    HeartbeatAck {
        session_seq: u64,
        heartbeat_period: Duration,
    },
    /// This manager is not the leader (or lost leadership): go elsewhere.
    NotLeader {
        leader_addr: Option<Addr>,
    },
    /// The node is not (or no longer) part of the swarm.
    UnknownNode,
    /// The full set of tasks assigned to the node, and the bytes of the secrets and configs
    /// those meant to run use (only those, as swarmkit's dispatcher sends them).
    Assignments {
        tasks: Vec<Task>,
        #[serde(default)]
        data: Vec<crate::api::secret::AssignedData>,
    },
    /// Services, VIPs and running task addresses for the routing mesh and DNS.
    Directory(Directory),
    /// The managers changed (one joined, was promoted, demoted or removed): the agent's list
    /// of where to look for the leader, sent on the open session as swarmkit's dispatcher does
    /// (`Session` sends a new `SessionMessage` on every manager update). Without it a worker
    /// that joined before the other managers knows only the first one, and never finds the
    /// leader again once that one is gone for good.
    Managers {
        session_seq: u64,
        managers: Vec<Addr>,
    },
}

/// A Raft message as the bytes of its protobuf encoding (raft-rs's own codec).
mod raft_protobuf {
    use protobuf::Message as _;
    use serde::de::{self, SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    #[allow(clippy::borrowed_box)] // serde's `with` hands us the field as declared
    pub fn serialize<S: Serializer>(m: &Box<raft::eraftpb::Message>, s: S) -> Result<S::Ok, S::Error> {
        let bytes = m.write_to_bytes().map_err(serde::ser::Error::custom)?;
        s.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Box<raft::eraftpb::Message>, D::Error> {
        struct Bytes;
        impl<'de> Visitor<'de> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a protobuf-encoded raft message")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
                let mut out = Vec::new();
                while let Some(b) = seq.next_element::<u8>()? {
                    out.push(b);
                }
                Ok(out)
            }
        }
        let bytes = d.deserialize_bytes(Bytes)?;
        raft::eraftpb::Message::parse_from_bytes(&bytes).map(Box::new).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raft_message_round_trips_as_protobuf_bytes() {
        let mut m = raft::eraftpb::Message::default();
        m.set_msg_type(raft::eraftpb::MessageType::MsgHeartbeat);
        m.term = 7;
        m.commit = 3;
        let bytes = postcard::to_allocvec(&Message::Raft(Box::new(m.clone()))).unwrap();
        match postcard::from_bytes::<Message>(&bytes).unwrap() {
            Message::Raft(back) => assert_eq!(*back, m),
            other => panic!("{other:?}"),
        }
        let json = serde_json::to_string(&Message::Raft(Box::new(m.clone()))).unwrap();
        assert!(matches!(serde_json::from_str::<Message>(&json).unwrap(), Message::Raft(back) if *back == m));
        assert!(postcard::from_bytes::<Message>(&[0, 3, 0xff, 0xff, 0xff]).is_err(), "bad protobuf is an error");
    }
}
