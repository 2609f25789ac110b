//! The versioned encoding of `message::Message` between nodes: swarmd's cluster port carries
//! it, and the simulator puts a message through it when a link fault corrupts a frame, so both
//! drivers reject a damaged frame the same way. Pure functions of bytes: sans-IO like the rest
//! of core.
//!
//! A payload is one version byte, the CRC-32 of the body (little-endian), then core's `Message`
//! in postcard, through the serde derives core's message types carry (Raft messages inside as
//! raft-rs's own protobuf bytes). Version 1 was the same shape through mirror types kept in
//! swarmd; 2 is core's own types; 3 forwards core's control-API `Request` and `Reply` (objects)
//! in place of the CLI's `Command` and text; 4 adds `ForwardRead` (a follower sends reads to the
//! leader); 5 adds the checksum.
//!
//! Why a checksum under TLS: swarmd's join handshake runs before the node holds a certificate,
//! and a flipped bit in postcard often still decodes — to a different message a node would act
//! on. CRC-32 catches every error of up to three bits in frames under 11 KiB and all but 2^-32
//! of the rest; a frame that fails it is counted and dropped, never handed to the node.
//!
//! A payload that does not decode (unknown version, bad checksum, bad postcard, bad protobuf)
//! is an error the caller counts and drops: never a panic.

use crate::message::Message;

/// Bumped on any incompatible change of the encoding (of core's `Message` and what it holds).
pub const WIRE_VERSION: u8 = 5;

/// Version byte, then the body's CRC-32.
const HEADER_LEN: usize = 5;

#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    Empty,
    UnknownVersion(u8),
    /// Shorter than the header, or the body's CRC-32 is not the one the header carries.
    Checksum,
    /// Bad postcard, or a Raft message whose protobuf does not parse.
    Payload(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Empty => write!(f, "empty payload"),
            WireError::UnknownVersion(v) => write!(f, "unknown wire version {v}"),
            WireError::Checksum => write!(f, "checksum mismatch"),
            WireError::Payload(e) => write!(f, "bad payload: {e}"),
        }
    }
}

pub fn encode(msg: &Message) -> Vec<u8> {
    frame_body(&postcard::to_allocvec(msg).expect("postcard encodes every Message"))
}

/// A frame around `body` with the current version and the body's checksum (fuzzing reaches
/// the postcard decoder through this).
pub fn frame_body(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.push(WIRE_VERSION);
    out.extend(crc32fast::hash(body).to_le_bytes());
    out.extend(body);
    out
}

pub fn decode(bytes: &[u8]) -> Result<Message, WireError> {
    let (&version, _) = bytes.split_first().ok_or(WireError::Empty)?;
    if version != WIRE_VERSION {
        return Err(WireError::UnknownVersion(version));
    }
    if bytes.len() < HEADER_LEN {
        return Err(WireError::Checksum);
    }
    let (header, body) = bytes.split_at(HEADER_LEN);
    let claimed = u32::from_le_bytes(header[1..HEADER_LEN].try_into().expect("four bytes"));
    if crc32fast::hash(body) != claimed {
        return Err(WireError::Checksum);
    }
    postcard::from_bytes(body).map_err(|e| WireError::Payload(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::{Request, Response};
    use crate::message::DispatchMessage;
    use crate::net::{Backend, Directory, ServiceEntry};

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

    /// The fuzzer's input (fuzz/corpus/wire_frame/): a forwarded task listing whose task had
    /// no service labels re-encoded without the field and no longer decoded.
    #[test]
    fn a_task_listing_without_service_labels_round_trips() {
        let input = include_bytes!("../../fuzz/corpus/wire_frame/regression-task-view-labels-skipped-when-empty");
        let framed = frame_body(&input[1..]);
        for bytes in [&input[..], &framed[..]] {
            if let Ok(message) = decode(bytes) {
                let again = decode(&encode(&message)).expect("an encoded message decodes");
                assert_eq!(format!("{again:?}"), format!("{message:?}"));
            }
        }
    }

    #[test]
    fn a_directory_round_trips() {
        let backend = Backend {
            task_id: crate::ids::TaskId("t1".into()),
            container_name: "web.1.t1".into(),
            node_addr: "127.0.0.2".into(),
            addresses: vec![(
                crate::ids::NetworkId("n".into()),
                crate::api::NetAddr { ip: [198, 18, 1, 3].into(), prefix_len: 24 },
            )],
        };
        let entry = ServiceEntry {
            id: crate::ids::ServiceId("s".into()),
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
        assert!(matches!(decode(&[WIRE_VERSION, 0xff, 0xff]), Err(WireError::Checksum)));
        assert!(matches!(decode(&frame_body(&[0xff, 0xff, 0xff])), Err(WireError::Payload(_))));
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
        let body = [7, 5, 255, 255, 255, 255, 255, 255, 255, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 98, 100, 49];
        assert!(matches!(decode(&frame_body(&body)), Err(WireError::Payload(_))));
    }

    /// Every single-bit flip of a frame is caught: the receiver never acts on a damaged frame.
    #[test]
    fn a_flipped_bit_anywhere_is_refused() {
        let msg =
            Message::Forward { request_id: 9, request: Request::ScaleServices { scales: vec![("web".into(), 3)] } };
        let bytes = encode(&msg);
        for bit in 0..bytes.len() * 8 {
            let mut bad = bytes.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            assert!(decode(&bad).is_err(), "bit {bit} flipped and the frame still decoded");
        }
    }
}
