//! Evaluates a scenario's `expect` conditions against the simulated cluster: the current
//! leader's store (the freshest committed view) and every host's container runtime.

use crate::scenario::Condition;
use crate::world::World;
use swarm_core::api::{Task, TaskState};
use swarm_core::store::Store;

pub fn holds(world: &World, condition: &Condition) -> bool {
    describe_failure(world, condition).is_none()
}

/// `None` when the condition holds, else what is seen instead (for the failure report).
pub fn describe_failure(world: &World, condition: &Condition) -> Option<String> {
    let store = world.authoritative_store();
    match condition {
        Condition::RunningTasks { service, count, on_distinct_nodes } => {
            let Some(store) = store else { return Some("no manager holds a store".into()) };
            let running = running_tasks(store, service);
            let mut nodes: Vec<_> = running.iter().filter_map(|t| t.node_id.clone()).collect();
            nodes.sort();
            nodes.dedup();
            if running.len() as u64 != *count {
                return Some(format!("{} has {} running tasks", service, running.len()));
            }
            if *on_distinct_nodes && nodes.len() != running.len() {
                return Some(format!("{} runs {} tasks on only {} nodes", service, running.len(), nodes.len()));
            }
            None
        }
        Condition::SlotMovedNode { service, slot } => {
            let Some(store) = store else { return Some("no manager holds a store".into()) };
            let history = slot_history(store, service, *slot);
            match history.as_slice() {
                [newest, previous, ..] => {
                    if newest.status.state != TaskState::Running {
                        Some(format!("{service}.{slot}'s newest task is {}", newest.status.state.as_str()))
                    } else if newest.node_id == previous.node_id {
                        Some(format!("{service}.{slot} runs on the same node as before"))
                    } else {
                        None
                    }
                }
                _ => Some(format!("{service}.{slot} has {} task(s), no previous one", history.len())),
            }
        }
        Condition::SlotPreviousTaskFailed { service, slot, error } => {
            let Some(store) = store else { return Some("no manager holds a store".into()) };
            let history = slot_history(store, service, *slot);
            match history.get(1) {
                Some(prev) if prev.status.state == TaskState::Failed && prev.status.err.contains(error.as_str()) => {
                    None
                }
                Some(prev) => Some(format!(
                    "{service}.{slot}'s previous task is {} with error {:?}",
                    prev.status.state.as_str(),
                    prev.status.err
                )),
                None => Some(format!("{service}.{slot} has no previous task")),
            }
        }
        Condition::ServiceGone { service } => {
            if let Some(store) = store {
                if store.service_by_name(service).is_some() {
                    return Some(format!("service {service} still exists"));
                }
                let left = store.tasks.values().filter(|t| t.service_name == *service).count();
                if left > 0 {
                    return Some(format!("{left} task(s) of {service} remain in the store"));
                }
            }
            let prefix = format!("{service}.");
            for host in &world.hosts {
                if host.runtime.containers.keys().any(|c| c.starts_with(&prefix)) {
                    return Some(format!("a container of {service} remains on {}", host.name));
                }
            }
            None
        }
        Condition::NoContainerOn { service, node } => {
            let prefix = format!("{service}.");
            let host = world.host_by_name(node)?;
            let running: Vec<&String> = world.hosts[host]
                .runtime
                .containers
                .iter()
                .filter(|(name, _)| name.starts_with(&prefix))
                .filter(|(name, _)| world.hosts[host].runtime.running(name))
                .map(|(name, _)| name)
                .collect();
            (!running.is_empty()).then(|| format!("{} runs {}", node, running[0]))
        }
        Condition::NodeState { node, state } => {
            let Some(store) = store else { return Some("no manager holds a store".into()) };
            match store.node_by_hostname(node) {
                Some(n) if n.status.state == *state => None,
                Some(n) => Some(format!("node {node} is {}", n.status.state.as_str())),
                None => Some(format!("node {node} is not in the swarm")),
            }
        }
        Condition::NodeAvailability { node, availability } => {
            let Some(store) = store else { return Some("no manager holds a store".into()) };
            match store.node_by_hostname(node) {
                Some(n) if n.spec.availability == *availability => None,
                Some(n) => Some(format!("node {node} is {}", n.spec.availability.as_str())),
                None => Some(format!("node {node} is not in the swarm")),
            }
        }
        Condition::LeaderElected => world.leader_index().is_none().then(|| "no manager is the leader".into()),
        Condition::IsLeader { node } => match world.leader_index() {
            Some(i) if world.hosts[i].name == *node => None,
            Some(i) => Some(format!("{} is the leader", world.hosts[i].name)),
            None => Some("no manager is the leader".into()),
        },
    }
}

/// What `service ls` counts in REPLICAS (the rule lives in the store).
pub fn running_tasks<'s>(store: &'s Store, service: &str) -> Vec<&'s Task> {
    let Some(svc) = store.service_by_name(service) else { return Vec::new() };
    store.running_tasks_of_service(&svc.id).collect()
}

/// A slot's tasks, newest first.
fn slot_history<'s>(store: &'s Store, service: &str, slot: u64) -> Vec<&'s Task> {
    let Some(svc) = store.service_by_name(service) else { return Vec::new() };
    let mut tasks: Vec<&Task> = store.tasks_of_service(&svc.id).filter(|t| t.slot == slot).collect();
    tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.id.cmp(&b.id)));
    tasks
}

/// Liveness: a leader, every node Ready, and every service at its replica count (global: one
/// running task per node it should run on, core's `desired_running`) with nothing left to start.
pub fn cluster_converged(world: &World) -> bool {
    convergence_gap(world).is_none()
}

/// What keeps the cluster from having converged, if anything.
pub fn convergence_gap(world: &World) -> Option<String> {
    let Some(leader) = world.leader_index() else { return Some("no leader".into()) };
    let store = world.hosts[leader].node.observe().manager().expect("the leader is a manager").store();
    for node in store.nodes.values() {
        if node.status.state != swarm_core::api::NodeState::Ready {
            return Some(format!("node {} is {}", node.description.hostname, node.status.state.as_str()));
        }
    }
    for svc in store.services.values() {
        let running = running_tasks(store, &svc.spec.name).len() as u64;
        let want = swarm_core::observe::desired_running(store, svc);
        if running != want {
            return Some(format!("{} has {running}/{want} running", svc.spec.name));
        }
    }
    None
}
