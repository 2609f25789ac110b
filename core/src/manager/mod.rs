//! The manager: Raft-replicated store plus the controllers the leader runs, one module per
//! swarm concept (as swarmkit's manager/ packages), composed here.
//!
//! The controllers are core's private business: drivers ask the node (`node/door.rs`) and
//! observers read `observe.rs`; only the scheduler is public, for its benchmark
//! (`core/benches/scheduler.rs`).
//!
//! One manager: the Raft member, its copy of the store, and — while it leads — the controllers.
//!
//! Controllers run in rounds. A round runs only when the leader has committed an entry of its
//! own term (so the store holds everything committed before) and no earlier round's proposal
//! is still in flight; its actions go out as one proposal. So every round reads a store that
//! already contains the results of the previous one, and no controller acts twice on a stale
//! view (swarmkit gets the same effect by blocking on each store update).

pub(crate) mod allocator;
pub(crate) mod control;
pub(crate) mod directory;
pub(crate) mod dispatcher;
pub(crate) mod forwarded;
pub(crate) mod jobs;
pub(crate) mod journal;
pub(crate) mod orchestrator;
pub(crate) mod raft_node;
pub(crate) mod round;
pub mod scheduler;
pub(crate) mod updater;

use self::allocator::Allocator;
use self::control::{plan_write, Write};
use self::dispatcher::Dispatcher;
use self::orchestrator::Orchestrator;
use self::raft_node::{RaftNode, RaftReady, SNAPSHOT_INTERVAL_ENTRIES};
use self::round::Round;
use self::scheduler::Scheduler;
use crate::api::*;
use crate::control::errors::{LOST_LEADERSHIP_ERROR, NO_LEADER_ERROR};
use crate::control::{ApiError, Request, Response};
use crate::docker_version::DockerVersion;
use crate::ids::NodeId;
use crate::io::{Output, Reply};
use crate::message::{Addr, JoinAccepted, JoinRefused, JoinRequest, Message, SessionMessage};
use crate::persist::{PersistRaft, RaftDisk};
use crate::store::{ApplyOutcome, Store, StoreAction, Touched};
use crate::time::Instant;
use raft::eraftpb::{ConfChange, ConfChangeType, EntryType};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub const RAFT_TICK: Duration = Duration::from_secs(1);
/// A manager heard from within this long is Reachable, whatever raft-rs's activity flag says
/// (the leader heartbeats every tick, so three ticks of silence are three missed answers).
const REACHABLE_AFTER_SILENCE: Duration = Duration::from_secs(3);
/// A controller proposal not committed by then is given up (the next round retries).
const CONTROLLER_PROPOSAL_TIMEOUT: Duration = Duration::from_secs(10);

/// A Raft entry's payload: one batch of store actions.
#[derive(Serialize, Deserialize)]
struct Proposal {
    proposer: u64,
    seq: u64,
    actions: Vec<StoreAction>,
}

/// Who waits for a proposal to commit.
#[derive(Clone, Debug)]
pub enum Origin {
    /// A client of this node (`req_id` from `Input::Client`).
    Local(u64),
    /// A follower manager forwarded the request.
    Forwarded { addr: Addr, request_id: u64 },
}

enum Waiter {
    Client { origin: Origin, response: Response },
    Join { addr: Addr, request_id: u64, accepted: JoinAccepted },
    Controllers,
}

struct LeaderState {
    orchestrator: Orchestrator,
    scheduler: Scheduler,
    allocator: Allocator,
    dispatcher: Dispatcher,
    /// Set once this leader committed an entry of its term and rebuilt its controllers' state.
    initialized: bool,
    controllers_in_flight: Option<(u64, Instant)>,
    dirty: bool,
    /// The store changed since the allocator and scheduler last looked: they scan every task,
    /// and their answer depends only on the store (and their own state), so a round without a
    /// change skips them.
    store_changed: bool,
}

pub struct Manager {
    pub raft: RaftNode,
    pub store: Store,
    /// Raft ID → cluster address of every manager this one knows.
    pub peers: BTreeMap<u64, Addr>,
    self_addr: Addr,
    next_tick_at: Instant,
    leader: Option<LeaderState>,
    waiting: BTreeMap<u64, Waiter>,
    next_seq: u64,
    /// Set when this manager's own Raft membership was removed (demoted).
    pub removed_from_raft: bool,
    planted: crate::planted::Planted,
    /// The docker this manager's swarmkit is: its orchestrator's rules follow it.
    docker_version: DockerVersion,
    /// Rounds that ran the allocator and scheduler (checkers re-check the leader's state when
    /// it moves).
    pub rounds_run: u64,
    /// What the last applied batches touched, for observers (`observe::ManagerView`).
    pub(crate) journal: journal::ChangeJournal,
    /// Nodes of the store with a manager status (the leader checks their reachability every
    /// round; a scan of every node would cost O(nodes) per round).
    manager_nodes: BTreeSet<NodeId>,
    /// Raft members to add, one conf change at a time (raft-rs takes one pending at most).
    queued_conf_changes: std::collections::VecDeque<(u64, Addr)>,
    conf_change_pending: bool,
    /// When each Raft peer was last heard from (any Raft message), for `node ls`'s
    /// Reachable: raft-rs clears its own `recent_active` flags at every quorum check, so
    /// just after one every peer looks silent until it next answers.
    last_heard: BTreeMap<u64, Instant>,
    /// Writes followers forwarded lately, by (follower, request id): a forward that arrives
    /// twice (the network duplicated it, or a resend) is carried out once, and its copy gets
    /// the first one's answer (or nothing while that is pending).
    forwarded: forwarded::ForwardedWrites,
    /// Set when `process` stopped at its pass limit with work left: the node's next deadline
    /// is then this instant, so the driver hands it straight back instead of the work waiting
    /// for an unrelated input.
    resume_at: Option<Instant>,
    /// How many times `process` hit its pass limit (a counted, reported event: a driver
    /// exports it, and a steadily rising count means a round feeds itself).
    pub process_pass_limit_hits: u64,
    /// Raft members removed by an applied conf change (swarmkit's `cluster.removed`): their
    /// Raft messages are refused with `Message::RaftMemberRemoved`, so a manager left out by
    /// `--force-new-cluster` learns it and does not disturb the new cluster. Rebuilt from the
    /// log on restart (a snapshot does not carry it).
    removed_members: BTreeSet<u64>,
    /// After `--force-new-cluster`: campaign as soon as this node is the only voter
    /// (swarmkit's `campaignWhenAble`), instead of waiting out an election timeout.
    campaign_when_alone: bool,
}

/// Raft drains plus controller rounds one input may run before the node yields back to its
/// driver. A single input needs a handful (a commit, then the round it triggers); the limit
/// only stops a round that keeps feeding itself from starving the driver's other inputs.
const PROCESS_PASS_LIMIT: usize = 64;

impl Manager {
    /// The first manager of a new swarm.
    pub fn bootstrap(
        raft_id: u64,
        self_addr: Addr,
        now: Instant,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<Output>,
    ) -> Manager {
        let mut raft = RaftNode::bootstrap(raft_id, rng);
        out.push(Output::Persist(PersistRaft {
            conf_state: Some(RaftNode::bootstrap_conf_state(raft_id)),
            ..Default::default()
        }));
        // The first voter is set outside the log; record it in the log too, so managers that
        // join later and replay the log from its start count this one in their quorum.
        raft.propose_add_node(raft_id, self_addr.to_string().into_bytes()).expect("a new leader accepts a conf change");
        Self::with_raft(raft, self_addr, now)
    }

    /// A manager restarting from its disk: the store comes back from the snapshot, then the
    /// committed entries after it are applied again as raft hands them out.
    pub fn restore(
        raft_id: u64,
        self_addr: Addr,
        peers: &[(u64, Addr)],
        disk: &RaftDisk,
        now: Instant,
        rng: &mut ChaCha8Rng,
        planted: crate::planted::Planted,
    ) -> Manager {
        let raft = if planted.is(crate::planted::PlantedBug::RestartForgetsLastEntry) {
            RaftNode::restore(raft_id, &crate::planted::last_entry_taken_for_torn(disk), rng)
        } else {
            RaftNode::restore(raft_id, disk, rng)
        };
        let mut m = Self::with_raft(raft, self_addr, now);
        m.plant(planted);
        if let Some(snap) = &disk.snapshot {
            m.restore_snapshot(snap);
            m.store.applied_index = snap.get_metadata().index;
        }
        m.peers.extend(peers.iter().cloned());
        m
    }

    /// A manager joining an existing swarm.
    pub fn joining(
        raft_id: u64,
        self_addr: Addr,
        peers: &[(u64, Addr)],
        now: Instant,
        rng: &mut ChaCha8Rng,
    ) -> Manager {
        let raft = RaftNode::joining(raft_id, rng);
        let mut m = Self::with_raft(raft, self_addr, now);
        m.peers.extend(peers.iter().cloned());
        m
    }

    fn with_raft(raft: RaftNode, self_addr: Addr, now: Instant) -> Manager {
        let mut peers = BTreeMap::new();
        peers.insert(raft.id(), self_addr);
        Manager {
            raft,
            store: Store::new(),
            peers,
            self_addr,
            next_tick_at: now + RAFT_TICK,
            leader: None,
            waiting: BTreeMap::new(),
            next_seq: 1,
            removed_from_raft: false,
            planted: crate::planted::Planted::default(),
            docker_version: DockerVersion::default(),
            rounds_run: 0,
            journal: journal::ChangeJournal::default(),
            manager_nodes: BTreeSet::new(),
            queued_conf_changes: std::collections::VecDeque::new(),
            conf_change_pending: false,
            last_heard: BTreeMap::new(),
            forwarded: forwarded::ForwardedWrites::default(),
            resume_at: None,
            process_pass_limit_hits: 0,
            removed_members: BTreeSet::new(),
            campaign_when_alone: false,
        }
    }

    /// `swarm init --force-new-cluster` on this manager: Raft restarts from this node's own
    /// log and snapshot with itself the only voter (`RaftNode::forced_new_cluster` says how),
    /// the store is rebuilt from them as on a restart, and the node elects itself at once.
    /// Every other manager is removed from Raft; the leader then clears their manager status
    /// (`reachability_actions`), as swarmkit's `node ls` shows no MANAGER STATUS for a node
    /// outside the Raft member list.
    pub fn force_new_cluster(&self, now: Instant, rng: &mut ChaCha8Rng, out: &mut Vec<Output>) -> Manager {
        let (persist, disk) = self.raft.forced_new_cluster(&self.self_addr.to_string());
        if !persist.is_empty() {
            out.push(Output::Persist(persist));
        }
        let own = [(self.raft.id(), self.self_addr)];
        let mut m = Manager::restore(self.raft.id(), self.self_addr, &own, &disk, now, rng, self.planted);
        m.behave_as(self.docker_version);
        m.campaign_when_alone = true;
        m.process(now, rng, out);
        debug_assert_eq!(m.raft.voters(), vec![m.raft.id()], "the forced cluster has this node as its only voter");
        m
    }

    /// Whether `raft_id` was removed from this cluster's Raft (its messages are refused).
    pub fn is_removed_member(&self, raft_id: u64) -> bool {
        self.removed_members.contains(&raft_id)
    }

    /// Makes this manager's controllers follow `version`'s rules (its node's daemon version).
    pub fn behave_as(&mut self, version: DockerVersion) {
        self.docker_version = version;
        if let Some(l) = &mut self.leader {
            l.orchestrator.docker_version = version;
        }
    }

    pub fn plant(&mut self, planted: crate::planted::Planted) {
        self.planted = planted;
        // A leader that counts itself as a quorum never steps down for the lack of one.
        self.raft.set_check_quorum(!planted.is(crate::planted::PlantedBug::LeaderCountsItselfAsQuorum));
    }

    /// The leader's allocator, once it is initialised (for the simulator's checker: every
    /// address a live task holds must be taken there).
    pub fn leader_allocator(&self) -> Option<&Allocator> {
        self.leader.as_ref().filter(|l| l.initialized).map(|l| &l.allocator)
    }

    pub fn is_leader(&self) -> bool {
        self.raft.is_leader()
    }

    /// The leader, and it has committed an entry of its own term: only then does it know
    /// that its store holds every committed entry (a new leader may not have applied what its
    /// predecessor committed), so only then does it answer reads.
    pub fn is_leader_caught_up(&self) -> bool {
        self.leader.as_ref().is_some_and(|l| l.initialized) && self.raft.is_leader()
    }

    /// The leader's cluster address, if this manager knows one.
    pub fn leader_addr(&self) -> Option<Addr> {
        match self.raft.leader_id() {
            0 => None,
            id => self.peers.get(&id).cloned(),
        }
    }

    pub fn manager_addrs(&self) -> Vec<Addr> {
        self.peers.values().cloned().collect()
    }

    /// `Leader`, `Reachable` or `Unreachable` for each manager node, as `node ls` shows it.
    pub fn manager_statuses(&self) -> BTreeMap<NodeId, String> {
        let leader = self.raft.leader_id();
        let mut out = BTreeMap::new();
        for node in self.store.nodes.values() {
            let Some(ms) = &node.manager_status else { continue };
            if node.spec.role != NodeRole::Manager {
                continue;
            }
            let status = if ms.raft_id == leader && leader != 0 {
                "Leader"
            } else if ms.raft_id == self.raft.id() || ms.reachable {
                // This manager reaches itself, whatever the leader last recorded.
                "Reachable"
            } else {
                "Unreachable"
            };
            out.insert(node.id.clone(), status.to_string());
        }
        out
    }

    pub fn next_deadline(&self) -> Instant {
        let mut next = self.next_tick_at;
        if let Some(resume) = self.resume_at {
            next = next.min(resume);
        }
        if let Some(l) = self.leader.as_ref().filter(|l| l.initialized) {
            // While a round is in flight the controllers cannot act on their deadlines: wake
            // for the round's timeout instead (or a commit, which is an input of its own).
            let controller_deadlines = match l.controllers_in_flight {
                Some((_, timeout)) => vec![Some(timeout)],
                None => vec![l.dispatcher.next_deadline(), l.orchestrator.next_deadline()],
            };
            for d in controller_deadlines.into_iter().flatten() {
                next = next.min(d);
            }
        }
        next
    }

    // ----- inputs -----

    pub fn on_timer(&mut self, now: Instant, rng: &mut ChaCha8Rng, out: &mut Vec<Output>) {
        while self.next_tick_at <= now {
            self.raft.tick(rng);
            self.next_tick_at = self.next_tick_at + RAFT_TICK;
        }
        if let Some(l) = &mut self.leader {
            if l.initialized {
                l.dirty = true; // dispatcher deadlines and restart delays are read in the round
            }
            if let Some((_, deadline)) = l.controllers_in_flight {
                if deadline <= now {
                    // The round's proposal may be lost: its work is found again by a full look.
                    l.controllers_in_flight = None;
                    l.orchestrator.look_at_everything();
                    l.store_changed = true;
                }
            }
        }
        self.process(now, rng, out);
    }

    pub fn on_raft_message(
        &mut self,
        from: Addr,
        msg: raft::eraftpb::Message,
        now: Instant,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<Output>,
    ) {
        self.last_heard.insert(msg.from, now);
        // A member added while this manager was down (or cut off) is not in its log yet, so it
        // has no address to answer it at, and the new leader may need exactly its answer for a
        // quorum. swarmkit's transport resolves an unknown sender's address
        // (`ResolveAddress`); the address it sent from is that address.
        if msg.from != 0
            && msg.from != self.raft.id()
            && !self.removed_members.contains(&msg.from)
            && !self.peers.contains_key(&msg.from)
        {
            self.peers.insert(msg.from, from);
        }
        // A message raft refuses (e.g. from a removed member) is dropped, as a lost packet.
        let _ = self.raft.step(msg, rng);
        self.process(now, rng, out);
    }

    /// A write from a client of this node or forwarded by a follower.
    pub fn on_write(
        &mut self,
        origin: Origin,
        request: &Request,
        now: Instant,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<Output>,
    ) {
        if let Origin::Forwarded { addr, request_id } = origin {
            match self.forwarded.arrived(addr, request_id, request, now) {
                forwarded::Arrival::First => {}
                forwarded::Arrival::Pending => return,
                forwarded::Arrival::Answered(reply) => {
                    out.push(Output::Send { to: addr, msg: Message::ForwardReply { request_id, reply } });
                    return;
                }
            }
        }
        if !self.raft.is_leader() {
            let reply = Err(ApiError::new(NO_LEADER_ERROR));
            self.reply(origin, reply, out);
            return;
        }
        match plan_write(&self.store, request, now, rng) {
            Err(e) => self.reply(origin, Err(e.into()), out),
            Ok(Write { actions, mut response, remove_raft_member, add_raft_members }) => {
                if let Response::JoinTokenRotated { manager_addr, .. } = &mut response {
                    *manager_addr = self.self_addr;
                }
                for (raft_id, addr) in add_raft_members {
                    self.peers.insert(raft_id, addr);
                    self.queued_conf_changes.push_back((raft_id, addr));
                }
                self.propose_next_conf_change();
                if let Some(raft_id) = remove_raft_member {
                    if let Err(e) = self.raft.propose_remove_node(raft_id) {
                        self.reply(origin, Err(format!("rpc error: code = Unknown desc = {e}").into()), out);
                        return;
                    }
                }
                match self.propose(actions) {
                    Ok(_) if self.planted.is(crate::planted::PlantedBug::LeaderCountsItselfAsQuorum) => {
                        // The planted bug: acknowledged on append, as if this leader were a quorum.
                        self.reply(origin, Ok(response), out);
                    }
                    Ok(_)
                        if self.planted.is(crate::planted::PlantedBug::LeaderAcksCreateBeforeCommit)
                            && matches!(request, Request::CreateService(_)) =>
                    {
                        // The planted bug: a create acknowledged on append, before it commits.
                        self.reply(origin, Ok(response), out);
                    }
                    Ok(seq) => {
                        self.waiting.insert(seq, Waiter::Client { origin, response });
                    }
                    Err(e) => self.reply(origin, Err(e.into()), out),
                }
            }
        }
        self.process(now, rng, out);
    }

    pub fn on_join_request(
        &mut self,
        from: &Addr,
        req: JoinRequest,
        now: Instant,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<Output>,
    ) {
        let refuse = |out: &mut Vec<Output>, result: JoinRefused| {
            out.push(Output::Send {
                to: *from,
                msg: Message::JoinResponse { request_id: req.request_id, result: Err(result) },
            });
        };
        if !self.raft.is_leader() || self.leader.as_ref().map(|l| !l.initialized).unwrap_or(true) {
            refuse(out, JoinRefused::NotLeader { leader_addr: self.leader_addr().filter(|a| *a != self.self_addr) });
            return;
        }
        let Some(cluster) = self.store.cluster.clone() else {
            refuse(out, JoinRefused::Error("This node is not part of a swarm".into()));
            return;
        };
        let role = match crate::tokens::join_role(&cluster, &req.token) {
            Ok(role) => role,
            Err(e) => {
                refuse(out, JoinRefused::Error(e));
                return;
            }
        };
        let node_id = NodeId::generate(rng);
        let raft_id = (role == NodeRole::Manager).then(|| loop {
            let id: u64 = rng.gen();
            if id != 0 && !self.peers.contains_key(&id) {
                break id;
            }
        });
        let ip = req.advertise_addr.ip.to_string();
        let node = Node {
            id: node_id.clone(),
            spec: NodeSpec { role, availability: Availability::Active, labels: Default::default() },
            description: req.description.clone(),
            status: NodeStatus { state: NodeState::Unknown, message: String::new(), addr: ip },
            manager_status: raft_id.map(|id| ManagerStatus { raft_id: id, addr: req.advertise_addr, reachable: true }),
            created_at: now,
        };
        let mut managers: Vec<(u64, Addr)> = self.peers.iter().map(|(k, v)| (*k, *v)).collect();
        if let Some(id) = raft_id {
            managers.push((id, req.advertise_addr));
        }
        managers.sort();
        let accepted = JoinAccepted { node_id, role, raft_id, managers, leader_addr: self.self_addr };
        // The node's record first, then its Raft membership (as swarmkit's CA issues the
        // certificate, and so writes the node, before the new manager asks Raft to join):
        // the record commits under the old membership. The other way round, the record would
        // need the new manager's vote, which it cannot give before it has the join's answer —
        // a deadlock whenever the old managers alone are not a majority of the new membership
        // (one of three down while a fourth joins).
        match self.propose(vec![StoreAction::CreateNode(node)]) {
            Ok(seq) => {
                self.waiting.insert(seq, Waiter::Join { addr: *from, request_id: req.request_id, accepted });
                if let Some(id) = raft_id {
                    self.peers.insert(id, req.advertise_addr);
                    self.queued_conf_changes.push_back((id, req.advertise_addr));
                    self.propose_next_conf_change();
                }
            }
            Err(e) => refuse(out, JoinRefused::Error(e)),
        }
        self.process(now, rng, out);
    }

    pub fn on_session_message(
        &mut self,
        from: &Addr,
        msg: SessionMessage,
        now: Instant,
        rng: &mut ChaCha8Rng,
        out: &mut Vec<Output>,
    ) {
        let managers = self.manager_addrs();
        let leader_addr = self.leader_addr();
        let Some(l) = self.leader.as_mut().filter(|l| l.initialized) else {
            let hint = leader_addr.filter(|a| *a != self.self_addr);
            out.push(Output::Send {
                to: *from,
                msg: Message::Dispatch(crate::message::DispatchMessage::NotLeader { leader_addr: hint }),
            });
            return;
        };
        let mut actions = Vec::new();
        let mut round = Round { store: &self.store, now, rng, actions: &mut actions };
        l.dispatcher.handle(from, msg, managers, &mut round, out);
        if !actions.is_empty() || l.dispatcher.has_pending_status() {
            l.dirty = true;
        }
        // Session registrations that flip a node to Ready go out at once rather than waiting
        // for the controllers' round, so a fresh node is Ready as soon as it connects.
        if !actions.is_empty() {
            let _ = self.propose(actions);
        }
        self.process(now, rng, out);
    }

    /// Proposes the swarm's first objects (called right after `bootstrap`).
    pub fn propose_initial_state(
        &mut self,
        actions: Vec<StoreAction>,
        origin: Origin,
        response: Response,
    ) -> Result<(), String> {
        let seq = self.propose(actions)?;
        self.waiting.insert(seq, Waiter::Client { origin, response });
        Ok(())
    }

    // ----- the Raft loop -----

    /// Encodes one batch of store actions as a Raft entry and proposes it: the one place a
    /// `Proposal` is made. Returns the batch's sequence number (what `complete` matches).
    fn propose(&mut self, actions: Vec<StoreAction>) -> Result<u64, String> {
        let seq = self.next_seq;
        self.next_seq += 1;
        let proposal = Proposal { proposer: self.raft.id(), seq, actions };
        let bytes = postcard::to_stdvec(&proposal).expect("store actions encode");
        self.raft.propose(bytes).map_err(|e| format!("rpc error: code = Unknown desc = {e}"))?;
        Ok(seq)
    }

    fn reply(&mut self, origin: Origin, reply: Reply, out: &mut Vec<Output>) {
        match origin {
            Origin::Local(req_id) => out.push(Output::Reply { req_id, reply }),
            Origin::Forwarded { addr, request_id } => {
                self.forwarded.answered(addr, request_id, &reply);
                out.push(Output::Send { to: addr, msg: Message::ForwardReply { request_id, reply } })
            }
        }
    }

    /// Drains raft until it has nothing more to say, applying what commits and running the
    /// leader's controllers between drains.
    fn process(&mut self, now: Instant, rng: &mut ChaCha8Rng, out: &mut Vec<Output>) {
        self.resume_at = None;
        for _ in 0..PROCESS_PASS_LIMIT {
            if self.raft.has_ready() {
                let ready = self.raft.drain_ready(rng);
                let RaftReady { messages, persist, snapshot, committed } = ready;
                // Committed entries are applied (and their clients answered) only after the
                // write of this ready: a single manager's entry commits in the ready that
                // persists it, and its client must not hear of it before it is durable.
                let acks_first = self.planted.is(crate::planted::PlantedBug::AcksBeforeDurable);
                let mut persist_and_send = Some((persist, messages));
                if !acks_first {
                    self.persist_and_send(persist_and_send.take(), out);
                }
                if let Some(snap) = snapshot {
                    self.restore_snapshot(&snap);
                }
                let mut touched = Touched::default();
                let from_index = self.store.applied_index;
                for entry in committed {
                    self.apply_entry(entry, &mut touched, out);
                }
                // With the planted bug, only now: the replies went out ahead of the write.
                self.persist_and_send(persist_and_send.take(), out);
                self.after_apply(&touched, out);
                self.journal.record(from_index, self.store.applied_index, &touched);
                self.maybe_snapshot(out);
            }
            if self.campaign_when_alone && self.raft.voters() == [self.raft.id()] {
                self.campaign_when_alone = false;
                self.raft.campaign(rng);
                continue;
            }
            self.track_leadership(now, out);
            self.tell_sessions_the_managers(out);
            if !self.queued_conf_changes.is_empty() {
                self.propose_next_conf_change();
            }
            if !self.run_controllers(now, rng) && !self.raft.has_ready() {
                return;
            }
        }
        self.process_pass_limit_hits += 1;
        self.resume_at = Some(now);
    }

    /// The leader's dispatcher pushes a changed manager list to the agents' open sessions.
    fn tell_sessions_the_managers(&mut self, out: &mut Vec<Output>) {
        let managers = self.manager_addrs();
        if let Some(l) = self.leader.as_mut().filter(|l| l.initialized) {
            l.dispatcher.note_managers(managers, out);
        }
    }

    /// A ready's write, then the Raft messages that may only leave once it is durable.
    fn persist_and_send(&self, ready: Option<(PersistRaft, Vec<raft::eraftpb::Message>)>, out: &mut Vec<Output>) {
        let Some((persist, messages)) = ready else { return };
        if !persist.is_empty() {
            out.push(Output::Persist(persist));
        }
        for msg in messages {
            // A peer we have no address for yet gets nothing: raft retries.
            if let Some(addr) = self.peers.get(&msg.to) {
                out.push(Output::Send { to: *addr, msg: Message::Raft(Box::new(msg)) });
            }
        }
    }

    fn restore_snapshot(&mut self, snap: &raft::eraftpb::Snapshot) {
        if snap.data.is_empty() {
            return;
        }
        let mut store: Store = postcard::from_bytes(&snap.data).expect("snapshot written by a manager decodes");
        store.rebuild_indexes();
        self.store = store;
        self.journal.clear();
        self.manager_nodes =
            self.store.nodes.values().filter(|n| n.manager_status.is_some()).map(|n| n.id.clone()).collect();
        for node in self.store.nodes.values() {
            if let Some(ms) = &node.manager_status {
                self.peers.insert(ms.raft_id, ms.addr);
            }
        }
    }

    fn maybe_snapshot(&mut self, out: &mut Vec<Output>) {
        let applied = self.store.applied_index;
        if applied >= self.raft.snapshot_index() + SNAPSHOT_INTERVAL_ENTRIES {
            let bytes = postcard::to_stdvec(&self.store).expect("store encodes");
            let snapshot = self.raft.snapshot_and_compact(applied, bytes);
            out.push(Output::Persist(PersistRaft { snapshot: Some(snapshot), ..Default::default() }));
        }
    }

    fn apply_entry(&mut self, entry: raft::eraftpb::Entry, touched: &mut Touched, out: &mut Vec<Output>) {
        assert!(
            entry.index > self.store.applied_index || self.store.applied_index == 0,
            "entries apply in order: {} after {}",
            entry.index,
            self.store.applied_index
        );
        self.store.applied_index = entry.index;
        self.store.fold_entry_digest(entry.index, entry.term, &entry.data);
        match entry.get_entry_type() {
            EntryType::EntryNormal => {
                if entry.data.is_empty() {
                    return; // the empty entry a new leader appends
                }
                let proposal: Proposal = postcard::from_bytes(&entry.data).expect("entries are written by managers");
                let mut first_error = None;
                for action in proposal.actions {
                    if let StoreAction::SetTaskStatus { id, status } = &action {
                        self.note_task_failure(id, status);
                    }
                    if let ApplyOutcome::Skipped(why) = self.store.apply(action, touched) {
                        first_error.get_or_insert(why);
                    }
                }
                if proposal.proposer == self.raft.id() {
                    self.complete(proposal.seq, first_error, out);
                }
            }
            EntryType::EntryConfChange => {
                let mut cc = ConfChange::default();
                protobuf::Message::merge_from_bytes(&mut cc, &entry.data).expect("conf change decodes");
                let conf_state = self.raft.apply_conf_change(&cc);
                self.conf_change_pending = false;
                self.propose_next_conf_change();
                out.push(Output::Persist(PersistRaft { conf_state: Some(conf_state), ..Default::default() }));
                match cc.get_change_type() {
                    ConfChangeType::AddNode | ConfChangeType::AddLearnerNode => {
                        // The first voter's entry carries no address (it is known from bootstrap).
                        if let Some(addr) = std::str::from_utf8(&cc.context).ok().and_then(|t| t.parse().ok()) {
                            self.peers.insert(cc.node_id, addr);
                        }
                    }
                    ConfChangeType::RemoveNode => {
                        if cc.node_id == self.raft.id() {
                            self.removed_from_raft = true;
                        } else {
                            self.peers.remove(&cc.node_id);
                            self.removed_members.insert(cc.node_id);
                        }
                    }
                }
            }
            EntryType::EntryConfChangeV2 => {}
        }
    }

    /// The scheduler ranks down nodes where the service failed recently.
    fn note_task_failure(&mut self, id: &crate::ids::TaskId, status: &TaskStatus) {
        if !matches!(status.state, TaskState::Failed | TaskState::Rejected) {
            return;
        }
        let Some(l) = &mut self.leader else { return };
        if let Some(task) = self.store.tasks.get(id) {
            if let Some(node) = &task.node_id {
                l.scheduler.note_failure(node, &task.service_id, status.timestamp);
            }
        }
    }

    fn complete(&mut self, seq: u64, error: Option<String>, out: &mut Vec<Output>) {
        let Some(waiter) = self.waiting.remove(&seq) else { return };
        match waiter {
            Waiter::Client { origin, response } => {
                let reply = match error {
                    Some(e) => Err(ApiError::new(e)),
                    None => Ok(response),
                };
                self.reply(origin, reply, out);
            }
            Waiter::Join { addr, request_id, accepted } => {
                let result = match error {
                    Some(e) => Err(JoinRefused::Error(e)),
                    None => Ok(accepted),
                };
                out.push(Output::Send { to: addr, msg: Message::JoinResponse { request_id, result } });
            }
            Waiter::Controllers => {
                if let Some(l) = &mut self.leader {
                    if l.controllers_in_flight.map(|(s, _)| s) == Some(seq) {
                        l.controllers_in_flight = None;
                    }
                }
            }
        }
    }

    fn after_apply(&mut self, touched: &Touched, out: &mut Vec<Output>) {
        for id in &touched.node_records {
            match self.store.nodes.get(id).filter(|n| n.manager_status.is_some()) {
                Some(_) => self.manager_nodes.insert(id.clone()),
                None => self.manager_nodes.remove(id),
            };
        }
        for node in self.store.nodes.values() {
            if let Some(ms) = &node.manager_status {
                if node.spec.role == NodeRole::Manager
                    && !self.peers.contains_key(&ms.raft_id)
                    && !self.removed_members.contains(&ms.raft_id)
                {
                    self.peers.insert(ms.raft_id, ms.addr);
                }
            }
        }
        let Some(l) = &mut self.leader else { return };
        if touched.is_empty() {
            return;
        }
        l.dirty = true;
        l.store_changed = true;
        l.orchestrator.note_applied(&self.store, touched);
        for node_id in &touched.nodes {
            if !self.store.nodes.contains_key(node_id) {
                l.dispatcher.forget_node(node_id);
            }
        }
        if l.initialized {
            l.dispatcher.after_apply(&self.store, touched, out);
        }
    }

    fn track_leadership(&mut self, now: Instant, out: &mut Vec<Output>) {
        match (self.raft.is_leader(), self.leader.is_some()) {
            (true, false) => {
                let mut orchestrator = Orchestrator::new();
                orchestrator.planted = self.planted;
                orchestrator.docker_version = self.docker_version;
                let mut scheduler = Scheduler::new();
                scheduler.planted = self.planted;
                let mut allocator = Allocator::new();
                allocator.planted = self.planted;
                if self.planted.is(crate::planted::PlantedBug::AllocatorRebuiltBeforeCatchingUp) {
                    // The planted bug: the in-use sets read from the store as it is at the
                    // election, before the predecessor's last committed entries are applied.
                    allocator.rebuild(&self.store);
                }
                let mut dispatcher = Dispatcher::new();
                dispatcher.planted = self.planted;
                self.leader = Some(LeaderState {
                    orchestrator,
                    scheduler,
                    allocator,
                    dispatcher,
                    initialized: false,
                    controllers_in_flight: None,
                    dirty: true,
                    store_changed: true,
                });
            }
            (false, true) => {
                self.leader = None;
                for (_, waiter) in std::mem::take(&mut self.waiting) {
                    match waiter {
                        Waiter::Client { origin, .. } => self.reply(origin, Err(LOST_LEADERSHIP_ERROR.into()), out),
                        Waiter::Join { addr, request_id, .. } => out.push(Output::Send {
                            to: addr,
                            msg: Message::JoinResponse {
                                request_id,
                                result: Err(JoinRefused::NotLeader { leader_addr: None }),
                            },
                        }),
                        Waiter::Controllers => {}
                    }
                }
            }
            _ => {}
        }
        let committed_in_term = self.raft.leader_has_committed_in_term();
        if let Some(l) = &mut self.leader {
            if !l.initialized && committed_in_term {
                l.initialized = true;
                if !self.planted.is(crate::planted::PlantedBug::AllocatorRebuiltBeforeCatchingUp) {
                    l.allocator.rebuild(&self.store);
                }
                let mut actions = Vec::new();
                // The very first leader of a swarm knows its nodes are fine; later ones do not.
                if self.store.applied_index > 2 {
                    l.dispatcher.on_become_leader(&self.store, now, &mut actions);
                }
                l.dirty = true;
                if !actions.is_empty() {
                    // Refused only when leadership is already gone: the next leader marks them.
                    let _ = self.propose(actions);
                }
            }
        }
    }

    /// Proposes the next queued membership change once the previous one has applied.
    fn propose_next_conf_change(&mut self) {
        if self.conf_change_pending || !self.raft.is_leader() {
            return;
        }
        if let Some((raft_id, addr)) = self.queued_conf_changes.pop_front() {
            match self.raft.propose_add_node(raft_id, addr.to_string().into_bytes()) {
                Ok(()) => self.conf_change_pending = true,
                // Raft still applies a change (one of a previous term): this one waits its turn.
                Err(_) => self.queued_conf_changes.push_front((raft_id, addr)),
            }
        }
    }

    /// The leader records which managers it hears from, so every manager's `node ls` shows the
    /// same Reachable/Unreachable. The leader itself is always reachable.
    fn reachability_actions(&self, now: Instant, actions: &mut Vec<StoreAction>) {
        for node in self.manager_nodes.iter().filter_map(|id| self.store.nodes.get(id)) {
            let Some(ms) = &node.manager_status else { continue };
            if self.removed_members.contains(&ms.raft_id) {
                // Out of Raft (left out by `--force-new-cluster`): no manager status, as
                // swarmkit's control API builds it from the Raft member list.
                actions.push(StoreAction::SetManagerStatus { id: node.id.clone(), manager_status: None });
                continue;
            }
            let heard_lately = self.last_heard.get(&ms.raft_id).is_some_and(|at| now < *at + REACHABLE_AFTER_SILENCE);
            let reachable = ms.raft_id == self.raft.id() || heard_lately || self.raft.peer_recently_active(ms.raft_id);
            if reachable != ms.reachable {
                let mut updated = ms.clone();
                updated.reachable = reachable;
                actions.push(StoreAction::SetManagerStatus { id: node.id.clone(), manager_status: Some(updated) });
            }
        }
    }

    /// One controllers' round if one is due. Returns whether it proposed something.
    fn run_controllers(&mut self, now: Instant, rng: &mut ChaCha8Rng) -> bool {
        let Some(l) = &mut self.leader else { return false };
        if !l.initialized || !l.dirty || l.controllers_in_flight.is_some() {
            return false;
        }
        l.dirty = false;
        let mut actions = Vec::new();
        self.reachability_actions(now, &mut actions);
        let Some(l) = &mut self.leader else { return false };
        l.dispatcher.expire(&self.store, now, &mut actions);
        l.dispatcher.take_status_actions(&self.store, now, &mut actions);
        // Controllers read the store as committed; this round's own node and status writes
        // land before the next round sees them.
        if actions.is_empty() {
            l.orchestrator.reconcile(&mut Round { store: &self.store, now, rng, actions: &mut actions });
            if std::mem::take(&mut l.store_changed) {
                self.rounds_run += 1;
                actions.extend(l.allocator.allocate(&self.store, now));
                actions.extend(l.scheduler.schedule(&self.store, now));
            }
            // A service found no longer steady is looked at as a whole in the next round.
            if l.orchestrator.has_pending_work() {
                l.dirty = true;
            }
        } else {
            l.dirty = true;
        }
        if actions.is_empty() {
            return false;
        }
        if let Ok(seq) = self.propose(actions) {
            self.waiting.insert(seq, Waiter::Controllers);
            if let Some(l) = &mut self.leader {
                l.controllers_in_flight = Some((seq, now + CONTROLLER_PROPOSAL_TIMEOUT));
            }
            true
        } else {
            if let Some(l) = &mut self.leader {
                l.orchestrator.look_at_everything();
                l.store_changed = true;
            }
            false
        }
    }
}
