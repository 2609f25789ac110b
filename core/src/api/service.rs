use super::network::NetAddr;
use crate::ids::{NetworkId, ServiceId};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceMode {
    Replicated {
        replicas: u64,
    },
    /// One task on every node that passes the filters.
    Global,
    /// `--mode replicated-job`: tasks run to completion, at most `max_concurrent` at a time,
    /// until `total_completions` of them exited 0 (swarmkit's `ReplicatedJob`).
    ReplicatedJob {
        max_concurrent: u64,
        total_completions: u64,
    },
    /// `--mode global-job`: one task to completion on every node that passes the filters.
    GlobalJob,
}

impl ServiceMode {
    /// A job: its tasks are meant to complete (desired COMPLETE), not to keep running.
    pub fn is_job(&self) -> bool {
        matches!(self, ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob)
    }

    /// One task per eligible node (a global service or a global job).
    pub fn is_global(&self) -> bool {
        matches!(self, ServiceMode::Global | ServiceMode::GlobalJob)
    }

    /// The MODE column of `service ls`, as docker/cli's formatter writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            ServiceMode::Replicated { .. } => "replicated",
            ServiceMode::Global => "global",
            ServiceMode::ReplicatedJob { .. } => "replicated job",
            ServiceMode::GlobalJob => "global job",
        }
    }
}

/// A job's run: which iteration its tasks belong to, and when it began (swarmkit's
/// `JobStatus`). Every `service update` of a job starts a new iteration; tasks of an older
/// one are removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatus {
    /// `JobIteration.Index`: 0 at creation, +1 per update.
    pub iteration: u64,
    pub last_execution: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestartCondition {
    None,
    OnFailure,
    Any,
}

impl RestartCondition {
    pub fn parse(s: &str) -> Option<RestartCondition> {
        match s {
            "none" => Some(RestartCondition::None),
            "on-failure" => Some(RestartCondition::OnFailure),
            "any" => Some(RestartCondition::Any),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            RestartCondition::None => "none",
            RestartCondition::OnFailure => "on-failure",
            RestartCondition::Any => "any",
        }
    }
}

/// swarmkit's defaults: condition any, delay 5 s, unlimited attempts, no window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestartPolicy {
    pub condition: RestartCondition,
    pub delay: Duration,
    /// 0 means unlimited.
    pub max_attempts: u64,
    /// 0 means attempts are counted over the whole life of the slot.
    pub window: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            condition: RestartCondition::Any,
            delay: Duration::from_secs(5),
            max_attempts: 0,
            window: Duration::ZERO,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// Ingress: the port is open on every node and load-balanced (the routing mesh).
/// Host: only on the nodes that run a task, straight to that task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PublishMode {
    Ingress,
    Host,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PortConfig {
    pub protocol: Protocol,
    pub target_port: u16,
    /// 0 until the allocator picks one from 30000–32767.
    pub published_port: u16,
    pub mode: PublishMode,
}

/// A placement constraint, `node.hostname==bd1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    /// `node.id`, `node.hostname`, `node.ip`, `node.role`, `node.platform.os`,
    /// `node.platform.arch`, `node.labels.<key>` or `engine.labels.<key>`.
    pub key: String,
    pub equal: bool,
    pub value: String,
}

impl Constraint {
    /// Parses `key==value` or `key!=value`.
    pub fn parse(s: &str) -> Result<Constraint, String> {
        let (key, equal, value) = if let Some((k, v)) = s.split_once("==") {
            (k, true, v)
        } else if let Some((k, v)) = s.split_once("!=") {
            (k, false, v)
        } else {
            return Err(format!("constraint expected one operator from ==, !=: {s}"));
        };
        let key = key.trim();
        let value = value.trim();
        let known = matches!(
            key,
            "node.id" | "node.hostname" | "node.ip" | "node.role" | "node.platform.os" | "node.platform.arch"
        ) || key.starts_with("node.labels.")
            || key.starts_with("engine.labels.");
        if !known || value.is_empty() {
            return Err(format!("invalid constraint: {s}"));
        }
        Ok(Constraint { key: key.to_string(), equal, value: value.to_string() })
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.key, if self.equal { "==" } else { "!=" }, self.value)
    }
}

/// What every task of the service runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTemplate {
    pub image: String,
    pub command: Vec<String>,
    pub env: Vec<String>,
    pub constraints: Vec<Constraint>,
    pub reservations: super::node::Resources,
    pub restart_policy: RestartPolicy,
    /// Networks the tasks attach to (ingress is added by the allocator when a port is
    /// published in ingress mode).
    pub networks: Vec<NetworkId>,
    /// Bumped by `service update --force` so tasks are replaced even with the same spec.
    pub force_update: u64,
    /// `--health-*` / `--no-healthcheck`; `None`: the image's own health check, if any.
    #[serde(default)]
    pub healthcheck: Option<super::HealthConfig>,
    /// `--placement-pref`, `--replicas-max-per-node`.
    #[serde(default)]
    pub placement: super::Placement,
    /// `--secret`: files under `/run/secrets` (or where their target says).
    #[serde(default)]
    pub secrets: Vec<super::DataReference>,
    /// `--config`: files at their target (`/NAME` by default).
    #[serde(default)]
    pub configs: Vec<super::DataReference>,
}

impl TaskTemplate {
    /// `docker service create IMAGE` with nothing else: no command, env, constraints,
    /// reservations or networks, and swarm's default restart policy.
    pub fn for_image(image: impl Into<String>) -> TaskTemplate {
        TaskTemplate {
            image: image.into(),
            command: vec![],
            env: vec![],
            constraints: vec![],
            reservations: super::node::Resources::default(),
            restart_policy: RestartPolicy::default(),
            networks: vec![],
            force_update: 0,
            healthcheck: None,
            placement: super::Placement::default(),
            secrets: vec![],
            configs: vec![],
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    /// `--label` (docker's `Annotations.Labels`); a stack's services carry
    /// `com.docker.stack.namespace` and `com.docker.stack.image`.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    pub mode: ServiceMode,
    pub task: TaskTemplate,
    pub ports: Vec<PortConfig>,
    /// `--update-*`; `None`: swarmkit's defaults (docker 20.10's CLI always sends one).
    pub update: Option<UpdateConfig>,
    /// `--rollback-*`; `None`: swarmkit's defaults.
    pub rollback: Option<UpdateConfig>,
}

impl ServiceSpec {
    /// The update settings in force: the spec's or swarmkit's defaults.
    pub fn update_config(&self) -> UpdateConfig {
        self.update.unwrap_or_default()
    }

    pub fn rollback_config(&self) -> UpdateConfig {
        self.rollback.unwrap_or_default()
    }

    pub fn replicas(&self) -> Option<u64> {
        match self.mode {
            ServiceMode::Replicated { replicas } => Some(replicas),
            ServiceMode::Global | ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob => None,
        }
    }
}

/// One VIP per attached network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualIp {
    pub network_id: NetworkId,
    pub addr: NetAddr,
}

/// What the allocator gave the service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub ports: Vec<PortConfig>,
    pub virtual_ips: Vec<VirtualIp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub spec: ServiceSpec,
    /// Spec version, bumped by every update; tasks record the version they were made from.
    pub spec_version: u64,
    /// `None` until the allocator has given the service its VIPs and ports.
    pub endpoint: Option<Endpoint>,
    pub created_at: Instant,
    pub updated_at: Instant,
    /// The updater's progress, `None` until it starts an update after the spec changed.
    pub update_status: Option<UpdateStatus>,
    /// The spec before the last `service update`: what a rollback returns to.
    pub previous_spec: Option<Box<ServiceSpec>>,
    /// Jobs only: the iteration their tasks run for.
    #[serde(default)]
    pub job_status: Option<JobStatus>,
}

impl Service {
    /// The networks tasks attach to, ingress first when a port is published in ingress mode.
    pub fn attached_networks(&self, ingress: Option<&NetworkId>) -> Vec<NetworkId> {
        let mut nets = Vec::new();
        if let Some(ingress) = ingress {
            if self.spec.ports.iter().any(|p| p.mode == PublishMode::Ingress) {
                nets.push(ingress.clone());
            }
        }
        for n in &self.spec.task.networks {
            if !nets.contains(n) {
                nets.push(n.clone());
            }
        }
        nets
    }
}

// ---------------------------------------------------------------------------------------------
// Rolling updates and rollbacks: the spec's `UpdateConfig`/`RollbackConfig` and the service's
// `UpdateStatus`, as swarmkit's api/specs.proto and api/objects.proto hold them.

/// `--update-failure-action` / `--rollback-failure-action`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureAction {
    Pause,
    Continue,
    Rollback,
}

impl FailureAction {
    pub fn parse(s: &str) -> Option<FailureAction> {
        match s {
            "pause" => Some(FailureAction::Pause),
            "continue" => Some(FailureAction::Continue),
            "rollback" => Some(FailureAction::Rollback),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            FailureAction::Pause => "pause",
            FailureAction::Continue => "continue",
            FailureAction::Rollback => "rollback",
        }
    }
}

/// `--update-order`: stop the old task before starting its replacement, or the other way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateOrder {
    StopFirst,
    StartFirst,
}

impl UpdateOrder {
    pub fn parse(s: &str) -> Option<UpdateOrder> {
        match s {
            "stop-first" => Some(UpdateOrder::StopFirst),
            "start-first" => Some(UpdateOrder::StartFirst),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateOrder::StopFirst => "stop-first",
            UpdateOrder::StartFirst => "start-first",
        }
    }
}

/// A failure ratio (`--update-max-failure-ratio 0.25`) in millionths, so specs stay `Eq` and the
/// updater's comparison is exact for the ratios people type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FailureRatio(pub u32);

impl FailureRatio {
    pub const MILLIONTHS: u64 = 1_000_000;

    /// `0`, `0.25`, `1`: a decimal between 0 and 1 (swarmkit refuses anything else).
    pub fn parse(s: &str) -> Result<FailureRatio, String> {
        let invalid = || format!("strconv.ParseFloat: parsing {s:?}: invalid syntax");
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        if (whole.is_empty() && fraction.is_empty())
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !fraction.chars().all(|c| c.is_ascii_digit())
        {
            return Err(invalid());
        }
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
        let mut millionths = whole.saturating_mul(Self::MILLIONTHS);
        for (i, digit) in fraction.chars().take(6).enumerate() {
            millionths += (digit as u64 - '0' as u64) * 10u64.pow(5 - i as u32);
        }
        if millionths > Self::MILLIONTHS {
            return Err(format!("failure ratio must be between 0 and 1, not {s}"));
        }
        Ok(FailureRatio(millionths as u32))
    }

    /// `failures / total > ratio`, as swarmkit's float comparison, in integers.
    pub fn exceeded_by(self, failures: u64, total: u64) -> bool {
        failures * Self::MILLIONTHS > self.0 as u64 * total.max(1)
    }
}

impl std::fmt::Display for FailureRatio {
    /// Go's `%v` of the float32: `0`, `0.25`, `1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = self.0 as u64 / Self::MILLIONTHS;
        let fraction = self.0 as u64 % Self::MILLIONTHS;
        if fraction == 0 {
            write!(f, "{whole}")
        } else {
            write!(f, "{whole}.{}", format!("{fraction:06}").trim_end_matches('0'))
        }
    }
}

/// How the updater replaces tasks (`UpdateConfig`), or puts the old ones back (`RollbackConfig`).
/// swarmkit's defaults, for both: parallelism 1, no delay, pause on failure, monitor 5 s,
/// failure ratio 0, stop-first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateConfig {
    /// Slots updated at once; 0 updates all at once.
    pub parallelism: u64,
    /// Wait after each slot is updated before its worker takes the next.
    pub delay: Duration,
    pub failure_action: FailureAction,
    /// A new task that fails within this time after it started counts as a failure.
    pub monitor: Duration,
    pub max_failure_ratio: FailureRatio,
    pub order: UpdateOrder,
}

impl Default for UpdateConfig {
    fn default() -> Self {
        UpdateConfig {
            parallelism: 1,
            delay: Duration::ZERO,
            failure_action: FailureAction::Pause,
            monitor: Duration::from_secs(5),
            max_failure_ratio: FailureRatio(0),
            order: UpdateOrder::StopFirst,
        }
    }
}

/// The `--update-*` (or `--rollback-*`) flags a user gave: each replaces one field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateConfigFlags {
    pub parallelism: Option<u64>,
    pub delay: Option<Duration>,
    pub failure_action: Option<FailureAction>,
    pub monitor: Option<Duration>,
    pub max_failure_ratio: Option<FailureRatio>,
    pub order: Option<UpdateOrder>,
}

impl UpdateConfigFlags {
    pub fn is_empty(&self) -> bool {
        *self == UpdateConfigFlags::default()
    }

    /// The config with these flags applied (docker's CLI starts from the defaults when the
    /// spec had none).
    pub fn apply(&self, config: Option<UpdateConfig>) -> Option<UpdateConfig> {
        if self.is_empty() {
            return config;
        }
        let mut c = config.unwrap_or_default();
        if let Some(v) = self.parallelism {
            c.parallelism = v;
        }
        if let Some(v) = self.delay {
            c.delay = v;
        }
        if let Some(v) = self.failure_action {
            c.failure_action = v;
        }
        if let Some(v) = self.monitor {
            c.monitor = v;
        }
        if let Some(v) = self.max_failure_ratio {
            c.max_failure_ratio = v;
        }
        if let Some(v) = self.order {
            c.order = v;
        }
        Some(c)
    }
}

/// `UpdateStatus.State`, in swarmkit's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateState {
    Updating,
    Paused,
    Completed,
    RollbackStarted,
    RollbackPaused,
    RollbackCompleted,
}

impl UpdateState {
    pub const ALL: [UpdateState; 6] = [
        UpdateState::Updating,
        UpdateState::Paused,
        UpdateState::Completed,
        UpdateState::RollbackStarted,
        UpdateState::RollbackPaused,
        UpdateState::RollbackCompleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UpdateState::Updating => "updating",
            UpdateState::Paused => "paused",
            UpdateState::Completed => "completed",
            UpdateState::RollbackStarted => "rollback_started",
            UpdateState::RollbackPaused => "rollback_paused",
            UpdateState::RollbackCompleted => "rollback_completed",
        }
    }

    /// The updater is replacing tasks (an update or a rollback).
    pub fn in_progress(self) -> bool {
        matches!(self, UpdateState::Updating | UpdateState::RollbackStarted)
    }

    pub fn is_paused(self) -> bool {
        matches!(self, UpdateState::Paused | UpdateState::RollbackPaused)
    }

    pub fn is_rollback(self) -> bool {
        matches!(self, UpdateState::RollbackStarted | UpdateState::RollbackPaused | UpdateState::RollbackCompleted)
    }
}

/// Where the last update (or rollback) of the service stands; `None` until the updater
/// starts one, and reset by every `service update`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateStatus {
    pub state: UpdateState,
    pub started_at: Option<Instant>,
    pub completed_at: Option<Instant>,
    /// swarmkit's texts: `update in progress`, `update completed`, `update paused due to
    /// failure or early termination of task ID`, `manually requested rollback`, ...
    pub message: String,
}
