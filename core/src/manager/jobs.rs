//! The job orchestrators: `--mode replicated-job` and `--mode global-job`, as swarmkit's
//! `manager/orchestrator/jobs/{replicated,global}` reconcile them.
//!
//! A job's tasks are desired COMPLETE: they run until they exit. Each belongs to an iteration
//! of the job (`Task::job_iteration`, the service's `JobStatus`); every update of the job
//! starts a new iteration, and the tasks of older ones that still run are removed.
//!
//! - Replicated: at most `max_concurrent` tasks run at once, until `total_completions` exited 0.
//!   Slots are counted from 0, as swarmkit does (docker's CLI then names the slot-0 task after
//!   its node, `job.<node id>`).
//! - Global: one task on every node that takes new tasks and matches the constraints.
//!
//! A task that ended any other way than COMPLETE goes to the restart supervisor (the
//! orchestrator's `may_restart`/`replacement`): a job's COMPLETE task is never restarted,
//! whatever the condition. Unlike the services' orchestrators, swarmkit's job orchestrator
//! wakes for a service change and for a task of the job that ended while still desired
//! COMPLETE, nothing else (`wakes_for`): a node going Down or drained does not move a
//! replicated job's task, and a node joining later gets no task of a global job until its
//! next iteration (or a new leader's first look).
//!
//! Driven by `Orchestrator::reconcile`, which hands the job services it looks at here; the
//! reaper and the restart delays are the orchestrator's, as for services.

use super::orchestrator::{new_task, runs_global_task_on, Orchestrator, RestartReason};
use crate::api::*;
use crate::ids::NodeId;
use crate::manager::round::Round;
use crate::store::{Store, StoreAction};
use std::collections::{BTreeMap, BTreeSet};

/// The job's iteration its tasks must belong to (0 for a job made before `JobStatus`).
fn iteration(svc: &Service) -> u64 {
    svc.job_status.as_ref().map(|j| j.iteration).unwrap_or(0)
}

/// Whether a change to this job task is one swarmkit's job orchestrator reacts to: the task
/// ended (past RUNNING) while still desired COMPLETE.
pub(super) fn wakes_for(task: &Task) -> bool {
    task.status.state > TaskState::Running && task.desired_state <= TaskState::Complete
}

/// swarmkit's `replicated.Reconciler.ReconcileService`.
pub(super) fn reconcile_replicated(
    orch: &mut Orchestrator,
    svc: &Service,
    max_concurrent: u64,
    total_completions: u64,
    round: &mut Round<'_, '_>,
) {
    let (store, now) = (round.store, round.now);
    let current = iteration(svc);
    let mut running = 0u64;
    let mut completed = 0u64;
    let mut slots: BTreeSet<u64> = BTreeSet::new();
    let mut restart: Vec<&Task> = Vec::new();
    let mut remove: Vec<&Task> = Vec::new();
    for t in store.tasks_of_service(&svc.id) {
        let Some(it) = t.job_iteration else { continue };
        if it == current {
            if t.status.state == TaskState::Complete {
                completed += 1;
                slots.insert(t.slot);
            } else if t.desired_state <= TaskState::Complete {
                // Running, on its way, or ended and not yet handed to the restart supervisor.
                running += 1;
                slots.insert(t.slot);
                if t.status.state > TaskState::Complete {
                    restart.push(t);
                }
            }
        } else if t.status.state <= TaskState::Running && t.desired_state != TaskState::Remove {
            remove.push(t);
        }
    }
    let possible = max_concurrent.saturating_sub(running);
    let allowed = total_completions.saturating_sub(completed).saturating_sub(running);
    for _ in 0..possible.min(allowed) {
        let slot = (0..).find(|s| !slots.contains(s)).expect("a free slot below the total");
        debug_assert!(slot < total_completions, "slot {slot} of a job of {total_completions}");
        slots.insert(slot);
        round.actions.push(StoreAction::CreateTask(new_task(svc, slot, None, TaskState::Complete, now, round.rng)));
    }
    for t in restart {
        restart_task(orch, svc, t, None, round);
    }
    for t in remove {
        round.actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: TaskState::Remove });
    }
}

/// swarmkit's `global.Reconciler.ReconcileService`.
pub(super) fn reconcile_global(orch: &mut Orchestrator, svc: &Service, round: &mut Round<'_, '_>) {
    let (store, now) = (round.store, round.now);
    let current = iteration(svc);
    // Nodes a new task may go to; invalid nodes (Down, drained) lose their unfinished task.
    let mut candidates: Vec<&Node> = Vec::new();
    let mut invalid: BTreeSet<&NodeId> = BTreeSet::new();
    for node in store.nodes.values() {
        if !svc.spec.task.constraints.iter().all(|c| super::scheduler::constraint_matches(c, node)) {
            continue;
        }
        if node.status.state == NodeState::Down || node.spec.availability == Availability::Drain {
            invalid.insert(&node.id);
        } else if runs_global_task_on(svc, node) {
            candidates.push(node);
        }
    }
    let mut node_task: BTreeMap<&NodeId, &Task> = BTreeMap::new();
    let mut restart: Vec<&Task> = Vec::new();
    let mut remove: Vec<&Task> = Vec::new();
    for t in store.tasks_of_service(&svc.id) {
        let Some(it) = t.job_iteration else { continue };
        if it == current && t.desired_state <= TaskState::Complete {
            if t.status.state > TaskState::Complete {
                restart.push(t);
            }
            if let Some(node) = &t.node_id {
                node_task.insert(node, t);
            }
        }
        if it != current && t.desired_state != TaskState::Remove {
            remove.push(t);
        }
    }
    for node in candidates {
        if !node_task.contains_key(&node.id) {
            let task = new_task(svc, 0, Some(node.id.clone()), TaskState::Complete, now, round.rng);
            round.actions.push(StoreAction::CreateTask(task));
        }
    }
    let restarted: BTreeSet<_> = restart.iter().map(|t| t.id.clone()).collect();
    for t in restart {
        restart_task(orch, svc, t, t.node_id.clone(), round);
    }
    for t in remove {
        round.actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: TaskState::Remove });
    }
    for node in invalid {
        let Some(t) = node_task.get(node) else { continue };
        if !restarted.contains(&t.id) && t.status.state <= TaskState::Running {
            round.actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: TaskState::Shutdown });
        }
    }
}

/// The restart supervisor on a job's task that ended other than COMPLETE: it is shut down,
/// and replaced in its slot (or on its node) if the restart policy allows.
fn restart_task(orch: &mut Orchestrator, svc: &Service, t: &Task, node: Option<NodeId>, round: &mut Round<'_, '_>) {
    debug_assert!(t.status.state > TaskState::Complete && t.desired_state <= TaskState::Complete);
    round.actions.push(StoreAction::SetTaskDesired { id: t.id.clone(), desired: TaskState::Shutdown });
    if orch.may_restart(svc, t, RestartReason::Died, round.now) {
        let replacement = orch.replacement(svc, t, RestartReason::Died, node, round);
        debug_assert_eq!(replacement.job_iteration, t.job_iteration);
        round.actions.push(StoreAction::CreateTask(replacement));
    }
}

/// Where a job's current iteration stands, as swarmkit's `ServiceStatus` counts it for
/// `service ls`: `running/desired (completed/total completed)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobProgress {
    /// Tasks of the iteration that run (on nodes not Down, as the services' count).
    pub running: u64,
    /// Replicated: `max_concurrent`. Global: the iteration's tasks desired COMPLETE that are
    /// not complete yet.
    pub desired: u64,
    pub completed: u64,
    /// Replicated: `total_completions`. Global: `desired + completed`, as docker's CLI adds.
    pub total: u64,
}

/// `None` for a service that is not a job.
pub fn progress(store: &Store, svc: &Service) -> Option<JobProgress> {
    let current = iteration(svc);
    let of_iteration = || store.tasks_of_service(&svc.id).filter(move |t| t.job_iteration == Some(current));
    let completed = of_iteration().filter(|t| t.status.state == TaskState::Complete).count() as u64;
    let running = store.running_tasks_of_service(&svc.id).filter(|t| t.job_iteration == Some(current)).count() as u64;
    match svc.spec.mode {
        ServiceMode::ReplicatedJob { max_concurrent, total_completions } => {
            Some(JobProgress { running, desired: max_concurrent, completed, total: total_completions })
        }
        ServiceMode::GlobalJob => {
            let desired = of_iteration()
                .filter(|t| t.desired_state == TaskState::Complete && t.status.state != TaskState::Complete)
                .count() as u64;
            Some(JobProgress { running, desired, completed, total: desired + completed })
        }
        ServiceMode::Replicated { .. } | ServiceMode::Global => None,
    }
}

/// A job whose current iteration has nothing left to run: every task of it ended, and a
/// replicated job has its completions or a task it gave up on (the restart policy's limit).
/// Liveness: a settled cluster has no job still under way.
pub fn is_finished(store: &Store, svc: &Service) -> bool {
    let current = iteration(svc);
    let tasks: Vec<&Task> = store.tasks_of_service(&svc.id).filter(|t| t.job_iteration == Some(current)).collect();
    let live = tasks.iter().any(|t| t.desired_state <= TaskState::Complete && t.status.state < TaskState::Complete);
    let ended_in_restart =
        tasks.iter().any(|t| t.desired_state <= TaskState::Complete && t.status.state > TaskState::Complete);
    if live || ended_in_restart {
        return false;
    }
    match svc.spec.mode {
        ServiceMode::ReplicatedJob { total_completions, .. } => {
            let completed = tasks.iter().filter(|t| t.status.state == TaskState::Complete).count() as u64;
            completed >= total_completions || tasks.iter().any(|t| t.status.state > TaskState::Complete)
        }
        ServiceMode::GlobalJob => true,
        ServiceMode::Replicated { .. } | ServiceMode::Global => true,
    }
}

#[cfg(test)]
#[path = "jobs_tests.rs"]
mod tests;
