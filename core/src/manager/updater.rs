//! The updater: rolls a service's tasks to its current spec, as swarmkit's
//! `manager/orchestrator/update/updater.go` does, in rounds instead of goroutines. A
//! replicated service's slots are its slot numbers; a global service has one slot per node
//! (its task on that node), as swarmkit's global orchestrator hands the updater.
//!
//! Where an update stands is read from the store every round: the service's `UpdateStatus`
//! (paused? a rollback?) and which slots still hold a task of another spec. So a new leader
//! resumes an update where the old one left it, as swarmkit's new leader does when its
//! orchestrator finds the service not up to date. What lives only in this leader's memory is
//! what swarmkit's updater keeps in its goroutines: which slot each of the `parallelism` workers
//! is on, their delays, the tasks this update created (with when each was seen running, for
//! `--update-monitor`) and the failures counted so far. A new leader starts those afresh, with
//! the slots still out of date as the whole (swarmkit's `len(dirtySlots)`).
//!
//! Per slot: stop-first marks the old task SHUTDOWN and creates the new one at desired READY,
//! started once the old one stopped (or after a minute, swarmkit's `defaultOldTaskTimeout`);
//! start-first starts the new one at once and shuts the old one down when the new one runs.
//! A worker then waits `delay` before it takes the next slot. A task this update created that
//! ends (fails, or stops) before it ran for `monitor` is a failure; once failures / slots
//! exceeds `max-failure-ratio`, the failure action runs: pause, or roll back to the previous
//! spec (a failing rollback pauses); `continue` never counts. When every slot was updated and
//! the last one ran for the monitor period (at least `delay` + 1 s), the update is completed.

use crate::api::*;
use crate::deadlines::Deadlines;
use crate::ids::{NodeId, ServiceId, TaskId};
use crate::manager::orchestrator::{is_dirty, new_task};
use crate::manager::round::Round;
use crate::store::{Store, StoreAction};
use crate::time::Instant;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

/// How long a stop-first replacement waits for the old task to stop (swarmkit's restart
/// supervisor `defaultOldTaskTimeout`).
pub const OLD_TASK_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct Updater {
    updates: BTreeMap<ServiceId, Update>,
    /// The next time each update must be looked at (a delay, a stop wait or the monitor
    /// period runs out).
    wake_at: Deadlines<ServiceId>,
    pub planted: crate::planted::Planted,
}

/// One update (or rollback) of one service, as this leader runs it.
struct Update {
    /// The spec version it rolls to: a new spec (another update, a rollback) starts over.
    spec_version: u64,
    config: UpdateConfig,
    /// Slots out of date when it started here: the failure ratio's denominator.
    total_slots: u64,
    queue: VecDeque<SlotKey>,
    workers: Vec<Worker>,
    /// Tasks this update created, with when this leader saw each reach RUNNING.
    created: BTreeMap<TaskId, Option<Instant>>,
    failed: BTreeSet<TaskId>,
    /// Start-first: old tasks kept running until their replacement runs.
    keep_running: BTreeSet<TaskId>,
    monitor_until: Option<Instant>,
    /// The failure action paused it: no more slots are taken.
    stopped: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Worker {
    Idle,
    /// Stop-first: `new` waits at desired READY until `old` stopped.
    WaitingForStop {
        slot: SlotKey,
        new: TaskId,
        old: TaskId,
        give_up_at: Instant,
    },
    /// `new` is desired RUNNING; the slot is done once it reached RUNNING (or ended).
    Starting {
        slot: SlotKey,
        new: TaskId,
        old: Option<TaskId>,
    },
    Delaying {
        until: Instant,
    },
}

/// A slot the updater rolls: a replicated service's slot number, or the node a global
/// service's task runs on (swarmkit's global orchestrator hands the updater one slot per node).
/// Ordered as slot numbers, so a replicated service's slots are taken in their usual order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SlotKey {
    Slot(u64),
    Node(NodeId),
}

impl SlotKey {
    /// The tasks of `svc` in this slot, current and past.
    fn tasks<'s>(&self, svc: &ServiceId, store: &'s Store) -> Vec<&'s Task> {
        match self {
            SlotKey::Slot(slot) => store.tasks_in_slot(svc, *slot).collect(),
            SlotKey::Node(node) => store.tasks_on_node(node).filter(|t| t.service_id == *svc && t.slot == 0).collect(),
        }
    }
}

/// Where a slot stands for the updater: its current task, borrowed from the store.
pub struct SlotView<'s> {
    pub slot: SlotKey,
    pub task: &'s Task,
}

impl Updater {
    /// The next update deadline, for the node's timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.wake_at.first()
    }

    /// Services whose update has a deadline due: the orchestrator looks at them.
    pub fn due(&self, now: Instant) -> Vec<ServiceId> {
        self.wake_at.due(now).cloned().collect()
    }

    /// An update of this service is under way here (so the service is not steady).
    pub fn is_active(&self, service: &ServiceId) -> bool {
        self.updates.get(service).map(|u| !u.stopped || !u.keep_running.is_empty()).unwrap_or(false)
    }

    /// A task the updater holds: a start-first old task to keep running, or a stop-first
    /// replacement waiting at READY for its old task to stop. The restart supervisor leaves
    /// these alone.
    pub fn holds(&self, service: &ServiceId, task: &TaskId) -> bool {
        let Some(u) = self.updates.get(service) else { return false };
        u.keep_running.contains(task)
            || u.workers.iter().any(|w| matches!(w, Worker::WaitingForStop { new, .. } if new == task))
    }

    /// Forgets updates of services that are gone.
    pub fn retain_services(&mut self, store: &Store) {
        let gone: Vec<ServiceId> =
            self.updates.keys().filter(|id| !store.services.contains_key(*id)).cloned().collect();
        for id in gone {
            self.updates.remove(&id);
            self.wake_at.clear(&id);
        }
    }

    /// One round for a service whose slots are `slots` (each slot's current task).
    pub fn run(&mut self, svc: &Service, slots: &[SlotView<'_>], round: &mut Round<'_, '_>) {
        let now = round.now;
        self.wake_at.clear(&svc.id);
        let status = svc.update_status.as_ref();
        if self.updates.get(&svc.id).map(|u| u.spec_version != svc.spec_version).unwrap_or(false) {
            self.updates.remove(&svc.id);
        }
        // Paused (by the failure action, here or on an earlier leader): nothing moves until a
        // `service update` or `rollback` writes a new spec.
        if status.map(|s| s.state.is_paused()).unwrap_or(false) {
            if let Some(u) = self.updates.get_mut(&svc.id) {
                u.stopped = true;
                u.workers.clear();
                u.queue.clear();
            }
            return;
        }
        let dirty: Vec<SlotKey> = slots.iter().filter(|s| is_dirty(svc, s.task)).map(|s| s.slot.clone()).collect();
        let rollback = status.map(|s| s.state == UpdateState::RollbackStarted).unwrap_or(false);
        if !self.updates.contains_key(&svc.id) {
            let adopted = in_flight(svc, slots, round.store);
            if dirty.is_empty() && adopted.is_empty() {
                // Nothing out of date and no update of ours under way: one an earlier leader
                // ran is done.
                if let Some(s) = status.filter(|s| s.state.in_progress()) {
                    round.actions.push(complete(svc, s, now));
                }
                return;
            }
            if status.is_none() {
                round.actions.push(StoreAction::SetServiceUpdateStatus {
                    id: svc.id.clone(),
                    status: UpdateStatus {
                        state: UpdateState::Updating,
                        started_at: Some(now),
                        completed_at: None,
                        message: "update in progress".into(),
                    },
                });
            }
            let config = if rollback { svc.spec.rollback_config() } else { svc.spec.update_config() };
            let parallelism = if config.parallelism == 0 { dirty.len() } else { config.parallelism as usize };
            // Slots an earlier leader was updating hold a worker each until their replacement
            // runs, so a failover never puts more than `parallelism` slots in flight.
            let created = adopted.iter().map(|(_, new, _)| (new.clone(), None)).collect();
            let mut workers: Vec<Worker> = adopted
                .into_iter()
                .map(|(slot, new, old)| match old {
                    Some(old) => Worker::WaitingForStop { slot, new, old, give_up_at: now + OLD_TASK_TIMEOUT },
                    None => Worker::Starting { slot, new, old: None },
                })
                .collect();
            let idle = parallelism.max(1).saturating_sub(workers.len());
            workers.extend(std::iter::repeat_n(Worker::Idle, idle));
            self.updates.insert(
                svc.id.clone(),
                Update {
                    spec_version: svc.spec_version,
                    config,
                    total_slots: dirty.len() as u64,
                    queue: dirty.iter().cloned().collect(),
                    workers,
                    created,
                    failed: BTreeSet::new(),
                    keep_running: BTreeSet::new(),
                    monitor_until: None,
                    stopped: false,
                },
            );
        }
        let planted = self.planted;
        let u = self.updates.get_mut(&svc.id).expect("inserted above");
        if u.stopped {
            return;
        }
        if let Some(action) = u.count_failures(svc, round.store, now, planted) {
            round.actions.push(action);
            u.stopped = true;
            u.workers.clear();
            u.queue.clear();
            return;
        }
        let by_slot: BTreeMap<SlotKey, &Task> = slots.iter().map(|s| (s.slot.clone(), s.task)).collect();
        for i in 0..u.workers.len() {
            u.advance_worker(i, svc, &by_slot, round);
        }
        let busy = u.workers.iter().any(|w| *w != Worker::Idle);
        if !busy && u.queue.is_empty() {
            let period = if u.config.delay >= u.config.monitor {
                u.config.delay + Duration::from_secs(1)
            } else {
                u.config.monitor
            };
            let until = *u.monitor_until.get_or_insert(now + period);
            if until <= now {
                if let Some(s) = status {
                    round.actions.push(complete(svc, s, now));
                }
                self.updates.remove(&svc.id);
                return;
            }
        }
        let wake = u.next_wake();
        if let Some(at) = wake {
            self.wake_at.set(svc.id.clone(), at);
        }
    }
}

impl Update {
    /// Tasks this update created that ended early; the failure action's store action once
    /// they are too many.
    fn count_failures(
        &mut self,
        svc: &Service,
        store: &Store,
        now: Instant,
        planted: crate::planted::Planted,
    ) -> Option<StoreAction> {
        if self.config.failure_action == FailureAction::Continue {
            return None;
        }
        let mut trigger = None;
        for (id, started) in &self.created {
            if self.failed.contains(id) {
                continue;
            }
            let Some(task) = store.tasks.get(id) else { continue };
            if task.status.state <= TaskState::Running {
                continue;
            }
            let early = started.map(|at| now.saturating_since(at) <= self.config.monitor).unwrap_or(true);
            if !early {
                continue;
            }
            self.failed.insert(id.clone());
            let exceeded = self.config.max_failure_ratio.exceeded_by(self.failed.len() as u64, self.total_slots);
            let ignored = planted.is(crate::planted::PlantedBug::UpdaterIgnoresFailureRatio);
            if exceeded && !ignored && trigger.is_none() {
                trigger = Some(id.clone());
            }
        }
        let task = trigger?;
        let mut status = svc.update_status.clone().unwrap_or(UpdateStatus {
            state: UpdateState::Updating,
            started_at: Some(now),
            completed_at: None,
            message: String::new(),
        });
        let rolling_back = status.state == UpdateState::RollbackStarted;
        match self.config.failure_action {
            FailureAction::Continue => None,
            FailureAction::Rollback if !rolling_back => {
                status.state = UpdateState::RollbackStarted;
                status.message = format!("update rolled back due to failure or early termination of task {task}");
                Some(StoreAction::RollbackServiceSpec { id: svc.id.clone(), status, keep_previous: false, at: now })
            }
            action => {
                let what = if action == FailureAction::Rollback { "rollback" } else { "update" };
                status.state = if rolling_back { UpdateState::RollbackPaused } else { UpdateState::Paused };
                status.message = format!("{what} paused due to failure or early termination of task {task}");
                Some(StoreAction::SetServiceUpdateStatus { id: svc.id.clone(), status })
            }
        }
    }

    /// Moves worker `i` as far as the store allows this round.
    fn advance_worker(&mut self, i: usize, svc: &Service, slots: &BTreeMap<SlotKey, &Task>, round: &mut Round<'_, '_>) {
        let (store, now) = (round.store, round.now);
        // Each pass either changes the worker's state or stops: a slot at most once per state.
        for _ in 0..8 {
            let next = match &self.workers[i] {
                Worker::Idle => {
                    // A task made this round is in the store from the next round on.
                    if let Some(w) = self.take_slot(svc, slots, round) {
                        self.workers[i] = w;
                    }
                    return;
                }
                Worker::WaitingForStop { slot, new, old, give_up_at } => {
                    let Some(task) = store.tasks.get(new) else {
                        // The round that made it was lost: the slot is taken again.
                        self.queue.push_front(slot.clone());
                        self.workers[i] = Worker::Idle;
                        continue;
                    };
                    if task.desired_state != TaskState::Ready {
                        Worker::Starting { slot: slot.clone(), new: new.clone(), old: None }
                    } else if old_task_gone(store, old) || *give_up_at <= now {
                        round
                            .actions
                            .push(StoreAction::SetTaskDesired { id: new.clone(), desired: TaskState::Running });
                        Worker::Starting { slot: slot.clone(), new: new.clone(), old: None }
                    } else {
                        return;
                    }
                }
                Worker::Starting { slot, new, old } => {
                    let Some(task) = store.tasks.get(new) else {
                        self.queue.push_front(slot.clone());
                        if let Some(old) = old {
                            self.keep_running.remove(old);
                        }
                        self.workers[i] = Worker::Idle;
                        continue;
                    };
                    if task.status.state < TaskState::Running && task.desired_state > TaskState::Running {
                        // Shut down before it ran (its node went down, or no longer takes the
                        // global service): it never will, and the slot's next task is the
                        // orchestrator's, of this spec already. The worker moves on.
                        if let Some(old) = old {
                            self.keep_running.remove(old);
                        }
                        self.workers[i] = Worker::Idle;
                        continue;
                    }
                    if task.status.state < TaskState::Running {
                        return;
                    }
                    if let Some(started) = self.created.get_mut(new) {
                        started.get_or_insert(now);
                    }
                    // Start-first: the old task stops once its replacement runs (the orchestrator
                    // shuts a slot's older tasks down once its newest runs); if the replacement
                    // failed instead, the old one keeps running.
                    if let Some(old) = old {
                        if task.status.state == TaskState::Running {
                            self.keep_running.remove(old);
                        }
                    }
                    if self.config.delay.is_zero() {
                        Worker::Idle
                    } else {
                        Worker::Delaying { until: now + self.config.delay }
                    }
                }
                Worker::Delaying { until } => {
                    if *until > now {
                        return;
                    }
                    Worker::Idle
                }
            };
            self.workers[i] = next;
        }
    }

    /// The next slot still out of date, with its replacement made; `None` when none is left.
    fn take_slot(
        &mut self,
        svc: &Service,
        slots: &BTreeMap<SlotKey, &Task>,
        round: &mut Round<'_, '_>,
    ) -> Option<Worker> {
        while let Some(slot) = self.queue.pop_front() {
            // Re-read: a restart may have brought the slot up to date meanwhile.
            let Some(old) = slots.get(&slot).copied().filter(|t| is_dirty(svc, t)) else { continue };
            let start_first = self.config.order == UpdateOrder::StartFirst;
            let stopped_already = old_task_gone(round.store, &old.id);
            let desired = if start_first || stopped_already { TaskState::Running } else { TaskState::Ready };
            let task = match &slot {
                SlotKey::Slot(n) => new_task(svc, *n, None, desired, round.now, round.rng),
                SlotKey::Node(node) => new_task(svc, 0, Some(node.clone()), desired, round.now, round.rng),
            };
            let new = task.id.clone();
            round.actions.push(StoreAction::CreateTask(task));
            self.created.insert(new.clone(), None);
            self.monitor_until = None;
            if start_first {
                self.keep_running.insert(old.id.clone());
                return Some(Worker::Starting { slot, new, old: Some(old.id.clone()) });
            }
            round.actions.push(StoreAction::SetTaskDesired { id: old.id.clone(), desired: TaskState::Shutdown });
            if stopped_already {
                return Some(Worker::Starting { slot, new, old: None });
            }
            return Some(Worker::WaitingForStop {
                slot,
                new,
                old: old.id.clone(),
                give_up_at: round.now + OLD_TASK_TIMEOUT,
            });
        }
        None
    }

    fn next_wake(&self) -> Option<Instant> {
        let workers = self.workers.iter().filter_map(|w| match w {
            Worker::WaitingForStop { give_up_at, .. } => Some(*give_up_at),
            Worker::Delaying { until } => Some(*until),
            Worker::Idle | Worker::Starting { .. } => None,
        });
        workers.chain(self.monitor_until).min()
    }
}

/// Slots whose current task is a replacement of the current spec not running yet, next to an
/// older task of another spec that was stopped for it (not one that died: that is a restart):
/// (slot, replacement, the old task when the replacement still waits at READY for it).
fn in_flight(svc: &Service, slots: &[SlotView<'_>], store: &Store) -> Vec<(SlotKey, TaskId, Option<TaskId>)> {
    let mut found = Vec::new();
    for s in slots {
        let new = s.task;
        if is_dirty(svc, new) || new.status.state >= TaskState::Running || new.desired_state > TaskState::Running {
            continue;
        }
        let old = s
            .slot
            .tasks(&svc.id, store)
            .into_iter()
            .filter(|t| t.id != new.id && is_dirty(svc, t) && t.created_at <= new.created_at)
            .filter(|t| !matches!(t.status.state, TaskState::Failed | TaskState::Rejected | TaskState::Complete))
            .max_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| b.id.cmp(&a.id)));
        if let Some(old) = old {
            let waiting = (new.desired_state == TaskState::Ready).then(|| old.id.clone());
            found.push((s.slot.clone(), new.id.clone(), waiting));
        }
    }
    found
}

/// The old task stopped, or never will be seen to (gone, or its node is Down).
fn old_task_gone(store: &Store, id: &TaskId) -> bool {
    let Some(t) = store.tasks.get(id) else { return true };
    if t.status.state.is_terminal() {
        return true;
    }
    match &t.node_id {
        None => t.status.state < TaskState::Assigned,
        Some(n) => store.nodes.get(n).map(|n| n.status.state == NodeState::Down).unwrap_or(true),
    }
}

/// swarmkit's completeUpdate: `update completed` or `rollback completed`.
fn complete(svc: &Service, status: &UpdateStatus, now: Instant) -> StoreAction {
    let mut status = status.clone();
    if status.state == UpdateState::RollbackStarted {
        status.state = UpdateState::RollbackCompleted;
        status.message = "rollback completed".into();
    } else {
        status.state = UpdateState::Completed;
        status.message = "update completed".into();
    }
    status.completed_at = Some(now);
    StoreAction::SetServiceUpdateStatus { id: svc.id.clone(), status }
}
