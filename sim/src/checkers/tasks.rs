//! Tasks in the leader's store: a slot never runs twice, and no task runs on a removed node.

use std::collections::BTreeMap;
use swarm_core::api::{NodeState, ServiceMode, TaskState};
use swarm_core::ids::{NodeId, ServiceId, TaskId};
use swarm_core::store::Store;

/// A slot never has two tasks that should be running on healthy nodes (but for a start-first
/// update's old and new task). A job's tasks run desired COMPLETE, and a replicated job counts
/// its slots from 0 (slot 0 is not a node's there).
pub fn one_task_per_slot(store: &Store) -> Result<(), String> {
    // Keys borrow from the store: this runs after every applied batch, so it allocates nothing
    // per task.
    let mut running_slots: BTreeMap<(&ServiceId, u64, Option<&NodeId>), &TaskId> = BTreeMap::new();
    for t in store.tasks.values() {
        let on_ready_node = t
            .node_id
            .as_ref()
            .and_then(|n| store.nodes.get(n))
            .map(|n| n.status.state == NodeState::Ready)
            .unwrap_or(false);
        let desired_to_run = t.desired_state == TaskState::Running || t.desired_state == TaskState::Complete;
        if !(on_ready_node && desired_to_run && t.status.state == TaskState::Running) {
            continue;
        }
        let replicated_job = t.job_iteration.is_some()
            && store
                .services
                .get(&t.service_id)
                .is_some_and(|s| matches!(s.spec.mode, ServiceMode::ReplicatedJob { .. }));
        let node_key = if t.slot == 0 && !replicated_job { t.node_id.as_ref() } else { None };
        let key = (&t.service_id, t.slot, node_key);
        if let Some(other) = running_slots.insert(key, &t.id) {
            // A start-first update runs the replacement next to the old task, and only then.
            if super::updates::start_first_overlap(store, &store.tasks[other], t) {
                continue;
            }
            return Err(format!("slot {} has two running tasks: {} and {}", t.name(), other, t.id));
        }
    }
    Ok(())
}

/// No task runs on a node that was removed.
pub fn none_on_removed_nodes(store: &Store) -> Result<(), String> {
    for t in store.tasks.values() {
        if let Some(node) = &t.node_id {
            if !store.nodes.contains_key(node)
                && t.status.state == TaskState::Running
                && t.desired_state == TaskState::Running
            {
                return Err(format!("task {} runs on removed node {}", t.id, node));
            }
        }
    }
    Ok(())
}

/// A service's `--replicas-max-per-node` holds on every node: no more active tasks there (the
/// scheduler's count: desired to run, observed ASSIGNED to RUNNING) than the limit. Only where
/// all of the service's active tasks on the node were made under one limit: a task placed
/// under a higher limit keeps running after the limit is lowered, in swarm too.
pub fn max_replicas_per_node(store: &Store) -> Result<(), String> {
    // (service, node) → (the limit the tasks share, or None when they differ; how many).
    let mut per_node: BTreeMap<(&ServiceId, &NodeId), (Option<u64>, u64)> = BTreeMap::new();
    for t in store.tasks.values() {
        let Some(node) = &t.node_id else { continue };
        if !swarm_core::manager::scheduler::is_active_on_node(t) {
            continue;
        }
        let max = t.spec.placement.max_replicas;
        let entry = per_node.entry((&t.service_id, node)).or_insert((Some(max), 0));
        if entry.0 != Some(max) {
            entry.0 = None;
        }
        entry.1 += 1;
    }
    for ((service, node), (limit, count)) in per_node {
        if let Some(max) = limit.filter(|&m| m > 0) {
            if count > max {
                return Err(format!(
                    "service {service} has {count} active tasks on node {node}, over its limit of {max} per node"
                ));
            }
        }
    }
    Ok(())
}
