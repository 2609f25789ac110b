//! Forwarded writes the leader has seen lately: a follower's `Forward` that arrives twice is
//! carried out once.
//!
//! swarmkit forwards a follower's control call to the leader over one gRPC stream, which never
//! delivers a request twice. Our frames travel as messages, and a network may duplicate one
//! (the simulator's `duplicate` link fault does); carried out twice, a `network rm` succeeds
//! and its copy answers "not found" — and the follower may well relay the copy's answer to
//! the client, so an acknowledged removal reads as a failed one.
//!
//! A copy is recognised by the follower's address, its request id *and* the request itself:
//! a follower numbers its requests from 1 again after a restart, so the id alone could match
//! an older, different request. Entries are forgotten after [`REMEMBER_FOR`], longer than any
//! follower waits for an answer (its forward times out after 20 s), and at most
//! [`MAX_REMEMBERED`] are kept.

use crate::control::{Reply, Request};
use crate::message::Addr;
use crate::time::Instant;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

pub const REMEMBER_FOR: Duration = Duration::from_secs(60);
pub const MAX_REMEMBERED: usize = 10_000;

struct Seen {
    request: Request,
    arrived_at: Instant,
    reply: Option<Reply>,
}

#[derive(Default)]
pub struct ForwardedWrites {
    seen: BTreeMap<(Addr, u64), Seen>,
    /// Arrival order, for forgetting the oldest first.
    arrivals: VecDeque<(Instant, Addr, u64)>,
}

/// What to do with a forwarded write that just arrived.
#[derive(Debug, PartialEq)]
pub enum Arrival {
    /// Not seen before (or a different request under a reused id): carry it out.
    First,
    /// A copy of one still being carried out: its answer will go out once.
    Pending,
    /// A copy of one already answered: send the same answer again.
    Answered(Reply),
}

impl ForwardedWrites {
    pub fn arrived(&mut self, from: Addr, request_id: u64, request: &Request, now: Instant) -> Arrival {
        self.forget_old(now);
        let key = (from, request_id);
        if let Some(seen) = self.seen.get(&key) {
            if seen.request == *request {
                return match &seen.reply {
                    None => Arrival::Pending,
                    Some(reply) => Arrival::Answered(reply.clone()),
                };
            }
        }
        self.seen.insert(key, Seen { request: request.clone(), arrived_at: now, reply: None });
        self.arrivals.push_back((now, from, request_id));
        Arrival::First
    }

    pub fn answered(&mut self, from: Addr, request_id: u64, reply: &Reply) {
        if let Some(seen) = self.seen.get_mut(&(from, request_id)) {
            seen.reply = Some(reply.clone());
        }
    }

    fn forget_old(&mut self, now: Instant) {
        while let Some(&(at, from, id)) = self.arrivals.front() {
            if now < at + REMEMBER_FOR && self.arrivals.len() < MAX_REMEMBERED {
                break;
            }
            self.arrivals.pop_front();
            // A reused id may have replaced the entry since: only its own arrival removes it.
            if self.seen.get(&(from, id)).is_some_and(|s| s.arrived_at == at) {
                self.seen.remove(&(from, id));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::Response;
    use core::net::Ipv4Addr;

    const FOLLOWER: Addr = Addr::on_cluster_port(Ipv4Addr::new(10, 0, 0, 2));

    fn rm(name: &str) -> Request {
        Request::RemoveNetworks { networks: vec![name.into()] }
    }

    fn at(secs: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(secs)
    }

    #[test]
    fn a_duplicated_forward_is_carried_out_once_and_gets_the_first_answer() {
        let mut seen = ForwardedWrites::default();
        assert_eq!(seen.arrived(FOLLOWER, 7, &rm("net"), at(1)), Arrival::First);
        assert_eq!(seen.arrived(FOLLOWER, 7, &rm("net"), at(1)), Arrival::Pending);
        let removed: Reply = Ok(Response::Removed { names: vec!["net".into()] });
        seen.answered(FOLLOWER, 7, &removed);
        assert_eq!(seen.arrived(FOLLOWER, 7, &rm("net"), at(2)), Arrival::Answered(removed));
    }

    #[test]
    fn a_restarted_follower_reusing_an_id_for_another_request_is_carried_out() {
        let mut seen = ForwardedWrites::default();
        assert_eq!(seen.arrived(FOLLOWER, 1, &rm("a"), at(1)), Arrival::First);
        assert_eq!(seen.arrived(FOLLOWER, 1, &rm("b"), at(5)), Arrival::First);
    }

    #[test]
    fn a_forward_is_forgotten_after_a_minute() {
        let mut seen = ForwardedWrites::default();
        assert_eq!(seen.arrived(FOLLOWER, 1, &rm("a"), at(1)), Arrival::First);
        assert_eq!(seen.arrived(FOLLOWER, 1, &rm("a"), at(62)), Arrival::First);
    }
}
