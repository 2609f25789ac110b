//! Evaluates a scenario's `expect` conditions against a view of a cluster.
//!
//! The conditions are written once, over [`ClusterView`]: the simulator answers it from the
//! current leader's store (the freshest committed view) and every host's container runtime;
//! the real backends (`swarmsim-live`) answer it from the cluster's own JSON (`node inspect`,
//! `service ps`, `inspect`, `ps -a`), polled. One reading of each sentence for every backend is
//! what lets `conform` compare verdicts.

use crate::scenario::Condition;
use crate::world::World;
use swarm_core::api::{Availability, HealthStatus, NodeState, Task, TaskState, UpdateState};
use swarm_core::store::Store;

/// What a user can learn from a cluster's own answers, in the terms the conditions need.
pub trait ClusterView {
    /// The hostname of the Raft leader, if some manager leads.
    fn leader(&self) -> Option<String>;
    /// A node by hostname; `Ok(None)` when no such node is in the swarm, `Err` when no manager
    /// answers (no store to read).
    fn node(&self, hostname: &str) -> Result<Option<NodeView>, String>;
    /// Every task of a service, in any state; `Ok(None)` when there is no such service.
    fn tasks(&self, service: &str) -> Result<Option<Vec<TaskView>>, String>;
    /// Every container named `SERVICE.…` on any node, running or not.
    fn containers(&self, service: &str) -> Vec<ContainerView>;
    /// Tasks of a removed service still in the store. Only the simulator can tell: docker's
    /// API forgets a service's tasks with the service.
    fn removed_service_tasks(&self, _service: &str) -> usize {
        0
    }
    /// The service's `UpdateStatus.State`: `Ok(None)` when it has none (never updated, or
    /// reset by `service update`), `Err` when there is no such service or no manager answers.
    fn update_state(&self, service: &str) -> Result<Option<UpdateState>, String>;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeView {
    /// The node's ID, as tasks name their node.
    pub id: String,
    pub state: NodeState,
    pub availability: Availability,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskView {
    pub id: String,
    pub slot: u64,
    pub node_id: Option<String>,
    /// The node the task is assigned to is Down (its tasks no longer count as running).
    pub node_down: bool,
    pub desired: TaskState,
    pub state: TaskState,
    pub err: String,
    pub created_at_ns: u64,
    /// The image of the task's spec, as the service spec named it (`nginx:1.25`).
    pub image: String,
}

impl TaskView {
    /// What `service ls` counts in REPLICAS: meant to run, running, on a node not Down
    /// (the rule is the store's `running_tasks_of_service`).
    pub fn counts_as_running(&self) -> bool {
        // A job's task runs desired COMPLETE.
        (self.desired == TaskState::Running || self.desired == TaskState::Complete)
            && self.state == TaskState::Running
            && self.node_id.is_some()
            && !self.node_down
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerView {
    pub node: String,
    pub name: String,
    pub running: bool,
    /// `None`: no health check runs in it (or an exited container, whose health `ps` no
    /// longer shows).
    pub health: Option<HealthStatus>,
}

pub fn holds(view: &dyn ClusterView, condition: &Condition) -> bool {
    describe_failure(view, condition).is_none()
}

/// `None` when the condition holds, else what is seen instead (for the failure report).
pub fn describe_failure(view: &dyn ClusterView, condition: &Condition) -> Option<String> {
    match condition {
        Condition::RunningTasks { service, count, on_distinct_nodes } => {
            let tasks = match view.tasks(service) {
                Err(e) => return Some(e),
                Ok(tasks) => tasks.unwrap_or_default(),
            };
            let running: Vec<&TaskView> = tasks.iter().filter(|t| t.counts_as_running()).collect();
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
        Condition::CompletedTasks { service, count } => {
            let tasks = match view.tasks(service) {
                Err(e) => return Some(e),
                Ok(tasks) => tasks.unwrap_or_default(),
            };
            let completed = tasks.iter().filter(|t| t.state == TaskState::Complete).count() as u64;
            (completed != *count).then(|| format!("{service} has {completed} completed tasks"))
        }
        Condition::SlotMovedNode { service, slot } => {
            let history = match slot_history(view, service, *slot) {
                Ok(h) => h,
                Err(e) => return Some(e),
            };
            match history.as_slice() {
                [newest, previous, ..] => {
                    if newest.state != TaskState::Running {
                        Some(format!("{service}.{slot}'s newest task is {}", newest.state.as_str()))
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
            let history = match slot_history(view, service, *slot) {
                Ok(h) => h,
                Err(e) => return Some(e),
            };
            match history.get(1) {
                Some(prev) if prev.state == TaskState::Failed && prev.err.contains(error.as_str()) => None,
                Some(prev) => Some(format!(
                    "{service}.{slot}'s previous task is {} with error {:?}",
                    prev.state.as_str(),
                    prev.err
                )),
                None => Some(format!("{service}.{slot} has no previous task")),
            }
        }
        Condition::ServiceGone { service } => {
            // With no manager answering, only the containers can be checked.
            if let Ok(Some(_)) = view.tasks(service) {
                return Some(format!("service {service} still exists"));
            }
            let left = view.removed_service_tasks(service);
            if left > 0 {
                return Some(format!("{left} task(s) of {service} remain in the store"));
            }
            view.containers(service).first().map(|c| format!("a container of {service} remains on {}", c.node))
        }
        Condition::NoContainerOn { service, node } => view
            .containers(service)
            .into_iter()
            .find(|c| c.node == *node && c.running)
            .map(|c| format!("{} runs {}", node, c.name)),
        Condition::NodeState { node, state } => match view.node(node) {
            Err(e) => Some(e),
            Ok(Some(n)) if n.state == *state => None,
            Ok(Some(n)) => Some(format!("node {node} is {}", n.state.as_str())),
            Ok(None) => Some(format!("node {node} is not in the swarm")),
        },
        Condition::NodeAvailability { node, availability } => match view.node(node) {
            Err(e) => Some(e),
            Ok(Some(n)) if n.availability == *availability => None,
            Ok(Some(n)) => Some(format!("node {node} is {}", n.availability.as_str())),
            Ok(None) => Some(format!("node {node} is not in the swarm")),
        },
        Condition::RunningTasksOn { .. } | Condition::TaskHealth { .. } => placement_or_health_failure(view, condition),
        Condition::LeaderElected => view.leader().is_none().then(|| "no manager is the leader".into()),
        Condition::RunsImage { service, image, count } => {
            let tasks = match view.tasks(service) {
                Err(e) => return Some(e),
                Ok(tasks) => tasks.unwrap_or_default(),
            };
            let want = swarm_core::image::fully_qualified(image);
            let on_image = tasks
                .iter()
                .filter(|t| t.counts_as_running())
                .filter(|t| swarm_core::image::fully_qualified(without_digest(&t.image)) == want)
                .count();
            (on_image as u64 != *count).then(|| format!("{service} runs {image} on {on_image} tasks"))
        }
        Condition::UpdateIs { service, state } => match view.update_state(service) {
            Err(e) => Some(e),
            Ok(Some(s)) if s == *state => None,
            Ok(Some(s)) => Some(format!("update of {service} is {}", s.as_str())),
            Ok(None) => Some(format!("{service} has no update status")),
        },
        Condition::IsLeader { node } => match view.leader() {
            Some(leader) if leader == *node => None,
            Some(leader) => Some(format!("{leader} is the leader")),
            None => Some("no manager is the leader".into()),
        },
    }
}

/// NODE's ID and SERVICE's tasks, or why the view cannot say.
fn node_and_tasks(view: &dyn ClusterView, service: &str, node: &str) -> Result<(String, Vec<TaskView>), String> {
    let node_id = match view.node(node)? {
        None => return Err(format!("node {node} is not in the swarm")),
        Some(n) => n.id,
    };
    Ok((node_id, view.tasks(service)?.unwrap_or_default()))
}

/// The placement and health conditions (`SERVICE has N running tasks on NODE`, `task of
/// SERVICE on NODE is healthy|unhealthy`).
fn placement_or_health_failure(view: &dyn ClusterView, condition: &Condition) -> Option<String> {
    match condition {
        Condition::RunningTasksOn { service, count, node } => {
            let (node_id, tasks) = match node_and_tasks(view, service, node) {
                Err(e) => return Some(e),
                Ok(found) => found,
            };
            let on_node = tasks
                .iter()
                .filter(|t| t.counts_as_running() && t.node_id.as_deref() == Some(node_id.as_str()))
                .count();
            (on_node as u64 != *count).then(|| format!("{service} has {on_node} running tasks on {node}"))
        }
        Condition::TaskHealth { service, node, healthy: true } => {
            let containers: Vec<ContainerView> =
                view.containers(service).into_iter().filter(|c| c.node == *node && c.running).collect();
            if containers.iter().any(|c| c.health == Some(HealthStatus::Healthy)) {
                return None;
            }
            Some(match containers.first() {
                None => format!("no container of {service} runs on {node}"),
                Some(c) => {
                    format!("{} is {}", c.name, c.health.map_or("without a health check", HealthStatus::as_ps_str))
                }
            })
        }
        Condition::TaskHealth { service, node, healthy: false } => {
            let running_unhealthy = view
                .containers(service)
                .into_iter()
                .any(|c| c.node == *node && c.running && c.health == Some(HealthStatus::Unhealthy));
            if running_unhealthy {
                return None;
            }
            let (node_id, tasks) = match node_and_tasks(view, service, node) {
                Err(e) => return Some(e),
                Ok(found) => found,
            };
            let failed_unhealthy = tasks.iter().any(|t| {
                t.node_id.as_deref() == Some(node_id.as_str())
                    && t.state == TaskState::Failed
                    && t.err.ends_with(swarm_core::api::health::UNHEALTHY_CONTAINER)
            });
            (!failed_unhealthy).then(|| format!("no container of {service} on {node} was found unhealthy"))
        }
        _ => unreachable!("only placement and health conditions come here"),
    }
}

/// docker pins an image to a digest when a registry answers (`nginx:1.25@sha256:…`).
fn without_digest(image: &str) -> &str {
    image.split('@').next().unwrap_or(image)
}

/// A slot's tasks, newest first.
fn slot_history(view: &dyn ClusterView, service: &str, slot: u64) -> Result<Vec<TaskView>, String> {
    let mut tasks: Vec<TaskView> =
        view.tasks(service)?.unwrap_or_default().into_iter().filter(|t| t.slot == slot).collect();
    tasks.sort_by(|a, b| b.created_at_ns.cmp(&a.created_at_ns).then_with(|| a.id.cmp(&b.id)));
    Ok(tasks)
}

const NO_STORE: &str = "no manager holds a store";

/// The simulator's answers: the authoritative store and the hosts' runtimes, read in place.
impl ClusterView for World {
    fn leader(&self) -> Option<String> {
        self.leader_index().map(|i| self.hosts[i].name.clone())
    }

    fn node(&self, hostname: &str) -> Result<Option<NodeView>, String> {
        let store = self.authoritative_store().ok_or(NO_STORE)?;
        // A host that joined again (after losing its data root) has two nodes of its name: the
        // old one, down, and the new one. The host is the newest.
        let newest = store
            .nodes
            .values()
            .filter(|n| n.description.hostname == hostname)
            .max_by_key(|n| (n.created_at, n.id.0.clone()));
        Ok(newest.map(|n| NodeView { id: n.id.to_string(), state: n.status.state, availability: n.spec.availability }))
    }

    fn tasks(&self, service: &str) -> Result<Option<Vec<TaskView>>, String> {
        let store = self.authoritative_store().ok_or(NO_STORE)?;
        let Some(svc) = store.service_by_name(service) else { return Ok(None) };
        Ok(Some(store.tasks_of_service(&svc.id).map(|t| task_view(store, t)).collect()))
    }

    fn update_state(&self, service: &str) -> Result<Option<UpdateState>, String> {
        let store = self.authoritative_store().ok_or(NO_STORE)?;
        let svc = store.service_by_name(service).ok_or_else(|| format!("no such service: {service}"))?;
        Ok(svc.update_status.as_ref().map(|s| s.state))
    }

    fn removed_service_tasks(&self, service: &str) -> usize {
        // A removed service's tasks stay until the task reaper deletes them.
        let Some(store) = self.authoritative_store() else { return 0 };
        store.tasks.values().filter(|t| t.service_name == service).count()
    }

    fn containers(&self, service: &str) -> Vec<ContainerView> {
        let prefix = format!("{service}.");
        let mut found = Vec::new();
        for host in &self.hosts {
            for name in host.runtime.containers.keys().filter(|c| c.starts_with(&prefix)) {
                found.push(ContainerView {
                    node: host.name.clone(),
                    name: name.clone(),
                    running: host.runtime.running(name),
                    health: host.runtime.health(name).filter(|_| host.runtime.running(name)),
                });
            }
        }
        found
    }
}

fn task_view(store: &Store, task: &swarm_core::api::Task) -> TaskView {
    let node_down = task
        .node_id
        .as_ref()
        .and_then(|n| store.nodes.get(n))
        .map(|n| n.status.state == NodeState::Down)
        .unwrap_or(true);
    TaskView {
        id: task.id.to_string(),
        slot: task.slot,
        node_id: task.node_id.as_ref().map(|n| n.to_string()),
        node_down,
        desired: task.desired_state,
        state: task.status.state,
        err: task.status.err.clone(),
        created_at_ns: task.created_at.as_millis().saturating_mul(1_000_000),
        image: task.spec.image.clone(),
    }
}

/// What `service ls` counts in REPLICAS (the rule lives in the store).
pub fn running_tasks<'s>(store: &'s Store, service: &str) -> Vec<&'s Task> {
    let Some(svc) = store.service_by_name(service) else { return Vec::new() };
    store.running_tasks_of_service(&svc.id).collect()
}

/// Liveness: a leader, every node Ready, and every service at its replica count (global: one
/// running task per node it should run on, core's `desired_running`) with nothing left to start,
/// and no update or rollback still under way (a chaos run can start while one rolls); a job has
/// finished its current iteration (runs nothing, and has nothing left to run).
pub fn cluster_converged(world: &World) -> bool {
    convergence_gap(world).is_none()
}

/// What keeps the cluster from having converged, if anything.
pub fn convergence_gap(world: &World) -> Option<String> {
    let Some(leader) = world.leader_index() else { return Some("no leader".into()) };
    let store = world.hosts[leader].node.observe().manager().expect("the leader is a manager").store();
    for node in store.nodes.values() {
        // A node whose host lost its data root never comes back (its host is outside the swarm).
        if node.status.state != swarm_core::api::NodeState::Ready && !world.forgotten_nodes.contains(&node.id.0) {
            return Some(format!("node {} is {}", node.description.hostname, node.status.state.as_str()));
        }
    }
    for svc in store.services.values() {
        let running = running_tasks(store, &svc.spec.name).len() as u64;
        let want = swarm_core::observe::desired_running(store, svc);
        if running != want {
            return Some(format!("{} has {running}/{want} running", svc.spec.name));
        }
        if svc.spec.mode.is_job() && !swarm_core::observe::job_is_finished(store, svc) {
            return Some(format!("job {} is still running", svc.spec.name));
        }
        // An update (or rollback) under way must finish: a paused one has, a stuck one has not.
        if let Some(status) = svc.update_status.as_ref().filter(|s| s.state.in_progress()) {
            return Some(format!("update of {} is still {}", svc.spec.name, status.state.as_str()));
        }
    }
    None
}
