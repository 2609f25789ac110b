//! The discrete-event world: N `swarm-core` nodes, their container runtimes, and the network
//! between them, over one simulated clock. No threads: a priority queue keyed by
//! (time, sequence number) orders every event, so one seed gives one byte-identical trace.
//!
//! The world holds no swarm logic. It delivers messages after a latency, runs container
//! commands in the simulated runtime, wakes nodes at their deadlines, and records a trace.

use crate::faults::Fault;
use crate::runtime::{ImageBehaviour, SimRuntime};
use crate::trace::Trace;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::Ipv4Addr;
use std::time::Duration;
use swarm_core::control::Request;
use swarm_core::message::Message;
use swarm_core::node::{Input, Node, NodeConfig, Output, Reply};
use swarm_core::persist::{DiskState, PersistRaft};
use swarm_core::runtime::ContainerEvent;
use swarm_core::time::Instant;

pub type NodeIndex = usize;

#[derive(Clone, Debug)]
pub struct NetworkModel {
    pub latency: Duration,
    pub jitter: Duration,
    /// Probability in 0..=1 that a message is lost.
    pub loss: f64,
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
    pub config: NodeConfig,
    pub node: Node,
    pub runtime: SimRuntime,
    /// What survives a crash: every write the node asked for once it is durable.
    pub disk: DiskState,
    /// Writes asked for on this host (Raft and identity).
    pub persisted_writes: u64,
    /// False while the host is crashed or its daemon stopped.
    pub up: bool,
    /// Bumped at every crash or stop: events of an earlier life are dropped.
    pub life: u64,
    /// Disk writes take this long before they are durable (a slow-disk fault).
    pub disk_delay: Duration,
    /// Writes complete in the order they were issued: none is durable before this.
    disk_busy_until: Instant,
    /// The next write fails (a `FailDisk` fault).
    disk_fails_next: bool,
    /// When the host crashed or its daemon stopped, every time.
    crashed_at: Vec<Instant>,
    /// The node's clock: true time plus this offset, plus drift since `clock_since`.
    pub clock_offset_ms: i64,
    pub clock_drift_ppm: i64,
    pub clock_since: Instant,
    /// The last local time handed to the node: a skewed clock never runs backwards.
    last_local: Instant,
    timer_at: Option<Instant>,
}

impl SimHost {
    /// The node's own clock at true time `now`.
    fn local_time(&mut self, now: Instant) -> Instant {
        let since_ms = now.as_millis().saturating_sub(self.clock_since.as_millis()) as i64;
        let local = now.as_millis() as i64 + self.clock_offset_ms + since_ms * self.clock_drift_ppm / 1_000_000;
        let local = Instant::from_millis(local.max(0) as u64).max(self.last_local);
        self.last_local = local;
        local
    }

    /// True time at which the node's clock reads `local`.
    fn true_time(&self, local: Instant, now: Instant) -> Instant {
        let since_ms = now.as_millis().saturating_sub(self.clock_since.as_millis()) as i64;
        let offset = self.clock_offset_ms + since_ms * self.clock_drift_ppm / 1_000_000;
        Instant::from_millis((local.as_millis() as i64 - offset).max(now.as_millis() as i64) as u64)
    }
}

enum EventKind {
    /// `sender`, `sent_at` and `durable_at`: a message that had to wait for a disk write is
    /// lost if its sender crashed before the write was durable (it was never really sent).
    Deliver {
        to: NodeIndex,
        from: String,
        msg: Message,
        sender: NodeIndex,
        sent_at: Instant,
        durable_at: Instant,
    },
    Timer {
        node: NodeIndex,
    },
    Container {
        node: NodeIndex,
        event: ContainerEvent,
        generation: Option<u64>,
    },
    /// A slow disk write becomes durable (dropped if the host crashed meanwhile).
    DiskDone {
        node: NodeIndex,
        life: u64,
        write: DiskWrite,
    },
}

#[derive(Clone, Debug)]
enum DiskWrite {
    Raft(PersistRaft),
    Identity(Option<swarm_core::persist::Identity>),
}

/// A degraded link (a `Link` fault).
#[derive(Clone, Debug, Default)]
struct LinkFault {
    drop: f64,
    duplicate: f64,
    extra_delay: Duration,
    extra_jitter: Duration,
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
    /// Links that carry nothing: (from, to).
    blocked: BTreeSet<(NodeIndex, NodeIndex)>,
    link_faults: BTreeMap<(NodeIndex, NodeIndex), LinkFault>,
    /// Probability any message is lost (the scenario's network loss).
    loss: f64,
    /// Fault decisions (restart seeds, drops, duplicates): a stream of its own.
    fault_rng: ChaCha8Rng,
    /// The first broken safety invariant; the run stops there.
    pub violation: Option<String>,
    /// Named conditions reached at least once ("sometimes" assertions).
    pub sometimes: BTreeSet<String>,
    checker: crate::checkers::Checker,
    /// Per host: (time, timer runs at that time with the deadline still due).
    timer_spins: BTreeMap<NodeIndex, (Instant, u32)>,
    /// The leader store's applied index when "sometimes" conditions were last looked for.
    sometimes_checked_at: u64,
    planted: swarm_core::planted::Planted,
    /// Host by address, for delivering messages: a scan per message is O(hosts).
    ip_index: BTreeMap<Ipv4Addr, NodeIndex>,
    /// Hosts whose node runs a manager (up or not): the per-event checks look at these only.
    managers: BTreeSet<NodeIndex>,
}

impl World {
    pub fn new(
        seed: u64,
        hosts: Vec<HostSpec>,
        images: BTreeMap<String, ImageBehaviour>,
        network: NetworkModel,
        keep_trace: bool,
    ) -> World {
        let loss = network.loss;
        let mut seeder = ChaCha8Rng::seed_from_u64(seed);
        let hosts = hosts
            .into_iter()
            .map(|spec| {
                let node_seed = seeder.next_u64();
                SimHost {
                    name: spec.name,
                    addrs: spec.config.interfaces.iter().map(|(_, ip)| *ip).collect(),
                    daemon_tcp: spec.daemon_tcp,
                    node: Node::new(spec.config.clone(), node_seed),
                    config: spec.config,
                    runtime: SimRuntime::new(images.clone(), spec.missing_images),
                    disk: DiskState::default(),
                    persisted_writes: 0,
                    up: true,
                    life: 0,
                    disk_delay: Duration::ZERO,
                    disk_busy_until: Instant::ZERO,
                    disk_fails_next: false,
                    crashed_at: Vec::new(),
                    clock_offset_ms: 0,
                    clock_drift_ppm: 0,
                    clock_since: Instant::ZERO,
                    last_local: Instant::ZERO,
                    timer_at: None,
                }
            })
            .collect::<Vec<SimHost>>();
        let mut ip_index = BTreeMap::new();
        for (i, h) in hosts.iter().enumerate() {
            for ip in &h.addrs {
                ip_index.entry(*ip).or_insert(i);
            }
        }
        World {
            ip_index,
            managers: BTreeSet::new(),
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
            blocked: BTreeSet::new(),
            link_faults: BTreeMap::new(),
            loss,
            fault_rng: ChaCha8Rng::seed_from_u64(seeder.next_u64()),
            violation: None,
            sometimes: BTreeSet::new(),
            checker: crate::checkers::Checker::default(),
            timer_spins: BTreeMap::new(),
            sometimes_checked_at: 0,
            planted: swarm_core::planted::Planted::default(),
        }
    }

    pub fn host_by_name(&self, name: &str) -> Option<NodeIndex> {
        self.hosts.iter().position(|h| h.name == name)
    }

    pub fn host_by_ip(&self, ip: Ipv4Addr) -> Option<NodeIndex> {
        self.ip_index.get(&ip).copied()
    }

    /// Up hosts running a manager, in host order.
    fn up_managers(&self) -> impl Iterator<Item = (NodeIndex, &SimHost)> {
        self.managers.iter().map(|i| (*i, &self.hosts[*i])).filter(|(_, h)| h.up)
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

    /// Hands a request to a node's daemon; the reply is collected by `take_reply`.
    pub fn submit(&mut self, node: NodeIndex, request: Request) -> u64 {
        let req_id = self.next_req_id;
        self.next_req_id += 1;
        let line = format!("{} {} client#{req_id} {}", self.now, self.hosts[node].name, request.summary());
        self.trace.record(&line);
        self.feed(node, Input::Client { req_id, request });
        req_id
    }

    /// The daemon on `node` has answered request `req_id` (the reply waits for `take_reply`).
    pub fn has_reply(&self, node: NodeIndex, req_id: u64) -> bool {
        self.replies.contains_key(&(node, req_id))
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
        if !self.hosts[node].up {
            return;
        }
        let local = self.hosts[node].local_time(self.now);
        self.hosts[node].node.handle(local, input);
        let outputs = self.hosts[node].node.drain_outputs();
        // Outputs after a disk write wait until it is durable (persist before send).
        let mut durable_at = self.now;
        for output in outputs {
            if !self.hosts[node].up {
                break; // a failed disk write stopped the daemon: nothing after it happens
            }
            match output {
                Output::Send { to, msg } => self.send(node, to, msg, durable_at),
                Output::Container(cmd) => self.execute_container_command(node, cmd),
                Output::Persist(write) => durable_at = self.write_disk(node, DiskWrite::Raft(write)),
                Output::SaveIdentity(identity) => durable_at = self.write_disk(node, DiskWrite::Identity(identity)),
                Output::Reply { req_id, reply } => {
                    let line =
                        format!("{} {} reply#{req_id} {}", self.now, self.hosts[node].name, reply_summary(&reply));
                    self.trace.record(&line);
                    self.note_reply(&reply);
                    self.replies.insert((node, req_id), reply);
                }
            }
        }
        if self.hosts[node].node.manager().is_some() {
            self.managers.insert(node);
        } else {
            self.managers.remove(&node);
        }
        self.check_leaders();
        if self.violation.is_none() {
            let managers = self.managers.iter().map(|i| &self.hosts[*i]);
            if let Err(v) = self.checker.after_event(managers, self.now) {
                self.violation = Some(v);
            }
        }
        self.note_sometimes();
        self.arm_timer(node);
    }

    fn write_disk(&mut self, node: NodeIndex, write: DiskWrite) -> Instant {
        self.hosts[node].persisted_writes += 1;
        if std::mem::take(&mut self.hosts[node].disk_fails_next) {
            let line = format!("{} {} disk write failed: the daemon stops", self.now, self.hosts[node].name);
            self.trace.record(&line);
            self.crash(node, false);
            return self.now;
        }
        let delay = self.hosts[node].disk_delay;
        // A disk makes writes durable in the order they were issued (one log, fsynced in
        // turn): a fast write never overtakes a slow one issued before it.
        let at = (self.now + delay).max(self.hosts[node].disk_busy_until);
        if at <= self.now {
            apply_disk_write(&mut self.hosts[node].disk, &write);
            return self.now;
        }
        self.hosts[node].disk_busy_until = at;
        let life = self.hosts[node].life;
        self.schedule(at, EventKind::DiskDone { node, life, write });
        at
    }

    fn note_reply(&mut self, reply: &Reply) {
        if let Err(e) = reply {
            let e = &e.message;
            if e.contains("join token") {
                self.sometimes.insert("join-refused".into());
            }
            if e.contains("lost leader status") {
                self.sometimes.insert("leader-change-during-write".into());
            }
        }
    }

    fn arm_timer(&mut self, node: NodeIndex) {
        if !self.hosts[node].up {
            return;
        }
        let Some(deadline) = self.hosts[node].node.next_deadline() else { return };
        let at = self.hosts[node].true_time(deadline, self.now).max(self.now);
        if self.hosts[node].timer_at.map(|t| at < t).unwrap_or(true) {
            self.hosts[node].timer_at = Some(at);
            self.schedule(at, EventKind::Timer { node });
        }
    }

    fn send(&mut self, from: NodeIndex, to: String, msg: Message, not_before: Instant) {
        let Some(target) = self.host_by_cluster_addr(&to) else {
            self.stats.messages_dropped += 1;
            return;
        };
        if self.blocked.contains(&(from, target)) {
            self.stats.messages_dropped += 1;
            return;
        }
        let link = self.link_faults.get(&(from, target)).cloned().unwrap_or_default();
        let drop_p = 1.0 - (1.0 - self.loss) * (1.0 - link.drop);
        if drop_p > 0.0 && self.fault_rng.gen_bool(drop_p.min(1.0)) {
            self.stats.messages_dropped += 1;
            return;
        }
        let copies = if link.duplicate > 0.0 && self.fault_rng.gen_bool(link.duplicate.min(1.0)) { 2 } else { 1 };
        let from_addr = self.hosts[from]
            .node
            .cluster_addr()
            .cloned()
            .unwrap_or_else(|| format!("{}:2377", self.hosts[from].addrs[0]));
        for _ in 0..copies {
            let jitter_us = (self.network.jitter + link.extra_jitter).as_micros() as u64;
            let extra = if jitter_us > 0 { self.net_rng.gen_range(0..=jitter_us) } else { 0 };
            let delay = self.network.latency + link.extra_delay + Duration::from_micros(extra);
            // Sub-millisecond delays round up: the clock counts milliseconds.
            let at = not_before.max(self.now) + Duration::from_millis((delay.as_micros() as u64).div_ceil(1000).max(1));
            let durable_at = not_before.max(self.now);
            self.schedule(
                at,
                EventKind::Deliver {
                    to: target,
                    from: from_addr.clone(),
                    msg: msg.clone(),
                    sender: from,
                    sent_at: self.now,
                    durable_at,
                },
            );
        }
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
        let now = self.now;
        let scheduled = self.hosts[node].runtime.execute(cmd, now, &mut new_id);
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
        // swarm-core persists synchronously (the driver fsyncs before it hands the node its
        // next input): while a host's disk is still writing, its inputs wait, in order.
        let target = match &event.kind {
            EventKind::Deliver { to, .. } => Some(*to),
            EventKind::Timer { node } | EventKind::Container { node, .. } => Some(*node),
            EventKind::DiskDone { .. } => None,
        };
        if let Some(n) = target {
            let busy_until = self.hosts[n].disk_busy_until;
            if self.hosts[n].up && busy_until > self.now {
                if let EventKind::Timer { .. } = event.kind {
                    self.hosts[n].timer_at = Some(busy_until);
                }
                self.schedule(busy_until, event.kind);
                return true;
            }
        }
        match event.kind {
            EventKind::Deliver { to, from, msg, sender, sent_at, durable_at } => {
                let lost_with_sender = durable_at > sent_at
                    && self.hosts[sender].crashed_at.iter().any(|t| *t >= sent_at && *t < durable_at);
                if !self.hosts[to].up || lost_with_sender {
                    self.stats.messages_dropped += 1;
                    return true;
                }
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
                // A node whose deadline stays in the past after its timer ran would spin here
                // forever without time moving: that is a bug in the node, reported as such.
                let stuck = self.hosts[node].up
                    && self.hosts[node]
                        .node
                        .next_deadline()
                        .map(|d| self.hosts[node].true_time(d, self.now) <= self.now)
                        .unwrap_or(false);
                let count = self.timer_spins.entry(node).or_insert((self.now, 0));
                if stuck && count.0 == self.now {
                    count.1 += 1;
                    if count.1 > 1000 && self.violation.is_none() {
                        self.violation = Some(format!(
                            "invariant violated: {}'s next deadline stays at or before {} after its timer ran (a livelock)",
                            self.hosts[node].name, self.now
                        ));
                    }
                } else {
                    *count = (self.now, 0);
                }
            }
            EventKind::DiskDone { node, life, write } => {
                if self.hosts[node].life == life {
                    apply_disk_write(&mut self.hosts[node].disk, &write);
                }
            }
            EventKind::Container { node, event, generation } => {
                if let (Some(generation), ContainerEvent::Exited { name, exit_code }) = (generation, &event) {
                    if !self.hosts[node].runtime.self_exit_applies(name, generation, *exit_code) {
                        return true;
                    }
                }
                let line = format!("{} {} event {:?}", self.now, self.hosts[node].name, event);
                self.trace.record(&line);
                if self.hosts[node].up {
                    self.feed(node, Input::Container(event));
                }
            }
        }
        true
    }

    /// Runs every event up to and including `until`, then sets the clock there.
    pub fn run_until(&mut self, until: Instant) {
        while self.violation.is_none() && self.queue.peek().map(|e| e.at <= until).unwrap_or(false) {
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Runs until `done` holds (checked after every event) or `until` passes.
    pub fn run_until_condition(&mut self, until: Instant, mut done: impl FnMut(&World) -> bool) -> bool {
        if done(self) {
            return true;
        }
        while self.violation.is_none() && self.queue.peek().map(|e| e.at <= until).unwrap_or(false) {
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
        for i in self.managers.iter().copied() {
            let host = &self.hosts[i];
            if !host.up {
                continue;
            }
            let Some(mgr) = host.node.manager() else { continue };
            if !mgr.is_leader() {
                continue;
            }
            let (term, id) = (mgr.raft.term(), mgr.raft.id());
            let seen = *self.leaders_by_term.entry(term).or_insert(id);
            if seen != id && self.violation.is_none() {
                self.violation = Some(format!("invariant violated: two leaders ({seen:x} and {id:x}) in term {term}"));
            }
        }
    }

    /// The store as the current leader holds it (the freshest view), or any manager's.
    pub fn leader_index(&self) -> Option<NodeIndex> {
        let mut best: Option<(u64, NodeIndex)> = None;
        for (i, h) in self.up_managers() {
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
        self.up_managers().filter_map(|(_, h)| h.node.manager()).max_by_key(|m| m.store.applied_index).map(|m| &m.store)
    }

    /// Managers that applied the same index hold the same store (checked between steps).
    pub fn check_stores_agree(&self) -> Result<(), String> {
        let mut by_index: BTreeMap<u64, (&str, &swarm_core::store::Store)> = BTreeMap::new();
        for h in self.hosts.iter().filter(|h| h.up) {
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
        Ok(response) => format!("ok {}", response.summary()),
        Err(e) => format!("error {:?}", e.message),
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
        Message::Dispatch(D::SessionAccepted { heartbeat_period, .. }) => {
            format!("session-accepted period={heartbeat_period:?}")
        }
        Message::Dispatch(D::HeartbeatAck { heartbeat_period, .. }) => {
            format!("heartbeat-ack period={heartbeat_period:?}")
        }
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
        if self.violation.is_none() && self.queue.peek().map(|e| e.at <= until).unwrap_or(false) {
            self.step()
        } else {
            false
        }
    }
}

fn apply_disk_write(disk: &mut DiskState, write: &DiskWrite) {
    match write {
        DiskWrite::Raft(w) => disk.apply_raft(w),
        DiskWrite::Identity(identity) => disk.identity = identity.clone(),
    }
}

impl World {
    /// Injects a fault now. Errors name what the fault refers to that does not exist.
    pub fn apply_fault(&mut self, fault: &Fault) -> Result<String, String> {
        let line = format!("{} fault {}", self.now, fault.describe());
        self.trace.record(&line);
        let host = |w: &World, name: &str| w.host_by_name(name).ok_or_else(|| format!("no host named {name}"));
        match fault {
            Fault::Kill { target, node } => self.kill_container(node.as_deref(), target),
            Fault::Crash { node } => {
                let i = host(self, node)?;
                self.crash(i, true);
                Ok(format!("{node} crashed"))
            }
            Fault::StopDaemon { node } => {
                let i = host(self, node)?;
                self.crash(i, false);
                Ok(format!("daemon on {node} stopped; its containers keep running"))
            }
            Fault::Restart { node } => {
                let i = host(self, node)?;
                if self.hosts[i].up {
                    return Ok(format!("{node} is already up"));
                }
                self.restart(i);
                Ok(format!("{node} restarted from its disk"))
            }
            Fault::LoseLeader => match self.leader_index() {
                Some(i) => {
                    self.crash(i, true);
                    Ok(format!("the leader, {}, crashed", self.hosts[i].name))
                }
                None => Ok("no leader to lose".into()),
            },
            Fault::Isolate { node } => {
                let i = host(self, node)?;
                for j in 0..self.hosts.len() {
                    if j != i {
                        self.blocked.insert((i, j));
                        self.blocked.insert((j, i));
                    }
                }
                Ok(format!("{node} isolated"))
            }
            Fault::Partition { groups } => {
                let mut member: Vec<Vec<usize>> = vec![Vec::new(); self.hosts.len()];
                for (g, names) in groups.iter().enumerate() {
                    for name in names {
                        member[host(self, name)?].push(g);
                    }
                }
                for a in 0..self.hosts.len() {
                    for b in 0..self.hosts.len() {
                        // Hosts in no group are cut from everyone; a host in two groups bridges them.
                        let shared = member[a].iter().any(|g| member[b].contains(g));
                        if a != b && !shared {
                            self.blocked.insert((a, b));
                        }
                    }
                }
                Ok("partitioned".into())
            }
            Fault::OneWay { from, to } => {
                let (a, b) = (host(self, from)?, host(self, to)?);
                self.blocked.insert((a, b));
                Ok(format!("messages {from} -> {to} are lost"))
            }
            Fault::Heal => {
                self.blocked.clear();
                self.link_faults.clear();
                Ok("network healed".into())
            }
            Fault::Link { from, to, both, drop, duplicate, extra_delay, extra_jitter } => {
                let (a, b) = (host(self, from)?, host(self, to)?);
                let lf = LinkFault {
                    drop: *drop,
                    duplicate: *duplicate,
                    extra_delay: *extra_delay,
                    extra_jitter: *extra_jitter,
                };
                self.link_faults.insert((a, b), lf.clone());
                if *both {
                    self.link_faults.insert((b, a), lf);
                }
                Ok("link degraded".into())
            }
            Fault::ClockSkew { node, offset_ms, drift_ppm } => {
                let i = host(self, node)?;
                let now = self.now;
                let h = &mut self.hosts[i];
                // Fold the drift so far into the offset, then start the new drift from now.
                let since_ms = now.as_millis().saturating_sub(h.clock_since.as_millis()) as i64;
                h.clock_offset_ms += since_ms * h.clock_drift_ppm / 1_000_000 + offset_ms;
                h.clock_drift_ppm = *drift_ppm;
                h.clock_since = now;
                Ok(format!("clock of {node} skewed"))
            }
            Fault::SlowDisk { node, delay } => {
                let i = host(self, node)?;
                self.hosts[i].disk_delay = *delay;
                Ok(format!("disk of {node} slowed"))
            }
            Fault::FailDisk { node } => {
                let i = host(self, node)?;
                self.hosts[i].disk_fails_next = true;
                Ok(format!("the next disk write on {node} will fail"))
            }
        }
    }

    fn kill_container(&mut self, on: Option<&str>, target: &str) -> Result<String, String> {
        let hosts: Vec<usize> = match on {
            Some(name) => vec![self.host_by_name(name).ok_or_else(|| format!("no host named {name}"))?],
            None => (0..self.hosts.len()).collect(),
        };
        let with_dot = format!("{target}.");
        for h in hosts {
            let found = self.hosts[h]
                .runtime
                .containers
                .keys()
                .find(|name| {
                    (name.starts_with(&with_dot) || name.as_str() == target) && self.hosts[h].runtime.running(name)
                })
                .cloned();
            if let Some(name) = found {
                self.runtime_command(h, swarm_core::runtime::ContainerCommand::Kill { name: name.clone() });
                return Ok(format!("SIGKILL {name} on {}", self.hosts[h].name));
            }
        }
        Err(format!("no running container matches {target}"))
    }

    /// The host goes down. A host crash loses the node's memory and every container; a daemon
    /// stop loses the node's memory only (containers keep running, live-restore).
    fn crash(&mut self, i: NodeIndex, host_crash: bool) {
        let h = &mut self.hosts[i];
        if !h.up {
            return;
        }
        h.up = false;
        h.life += 1;
        h.disk_busy_until = Instant::ZERO; // writes still in flight are lost with the host
        h.crashed_at.push(self.now);
        h.timer_at = None;
        if host_crash {
            h.runtime.containers.clear();
        }
    }

    fn restart(&mut self, i: NodeIndex) {
        let seed = self.fault_rng.next_u64();
        let now = self.now;
        let containers = self.hosts[i].runtime.container_infos(now);
        let h = &mut self.hosts[i];
        h.up = true;
        h.disk_fails_next = false;
        h.last_local = Instant::ZERO;
        let local = h.local_time(now);
        h.node = Node::restart(h.config.clone(), seed, &h.disk, containers, local);
        h.node.plant(self.planted);
        if h.disk.identity.is_some() {
            self.sometimes.insert("restart-from-disk".into());
        }
        self.feed(i, Input::Timer);
    }

    /// Switches a planted bug on in every node, now and after restarts.
    pub fn plant(&mut self, bug: swarm_core::planted::PlantedBug) {
        #[cfg(feature = "planted-bugs")]
        {
            self.planted = swarm_core::planted::Planted::bug(bug);
            for h in &mut self.hosts {
                h.node.plant(self.planted);
            }
        }
        #[cfg(not(feature = "planted-bugs"))]
        panic!("planted bug {} needs swarmsim built with --features planted-bugs", bug.name());
    }

    /// Looks for the "sometimes" conditions the leader's store shows, when it changed: a node
    /// detected Down, and a task replaced while its node is cut off by a partition.
    fn note_sometimes(&mut self) {
        let Some(leader) = self.leader_index() else { return };
        let store = &self.hosts[leader].node.manager().expect("the leader is a manager").store;
        if store.applied_index == self.sometimes_checked_at {
            return;
        }
        self.sometimes_checked_at = store.applied_index;
        let down: Vec<&swarm_core::api::Node> =
            store.nodes.values().filter(|n| n.status.state == swarm_core::api::NodeState::Down).collect();
        if down.is_empty() {
            return;
        }
        self.sometimes.insert("node-down-detected".into());
        if self.blocked.is_empty() {
            return;
        }
        for node in down {
            let cut_off = self
                .hosts
                .iter()
                .position(|h| h.name == node.description.hostname)
                .map(|i| (0..self.hosts.len()).any(|j| j != i && self.blocked.contains(&(i, j))));
            if cut_off != Some(true) {
                continue;
            }
            let replaced = store.tasks_on_node(&node.id).any(|old| {
                old.desired_state == swarm_core::api::TaskState::Shutdown
                    && old.slot > 0
                    && store
                        .tasks_of_service(&old.service_id)
                        .any(|t| t.slot == old.slot && t.created_at > old.created_at)
            });
            if replaced {
                self.sometimes.insert("task-replaced-while-node-partitioned".into());
                return;
            }
        }
    }

    /// Hosts that are down.
    pub fn down_hosts(&self) -> Vec<NodeIndex> {
        (0..self.hosts.len()).filter(|i| !self.hosts[*i].up).collect()
    }

    /// Whether any partition or link fault is in force.
    pub fn network_faulty(&self) -> bool {
        !self.blocked.is_empty() || !self.link_faults.is_empty()
    }
}
