//! Writes the seed inputs of `wire_frame` and `control_request` from the docker commands in
//! `corpus/docker_command` (the scenarios' own lines): each command's typed request as a
//! forwarded write, a forwarded read and a control-API body, plus Raft messages. Run after the
//! grammar changes: `cargo run --example seed_corpus` (in fuzz/).

use std::fs;
use std::path::Path;
use swarm_core::control::ApiError;
use swarm_core::message::Message;
use swarmd::api::{ApiRequest, RequestEnvelope, API_VERSION};
use swarmd::wire;

fn main() {
    let commands = Path::new("corpus/docker_command");
    let mut names: Vec<_> = fs::read_dir(commands).expect("corpus/docker_command").map(|e| e.unwrap().path()).collect();
    names.sort();
    let mut requests = Vec::new();
    for path in names {
        let line = fs::read_to_string(&path).unwrap();
        if let Ok(invocation) = swarm_core::cli::parse(&line) {
            requests.push(invocation.request);
        }
    }
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for (i, request) in requests.iter().enumerate() {
        frames.push(wire::encode(&Message::Forward { request_id: i as u64, request: request.clone() }));
        let body = RequestEnvelope { version: API_VERSION, request: ApiRequest::Control(Box::new(request.clone())) };
        fs::write(format!("corpus/control_request/request-{i:03}"), serde_json::to_vec(&body).unwrap()).unwrap();
    }
    frames.push(wire::encode(&Message::ForwardReply {
        request_id: 7,
        reply: Err(ApiError::new("rpc error: code = Unknown desc = The swarm does not have a leader.")),
    }));
    let metrics = RequestEnvelope { version: API_VERSION, request: ApiRequest::Metrics };
    fs::write("corpus/control_request/metrics", serde_json::to_vec(&metrics).unwrap()).unwrap();
    for (kind, with_entry) in
        [(raft::eraftpb::MessageType::MsgHeartbeat, false), (raft::eraftpb::MessageType::MsgAppend, true)]
    {
        let mut m = raft::eraftpb::Message::default();
        m.set_msg_type(kind);
        m.from = 1;
        m.to = 2;
        m.term = 3;
        m.commit = 5;
        if with_entry {
            let mut entry = raft::eraftpb::Entry::default();
            entry.term = 3;
            entry.index = 6;
            entry.data = b"not a proposal".to_vec().into();
            m.entries = vec![entry].into();
        }
        frames.push(wire::encode(&Message::Raft(Box::new(m))));
    }
    for (i, frame) in frames.iter().enumerate() {
        // `[version, body…]` without the checksum: the target decodes the bytes as they are and
        // their tail as the body of a well-checksummed frame (see fuzz_targets/wire_frame.rs).
        let seed: Vec<u8> = frame[..1].iter().chain(&frame[5..]).copied().collect();
        fs::write(format!("corpus/wire_frame/frame-{i:03}"), seed).unwrap();
    }
    println!("{} frames, {} control requests", frames.len(), requests.len() + 1);
}
