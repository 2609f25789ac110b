//! Health checks in containerd containers, as dockerd's health monitor runs them: the command
//! is exec'd in the container (a process of the container's task, `sh -c CMD` for
//! `CMD-SHELL`) every `interval` on a tokio timer, given `timeout`, and core's
//! `HealthMonitor` turns the results into status changes, reported as `ContainerEvent::Health`
//! (`Starting` before `Started`, as the agent expects). No swarm rule lives here: what a
//! status means for the task is the agent's.

use super::gen::services_tasks_v1::{
    tasks_client::TasksClient, DeleteProcessRequest, ExecProcessRequest, KillRequest, StartRequest, WaitRequest,
};
use super::{Containerd, Failed};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use swarm_core::api::health::HealthMonitor;
use swarm_core::api::{HealthConfig, HealthStatus};
use swarm_core::runtime::ContainerEvent;
use tracing::{debug, warn};

const PROCESS_TYPE_URL: &str = "types.containerd.io/opencontainers/runtime-spec/1/Process";

/// What a container's probes run: the merged health check and the image's environment.
#[derive(Clone, Debug)]
pub(super) struct Probe {
    pub config: HealthConfig,
    pub env: Vec<String>,
}

/// docker's image config `Healthcheck` (`{"Test": [...], "Interval": ns, …}`), if any.
pub(super) fn image_healthcheck(config: &Value) -> Option<HealthConfig> {
    let h = config.get("config")?.get("Healthcheck")?;
    let test: Vec<String> = h.get("Test")?.as_array()?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    let nanos = |key: &str| Duration::from_nanos(h.get(key).and_then(Value::as_u64).unwrap_or(0));
    Some(HealthConfig {
        test,
        interval: nanos("Interval"),
        timeout: nanos("Timeout"),
        start_period: nanos("StartPeriod"),
        retries: h.get("Retries").and_then(Value::as_u64).unwrap_or(0),
    })
}

/// The probe's process: `CMD-SHELL cmd` runs under `/bin/sh -c`, `CMD a b` as is.
fn probe_args(config: &HealthConfig) -> Option<Vec<String>> {
    match config.test.split_first() {
        Some((kind, rest)) if kind == "CMD-SHELL" => Some(vec!["/bin/sh".into(), "-c".into(), rest.join(" ")]),
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => Some(rest.to_vec()),
        _ => None,
    }
}

impl Containerd {
    /// After a start: report `Starting`, then probe every interval until the container stops.
    pub(super) fn start_health_monitor(self: &Arc<Self>, name: &str) {
        let Some(probe) = self.probes.lock().expect("lock").get(name).cloned() else { return };
        let _ = self.events.send(ContainerEvent::Health { name: name.into(), status: HealthStatus::Starting });
        let me = Arc::clone(self);
        let name = name.to_string();
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            let mut monitor = HealthMonitor::new(&probe.config);
            let mut count: u64 = 0;
            loop {
                tokio::time::sleep(probe.config.interval_or_default()).await;
                if !me.is_running(&name).await || !me.probes.lock().expect("lock").contains_key(&name) {
                    return;
                }
                count += 1;
                let at = started.elapsed();
                let passed = me.run_probe(&name, &probe, count).await;
                debug!(container = %name, passed, "health probe");
                if let Some(status) = monitor.record(passed, at) {
                    let _ = me.events.send(ContainerEvent::Health { name: name.clone(), status });
                }
            }
        });
    }

    /// One probe: exec, wait up to the timeout (a process still running then is killed and
    /// the probe failed), delete the process. Exit 0 passes.
    async fn run_probe(&self, name: &str, probe: &Probe, count: u64) -> bool {
        let Some(args) = probe_args(&probe.config) else { return false };
        let exec_id = format!("health-{count}");
        let spec = json!({
            "args": args,
            "env": probe.env,
            "cwd": "/",
            "user": { "uid": 0, "gid": 0 },
            "terminal": false,
        });
        let mut tasks = TasksClient::new(self.channel.clone());
        let exec = ExecProcessRequest {
            container_id: name.into(),
            exec_id: exec_id.clone(),
            spec: Some(prost_types::Any {
                type_url: PROCESS_TYPE_URL.into(),
                value: serde_json::to_vec(&spec).expect("json"),
            }),
            ..Default::default()
        };
        let result: Result<bool, Failed> = async {
            tasks.exec(self.req(exec)).await?;
            tasks.start(self.req(StartRequest { container_id: name.into(), exec_id: exec_id.clone() })).await?;
            let wait = tasks.wait(self.req(WaitRequest { container_id: name.into(), exec_id: exec_id.clone() }));
            match tokio::time::timeout(probe.config.timeout_or_default(), wait).await {
                Ok(done) => Ok(done?.into_inner().exit_status == 0),
                Err(_) => {
                    let kill = KillRequest {
                        container_id: name.into(),
                        exec_id: exec_id.clone(),
                        signal: libc::SIGKILL as u32,
                        all: false,
                    };
                    let _ = tasks.kill(self.req(kill)).await;
                    Ok(false)
                }
            }
        }
        .await;
        let _ = tasks.delete_process(self.req(DeleteProcessRequest { container_id: name.into(), exec_id })).await;
        match result {
            Ok(passed) => passed,
            Err(Failed(e)) => {
                warn!(container = %name, err = %e, "health probe could not run");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_images_healthcheck_reads_from_dockers_config() {
        let config = json!({"config": {"Healthcheck": {
            "Test": ["CMD-SHELL", "test -e /tmp/healthy"], "Interval": 2_000_000_000u64, "Retries": 2
        }}});
        let h = image_healthcheck(&config).unwrap();
        assert_eq!(h.interval, Duration::from_secs(2));
        assert_eq!(h.retries, 2);
        assert_eq!(probe_args(&h).unwrap(), ["/bin/sh", "-c", "test -e /tmp/healthy"]);
        assert_eq!(image_healthcheck(&json!({"config": {}})), None);
        assert_eq!(probe_args(&HealthConfig::none()), None);
    }
}
