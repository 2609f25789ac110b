//! The versioned encoding of `swarm_core::message::Message` on the cluster port.
//!
//! A payload is one version byte followed by core's `Message` in postcard, through the serde
//! derives core's message types carry (Raft messages inside as raft-rs's own protobuf bytes).
//! Version 1 was the same shape through mirror types kept here; 2 is core's own types; 3 forwards
//! core's control-API `Request` and `Reply` (objects) in place of the CLI's `Command` and text.
//! 4 adds `ForwardRead` (a follower sends reads to the leader).
//!
//! A payload that does not decode (unknown version, bad postcard, bad protobuf) is an error the
//! caller counts and drops: never a panic.

use swarm_core::message::Message;

/// Bumped on any incompatible change of the encoding (of core's `Message` and what it holds).
pub const WIRE_VERSION: u8 = 4;

#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    Empty,
    UnknownVersion(u8),
    /// Bad postcard, or a Raft message whose protobuf does not parse.
    Payload(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Empty => write!(f, "empty payload"),
            WireError::UnknownVersion(v) => write!(f, "unknown wire version {v}"),
            WireError::Payload(e) => write!(f, "bad payload: {e}"),
        }
    }
}

pub fn encode(msg: &Message) -> Vec<u8> {
    let mut out = vec![WIRE_VERSION];
    out.extend(postcard::to_allocvec(msg).expect("postcard encodes every Message"));
    out
}

pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let (&version, body) = bytes.split_first().ok_or(WireError::Empty)?;
    if version != WIRE_VERSION {
        return Err(WireError::UnknownVersion(version));
    }
    postcard::from_bytes(body).map_err(|e| WireError::Payload(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::control::{Request, Response};
    use swarm_core::message::DispatchMessage;
    use swarm_core::net::{Backend, Directory, ServiceEntry};

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
    fn a_forwarded_request_and_its_reply_round_trip() {
        let msg =
            Message::Forward { request_id: 9, request: Request::ScaleServices { scales: vec![("web".into(), 3)] } };
        let back = decode(&encode(&msg)).unwrap();
        assert_eq!(format!("{back:?}"), format!("{msg:?}"));
        let reply = Message::ForwardReply {
            request_id: 9,
            reply: Ok(Response::ServicesScaled { scales: vec![("web".into(), 3)] }),
        };
        let back = decode(&encode(&reply)).unwrap();
        assert_eq!(format!("{back:?}"), format!("{reply:?}"));
    }

    #[test]
    fn a_directory_round_trips() {
        let backend = Backend {
            task_id: swarm_core::ids::TaskId("t1".into()),
            container_name: "web.1.t1".into(),
            node_addr: "127.0.0.2".into(),
            addresses: vec![(
                swarm_core::ids::NetworkId("n".into()),
                swarm_core::api::NetAddr { ip: [198, 18, 1, 3].into(), prefix_len: 24 },
            )],
        };
        let entry = ServiceEntry {
            id: swarm_core::ids::ServiceId("s".into()),
            name: "web".into(),
            ports: vec![],
            vips: vec![],
            backends: [backend].into_iter().collect(),
        };
        let dir = Directory { services: [("web".to_string(), entry)].into_iter().collect(), ingress_network: None };
        match decode(&encode(&Message::Dispatch(DispatchMessage::Directory(dir.clone())))).unwrap() {
            Message::Dispatch(DispatchMessage::Directory(back)) => assert_eq!(back, dir),
            other => panic!("decoded {other:?}"),
        }
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
        let raft_payload = encode(&Message::Raft(Box::default()));
        let mut bad = raft_payload.clone();
        bad.extend([0xff; 8]);
        let _ = decode(&bad);
    }

    /// Found by `fuzz/`'s `wire_frame`: a directory push whose service map claims 2^62 entries
    /// in 28 bytes aborted the daemon (imbl reserved them all before reading one).
    #[test]
    fn a_frame_claiming_more_entries_than_it_carries_is_an_error_not_an_abort() {
        let frame =
            [4, 7, 5, 255, 255, 255, 255, 255, 255, 255, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 98, 100, 49];
        assert!(matches!(decode(&frame), Err(WireError::Payload(_))));
    }
}
