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
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    pub mode: ServiceMode,
    pub task: TaskTemplate,
    pub ports: Vec<PortConfig>,
}

impl ServiceSpec {
    pub fn replicas(&self) -> Option<u64> {
        match self.mode {
            ServiceMode::Replicated { replicas } => Some(replicas),
            ServiceMode::Global => None,
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
