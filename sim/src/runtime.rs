//! The simulated container runtime of one node: create (pull included), start, stop, kill,
//! remove, exits with codes (137 for SIGKILL), missing images and processes that exit by
//! themselves (crash loops). It answers the node's container commands with events after
//! realistic delays; the world delivers them.

use std::collections::BTreeMap;
use std::time::Duration;
use swarm_core::api::health::HealthMonitor;
use swarm_core::api::{HealthConfig, HealthStatus};
use swarm_core::runtime::{ContainerCommand, ContainerEvent};

/// How a simulated image behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageBehaviour {
    pub name: String,
    pub command: String,
    pub exposed_ports: Vec<String>,
    /// Body served over HTTP on the exposed port, if the image is a web server.
    pub http_body: Option<String>,
    pub pull: Duration,
    /// The main process exits by itself after this long, with `exit_code`.
    pub exit_after: Option<(Duration, i32)>,
    /// Starting a container of this image fails with this error.
    pub start_error: Option<String>,
    /// The image's own `HEALTHCHECK`.
    pub healthcheck: Option<HealthConfig>,
    /// When a health command run in its containers passes (see `ProbeBehaviour`).
    pub probes: ProbeBehaviour,
    /// The exit code of its main process when stopped (SIGTERM).
    pub stop_exit_code: i32,
}

/// A health probe in a container of this image passes from `healthy_after` after the
/// container started until `unhealthy_after` (if set), and fails outside that window. Probes
/// take no time: a probe that hangs past its timeout is not modelled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProbeBehaviour {
    pub healthy_after: Duration,
    pub unhealthy_after: Option<Duration>,
}

impl ProbeBehaviour {
    pub fn passes(&self, since_start: Duration) -> bool {
        since_start >= self.healthy_after && self.unhealthy_after.is_none_or(|after| since_start < after)
    }
}

/// A container's health check as it runs: the merged config and dockerd's monitor.
#[derive(Clone, Debug)]
pub struct SimHealth {
    pub config: HealthConfig,
    pub monitor: HealthMonitor,
}

/// A probe to run `delay` from now in container `name`, if it is still in run `generation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeDue {
    pub delay: Duration,
    pub name: String,
    pub generation: u64,
}

/// Time a container needs for each step, beyond the image pull.
const CREATE_DELAY: Duration = Duration::from_millis(50);
const START_DELAY: Duration = Duration::from_millis(300);
const STOP_DELAY: Duration = Duration::from_millis(200);
const KILL_DELAY: Duration = Duration::from_millis(10);
const REMOVE_DELAY: Duration = Duration::from_millis(20);

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SimContainerState {
    Created,
    Running,
    Exited(i32),
}

#[derive(Clone, Debug)]
pub struct SimContainer {
    pub id: String,
    pub name: String,
    pub image: String,
    pub command: String,
    pub exposed_ports: Vec<String>,
    pub created_at: swarm_core::time::Instant,
    pub started_at: swarm_core::time::Instant,
    pub state: SimContainerState,
    /// Bumped on every start, so a scheduled self-exit of an earlier run is ignored.
    pub generation: u64,
    /// `None`: no active health check.
    pub health: Option<SimHealth>,
    /// The spec's labels (a task's `com.docker.swarm.*`).
    pub labels: BTreeMap<String, String>,
}

/// What the runtime wants the world to do: deliver `event` after `delay`, unless it is a
/// self-exit whose container has been restarted or stopped in between.
pub struct Scheduled {
    pub delay: Duration,
    pub event: ContainerEvent,
    /// For self-exits: the generation it belongs to.
    pub generation: Option<u64>,
}

/// A `Runtime` fault in force until `until`: create and start fail, or every answer waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeFault {
    pub hang: bool,
    pub until: swarm_core::time::Instant,
}

/// What dockerd answers while containerd refuses connections.
const RUNTIME_DOWN_ERROR: &str = "failed to create task: connection error: dial containerd.sock: connection refused";

pub struct SimRuntime {
    /// A failing or hanging runtime (`Runtime` fault), while `now < until`.
    pub fault: Option<RuntimeFault>,
    pub images: BTreeMap<String, ImageBehaviour>,
    /// Images this node cannot pull.
    pub missing_images: Vec<String>,
    pub containers: BTreeMap<String, SimContainer>,
    /// Health probes the last commands asked for; the world takes them (`take_probes`).
    probes_due: Vec<ProbeDue>,
}

impl SimRuntime {
    pub fn new(images: BTreeMap<String, ImageBehaviour>, missing_images: Vec<String>) -> SimRuntime {
        SimRuntime { fault: None, images, missing_images, containers: BTreeMap::new(), probes_due: Vec::new() }
    }

    /// The probes to schedule since the last call.
    pub fn take_probes(&mut self) -> Vec<ProbeDue> {
        std::mem::take(&mut self.probes_due)
    }

    /// Runs a due probe in `name` (dockerd's health monitor): `None` when the container is no
    /// longer in that run. Otherwise the status change to report, if any, and the next probe,
    /// `interval` later.
    pub fn probe(
        &mut self,
        name: &str,
        generation: u64,
        now: swarm_core::time::Instant,
    ) -> Option<(Option<ContainerEvent>, ProbeDue)> {
        let c = self.containers.get_mut(name)?;
        if c.generation != generation || c.state != SimContainerState::Running {
            return None;
        }
        let behaviour = self.images.get(&c.image).map(|b| b.probes).unwrap_or_default();
        let health = c.health.as_mut()?;
        // `started_at` is when the start was asked for; the process runs START_DELAY later.
        let since_start = now.saturating_since(c.started_at + START_DELAY);
        let changed = health.monitor.record(behaviour.passes(since_start), since_start);
        let event = changed.map(|status| ContainerEvent::Health { name: name.to_string(), status });
        let next = ProbeDue { delay: health.config.interval_or_default(), name: name.to_string(), generation };
        Some((event, next))
    }

    /// A container's health, as `docker ps` shows it.
    pub fn health(&self, name: &str) -> Option<HealthStatus> {
        self.containers.get(name).and_then(|c| c.health.as_ref()).map(|h| h.monitor.status)
    }

    pub fn running(&self, name: &str) -> bool {
        self.containers.get(name).map(|c| c.state == SimContainerState::Running).unwrap_or(false)
    }

    /// Carries out a command. `new_id` gives container IDs (64 hex) from the world's RNG.
    /// Runs a command as the runtime is now: healthy, failing or hanging (a `Runtime` fault).
    pub fn execute(
        &mut self,
        command: ContainerCommand,
        now: swarm_core::time::Instant,
        new_id: &mut dyn FnMut() -> String,
    ) -> Vec<Scheduled> {
        match self.fault.filter(|f| now < f.until) {
            Some(RuntimeFault { hang: false, .. })
                if matches!(command, ContainerCommand::Create(_) | ContainerCommand::Start { .. }) =>
            {
                let name = command.name().to_string();
                let error = RUNTIME_DOWN_ERROR.to_string();
                let event = match command {
                    ContainerCommand::Create(_) => ContainerEvent::CreateFailed { name, error },
                    _ => ContainerEvent::StartFailed { name, error },
                };
                vec![Scheduled { delay: Duration::from_millis(10), event, generation: None }]
            }
            Some(RuntimeFault { hang: true, until }) => {
                // Every answer and event waits for the runtime, a process's own exit included
                // (containerd's event stream is hung too): the daemon hears of them in order,
                // when the runtime answers again.
                let answered_at = until.saturating_since(now);
                let mut scheduled = self.execute_healthy(command, now, new_id);
                for s in scheduled.iter_mut() {
                    s.delay = s.delay.max(answered_at);
                }
                scheduled
            }
            _ => self.execute_healthy(command, now, new_id),
        }
    }

    fn execute_healthy(
        &mut self,
        command: ContainerCommand,
        now: swarm_core::time::Instant,
        new_id: &mut dyn FnMut() -> String,
    ) -> Vec<Scheduled> {
        let name = command.name().to_string();
        let now_event = |event| vec![Scheduled { delay: Duration::from_millis(1), event, generation: None }];
        match command {
            ContainerCommand::Create(spec) => {
                let base = swarm_core::image::repository(&spec.image).to_string();
                // An `[[image]]` named with its tag (`nginx:broken`) is that tag only; one named
                // without (`nginx`) is every tag of the repository.
                let tagged = swarm_core::image::with_tag(&spec.image);
                let key = if self.images.contains_key(&tagged) { tagged } else { base.clone() };
                let behaviour = self.images.get(&key).cloned();
                let missing = self.missing_images.iter().any(|m| swarm_core::image::repository(m) == base);
                let Some(behaviour) = behaviour.filter(|_| !missing) else {
                    let tag = swarm_core::image::with_tag(&spec.image);
                    return vec![Scheduled {
                        delay: Duration::from_millis(500),
                        event: ContainerEvent::CreateFailed { name, error: format!("No such image: {tag}") },
                        generation: None,
                    }];
                };
                if self.containers.contains_key(&name) {
                    return now_event(ContainerEvent::CreateFailed {
                        name: name.clone(),
                        error: format!("Conflict. The container name \"/{name}\" is already in use"),
                    });
                }
                let id = new_id();
                let command = if spec.command.is_empty() { behaviour.command.clone() } else { spec.command.join(" ") };
                let merged = match &spec.healthcheck {
                    Some(own) => Some(own.merged_over(behaviour.healthcheck.as_ref())),
                    None => behaviour.healthcheck.clone(),
                };
                let health = merged
                    .filter(HealthConfig::is_active)
                    .map(|config| SimHealth { monitor: HealthMonitor::new(&config), config });
                self.containers.insert(
                    name.clone(),
                    SimContainer {
                        id: id.clone(),
                        name: name.clone(),
                        image: key,
                        command: command.clone(),
                        exposed_ports: behaviour.exposed_ports.clone(),
                        created_at: now,
                        started_at: now,
                        state: SimContainerState::Created,
                        generation: 0,
                        health,
                        labels: spec.labels.clone(),
                    },
                );
                vec![Scheduled {
                    delay: behaviour.pull + CREATE_DELAY,
                    event: ContainerEvent::Created {
                        name,
                        id,
                        command,
                        exposed_ports: behaviour.exposed_ports.clone(),
                    },
                    generation: None,
                }]
            }
            ContainerCommand::Start { .. } => {
                let Some(c) = self.containers.get_mut(&name) else {
                    return now_event(ContainerEvent::NotFound { name });
                };
                if let Some(error) = self.images.get(&c.image).and_then(|b| b.start_error.clone()) {
                    return vec![Scheduled {
                        delay: START_DELAY,
                        event: ContainerEvent::StartFailed { name, error },
                        generation: None,
                    }];
                }
                c.state = SimContainerState::Running;
                c.started_at = now;
                c.generation += 1;
                let mut out = Vec::new();
                if let Some(health) = &mut c.health {
                    // dockerd starts the monitor with the container: `starting`, first probe
                    // one interval later. Reported before `Started` (see ContainerEvent::Health).
                    health.monitor = HealthMonitor::new(&health.config);
                    out.push(Scheduled {
                        delay: START_DELAY,
                        event: ContainerEvent::Health { name: name.clone(), status: HealthStatus::Starting },
                        generation: None,
                    });
                    self.probes_due.push(ProbeDue {
                        delay: START_DELAY + health.config.interval_or_default(),
                        name: name.clone(),
                        generation: c.generation,
                    });
                }
                out.push(Scheduled {
                    delay: START_DELAY,
                    event: ContainerEvent::Started { name: name.clone() },
                    generation: None,
                });
                if let Some((after, code)) = self.images.get(&c.image).and_then(|b| b.exit_after) {
                    out.push(Scheduled {
                        delay: START_DELAY + after,
                        event: ContainerEvent::Exited { name, exit_code: code },
                        generation: Some(c.generation),
                    });
                }
                out
            }
            ContainerCommand::Stop { .. } => {
                let code =
                    self.containers.get(&name).and_then(|c| self.images.get(&c.image)).map_or(0, |b| b.stop_exit_code);
                self.terminate(name, STOP_DELAY, code)
            }
            ContainerCommand::Kill { .. } => self.terminate(name, KILL_DELAY, 137),
            ContainerCommand::Remove { .. } => {
                if self.containers.remove(&name).is_none() {
                    return now_event(ContainerEvent::NotFound { name });
                }
                vec![Scheduled { delay: REMOVE_DELAY, event: ContainerEvent::Removed { name }, generation: None }]
            }
        }
    }

    fn terminate(&mut self, name: String, delay: Duration, exit_code: i32) -> Vec<Scheduled> {
        let Some(c) = self.containers.get_mut(&name) else {
            return vec![Scheduled {
                delay: Duration::from_millis(1),
                event: ContainerEvent::NotFound { name },
                generation: None,
            }];
        };
        if c.state != SimContainerState::Running {
            return Vec::new(); // docker: stopping a stopped container is a no-op
        }
        c.state = SimContainerState::Exited(exit_code);
        c.generation += 1; // a pending self-exit no longer applies
        vec![Scheduled { delay, event: ContainerEvent::Exited { name, exit_code }, generation: None }]
    }

    /// A self-exit fires only if the container is still in the run it was scheduled for.
    pub fn self_exit_applies(&mut self, name: &str, generation: u64, exit_code: i32) -> bool {
        match self.containers.get_mut(name) {
            Some(c) if c.generation == generation && c.state == SimContainerState::Running => {
                c.state = SimContainerState::Exited(exit_code);
                true
            }
            _ => false,
        }
    }
}

impl SimRuntime {
    /// dockerd stopping cleanly stops every container (SIGTERM: exit 143) before it exits: live
    /// restore, which would keep them running, cannot be used with swarm mode (dockerd refuses
    /// the combination). Seen on docker 20.10 (conformance). Nothing is reported: the daemon
    /// is gone; the restarted daemon finds them exited. Returns how many were running.
    pub fn stop_all_on_daemon_shutdown(&mut self) -> usize {
        let mut stopped = 0;
        for c in self.containers.values_mut().filter(|c| c.state == SimContainerState::Running) {
            c.state = SimContainerState::Exited(128 + 15);
            c.generation += 1; // a scheduled self-exit of this run no longer applies
            stopped += 1;
        }
        stopped
    }

    /// What the runtime holds, as a restarted daemon finds it (`ctr containers ls` + task state).
    pub fn container_infos(&self, now: swarm_core::time::Instant) -> Vec<swarm_core::runtime::ContainerInfo> {
        use swarm_core::runtime::{ContainerInfo, ContainerState};
        self.containers
            .values()
            .map(|c| ContainerInfo {
                id: c.id.clone(),
                name: c.name.clone(),
                image: swarm_core::image::with_tag(&c.image),
                command: c.command.clone(),
                created_at: c.created_at,
                state: match c.state {
                    SimContainerState::Created => ContainerState::Created,
                    SimContainerState::Running => ContainerState::Running { since: c.started_at },
                    SimContainerState::Exited(code) => ContainerState::Exited { exit_code: code, at: now },
                },
                exposed_ports: c.exposed_ports.clone(),
                health: c.health.as_ref().map(|h| h.monitor.status),
                labels: c.labels.clone(),
            })
            .collect()
    }
}
