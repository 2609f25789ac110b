//! The cluster as the `expect` conditions see it, answered by a real cluster.
//!
//! Until the simulator's conditions are evaluated over a view (`swarmsim::conditions::ClusterView`,
//! in progress on main), this module carries the same trait and the same rules so the live
//! backend can be built and tried; it is replaced by the shared one when that lands.

use swarm_core::api::{Availability, NodeState, TaskState};
use swarmsim::scenario::Condition;

pub struct NodeView {
    pub state: NodeState,
    pub availability: Availability,
}

pub struct TaskView {
    pub id: String,
    pub slot: u64,
    pub node_id: Option<String>,
    pub node_down: bool,
    pub desired: TaskState,
    pub state: TaskState,
    pub err: String,
    pub created_at_ns: u64,
}

pub struct ContainerView {
    pub node: String,
    pub name: String,
    pub running: bool,
}

pub trait ClusterView {
    /// Hostname of the leader.
    fn leader(&self) -> Option<String>;
    /// `Err`: no manager answers.
    fn node(&self, hostname: &str) -> Result<Option<NodeView>, String>;
    /// `Ok(None)`: no such service.
    fn tasks(&self, service: &str) -> Result<Option<Vec<TaskView>>, String>;
    /// Every container named `SERVICE.…` on any node.
    fn containers(&self, service: &str) -> Vec<ContainerView>;
}

/// `None` when the condition holds, else what is seen instead.
pub fn describe_failure(view: &dyn ClusterView, condition: &Condition) -> Option<String> {
    match condition {
        Condition::RunningTasks { service, count, on_distinct_nodes } => {
            let tasks = match view.tasks(service) {
                Err(e) => return Some(e),
                Ok(tasks) => tasks.unwrap_or_default(),
            };
            let running: Vec<&TaskView> = tasks.iter().filter(|t| t.state == TaskState::Running).collect();
            let mut nodes: Vec<&String> = running.iter().filter_map(|t| t.node_id.as_ref()).collect();
            nodes.sort();
            nodes.dedup();
            if running.len() as u64 != *count {
                return Some(format!("{service} has {} running tasks", running.len()));
            }
            if *on_distinct_nodes && nodes.len() != running.len() {
                return Some(format!("{service} runs {} tasks on only {} nodes", running.len(), nodes.len()));
            }
            None
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
            match view.tasks(service) {
                Err(e) => return Some(e),
                Ok(Some(_)) => return Some(format!("service {service} still exists")),
                Ok(None) => {}
            }
            view.containers(service).first().map(|c| format!("a container of {service} remains on {}", c.node))
        }
        Condition::NoContainerOn { service, node } => view
            .containers(service)
            .iter()
            .find(|c| c.node == *node && c.running)
            .map(|c| format!("{node} runs {}", c.name)),
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
        Condition::LeaderElected => view.leader().is_none().then(|| "no manager is the leader".into()),
        Condition::IsLeader { node } => match view.leader() {
            Some(leader) if leader == *node => None,
            Some(leader) => Some(format!("{leader} is the leader")),
            None => Some("no manager is the leader".into()),
        },
    }
}

/// A slot's tasks, newest first.
fn slot_history(view: &dyn ClusterView, service: &str, slot: u64) -> Result<Vec<TaskView>, String> {
    let mut tasks: Vec<TaskView> =
        view.tasks(service)?.unwrap_or_default().into_iter().filter(|t| t.slot == slot).collect();
    tasks.sort_by(|a, b| b.created_at_ns.cmp(&a.created_at_ns).then_with(|| a.id.cmp(&b.id)));
    Ok(tasks)
}
