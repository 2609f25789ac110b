use super::network::NetAddr;
use super::service::{PortConfig, TaskTemplate};
use crate::ids::{NetworkId, NodeId, ServiceId, TaskId};
use crate::time::Instant;
use serde::{Deserialize, Serialize};

/// Task states, in swarmkit's numeric order; an observed state only moves forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TaskState {
    New = 0,
    Pending = 64,
    Assigned = 192,
    Accepted = 256,
    Preparing = 320,
    Ready = 384,
    Starting = 448,
    Running = 512,
    Complete = 576,
    Shutdown = 640,
    Failed = 704,
    Rejected = 768,
    Remove = 800,
    Orphaned = 832,
}

impl TaskState {
    /// The word `service ps` prints: first letter capital, rest lower.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::New => "New",
            TaskState::Pending => "Pending",
            TaskState::Assigned => "Assigned",
            TaskState::Accepted => "Accepted",
            TaskState::Preparing => "Preparing",
            TaskState::Ready => "Ready",
            TaskState::Starting => "Starting",
            TaskState::Running => "Running",
            TaskState::Complete => "Complete",
            TaskState::Shutdown => "Shutdown",
            TaskState::Failed => "Failed",
            TaskState::Rejected => "Rejected",
            TaskState::Remove => "Remove",
            TaskState::Orphaned => "Orphaned",
        }
    }

    /// Past RUNNING: the container is gone or never came up.
    pub fn is_terminal(self) -> bool {
        self > TaskState::Running
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStatus {
    pub state: TaskState,
    /// When the state was entered, by the clock of whoever wrote it.
    pub timestamp: Instant,
    /// What is happening (`preparing`, `started`, `finished`).
    pub message: String,
    /// Why it failed (`task: non-zero exit (137)`), empty otherwise.
    pub err: String,
    pub exit_code: Option<i32>,
    pub container_id: Option<String>,
}

impl TaskStatus {
    pub fn new(state: TaskState, timestamp: Instant, message: &str) -> TaskStatus {
        TaskStatus {
            state,
            timestamp,
            message: message.to_string(),
            err: String::new(),
            exit_code: None,
            container_id: None,
        }
    }
}

/// The task's addresses on one network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAttachment {
    pub network_id: NetworkId,
    pub addresses: Vec<NetAddr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub service_id: ServiceId,
    /// Copied from the service so a task can be named after its service is gone.
    pub service_name: String,
    /// Replicated services: 1-based slot. Global services: 0 (the node names the task).
    pub slot: u64,
    /// Set by the scheduler (or at creation for global services).
    pub node_id: Option<NodeId>,
    /// The template the task was created from: tasks are immutable once made.
    pub spec: TaskTemplate,
    pub spec_version: u64,
    /// Published ports in host mode bind on the task's node.
    pub host_ports: Vec<PortConfig>,
    /// Written only by managers.
    pub desired_state: TaskState,
    /// Written by the allocator and scheduler up to ASSIGNED, then only by the agent.
    pub status: TaskStatus,
    pub networks: Vec<NetworkAttachment>,
    pub created_at: Instant,
    /// A job's task: the iteration of the job it was made for (`JobIteration`); `None` for
    /// the tasks of a service.
    #[serde(default)]
    pub job_iteration: Option<u64>,
}

impl Task {
    /// `mynginx.2` or, for a global service, `svc.<node id>`.
    pub fn name(&self) -> String {
        if self.slot == 0 {
            let node = self.node_id.as_ref().map(|n| n.as_str()).unwrap_or("");
            format!("{}.{}", self.service_name, node)
        } else {
            format!("{}.{}", self.service_name, self.slot)
        }
    }

    /// `<service>.<slot>.<task id>`: the container's name on the node.
    pub fn container_name(&self) -> String {
        format!("{}.{}", self.name(), self.id)
    }

    /// The task holds (or is about to hold) a place: desired to run and not yet dead.
    /// A job's task is desired COMPLETE: it runs until it exits.
    pub fn is_runnable(&self) -> bool {
        self.desired_state <= TaskState::Complete && !self.status.state.is_terminal()
    }
}
