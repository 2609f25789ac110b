//! The orchestrators (replicated and global), the restart supervisor and the task reaper.
//!
//! Each round compares what the services ask for with the tasks in the store and returns the
//! actions that close the gap: new tasks for missing slots, desired SHUTDOWN (20.10: REMOVE) for extra ones,
//! a replacement (after the restart delay) for a task that died or whose node went Down or was
//! drained, and deletion of task history beyond the cluster's retention limit. Tasks of an
//! older spec are the updater's (`updater.rs`), which both orchestrators run for each service
//! they look at (a global service's slots are its nodes).

use crate::api::*;
use crate::deadlines::Deadlines;
use crate::docker_version::DockerVersion;
use crate::ids::{NodeId, ServiceId, TaskId};
use crate::manager::round::Round;
use crate::manager::scheduler::constraint_matches;
use crate::manager::updater::{SlotKey, SlotView, Updater};
use crate::store::{Store, StoreAction, Touched};
use crate::time::Instant;
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

pub const DEFAULT_TASK_HISTORY_LIMIT: usize = 5;

#[derive(Default)]
pub struct Orchestrator {
    /// Replacement tasks waiting out their restart delay (desired READY until then).
    /// Leader-local, as in swarmkit: a new leader restarts the delay from its own start.
    restart_at: Deadlines<TaskId>,
    /// Restarts per slot, for `--restart-max-attempts` within `--restart-window`: kept only for
    /// a policy with a limit, at most that many per slot, and dropped with the service.
    restarts: BTreeMap<(ServiceId, u64, Option<NodeId>), Vec<Instant>>,
    /// Services to look at as a whole in the next round (spec changed, a global service's task
    /// or node changed, no longer steady). A round looks only at these and at `dirty_slots`
    /// (swarmkit's orchestrators react to store events the same way), so its cost follows what
    /// changed, not the size of the cluster.
    dirty_services: BTreeSet<ServiceId>,
    /// Slots of replicated services whose tasks (or their nodes) changed.
    dirty_slots: BTreeMap<ServiceId, BTreeSet<u64>>,
    /// Replicated services a full look found steady (as many slots held as replicas, no
    /// rolling update under way), with their held slots: while steady, a change to some slots
    /// is reconciled by looking at those slots only.
    steady: BTreeMap<ServiceId, BTreeSet<u64>>,
    /// Every service must be looked at: a new leader, or a cluster setting changed.
    all_dirty: bool,
    /// Rolling updates and rollbacks (replicated and global services).
    updater: Updater,
    pub planted: crate::planted::Planted,
    /// Whose swarmkit's rules: how a scale-down retires a task.
    pub docker_version: DockerVersion,
}

/// Why a live task is being replaced.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum RestartReason {
    /// The task's observed state is past RUNNING.
    Died,
    /// Its node is Down or gone.
    NodeDown,
    /// Its node is drained: replace at once, no restart delay.
    NodeDrained,
}

impl Orchestrator {
    pub fn new() -> Orchestrator {
        Orchestrator { all_dirty: true, ..Default::default() }
    }

    /// The desired state of a task a scale-down retires. docker 1.12 shut it down and kept it
    /// in the slot's history (the tutorial's `Shutdown  Shutdown …` row). Since swarmkit#2461
    /// (docker 17.12) it is REMOVE, and the reaper deletes the task once it has stopped: real
    /// 20.10 lists it as `Remove` while it stops, then no more
    /// (conformance/reference/docker-20.10, 21-service-ps-1s and -16s).
    fn scaled_down_state(&self) -> TaskState {
        match self.docker_version {
            DockerVersion::V1_12 => TaskState::Shutdown,
            DockerVersion::V20_10 => TaskState::Remove,
        }
    }

    /// Changes are waiting for a round (the manager keeps rounds coming until none are).
    pub fn has_pending_work(&self) -> bool {
        self.all_dirty || !self.dirty_services.is_empty() || !self.dirty_slots.is_empty()
    }

    /// The next round looks at every service (its last proposal may have been lost).
    pub fn look_at_everything(&mut self) {
        self.all_dirty = true;
    }

    /// What the last applied entries changed: the services to look at in the next round.
    /// A reconcile depends only on the service, its tasks, their nodes and the restart delays
    /// (which have deadlines of their own), so a service none of these touched has nothing to do.
    pub fn note_applied(&mut self, store: &Store, touched: &Touched) {
        if touched.cluster {
            self.all_dirty = true;
        }
        if self.all_dirty {
            return;
        }
        self.dirty_services.extend(touched.service_records.iter().cloned());
        for id in &touched.tasks {
            let task = store.tasks.get(id);
            // A delayed start is kept only while its task waits at desired READY.
            if task.map(|t| t.desired_state != TaskState::Ready).unwrap_or(true) {
                self.restart_at.clear(id);
            }
            if let Some(t) = task {
                self.note_task(t);
            }
        }
        if !touched.node_records.is_empty() {
            for node in &touched.node_records {
                for t in store.tasks_on_node(node) {
                    self.note_task(t);
                }
            }
            // A global service runs on every eligible node: any node change may concern it.
            for svc in store.services.values().filter(|s| s.spec.mode == ServiceMode::Global) {
                self.dirty_services.insert(svc.id.clone());
            }
        }
    }

    /// The next restart delay to run out: the node sets a timer for it.
    pub fn next_deadline(&self) -> Option<Instant> {
        [self.restart_at.first(), self.updater.next_deadline()].into_iter().flatten().min()
    }

    /// A task changed: its slot (or global service) is looked at in the next round. A job's
    /// task only when swarmkit's job orchestrator would wake for it (`jobs::wakes_for`).
    fn note_task(&mut self, t: &Task) {
        if t.job_iteration.is_some() && !super::jobs::wakes_for(t) {
            return;
        }
        self.note_slot(t);
    }

    fn note_slot(&mut self, t: &Task) {
        if t.slot == 0 {
            self.dirty_services.insert(t.service_id.clone());
        } else {
            self.dirty_slots.entry(t.service_id.clone()).or_default().insert(t.slot);
        }
    }

    pub fn reconcile(&mut self, round: &mut Round<'_, '_>) {
        let (store, now) = (round.store, round.now);
        // Restart delays run out: their slots (or global services) are due too. A delay whose
        // task is gone or no longer waiting (its proposal was lost) is dropped.
        let due: Vec<TaskId> = self.restart_at.due(now).cloned().collect();
        for id in due {
            match store.tasks.get(&id).filter(|t| t.desired_state == TaskState::Ready) {
                Some(t) => self.note_slot(t),
                None => {
                    self.restart_at.clear(&id);
                }
            }
        }
        // An update's delay, stop wait or monitor period ran out: its service is looked at.
        self.updater.planted = self.planted;
        for id in self.updater.due(now) {
            self.dirty_services.insert(id);
        }
        let dirty = std::mem::take(&mut self.dirty_services);
        let mut dirty_slots = std::mem::take(&mut self.dirty_slots);
        let all = std::mem::take(&mut self.all_dirty);
        // In the store's order, as a full scan would visit them: the same actions, the same
        // random draws, whichever way the round was triggered.
        let services: Vec<&Service> = if all {
            store.services.values().collect()
        } else {
            let ids: BTreeSet<&ServiceId> = dirty.iter().chain(dirty_slots.keys()).collect();
            ids.into_iter().filter_map(|id| store.services.get(id)).collect()
        };
        let mut looked_at: Vec<(&Service, Option<BTreeSet<u64>>)> = Vec::with_capacity(services.len());
        for svc in services {
            let slots = dirty_slots.remove(&svc.id).unwrap_or_default();
            match svc.spec.mode {
                ServiceMode::Replicated { replicas }
                    if !all && !dirty.contains(&svc.id) && self.steady.contains_key(&svc.id) =>
                {
                    self.reconcile_slots(svc, replicas, &slots, round);
                    looked_at.push((svc, Some(slots)));
                }
                ServiceMode::Replicated { replicas } => {
                    self.reconcile_replicated(svc, replicas, round);
                    self.release_delayed_starts(svc, store.tasks_of_service(&svc.id), round);
                    looked_at.push((svc, None));
                }
                ServiceMode::Global => {
                    self.reconcile_global(svc, round);
                    self.release_delayed_starts(svc, store.tasks_of_service(&svc.id), round);
                    looked_at.push((svc, None));
                }
                ServiceMode::ReplicatedJob { max_concurrent, total_completions } => {
                    super::jobs::reconcile_replicated(self, svc, max_concurrent, total_completions, round);
                    self.release_delayed_starts(svc, store.tasks_of_service(&svc.id), round);
                    looked_at.push((svc, None));
                }
                ServiceMode::GlobalJob => {
                    super::jobs::reconcile_global(self, svc, round);
                    self.release_delayed_starts(svc, store.tasks_of_service(&svc.id), round);
                    looked_at.push((svc, None));
                }
            }
        }
        self.steady.retain(|id, _| store.services.contains_key(id));
        self.updater.retain_services(store);
        self.restarts.retain(|(service, _, _), _| store.services.contains_key(service));
        remove_tasks_of_deleted_services(store, round.actions);
        reap(store, &looked_at, round.actions);
    }

    /// A steady service with changes in some slots: those slots only, as the full look would
    /// treat them (the other slots have nothing to do). If the service is no longer steady
    /// (a slot emptied), the next round takes a full look.
    fn reconcile_slots(&mut self, svc: &Service, replicas: u64, slots: &BTreeSet<u64>, round: &mut Round<'_, '_>) {
        let store = round.store;
        let mut waiting: Vec<&Task> = Vec::new();
        for slot in slots {
            let tasks: Vec<&Task> = store.tasks_in_slot(&svc.id, *slot).collect();
            waiting.extend(tasks.iter().copied().filter(|t| t.desired_state == TaskState::Ready));
            let held = self.reconcile_slot(svc, *slot, &tasks, round).is_some();
            let steady = self.steady.get_mut(&svc.id).expect("only steady services are reconciled by slot");
            if held {
                steady.insert(*slot);
            } else {
                steady.remove(slot);
            }
        }
        if self.steady.get(&svc.id).map(|s| s.len() as u64) != Some(replicas) {
            self.steady.remove(&svc.id);
            self.dirty_services.insert(svc.id.clone());
        }
        waiting.sort_by(|a, b| a.id.cmp(&b.id));
        self.release_delayed_starts(svc, waiting.into_iter(), round);
    }

    /// One slot of a replicated service: extra live tasks stop, a dead or stranded task is
    /// replaced (restart policy permitting). Returns who holds the slot, if anyone.
    fn reconcile_slot<'s>(
        &mut self,
        svc: &Service,
        slot: u64,
        tasks: &[&'s Task],
        round: &mut Round<'_, '_>,
    ) -> Option<SlotHolder<'s>> {
        let (store, now) = (round.store, round.now);
        let mut live: Vec<&Task> = tasks.iter().copied().filter(|t| t.desired_state <= TaskState::Running).collect();
        live.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        // A start-first update keeps the old task running until its replacement runs (once a
        // task of the slot runs, the old one goes, whatever became of the update).
        let newest_runs = live.first().map(|t| t.status.state == TaskState::Running).unwrap_or(false);
        for extra in live.iter().skip(1).filter(|t| newest_runs || !self.updater.holds(&svc.id, &t.id)) {
            round.actions.push(StoreAction::SetTaskDesired { id: extra.id.clone(), desired: TaskState::Shutdown });
        }
        let Some(current) = live.first().copied() else {
            // No task should run in this slot. If its newest task died by itself and the
            // restart policy let it stay dead (condition none/on-failure, max attempts),
            // the slot still counts toward the replicas: it must not come back as new.
            let newest =
                tasks.iter().copied().max_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| b.id.cmp(&a.id)))?;
            return matches!(newest.status.state, TaskState::Failed | TaskState::Complete | TaskState::Rejected)
                .then_some(SlotHolder::Dead(newest));
        };
        debug_assert_eq!(current.slot, slot);
        match restart_reason(store, current) {
            None => Some(SlotHolder::Task(current)),
            Some(reason) => {
                round
                    .actions
                    .push(StoreAction::SetTaskDesired { id: current.id.clone(), desired: TaskState::Shutdown });
                if self.may_restart(svc, current, reason, now) {
                    let replacement = self.replacement(svc, current, reason, None, round);
                    round.actions.push(StoreAction::CreateTask(replacement.clone()));
                    Some(SlotHolder::New(Box::new(replacement)))
                } else if reason == RestartReason::Died {
                    Some(SlotHolder::Dead(current))
                } else {
                    None
                }
            }
        }
    }

    fn reconcile_replicated(&mut self, svc: &Service, replicas: u64, round: &mut Round<'_, '_>) {
        let (store, now) = (round.store, round.now);
        let mut slots: BTreeMap<u64, Vec<&Task>> = BTreeMap::new();
        for t in store.tasks_of_service(&svc.id) {
            slots.entry(t.slot).or_default().push(t);
        }
        // Slots holding a task that should run (after replacements made this round).
        let mut occupied: BTreeMap<u64, SlotHolder> = BTreeMap::new();
        for (slot, tasks) in &slots {
            if let Some(holder) = self.reconcile_slot(svc, *slot, tasks, round) {
                occupied.insert(*slot, holder);
            }
        }
        let occupied_count = occupied.len() as u64;
        // Steady: every replica's slot held and no task of an older spec left to update.
        let steady = match occupied_count.cmp(&replicas) {
            std::cmp::Ordering::Less => true, // once the tasks created below are in
            std::cmp::Ordering::Equal => {
                !occupied.values().any(|h| matches!(h, SlotHolder::Task(t) if is_dirty(svc, t)))
            }
            std::cmp::Ordering::Greater => false, // the next full look, after the scale-down
        };
        let mut retired: BTreeSet<TaskId> = BTreeSet::new();
        if occupied_count < replicas {
            let mut slot = 1u64;
            for _ in 0..(replicas - occupied_count) {
                while occupied.contains_key(&slot) {
                    slot += 1;
                }
                let task = new_task(svc, slot, None, TaskState::Running, now, round.rng);
                occupied.insert(slot, SlotHolder::New(Box::new(task.clone())));
                round.actions.push(StoreAction::CreateTask(task));
            }
        } else if occupied_count > replicas {
            // Dead slots go first: dropping them stops nothing.
            let mut excess = (occupied_count - replicas) as usize;
            let dead: Vec<u64> =
                occupied.iter().filter(|(_, h)| matches!(h, SlotHolder::Dead(_))).map(|(s, _)| *s).collect();
            for slot in dead.into_iter().rev().take(excess) {
                occupied.remove(&slot);
                excess -= 1;
            }
            if self.planted.is(crate::planted::PlantedBug::OrchestratorForgetsSlotOnScaleDown) {
                excess = excess.saturating_sub(1);
            }
            for id in scale_down_victims(store, &occupied, excess) {
                retired.insert(id.clone());
                round.actions.push(StoreAction::SetTaskDesired { id, desired: self.scaled_down_state() });
            }
        }
        // The updater rolls the slots that stay (scale-down victims excluded) to the spec.
        let staying: Vec<SlotView> = occupied
            .iter()
            .filter_map(|(slot, h)| match h {
                SlotHolder::Task(t) if !retired.contains(&t.id) => {
                    Some(SlotView { slot: SlotKey::Slot(*slot), task: t })
                }
                _ => None,
            })
            .collect();
        self.updater.run(svc, &staying, round);
        let steady = steady && !self.updater.is_active(&svc.id);
        if steady {
            self.steady.insert(svc.id.clone(), occupied.keys().copied().collect());
        } else {
            self.steady.remove(&svc.id);
        }
    }

    fn reconcile_global(&mut self, svc: &Service, round: &mut Round<'_, '_>) {
        let (store, now) = (round.store, round.now);
        let mut by_node: BTreeMap<NodeId, Vec<&Task>> = BTreeMap::new();
        for t in store.tasks_of_service(&svc.id) {
            if let Some(n) = &t.node_id {
                by_node.entry(n.clone()).or_default().push(t);
            }
        }
        // Each eligible node's current task, fine and running or on its way: the updater's slots.
        let mut staying: Vec<SlotView> = Vec::new();
        for node in store.nodes.values() {
            let eligible = runs_global_task_on(svc, node);
            let live: Vec<&Task> = by_node
                .get(&node.id)
                .map(|ts| ts.iter().copied().filter(|t| t.desired_state <= TaskState::Running).collect())
                .unwrap_or_default();
            if !eligible {
                for t in live {
                    round.actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: TaskState::Shutdown });
                }
                continue;
            }
            let current =
                live.iter().copied().max_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| b.id.cmp(&a.id)));
            // A start-first update keeps the old task running until its replacement runs (once
            // the node's newest task runs, the older ones go), as for a replicated slot.
            if let Some(newest) = current {
                let newest_runs = newest.status.state == TaskState::Running;
                for extra in live.iter().filter(|t| t.id != newest.id) {
                    if newest_runs || !self.updater.holds(&svc.id, &extra.id) {
                        round
                            .actions
                            .push(StoreAction::SetTaskDesired { id: extra.id.clone(), desired: TaskState::Shutdown });
                    }
                }
            }
            match current {
                None => {
                    // If the node's newest task died by itself, its restart policy chose not to
                    // replace it (a replacement would be live): the node is done, as swarmkit's
                    // global orchestrator counts it (isTaskCompleted).
                    let newest = by_node.get(&node.id).and_then(|ts| {
                        ts.iter().max_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| b.id.cmp(&a.id)))
                    });
                    let completed = newest
                        .map(|t| {
                            matches!(t.status.state, TaskState::Failed | TaskState::Complete | TaskState::Rejected)
                        })
                        .unwrap_or(false);
                    if !completed {
                        round.actions.push(StoreAction::CreateTask(new_task(
                            svc,
                            0,
                            Some(node.id.clone()),
                            TaskState::Running,
                            now,
                            round.rng,
                        )));
                    }
                }
                Some(t) if t.status.state.is_terminal() => {
                    round.actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: TaskState::Shutdown });
                    if self.may_restart(svc, t, RestartReason::Died, now) {
                        let replacement = self.replacement(svc, t, RestartReason::Died, Some(node.id.clone()), round);
                        round.actions.push(StoreAction::CreateTask(replacement));
                    }
                }
                Some(t) => staying.push(SlotView { slot: SlotKey::Node(node.id.clone()), task: t }),
            }
        }
        // Tasks on nodes that left the store.
        for (node_id, tasks) in &by_node {
            if !store.nodes.contains_key(node_id) {
                for t in tasks.iter().filter(|t| t.desired_state <= TaskState::Running) {
                    round.actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: TaskState::Shutdown });
                }
            }
        }
        // The updater rolls the nodes' tasks to the spec, one slot per node.
        self.updater.run(svc, &staying, round);
    }

    pub(super) fn may_restart(&mut self, svc: &Service, task: &Task, reason: RestartReason, now: Instant) -> bool {
        let policy = &svc.spec.task.restart_policy;
        let completed = reason == RestartReason::Died && task.status.state == TaskState::Complete;
        let allowed = match policy.condition {
            RestartCondition::None => reason != RestartReason::Died,
            RestartCondition::OnFailure => !completed,
            // A job's task that completed is done, whatever the condition (swarmkit's
            // restart supervisor treats `any` as `on-failure` for jobs).
            RestartCondition::Any => !(completed && svc.spec.mode.is_job()),
        };
        if !allowed {
            return false;
        }
        if policy.max_attempts == 0 || reason != RestartReason::Died {
            return true;
        }
        let history = self.restarts.entry(restart_key(svc, task)).or_default();
        let window_ignored = self.planted.is(crate::planted::PlantedBug::RestartWindowIgnored);
        if !policy.window.is_zero() && !window_ignored {
            history.retain(|t| now.saturating_since(*t) <= policy.window);
        }
        history.len() < policy.max_attempts as usize
    }

    pub(super) fn replacement(
        &mut self,
        svc: &Service,
        old: &Task,
        reason: RestartReason,
        node: Option<NodeId>,
        round: &mut Round<'_, '_>,
    ) -> Task {
        let now = round.now;
        let delay = svc.spec.task.restart_policy.delay;
        let delayed = reason != RestartReason::NodeDrained && !delay.is_zero();
        let desired = if delayed { TaskState::Ready } else { run_state(svc) };
        let task = new_task(svc, old.slot, node, desired, now, round.rng);
        if delayed {
            self.restart_at.set(task.id.clone(), now + delay);
        }
        // As swarmkit's RecordRestartHistory: only a policy with a limit needs the history, and
        // only its last `max_attempts` restarts can decide (within the window or not), so the
        // history per slot stays bounded however long a task crash-loops.
        let max_attempts = svc.spec.task.restart_policy.max_attempts as usize;
        if reason == RestartReason::Died && max_attempts > 0 {
            let history = self.restarts.entry(restart_key(svc, old)).or_default();
            history.push(now);
            if history.len() > max_attempts {
                history.drain(..history.len() - max_attempts);
            }
        }
        task
    }

    /// Replacement tasks held at READY start once their restart delay has run out.
    fn release_delayed_starts<'s>(
        &mut self,
        svc: &Service,
        tasks: impl Iterator<Item = &'s Task>,
        round: &mut Round<'_, '_>,
    ) {
        let now = round.now;
        let held = |t: &Task| self.updater.holds(&svc.id, &t.id);
        let waiting: Vec<&Task> = tasks.filter(|t| t.desired_state == TaskState::Ready && !held(t)).collect();
        for t in waiting {
            let due = match self.restart_at.get(&t.id) {
                Some(at) => at,
                None => {
                    // A delay this leader did not start (it took over meanwhile): from now.
                    let at = now + svc.spec.task.restart_policy.delay;
                    self.restart_at.set(t.id.clone(), at);
                    at
                }
            };
            if due <= now {
                round.actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: run_state(svc) });
                self.restart_at.clear(&t.id);
            }
        }
    }
}

/// Who holds a slot this round: borrowed from the store, except what the round creates.
enum SlotHolder<'s> {
    /// A task that should run and is fine.
    Task(&'s Task),
    /// A task created this round (a replacement or a new slot).
    New(Box<Task>),
    /// The slot's newest task died and its restart policy keeps it dead.
    Dead(&'s Task),
}

impl SlotHolder<'_> {
    fn task(&self) -> &Task {
        match self {
            SlotHolder::Task(t) | SlotHolder::Dead(t) => t,
            SlotHolder::New(t) => t,
        }
    }
}

fn restart_reason(store: &Store, task: &Task) -> Option<RestartReason> {
    if task.status.state.is_terminal() {
        return Some(RestartReason::Died);
    }
    let node_id = task.node_id.as_ref()?;
    match store.nodes.get(node_id) {
        None => Some(RestartReason::NodeDown),
        Some(n) if n.status.state == NodeState::Down => Some(RestartReason::NodeDown),
        Some(n) if n.spec.availability == Availability::Drain => Some(RestartReason::NodeDrained),
        Some(_) => None,
    }
}

/// Scale-down picks tasks on the nodes holding the most of the service first; among equals,
/// tasks not yet running first, then the highest slot.
fn scale_down_victims(store: &Store, occupied: &BTreeMap<u64, SlotHolder>, count: usize) -> Vec<TaskId> {
    let mut per_node: BTreeMap<Option<NodeId>, usize> = BTreeMap::new();
    for h in occupied.values() {
        *per_node.entry(h.task().node_id.clone()).or_default() += 1;
    }
    let mut candidates: Vec<&Task> = occupied.values().map(|h| h.task()).collect();
    let _ = store;
    let mut victims = Vec::new();
    for _ in 0..count {
        candidates.sort_by(|a, b| {
            let na = per_node[&a.node_id];
            let nb = per_node[&b.node_id];
            nb.cmp(&na)
                .then_with(|| (a.status.state == TaskState::Running).cmp(&(b.status.state == TaskState::Running)))
                .then_with(|| b.slot.cmp(&a.slot))
        });
        let victim = candidates.remove(0);
        *per_node.get_mut(&victim.node_id).expect("counted above") -= 1;
        victims.push(victim.id.clone());
    }
    victims
}

/// Whose restarts a task's count among: its slot's, or a global service's (or job's) node's.
/// A replicated job counts slots from 0, so slot 0 is no node's there.
fn restart_key(svc: &Service, task: &Task) -> (ServiceId, u64, Option<NodeId>) {
    let node = if task.slot == 0 && svc.spec.mode.is_global() { task.node_id.clone() } else { None };
    (svc.id.clone(), task.slot, node)
}

/// The desired state of a task meant to run: RUNNING, or for a job's task COMPLETE (it runs
/// until it exits).
fn run_state(svc: &Service) -> TaskState {
    if svc.spec.mode.is_job() {
        TaskState::Complete
    } else {
        TaskState::Running
    }
}

/// Whether a global service should run a task on `node`: the node takes new tasks and the
/// service's constraints match it.
pub fn runs_global_task_on(svc: &Service, node: &Node) -> bool {
    node.is_schedulable() && svc.spec.task.constraints.iter().all(|c| constraint_matches(c, node))
}

/// How many tasks of the service should be running once the cluster settles: its replicas,
/// or for a global service one per node it runs on.
///
/// A job once finished runs nothing (see `jobs::is_finished` for whether it has).
pub fn desired_running(store: &Store, svc: &Service) -> u64 {
    match svc.spec.mode {
        ServiceMode::Replicated { replicas } => replicas,
        ServiceMode::Global => store.nodes.values().filter(|n| runs_global_task_on(svc, n)).count() as u64,
        ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob => 0,
    }
}

pub fn new_task(
    svc: &Service,
    slot: u64,
    node: Option<NodeId>,
    desired: TaskState,
    now: Instant,
    rng: &mut ChaCha8Rng,
) -> Task {
    Task {
        id: TaskId::generate(rng),
        service_id: svc.id.clone(),
        service_name: svc.spec.name.clone(),
        slot,
        node_id: node,
        spec: svc.spec.task.clone(),
        spec_version: svc.spec_version,
        host_ports: Vec::new(),
        desired_state: desired,
        status: TaskStatus::new(TaskState::New, now, "created"),
        networks: Vec::new(),
        created_at: now,
        job_iteration: svc.job_status.as_ref().map(|j| j.iteration),
    }
}

fn remove_tasks_of_deleted_services(store: &Store, actions: &mut Vec<StoreAction>) {
    let gone: BTreeSet<&ServiceId> = store.services_with_tasks().filter(|s| !store.services.contains_key(*s)).collect();
    for svc in gone {
        for t in store.tasks_of_service(svc) {
            if t.desired_state < TaskState::Remove {
                actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: TaskState::Remove });
            }
        }
    }
}

/// The reaper: deletes tasks marked REMOVE once they are dead (or never reached a node, or
/// their node is gone), and per slot keeps only the newest `task_history_limit` tasks.
///
/// Tasks of deleted services are marked REMOVE, and under 20.10 those a scale-down retired:
/// the first are looked at here, the second with the history of the services of this round.
fn reap(store: &Store, services: &[(&Service, Option<BTreeSet<u64>>)], actions: &mut Vec<StoreAction>) {
    let limit = store.cluster.as_ref().map(|c| c.task_history_limit).unwrap_or(DEFAULT_TASK_HISTORY_LIMIT).max(1);
    let node_gone = |t: &Task| match &t.node_id {
        None => true,
        Some(n) => store.nodes.get(n).map(|n| n.status.state == NodeState::Down).unwrap_or(true),
    };
    let mut removable: Vec<&Task> = store
        .services_with_tasks()
        .filter(|s| !store.services.contains_key(*s))
        .flat_map(|s| store.tasks_of_service(s))
        .filter(|t| {
            t.desired_state >= TaskState::Remove
                && (t.status.state.is_terminal() || t.status.state < TaskState::Assigned || node_gone(t))
        })
        .collect();
    // In task-ID order, as the full scan of the store's tasks emitted them.
    removable.sort_by(|a, b| a.id.cmp(&b.id));
    for t in removable {
        debug_assert!(t.desired_state >= TaskState::Remove);
        actions.push(StoreAction::RemoveTask { id: t.id.clone() });
    }
    for (svc, only_slots) in services {
        let mut slots: BTreeMap<(u64, Option<NodeId>), Vec<&Task>> = BTreeMap::new();
        let tasks: Box<dyn Iterator<Item = &Task>> = match only_slots {
            Some(only) => Box::new(only.iter().flat_map(|slot| store.tasks_in_slot(&svc.id, *slot))),
            None => Box::new(store.tasks_of_service(&svc.id)),
        };
        for t in tasks {
            let key = if t.slot == 0 { (0, t.node_id.clone()) } else { (t.slot, None) };
            slots.entry(key).or_default().push(t);
        }
        for tasks in slots.values_mut() {
            // Tasks a scale-down marked REMOVE (20.10, see `scaled_down_state`) go once they
            // have stopped, whatever the history limit.
            tasks.retain(|t| {
                let removable = t.desired_state >= TaskState::Remove
                    && (t.status.state.is_terminal() || t.status.state < TaskState::Assigned || node_gone(t));
                if removable {
                    actions.push(StoreAction::RemoveTask { id: t.id.clone() });
                }
                !removable
            });
            if tasks.len() <= limit {
                continue;
            }
            tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
            for old in tasks.iter().skip(limit) {
                if old.desired_state > TaskState::Running && (old.status.state.is_terminal() || node_gone(old)) {
                    actions.push(StoreAction::RemoveTask { id: old.id.clone() });
                }
            }
        }
    }
}

/// Whether `task` must be replaced to follow its service's spec (see `placement::task_is_dirty`).
pub(super) fn is_dirty(svc: &Service, task: &Task) -> bool {
    crate::api::placement::task_is_dirty(&svc.spec.task, &task.spec, task.node_id.is_some())
}

#[cfg(test)]
#[path = "orchestrator_tests.rs"]
mod tests;
