//! The versioned encoding of `swarm_core::message::Message` on the cluster port.
//!
//! A payload is one version byte followed by a postcard-encoded [`WireMessage`]. Raft messages
//! travel as raft-rs's own protobuf bytes (`write_to_bytes`), everything else through serde.
//! Core's message types do not derive serde yet, so this module mirrors them (`W*` types) and
//! converts both ways; once core derives `Serialize`/`Deserialize` the mirrors can go.
//!
//! A payload that does not decode (unknown version, bad postcard, bad protobuf) is an error the
//! caller counts and drops: never a panic.

use protobuf::Message as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use swarm_core::api::{NetAddr, NodeDescription, NodeRole, PortConfig, Task, TaskStatus};
use swarm_core::cli::Command;
use swarm_core::ids::{NetworkId, NodeId, ServiceId, TaskId};
use swarm_core::message::{
    Addr, DispatchMessage, JoinAccepted, JoinRefused, JoinRequest, Message, SessionMessage,
};
use swarm_core::net::{Backend, Directory, Route, ServiceEntry};
use swarm_core::node::Reply;

/// Bumped on any incompatible change of [`WireMessage`].
pub const WIRE_VERSION: u8 = 1;

#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    Empty,
    UnknownVersion(u8),
    Postcard(String),
    Protobuf(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Empty => write!(f, "empty payload"),
            WireError::UnknownVersion(v) => write!(f, "unknown wire version {v}"),
            WireError::Postcard(e) => write!(f, "bad payload: {e}"),
            WireError::Protobuf(e) => write!(f, "bad raft message: {e}"),
        }
    }
}

pub fn encode(msg: &Message) -> Vec<u8> {
    let wire = WireMessage::from(msg);
    let mut out = vec![WIRE_VERSION];
    out.extend(postcard::to_allocvec(&wire).expect("postcard encodes every WireMessage"));
    out
}

pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let (&version, body) = bytes.split_first().ok_or(WireError::Empty)?;
    if version != WIRE_VERSION {
        return Err(WireError::UnknownVersion(version));
    }
    let wire: WireMessage = postcard::from_bytes(body).map_err(|e| WireError::Postcard(e.to_string()))?;
    wire.into_message()
}

#[derive(Serialize, Deserialize)]
enum WireMessage {
    Raft(Vec<u8>),
    JoinRequest(WJoinRequest),
    JoinResponse { request_id: u64, result: Result<WJoinAccepted, WJoinRefused> },
    Forward { request_id: u64, command: Command },
    ForwardReply { request_id: u64, reply: WReply },
    Session(WSession),
    Dispatch(WDispatch),
}

#[derive(Serialize, Deserialize)]
struct WJoinRequest {
    request_id: u64,
    token: String,
    advertise_addr: Addr,
    description: NodeDescription,
}

#[derive(Serialize, Deserialize)]
struct WJoinAccepted {
    node_id: NodeId,
    role: NodeRole,
    raft_id: Option<u64>,
    managers: Vec<(u64, Addr)>,
    leader_addr: Addr,
}

#[derive(Serialize, Deserialize)]
enum WJoinRefused {
    NotLeader { leader_addr: Option<Addr> },
    Error(String),
}

/// Mirror of `swarm_core::node::Reply`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WReply {
    Text(String),
    Error(String),
    Route(WRoute),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WRoute {
    pub service: String,
    pub vip: Option<NetAddr>,
    pub backend: WBackend,
    pub target_port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WBackend {
    pub task_id: TaskId,
    pub container_name: String,
    pub node_addr: String,
    pub addresses: Vec<(NetworkId, NetAddr)>,
}

#[derive(Serialize, Deserialize)]
enum WSession {
    Register { node_id: NodeId, session_seq: u64 },
    Heartbeat { node_id: NodeId, session_seq: u64 },
    UpdateTaskStatus { node_id: NodeId, updates: Vec<(TaskId, TaskStatus)> },
}

#[derive(Serialize, Deserialize)]
enum WDispatch {
    SessionAccepted { session_seq: u64, heartbeat_period: Duration, managers: Vec<Addr> },
    HeartbeatAck { session_seq: u64, heartbeat_period: Duration },
    NotLeader { leader_addr: Option<Addr> },
    UnknownNode,
    Assignments { tasks: Vec<Task> },
    Directory(WDirectory),
}

#[derive(Serialize, Deserialize)]
struct WDirectory {
    services: BTreeMap<String, WServiceEntry>,
    ingress_network: Option<NetworkId>,
}

#[derive(Serialize, Deserialize)]
struct WServiceEntry {
    id: ServiceId,
    name: String,
    ports: Vec<PortConfig>,
    vips: Vec<(NetworkId, NetAddr)>,
    backends: Vec<WBackend>,
}

// ----- core → wire -----

impl From<&Message> for WireMessage {
    fn from(msg: &Message) -> WireMessage {
        match msg {
            Message::Raft(m) => WireMessage::Raft(m.write_to_bytes().expect("raft messages always encode")),
            Message::JoinRequest(r) => WireMessage::JoinRequest(WJoinRequest {
                request_id: r.request_id,
                token: r.token.clone(),
                advertise_addr: r.advertise_addr.clone(),
                description: r.description.clone(),
            }),
            Message::JoinResponse { request_id, result } => WireMessage::JoinResponse {
                request_id: *request_id,
                result: match result {
                    Ok(a) => Ok(WJoinAccepted {
                        node_id: a.node_id.clone(),
                        role: a.role,
                        raft_id: a.raft_id,
                        managers: a.managers.clone(),
                        leader_addr: a.leader_addr.clone(),
                    }),
                    Err(JoinRefused::NotLeader { leader_addr }) => {
                        Err(WJoinRefused::NotLeader { leader_addr: leader_addr.clone() })
                    }
                    Err(JoinRefused::Error(e)) => Err(WJoinRefused::Error(e.clone())),
                },
            },
            Message::Forward { request_id, command } => {
                WireMessage::Forward { request_id: *request_id, command: command.clone() }
            }
            Message::ForwardReply { request_id, reply } => {
                WireMessage::ForwardReply { request_id: *request_id, reply: WReply::from(reply) }
            }
            Message::Session(s) => WireMessage::Session(match s {
                SessionMessage::Register { node_id, session_seq } => {
                    WSession::Register { node_id: node_id.clone(), session_seq: *session_seq }
                }
                SessionMessage::Heartbeat { node_id, session_seq } => {
                    WSession::Heartbeat { node_id: node_id.clone(), session_seq: *session_seq }
                }
                SessionMessage::UpdateTaskStatus { node_id, updates } => {
                    WSession::UpdateTaskStatus { node_id: node_id.clone(), updates: updates.clone() }
                }
            }),
            Message::Dispatch(d) => WireMessage::Dispatch(match d {
                DispatchMessage::SessionAccepted { session_seq, heartbeat_period, managers } => {
                    WDispatch::SessionAccepted {
                        session_seq: *session_seq,
                        heartbeat_period: *heartbeat_period,
                        managers: managers.clone(),
                    }
                }
                DispatchMessage::HeartbeatAck { session_seq, heartbeat_period } => {
                    WDispatch::HeartbeatAck { session_seq: *session_seq, heartbeat_period: *heartbeat_period }
                }
                DispatchMessage::NotLeader { leader_addr } => WDispatch::NotLeader { leader_addr: leader_addr.clone() },
                DispatchMessage::UnknownNode => WDispatch::UnknownNode,
                DispatchMessage::Assignments { tasks } => WDispatch::Assignments { tasks: tasks.clone() },
                DispatchMessage::Directory(dir) => WDispatch::Directory(WDirectory {
                    services: dir
                        .services
                        .iter()
                        .map(|(k, s)| {
                            (
                                k.clone(),
                                WServiceEntry {
                                    id: s.id.clone(),
                                    name: s.name.clone(),
                                    ports: s.ports.clone(),
                                    vips: s.vips.clone(),
                                    backends: s.backends.iter().map(WBackend::from).collect(),
                                },
                            )
                        })
                        .collect(),
                    ingress_network: dir.ingress_network.clone(),
                }),
            }),
        }
    }
}

impl From<&Backend> for WBackend {
    fn from(b: &Backend) -> WBackend {
        WBackend {
            task_id: b.task_id.clone(),
            container_name: b.container_name.clone(),
            node_addr: b.node_addr.clone(),
            addresses: b.addresses.clone(),
        }
    }
}

impl From<WBackend> for Backend {
    fn from(b: WBackend) -> Backend {
        Backend { task_id: b.task_id, container_name: b.container_name, node_addr: b.node_addr, addresses: b.addresses }
    }
}

impl From<&Reply> for WReply {
    fn from(r: &Reply) -> WReply {
        match r {
            Reply::Text(t) => WReply::Text(t.clone()),
            Reply::Error(e) => WReply::Error(e.clone()),
            Reply::Route(route) => WReply::Route(WRoute {
                service: route.service.clone(),
                vip: route.vip,
                backend: WBackend::from(&route.backend),
                target_port: route.target_port,
            }),
        }
    }
}

impl From<WReply> for Reply {
    fn from(r: WReply) -> Reply {
        match r {
            WReply::Text(t) => Reply::Text(t),
            WReply::Error(e) => Reply::Error(e),
            WReply::Route(route) => Reply::Route(Route {
                service: route.service,
                vip: route.vip,
                backend: route.backend.into(),
                target_port: route.target_port,
            }),
        }
    }
}

// ----- wire → core -----

impl WireMessage {
    fn into_message(self) -> Result<Message, WireError> {
        Ok(match self {
            WireMessage::Raft(bytes) => {
                let m = raft::eraftpb::Message::parse_from_bytes(&bytes).map_err(|e| WireError::Protobuf(e.to_string()))?;
                Message::Raft(Box::new(m))
            }
            WireMessage::JoinRequest(r) => Message::JoinRequest(JoinRequest {
                request_id: r.request_id,
                token: r.token,
                advertise_addr: r.advertise_addr,
                description: r.description,
            }),
            WireMessage::JoinResponse { request_id, result } => Message::JoinResponse {
                request_id,
                result: match result {
                    Ok(a) => Ok(JoinAccepted {
                        node_id: a.node_id,
                        role: a.role,
                        raft_id: a.raft_id,
                        managers: a.managers,
                        leader_addr: a.leader_addr,
                    }),
                    Err(WJoinRefused::NotLeader { leader_addr }) => Err(JoinRefused::NotLeader { leader_addr }),
                    Err(WJoinRefused::Error(e)) => Err(JoinRefused::Error(e)),
                },
            },
            WireMessage::Forward { request_id, command } => Message::Forward { request_id, command },
            WireMessage::ForwardReply { request_id, reply } => Message::ForwardReply { request_id, reply: reply.into() },
            WireMessage::Session(s) => Message::Session(match s {
                WSession::Register { node_id, session_seq } => SessionMessage::Register { node_id, session_seq },
                WSession::Heartbeat { node_id, session_seq } => SessionMessage::Heartbeat { node_id, session_seq },
                WSession::UpdateTaskStatus { node_id, updates } => SessionMessage::UpdateTaskStatus { node_id, updates },
            }),
            WireMessage::Dispatch(d) => Message::Dispatch(match d {
                WDispatch::SessionAccepted { session_seq, heartbeat_period, managers } => {
                    DispatchMessage::SessionAccepted { session_seq, heartbeat_period, managers }
                }
                WDispatch::HeartbeatAck { session_seq, heartbeat_period } => {
                    DispatchMessage::HeartbeatAck { session_seq, heartbeat_period }
                }
                WDispatch::NotLeader { leader_addr } => DispatchMessage::NotLeader { leader_addr },
                WDispatch::UnknownNode => DispatchMessage::UnknownNode,
                WDispatch::Assignments { tasks } => DispatchMessage::Assignments { tasks },
                WDispatch::Directory(dir) => DispatchMessage::Directory(Directory {
                    services: dir
                        .services
                        .into_iter()
                        .map(|(k, s)| {
                            (
                                k,
                                ServiceEntry {
                                    id: s.id,
                                    name: s.name,
                                    ports: s.ports,
                                    vips: s.vips,
                                    backends: s.backends.into_iter().map(Backend::from).collect(),
                                },
                            )
                        })
                        .collect(),
                    ingress_network: dir.ingress_network,
                }),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raft_message_round_trips() {
        let mut m = raft::eraftpb::Message::default();
        m.set_msg_type(raft::eraftpb::MessageType::MsgHeartbeat);
        m.from = 1;
        m.to = 2;
        m.term = 7;
        let bytes = encode(&Message::Raft(Box::new(m.clone())));
        match decode(&bytes).unwrap() {
            Message::Raft(back) => assert_eq!(*back, m),
            other => panic!("decoded {other:?}"),
        }
    }

    #[test]
    fn join_request_round_trips() {
        let msg = Message::Forward {
            request_id: 9,
            command: Command::ServiceScale { scales: vec![("web".into(), 3)] },
        };
        let back = decode(&encode(&msg)).unwrap();
        assert_eq!(format!("{back:?}"), format!("{msg:?}"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(decode(&[]), Err(WireError::Empty)));
        assert!(matches!(decode(&[99, 1, 2]), Err(WireError::UnknownVersion(99))));
        assert!(decode(&[WIRE_VERSION, 0xff, 0xff, 0xff]).is_err());
        // Every prefix of a valid payload fails cleanly.
        let bytes = encode(&Message::Dispatch(DispatchMessage::UnknownNode));
        for cut in 0..bytes.len() {
            let _ = decode(&bytes[..cut]);
        }
        let raft_payload = encode(&Message::Raft(Box::new(raft::eraftpb::Message::default())));
        let mut bad = raft_payload.clone();
        bad.extend([0xff; 8]);
        let _ = decode(&bad);
    }
}
