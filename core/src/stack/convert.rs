//! A compose file turned into what `docker stack deploy` asks swarm for, as docker/cli's
//! `cli/compose/convert` does: networks and services named `STACK_KEY`, every object labelled
//! `com.docker.stack.namespace=STACK`, each service with `com.docker.stack.image`.

use super::compose::{self, Compose, DeployMode, External, HealthTest, ServiceConfig};
use crate::api::UpdateConfigFlags;
use crate::api::{FailureAction, FailureRatio, NetworkDriver, Resources, RestartCondition, SpreadOver, UpdateOrder};
use crate::control::{HealthFlags, PlacementFlags, ServiceCreateArgs};
use std::collections::{BTreeMap, BTreeSet};

/// docker/cli's `convert.LabelNamespace`: what marks a stack's objects.
pub const LABEL_NAMESPACE: &str = "com.docker.stack.namespace";
/// docker/cli's `convert.LabelImage`: the image as the compose file names it.
pub const LABEL_IMAGE: &str = "com.docker.stack.image";

/// What a deploy makes, in the order docker's CLI makes it.
#[derive(Clone, Debug, PartialEq)]
pub struct StackSpec {
    /// The stack's own networks (created if missing), by name.
    pub networks: Vec<StackNetwork>,
    /// Networks the file declares `external`: they must exist already.
    pub external_networks: Vec<String>,
    /// The services, by scoped name.
    pub services: Vec<ServiceCreateArgs>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackNetwork {
    pub name: String,
    pub driver: NetworkDriver,
    pub labels: BTreeMap<String, String>,
    pub attachable: bool,
}

/// `STACK_NAME`, docker/cli's `Namespace.Scope`.
pub fn scope(stack: &str, name: &str) -> String {
    format!("{stack}_{name}")
}

fn with_namespace(stack: &str, labels: Option<&compose::Mapping>) -> BTreeMap<String, String> {
    let mut labels = labels.map(|l| l.to_labels()).unwrap_or_default();
    labels.insert(LABEL_NAMESPACE.to_string(), stack.to_string());
    labels
}

/// The one place a compose file's `secrets:`/`configs:` meet this build: swarm-core has no
/// secret or config objects yet, so a stack naming any is refused before anything is made.
fn check_secrets_and_configs(file: &str, compose: &Compose) -> Result<(), String> {
    let used = |pick: fn(&ServiceConfig) -> bool| compose.services.iter().find(|(_, s)| pick(s)).map(|(k, _)| k);
    if let Some(service) = used(|s| !s.secrets.is_empty()) {
        return Err(format!("{file}: services.{service}.secrets: stack secrets need `docker secret` support, which this build does not have yet"));
    }
    if let Some(service) = used(|s| !s.configs.is_empty()) {
        return Err(format!("{file}: services.{service}.configs: stack configs need `docker config` support, which this build does not have yet"));
    }
    if !compose.secrets.is_empty() {
        return Err(format!(
            "{file}: secrets: stack secrets need `docker secret` support, which this build does not have yet"
        ));
    }
    if !compose.configs.is_empty() {
        return Err(format!(
            "{file}: configs: stack configs need `docker config` support, which this build does not have yet"
        ));
    }
    Ok(())
}

/// Converts a parsed compose file for stack `stack`; `file` names it in errors.
pub fn convert(file: &str, stack: &str, compose: &Compose) -> Result<StackSpec, String> {
    check_secrets_and_configs(file, compose)?;
    // The networks some service uses: `default` for a service that names none.
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (key, service) in &compose.services {
        let names = service.networks.as_ref().map(|n| n.names()).unwrap_or_default();
        if names.is_empty() {
            used.insert("default".to_string());
        }
        for name in names {
            if name != "default" && !compose.networks.contains_key(&name) {
                return Err(format!(
                    "{file}: service \"{key}\" refers to undefined network {name}: invalid compose project"
                ));
            }
            used.insert(name);
        }
    }
    let mut networks = Vec::new();
    let mut external_networks = Vec::new();
    let mut targets: BTreeMap<String, String> = BTreeMap::new();
    for key in &used {
        let config = compose.networks.get(key).cloned().flatten().unwrap_or_default();
        let external = match &config.external {
            Some(External::Flag(true)) => Some(config.name.clone().unwrap_or_else(|| key.clone())),
            Some(External::Named { name }) => Some(name.clone()),
            _ => None,
        };
        if let Some(name) = external {
            targets.insert(key.clone(), name.clone());
            external_networks.push(name);
            continue;
        }
        let name = config.name.clone().unwrap_or_else(|| scope(stack, key));
        let driver = match config.driver.as_deref() {
            None => NetworkDriver::Overlay,
            Some(d) => NetworkDriver::parse(d)
                .ok_or_else(|| format!("{file}: networks.{key}.driver: network driver {d} is not supported"))?,
        };
        targets.insert(key.clone(), name.clone());
        networks.push(StackNetwork {
            name,
            driver,
            labels: with_namespace(stack, config.labels.as_ref()),
            attachable: config.attachable,
        });
    }
    let mut services = Vec::new();
    for (key, service) in &compose.services {
        services.push(convert_service(file, stack, key, service, &targets)?);
    }
    Ok(StackSpec { networks, external_networks, services })
}

fn convert_service(
    file: &str,
    stack: &str,
    key: &str,
    service: &ServiceConfig,
    targets: &BTreeMap<String, String>,
) -> Result<ServiceCreateArgs, String> {
    let at = |field: &str| format!("{file}: services.{key}.{field}");
    let Some(image) = service.image.clone() else {
        return Err(format!("{file}: services.{key}: a service needs an `image` (a stack builds nothing)"));
    };
    if service.entrypoint.is_some() {
        return Err(format!(
            "{}: a service's entrypoint is not modelled (its spec has one command); put it in `command`",
            at("entrypoint")
        ));
    }
    let deploy = &service.deploy;
    let global = deploy.mode == Some(DeployMode::Global);
    if global && deploy.replicas.is_some() {
        return Err(format!("{}: replicas can only be used with replicated mode", at("deploy.replicas")));
    }
    let mut labels = with_namespace(stack, deploy.labels.as_ref());
    labels.insert(LABEL_IMAGE.to_string(), image.clone());
    let mut networks: Vec<String> = match &service.networks {
        Some(n) if !n.names().is_empty() => n.names().iter().map(|k| targets[k].clone()).collect(),
        _ => vec![targets["default"].clone()],
    };
    networks.sort();
    let mut reservations = Resources::default();
    if let Some(resources) = &deploy.resources {
        if resources.limits.is_some() {
            return Err(format!(
                "{}: resource limits are not modelled (swarm-core keeps reservations only)",
                at("deploy.resources.limits")
            ));
        }
        if let Some(r) = &resources.reservations {
            if let Some(cpus) = &r.cpus {
                reservations.nano_cpus = crate::cli::parse::parse_nano_cpus(&cpus.text())
                    .map_err(|e| format!("{}: {e}", at("deploy.resources.reservations.cpus")))?;
            }
            if let Some(memory) = &r.memory {
                reservations.memory_bytes = crate::cli::parse::parse_ram_bytes(memory)
                    .map_err(|e| format!("{}: {e}", at("deploy.resources.reservations.memory")))?;
            }
        }
    }
    let restart = deploy.restart_policy.clone().unwrap_or_default();
    let restart_condition = match restart.condition.as_deref() {
        None => None,
        Some("none") => Some(RestartCondition::None),
        Some("on-failure") => Some(RestartCondition::OnFailure),
        Some("any") => Some(RestartCondition::Any),
        Some(other) => {
            return Err(format!("{}: unknown restart condition \"{other}\"", at("deploy.restart_policy.condition")))
        }
    };
    let placement = PlacementFlags {
        pref_add: deploy
            .placement
            .preferences
            .iter()
            .map(|p| SpreadOver::parse(&format!("spread={}", p.spread)))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{}: {e}", at("deploy.placement.preferences")))?,
        pref_rm: vec![],
        max_replicas: deploy.placement.max_replicas_per_node,
    };
    Ok(ServiceCreateArgs {
        name: Some(scope(stack, key)),
        image,
        command: service.command.clone().map(|c| c.0).unwrap_or_default(),
        replicas: if global { None } else { Some(deploy.replicas.unwrap_or(1)) },
        global,
        publish: service.ports.iter().map(|p| p.0).collect(),
        networks,
        constraints: deploy.placement.constraints.iter().map(|c| c.0.clone()).collect(),
        env: service.environment.as_ref().map(|e| e.to_env()).unwrap_or_default(),
        reservations,
        restart_condition,
        restart_delay: restart.delay.map(|d| d.0),
        restart_max_attempts: restart.max_attempts,
        restart_window: restart.window.map(|d| d.0),
        health: Box::new(health(service.healthcheck.as_ref())),
        placement: Box::new(placement),
        update: Box::new(
            update_config(deploy.update_config.as_ref()).map_err(|e| format!("{}: {e}", at("deploy.update_config")))?,
        ),
        rollback: Box::new(
            update_config(deploy.rollback_config.as_ref())
                .map_err(|e| format!("{}: {e}", at("deploy.rollback_config")))?,
        ),
        labels,
        // Compose's `deploy.mode` is replicated or global (no jobs in the version-3 format);
        // `secrets:` and `configs:` are refused before conversion (`check_secrets_and_configs`).
        job: false,
        max_concurrent: None,
        references: Box::default(),
    })
}

/// docker/cli's `convertHealthcheck`: `disable` or `test: [NONE]` turn the image's off;
/// `CMD-SHELL` and a plain string run in the shell; `CMD` words are joined into one line.
fn health(check: Option<&compose::Healthcheck>) -> HealthFlags {
    let Some(check) = check else { return HealthFlags::default() };
    let cmd = match &check.test {
        None => None,
        Some(HealthTest::Shell(line)) => Some(line.clone()),
        Some(HealthTest::Words(words)) => match words.split_first() {
            Some((kind, rest)) if kind == "CMD-SHELL" || kind == "CMD" => Some(rest.join(" ")),
            Some((kind, _)) if kind == "NONE" => return HealthFlags { no_healthcheck: true, ..HealthFlags::default() },
            _ => Some(words.join(" ")),
        },
    };
    if check.disable {
        return HealthFlags { no_healthcheck: true, ..HealthFlags::default() };
    }
    HealthFlags {
        cmd,
        interval: check.interval.map(|d| d.0),
        timeout: check.timeout.map(|d| d.0),
        retries: check.retries,
        start_period: check.start_period.map(|d| d.0),
        no_healthcheck: false,
    }
}

fn update_config(config: Option<&compose::UpdateConfig>) -> Result<UpdateConfigFlags, String> {
    let Some(c) = config else { return Ok(UpdateConfigFlags::default()) };
    Ok(UpdateConfigFlags {
        parallelism: c.parallelism,
        delay: c.delay.map(|d| d.0),
        failure_action: c
            .failure_action
            .as_deref()
            .map(|a| FailureAction::parse(a).ok_or_else(|| format!("unknown failure_action \"{a}\"")))
            .transpose()?,
        monitor: c.monitor.map(|d| d.0),
        max_failure_ratio: c.max_failure_ratio.as_ref().map(|r| FailureRatio::parse(&r.text())).transpose()?,
        order: c
            .order
            .as_deref()
            .map(|o| UpdateOrder::parse(o).ok_or_else(|| format!("unknown order \"{o}\"")))
            .transpose()?,
    })
}
