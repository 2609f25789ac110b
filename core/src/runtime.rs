//! The container runtime as a node sees it: commands out, events in.
//!
//! The shape follows swarmkit's executor (prepare = create, start, wait = the exit event,
//! shutdown = stop, terminate = kill, remove). The simulator's runtime and `swarmd`'s containerd
//! client both implement the other side.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// A container's addresses on one network, so the runtime can wire it up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerNetwork {
    pub network_name: String,
    pub addr: crate::api::NetAddr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerSpec {
    /// `<service>.<slot>.<task id>`.
    pub name: String,
    pub image: String,
    /// Empty: the image's default command.
    pub command: Vec<String>,
    pub env: Vec<String>,
    /// `com.docker.swarm.task.id` and friends, so a restarted daemon can re-adopt containers.
    pub labels: BTreeMap<String, String>,
    pub networks: Vec<ContainerNetwork>,
    /// The service's health check (`--health-*`); the runtime merges it over the image's own
    /// (`HealthConfig::merged_over`) and runs the probes of the result, if active.
    #[serde(default)]
    pub healthcheck: Option<crate::api::HealthConfig>,
    /// The task's secrets and configs as files (a secret's bytes print as their length only).
    #[serde(default)]
    pub files: Vec<crate::api::secret::ContainerFile>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerCommand {
    /// Pull if needed, then create (swarm's PREPARING).
    Create(Box<ContainerSpec>),
    Start {
        name: String,
    },
    /// SIGTERM, then SIGKILL after the grace period (swarm's StopGracePeriod, 10 s).
    Stop {
        name: String,
        grace: Duration,
    },
    /// `docker kill`: SIGKILL at once; the container exits 137.
    Kill {
        name: String,
    },
    Remove {
        name: String,
    },
}

impl ContainerCommand {
    pub fn name(&self) -> &str {
        match self {
            ContainerCommand::Create(spec) => &spec.name,
            ContainerCommand::Start { name }
            | ContainerCommand::Stop { name, .. }
            | ContainerCommand::Kill { name }
            | ContainerCommand::Remove { name } => name,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerEvent {
    /// `id` is the runtime's 64-hex container ID; `command` the effective command line.
    Created {
        name: String,
        id: String,
        command: String,
        exposed_ports: Vec<String>,
    },
    /// Pull or create failed, e.g. `No such image: nginx:latest`.
    CreateFailed {
        name: String,
        error: String,
    },
    Started {
        name: String,
    },
    StartFailed {
        name: String,
        error: String,
    },
    Exited {
        name: String,
        exit_code: i32,
    },
    Removed {
        name: String,
    },
    /// The runtime has no container of that name (a command raced with a removal).
    NotFound {
        name: String,
    },
    /// The container's health changed (dockerd's `health_status: …` event). A container with
    /// an active health check reports `Starting` before its `Started`, so the agent knows to
    /// wait for `Healthy` before the task is RUNNING.
    Health {
        name: String,
        status: crate::api::HealthStatus,
    },
}

impl ContainerEvent {
    pub fn name(&self) -> &str {
        match self {
            ContainerEvent::Created { name, .. }
            | ContainerEvent::CreateFailed { name, .. }
            | ContainerEvent::Started { name }
            | ContainerEvent::StartFailed { name, .. }
            | ContainerEvent::Exited { name, .. }
            | ContainerEvent::Removed { name }
            | ContainerEvent::NotFound { name }
            | ContainerEvent::Health { name, .. } => name,
        }
    }
}

/// What `docker ps` shows of a container: the agent keeps this from the runtime's events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInfo {
    /// 64 hex characters; `ps` prints the first 12.
    pub id: String,
    pub name: String,
    /// As `ps` prints it: `nginx:latest`.
    pub image: String,
    pub command: String,
    pub created_at: crate::time::Instant,
    pub state: ContainerState,
    /// `80/tcp`.
    pub exposed_ports: Vec<String>,
    /// `None`: no health check runs in it.
    #[serde(default)]
    pub health: Option<crate::api::HealthStatus>,
    /// The container's labels (a task's `com.docker.swarm.*`), for `ps --filter label=…`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerState {
    Created,
    Running { since: crate::time::Instant },
    Exited { exit_code: i32, at: crate::time::Instant },
}
