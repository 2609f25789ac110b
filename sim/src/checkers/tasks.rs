//! Tasks in the leader's store: a slot never runs twice, and no task runs on a removed node.

use std::collections::{BTreeMap, BTreeSet};
use swarm_core::api::{NodeState, ServiceMode, Task, TaskState};
use swarm_core::ids::{NodeId, ServiceId, TaskId};
use swarm_core::store::{Store, Touched};

/// A slot never has two tasks that should be running on healthy nodes (but for a start-first
/// update's old and new task). A job's tasks run desired COMPLETE, and a replicated job counts
/// its slots from 0 (slot 0 is not a node's there).
pub fn one_task_per_slot(store: &Store) -> Result<(), String> {
    // Keys borrow from the store: this runs after every applied batch, so it allocates nothing
    // per task.
    let mut running_slots: BTreeMap<SlotKey<'_>, &TaskId> = BTreeMap::new();
    for t in store.tasks.values() {
        let Some(key) = running_slot(store, t) else { continue };
        if let Some(other) = running_slots.insert(key, &t.id) {
            slot_clash(store, &store.tasks[other], t)?;
        }
    }
    Ok(())
}

/// (service, slot, node for a slot 0 that is a node's).
type SlotKey<'a> = (&'a ServiceId, u64, Option<&'a NodeId>);

/// The slot a task holds while it should run and runs on a Ready node; `None` otherwise.
fn running_slot<'a>(store: &'a Store, t: &'a Task) -> Option<SlotKey<'a>> {
    let on_ready_node = t
        .node_id
        .as_ref()
        .and_then(|n| store.nodes.get(n))
        .map(|n| n.status.state == NodeState::Ready)
        .unwrap_or(false);
    let desired_to_run = t.desired_state == TaskState::Running || t.desired_state == TaskState::Complete;
    if !(on_ready_node && desired_to_run && t.status.state == TaskState::Running) {
        return None;
    }
    let replicated_job = t.job_iteration.is_some()
        && store.services.get(&t.service_id).is_some_and(|s| matches!(s.spec.mode, ServiceMode::ReplicatedJob { .. }));
    let node_key = if t.slot == 0 && !replicated_job { t.node_id.as_ref() } else { None };
    Some((&t.service_id, t.slot, node_key))
}

/// `t` holds the slot `other` held (seen before it, in task ID order): a violation unless a
/// start-first update runs the replacement next to the old task.
fn slot_clash(store: &Store, other: &Task, t: &Task) -> Result<(), String> {
    if super::updates::start_first_overlap(store, other, t) {
        return Ok(());
    }
    Err(format!("slot {} has two running tasks: {} and {}", t.name(), other.id, t.id))
}

/// No task runs on a node that was removed.
pub fn none_on_removed_nodes(store: &Store) -> Result<(), String> {
    store.tasks.values().try_for_each(|t| not_on_removed_node(store, t))
}

fn not_on_removed_node(store: &Store, t: &Task) -> Result<(), String> {
    if let Some(node) = &t.node_id {
        if !store.nodes.contains_key(node)
            && t.status.state == TaskState::Running
            && t.desired_state == TaskState::Running
        {
            return Err(format!("task {} runs on removed node {}", t.id, node));
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
        if swarm_core::manager::scheduler::is_active_on_node(t) {
            tally_on_node(per_node.entry((&t.service_id, node)).or_insert((Some(t.spec.placement.max_replicas), 0)), t);
        }
    }
    per_node.into_iter().try_for_each(|((service, node), tally)| within_limit(service, node, tally))
}

/// Counts an active task of a (service, node) pair: how many, and the limit they share.
fn tally_on_node(entry: &mut (Option<u64>, u64), t: &Task) {
    if entry.0 != Some(t.spec.placement.max_replicas) {
        entry.0 = None;
    }
    entry.1 += 1;
}

fn within_limit(service: &ServiceId, node: &NodeId, (limit, count): (Option<u64>, u64)) -> Result<(), String> {
    if let Some(max) = limit.filter(|&m| m > 0) {
        if count > max {
            return Err(format!(
                "service {service} has {count} active tasks on node {node}, over its limit of {max} per node"
            ));
        }
    }
    Ok(())
}

// The same checks over what changed (`checkers::check_store_changed`): each invariant above
// is about a group of tasks (a slot, a service on a node) or one task, so after a batch only
// the groups of the tasks it may have changed are looked at again, through the store's
// indexes. Debug builds compare the verdict with the full checks after every batch.

/// The tasks whose checks may have changed: those touched, those on a node whose record
/// changed (Ready or not, removed) and those of a service whose record changed (its mode).
pub fn affected_tasks<'a>(store: &'a Store, changed: &[&Touched]) -> BTreeSet<&'a TaskId> {
    let mut affected = BTreeSet::new();
    for touched in changed {
        affected.extend(touched.tasks.iter().filter_map(|id| store.tasks.get_key_value(id).map(|(k, _)| k)));
        for node in &touched.node_records {
            affected.extend(store.tasks_on_node(node).map(|t| &t.id));
        }
        for service in &touched.service_records {
            affected.extend(store.tasks_of_service(service).map(|t| &t.id));
        }
    }
    affected
}

/// `one_task_per_slot` for the slots the affected tasks run in.
pub fn one_task_per_slot_among(store: &Store, affected: &BTreeSet<&TaskId>) -> Result<(), String> {
    let keys: BTreeSet<SlotKey<'_>> = affected.iter().filter_map(|id| running_slot(store, &store.tasks[*id])).collect();
    for key in keys {
        let (service, slot, node) = key;
        // Every task that may hold this slot, in task ID order as the full check sees them
        // (the store's indexes are sorted by task ID).
        let candidates: Box<dyn Iterator<Item = &Task>> = match node {
            Some(node) => Box::new(store.tasks_on_node(node)),
            None if slot > 0 => Box::new(store.tasks_in_slot(service, slot)),
            None => Box::new(store.tasks_of_service(service)),
        };
        let mut holder: Option<&Task> = None;
        for t in candidates.filter(|t| running_slot(store, t) == Some(key)) {
            if let Some(other) = holder {
                slot_clash(store, other, t)?;
            }
            holder = Some(t);
        }
    }
    Ok(())
}

/// `none_on_removed_nodes` for the affected tasks.
pub fn none_on_removed_nodes_among(store: &Store, affected: &BTreeSet<&TaskId>) -> Result<(), String> {
    affected.iter().try_for_each(|id| not_on_removed_node(store, &store.tasks[*id]))
}

/// `max_replicas_per_node` for the (service, node) pairs of the affected tasks.
pub fn max_replicas_per_node_among(store: &Store, affected: &BTreeSet<&TaskId>) -> Result<(), String> {
    let pairs: BTreeSet<(&ServiceId, &NodeId)> = affected
        .iter()
        .map(|id| &store.tasks[*id])
        .filter_map(|t| t.node_id.as_ref().map(|n| (&t.service_id, n)))
        .collect();
    for (service, node) in pairs {
        let mut tally: Option<(Option<u64>, u64)> = None;
        for t in store.tasks_on_node(node).filter(|t| &t.service_id == service) {
            if swarm_core::manager::scheduler::is_active_on_node(t) {
                tally_on_node(tally.get_or_insert((Some(t.spec.placement.max_replicas), 0)), t);
            }
        }
        if let Some(tally) = tally {
            within_limit(service, node, tally)?;
        }
    }
    Ok(())
}
