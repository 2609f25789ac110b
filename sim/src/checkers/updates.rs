//! Rolling updates, in the leader's store: the updater's promises.
//!
//! - a slot runs two tasks at once only during a start-first update or rollback, the old
//!   spec's next to the current one's (stop-first never overlaps: `tasks::one_task_per_slot`
//!   allows exactly this pair);
//! - no more slots in flight than the parallelism: a slot is in flight while its newest task,
//!   of the current spec, has not reached RUNNING and the task before it (of another spec, not
//!   dead by itself, not stopped before the newest was created, on a node never Down or
//!   drained since the checker has watched: else the replacement may be the restart
//!   supervisor's) was stopped for it;
//! - a rolled-back service ends on the spec it had before the update;
//! - a paused update stays paused until a new spec (`service update`, `rollback`).
//!
//! The last two need history, kept per service by `UpdateHistory`.

use std::collections::{BTreeMap, BTreeSet};
use swarm_core::api::{Availability, NodeState, Service, ServiceSpec, Task, TaskState, UpdateOrder, UpdateState};
use swarm_core::ids::{NodeId, ServiceId};
use swarm_core::store::Store;

/// Whether two running tasks in one slot are a start-first update's overlap.
pub fn start_first_overlap(store: &Store, a: &Task, b: &Task) -> bool {
    let Some(svc) = store.services.get(&a.service_id) else { return false };
    let start_first = svc.spec.update_config().order == UpdateOrder::StartFirst
        || svc.spec.rollback_config().order == UpdateOrder::StartFirst;
    start_first && a.spec != b.spec && (a.spec == svc.spec.task || b.spec == svc.spec.task)
}

/// No replicated service has more slots in flight than its parallelism allows. `restarted`:
/// nodes whose tasks the restart supervisor may have replaced (seen Down or drained).
pub fn parallelism_respected(store: &Store, restarted: &BTreeSet<NodeId>) -> Result<(), String> {
    for svc in store.services.values() {
        let Some(status) = svc.update_status.as_ref().filter(|s| s.state.in_progress()) else { continue };
        let config = if status.state == UpdateState::RollbackStarted {
            svc.spec.rollback_config()
        } else {
            svc.spec.update_config()
        };
        if config.parallelism == 0 || svc.spec.replicas().is_none() {
            continue;
        }
        let in_flight = slots_in_flight(store, svc, restarted);
        if in_flight > config.parallelism {
            return Err(format!(
                "{} has {in_flight} slots updating at once, parallelism {}",
                svc.spec.name, config.parallelism
            ));
        }
    }
    Ok(())
}

fn slots_in_flight(store: &Store, svc: &Service, restarted: &BTreeSet<NodeId>) -> u64 {
    let mut by_slot: BTreeMap<u64, Vec<&Task>> = BTreeMap::new();
    for t in store.tasks_of_service(&svc.id) {
        by_slot.entry(t.slot).or_default().push(t);
    }
    let healthy = |t: &Task| {
        t.node_id
            .as_ref()
            .filter(|n| !restarted.contains(*n))
            .and_then(|n| store.nodes.get(n))
            .map(|n| n.status.state == NodeState::Ready && n.spec.availability == Availability::Active)
            .unwrap_or(false)
    };
    let mut count = 0;
    for tasks in by_slot.values_mut() {
        tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
        let [newest, previous, ..] = tasks.as_slice() else { continue };
        let replacing = newest.spec == svc.spec.task
            && newest.desired_state <= TaskState::Running
            && newest.status.state < TaskState::Running
            && previous.spec != svc.spec.task
            // Stopped before the newest task existed: not for it (a scale-down under docker
            // 1.12 keeps its Shutdown task in the slot, and a later scale-up reuses the slot).
            && !(previous.status.state.is_terminal() && previous.status.timestamp < newest.created_at)
            && healthy(previous)
            && !matches!(previous.status.state, TaskState::Failed | TaskState::Rejected | TaskState::Complete);
        if replacing {
            count += 1;
        }
    }
    count
}

/// What each service's update looked like when last checked.
#[derive(Default)]
pub struct UpdateHistory {
    services: BTreeMap<ServiceId, Seen>,
    /// The applied index last checked: a new leader may not have applied all it committed
    /// yet, and an older store is no news.
    applied_index: u64,
    /// Nodes seen Down or drained: a replacement of one of their tasks may be a restart.
    restarted: BTreeSet<NodeId>,
}

struct Seen {
    spec_version: u64,
    state: Option<UpdateState>,
    /// The spec the service had before its current update (the one a rollback returns to).
    before_update: Option<ServiceSpec>,
}

impl UpdateHistory {
    pub fn check(&mut self, store: &Store) -> Result<(), String> {
        if store.applied_index < self.applied_index {
            return Ok(());
        }
        self.applied_index = store.applied_index;
        for n in store.nodes.values() {
            if n.status.state == NodeState::Down || n.spec.availability != Availability::Active {
                self.restarted.insert(n.id.clone());
            }
        }
        parallelism_respected(store, &self.restarted)?;
        self.services.retain(|id, _| store.services.contains_key(id));
        for svc in store.services.values() {
            let state = svc.update_status.as_ref().map(|s| s.state);
            let seen = self.services.entry(svc.id.clone()).or_insert_with(|| Seen {
                spec_version: svc.spec_version,
                state,
                before_update: svc.previous_spec.as_deref().cloned(),
            });
            let new_spec = seen.spec_version != svc.spec_version;
            if !new_spec && seen.state.is_some_and(|s| s.is_paused()) && state != seen.state {
                return Err(format!(
                    "the paused update of {} became {} with no new spec",
                    svc.spec.name,
                    state.map(|s| s.as_str()).unwrap_or("none")
                ));
            }
            // A new update (not a rollback): the spec it left is the one to come back to.
            if new_spec && !state.is_some_and(|s| s.is_rollback()) {
                seen.before_update = svc.previous_spec.as_deref().cloned();
            }
            if state == Some(UpdateState::RollbackCompleted) && seen.state != state {
                if let Some(before) = &seen.before_update {
                    if svc.spec != *before {
                        return Err(format!("{} rolled back to a spec other than its previous one", svc.spec.name));
                    }
                }
                if let Some(t) = store.tasks_of_service(&svc.id).find(|t| {
                    t.desired_state == TaskState::Running
                        && t.status.state == TaskState::Running
                        && t.spec != svc.spec.task
                }) {
                    return Err(format!(
                        "{} completed its rollback with {} still on another spec",
                        svc.spec.name, t.id
                    ));
                }
            }
            seen.spec_version = svc.spec_version;
            seen.state = state;
        }
        Ok(())
    }
}
