//! Core's reply objects in docker's JSON shapes (the swagger's models, from `bollard-stubs`).
//! Every field is optional there; what swarmd has no notion of is left out, which docker's
//! clients read as the zero value, as they do for fields an older daemon does not send.

use bollard_stubs::models as m;
use std::collections::HashMap;
use swarm_core::api::{
    Availability, Cluster, Network, NetworkScope, NodeRole, NodeState, PortConfig, Protocol, PublishMode,
    RestartCondition, Service, ServiceMode, ServiceSpec, Task, TaskState, TaskTemplate,
};
use swarm_core::api::{FailureAction, FailureRatio, UpdateOrder, UpdateState, UpdateStatus};
use swarm_core::cli::inspect::{rfc3339, DISPLAY_EPOCH_UNIX_SECS};
use swarm_core::control::{NodeView, ServiceView, SwarmInfoView, TaskView};
use swarm_core::runtime::{ContainerInfo, ContainerState};
use swarm_core::time::Instant;

/// The Engine API version swarmd speaks: docker 20.10's (Debian's `docker.io`).
pub const API_VERSION: &str = "1.41";
/// The oldest version dockerd 20.10 accepts.
pub const MIN_API_VERSION: &str = "1.12";

/// Unix seconds of a core instant (core counts from its display epoch, see `Clock::wall`).
pub fn unix_secs(at: Instant) -> i64 {
    (DISPLAY_EPOCH_UNIX_SECS + at.as_millis() / 1000) as i64
}

fn version(index: u64) -> Option<m::ObjectVersion> {
    Some(m::ObjectVersion { index: Some(index) })
}

pub fn task_state(s: TaskState) -> m::TaskState {
    match s {
        TaskState::New => m::TaskState::NEW,
        TaskState::Pending => m::TaskState::PENDING,
        TaskState::Assigned => m::TaskState::ASSIGNED,
        TaskState::Accepted => m::TaskState::ACCEPTED,
        TaskState::Preparing => m::TaskState::PREPARING,
        TaskState::Ready => m::TaskState::READY,
        TaskState::Starting => m::TaskState::STARTING,
        TaskState::Running => m::TaskState::RUNNING,
        TaskState::Complete => m::TaskState::COMPLETE,
        TaskState::Shutdown => m::TaskState::SHUTDOWN,
        TaskState::Failed => m::TaskState::FAILED,
        TaskState::Rejected => m::TaskState::REJECTED,
        TaskState::Remove => m::TaskState::REMOVE,
        TaskState::Orphaned => m::TaskState::ORPHANED,
    }
}

pub fn node(view: &NodeView) -> m::Node {
    let n = &view.node;
    let manager_status = n.manager_status.as_ref().map(|s| {
        let leader = view.manager_status.as_deref() == Some("Leader");
        let reachable = s.reachable || leader;
        m::ManagerStatus {
            leader: Some(leader),
            reachability: Some(if reachable { m::Reachability::REACHABLE } else { m::Reachability::UNREACHABLE }),
            addr: Some(s.addr.to_string()),
        }
    });
    m::Node {
        id: Some(n.id.to_string()),
        // Core keeps no per-node version; the CLI only echoes it back on an update.
        version: version(1),
        created_at: Some(rfc3339(n.created_at)),
        updated_at: Some(rfc3339(n.created_at)),
        spec: Some(m::NodeSpec {
            name: None,
            labels: Some(n.spec.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            role: Some(match n.spec.role {
                NodeRole::Worker => m::NodeSpecRoleEnum::WORKER,
                NodeRole::Manager => m::NodeSpecRoleEnum::MANAGER,
            }),
            availability: Some(match n.spec.availability {
                Availability::Active => m::NodeSpecAvailabilityEnum::ACTIVE,
                Availability::Pause => m::NodeSpecAvailabilityEnum::PAUSE,
                Availability::Drain => m::NodeSpecAvailabilityEnum::DRAIN,
            }),
        }),
        description: Some(m::NodeDescription {
            hostname: Some(n.description.hostname.clone()),
            platform: Some(m::Platform {
                architecture: Some(n.description.platform_arch.clone()),
                os: Some(n.description.platform_os.clone()),
            }),
            resources: Some(m::ResourceObject {
                nano_cpus: Some(n.description.resources.nano_cpus as i64),
                memory_bytes: Some(n.description.resources.memory_bytes as i64),
                generic_resources: None,
            }),
            engine: Some(m::EngineDescription {
                engine_version: Some(n.description.engine_version.clone()),
                labels: Some(n.description.engine_labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
                plugins: None,
            }),
            tls_info: None,
        }),
        status: Some(m::NodeStatus {
            state: Some(match n.status.state {
                NodeState::Unknown => m::NodeState::UNKNOWN,
                NodeState::Down => m::NodeState::DOWN,
                NodeState::Ready => m::NodeState::READY,
                NodeState::Disconnected => m::NodeState::DISCONNECTED,
            }),
            message: Some(n.status.message.clone()).filter(|s| !s.is_empty()),
            addr: Some(n.status.addr.clone()),
        }),
        manager_status,
    }
}

fn port(p: &PortConfig) -> m::EndpointPortConfig {
    m::EndpointPortConfig {
        name: None,
        protocol: Some(match p.protocol {
            Protocol::Tcp => m::EndpointPortConfigProtocolEnum::TCP,
            Protocol::Udp => m::EndpointPortConfigProtocolEnum::UDP,
        }),
        target_port: Some(i64::from(p.target_port)),
        published_port: Some(i64::from(p.published_port)),
        publish_mode: Some(match p.mode {
            PublishMode::Ingress => m::EndpointPortConfigPublishModeEnum::INGRESS,
            PublishMode::Host => m::EndpointPortConfigPublishModeEnum::HOST,
        }),
    }
}

pub fn task_spec(t: &TaskTemplate) -> m::TaskSpec {
    m::TaskSpec {
        container_spec: Some(m::TaskSpecContainerSpec {
            image: Some(t.image.clone()),
            args: Some(t.command.clone()).filter(|a| !a.is_empty()),
            env: Some(t.env.clone()).filter(|e| !e.is_empty()),
            health_check: t.healthcheck.as_ref().map(|h| m::HealthConfig {
                test: Some(h.test.clone()),
                interval: Some(h.interval.as_nanos() as i64),
                timeout: Some(h.timeout.as_nanos() as i64),
                retries: Some(h.retries as i64),
                start_period: Some(h.start_period.as_nanos() as i64),
                start_interval: None,
            }),
            ..Default::default()
        }),
        resources: Some(m::TaskSpecResources {
            limits: Some(m::Limit::default()),
            reservations: Some(m::ResourceObject {
                nano_cpus: Some(t.reservations.nano_cpus as i64).filter(|n| *n != 0),
                memory_bytes: Some(t.reservations.memory_bytes as i64).filter(|n| *n != 0),
                generic_resources: None,
            }),
        }),
        restart_policy: Some(m::TaskSpecRestartPolicy {
            condition: Some(match t.restart_policy.condition {
                RestartCondition::None => m::TaskSpecRestartPolicyConditionEnum::NONE,
                RestartCondition::OnFailure => m::TaskSpecRestartPolicyConditionEnum::ON_FAILURE,
                RestartCondition::Any => m::TaskSpecRestartPolicyConditionEnum::ANY,
            }),
            delay: Some(t.restart_policy.delay.as_nanos() as i64),
            max_attempts: Some(t.restart_policy.max_attempts as i64),
            window: Some(t.restart_policy.window.as_nanos() as i64),
        }),
        placement: Some(m::TaskSpecPlacement {
            constraints: Some(t.constraints.iter().map(|c| c.to_string()).collect::<Vec<_>>())
                .filter(|c| !c.is_empty()),
            preferences: Some(
                t.placement
                    .preferences
                    .iter()
                    .map(|p| m::TaskSpecPlacementPreferences {
                        spread: Some(m::TaskSpecPlacementSpread { spread_descriptor: Some(p.descriptor.clone()) }),
                    })
                    .collect::<Vec<_>>(),
            )
            .filter(|p| !p.is_empty()),
            max_replicas: Some(t.placement.max_replicas as i64).filter(|n| *n != 0),
            ..Default::default()
        }),
        force_update: Some(t.force_update as i64),
        runtime: Some("container".into()),
        networks: Some(
            t.networks
                .iter()
                .map(|n| m::NetworkAttachmentConfig { target: Some(n.to_string()), ..Default::default() })
                .collect::<Vec<_>>(),
        )
        .filter(|n| !n.is_empty()),
        ..Default::default()
    }
}

pub fn service_spec(spec: &ServiceSpec) -> m::ServiceSpec {
    m::ServiceSpec {
        name: Some(spec.name.clone()),
        labels: Some(spec.labels.clone().into_iter().collect()),
        task_template: Some(task_spec(&spec.task)),
        mode: Some(match spec.mode {
            ServiceMode::Replicated { replicas } => m::ServiceSpecMode {
                replicated: Some(m::ServiceSpecModeReplicated { replicas: Some(replicas as i64) }),
                ..Default::default()
            },
            ServiceMode::Global => m::ServiceSpecMode { global: Some(HashMap::new()), ..Default::default() },
            ServiceMode::ReplicatedJob { max_concurrent, total_completions } => m::ServiceSpecMode {
                replicated_job: Some(m::ServiceSpecModeReplicatedJob {
                    max_concurrent: Some(max_concurrent as i64),
                    total_completions: Some(total_completions as i64),
                }),
                ..Default::default()
            },
            ServiceMode::GlobalJob => m::ServiceSpecMode { global_job: Some(HashMap::new()), ..Default::default() },
        }),
        endpoint_spec: Some(m::EndpointSpec {
            mode: Some(m::EndpointSpecModeEnum::VIP),
            ports: Some(spec.ports.iter().map(port).collect::<Vec<_>>()).filter(|p| !p.is_empty()),
        }),
        update_config: spec.update.as_ref().map(|c| m::ServiceSpecUpdateConfig {
            parallelism: Some(c.parallelism as i64),
            delay: Some(c.delay.as_nanos() as i64),
            failure_action: Some(match c.failure_action {
                FailureAction::Pause => m::ServiceSpecUpdateConfigFailureActionEnum::PAUSE,
                FailureAction::Continue => m::ServiceSpecUpdateConfigFailureActionEnum::CONTINUE,
                FailureAction::Rollback => m::ServiceSpecUpdateConfigFailureActionEnum::ROLLBACK,
            }),
            monitor: Some(c.monitor.as_nanos() as i64),
            max_failure_ratio: Some(ratio(c.max_failure_ratio)),
            order: Some(match c.order {
                UpdateOrder::StopFirst => m::ServiceSpecUpdateConfigOrderEnum::STOP_FIRST,
                UpdateOrder::StartFirst => m::ServiceSpecUpdateConfigOrderEnum::START_FIRST,
            }),
        }),
        rollback_config: spec.rollback.as_ref().map(|c| m::ServiceSpecRollbackConfig {
            parallelism: Some(c.parallelism as i64),
            delay: Some(c.delay.as_nanos() as i64),
            failure_action: Some(match c.failure_action {
                FailureAction::Continue => m::ServiceSpecRollbackConfigFailureActionEnum::CONTINUE,
                // A rollback's failure action is pause or continue (the parser refuses rollback).
                FailureAction::Pause | FailureAction::Rollback => m::ServiceSpecRollbackConfigFailureActionEnum::PAUSE,
            }),
            monitor: Some(c.monitor.as_nanos() as i64),
            max_failure_ratio: Some(ratio(c.max_failure_ratio)),
            order: Some(match c.order {
                UpdateOrder::StopFirst => m::ServiceSpecRollbackConfigOrderEnum::STOP_FIRST,
                UpdateOrder::StartFirst => m::ServiceSpecRollbackConfigOrderEnum::START_FIRST,
            }),
        }),
        ..Default::default()
    }
}

/// A failure ratio as the float docker's JSON carries (millionths: exact for what people type,
/// and read back through the same decimal text).
fn ratio(r: FailureRatio) -> f64 {
    r.to_string().parse().unwrap_or(0.0)
}

fn update_status(status: &UpdateStatus) -> m::ServiceUpdateStatus {
    m::ServiceUpdateStatus {
        state: Some(match status.state {
            UpdateState::Updating => m::ServiceUpdateStatusStateEnum::UPDATING,
            UpdateState::Paused => m::ServiceUpdateStatusStateEnum::PAUSED,
            UpdateState::Completed => m::ServiceUpdateStatusStateEnum::COMPLETED,
            UpdateState::RollbackStarted => m::ServiceUpdateStatusStateEnum::ROLLBACK_STARTED,
            UpdateState::RollbackPaused => m::ServiceUpdateStatusStateEnum::ROLLBACK_PAUSED,
            UpdateState::RollbackCompleted => m::ServiceUpdateStatusStateEnum::ROLLBACK_COMPLETED,
        }),
        started_at: status.started_at.map(rfc3339),
        completed_at: status.completed_at.map(rfc3339),
        message: Some(status.message.clone()),
    }
}

pub fn service(view: &ServiceView) -> m::Service {
    let s: &Service = &view.service;
    let endpoint = s.endpoint.clone().unwrap_or_default();
    let spec = service_spec(&s.spec);
    m::Service {
        id: Some(s.id.to_string()),
        version: version(s.spec_version),
        created_at: Some(rfc3339(s.created_at)),
        updated_at: Some(rfc3339(s.updated_at)),
        endpoint: Some(m::ServiceEndpoint {
            spec: spec.endpoint_spec.clone(),
            ports: Some(endpoint.ports.iter().map(port).collect::<Vec<_>>()).filter(|p| !p.is_empty()),
            virtual_ips: Some(
                endpoint
                    .virtual_ips
                    .iter()
                    .map(|v| m::ServiceEndpointVirtualIps {
                        network_id: Some(v.network_id.to_string()),
                        addr: Some(v.addr.to_string()),
                    })
                    .collect::<Vec<_>>(),
            )
            .filter(|v| !v.is_empty()),
        }),
        spec: Some(spec),
        service_status: Some(m::ServiceServiceStatus {
            running_tasks: Some(view.running),
            desired_tasks: Some(view.desired),
            completed_tasks: Some(view.completed),
        }),
        update_status: s.update_status.as_ref().map(update_status),
        job_status: s.job_status.as_ref().map(|j| m::ServiceJobStatus {
            job_iteration: Some(m::ObjectVersion { index: Some(j.iteration) }),
            last_execution: Some(rfc3339(j.last_execution)),
        }),
    }
}

pub fn task(view: &TaskView) -> m::Task {
    let t: &Task = &view.task;
    m::Task {
        id: Some(t.id.to_string()),
        version: version(t.spec_version),
        created_at: Some(rfc3339(t.created_at)),
        updated_at: Some(rfc3339(t.status.timestamp)),
        name: None,
        labels: Some(HashMap::new()),
        spec: Some(task_spec(&t.spec)),
        service_id: Some(t.service_id.to_string()),
        slot: Some(t.slot as i64).filter(|s| *s != 0),
        node_id: t.node_id.as_ref().map(|n| n.to_string()),
        status: Some(m::TaskStatus {
            timestamp: Some(rfc3339(t.status.timestamp)),
            state: Some(task_state(t.status.state)),
            message: Some(t.status.message.clone()),
            err: Some(t.status.err.clone()).filter(|e| !e.is_empty()),
            container_status: t.status.container_id.as_ref().map(|c| m::ContainerStatus {
                container_id: Some(c.clone()),
                pid: None,
                exit_code: t.status.exit_code.map(i64::from),
            }),
            port_status: None,
        }),
        desired_state: Some(task_state(t.desired_state)),
        assigned_generic_resources: None,
        job_iteration: t.job_iteration.map(|i| m::ObjectVersion { index: Some(i) }),
    }
}

pub fn network(n: &Network) -> m::Network {
    let scope = match n.scope {
        NetworkScope::Swarm => "swarm",
        NetworkScope::Local => "local",
    };
    let config = n
        .subnet
        .map(|s| {
            vec![m::IpamConfig {
                subnet: Some(s.to_string()),
                gateway: Some(s.gateway().to_string()),
                ..Default::default()
            }]
        })
        .unwrap_or_default();
    m::Network {
        name: Some(n.name.clone()),
        id: Some(n.id.to_string()),
        created: Some(rfc3339(n.created_at)),
        scope: Some(scope.into()),
        driver: Some(n.driver.as_str().into()),
        enable_ipv6: Some(false),
        ipam: Some(m::Ipam { driver: Some("default".into()), config: Some(config), options: None }),
        internal: Some(false),
        attachable: Some(n.attachable),
        ingress: Some(n.ingress),
        containers: Some(HashMap::new()),
        options: Some(HashMap::new()),
        labels: Some(n.labels.clone().into_iter().collect()),
    }
}

/// The daemon's status words (`Up 40 seconds`), as `docker ps` shows them.
fn container_status(state: &ContainerState, now: Instant) -> String {
    use swarm_core::cli::humanize::human_duration;
    match state {
        ContainerState::Created => "Created".into(),
        ContainerState::Running { since } => format!("Up {}", human_duration(now.saturating_since(*since))),
        ContainerState::Exited { exit_code, at } => {
            format!("Exited ({exit_code}) {} ago", human_duration(now.saturating_since(*at)))
        }
    }
}

fn state_word(state: &ContainerState) -> &'static str {
    match state {
        ContainerState::Created => "created",
        ContainerState::Running { .. } => "running",
        ContainerState::Exited { .. } => "exited",
    }
}

/// The swarm labels dockerd's executor puts on a task's container, from its name
/// (`<service>.<slot>.<task id>`).
fn task_labels(name: &str) -> HashMap<String, String> {
    let mut labels = HashMap::new();
    let parts: Vec<&str> = name.rsplitn(3, '.').collect();
    if let [task_id, _slot, service] = parts[..] {
        labels.insert("com.docker.swarm.service.name".into(), service.to_string());
        labels.insert("com.docker.swarm.task.id".into(), task_id.to_string());
        labels
            .insert("com.docker.swarm.task.name".into(), name.rsplit_once('.').map(|(n, _)| n).unwrap_or(name).into());
    }
    labels
}

/// `80/tcp` → docker's unpublished port (the CLI prints it back as `80/tcp`).
fn exposed_port(text: &str) -> Option<m::Port> {
    let (port, proto) = text.split_once('/').unwrap_or((text, "tcp"));
    Some(m::Port {
        ip: None,
        private_port: port.parse().ok()?,
        public_port: None,
        typ: Some(match proto {
            "udp" => m::PortTypeEnum::UDP,
            "sctp" => m::PortTypeEnum::SCTP,
            _ => m::PortTypeEnum::TCP,
        }),
    })
}

pub fn container_summary(c: &ContainerInfo, now: Instant) -> m::ContainerSummary {
    m::ContainerSummary {
        id: Some(c.id.clone()),
        names: Some(vec![format!("/{}", c.name)]),
        image: Some(c.image.clone()),
        image_id: Some(String::new()),
        command: Some(c.command.clone()),
        created: Some(unix_secs(c.created_at)),
        ports: Some(c.exposed_ports.iter().filter_map(|p| exposed_port(p)).collect()),
        labels: Some(task_labels(&c.name)),
        state: Some(state_word(&c.state).into()),
        status: Some(container_status(&c.state, now)),
        host_config: Some(m::ContainerSummaryHostConfig { network_mode: Some("default".into()) }),
        ..Default::default()
    }
}

pub fn container_inspect(c: &ContainerInfo) -> m::ContainerInspectResponse {
    let (running, exit_code, started, finished) = match &c.state {
        ContainerState::Created => (false, 0, None, None),
        ContainerState::Running { since } => (true, 0, Some(*since), None),
        ContainerState::Exited { exit_code, at } => (false, *exit_code, None, Some(*at)),
    };
    const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
    let mut words = c.command.split_whitespace().map(str::to_string);
    m::ContainerInspectResponse {
        id: Some(c.id.clone()),
        created: Some(rfc3339(c.created_at)),
        path: words.next(),
        args: Some(words.collect()),
        state: Some(m::ContainerState {
            status: Some(match c.state {
                ContainerState::Created => m::ContainerStateStatusEnum::CREATED,
                ContainerState::Running { .. } => m::ContainerStateStatusEnum::RUNNING,
                ContainerState::Exited { .. } => m::ContainerStateStatusEnum::EXITED,
            }),
            running: Some(running),
            paused: Some(false),
            restarting: Some(false),
            oom_killed: Some(false),
            dead: Some(false),
            pid: Some(0),
            exit_code: Some(i64::from(exit_code)),
            error: Some(String::new()),
            started_at: Some(started.map(rfc3339).unwrap_or_else(|| ZERO_TIME.into())),
            finished_at: Some(finished.map(rfc3339).unwrap_or_else(|| ZERO_TIME.into())),
            health: None,
        }),
        image: Some(c.image.clone()),
        name: Some(format!("/{}", c.name)),
        restart_count: Some(0),
        driver: Some("overlayfs".into()),
        platform: Some("linux".into()),
        config: Some(m::ContainerConfig {
            hostname: Some(c.id.chars().take(12).collect()),
            image: Some(c.image.clone()),
            cmd: Some(c.command.split_whitespace().map(str::to_string).collect()),
            labels: Some(task_labels(&c.name)),
            exposed_ports: Some(c.exposed_ports.iter().map(|p| (p.clone(), HashMap::new())).collect()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn swarm_spec(cluster: &Cluster) -> m::SwarmSpec {
    m::SwarmSpec {
        name: Some("default".into()),
        labels: Some(HashMap::new()),
        orchestration: Some(m::SwarmSpecOrchestration {
            task_history_retention_limit: Some(cluster.task_history_limit as i64),
        }),
        raft: Some(m::SwarmSpecRaft {
            snapshot_interval: Some(10_000),
            keep_old_snapshots: Some(0),
            log_entries_for_slow_followers: Some(500),
            election_tick: Some(10),
            heartbeat_tick: Some(1),
        }),
        dispatcher: Some(m::SwarmSpecDispatcher {
            heartbeat_period: Some(cluster.dispatcher_heartbeat.as_nanos() as i64),
        }),
        ca_config: Some(m::SwarmSpecCaConfig {
            node_cert_expiry: Some(cluster.node_cert_expiry.as_nanos() as i64),
            ..Default::default()
        }),
        encryption_config: Some(m::SwarmSpecEncryptionConfig { auto_lock_managers: Some(false) }),
        task_defaults: Some(m::SwarmSpecTaskDefaults::default()),
    }
}

fn addr_pool(cluster: &Cluster) -> (Vec<String>, u32) {
    match &cluster.default_addr_pool {
        Some(p) => (p.pools.iter().map(|s| s.to_string()).collect(), p.subnet_size),
        None => (vec!["10.0.0.0/8".into()], swarm_core::api::DEFAULT_SUBNET_SIZE),
    }
}

pub fn cluster_info(cluster: &Cluster) -> m::ClusterInfo {
    let (pools, size) = addr_pool(cluster);
    m::ClusterInfo {
        id: Some(cluster.id.clone()),
        version: version(1),
        spec: Some(swarm_spec(cluster)),
        tls_info: Some(m::TlsInfo::default()),
        root_rotation_in_progress: Some(false),
        data_path_port: Some(4789),
        default_addr_pool: Some(pools),
        subnet_size: Some(size),
        ..Default::default()
    }
}

/// `GET /swarm`: the cluster with its join tokens.
pub fn swarm(cluster: &Cluster, worker_token: String, manager_token: String) -> m::Swarm {
    let info = cluster_info(cluster);
    m::Swarm {
        id: info.id,
        version: info.version,
        created_at: info.created_at,
        updated_at: info.updated_at,
        spec: info.spec,
        tls_info: info.tls_info,
        root_rotation_in_progress: info.root_rotation_in_progress,
        data_path_port: info.data_path_port,
        default_addr_pool: info.default_addr_pool,
        subnet_size: info.subnet_size,
        join_tokens: Some(m::JoinTokens { worker: Some(worker_token), manager: Some(manager_token) }),
    }
}

pub fn swarm_info(i: &SwarmInfoView) -> m::SwarmInfo {
    use swarm_core::control::LocalNodeState as L;
    m::SwarmInfo {
        node_id: Some(i.node_id.clone()),
        node_addr: Some(i.node_addr.clone()),
        local_node_state: Some(match i.local_state {
            L::Inactive => m::LocalNodeState::INACTIVE,
            L::Pending => m::LocalNodeState::PENDING,
            L::Active => m::LocalNodeState::ACTIVE,
        }),
        control_available: Some(i.control_available),
        error: Some(i.error.clone()),
        remote_managers: Some(
            i.remote_managers
                .iter()
                .map(|(id, addr)| m::PeerNode { node_id: Some(id.to_string()), addr: Some(addr.to_string()) })
                .collect(),
        ),
        nodes: Some(i.nodes as i64),
        managers: Some(i.managers as i64),
        // dockerd sets the cluster on every manager (the CLI reads its spec when "Is Manager").
        cluster: if i.control_available {
            Some(i.cluster.as_ref().map(cluster_info).unwrap_or_default())
        } else {
            None
        },
    }
}

/// dockerd's `Swarm` header on `/_ping`: `inactive`, `pending`, `active/worker`, `active/manager`.
pub fn swarm_header(i: &SwarmInfoView) -> String {
    use swarm_core::control::LocalNodeState as L;
    match i.local_state {
        L::Inactive => "inactive".into(),
        L::Pending => "pending".into(),
        L::Active if i.control_available => "active/manager".into(),
        L::Active => "active/worker".into(),
    }
}
