//! The network between hosts: every message takes the model's latency plus jitter, and may be
//! lost; faults cut links (partitions, with hosts in two groups bridging them; one-way cuts)
//! or degrade them (drop, duplicate, extra delay and jitter, which reorders).

use super::{EventKind, NodeIndex, World};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use swarm_core::message::{Addr, Message};
use swarm_core::node::Input;
use swarm_core::time::Instant;

#[derive(Clone, Debug)]
pub struct NetworkModel {
    pub latency: Duration,
    pub jitter: Duration,
    /// Probability in 0..=1 that a message is lost.
    pub loss: f64,
}

/// A degraded link (a `Link` fault).
#[derive(Clone, Debug, Default)]
pub(super) struct LinkFault {
    pub drop: f64,
    pub duplicate: f64,
    pub extra_delay: Duration,
    pub extra_jitter: Duration,
}

/// The network's state: its model and the faults in force.
pub(super) struct Network {
    model: NetworkModel,
    /// Links that carry nothing: (from, to).
    blocked: BTreeSet<(NodeIndex, NodeIndex)>,
    link_faults: BTreeMap<(NodeIndex, NodeIndex), LinkFault>,
    /// Links that damage frames (a `Corrupt` fault): the probability per frame.
    corrupting: BTreeMap<(NodeIndex, NodeIndex), f64>,
}

impl Network {
    pub fn new(model: NetworkModel) -> Network {
        Network { model, blocked: BTreeSet::new(), link_faults: BTreeMap::new(), corrupting: BTreeMap::new() }
    }

    /// Cuts every link to and from `host`.
    pub fn isolate(&mut self, host: NodeIndex, hosts: usize) {
        for j in 0..hosts {
            if j != host {
                self.blocked.insert((host, j));
                self.blocked.insert((j, host));
            }
        }
    }

    /// Cuts every link between hosts that share no group; `groups_of[h]` lists host h's groups.
    pub fn partition(&mut self, groups_of: &[Vec<usize>]) {
        for a in 0..groups_of.len() {
            for b in 0..groups_of.len() {
                // Hosts in no group are cut from everyone; a host in two groups bridges them.
                let shared = groups_of[a].iter().any(|g| groups_of[b].contains(g));
                if a != b && !shared {
                    self.blocked.insert((a, b));
                }
            }
        }
    }

    /// Messages from `from` to `to` are lost; the other direction still works.
    pub fn cut(&mut self, from: NodeIndex, to: NodeIndex) {
        self.blocked.insert((from, to));
    }

    pub fn degrade(&mut self, from: NodeIndex, to: NodeIndex, link: LinkFault) {
        self.link_faults.insert((from, to), link);
    }

    pub fn corrupt(&mut self, from: NodeIndex, to: NodeIndex, rate: f64) {
        self.corrupting.insert((from, to), rate);
    }

    /// Lifts every cut, degraded and corrupting link.
    pub fn heal(&mut self) {
        self.blocked.clear();
        self.link_faults.clear();
        self.corrupting.clear();
    }

    pub fn any_cut(&self) -> bool {
        !self.blocked.is_empty()
    }

    /// Whether some link from `host` to another of the `hosts` is cut.
    pub fn is_cut_off(&self, host: NodeIndex, hosts: usize) -> bool {
        (0..hosts).any(|j| j != host && self.blocked.contains(&(host, j)))
    }
}

impl World {
    fn host_by_cluster_addr(&self, addr: &Addr) -> Option<NodeIndex> {
        self.host_by_ip(addr.ip)
    }

    /// Sends `msg` from host `from` to the node at cluster address `to`, leaving no earlier
    /// than `not_before` (when the disk writes it follows are durable).
    pub(super) fn send(&mut self, from: NodeIndex, to: Addr, msg: Message, not_before: Instant) {
        let Some(target) = self.host_by_cluster_addr(&to) else {
            self.stats.messages_dropped += 1;
            return;
        };
        if self.network.blocked.contains(&(from, target)) {
            self.stats.messages_dropped += 1;
            return;
        }
        let link = self.network.link_faults.get(&(from, target)).cloned().unwrap_or_default();
        let drop_p = 1.0 - (1.0 - self.network.model.loss) * (1.0 - link.drop);
        if drop_p > 0.0 && self.fault_rng.gen_bool(drop_p.min(1.0)) {
            self.stats.messages_dropped += 1;
            return;
        }
        let msg = match self.network.corrupting.get(&(from, target)).copied() {
            Some(rate) if self.fault_rng.gen_bool(rate.min(1.0)) => match self.damage(from, target, &msg) {
                Some(msg) => msg,
                None => return,
            },
            _ => msg,
        };
        let copies = if link.duplicate > 0.0 && self.fault_rng.gen_bool(link.duplicate.min(1.0)) { 2 } else { 1 };
        let from_addr = self.hosts[from]
            .node
            .cluster_addr()
            .copied()
            .unwrap_or_else(|| Addr::on_cluster_port(self.hosts[from].addrs[0]));
        for _ in 0..copies {
            let jitter_us = (self.network.model.jitter + link.extra_jitter).as_micros() as u64;
            let extra = if jitter_us > 0 { self.net_rng.gen_range(0..=jitter_us) } else { 0 };
            let delay = self.network.model.latency + link.extra_delay + Duration::from_micros(extra);
            // Sub-millisecond delays round up: the clock counts milliseconds.
            let at = not_before.max(self.now) + Duration::from_millis((delay.as_micros() as u64).div_ceil(1000).max(1));
            let durable_at = not_before.max(self.now);
            self.schedule(
                at,
                EventKind::Deliver {
                    to: target,
                    from: from_addr,
                    msg: msg.clone(),
                    sender: from,
                    sent_at: self.now,
                    durable_at,
                },
            );
        }
    }
}

impl World {
    /// A frame damaged in transit: the message as swarmd would put it on the wire, with one to
    /// three bits flipped, then decoded as the receiver's transport does. A frame the checksum
    /// refuses is counted and dropped (`None`); one that still decodes — a damage CRC-32 cannot
    /// see, odds of 2^-32 — goes on as what it decoded to.
    fn damage(&mut self, from: NodeIndex, to: NodeIndex, msg: &Message) -> Option<Message> {
        let mut frame = swarm_core::wire::encode(msg);
        for _ in 0..self.fault_rng.gen_range(1..=3) {
            let bit = self.fault_rng.gen_range(0..frame.len() * 8);
            frame[bit / 8] ^= 1 << (bit % 8);
        }
        match swarm_core::wire::decode(&frame) {
            Ok(decoded) => Some(decoded),
            Err(e) => {
                self.stats.frames_rejected += 1;
                self.sometimes.insert("corrupt-frame-rejected".into());
                let line = format!(
                    "{} {} rejected a frame from {}: {e}",
                    self.now, self.hosts[to].name, self.hosts[from].name
                );
                self.trace.record(&line);
                None
            }
        }
    }

    /// A message arrives: it is lost if its host is down, or if its sender crashed before the
    /// disk write the message waited for was durable (it was never really sent).
    pub(super) fn deliver(
        &mut self,
        to: NodeIndex,
        from: Addr,
        msg: Message,
        sender: NodeIndex,
        sent_at: Instant,
        durable_at: Instant,
    ) {
        let lost_with_sender =
            durable_at > sent_at && self.hosts[sender].crashed_at.iter().any(|t| *t >= sent_at && *t < durable_at);
        if !self.hosts[to].up || lost_with_sender {
            self.stats.messages_dropped += 1;
            return;
        }
        self.stats.messages_delivered += 1;
        if self.trace.keeps_lines() || self.trace.hashing() {
            self.trace.record_fmt(format_args!(
                "{} {} <- {} {}",
                self.now,
                self.hosts[to].name,
                from,
                MessageSummary(&msg)
            ));
        }
        self.feed(to, Input::Message { from, msg });
    }
}

/// One line per message: its kind and the fields that matter for replay comparison. Written
/// straight into the trace's line (an assignments list is as long as the node's tasks).
struct MessageSummary<'a>(&'a Message);

impl std::fmt::Display for MessageSummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use swarm_core::message::{DispatchMessage as D, SessionMessage as S};
        match self.0 {
            Message::Raft(m) => write!(
                f,
                "raft {:?} term={} idx={} logterm={} commit={} entries={}",
                m.get_msg_type(),
                m.term,
                m.index,
                m.log_term,
                m.commit,
                m.entries.len()
            ),
            Message::JoinRequest(r) => write!(f, "join-request #{} from {}", r.request_id, r.advertise_addr),
            Message::JoinResponse { request_id, result } => {
                write!(f, "join-response #{request_id} ok={}", result.is_ok())
            }
            Message::Forward { request_id, .. } => write!(f, "forward #{request_id}"),
            Message::ForwardRead { request_id, request, .. } => {
                write!(f, "forward-read #{request_id} {}", request.summary())
            }
            Message::ForwardReply { request_id, .. } => write!(f, "forward-reply #{request_id}"),
            Message::RaftMemberRemoved { raft_id } => write!(f, "raft-member-removed {raft_id:x}"),
            Message::Session(S::Register { node_id, session_seq }) => write!(f, "register {node_id} seq={session_seq}"),
            Message::Session(S::Heartbeat { node_id, .. }) => write!(f, "heartbeat {node_id}"),
            Message::Session(S::UpdateTaskStatus { updates, .. }) => {
                f.write_str("status ")?;
                for (i, (id, s)) in updates.iter().enumerate() {
                    let comma = if i == 0 { "" } else { "," };
                    write!(f, "{comma}{}={:?}", id.short(), s.state)?;
                }
                Ok(())
            }
            Message::Dispatch(D::SessionAccepted { heartbeat_period, .. }) => {
                write!(f, "session-accepted period={heartbeat_period:?}")
            }
            Message::Dispatch(D::HeartbeatAck { heartbeat_period, .. }) => {
                write!(f, "heartbeat-ack period={heartbeat_period:?}")
            }
            Message::Dispatch(D::NotLeader { leader_addr }) => write!(f, "not-leader {leader_addr:?}"),
            Message::Dispatch(D::UnknownNode) => f.write_str("unknown-node"),
            Message::Dispatch(D::Assignments { tasks, .. }) => {
                f.write_str("assignments [")?;
                for (i, t) in tasks.iter().enumerate() {
                    let comma = if i == 0 { "" } else { "," };
                    write!(f, "{comma}{}:{:?}", t.id.short(), t.desired_state)?;
                }
                f.write_str("]")
            }
            Message::Dispatch(D::Directory(d)) => write!(f, "directory services={}", d.services.len()),
            Message::Dispatch(D::Managers { managers, .. }) => write!(f, "managers {}", managers.len()),
        }
    }
}
