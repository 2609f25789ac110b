//! The discrete-event world: N `swarm-core` nodes, their container runtimes, and the network
//! between them, over one simulated clock. No threads: a priority queue keyed by
//! (time, sequence number) orders every event, so one seed gives one byte-identical trace.
//!
//! The world holds no swarm logic. It delivers messages after a latency, runs container
//! commands in the simulated runtime, wakes nodes at their deadlines, and records a trace.

use crate::runtime::{ImageBehaviour, SimRuntime};
use crate::trace::Trace;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::Ipv4Addr;
use std::time::Duration;
use swarm_core::cli::Command;
use swarm_core::message::Message;
use swarm_core::node::{Input, Node, NodeConfig, Output, Reply};
use swarm_core::runtime::ContainerEvent;
use swarm_core::time::Instant;

pub type NodeIndex = usize;

#[derive(Clone, Debug)]
pub struct NetworkModel {
    pub latency: Duration,
    pub jitter: Duration,
}

pub struct HostSpec {
    pub name: String,
    pub config: NodeConfig,
    /// The daemon listens on TCP (`-H tcp://0.0.0.0:5555`), so other hosts can drive it.
    pub daemon_tcp: bool,
    pub missing_images: Vec<String>,
}

pub struct SimHost {
    pub name: String,
    /// Every address of the host (its interfaces).
    pub addrs: Vec<Ipv4Addr>,
    pub daemon_tcp: bool,
    pub node: Node,
    pub runtime: SimRuntime,
    /// Raft writes the node asked to persist (the simulated disk; all fsynced at once here).
    pub persisted_writes: u64,
    timer_at: Option<Instant>,
}

enum EventKind {
    Deliver { to: NodeIndex, from: String, msg: Message },
    Timer { node: NodeIndex },
    Container { node: NodeIndex, event: ContainerEvent, generation: Option<u64> },
}

struct Event {
    at: Instant,
    seq: u64,
    kind: EventKind,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Event {
    /// Reversed: BinaryHeap is a max-heap and we want the earliest (then first-scheduled) event.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Counters the run reports.
#[derive(Clone, Debug, Default)]
pub struct WorldStats {
    pub events: u64,
    pub messages_delivered: u64,
    pub messages_dropped: u64,
}

pub struct World {
    pub now: Instant,
    pub hosts: Vec<SimHost>,
    queue: BinaryHeap<Event>,
    next_seq: u64,
    network: NetworkModel,
    /// Network decisions (latency jitter); separate from the nodes' RNGs.
    net_rng: ChaCha8Rng,
    /// Container IDs.
    runtime_rng: ChaCha8Rng,
    replies: BTreeMap<(NodeIndex, u64), Reply>,
    next_req_id: u64,
    pub trace: Trace,
    pub stats: WorldStats,
    /// Highest leader seen per Raft term: at most one leader per term (checked on every event).
    leaders_by_term: BTreeMap<u64, u64>,
}

impl World {
    pub fn new(seed: u64, hosts: Vec<HostSpec>, images: BTreeMap<String, ImageBehaviour>, network: NetworkModel, keep_trace: bool) -> World {
        let mut seeder = ChaCha8Rng::seed_from_u64(seed);
        let hosts = hosts
            .into_iter()
            .map(|spec| {
                let node_seed = seeder.next_u64();
                SimHost {
                    name: spec.name,
                    addrs: spec.config.interfaces.iter().map(|(_, ip)| *ip).collect(),
                    daemon_tcp: spec.daemon_tcp,
                    node: Node::new(spec.config, node_seed),
                    runtime: SimRuntime::new(images.clone(), spec.missing_images),
                    persisted_writes: 0,
                    timer_at: None,
                }
            })
            .collect();
        World {
            now: Instant::ZERO,
            hosts,
            queue: BinaryHeap::new(),
            next_seq: 0,
            network,
            net_rng: ChaCha8Rng::seed_from_u64(seeder.next_u64()),
            runtime_rng: ChaCha8Rng::seed_from_u64(seeder.next_u64()),
            replies: BTreeMap::new(),
            next_req_id: 1,
            trace: Trace::new(keep_trace),
            stats: WorldStats::default(),
            leaders_by_term: BTreeMap::new(),
        }
    }

    pub fn host_by_name(&self, name: &str) -> Option<NodeIndex> {
        self.hosts.iter().position(|h| h.name == name)
    }

    pub fn host_by_ip(&self, ip: Ipv4Addr) -> Option<NodeIndex> {
        self.hosts.iter().position(|h| h.addrs.contains(&ip))
    }

    fn host_by_cluster_addr(&self, addr: &str) -> Option<NodeIndex> {
        let ip: Ipv4Addr = addr.split(':').next()?.parse().ok()?;
        self.host_by_ip(ip)
    }

    fn schedule(&mut self, at: Instant, kind: EventKind) {
        debug_assert!(at >= self.now, "events are never scheduled in the past");
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Event { at, seq, kind });
    }

    /// Hands a command to a node's daemon; the reply is collected by `take_reply`.
    pub fn submit(&mut self, node: NodeIndex, command: Command) -> u64 {
        let req_id = self.next_req_id;
        self.next_req_id += 1;
        let line = format!("{} {} client#{req_id} {:?}", self.now, self.hosts[node].name, command);
        self.trace.record(&line);
        self.feed(node, Input::Client { req_id, command });
        req_id
    }

    pub fn take_reply(&mut self, node: NodeIndex, req_id: u64) -> Option<Reply> {
        self.replies.remove(&(node, req_id))
    }

    /// Runs a container command on a node's runtime directly (a fault such as `docker kill`
    /// typed outside the daemon's knowledge goes through the daemon instead).
    pub fn runtime_command(&mut self, node: NodeIndex, command: swarm_core::runtime::ContainerCommand) {
        self.execute_container_command(node, command);
    }

    fn feed(&mut self, node: NodeIndex, input: Input) {
        let now = self.now;
        self.hosts[node].node.handle(now, input);
        let outputs = self.hosts[node].node.drain_outputs();
        for output in outputs {
            match output {
                Output::Send { to, msg } => self.send(node, to, msg),
                Output::Container(cmd) => self.execute_container_command(node, cmd),
                Output::Persist(_write) => self.hosts[node].persisted_writes += 1,
                Output::Reply { req_id, reply } => {
                    let line = format!("{} {} reply#{req_id} {}", now, self.hosts[node].name, reply_summary(&reply));
                    self.trace.record(&line);
                    self.replies.insert((node, req_id), reply);
                }
            }
        }
        self.check_leaders();
        self.arm_timer(node);
    }

    fn arm_timer(&mut self, node: NodeIndex) {
        let Some(deadline) = self.hosts[node].node.next_deadline() else { return };
        let at = deadline.max(self.now);
        if self.hosts[node].timer_at.map(|t| at < t).unwrap_or(true) {
            self.hosts[node].timer_at = Some(at);
            self.schedule(at, EventKind::Timer { node });
        }
    }

    fn send(&mut self, from: NodeIndex, to: String, msg: Message) {
        let Some(target) = self.host_by_cluster_addr(&to) else {
            self.stats.messages_dropped += 1;
            return;
        };
        let jitter_ms = self.network.jitter.as_micros() as u64;
        let extra = if jitter_ms > 0 { self.net_rng.gen_range(0..=jitter_ms) } else { 0 };
        let delay = self.network.latency + Duration::from_micros(extra);
        let from_addr = self.hosts[from].node.cluster_addr().cloned().unwrap_or_else(|| format!("{}:2377", self.hosts[from].addrs[0]));
        // Sub-millisecond delays round up: the clock counts milliseconds.
        let at = self.now + Duration::from_millis((delay.as_micros() as u64).div_ceil(1000).max(1));
        self.schedule(at, EventKind::Deliver { to: target, from: from_addr, msg });
    }

    fn execute_container_command(&mut self, node: NodeIndex, cmd: swarm_core::runtime::ContainerCommand) {
        let line = format!("{} {} runtime {}", self.now, self.hosts[node].name, command_summary(&cmd));
        self.trace.record(&line);
        let rng = &mut self.runtime_rng;
        let mut new_id = || {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let scheduled = self.hosts[node].runtime.execute(cmd, &mut new_id);
        for s in scheduled {
            let at = self.now + s.delay;
            self.schedule(at, EventKind::Container { node, event: s.event, generation: s.generation });
        }
    }

    /// Processes the next event; false when none is left.
    pub fn step(&mut self) -> bool {
        let Some(event) = self.queue.pop() else { return false };
        assert!(event.at >= self.now, "time never goes backwards");
        self.now = event.at;
        self.stats.events += 1;
        match event.kind {
            EventKind::Deliver { to, from, msg } => {
                self.stats.messages_delivered += 1;
                if self.trace.keeps_lines() || self.trace.hashing() {
                    let line = format!("{} {} <- {} {}", self.now, self.hosts[to].name, from, message_summary(&msg));
                    self.trace.record(&line);
                }
                self.feed(to, Input::Message { from, msg });
            }
            EventKind::Timer { node } => {
                if self.hosts[node].timer_at != Some(self.now) {
                    return true; // superseded by an earlier timer
                }
                self.hosts[node].timer_at = None;
                self.feed(node, Input::Timer);
            }
            EventKind::Container { node, event, generation } => {
                if let (Some(generation), ContainerEvent::Exited { name, exit_code }) = (generation, &event) {
                    if !self.hosts[node].runtime.self_exit_applies(name, generation, *exit_code) {
                        return true;
                    }
                }
                let line = format!("{} {} event {:?}", self.now, self.hosts[node].name, event);
                self.trace.record(&line);
                self.feed(node, Input::Container(event));
            }
        }
        true
    }

    /// Runs every event up to and including `until`, then sets the clock there.
    pub fn run_until(&mut self, until: Instant) {
        while self.queue.peek().map(|e| e.at <= until).unwrap_or(false) {
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Runs until `done` holds (checked after every event) or `until` passes.
    pub fn run_until_condition(&mut self, until: Instant, mut done: impl FnMut(&World) -> bool) -> bool {
        if done(self) {
            return true;
        }
        while self.queue.peek().map(|e| e.at <= until).unwrap_or(false) {
            self.step();
            if done(self) {
                return true;
            }
        }
        self.now = self.now.max(until);
        done(self)
    }

    /// Safety: at most one leader per term, across the whole run.
    fn check_leaders(&mut self) {
        for host in &self.hosts {
            let Some(mgr) = host.node.manager() else { continue };
            if !mgr.is_leader() {
                continue;
            }
            let (term, id) = (mgr.raft.term(), mgr.raft.id());
            let seen = *self.leaders_by_term.entry(term).or_insert(id);
            assert_eq!(seen, id, "invariant violated: two leaders ({seen:x} and {id:x}) in term {term}");
        }
    }

    /// The store as the current leader holds it (the freshest view), or any manager's.
    pub fn leader_index(&self) -> Option<NodeIndex> {
        let mut best: Option<(u64, NodeIndex)> = None;
        for (i, h) in self.hosts.iter().enumerate() {
            if let Some(m) = h.node.manager() {
                if m.is_leader() && best.map(|(t, _)| m.raft.term() > t).unwrap_or(true) {
                    best = Some((m.raft.term(), i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    pub fn authoritative_store(&self) -> Option<&swarm_core::store::Store> {
        if let Some(i) = self.leader_index() {
            return self.hosts[i].node.manager().map(|m| &m.store);
        }
        self.hosts
            .iter()
            .filter_map(|h| h.node.manager())
            .max_by_key(|m| m.store.applied_index)
            .map(|m| &m.store)
    }

    /// Managers that applied the same index hold the same store (checked between steps).
    pub fn check_stores_agree(&self) -> Result<(), String> {
        let mut by_index: BTreeMap<u64, (&str, &swarm_core::store::Store)> = BTreeMap::new();
        for h in &self.hosts {
            let Some(m) = h.node.manager() else { continue };
            m.store.check_indexes().map_err(|e| format!("{}: {e}", h.name))?;
            if let Some((other, store)) = by_index.get(&m.store.applied_index) {
                if *store != &m.store {
                    return Err(format!(
                        "invariant violated: managers {} and {} applied index {} but hold different stores",
                        other, h.name, m.store.applied_index
                    ));
                }
            } else {
                by_index.insert(m.store.applied_index, (&h.name, &m.store));
            }
        }
        Ok(())
    }
}

fn reply_summary(reply: &Reply) -> String {
    match reply {
        Reply::Text(t) => format!("ok {:?}", t),
        Reply::Error(e) => format!("error {:?}", e),
        Reply::Route(r) => format!("route {} -> {}", r.service, r.backend.container_name),
    }
}

fn command_summary(cmd: &swarm_core::runtime::ContainerCommand) -> String {
    use swarm_core::runtime::ContainerCommand::*;
    match cmd {
        Create(spec) => format!("create {} {}", spec.name, spec.image),
        Start { name } => format!("start {name}"),
        Stop { name, .. } => format!("stop {name}"),
        Kill { name } => format!("kill {name}"),
        Remove { name } => format!("remove {name}"),
    }
}

/// One line per message: its kind and the fields that matter for replay comparison.
fn message_summary(msg: &Message) -> String {
    use swarm_core::message::{DispatchMessage as D, SessionMessage as S};
    match msg {
        Message::Raft(m) => format!(
            "raft {:?} term={} idx={} logterm={} commit={} entries={}",
            m.get_msg_type(),
            m.term,
            m.index,
            m.log_term,
            m.commit,
            m.entries.len()
        ),
        Message::JoinRequest(r) => format!("join-request #{} from {}", r.request_id, r.advertise_addr),
        Message::JoinResponse { request_id, result } => format!("join-response #{request_id} ok={}", result.is_ok()),
        Message::Forward { request_id, .. } => format!("forward #{request_id}"),
        Message::ForwardReply { request_id, .. } => format!("forward-reply #{request_id}"),
        Message::Session(S::Register { node_id, session_seq }) => format!("register {node_id} seq={session_seq}"),
        Message::Session(S::Heartbeat { node_id, .. }) => format!("heartbeat {node_id}"),
        Message::Session(S::UpdateTaskStatus { updates, .. }) => {
            let parts: Vec<String> = updates.iter().map(|(id, s)| format!("{}={:?}", id.short(), s.state)).collect();
            format!("status {}", parts.join(","))
        }
        Message::Dispatch(D::SessionAccepted { heartbeat_period, .. }) => format!("session-accepted period={heartbeat_period:?}"),
        Message::Dispatch(D::HeartbeatAck { heartbeat_period, .. }) => format!("heartbeat-ack period={heartbeat_period:?}"),
        Message::Dispatch(D::NotLeader { leader_addr }) => format!("not-leader {leader_addr:?}"),
        Message::Dispatch(D::UnknownNode) => "unknown-node".to_string(),
        Message::Dispatch(D::Assignments { tasks }) => {
            let parts: Vec<String> = tasks.iter().map(|t| format!("{}:{:?}", t.id.short(), t.desired_state)).collect();
            format!("assignments [{}]", parts.join(","))
        }
        Message::Dispatch(D::Directory(d)) => format!("directory services={}", d.services.len()),
    }
}

impl World {
    /// Processes one event if one is due by `until`; false when none is.
    pub fn step_until(&mut self, until: Instant) -> bool {
        if self.queue.peek().map(|e| e.at <= until).unwrap_or(false) {
            self.step()
        } else {
            false
        }
    }
}
