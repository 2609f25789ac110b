//! The listings' rows as docker/cli's formatter contexts show them to a `--format` template
//! (`format.rs`): each listing's fields, their table headers, and the Go type an unknown
//! field's error names. The default tables stay in `tables.rs`.

use super::format::{Kind, Template, Value};
use super::humanize::human_duration;
use super::humanize::natural_cmp;
use super::tables::{
    container_status, ellipsis, error_cell, go_quote, ingress_ports, lowercase_ago, mode_word, port_mapping,
    replicas_cell, short_id, tasks_in_ps_order, with_health, without_digest, MAX_COMMAND_WIDTH,
};
use crate::control::{NodeView, ServiceView, TaskView};
use crate::docker_version::DockerVersion;
use crate::runtime::{ContainerInfo, ContainerState};
use crate::time::Instant;

/// `service ls` (docker/cli `service.serviceContext`).
pub const SERVICES: Kind = Kind {
    type_name: "*service.serviceContext",
    error_prefix: "template parsing error",
    parse_error_prefix: "template parsing error",
    fields: &[
        ("ID", "ID"),
        ("Image", "IMAGE"),
        ("Mode", "MODE"),
        ("Name", "NAME"),
        ("Ports", "PORTS"),
        ("Replicas", "REPLICAS"),
    ],
};

/// `node ls` (docker/cli `node.nodeContext`; `Self` has no header).
pub const NODES: Kind = Kind {
    type_name: "*node.nodeContext",
    error_prefix: "template parsing error",
    parse_error_prefix: "template parsing error",
    fields: &[
        ("Availability", "AVAILABILITY"),
        ("EngineVersion", "ENGINE VERSION"),
        ("Hostname", "HOSTNAME"),
        ("ID", "ID"),
        ("ManagerStatus", "MANAGER STATUS"),
        ("Self", ""),
        ("Status", "STATUS"),
        ("TLSStatus", "TLS STATUS"),
    ],
};

/// `service ps` and `node ps` (docker/cli `task.taskContext`).
pub const TASKS: Kind = Kind {
    type_name: "*task.taskContext",
    error_prefix: "template parsing error",
    parse_error_prefix: "template parsing error",
    fields: &[
        ("CurrentState", "CURRENT STATE"),
        ("DesiredState", "DESIRED STATE"),
        ("Error", "ERROR"),
        ("ID", "ID"),
        ("Image", "IMAGE"),
        ("Name", "NAME"),
        ("Node", "NODE"),
        ("Ports", "PORTS"),
    ],
};

/// `docker ps` (docker/cli `formatter.ContainerContext`; `{{.Label "KEY"}}` reads `Labels`).
/// Not kept by the simulated runtime, so not offered: `CreatedAt`, `Mounts`, `LocalVolumes`,
/// `Networks`, `Size`.
pub const CONTAINERS: Kind = Kind {
    type_name: "*formatter.ContainerContext",
    // docker/cli `buildContainerListOptions` runs the template once before listing.
    error_prefix: "failed to execute template",
    parse_error_prefix: "failed to parse template",
    fields: &[
        ("Command", "COMMAND"),
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Labels", "LABELS"),
        ("Names", "NAMES"),
        ("Ports", "PORTS"),
        ("RunningFor", "CREATED"),
        ("State", "STATE"),
        ("Status", "STATUS"),
    ],
};

/// A `--format` checked against a listing's fields, so a bad one is refused before anything
/// is asked (docker's CLI fails as it executes the template, having printed nothing).
pub fn check(format: &str, kind: &Kind) -> Result<(), String> {
    let template = Template::parse(format).map_err(|e| format!("{}: {e}", kind.parse_error_prefix))?;
    template.render(kind, &[]).map(|_| ())
}

fn render(format: &str, kind: &Kind, rows: &[Vec<Value>]) -> String {
    match Template::parse(format).and_then(|t| t.render(kind, rows)) {
        Ok(out) => out,
        // Checked when the command line was parsed (`check`).
        Err(e) => format!("{}: {e}\n", kind.error_prefix),
    }
}

fn s(text: impl Into<String>) -> Value {
    Value::Str(text.into())
}

/// `service ls --format`: sorted by name, IDs cut to 12 as docker's `ID()` always does.
pub fn services(views: &[ServiceView], format: &str) -> String {
    let mut views: Vec<&ServiceView> = views.iter().collect();
    views.sort_by(|a, b| natural_cmp(&a.service.spec.name, &b.service.spec.name));
    let rows: Vec<Vec<Value>> = views
        .iter()
        .map(|v| {
            let svc = &v.service;
            vec![
                s(svc.id.short()),
                s(without_digest(&svc.spec.task.image)),
                s(mode_word(&svc.spec.mode)),
                s(svc.spec.name.clone()),
                s(ingress_ports(svc)),
                s(replicas_cell(format!("{}/{}", v.running, v.desired), v)),
            ]
        })
        .collect();
    render(format, &SERVICES, &rows)
}

/// `node ls --format`: sorted by hostname; `ID` without the ` *` of the default table.
pub fn nodes(views: &[NodeView], format: &str) -> String {
    let mut views: Vec<&NodeView> = views.iter().collect();
    views.sort_by(|a, b| {
        natural_cmp(&a.node.description.hostname, &b.node.description.hostname).then_with(|| a.node.id.cmp(&b.node.id))
    });
    let rows: Vec<Vec<Value>> = views
        .iter()
        .map(|v| {
            let n = &v.node;
            vec![
                s(n.spec.availability.as_str()),
                s(n.description.engine_version.clone()),
                s(n.description.hostname.clone()),
                s(n.id.to_string()),
                s(v.manager_status.clone().unwrap_or_default()),
                Value::Bool(v.is_self),
                s(n.status.state.as_str()),
                // Node certificates are not modelled: every node's is as a fresh one's.
                s("Ready"),
            ]
        })
        .collect();
    render(format, &NODES, &rows)
}

/// `service ps --format`: in the table's order; older tasks of a slot get ` \_ ` only in a
/// `table` format (docker/cli `task.Print`); IDs cut to 12 unless `--no-trunc` or `-q`.
pub fn tasks(views: &[TaskView], now: Instant, no_trunc: bool, quiet: bool, format: &str) -> String {
    let table = super::format::is_table(format);
    let trunc = !no_trunc && !quiet;
    let rows: Vec<Vec<Value>> = tasks_in_ps_order(views)
        .iter()
        .map(|(view, is_newest)| {
            let task = &view.task;
            let name = if *is_newest || !table { task.name() } else { format!(" \\_ {}", task.name()) };
            let (id, image) = if trunc {
                (short_id(task.id.as_str()).to_string(), without_digest(&task.spec.image).to_string())
            } else {
                (task.id.to_string(), task.spec.image.clone())
            };
            vec![
                s(format!(
                    "{} {}",
                    task.status.state.as_str(),
                    lowercase_ago(now.saturating_since(task.status.timestamp))
                )),
                s(task.desired_state.as_str()),
                s(error_cell(&task.status.err, no_trunc)),
                s(id),
                s(image),
                s(name),
                s(view.node.clone()),
                s(task.host_ports.iter().map(port_mapping).collect::<Vec<_>>().join(",")),
            ]
        })
        .collect();
    render(format, &TASKS, &rows)
}

/// `docker ps --format`: newest first, as the table; IDs cut to 12 and the command to 20
/// (quoted, as Go's `strconv.Quote`) as docker's `Trunc` default does.
pub fn containers(containers: &[ContainerInfo], now: Instant, version: DockerVersion, format: &str) -> String {
    let mut shown: Vec<&ContainerInfo> = containers.iter().collect();
    shown.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.name.cmp(&b.name)));
    let rows: Vec<Vec<Value>> = shown
        .iter()
        .map(|c| {
            let command = match version {
                DockerVersion::V1_12 => c.command.chars().take(MAX_COMMAND_WIDTH).collect::<String>(),
                DockerVersion::V20_10 => ellipsis(&c.command, MAX_COMMAND_WIDTH),
            };
            let state = match c.state {
                ContainerState::Created => "created",
                ContainerState::Running { .. } => "running",
                ContainerState::Exited { .. } => "exited",
            };
            vec![
                s(go_quote(&command)),
                s(short_id(&c.id)),
                s(c.image.clone()),
                Value::Labels(c.labels.clone()),
                s(c.name.clone()),
                s(c.exposed_ports.join(", ")),
                s(format!("{} ago", human_duration(now.saturating_since(c.created_at)))),
                s(state),
                s(with_health(container_status(&c.state, now), c)),
            ]
        })
        .collect();
    render(format, &CONTAINERS, &rows)
}
