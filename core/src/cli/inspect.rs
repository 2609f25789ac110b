//! `docker service|node|network inspect`: docker's JSON (an array of objects, 4-space indent,
//! docker's field names and order) and the `--pretty` texts.

use super::humanize::{bytes_size, go_duration_string, human_duration};
use crate::api::*;
use crate::ids::NodeId;
use crate::time::Instant;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

#[path = "inspect_data.rs"]
pub mod data;

/// Instants count from the start of a run; timestamps are shown as if that start were
/// 2016-08-01T00:00:00Z, the tutorial's era, so output stays the same from run to run.
pub const DISPLAY_EPOCH_UNIX_SECS: u64 = 1_470_009_600;

// ---------------------------------------------------------------------------------------------
// Time display.

/// A civil UTC date and time with milliseconds.
struct CivilTime {
    year: u64,
    month: u64,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
    millis: u64,
}

fn civil_time(at: Instant) -> CivilTime {
    let total_ms = DISPLAY_EPOCH_UNIX_SECS * 1000 + at.as_millis();
    let secs = total_ms / 1000;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    CivilTime {
        year,
        month,
        day,
        hour: of_day / 3600,
        minute: of_day % 3600 / 60,
        second: of_day % 60,
        millis: total_ms % 1000,
    }
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`, for days
/// on or after the Unix epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // March = 0
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// `.345`, or nothing for a whole second: Go drops trailing zeros of the fraction.
fn go_fraction(millis: u64) -> String {
    if millis == 0 {
        return String::new();
    }
    format!(".{}", format!("{millis:03}").trim_end_matches('0'))
}

/// RFC 3339 in UTC, as Go marshals a `time.Time`: `2016-08-01T00:00:12.345Z`.
pub fn rfc3339(at: Instant) -> String {
    let t = civil_time(at);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}Z",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        go_fraction(t.millis)
    )
}

/// Go's `time.Time.String()` in UTC: `2016-08-01 00:00:12.345 +0000 UTC`.
fn go_time_string(at: Instant) -> String {
    let t = civil_time(at);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}{} +0000 UTC",
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
        go_fraction(t.millis)
    )
}

// ---------------------------------------------------------------------------------------------
// JSON output.

/// Docker's layout: `json.Indent` with four spaces, and Go's escaping of `<`, `>`, `&`.
fn docker_json<T: Serialize>(value: &T) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing these plain structs into memory cannot fail; fall back to an empty array
    // rather than panic if it ever did.
    if value.serialize(&mut serializer).is_err() {
        return "[]\n".to_string();
    }
    let text = String::from_utf8(out).unwrap_or_default();
    // These characters only occur inside JSON strings, where Go writes them escaped.
    let escaped = text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    escaped + "\n"
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct VersionJson {
    #[serde(rename = "Index")]
    index: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceJson {
    #[serde(rename = "ID")]
    id: String,
    version: VersionJson,
    created_at: String,
    updated_at: String,
    spec: ServiceSpecJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_spec: Option<ServiceSpecJson>,
    endpoint: EndpointJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_status: Option<UpdateStatusJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_status: Option<JobStatusJson>,
}

/// `"JobStatus": {"JobIteration": {}, "LastExecution": "…"}`: an index of 0 is left out, as Go's
/// `omitempty` does.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct JobStatusJson {
    job_iteration: JobIterationJson,
    last_execution: String,
}

#[derive(Serialize)]
struct JobIterationJson {
    #[serde(rename = "Index", skip_serializing_if = "is_zero")]
    index: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceSpecJson {
    name: String,
    task_template: TaskTemplateJson,
    mode: ModeJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_config: Option<UpdateConfigJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rollback_config: Option<UpdateConfigJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    networks: Vec<NetworkTargetJson>,
    endpoint_spec: EndpointSpecJson,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TaskTemplateJson {
    container_spec: ContainerSpecJson,
    resources: ResourceRequirementsJson,
    restart_policy: RestartPolicyJson,
    placement: PlacementJson,
    #[serde(skip_serializing_if = "is_zero")]
    force_update: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerSpecJson {
    image: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    args: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    env: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<HealthcheckJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secrets: Vec<data::ReferenceJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    configs: Vec<data::ReferenceJson>,
}

/// docker's `HealthConfig`: durations in nanoseconds, zero fields left out.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HealthcheckJson {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    test: Vec<String>,
    #[serde(skip_serializing_if = "is_zero_u128")]
    interval: u128,
    #[serde(skip_serializing_if = "is_zero_u128")]
    timeout: u128,
    #[serde(skip_serializing_if = "is_zero_u128")]
    start_period: u128,
    #[serde(skip_serializing_if = "is_zero")]
    retries: u64,
}

impl From<&crate::api::HealthConfig> for HealthcheckJson {
    fn from(h: &crate::api::HealthConfig) -> Self {
        HealthcheckJson {
            test: h.test.clone(),
            interval: h.interval.as_nanos(),
            timeout: h.timeout.as_nanos(),
            start_period: h.start_period.as_nanos(),
            retries: h.retries,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceRequirementsJson {
    limits: ResourcesJson,
    reservations: ResourcesJson,
}

#[derive(Serialize)]
struct ResourcesJson {
    #[serde(rename = "NanoCPUs", skip_serializing_if = "is_zero")]
    nano_cpus: u64,
    #[serde(rename = "MemoryBytes", skip_serializing_if = "is_zero")]
    memory_bytes: u64,
}

impl From<Resources> for ResourcesJson {
    fn from(r: Resources) -> Self {
        ResourcesJson { nano_cpus: r.nano_cpus, memory_bytes: r.memory_bytes }
    }
}

/// Durations in nanoseconds, as Go marshals `time.Duration`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RestartPolicyJson {
    condition: &'static str,
    delay: u128,
    max_attempts: u64,
    #[serde(skip_serializing_if = "is_zero_u128")]
    window: u128,
}

fn is_zero_u128(n: &u128) -> bool {
    *n == 0
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PlacementJson {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    constraints: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    preferences: Vec<PreferenceJson>,
    #[serde(skip_serializing_if = "is_zero")]
    max_replicas: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PreferenceJson {
    spread: SpreadJson,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SpreadJson {
    spread_descriptor: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ModeJson {
    #[serde(skip_serializing_if = "Option::is_none")]
    replicated: Option<ReplicatedJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    global: Option<GlobalJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replicated_job: Option<ReplicatedJobJson>,
    #[serde(skip_serializing_if = "Option::is_none")]
    global_job: Option<GlobalJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReplicatedJobJson {
    max_concurrent: u64,
    total_completions: u64,
}

#[derive(Serialize)]
struct ReplicatedJson {
    #[serde(rename = "Replicas")]
    replicas: u64,
}

/// Serializes as `{}`.
#[derive(Serialize)]
struct GlobalJson {}

impl ModeJson {
    const NONE: ModeJson = ModeJson { replicated: None, global: None, replicated_job: None, global_job: None };
}

#[derive(Serialize)]
struct NetworkTargetJson {
    #[serde(rename = "Target")]
    target: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointSpecJson {
    mode: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<PortJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PortJson {
    protocol: &'static str,
    target_port: u16,
    #[serde(skip_serializing_if = "is_zero_u16")]
    published_port: u16,
    publish_mode: &'static str,
}

fn is_zero_u16(n: &u16) -> bool {
    *n == 0
}

impl From<&PortConfig> for PortJson {
    fn from(p: &PortConfig) -> Self {
        PortJson {
            protocol: p.protocol.as_str(),
            target_port: p.target_port,
            published_port: p.published_port,
            publish_mode: match p.mode {
                PublishMode::Ingress => "ingress",
                PublishMode::Host => "host",
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointJson {
    spec: EndpointSpecJson,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ports: Vec<PortJson>,
    #[serde(rename = "VirtualIPs", skip_serializing_if = "Vec::is_empty")]
    virtual_ips: Vec<VirtualIpJson>,
}

#[derive(Serialize)]
struct VirtualIpJson {
    #[serde(rename = "NetworkID")]
    network_id: String,
    #[serde(rename = "Addr")]
    addr: String,
}

/// docker's `swarm.UpdateConfig`: durations in nanoseconds, zero ones left out.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfigJson {
    parallelism: u64,
    #[serde(skip_serializing_if = "is_zero_u128")]
    delay: u128,
    failure_action: &'static str,
    #[serde(skip_serializing_if = "is_zero_u128")]
    monitor: u128,
    max_failure_ratio: f64,
    order: &'static str,
}

impl From<&UpdateConfig> for UpdateConfigJson {
    fn from(c: &UpdateConfig) -> Self {
        UpdateConfigJson {
            parallelism: c.parallelism,
            delay: c.delay.as_nanos(),
            failure_action: c.failure_action.as_str(),
            monitor: c.monitor.as_nanos(),
            // Go prints the float32 in its shortest form: the ratio's own digits.
            max_failure_ratio: c.max_failure_ratio.to_string().parse().unwrap_or(0.0),
            order: c.order.as_str(),
        }
    }
}

/// docker's `swarm.UpdateStatus`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateStatusJson {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completed_at: Option<String>,
    message: String,
}

impl From<&UpdateStatus> for UpdateStatusJson {
    fn from(s: &UpdateStatus) -> Self {
        UpdateStatusJson {
            state: s.state.as_str(),
            started_at: s.started_at.map(rfc3339),
            completed_at: s.completed_at.map(rfc3339),
            message: s.message.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Services.

/// `docker service inspect`: the services as docker's JSON array.
pub fn service_inspect(services: &[&Service]) -> String {
    let objects: Vec<ServiceJson> = services.iter().map(|s| service_json(s)).collect();
    docker_json(&objects)
}

fn service_json(service: &Service) -> ServiceJson {
    let endpoint = service.endpoint.clone().unwrap_or_default();
    ServiceJson {
        id: service.id.to_string(),
        version: VersionJson { index: service.spec_version },
        created_at: rfc3339(service.created_at),
        updated_at: rfc3339(service.updated_at),
        spec: service_spec_json(&service.spec),
        previous_spec: service.previous_spec.as_deref().map(service_spec_json),
        update_status: service.update_status.as_ref().map(UpdateStatusJson::from),
        job_status: service.job_status.as_ref().map(|j| JobStatusJson {
            job_iteration: JobIterationJson { index: j.iteration },
            last_execution: rfc3339(j.last_execution),
        }),
        endpoint: EndpointJson {
            spec: endpoint_spec_json(&service.spec),
            ports: endpoint.ports.iter().map(PortJson::from).collect(),
            virtual_ips: endpoint
                .virtual_ips
                .iter()
                .map(|vip| VirtualIpJson { network_id: vip.network_id.to_string(), addr: vip.addr.to_string() })
                .collect(),
        },
    }
}

fn service_spec_json(spec: &ServiceSpec) -> ServiceSpecJson {
    let task = &spec.task;
    ServiceSpecJson {
        name: spec.name.clone(),
        task_template: TaskTemplateJson {
            container_spec: ContainerSpecJson {
                image: task.image.clone(),
                args: task.command.clone(),
                env: task.env.clone(),
                healthcheck: task.healthcheck.as_ref().map(HealthcheckJson::from),
                secrets: data::references_json(DataKind::Secret, &task.secrets),
                configs: data::references_json(DataKind::Config, &task.configs),
            },
            resources: ResourceRequirementsJson {
                limits: Resources::default().into(),
                reservations: task.reservations.into(),
            },
            restart_policy: RestartPolicyJson {
                condition: task.restart_policy.condition.as_str(),
                delay: task.restart_policy.delay.as_nanos(),
                max_attempts: task.restart_policy.max_attempts,
                window: task.restart_policy.window.as_nanos(),
            },
            placement: PlacementJson {
                constraints: task.constraints.iter().map(|c| c.to_string()).collect(),
                preferences: task
                    .placement
                    .preferences
                    .iter()
                    .map(|p| PreferenceJson { spread: SpreadJson { spread_descriptor: p.descriptor.clone() } })
                    .collect(),
                max_replicas: task.placement.max_replicas,
            },
            force_update: task.force_update,
        },
        mode: match spec.mode {
            ServiceMode::Replicated { replicas } => {
                ModeJson { replicated: Some(ReplicatedJson { replicas }), ..ModeJson::NONE }
            }
            ServiceMode::Global => ModeJson { global: Some(GlobalJson {}), ..ModeJson::NONE },
            ServiceMode::ReplicatedJob { max_concurrent, total_completions } => ModeJson {
                replicated_job: Some(ReplicatedJobJson { max_concurrent, total_completions }),
                ..ModeJson::NONE
            },
            ServiceMode::GlobalJob => ModeJson { global_job: Some(GlobalJson {}), ..ModeJson::NONE },
        },
        update_config: spec.update.as_ref().map(UpdateConfigJson::from),
        rollback_config: spec.rollback.as_ref().map(UpdateConfigJson::from),
        networks: task.networks.iter().map(|n| NetworkTargetJson { target: n.to_string() }).collect(),
        endpoint_spec: endpoint_spec_json(spec),
    }
}

fn endpoint_spec_json(spec: &ServiceSpec) -> EndpointSpecJson {
    EndpointSpecJson { mode: "vip", ports: spec.ports.iter().map(PortJson::from).collect() }
}

/// `docker service inspect --pretty`, laid out as docker 1.12 prints it, with the restart
/// policy as later versions add it. Services are separated by a blank line.
pub fn service_inspect_pretty(services: &[&Service], as_of: Instant) -> String {
    services.iter().map(|s| service_pretty(s, as_of)).collect::<Vec<_>>().join("\n")
}

fn service_pretty(service: &Service, as_of: Instant) -> String {
    let spec = &service.spec;
    let task = &spec.task;
    let mut out = String::new();
    let _ = writeln!(out, "ID:\t\t{}", service.id);
    let _ = writeln!(out, "Name:\t\t{}", spec.name);
    match spec.mode {
        ServiceMode::Replicated { replicas } => {
            let _ = writeln!(out, "Mode:\t\tReplicated");
            let _ = writeln!(out, " Replicas:\t{replicas}");
        }
        ServiceMode::Global => {
            let _ = writeln!(out, "Mode:\t\tGlobal");
        }
        // docker/cli's pretty template names no mode for a job (an empty `Service Mode:`).
        ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob => {
            let _ = writeln!(out, "Mode:");
        }
    }
    if let Some(status) = &service.update_status {
        write_update_status(&mut out, status, as_of);
    }
    out.push_str("Placement:\n");
    if !task.constraints.is_empty() {
        let constraints: Vec<String> = task.constraints.iter().map(|c| c.to_string()).collect();
        let _ = writeln!(out, " Constraints:\t{}", constraints.join(", "));
    }
    write_placement_extras(&mut out, &task.placement);
    if let Some(update) = &spec.update {
        write_update_config(&mut out, "UpdateConfig", "Update order", update);
    }
    if let Some(rollback) = &spec.rollback {
        write_update_config(&mut out, "RollbackConfig", "Rollback order", rollback);
    }
    write_restart_policy(&mut out, &task.restart_policy);
    out.push_str("ContainerSpec:\n");
    let _ = writeln!(out, " Image:\t\t{}", task.image);
    if !task.command.is_empty() {
        let _ = writeln!(out, " Args:\t\t{}", task.command.join(" "));
    }
    if !task.env.is_empty() {
        let _ = writeln!(out, " Env:\t\t{}", task.env.join(" "));
    }
    data::write_references_pretty(&mut out, &task.configs, &task.secrets);
    write_reservations(&mut out, task.reservations);
    if !task.networks.is_empty() {
        let ids: Vec<&str> = task.networks.iter().map(|n| n.as_str()).collect();
        let _ = writeln!(out, "Networks: {}", ids.join(" "));
    }
    write_ports(&mut out, service);
    if let Some(health) = &task.healthcheck {
        write_healthcheck(&mut out, health);
    }
    out
}

/// docker/cli's pretty template: ` Preferences:   [spread=node.labels.zone]` (a Go slice) and
/// ` Max Replicas Per Node:   1`, under `Placement:`.
fn write_placement_extras(out: &mut String, placement: &crate::api::Placement) {
    if !placement.preferences.is_empty() {
        let prefs: Vec<String> = placement.preferences.iter().map(|p| p.to_string()).collect();
        let _ = writeln!(out, " Preferences:   [{}]", prefs.join(" "));
    }
    if placement.max_replicas > 0 {
        let _ = writeln!(out, " Max Replicas Per Node:   {}", placement.max_replicas);
    }
}

/// docker/cli's pretty template's last block, whitespace and all (durations as Go prints them).
fn write_healthcheck(out: &mut String, health: &crate::api::HealthConfig) {
    out.push_str(" Healthcheck:\n");
    let _ = writeln!(out, "  Interval = {}", go_duration_string(health.interval));
    let _ = writeln!(out, "  Retries = {}", health.retries);
    let _ = writeln!(out, "  StartPeriod =\t{}", go_duration_string(health.start_period));
    let _ = write!(out, "  Timeout =\t{}", go_duration_string(health.timeout));
    if !health.test.is_empty() {
        out.push_str("\n  Tests:");
        for test in &health.test {
            let _ = write!(out, "\n\t Test = {test}");
        }
        out.push(' ');
    }
    out.push('\n');
}

/// docker/cli's pretty template: `Completed:` only for a completed update (not a rollback).
fn write_update_status(out: &mut String, status: &UpdateStatus, as_of: Instant) {
    let ago = |at: Instant| format!("{} ago", human_duration(as_of.saturating_since(at)));
    out.push_str("UpdateStatus:\n");
    let _ = writeln!(out, " State:\t\t{}", status.state.as_str());
    if let Some(started) = status.started_at {
        let _ = writeln!(out, " Started:\t{}", ago(started));
    }
    if let (UpdateState::Completed, Some(completed)) = (status.state, status.completed_at) {
        let _ = writeln!(out, " Completed:\t{}", ago(completed));
    }
    let _ = writeln!(out, " Message:\t{}", status.message);
}

fn write_update_config(out: &mut String, title: &str, order_label: &str, c: &UpdateConfig) {
    let _ = writeln!(out, "{title}:");
    let _ = writeln!(out, " Parallelism:\t{}", c.parallelism);
    if !c.delay.is_zero() {
        let _ = writeln!(out, " Delay:\t\t{}", go_duration_string(c.delay));
    }
    let _ = writeln!(out, " On failure:\t{}", c.failure_action.as_str());
    if !c.monitor.is_zero() {
        let _ = writeln!(out, " Monitoring Period: {}", go_duration_string(c.monitor));
    }
    let _ = writeln!(out, " Max failure ratio: {}", c.max_failure_ratio);
    let _ = writeln!(out, " {order_label}:{}{}", " ".repeat(18 - order_label.len()), c.order.as_str());
}

fn write_restart_policy(out: &mut String, policy: &RestartPolicy) {
    out.push_str("RestartPolicy:\n");
    let _ = writeln!(out, " Condition:\t{}", policy.condition.as_str());
    let _ = writeln!(out, " Delay:\t\t{}", go_duration_string(policy.delay));
    let _ = writeln!(out, " MaxAttempts:\t{}", policy.max_attempts);
    if !policy.window.is_zero() {
        let _ = writeln!(out, " Window:\t{}", go_duration_string(policy.window));
    }
}

fn write_reservations(out: &mut String, reservations: Resources) {
    out.push_str("Resources:\n");
    if reservations == Resources::default() {
        return;
    }
    out.push_str(" Reservations:\n");
    if reservations.nano_cpus != 0 {
        let _ = writeln!(out, "  CPU:\t\t{}", cpus_text(reservations.nano_cpus));
    }
    if reservations.memory_bytes != 0 {
        let _ = writeln!(out, "  Memory:\t{}", bytes_size(reservations.memory_bytes));
    }
}

/// Go's `%g` of nano-CPUs / 1e9 for the values a user types: `0.5`, `2`, `0.25`.
fn cpus_text(nano_cpus: u64) -> String {
    let whole = nano_cpus / 1_000_000_000;
    let fraction = nano_cpus % 1_000_000_000;
    if fraction == 0 {
        return whole.to_string();
    }
    format!("{whole}.{}", format!("{fraction:09}").trim_end_matches('0'))
}

/// The allocated ports once the allocator ran, the requested ones before.
fn write_ports(out: &mut String, service: &Service) {
    let allocated = service.endpoint.as_ref().map(|e| e.ports.as_slice()).unwrap_or(&[]);
    let ports = if allocated.is_empty() { service.spec.ports.as_slice() } else { allocated };
    if ports.is_empty() {
        return;
    }
    out.push_str("Ports:\n");
    for port in ports {
        let _ = writeln!(out, " Protocol = {}", port.protocol.as_str());
        let _ = writeln!(out, " TargetPort = {}", port.target_port);
        let _ = writeln!(out, " PublishedPort = {}", port.published_port);
    }
}

// ---------------------------------------------------------------------------------------------
// Nodes.

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NodeJson {
    #[serde(rename = "ID")]
    id: String,
    created_at: String,
    updated_at: String,
    spec: NodeSpecJson,
    description: NodeDescriptionJson,
    status: NodeStatusJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    manager_status: Option<ManagerStatusJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NodeSpecJson {
    labels: BTreeMap<String, String>,
    role: &'static str,
    availability: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NodeDescriptionJson {
    hostname: String,
    platform: PlatformJson,
    resources: ResourcesJson,
    engine: EngineJson,
}

#[derive(Serialize)]
struct PlatformJson {
    #[serde(rename = "Architecture")]
    architecture: String,
    #[serde(rename = "OS")]
    os: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EngineJson {
    engine_version: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NodeStatusJson {
    state: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    message: String,
    addr: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ManagerStatusJson {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    leader: bool,
    reachability: String,
    addr: String,
}

/// `docker node inspect [--pretty]`. `manager_status` holds Leader/Reachable/Unreachable for
/// the managers, as for `node ls`.
pub fn node_inspect(nodes: &[&Node], manager_status: &BTreeMap<NodeId, String>, pretty: bool) -> String {
    if pretty {
        return nodes.iter().map(|n| node_pretty(n, manager_status.get(&n.id))).collect::<Vec<_>>().join("\n");
    }
    let objects: Vec<NodeJson> = nodes.iter().map(|n| node_json(n, manager_status.get(&n.id))).collect();
    docker_json(&objects)
}

/// Docker's reachability word for a `node ls` manager status.
fn reachability(status: Option<&String>) -> String {
    match status.map(String::as_str) {
        Some("Leader") | Some("Reachable") => "reachable".to_string(),
        Some("Unreachable") => "unreachable".to_string(),
        _ => "unknown".to_string(),
    }
}

fn node_json(node: &Node, status: Option<&String>) -> NodeJson {
    let d = &node.description;
    NodeJson {
        id: node.id.to_string(),
        created_at: rfc3339(node.created_at),
        updated_at: rfc3339(node.created_at),
        spec: NodeSpecJson {
            labels: node.spec.labels.clone(),
            role: node.spec.role.as_str(),
            availability: node.spec.availability.as_str().to_lowercase(),
        },
        description: NodeDescriptionJson {
            hostname: d.hostname.clone(),
            platform: PlatformJson { architecture: d.platform_arch.clone(), os: d.platform_os.clone() },
            resources: d.resources.into(),
            engine: EngineJson { engine_version: d.engine_version.clone(), labels: d.engine_labels.clone() },
        },
        status: NodeStatusJson {
            state: node.status.state.as_str().to_lowercase(),
            message: node.status.message.clone(),
            addr: node.status.addr.clone(),
        },
        manager_status: node.manager_status.as_ref().map(|m| ManagerStatusJson {
            leader: status.map(String::as_str) == Some("Leader"),
            reachability: reachability(status),
            addr: m.addr.to_string(),
        }),
    }
}

/// docker 1.12's `node inspect --pretty`.
fn node_pretty(node: &Node, status: Option<&String>) -> String {
    let d = &node.description;
    let mut out = String::new();
    let _ = writeln!(out, "ID:\t\t\t{}", node.id);
    if !node.spec.labels.is_empty() {
        out.push_str("Labels:\n");
        for (k, v) in &node.spec.labels {
            let _ = writeln!(out, " - {k} = {v}");
        }
    }
    let _ = writeln!(out, "Hostname:\t\t{}", d.hostname);
    let _ = writeln!(out, "Joined at:\t\t{}", go_time_string(node.created_at));
    out.push_str("Status:\n");
    let _ = writeln!(out, " State:\t\t\t{}", node.status.state.as_str());
    if !node.status.message.is_empty() {
        let _ = writeln!(out, " Message:\t\t{}", capitalize(&node.status.message));
    }
    let _ = writeln!(out, " Availability:\t\t{}", node.spec.availability.as_str());
    if let Some(m) = &node.manager_status {
        out.push_str("Manager Status:\n");
        let _ = writeln!(out, " Address:\t\t{}", m.addr);
        let _ = writeln!(out, " Raft Status:\t\t{}", capitalize(&reachability(status)));
        let leader = if status.map(String::as_str) == Some("Leader") { "Yes" } else { "No" };
        let _ = writeln!(out, " Leader:\t\t{leader}");
    }
    out.push_str("Platform:\n");
    let _ = writeln!(out, " Operating System:\t{}", d.platform_os);
    let _ = writeln!(out, " Architecture:\t\t{}", d.platform_arch);
    out.push_str("Resources:\n");
    let _ = writeln!(out, " CPUs:\t\t\t{}", d.resources.nano_cpus / 1_000_000_000);
    let _ = writeln!(out, " Memory:\t\t{}", bytes_size(d.resources.memory_bytes));
    let _ = writeln!(out, "Engine Version:\t\t{}", d.engine_version);
    if !d.engine_labels.is_empty() {
        out.push_str("Engine Labels:\n");
        for (k, v) in &d.engine_labels {
            let _ = writeln!(out, " - {k} = {v}");
        }
    }
    out
}

/// docker's `PrettyPrint`: first letter upper case.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Networks.

#[derive(Serialize)]
struct NetworkJson {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "Created")]
    created: String,
    #[serde(rename = "Scope")]
    scope: &'static str,
    #[serde(rename = "Driver")]
    driver: &'static str,
    #[serde(rename = "EnableIPv6")]
    enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    ipam: IpamJson,
    #[serde(rename = "Internal")]
    internal: bool,
    #[serde(rename = "Ingress")]
    ingress: bool,
    #[serde(rename = "Labels")]
    labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct IpamJson {
    driver: &'static str,
    /// Always `null`, as docker shows it when no IPAM options were given.
    options: Option<BTreeMap<String, String>>,
    config: Vec<IpamConfigJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct IpamConfigJson {
    subnet: String,
    gateway: String,
}

/// `docker network inspect`: name, ID, scope, driver, subnet and gateway, ingress flag.
pub fn network_inspect(networks: &[&Network]) -> String {
    let objects: Vec<NetworkJson> = networks.iter().map(|n| network_json(n)).collect();
    docker_json(&objects)
}

fn network_json(network: &Network) -> NetworkJson {
    NetworkJson {
        name: network.name.clone(),
        id: network.id.to_string(),
        created: rfc3339(network.created_at),
        scope: network.scope.as_str(),
        driver: network.driver.as_str(),
        enable_ipv6: false,
        ipam: IpamJson {
            driver: "default",
            options: None,
            config: network
                .subnet
                .iter()
                .map(|s| IpamConfigJson { subnet: s.to_string(), gateway: s.gateway().to_string() })
                .collect(),
        },
        internal: false,
        ingress: network.ingress,
        labels: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{NetworkId, ServiceId};
    use core::net::Ipv4Addr;
    use serde_json::Value;
    use std::time::Duration;

    const INGRESS_ID: &str = "1zzlk9hpwyqyocloxy9j9vct7";
    const MYSWARM_ID: &str = "a04evrfrr4cvnbvrummzvg0mn";

    fn addr(a: u8, b: u8, c: u8, d: u8, prefix_len: u8) -> NetAddr {
        NetAddr { ip: Ipv4Addr::new(a, b, c, d), prefix_len }
    }

    fn tutorial_service() -> Service {
        let port =
            PortConfig { protocol: Protocol::Tcp, target_port: 80, published_port: 8000, mode: PublishMode::Ingress };
        Service {
            id: ServiceId("5xrm96xveqw5gq63srts1rbhw".into()),
            spec: ServiceSpec {
                labels: Default::default(),
                name: "mynginx".into(),
                mode: ServiceMode::Replicated { replicas: 2 },
                task: TaskTemplate { networks: vec![NetworkId(MYSWARM_ID.into())], ..TaskTemplate::for_image("nginx") },
                ports: vec![port],
                update: None,
                rollback: None,
            },
            spec_version: 12,
            endpoint: Some(Endpoint {
                ports: vec![port],
                virtual_ips: vec![
                    VirtualIp { network_id: NetworkId(INGRESS_ID.into()), addr: addr(10, 255, 0, 6, 16) },
                    VirtualIp { network_id: NetworkId(MYSWARM_ID.into()), addr: addr(10, 0, 0, 2, 24) },
                ],
            }),
            created_at: Instant::from_millis(12_345),
            updated_at: Instant::from_millis(60_000),
            update_status: None,
            previous_spec: None,
            job_status: None,
        }
    }

    fn parse_json(text: &str) -> Value {
        serde_json::from_str(text).expect("inspect prints valid JSON")
    }

    #[test]
    fn timestamps_count_from_the_display_epoch() {
        assert_eq!(rfc3339(Instant::ZERO), "2016-08-01T00:00:00Z");
        assert_eq!(rfc3339(Instant::from_millis(12_345)), "2016-08-01T00:00:12.345Z");
        assert_eq!(rfc3339(Instant::from_millis(500)), "2016-08-01T00:00:00.5Z");
        // 2016 is a leap year: 31 days of August, 30 of September... to 2017-03-01.
        let to_march_2017 = (31 + 30 + 31 + 30 + 31 + 31 + 28) * 86_400_000u64;
        assert_eq!(rfc3339(Instant::from_millis(to_march_2017 + 3_723_000)), "2017-03-01T01:02:03Z");
        assert_eq!(go_time_string(Instant::from_millis(1_010)), "2016-08-01 00:00:01.01 +0000 UTC");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn service_inspect_shows_the_tutorial_virtual_ips() {
        let svc = tutorial_service();
        let text = service_inspect(&[&svc]);
        let json = parse_json(&text);
        let vips = &json[0]["Endpoint"]["VirtualIPs"];
        assert_eq!(vips[0]["NetworkID"], INGRESS_ID);
        assert_eq!(vips[0]["Addr"], "10.255.0.6/16");
        assert_eq!(vips[1]["NetworkID"], MYSWARM_ID);
        assert_eq!(vips[1]["Addr"], "10.0.0.2/24");
        assert!(text.contains(
            "        \"VirtualIPs\": [\n                {\n                    \"NetworkID\": \"1zzlk9hpwyqyocloxy9j9vct7\",\n                    \"Addr\": \"10.255.0.6/16\"\n                },"
        ), "{text}");
        assert!(text.starts_with("[\n    {\n        \"ID\": \"5xrm96xveqw5gq63srts1rbhw\",\n        \"Version\": {\n            \"Index\": 12\n        },"));
        assert!(text.ends_with("}\n]\n"));
    }

    #[test]
    fn service_inspect_spec_fields() {
        let mut svc = tutorial_service();
        svc.spec.task.constraints = vec![Constraint::parse("node.role==worker").expect("valid")];
        svc.spec.task.command = vec!["nginx".into(), "-g".into(), "daemon off;".into()];
        svc.spec.task.reservations = Resources { nano_cpus: 500_000_000, memory_bytes: 64 << 20 };
        let json = parse_json(&service_inspect(&[&svc]));
        let spec = &json[0]["Spec"];
        assert_eq!(json[0]["CreatedAt"], "2016-08-01T00:00:12.345Z");
        assert_eq!(json[0]["UpdatedAt"], "2016-08-01T00:01:00Z");
        assert_eq!(spec["Name"], "mynginx");
        assert_eq!(spec["TaskTemplate"]["ContainerSpec"]["Image"], "nginx");
        assert_eq!(spec["TaskTemplate"]["ContainerSpec"]["Args"][2], "daemon off;");
        assert_eq!(spec["TaskTemplate"]["RestartPolicy"]["Condition"], "any");
        assert_eq!(spec["TaskTemplate"]["RestartPolicy"]["Delay"], 5_000_000_000u64);
        assert_eq!(spec["TaskTemplate"]["RestartPolicy"]["MaxAttempts"], 0);
        assert_eq!(spec["TaskTemplate"]["Placement"]["Constraints"][0], "node.role==worker");
        assert_eq!(spec["TaskTemplate"]["Resources"]["Reservations"]["NanoCPUs"], 500_000_000);
        assert_eq!(spec["TaskTemplate"]["Resources"]["Limits"], serde_json::json!({}));
        assert_eq!(spec["Mode"]["Replicated"]["Replicas"], 2);
        assert_eq!(spec["Networks"][0]["Target"], MYSWARM_ID);
        assert_eq!(spec["EndpointSpec"]["Mode"], "vip");
        assert_eq!(spec["EndpointSpec"]["Ports"][0]["PublishedPort"], 8000);
        assert_eq!(json[0]["Endpoint"]["Ports"][0]["PublishMode"], "ingress");
        assert_eq!(json[0]["Endpoint"]["Ports"][0]["TargetPort"], 80);
    }

    #[test]
    fn global_service_and_unallocated_endpoint() {
        let mut svc = tutorial_service();
        svc.spec.mode = ServiceMode::Global;
        svc.endpoint = None;
        let json = parse_json(&service_inspect(&[&svc]));
        assert_eq!(json[0]["Spec"]["Mode"], serde_json::json!({ "Global": {} }));
        assert!(json[0]["Endpoint"].get("VirtualIPs").is_none());
        assert_eq!(json[0]["Endpoint"]["Spec"]["Mode"], "vip");
        assert_eq!(service_inspect(&[]), "[]\n");
    }

    #[test]
    fn go_escapes_html_characters() {
        let mut svc = tutorial_service();
        svc.spec.task.env = vec!["A=<b>&c".into()];
        let text = service_inspect(&[&svc]);
        assert!(text.contains("\"A=\\u003cb\\u003e\\u0026c\""), "{text}");
        assert_eq!(parse_json(&text)[0]["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"][0], "A=<b>&c");
    }

    #[test]
    fn service_pretty_text() {
        let svc = tutorial_service();
        let expected = "\
ID:\t\t5xrm96xveqw5gq63srts1rbhw
Name:\t\tmynginx
Mode:\t\tReplicated
 Replicas:\t2
Placement:
RestartPolicy:
 Condition:\tany
 Delay:\t\t5s
 MaxAttempts:\t0
ContainerSpec:
 Image:\t\tnginx
Resources:
Networks: a04evrfrr4cvnbvrummzvg0mn
Ports:
 Protocol = tcp
 TargetPort = 80
 PublishedPort = 8000
";
        assert_eq!(service_inspect_pretty(&[&svc], Instant::ZERO), expected);
        let mut limited = svc.clone();
        limited.spec.task.reservations = Resources { nano_cpus: 250_000_000, memory_bytes: 64 << 20 };
        limited.spec.task.restart_policy.window = Duration::from_secs(90);
        let text = service_inspect_pretty(&[&limited], Instant::ZERO);
        assert!(text.contains("Resources:\n Reservations:\n  CPU:\t\t0.25\n  Memory:\t64 MiB\n"), "{text}");
        assert!(text.contains(" Window:\t1m30s\n"), "{text}");
    }

    #[test]
    fn service_inspect_shows_placement_preferences_max_replicas_and_the_healthcheck() {
        let mut svc = tutorial_service();
        svc.spec.task.placement.preferences = vec![SpreadOver::parse("spread=node.labels.zone").unwrap()];
        svc.spec.task.placement.max_replicas = 1;
        svc.spec.task.healthcheck = Some(HealthConfig {
            interval: Duration::from_secs(2),
            retries: 1,
            ..HealthConfig::shell("test -e /tmp/healthy")
        });
        let text = service_inspect_pretty(&[&svc], Instant::ZERO);
        assert!(
            text.contains("Placement:\n Preferences:   [spread=node.labels.zone]\n Max Replicas Per Node:   1\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                " Healthcheck:\n  Interval = 2s\n  Retries = 1\n  StartPeriod =\t0s\n  Timeout =\t0s\n  Tests:\n\t Test = CMD-SHELL\n\t Test = test -e /tmp/healthy \n"
            ),
            "{text}"
        );
        let json = serde_json::to_value(service_spec_json(&svc.spec)).unwrap();
        let template = &json["TaskTemplate"];
        assert_eq!(template["Placement"]["Preferences"][0]["Spread"]["SpreadDescriptor"], "node.labels.zone");
        assert_eq!(template["Placement"]["MaxReplicas"], 1);
        assert_eq!(template["ContainerSpec"]["Healthcheck"]["Test"][1], "test -e /tmp/healthy");
        assert_eq!(template["ContainerSpec"]["Healthcheck"]["Interval"], 2_000_000_000u64);
        assert!(template["ContainerSpec"]["Healthcheck"].get("Timeout").is_none(), "zero fields are left out");
    }

    fn manager_node() -> Node {
        Node {
            id: NodeId("1egy2ark49q6xokudps5wykhn".into()),
            spec: NodeSpec { role: NodeRole::Manager, availability: Availability::Active, labels: BTreeMap::new() },
            description: NodeDescription {
                hostname: "bd0".into(),
                platform_os: "linux".into(),
                platform_arch: "x86_64".into(),
                resources: Resources { nano_cpus: 2_000_000_000, memory_bytes: 2_098_229_248 },
                engine_version: "1.12.0".into(),
                engine_labels: BTreeMap::new(),
            },
            status: NodeStatus { state: NodeState::Ready, message: String::new(), addr: "192.168.0.109".into() },
            manager_status: Some(ManagerStatus {
                raft_id: 1,
                addr: "192.168.0.109:2377".parse().unwrap(),
                reachable: true,
            }),
            created_at: Instant::from_millis(1_000),
        }
    }

    #[test]
    fn node_inspect_json() {
        let node = manager_node();
        let status = BTreeMap::from([(node.id.clone(), "Leader".to_string())]);
        let json = parse_json(&node_inspect(&[&node], &status, false));
        assert_eq!(json[0]["ID"], "1egy2ark49q6xokudps5wykhn");
        assert_eq!(json[0]["Spec"]["Role"], "manager");
        assert_eq!(json[0]["Spec"]["Availability"], "active");
        assert_eq!(json[0]["Description"]["Hostname"], "bd0");
        assert_eq!(json[0]["Description"]["Platform"]["OS"], "linux");
        assert_eq!(json[0]["Description"]["Resources"]["NanoCPUs"], 2_000_000_000u64);
        assert_eq!(json[0]["Status"]["State"], "ready");
        assert_eq!(json[0]["Status"]["Addr"], "192.168.0.109");
        assert_eq!(json[0]["ManagerStatus"]["Leader"], true);
        assert_eq!(json[0]["ManagerStatus"]["Reachability"], "reachable");
        assert_eq!(json[0]["ManagerStatus"]["Addr"], "192.168.0.109:2377");

        let mut worker = manager_node();
        worker.manager_status = None;
        let json = parse_json(&node_inspect(&[&worker], &BTreeMap::new(), false));
        assert!(json[0].get("ManagerStatus").is_none());
    }

    #[test]
    fn node_inspect_pretty_text() {
        let node = manager_node();
        let status = BTreeMap::from([(node.id.clone(), "Leader".to_string())]);
        let expected = "\
ID:\t\t\t1egy2ark49q6xokudps5wykhn
Hostname:\t\tbd0
Joined at:\t\t2016-08-01 00:00:01 +0000 UTC
Status:
 State:\t\t\tReady
 Availability:\t\tActive
Manager Status:
 Address:\t\t192.168.0.109:2377
 Raft Status:\t\tReachable
 Leader:\t\tYes
Platform:
 Operating System:\tlinux
 Architecture:\t\tx86_64
Resources:
 CPUs:\t\t\t2
 Memory:\t\t1.954 GiB
Engine Version:\t\t1.12.0
";
        assert_eq!(node_inspect(&[&node], &status, true), expected);
    }

    #[test]
    fn network_inspect_json() {
        let net = Network {
            labels: Default::default(),
            attachable: false,
            id: NetworkId(MYSWARM_ID.into()),
            name: "myswarm".into(),
            driver: NetworkDriver::Overlay,
            scope: NetworkScope::Swarm,
            subnet: Subnet::parse("10.0.0.0/24"),
            ingress: false,
            created_at: Instant::ZERO,
        };
        let json = parse_json(&network_inspect(&[&net]));
        assert_eq!(json[0]["Name"], "myswarm");
        assert_eq!(json[0]["Id"], MYSWARM_ID);
        assert_eq!(json[0]["Scope"], "swarm");
        assert_eq!(json[0]["Driver"], "overlay");
        assert_eq!(json[0]["IPAM"]["Config"][0]["Subnet"], "10.0.0.0/24");
        assert_eq!(json[0]["IPAM"]["Config"][0]["Gateway"], "10.0.0.1");
        assert_eq!(json[0]["IPAM"]["Options"], Value::Null);
        assert_eq!(json[0]["Ingress"], false);
    }

    #[test]
    fn an_update_shows_its_settings_and_status_as_docker_20_10_does() {
        let mut svc = tutorial_service();
        svc.spec.update = Some(UpdateConfig {
            parallelism: 2,
            delay: Duration::from_secs(10),
            max_failure_ratio: FailureRatio(250_000),
            ..UpdateConfig::default()
        });
        svc.spec.rollback = Some(UpdateConfig::default());
        svc.update_status = Some(UpdateStatus {
            state: UpdateState::Paused,
            started_at: Some(Instant::from_millis(60_000)),
            completed_at: None,
            message: "update paused due to failure or early termination of task abc".into(),
        });
        let text = service_inspect_pretty(&[&svc], Instant::from_millis(180_000));
        let expected = "UpdateStatus:\n State:\t\tpaused\n Started:\t2 minutes ago\n \
                        Message:\tupdate paused due to failure or early termination of task abc\nPlacement:\n\
                        UpdateConfig:\n Parallelism:\t2\n Delay:\t\t10s\n On failure:\tpause\n \
                        Monitoring Period: 5s\n Max failure ratio: 0.25\n Update order:      stop-first\n\
                        RollbackConfig:\n Parallelism:\t1\n On failure:\tpause\n Monitoring Period: 5s\n \
                        Max failure ratio: 0\n Rollback order:    stop-first\n";
        assert!(text.contains(expected), "{text}");
        let json = service_inspect(&[&svc]);
        assert!(json.contains("\"UpdateConfig\": {\n                \"Parallelism\": 2,\n                \"Delay\": 10000000000,\n                \"FailureAction\": \"pause\",\n                \"Monitor\": 5000000000,\n                \"MaxFailureRatio\": 0.25,\n                \"Order\": \"stop-first\"\n            }"), "{json}");
        assert!(json.contains("\"UpdateStatus\": {\n            \"State\": \"paused\",\n            \"StartedAt\": \"2016-08-01T00:01:00Z\","), "{json}");
    }
}
