//! The dispatcher: every node's agent keeps a session with the leader, heartbeats every period,
//! and receives its assignments and the routing-mesh directory; its task status comes back here
//! and is written to the store. A node that misses its heartbeats is marked Down, which makes
//! the orchestrator replace its tasks elsewhere.

use crate::api::*;
use crate::deadlines::Deadlines;
use crate::ids::{NodeId, TaskId};
use crate::io::Output;
use crate::manager::directory::DirectoryKeeper;
use crate::manager::round::Round;
use crate::message::{Addr, DispatchMessage, Message, SessionMessage};
use crate::store::{Store, StoreAction, Touched};
use crate::time::Instant;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// swarmkit: heartbeat period 5 s, ±0.5 s jitter, grace multiplier 3.
pub const HEARTBEAT_PERIOD: Duration = Duration::from_secs(5);
pub const HEARTBEAT_JITTER: Duration = Duration::from_millis(500);
pub const GRACE_MULTIPLIER: u32 = 3;
/// After a leader change every node gets twice the normal grace to find the new leader.
pub const LEADER_CHANGE_GRACE_FACTOR: u32 = 2;
/// Heartbeats on which a node gets its assignments and the directory again after a change.
const RESENDS_AFTER_A_CHANGE: u8 = 3;
/// swarmkit's dispatcher commits task status in batches: once 10,000 updates are queued, or
/// 100 ms after the first ("a fraction of a second ... realizing opportunities to combine many
/// writes into a single transaction", dispatcher.go maxBatchItems / maxBatchInterval).
pub const STATUS_BATCH_INTERVAL: Duration = Duration::from_millis(100);
pub const STATUS_BATCH_MAX_ITEMS: usize = 10_000;
pub const UNKNOWN_AFTER_LEADER_CHANGE: &str = "Node moved to \"unknown\" state due to leadership change in cluster";

struct Session {
    addr: Addr,
    seq: u64,
}

#[derive(Default)]
pub struct Dispatcher {
    sessions: BTreeMap<NodeId, Session>,
    /// When each node is declared Down unless it heartbeats first.
    deadlines: Deadlines<NodeId>,
    /// Status updates received since the last round, written in the next proposal.
    pending_status: BTreeMap<TaskId, (NodeId, TaskStatus)>,
    /// When the queued status updates are written at the latest.
    status_batch_due: Option<Instant>,
    /// Nodes whose assignments must be (re)sent.
    dirty_nodes: BTreeSet<NodeId>,
    /// The directory went out to the nodes at least once (from then on every change is sent
    /// as it applies, so the keeper's directory is the one the nodes were sent).
    directory_sent: bool,
    /// The leader's directory, updated per applied batch.
    keeper: DirectoryKeeper,
    /// The directory must be rebuilt from the whole store (a new leader).
    directory_dirty: bool,
    /// Per node, heartbeats left on which to resend its assignments and the directory: a push
    /// lost on the way (the network may drop any message) is repaired within a few periods.
    resend_on_heartbeat: BTreeMap<NodeId, u8>,
    /// The manager addresses the open sessions were last told.
    managers_told: Vec<Addr>,
    pub planted: crate::planted::Planted,
}

impl Dispatcher {
    pub fn new() -> Dispatcher {
        Dispatcher { directory_dirty: true, ..Default::default() }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().into_iter().chain(self.status_batch_due).min()
    }

    pub fn has_pending_status(&self) -> bool {
        !self.pending_status.is_empty()
    }

    /// The cluster's heartbeat period (`swarm update --dispatcher-heartbeat`, default 5 s).
    fn base_period(store: &Store) -> Duration {
        store.cluster.as_ref().map_or(HEARTBEAT_PERIOD, |c| c.dispatcher_heartbeat)
    }

    /// The period one agent is told: the cluster's, with swarmkit's ±0.5 s of jitter.
    fn period(store: &Store, rng: &mut ChaCha8Rng) -> Duration {
        let jitter_ms = HEARTBEAT_JITTER.as_millis() as i64;
        let offset = rng.gen_range(-jitter_ms..=jitter_ms);
        let base_ms = Self::base_period(store).as_millis() as i64;
        Duration::from_millis((base_ms + offset).max(1) as u64)
    }

    /// On becoming leader: every node not Down becomes Unknown and must heartbeat within twice
    /// the usual grace, since nobody knows what happened while there was no leader.
    pub fn on_become_leader(&mut self, store: &Store, now: Instant, actions: &mut Vec<StoreAction>) {
        let grace = Self::base_period(store) * GRACE_MULTIPLIER * LEADER_CHANGE_GRACE_FACTOR;
        for node in store.nodes.values() {
            if node.status.state == NodeState::Down {
                continue;
            }
            actions.push(StoreAction::SetNodeState {
                id: node.id.clone(),
                state: NodeState::Unknown,
                message: UNKNOWN_AFTER_LEADER_CHANGE.to_string(),
                addr: None,
            });
            self.deadlines.set(node.id.clone(), now + grace);
        }
        self.directory_dirty = true;
    }

    /// A message from an agent. Replies go to `out`; store writes wait in the dispatcher
    /// until the next round (`take_actions`).
    pub fn handle(
        &mut self,
        from: &Addr,
        msg: SessionMessage,
        managers: Vec<Addr>,
        round: &mut Round<'_, '_>,
        out: &mut Vec<Output>,
    ) {
        let Round { store, now, rng, actions } = round;
        let (store, now) = (*store, *now);
        match msg {
            SessionMessage::Register { node_id, session_seq } => {
                let Some(node) = store.nodes.get(&node_id) else {
                    out.push(Output::Send { to: *from, msg: Message::Dispatch(DispatchMessage::UnknownNode) });
                    return;
                };
                let period = Self::period(store, rng);
                // The sessions already open hear of a change first, so that every open session
                // has been told `managers_told`.
                self.note_managers(managers.clone(), out);
                self.sessions.insert(node_id.clone(), Session { addr: *from, seq: session_seq });
                self.deadlines.set(node_id.clone(), now + period * GRACE_MULTIPLIER);
                let ip = from.ip.to_string();
                if node.status.state != NodeState::Ready || node.status.addr != ip {
                    actions.push(StoreAction::SetNodeState {
                        id: node_id.clone(),
                        state: NodeState::Ready,
                        message: String::new(),
                        addr: Some(ip),
                    });
                }
                out.push(Output::Send {
                    to: *from,
                    msg: Message::Dispatch(DispatchMessage::SessionAccepted {
                        session_seq,
                        heartbeat_period: period,
                        managers,
                    }),
                });
                out.push(Output::Send { to: *from, msg: Message::Dispatch(assignments_message(store, &node_id)) });
                if self.directory_sent {
                    out.push(Output::Send {
                        to: *from,
                        msg: Message::Dispatch(DispatchMessage::Directory(self.keeper.directory().clone())),
                    });
                }
            }
            SessionMessage::Heartbeat { node_id, session_seq } => {
                let current = self.sessions.get(&node_id).map(|s| s.seq == session_seq).unwrap_or(false);
                if !current || !store.nodes.contains_key(&node_id) {
                    // An unknown session (a new leader, or a node marked Down meanwhile):
                    // the agent registers again.
                    out.push(Output::Send {
                        to: *from,
                        msg: Message::Dispatch(DispatchMessage::NotLeader { leader_addr: None }),
                    });
                    return;
                }
                if let Some(left) = self.resend_on_heartbeat.get_mut(&node_id) {
                    *left -= 1;
                    if *left == 0 {
                        self.resend_on_heartbeat.remove(&node_id);
                    }
                    out.push(Output::Send { to: *from, msg: Message::Dispatch(assignments_message(store, &node_id)) });
                    if self.directory_sent {
                        out.push(Output::Send {
                            to: *from,
                            msg: Message::Dispatch(DispatchMessage::Directory(self.keeper.directory().clone())),
                        });
                    }
                }
                let period = Self::period(store, rng);
                // A node heartbeating on a live session is Ready, whatever was written meanwhile
                // (a leader change marks every node Unknown, possibly after it registered).
                if store.nodes.get(&node_id).map(|n| n.status.state != NodeState::Ready).unwrap_or(false) {
                    actions.push(StoreAction::SetNodeState {
                        id: node_id.clone(),
                        state: NodeState::Ready,
                        message: String::new(),
                        addr: None,
                    });
                }
                self.deadlines.set(node_id, now + period * GRACE_MULTIPLIER);
                out.push(Output::Send {
                    to: *from,
                    msg: Message::Dispatch(DispatchMessage::HeartbeatAck { session_seq, heartbeat_period: period }),
                });
            }
            SessionMessage::UpdateTaskStatus { node_id, updates } => {
                if !self.sessions.contains_key(&node_id) {
                    return;
                }
                if self.pending_status.is_empty() {
                    self.status_batch_due = Some(now + STATUS_BATCH_INTERVAL);
                }
                for (task_id, status) in updates {
                    self.pending_status.insert(task_id, (node_id.clone(), status));
                }
            }
        }
    }

    /// Marks Down every node whose deadline passed.
    pub fn expire(&mut self, store: &Store, now: Instant, actions: &mut Vec<StoreAction>) {
        if self.planted.is(crate::planted::PlantedBug::DispatcherNeverExpiresSession) {
            return;
        }
        let mut expired: Vec<NodeId> = self.deadlines.due(now).cloned().collect();
        expired.sort();
        for node_id in expired {
            self.deadlines.clear(&node_id);
            self.sessions.remove(&node_id);
            if store.nodes.get(&node_id).map(|n| n.status.state != NodeState::Down).unwrap_or(false) {
                actions.push(StoreAction::SetNodeState {
                    id: node_id,
                    state: NodeState::Down,
                    message: "heartbeat failure".to_string(),
                    addr: None,
                });
            }
        }
    }

    /// Status updates waiting to be written, once their batch is due: only for tasks still
    /// assigned to the reporting node, and only forward moves (the store checks that again at
    /// apply).
    pub fn take_status_actions(&mut self, store: &Store, now: Instant, actions: &mut Vec<StoreAction>) {
        let due = self.status_batch_due.map(|at| at <= now).unwrap_or(true);
        if !due && self.pending_status.len() < STATUS_BATCH_MAX_ITEMS {
            return;
        }
        self.status_batch_due = None;
        for (task_id, (node_id, status)) in std::mem::take(&mut self.pending_status) {
            let Some(task) = store.tasks.get(&task_id) else { continue };
            if task.node_id.as_ref() != Some(&node_id) || status.state < task.status.state || status == task.status {
                continue;
            }
            actions.push(StoreAction::SetTaskStatus { id: task_id, status });
        }
    }

    /// After the leader applied a batch: resend assignments to the nodes it touched and the
    /// directory to everyone when it changed.
    pub fn after_apply(&mut self, store: &Store, touched: &Touched, out: &mut Vec<Output>) {
        self.dirty_nodes.extend(touched.nodes.iter().cloned());
        for task_id in &touched.tasks {
            if let Some(node) = store.tasks.get(task_id).and_then(|t| t.node_id.clone()) {
                self.dirty_nodes.insert(node);
            }
        }
        for node_id in std::mem::take(&mut self.dirty_nodes) {
            if let Some(session) = self.sessions.get(&node_id) {
                out.push(Output::Send {
                    to: session.addr,
                    msg: Message::Dispatch(assignments_message(store, &node_id)),
                });
                self.resend_on_heartbeat.insert(node_id, RESENDS_AFTER_A_CHANGE);
            }
        }
        let changed = if std::mem::take(&mut self.directory_dirty) {
            let before = std::mem::replace(&mut self.keeper, DirectoryKeeper::rebuild(store));
            before.directory() != self.keeper.directory()
        } else {
            self.keeper.apply(store, touched)
        };
        if changed || !self.directory_sent {
            // Copies share the keeper's structure: one per node costs O(1).
            let dir = self.keeper.directory();
            for (node_id, session) in &self.sessions {
                out.push(Output::Send {
                    to: session.addr,
                    msg: Message::Dispatch(DispatchMessage::Directory(dir.clone())),
                });
                self.resend_on_heartbeat.insert(node_id.clone(), RESENDS_AFTER_A_CHANGE);
            }
            self.directory_sent = true;
        }
    }

    /// Tells every open session the managers, when they changed since the sessions were last
    /// told (every session was told the same list: at registration or by the last push).
    pub fn note_managers(&mut self, managers: Vec<Addr>, out: &mut Vec<Output>) {
        if managers == self.managers_told {
            return;
        }
        for session in self.sessions.values() {
            out.push(Output::Send {
                to: session.addr,
                msg: Message::Dispatch(DispatchMessage::Managers {
                    session_seq: session.seq,
                    managers: managers.clone(),
                }),
            });
        }
        self.managers_told = managers;
    }

    /// Forgets a removed node's session.
    pub fn forget_node(&mut self, node_id: &NodeId) {
        self.sessions.remove(node_id);
        self.deadlines.clear(node_id);
    }
}

/// Every task the store places on the node: the agent's whole desired world.
pub fn assignments(store: &Store, node: &NodeId) -> Vec<Task> {
    store.tasks_on_node(node).filter(|t| t.status.state >= TaskState::Assigned).cloned().collect()
}

/// The node's assignments with the bytes of every secret and config its tasks meant to run
/// (desired RUNNING or READY) reference: a node that runs none of a secret's tasks never gets
/// it (swarmkit's dispatcher `Assignments`).
fn assignments_message(store: &Store, node: &NodeId) -> DispatchMessage {
    use crate::api::secret::AssignedData;
    let tasks = assignments(store, node);
    let mut wanted = std::collections::BTreeSet::new();
    for t in tasks.iter().filter(|t| t.desired_state <= TaskState::Running) {
        wanted.extend(t.spec.secrets.iter().map(|r| (DataKind::Secret, r.id.clone())));
        wanted.extend(t.spec.configs.iter().map(|r| (DataKind::Config, r.id.clone())));
    }
    let data = wanted
        .into_iter()
        .filter_map(|(kind, id)| {
            let object = store.data_objects(kind).get(&id)?;
            Some(AssignedData { kind, id, data: object.spec.data.clone() })
        })
        .collect();
    DispatchMessage::Assignments { tasks, data }
}

#[cfg(test)]
#[path = "dispatcher_tests.rs"]
mod tests;
