//! Docker's request bodies (a `ServiceSpec`, a `NodeSpec`) turned into core's typed requests:
//! a create into `ServiceCreateArgs`, an update (docker sends the whole new spec) into the
//! difference from the current object, which is what core's update requests carry.

use bollard_stubs::models as m;
use std::time::Duration;
use swarm_core::api::{
    Availability, Constraint, DataReferenceArg, FailureAction, FailureRatio, NodeRole, PortConfig, Protocol,
    PublishMode, Resources, RestartCondition, Service, ServiceMode, SpreadOver, UpdateConfigFlags, UpdateOrder,
};
use swarm_core::control::{
    DataReferenceFlags, HealthFlags, NodeUpdateArgs, NodeView, PlacementFlags, ServiceCreateArgs, ServiceUpdateArgs,
};

fn invalid(message: impl Into<String>) -> String {
    message.into()
}

/// `busybox:latest@sha256:…` (a resolved digest) → `busybox:latest`: core's images are names.
fn image_name(image: &str) -> String {
    image.split_once('@').map(|(n, _)| n).unwrap_or(image).to_string()
}

fn ports(spec: Option<&m::EndpointSpec>) -> Result<Vec<PortConfig>, String> {
    let Some(ports) = spec.and_then(|e| e.ports.as_ref()) else { return Ok(Vec::new()) };
    ports
        .iter()
        .map(|p| {
            let protocol = match p.protocol {
                None
                | Some(m::EndpointPortConfigProtocolEnum::EMPTY)
                | Some(m::EndpointPortConfigProtocolEnum::TCP) => Protocol::Tcp,
                Some(m::EndpointPortConfigProtocolEnum::UDP) => Protocol::Udp,
                Some(m::EndpointPortConfigProtocolEnum::SCTP) => {
                    return Err(invalid("swarmd does not publish sctp ports"))
                }
            };
            let mode = match p.publish_mode {
                Some(m::EndpointPortConfigPublishModeEnum::HOST) => PublishMode::Host,
                _ => PublishMode::Ingress,
            };
            let port = |v: Option<i64>, what: &str| -> Result<u16, String> {
                u16::try_from(v.unwrap_or(0)).map_err(|_| invalid(format!("invalid {what} port: {}", v.unwrap_or(0))))
            };
            Ok(PortConfig {
                protocol,
                target_port: port(p.target_port, "target")?,
                published_port: port(p.published_port, "published")?,
                mode,
            })
        })
        .collect()
}

fn networks(spec: &m::ServiceSpec) -> Vec<String> {
    // API ≥ 1.25 puts them in the task template; older clients at the service's top level.
    let task = spec.task_template.as_ref().and_then(|t| t.networks.as_ref());
    let top = spec.networks.as_ref();
    task.or(top).map(|n| n.iter().filter_map(|a| a.target.clone()).collect()).unwrap_or_default()
}

fn constraints(task: Option<&m::TaskSpec>) -> Result<Vec<Constraint>, String> {
    task.and_then(|t| t.placement.as_ref())
        .and_then(|p| p.constraints.as_ref())
        .map(|cs| cs.iter().map(|c| Constraint::parse(c)).collect())
        .unwrap_or_else(|| Ok(Vec::new()))
}

fn reservations(task: Option<&m::TaskSpec>) -> Resources {
    let r = task.and_then(|t| t.resources.as_ref()).and_then(|r| r.reservations.as_ref());
    Resources {
        nano_cpus: r.and_then(|r| r.nano_cpus).unwrap_or(0).max(0) as u64,
        memory_bytes: r.and_then(|r| r.memory_bytes).unwrap_or(0).max(0) as u64,
    }
}

struct Restart {
    condition: Option<RestartCondition>,
    delay: Option<Duration>,
    max_attempts: Option<u64>,
    window: Option<Duration>,
}

fn restart(task: Option<&m::TaskSpec>) -> Restart {
    let r = task.and_then(|t| t.restart_policy.as_ref());
    let nanos = |v: Option<i64>| v.map(|n| Duration::from_nanos(n.max(0) as u64));
    Restart {
        condition: r.and_then(|r| r.condition).and_then(|c| match c {
            m::TaskSpecRestartPolicyConditionEnum::NONE => Some(RestartCondition::None),
            m::TaskSpecRestartPolicyConditionEnum::ON_FAILURE => Some(RestartCondition::OnFailure),
            m::TaskSpecRestartPolicyConditionEnum::ANY => Some(RestartCondition::Any),
            m::TaskSpecRestartPolicyConditionEnum::EMPTY => None,
        }),
        delay: nanos(r.and_then(|r| r.delay)),
        // The CLI sends 0 ("unlimited") when the flag is not given, which is core's default.
        max_attempts: r.and_then(|r| r.max_attempts).map(|n| n.max(0) as u64),
        window: nanos(r.and_then(|r| r.window)),
    }
}

/// The image and its arguments: `service create IMAGE CMD ARGS…` (docker's `Command` is
/// `--entrypoint`, `Args` the words after the image; core runs them as one command line).
fn command(task: Option<&m::TaskSpec>) -> (String, Vec<String>) {
    let c = task.and_then(|t| t.container_spec.as_ref());
    let image = c.and_then(|c| c.image.as_deref()).map(image_name).unwrap_or_default();
    let mut words: Vec<String> = c.and_then(|c| c.command.clone()).unwrap_or_default();
    words.extend(c.and_then(|c| c.args.clone()).unwrap_or_default());
    (image, words)
}

/// A spec's mode as the CLI's flags: (global, replicas — a replicated job's total of
/// completions —, job, a replicated job's max concurrency).
type ModeFlags = (bool, Option<u64>, bool, Option<u64>);

fn mode(spec: &m::ServiceSpec) -> Result<ModeFlags, String> {
    let count = |n: Option<i64>| n.map(|n| n.max(0) as u64);
    match &spec.mode {
        None => Ok((false, None, false, None)),
        Some(mode) if mode.global.is_some() => Ok((true, None, false, None)),
        Some(mode) if mode.global_job.is_some() => Ok((true, None, true, None)),
        Some(mode) if mode.replicated_job.is_some() => {
            let job = mode.replicated_job.as_ref().expect("matched");
            // The API's defaults: a max concurrency of 1, a total of the max concurrency.
            let max_concurrent = count(job.max_concurrent).unwrap_or(1);
            let total = count(job.total_completions).unwrap_or(max_concurrent);
            Ok((false, Some(total), true, Some(max_concurrent)))
        }
        Some(mode) => Ok((false, count(mode.replicated.as_ref().and_then(|r| r.replicas)), false, None)),
    }
}

/// `POST /services/create`.
pub fn service_create(spec: &m::ServiceSpec) -> Result<ServiceCreateArgs, String> {
    let task = spec.task_template.as_ref();
    let (image, command) = command(task);
    if image.is_empty() {
        return Err(invalid("ContainerSpec: image reference must be provided"));
    }
    let (global, replicas, job, max_concurrent) = mode(spec)?;
    let restart = restart(task);
    Ok(ServiceCreateArgs {
        name: spec.name.clone().filter(|n| !n.is_empty()),
        image,
        command,
        replicas,
        global,
        publish: ports(spec.endpoint_spec.as_ref())?,
        networks: networks(spec),
        constraints: constraints(task)?,
        env: task.and_then(|t| t.container_spec.as_ref()).and_then(|c| c.env.clone()).unwrap_or_default(),
        reservations: reservations(task),
        restart_condition: restart.condition,
        restart_delay: restart.delay,
        restart_max_attempts: restart.max_attempts,
        restart_window: restart.window,
        health: Box::new(health(task)?),
        placement: Box::new(placement(task)?),
        update: Box::new(update_config(spec.update_config.as_ref().map(UpdateConfigJson::from))?),
        rollback: Box::new(update_config(spec.rollback_config.as_ref().map(UpdateConfigJson::from))?),
        job,
        max_concurrent,
        references: {
            let (secret_add, config_add) = data_references(task);
            Box::new(DataReferenceFlags { secret_add, config_add, ..Default::default() })
        },
        labels: spec.labels.clone().unwrap_or_default().into_iter().collect(),
    })
}

// ----- secrets and configs -----

/// `ContainerSpec.Secrets` and `Configs` as the `--secret`/`--config` values the CLI had (it
/// resolved the names to IDs already; core resolves the names again, and refuses a name that
/// is gone meanwhile).
fn data_references(task: Option<&m::TaskSpec>) -> (Vec<DataReferenceArg>, Vec<DataReferenceArg>) {
    let container = task.and_then(|t| t.container_spec.as_ref());
    let arg = |name: Option<&String>, file: (Option<&String>, Option<&String>, Option<&String>, Option<u32>)| {
        let source = name.cloned().unwrap_or_default();
        DataReferenceArg {
            target: file.0.cloned().unwrap_or_else(|| source.clone()),
            uid: file.1.cloned().unwrap_or_else(|| "0".into()),
            gid: file.2.cloned().unwrap_or_else(|| "0".into()),
            mode: file.3.unwrap_or(0o444),
            source,
        }
    };
    let secrets = container
        .and_then(|c| c.secrets.as_ref())
        .into_iter()
        .flatten()
        .map(|s| {
            let f = s.file.as_ref();
            arg(
                s.secret_name.as_ref(),
                (
                    f.and_then(|f| f.name.as_ref()),
                    f.and_then(|f| f.uid.as_ref()),
                    f.and_then(|f| f.gid.as_ref()),
                    f.and_then(|f| f.mode),
                ),
            )
        })
        .collect();
    let configs = container
        .and_then(|c| c.configs.as_ref())
        .into_iter()
        .flatten()
        .map(|s| {
            let f = s.file.as_ref();
            arg(
                s.config_name.as_ref(),
                (
                    f.and_then(|f| f.name.as_ref()),
                    f.and_then(|f| f.uid.as_ref()),
                    f.and_then(|f| f.gid.as_ref()),
                    f.and_then(|f| f.mode),
                ),
            )
        })
        .collect();
    (secrets, configs)
}

/// A changed list of references: every old name out, every new reference in (the result is the
/// new list, in its order).
fn references_change(
    old: &[swarm_core::api::DataReference],
    new: Vec<DataReferenceArg>,
) -> (Vec<String>, Vec<DataReferenceArg>) {
    let same = old.len() == new.len()
        && old.iter().zip(&new).all(|(o, n)| {
            o.name == n.source && o.target == n.target && o.uid == n.uid && o.gid == n.gid && o.mode == n.mode
        });
    if same {
        return (Vec::new(), Vec::new());
    }
    let mut names: Vec<String> = old.iter().map(|r| r.name.clone()).collect();
    names.dedup();
    (names, new)
}

/// `ContainerSpec.HealthCheck` as the flags the CLI would have given: `["NONE"]` is
/// `--no-healthcheck`, `["CMD-SHELL", cmd]` `--health-cmd cmd` (`["CMD", args…]` runs its
/// words as one command line, as core runs commands).
fn health(task: Option<&m::TaskSpec>) -> Result<HealthFlags, String> {
    let Some(h) = task.and_then(|t| t.container_spec.as_ref()).and_then(|c| c.health_check.as_ref()) else {
        return Ok(HealthFlags::default());
    };
    let nanos = |v: Option<i64>| v.filter(|n| *n > 0).map(|n| Duration::from_nanos(n as u64));
    let test = h.test.clone().unwrap_or_default();
    let (cmd, no_healthcheck) = match test.first().map(String::as_str) {
        Some("NONE") => (None, true),
        Some("CMD-SHELL") | Some("CMD") => (Some(test[1..].join(" ")), false),
        Some(other) => return Err(invalid(format!("unknown health check type {other}"))),
        None => (None, false),
    };
    Ok(HealthFlags {
        cmd: cmd.filter(|c| !c.is_empty()),
        interval: nanos(h.interval),
        timeout: nanos(h.timeout),
        retries: h.retries.filter(|n| *n > 0).map(|n| n as u64),
        start_period: nanos(h.start_period),
        no_healthcheck,
    })
}

/// `Placement.Preferences` (`spread` only, as swarmkit) and `Placement.MaxReplicas`.
fn placement(task: Option<&m::TaskSpec>) -> Result<PlacementFlags, String> {
    let p = task.and_then(|t| t.placement.as_ref());
    let pref_add = p
        .and_then(|p| p.preferences.as_ref())
        .map(|prefs| {
            prefs
                .iter()
                .filter_map(|pref| pref.spread.as_ref().and_then(|s| s.spread_descriptor.clone()))
                .map(|descriptor| SpreadOver::parse(&format!("spread={descriptor}")).map_err(invalid))
                .collect::<Result<Vec<_>, String>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(PlacementFlags {
        pref_add,
        pref_rm: Vec::new(),
        max_replicas: p.and_then(|p| p.max_replicas).filter(|n| *n > 0).map(|n| n as u64),
    })
}

/// `UpdateConfig` and `RollbackConfig` (two types in docker's models, one shape).
struct UpdateConfigJson {
    parallelism: Option<i64>,
    delay: Option<i64>,
    failure_action: Option<String>,
    monitor: Option<i64>,
    max_failure_ratio: Option<f64>,
    order: Option<String>,
}

/// docker's models have two types of one shape (`UpdateConfig`, `RollbackConfig`): one reading.
macro_rules! update_config_json_from {
    ($docker:ty) => {
        impl From<&$docker> for UpdateConfigJson {
            fn from(c: &$docker) -> UpdateConfigJson {
                UpdateConfigJson {
                    parallelism: c.parallelism,
                    delay: c.delay,
                    failure_action: c.failure_action.map(|a| a.to_string()),
                    monitor: c.monitor,
                    max_failure_ratio: c.max_failure_ratio,
                    order: c.order.map(|o| o.to_string()),
                }
            }
        }
    };
}
update_config_json_from!(m::ServiceSpecUpdateConfig);
update_config_json_from!(m::ServiceSpecRollbackConfig);

fn update_config(c: Option<UpdateConfigJson>) -> Result<UpdateConfigFlags, String> {
    let Some(c) = c else { return Ok(UpdateConfigFlags::default()) };
    let nanos = |v: Option<i64>| v.map(|n| Duration::from_nanos(n.max(0) as u64));
    let failure_action = match c.failure_action.as_deref() {
        None | Some("") => None,
        Some(a) => Some(FailureAction::parse(a).ok_or_else(|| invalid(format!("unknown failure action {a}")))?),
    };
    let order = match c.order.as_deref() {
        None | Some("") => None,
        Some(o) => Some(UpdateOrder::parse(o).ok_or_else(|| invalid(format!("unknown update order {o}")))?),
    };
    let max_failure_ratio =
        c.max_failure_ratio.map(|r| FailureRatio::parse(&r.to_string()).map_err(invalid)).transpose()?;
    Ok(UpdateConfigFlags {
        parallelism: c.parallelism.map(|n| n.max(0) as u64),
        delay: nanos(c.delay),
        failure_action,
        monitor: nanos(c.monitor),
        max_failure_ratio,
        order,
    })
}

/// What `POST /services/{id}/update` changes, as core's update: only a changed replica count is
/// a scale (`ServiceUpdate::Scale`), anything else an update.
pub enum ServiceChange {
    Nothing,
    Scale(u64),
    Update(Box<ServiceUpdateArgs>),
}

pub fn service_update(current: &Service, spec: &m::ServiceSpec) -> Result<ServiceChange, String> {
    let task = spec.task_template.as_ref();
    let (global, replicas, job, _) = mode(spec)?;
    if global != current.spec.mode.is_global() || job != current.spec.mode.is_job() {
        return Err(invalid("service mode change is not allowed"));
    }
    let mut u = ServiceUpdateArgs { service: current.id.to_string(), ..Default::default() };
    let labels: std::collections::BTreeMap<String, String> =
        spec.labels.clone().unwrap_or_default().into_iter().collect();
    if labels != current.spec.labels {
        // A change of labels (`docker stack deploy`'s `com.docker.stack.image` with a new
        // image) comes as a whole spec, as docker sends it: core replaces the spec with it.
        u.replace = Some(Box::new(service_create(spec)?));
        return Ok(ServiceChange::Update(Box::new(u)));
    }
    let template = &current.spec.task;
    let (image, command) = command(task);
    if !image.is_empty() && image != template.image {
        u.image = Some(image);
    }
    if command != template.command {
        return Err(invalid("swarmd cannot change a service's command; remove and create it again"));
    }
    let now_replicas = match current.spec.mode {
        // A replicated job's total of completions changes as a service's replicas do (docker's
        // `service scale` of a job).
        ServiceMode::ReplicatedJob { total_completions, .. } => Some(total_completions),
        _ => current.spec.replicas(),
    };
    if let (Some(r), Some(now)) = (replicas, now_replicas) {
        if r != now {
            u.replicas = Some(r);
        }
    }
    let force = task.and_then(|t| t.force_update).unwrap_or(0).max(0) as u64;
    u.force = force != template.force_update;
    let new_constraints = constraints(task)?;
    u.constraint_add = new_constraints.iter().filter(|c| !template.constraints.contains(c)).cloned().collect();
    u.constraint_rm =
        template.constraints.iter().filter(|c| !new_constraints.contains(c)).map(|c| c.to_string()).collect();
    let env: Vec<String> = task.and_then(|t| t.container_spec.as_ref()).and_then(|c| c.env.clone()).unwrap_or_default();
    u.env_add = env.iter().filter(|e| !template.env.contains(e)).cloned().collect();
    u.env_rm = template
        .env
        .iter()
        .filter(|e| !env.contains(e))
        .map(|e| e.split_once('=').map(|(k, _)| k).unwrap_or(e).to_string())
        // A changed value is an add of the new one, not a removal.
        .filter(|k| !u.env_add.iter().any(|a| a.split_once('=').map(|(ak, _)| ak).unwrap_or(a) == k))
        .collect();
    let new_ports = ports(spec.endpoint_spec.as_ref())?;
    u.publish_add = new_ports.iter().filter(|p| !current.spec.ports.contains(p)).copied().collect();
    u.publish_rm = current
        .spec
        .ports
        .iter()
        .filter(|p| !new_ports.contains(p))
        .map(|p| p.target_port)
        .filter(|t| !u.publish_add.iter().any(|a| a.target_port == *t))
        .collect();
    // Networks come back as IDs (what inspect showed) or as names the user added.
    let nets = networks(spec);
    let current_nets: Vec<String> = template.networks.iter().map(|n| n.to_string()).collect();
    u.network_add = nets.iter().filter(|n| !current_nets.contains(n)).cloned().collect();
    u.network_rm = current_nets.iter().filter(|n| !nets.contains(n)).cloned().collect();
    let res = reservations(task);
    if res != template.reservations {
        u.reservations = Some(res);
    }
    let r = restart(task);
    let policy = &template.restart_policy;
    u.restart_condition = r.condition.filter(|c| *c != policy.condition);
    u.restart_delay = r.delay.filter(|d| *d != policy.delay);
    u.restart_max_attempts = r.max_attempts.filter(|n| *n != policy.max_attempts);
    u.restart_window = r.window.filter(|w| *w != policy.window);
    // The CLI sends UpdateConfig/RollbackConfig only as inspect showed them or as the
    // `--update-*`/`--rollback-*` flags changed them: whole, so a difference is the new config.
    let update = update_config(spec.update_config.as_ref().map(UpdateConfigJson::from))?;
    if update.apply(current.spec.update) != current.spec.update {
        u.update = Box::new(update);
    }
    let rollback = update_config(spec.rollback_config.as_ref().map(UpdateConfigJson::from))?;
    if rollback.apply(current.spec.rollback) != current.spec.rollback {
        u.rollback = Box::new(rollback);
    }
    // The health check comes back whole (as inspect showed it, or as `--health-*` changed it).
    let health = health(task)?;
    if health.to_config() != template.healthcheck {
        u.health = Box::new(health);
    }
    let placement = placement(task)?;
    let now = &template.placement;
    let max_replicas = placement.max_replicas.unwrap_or(0);
    u.placement = Box::new(PlacementFlags {
        pref_add: placement.pref_add.iter().filter(|p| !now.preferences.contains(p)).cloned().collect(),
        pref_rm: now.preferences.iter().filter(|p| !placement.pref_add.contains(p)).cloned().collect(),
        max_replicas: (max_replicas != now.max_replicas).then_some(max_replicas),
    });
    let (secrets, configs) = data_references(task);
    let mut refs = DataReferenceFlags::default();
    (refs.secret_rm, refs.secret_add) = references_change(&template.secrets, secrets);
    (refs.config_rm, refs.config_add) = references_change(&template.configs, configs);
    u.references = Box::new(refs);
    let only_replicas = ServiceUpdateArgs { service: u.service.clone(), replicas: u.replicas, ..Default::default() };
    Ok(match u.replicas {
        _ if u == ServiceUpdateArgs { service: u.service.clone(), ..Default::default() } => ServiceChange::Nothing,
        Some(n) if u == only_replicas => ServiceChange::Scale(n),
        _ => ServiceChange::Update(Box::new(u)),
    })
}

/// What `POST /nodes/{id}/update` changes: a role change is a promotion or demotion (what
/// `docker node promote` sends), the rest a node update.
pub struct NodeChange {
    pub role: Option<NodeRole>,
    pub update: Option<NodeUpdateArgs>,
}

pub fn node_update(current: &NodeView, spec: &m::NodeSpec) -> Result<NodeChange, String> {
    let n = &current.node;
    let role = match spec.role {
        Some(m::NodeSpecRoleEnum::MANAGER) => Some(NodeRole::Manager),
        Some(m::NodeSpecRoleEnum::WORKER) => Some(NodeRole::Worker),
        _ => None,
    }
    .filter(|r| *r != n.spec.role);
    let availability = match spec.availability {
        Some(m::NodeSpecAvailabilityEnum::ACTIVE) => Some(Availability::Active),
        Some(m::NodeSpecAvailabilityEnum::PAUSE) => Some(Availability::Pause),
        Some(m::NodeSpecAvailabilityEnum::DRAIN) => Some(Availability::Drain),
        _ => None,
    }
    .filter(|a| *a != n.spec.availability);
    let labels = spec.labels.clone().unwrap_or_default();
    let mut label_add: Vec<(String, String)> =
        labels.iter().filter(|(k, v)| n.spec.labels.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    label_add.sort();
    let label_rm: Vec<String> = n.spec.labels.keys().filter(|k| !labels.contains_key(*k)).cloned().collect();
    let update = if availability.is_some() || !label_add.is_empty() || !label_rm.is_empty() {
        Some(NodeUpdateArgs { node: n.id.to_string(), availability, role: None, label_add, label_rm })
    } else {
        None
    };
    Ok(NodeChange { role, update })
}

/// The settings of docker's `SwarmSpec` that swarm-core keeps, where they differ from the
/// cluster's (docker's CLI sends the whole spec back with its changes).
pub fn swarm_update(cluster: &swarm_core::api::Cluster, spec: &m::SwarmSpec) -> swarm_core::control::SwarmUpdateArgs {
    let nanos = |n: i64| Duration::from_nanos(n.max(0) as u64);
    let limit = spec.orchestration.as_ref().and_then(|o| o.task_history_retention_limit);
    let heartbeat = spec.dispatcher.as_ref().and_then(|d| d.heartbeat_period).map(nanos);
    let expiry = spec.ca_config.as_ref().and_then(|c| c.node_cert_expiry).map(nanos);
    let autolock = spec.encryption_config.as_ref().and_then(|e| e.auto_lock_managers);
    swarm_core::control::SwarmUpdateArgs {
        task_history_limit: limit.filter(|l| *l as usize != cluster.task_history_limit).map(|l| l.max(0) as u64),
        dispatcher_heartbeat: heartbeat.filter(|h| *h != cluster.dispatcher_heartbeat),
        node_cert_expiry: expiry.filter(|e| *e != cluster.node_cert_expiry),
        autolock: autolock.filter(|a| *a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::api::{ServiceSpec, TaskTemplate};
    use swarm_core::ids::ServiceId;
    use swarm_core::time::Instant;

    fn web(replicas: u64) -> Service {
        let mut task = TaskTemplate::for_image("nginx:latest");
        task.env = vec!["A=1".into()];
        Service {
            id: ServiceId("w3b".into()),
            spec: ServiceSpec {
                labels: Default::default(),
                name: "web".into(),
                mode: ServiceMode::Replicated { replicas },
                task,
                ports: vec![PortConfig {
                    protocol: Protocol::Tcp,
                    target_port: 80,
                    published_port: 8000,
                    mode: PublishMode::Ingress,
                }],
                update: None,
                rollback: None,
            },
            spec_version: 3,
            endpoint: None,
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
            update_status: None,
            previous_spec: None,
            job_status: None,
        }
    }

    /// What inspect shows of a service's update, rollback, health and placement settings comes
    /// back unchanged from the docker CLI when the user changed nothing: no update at all.
    #[test]
    fn a_spec_sent_back_as_shown_changes_nothing() {
        use swarm_core::api::{HealthConfig, UpdateConfig};
        let mut svc = web(3);
        svc.spec.update = Some(UpdateConfig {
            parallelism: 2,
            delay: Duration::from_secs(10),
            failure_action: FailureAction::Rollback,
            max_failure_ratio: FailureRatio::parse("0.25").unwrap(),
            order: UpdateOrder::StartFirst,
            ..UpdateConfig::default()
        });
        svc.spec.rollback = Some(UpdateConfig::default());
        svc.spec.task.healthcheck = Some(HealthConfig::shell("test -e /tmp/healthy"));
        svc.spec.task.placement.preferences = vec![SpreadOver::parse("spread=node.labels.zone").unwrap()];
        svc.spec.task.placement.max_replicas = 1;
        assert!(matches!(service_update(&svc, &as_sent(&svc)).unwrap(), ServiceChange::Nothing));

        let mut sent = as_sent(&svc);
        sent.update_config.as_mut().unwrap().parallelism = Some(1);
        match service_update(&svc, &sent).unwrap() {
            ServiceChange::Update(u) => assert_eq!(u.update.parallelism, Some(1)),
            _ => panic!("a changed parallelism is an update"),
        }
    }

    /// What the docker CLI sends back: the service's spec as inspect showed it, changed.
    fn as_sent(service: &Service) -> m::ServiceSpec {
        crate::engine::models::service_spec(&service.spec)
    }

    #[test]
    fn the_spec_sent_back_unchanged_is_no_change() {
        let s = web(2);
        assert!(matches!(service_update(&s, &as_sent(&s)).unwrap(), ServiceChange::Nothing));
    }

    #[test]
    fn a_changed_replica_count_alone_is_a_scale() {
        let s = web(2);
        let sent = as_sent(&web(5));
        assert!(matches!(service_update(&s, &sent).unwrap(), ServiceChange::Scale(5)));
    }

    #[test]
    fn an_image_and_env_change_is_an_update_with_only_the_difference() {
        let s = web(2);
        let mut changed = web(2);
        changed.spec.task.image = "nginx:1.25".into();
        changed.spec.task.env = vec!["A=2".into(), "B=1".into()];
        let ServiceChange::Update(u) = service_update(&s, &as_sent(&changed)).unwrap() else { panic!("an update") };
        assert_eq!(u.image.as_deref(), Some("nginx:1.25"));
        assert_eq!(u.env_add, ["A=2", "B=1"]);
        assert!(u.env_rm.is_empty(), "A changes value, it is not removed: {:?}", u.env_rm);
        assert_eq!(u.replicas, None);
        assert!(u.publish_add.is_empty() && u.publish_rm.is_empty());
    }

    #[test]
    fn a_mode_change_is_refused() {
        let s = web(2);
        let mut sent = as_sent(&s);
        sent.mode = Some(m::ServiceSpecMode { global: Some(Default::default()), ..Default::default() });
        assert_eq!(service_update(&s, &sent).err().unwrap(), "service mode change is not allowed");
    }

    #[test]
    fn a_job_spec_becomes_the_clis_job_flags() {
        let body = r#"{"Name":"batch","TaskTemplate":{"ContainerSpec":{"Image":"worker:latest"}},"Mode":{"ReplicatedJob":{"MaxConcurrent":2,"TotalCompletions":3}}}"#;
        let args = service_create(&serde_json::from_str(body).unwrap()).unwrap();
        assert!(args.job && !args.global);
        assert_eq!((args.replicas, args.max_concurrent), (Some(3), Some(2)));
        let body =
            r#"{"Name":"all","TaskTemplate":{"ContainerSpec":{"Image":"worker:latest"}},"Mode":{"GlobalJob":{}}}"#;
        let args = service_create(&serde_json::from_str(body).unwrap()).unwrap();
        assert!(args.job && args.global);
    }

    #[test]
    fn a_create_takes_the_clis_spec() {
        let body = r#"{"Name":"web","TaskTemplate":{"ContainerSpec":{"Image":"nginx:latest@sha256:abc","Args":["httpd","-f"],"Init":false,"StopGracePeriod":10000000000,"DNSConfig":{},"Isolation":"default"},"Resources":{"Limits":{},"Reservations":{}},"RestartPolicy":{"Condition":"any","MaxAttempts":0},"Placement":{"Constraints":["node.role==worker"]},"Networks":[{"Target":"myswarm"}],"ForceUpdate":0,"Runtime":"container"},"Mode":{"Replicated":{"Replicas":2}},"UpdateConfig":{"Parallelism":1,"FailureAction":"pause","Monitor":5000000000,"MaxFailureRatio":0,"Order":"stop-first"},"EndpointSpec":{"Mode":"vip","Ports":[{"Protocol":"tcp","TargetPort":80,"PublishedPort":8000,"PublishMode":"ingress"}]}}"#;
        let spec: m::ServiceSpec = serde_json::from_str(body).unwrap();
        let args = service_create(&spec).unwrap();
        assert_eq!(args.name.as_deref(), Some("web"));
        assert_eq!(args.image, "nginx:latest");
        assert_eq!(args.command, ["httpd", "-f"]);
        assert_eq!(args.replicas, Some(2));
        assert_eq!(args.networks, ["myswarm"]);
        assert_eq!(args.constraints[0].to_string(), "node.role==worker");
        assert_eq!(args.publish[0].published_port, 8000);
        assert_eq!(args.restart_condition, Some(RestartCondition::Any));
    }
}
