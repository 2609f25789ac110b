//! The discrete-event world: N `swarm-core` nodes, their container runtimes, and the network
//! between them, over one simulated clock. No threads: a priority queue keyed by
//! (time, sequence number) orders every event, so one seed gives one byte-identical trace.
//!
//! The world holds no swarm logic. It delivers messages after a latency, runs container
//! commands in the simulated runtime, wakes nodes at their deadlines, and records a trace.
//! This file is the event loop; each host's clock, disk and the network between hosts have a
//! room of their own, as has the injection of faults. The checkers it runs after every event
//! live in `crate::checkers`.

mod clock;
mod disk;
mod faults;
mod network;
mod workload;

pub use network::NetworkModel;

use crate::checkers::livelock::TimerSpins;
use crate::checkers::raft::OneLeaderPerTerm;
use crate::checkers::{sometimes, Checker};
use crate::runtime::{ImageBehaviour, SimRuntime};
use crate::trace::{Trace, TraceMode};
use clock::HostClock;
use disk::HostDisk;
use network::Network;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::Ipv4Addr;
use swarm_core::control::Request;
use swarm_core::message::{Addr, Message};
use swarm_core::node::{Input, Node, NodeConfig, Output, Reply};
use swarm_core::persist::DiskWrite;
use swarm_core::runtime::ContainerEvent;
use swarm_core::store::Store;
use swarm_core::time::Instant;

pub type NodeIndex = usize;

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
    /// What survives a crash, and how fast and how well it writes.
    pub disk: HostDisk,
    /// False while the host is crashed or its daemon stopped.
    pub up: bool,
    /// Bumped at every crash or stop: events of an earlier life are dropped.
    pub life: u64,
    /// When the host crashed or its daemon stopped, every time.
    crashed_at: Vec<Instant>,
    /// The node's own clock (skewed by a `ClockSkew` fault).
    clock: HostClock,
    timer_at: Option<Instant>,
    /// A `Pause` fault: until then the daemon handles nothing (its inputs wait).
    paused_until: Instant,
    /// The term it led when paused, if it was the leader (for "stale-leader-resumed").
    paused_leading_term: Option<u64>,
}

enum EventKind {
    /// `sender`, `sent_at` and `durable_at`: a message that had to wait for a disk write is
    /// lost if its sender crashed before the write was durable (it was never really sent).
    Deliver {
        to: NodeIndex,
        from: Addr,
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
    /// A health probe runs in a container (dropped if the container left that run).
    HealthProbe {
        node: NodeIndex,
        name: String,
        generation: u64,
    },
    /// A client request that reached a paused daemon: it is handled when the daemon resumes.
    Client {
        node: NodeIndex,
        req_id: u64,
        request: Request,
    },
    /// A slow disk write becomes durable (dropped if the host crashed meanwhile).
    DiskDone {
        node: NodeIndex,
        life: u64,
        write: DiskWrite,
    },
    /// A reply that waited for a disk write (dropped if the host crashed meanwhile).
    Reply {
        node: NodeIndex,
        life: u64,
        req_id: u64,
        reply: Reply,
    },
    /// A workload client issues its next operation.
    ClientOp {
        client: usize,
    },
    /// A workload client gives up waiting for this call's answer.
    ClientTimeout {
        req_id: u64,
    },
    /// A `LoseLeader` armed for the next client write found none: the leader crashes now.
    LoseLeaderDue {
        armed: u64,
    },
}

/// An event's place in the queue; its kind waits in `World::pending[slot]`, so the heap moves
/// these 24 bytes on every push and pop, never a message.
struct Event {
    at: Instant,
    seq: u64,
    slot: usize,
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
    /// Frames a `Corrupt` fault damaged, each rejected by its receiver's checksum.
    pub frames_rejected: u64,
}

pub struct World {
    pub now: Instant,
    pub hosts: Vec<SimHost>,
    queue: BinaryHeap<Event>,
    /// The kind of each queued event, by the slot its `Event` names; `None` in a free slot.
    pending: Vec<Option<EventKind>>,
    /// Slots of `pending` free for the next event.
    free_slots: Vec<usize>,
    next_seq: u64,
    /// The network's model and the faults in force on it.
    network: Network,
    /// Network decisions (latency jitter); separate from the nodes' RNGs.
    net_rng: ChaCha8Rng,
    /// Container IDs.
    runtime_rng: ChaCha8Rng,
    replies: BTreeMap<(NodeIndex, u64), Reply>,
    next_req_id: u64,
    pub trace: Trace,
    pub stats: WorldStats,
    /// At most one leader per term (checked on every event).
    leaders: OneLeaderPerTerm,
    /// Fault decisions (restart seeds, drops, duplicates): a stream of its own.
    fault_rng: ChaCha8Rng,
    /// The first broken safety invariant; the run stops there.
    pub violation: Option<String>,
    /// Named conditions reached at least once ("sometimes" assertions).
    pub sometimes: BTreeSet<String>,
    checker: Checker,
    /// (leader, applied index) at the last health check (`check_health`).
    health_checked_at: Option<(NodeIndex, u64)>,
    timer_spins: TimerSpins,
    /// The leader store's applied index when "sometimes" conditions were last looked for.
    sometimes_checked_at: u64,
    planted: swarm_core::planted::Planted,
    /// Host by address, for delivering messages: a scan per message is O(hosts).
    ip_index: BTreeMap<Ipv4Addr, NodeIndex>,
    /// Hosts whose node runs a manager (up or not): the per-event checks look at these only.
    managers: BTreeSet<NodeIndex>,
    /// Node IDs whose host lost its data root (`LoseDataRoot`): those nodes never come back,
    /// so convergence does not wait for them to be ready.
    pub forgotten_nodes: BTreeSet<String>,
    /// Hosts the scenario's own steps left down, set when chaos starts: chaos never restarts
    /// them. Bringing back a manager that `swarm init --force-new-cluster` removed, with its
    /// old Raft state, lets it and another such manager elect a leader of the old cluster
    /// (swarm's documented hazard; force-new-cluster chaos seeds 251, 594).
    pub left_down: BTreeSet<NodeIndex>,
    /// Hosts whose data root a `LoseDataRoot` fault did wipe (not one it refused), in order.
    pub wiped: Vec<String>,
    /// The workload's clients, once started (`start_workload`).
    clients: Option<workload::Clients>,
}

impl World {
    pub fn new(
        seed: u64,
        hosts: Vec<HostSpec>,
        images: BTreeMap<String, ImageBehaviour>,
        network: NetworkModel,
        trace: TraceMode,
    ) -> World {
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
                    disk: HostDisk::default(),
                    up: true,
                    life: 0,
                    crashed_at: Vec::new(),
                    clock: HostClock::default(),
                    timer_at: None,
                    paused_until: Instant::ZERO,
                    paused_leading_term: None,
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
            pending: Vec::new(),
            free_slots: Vec::new(),
            next_seq: 0,
            network: Network::new(network),
            net_rng: ChaCha8Rng::seed_from_u64(seeder.next_u64()),
            runtime_rng: ChaCha8Rng::seed_from_u64(seeder.next_u64()),
            replies: BTreeMap::new(),
            next_req_id: 1,
            trace: Trace::new(trace),
            stats: WorldStats::default(),
            leaders: OneLeaderPerTerm::default(),
            fault_rng: ChaCha8Rng::seed_from_u64(seeder.next_u64()),
            violation: None,
            sometimes: BTreeSet::new(),
            checker: Checker::default(),
            health_checked_at: None,
            timer_spins: TimerSpins::default(),
            sometimes_checked_at: 0,
            planted: swarm_core::planted::Planted::default(),
            forgotten_nodes: BTreeSet::new(),
            left_down: BTreeSet::new(),
            wiped: Vec::new(),
            clients: None,
        }
    }

    pub fn host_by_name(&self, name: &str) -> Option<NodeIndex> {
        self.hosts.iter().position(|h| h.name == name)
    }

    pub fn host_by_ip(&self, ip: Ipv4Addr) -> Option<NodeIndex> {
        self.ip_index.get(&ip).copied()
    }

    /// The host a user names by one of its addresses or by its hostname (`-H`, `curl`).
    pub fn host_by_ip_or_name(&self, host: &str) -> Option<NodeIndex> {
        match host.parse::<Ipv4Addr>() {
            Ok(ip) => self.host_by_ip(ip),
            Err(_) => self.host_by_name(host),
        }
    }

    /// Up hosts running a manager, in host order.
    fn up_managers(&self) -> impl Iterator<Item = (NodeIndex, &SimHost)> {
        self.managers.iter().map(|i| (*i, &self.hosts[*i])).filter(|(_, h)| h.up)
    }

    fn schedule(&mut self, at: Instant, kind: EventKind) {
        debug_assert!(at >= self.now, "events are never scheduled in the past");
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                debug_assert!(self.pending[slot].is_none(), "a free slot holds no event");
                self.pending[slot] = Some(kind);
                slot
            }
            None => {
                self.pending.push(Some(kind));
                self.pending.len() - 1
            }
        };
        self.queue.push(Event { at, seq, slot });
    }

    /// Hands a request to a node's daemon; the reply is collected by `take_reply`.
    pub fn submit(&mut self, node: NodeIndex, request: Request) -> u64 {
        let req_id = self.next_req_id;
        self.next_req_id += 1;
        if let Request::CreateData { kind: swarm_core::api::DataKind::Secret, spec } = &request {
            self.trace.secrets.watch(&spec.name, spec.data.as_slice());
        }
        let line = format!("{} {} client#{req_id} {}", self.now, self.hosts[node].name, request.summary());
        self.trace.record(&line);
        let paused_until = self.hosts[node].paused_until;
        if self.hosts[node].up && paused_until > self.now {
            self.schedule(paused_until, EventKind::Client { node, req_id, request });
        } else {
            self.feed(node, Input::Client { req_id, request });
        }
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
        let local = self.hosts[node].clock.local_time(self.now);
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
                // What a driver with real listeners serves: the simulated network needs none.
                Output::Serve(_) => {}
                // A reply after a disk write waits until it is durable, as a message does
                // (swarmd fsyncs before it answers): a crash first loses it.
                Output::Reply { req_id, reply } if durable_at > self.now => {
                    let life = self.hosts[node].life;
                    self.schedule(durable_at, EventKind::Reply { node, life, req_id, reply });
                }
                Output::Reply { req_id, reply } => self.answer(node, req_id, reply),
            }
        }
        if self.hosts[node].node.observe().manager().is_some() {
            self.managers.insert(node);
        } else {
            self.managers.remove(&node);
        }
        self.check_safety();
        self.note_sometimes();
        self.arm_timer(node);
    }

    /// A daemon's answer reaches its client.
    fn answer(&mut self, node: NodeIndex, req_id: u64, reply: Reply) {
        self.trace.record_fmt(format_args!(
            "{} {} reply#{req_id} {}",
            self.now,
            self.hosts[node].name,
            ReplySummary(&reply)
        ));
        sometimes::note_reply(&mut self.sometimes, &reply);
        if !self.client_reply(req_id, &reply) {
            self.replies.insert((node, req_id), reply);
        }
    }

    /// The safety checkers, after every event a node handled; the first violation is kept.
    fn check_safety(&mut self) {
        if let Some(leak) = self.trace.secrets.leak() {
            self.violation.get_or_insert(leak.clone());
        }
        let managers = self.managers.iter().map(|i| &self.hosts[*i]);
        if let Err(v) = self.leaders.check(managers.clone()) {
            self.violation.get_or_insert(v);
        }
        if self.violation.is_none() {
            // A manager whose disk is still writing is checked once the write is durable: what
            // it applied before then no client or peer has seen (replies and messages wait for
            // the write), and a crash may yet take it back.
            let now = self.now;
            let durable = managers.filter(|h| h.disk.busy_until <= now);
            if let Err(v) = self.checker.after_event(durable) {
                self.violation = Some(v);
            }
        }
        if self.violation.is_none() {
            self.check_health();
        }
    }

    /// `checkers::health`, when the leader's store changed (a task only becomes RUNNING then;
    /// a container's health never goes back to starting within one run).
    fn check_health(&mut self) {
        let Some(leader) = self.leader_index() else { return };
        let Some(mgr) = self.hosts[leader].node.observe().manager() else { return };
        let mark = (leader, mgr.applied_index());
        if self.health_checked_at == Some(mark) {
            return;
        }
        self.health_checked_at = Some(mark);
        if let Err(v) = crate::checkers::health::never_running_before_healthy(mgr.store(), &self.hosts) {
            self.violation = Some(format!("invariant violated: {v}"));
        }
    }

    /// Looks for the "sometimes" conditions the leader's store shows, when it changed.
    fn note_sometimes(&mut self) {
        let Some(leader) = self.leader_index() else { return };
        let store = self.hosts[leader].node.observe().manager().expect("the leader is a manager").store();
        if store.applied_index == self.sometimes_checked_at {
            return;
        }
        self.sometimes_checked_at = store.applied_index;
        let (hosts, network) = (&self.hosts, &self.network);
        let cut_off = |hostname: &str| {
            network.any_cut()
                && hosts.iter().position(|h| h.name == hostname).is_some_and(|i| network.is_cut_off(i, hosts.len()))
        };
        sometimes::note_store(&mut self.sometimes, store, cut_off);
    }

    fn arm_timer(&mut self, node: NodeIndex) {
        if !self.hosts[node].up {
            return;
        }
        let Some(deadline) = self.hosts[node].node.next_deadline() else { return };
        let at = self.hosts[node].clock.true_time(deadline, self.now).max(self.now);
        if self.hosts[node].timer_at.map(|t| at < t).unwrap_or(true) {
            self.hosts[node].timer_at = Some(at);
            self.schedule(at, EventKind::Timer { node });
        }
    }

    fn execute_container_command(&mut self, node: NodeIndex, cmd: swarm_core::runtime::ContainerCommand) {
        self.trace.record_fmt(format_args!("{} {} runtime {}", self.now, self.hosts[node].name, CommandSummary(&cmd)));
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
        self.schedule_probes(node);
    }

    fn schedule_probes(&mut self, node: NodeIndex) {
        for probe in self.hosts[node].runtime.take_probes() {
            let at = self.now + probe.delay;
            self.schedule(at, EventKind::HealthProbe { node, name: probe.name, generation: probe.generation });
        }
    }

    /// Runs a due health probe; a change of the container's health reaches the node as a
    /// container event, and the next probe is scheduled.
    fn run_probe(&mut self, node: NodeIndex, name: String, generation: u64) {
        // A hung runtime runs no probe (dockerd execs it through containerd): it runs when the
        // runtime answers again, after the events the hang held back, so health never goes
        // backwards (chaos found a `Healthy` overtaken by a held-back `Starting`: health seed 589).
        if let Some(fault) = self.hosts[node].runtime.fault.filter(|f| f.hang && self.now < f.until) {
            self.schedule(fault.until, EventKind::HealthProbe { node, name, generation });
            return;
        }
        let Some((event, next)) = self.hosts[node].runtime.probe(&name, generation, self.now) else { return };
        if let Some(event) = event {
            self.schedule(self.now, EventKind::Container { node, event, generation: None });
        }
        let at = self.now + next.delay;
        self.schedule(at, EventKind::HealthProbe { node, name: next.name, generation: next.generation });
    }

    /// Processes the next event; false when none is left.
    pub fn step(&mut self) -> bool {
        let Some(Event { at, slot, .. }) = self.queue.pop() else { return false };
        let kind = self.pending[slot].take().expect("a queued event's slot holds its kind");
        self.free_slots.push(slot);
        assert!(at >= self.now, "time never goes backwards");
        self.now = at;
        self.stats.events += 1;
        // swarm-core persists synchronously (the driver fsyncs before it hands the node its
        // next input): while a host's disk is still writing, its inputs wait, in order.
        let target = match &kind {
            EventKind::Deliver { to, .. } => Some(*to),
            EventKind::Timer { node } | EventKind::Container { node, .. } | EventKind::Client { node, .. } => {
                Some(*node)
            }
            EventKind::DiskDone { .. }
            | EventKind::Reply { .. }
            | EventKind::HealthProbe { .. }
            | EventKind::ClientOp { .. }
            | EventKind::ClientTimeout { .. }
            | EventKind::LoseLeaderDue { .. } => None,
        };
        if let Some(n) = target {
            // A paused daemon handles nothing: its inputs wait, in order, until it resumes.
            let paused_until = self.hosts[n].paused_until;
            if self.hosts[n].up && paused_until > self.now {
                if let EventKind::Timer { .. } = kind {
                    self.hosts[n].timer_at = Some(paused_until);
                }
                self.schedule(paused_until, kind);
                return true;
            }
            if self.hosts[n].paused_leading_term.is_some() {
                self.note_resumed(n);
            }
            let busy_until = self.hosts[n].disk.busy_until;
            if self.hosts[n].up && busy_until > self.now {
                if let EventKind::Timer { .. } = kind {
                    self.hosts[n].timer_at = Some(busy_until);
                }
                self.schedule(busy_until, kind);
                return true;
            }
        }
        match kind {
            EventKind::Deliver { to, from, msg, sender, sent_at, durable_at } => {
                self.deliver(to, from, msg, sender, sent_at, durable_at);
            }
            EventKind::Timer { node } => {
                if self.hosts[node].timer_at != Some(self.now) {
                    return true; // superseded by an earlier timer
                }
                self.hosts[node].timer_at = None;
                self.feed(node, Input::Timer);
                let host = &self.hosts[node];
                let still_due = host.up
                    && host
                        .node
                        .next_deadline()
                        .map(|d| host.clock.true_time(d, self.now) <= self.now)
                        .unwrap_or(false);
                if let Err(v) = self.timer_spins.after_timer(node, &host.name, self.now, still_due) {
                    self.violation.get_or_insert(v);
                }
            }
            EventKind::HealthProbe { node, name, generation } => self.run_probe(node, name, generation),
            EventKind::Client { node, req_id, request } => self.feed(node, Input::Client { req_id, request }),
            EventKind::ClientOp { client } => self.client_op(client),
            EventKind::ClientTimeout { req_id } => self.client_timeout(req_id),
            EventKind::LoseLeaderDue { armed } => self.lose_leader_due(armed),
            EventKind::Reply { node, life, req_id, reply } => {
                if self.hosts[node].life == life {
                    self.answer(node, req_id, reply);
                }
            }
            EventKind::DiskDone { node, life, write } => {
                if self.hosts[node].life == life {
                    self.hosts[node].disk.state.apply(&write);
                }
            }
            EventKind::Container { node, event, generation } => {
                if let (Some(generation), ContainerEvent::Exited { name, exit_code }) = (generation, &event) {
                    if !self.hosts[node].runtime.self_exit_applies(name, generation, *exit_code) {
                        return true;
                    }
                }
                self.trace.record_fmt(format_args!("{} {} event {:?}", self.now, self.hosts[node].name, event));
                if self.hosts[node].up {
                    self.feed(node, Input::Container(event));
                }
            }
        }
        true
    }

    /// Processes one event if one is due by `until`; false when none is.
    pub fn step_until(&mut self, until: Instant) -> bool {
        if self.violation.is_none() && self.queue.peek().map(|e| e.at <= until).unwrap_or(false) {
            self.step()
        } else {
            false
        }
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

    /// The up manager that leads the highest term, if any.
    pub fn leader_index(&self) -> Option<NodeIndex> {
        let mut best: Option<(u64, NodeIndex)> = None;
        for (i, h) in self.up_managers() {
            if let Some(m) = h.node.observe().manager() {
                if m.is_leader() && best.map(|(t, _)| m.term() > t).unwrap_or(true) {
                    best = Some((m.term(), i));
                }
            }
        }
        best.map(|(_, i)| i)
    }

    /// The store as the current leader holds it (the freshest view), or any manager's.
    pub fn authoritative_store(&self) -> Option<&Store> {
        if let Some(i) = self.leader_index() {
            return self.hosts[i].node.observe().manager().map(|m| m.store());
        }
        self.up_managers()
            .filter_map(|(_, h)| h.node.observe().manager())
            .max_by_key(|m| m.applied_index())
            .map(|m| m.store())
    }

    /// Managers that applied the same index hold the same store (checked between steps).
    pub fn check_stores_agree(&self) -> Result<(), String> {
        crate::checkers::store::stores_agree(self.hosts.iter())
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

    /// Chaos begins: a host the scenario left down whose manager the swarm has since removed
    /// (`swarm init --force-new-cluster`: its node has no manager status any more, while its
    /// disk still holds a manager's Raft state) stays down, and its node is not waited for.
    /// Other hosts left down are restarted by the epilogue as before.
    pub fn leave_down_what_the_scenario_left_down(&mut self) {
        let Some(store) = self.authoritative_store() else { return };
        let mut removed = BTreeSet::new();
        for i in self.down_hosts() {
            let Some(identity) = &self.hosts[i].disk.state.identity else { continue };
            let demoted = store.nodes.get(&identity.node_id).is_some_and(|n| n.manager_status.is_none());
            if identity.raft_id.is_some() && demoted {
                removed.insert((i, identity.node_id.0.clone()));
            }
        }
        for (i, node_id) in removed {
            self.left_down.insert(i);
            self.forgotten_nodes.insert(node_id);
        }
    }

    /// Hosts that are down.
    pub fn down_hosts(&self) -> Vec<NodeIndex> {
        (0..self.hosts.len()).filter(|i| !self.hosts[*i].up).collect()
    }
}

/// A reply as its trace line shows it.
struct ReplySummary<'a>(&'a Reply);

impl std::fmt::Display for ReplySummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Ok(response) => write!(f, "ok {}", response.summary()),
            Err(e) => write!(f, "error {:?}", e.message),
        }
    }
}

/// A container command as its trace line shows it.
struct CommandSummary<'a>(&'a swarm_core::runtime::ContainerCommand);

impl std::fmt::Display for CommandSummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use swarm_core::runtime::ContainerCommand::*;
        match self.0 {
            Create(spec) => write!(f, "create {} {}", spec.name, spec.image),
            Start { name } => write!(f, "start {name}"),
            Stop { name, .. } => write!(f, "stop {name}"),
            Kill { name } => write!(f, "kill {name}"),
            Remove { name } => write!(f, "remove {name}"),
        }
    }
}
