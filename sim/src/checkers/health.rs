//! Health checks, across the leader's store and the hosts' runtimes: a task is never RUNNING
//! while its container's health check has not passed yet (the agent holds it at STARTING
//! until the runtime reports it healthy, as swarm's executor does).
//!
//! Not checked, because it is not true of swarm either: a task RUNNING while its container is
//! unhealthy — between the health check failing and the stopped container exiting, swarm
//! still shows the task running.

use crate::world::SimHost;
use swarm_core::api::{HealthStatus, TaskState};
use swarm_core::ids::TaskId;
use swarm_core::store::Store;

pub fn never_running_before_healthy(store: &Store, hosts: &[SimHost]) -> Result<(), String> {
    for host in hosts.iter().filter(|h| h.up) {
        for (name, container) in &host.runtime.containers {
            let starting = container.health.as_ref().is_some_and(|h| h.monitor.status == HealthStatus::Starting);
            if !starting || !host.runtime.running(name) {
                continue;
            }
            // `<service>.<slot>.<task id>`.
            let Some((_, id)) = name.rsplit_once('.') else { continue };
            let Some(task) = store.tasks.get(&TaskId(id.to_string())) else { continue };
            if task.status.state == TaskState::Running && task.status.container_id.as_deref() == Some(&container.id) {
                return Err(format!(
                    "task {} is running while its container {name} on {} has not passed a health check",
                    task.id, host.name
                ));
            }
        }
    }
    Ok(())
}
