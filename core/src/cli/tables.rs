//! docker's tables, byte for byte, as the CLI of a [`DockerVersion`] prints them: which columns,
//! and the Go tabwriter settings that align them (docker pads with spaces, never tabs).

use super::humanize::{human_duration, natural_cmp};
use crate::api::*;
use crate::control::{NodeView, ServiceView, TaskView};
use crate::docker_version::DockerVersion;
use crate::runtime::{ContainerInfo, ContainerState};
use crate::time::Instant;
use std::collections::BTreeMap;

/// `service ps` cuts task errors longer than this (docker/cli `maxErrLength`).
const MAX_ERROR_WIDTH: usize = 30;
/// `docker ps` cuts the command to this many characters.
pub(super) const MAX_COMMAND_WIDTH: usize = 20;
/// Length of a truncated ID: `docker ps`, `network ls`, `service ls`, 20.10's `service ps`.
const SHORT_ID_WIDTH: usize = 12;

/// A Go tabwriter's `minwidth` and `padding`: every cell but the last on its line is padded
/// with spaces to max(widest cell of its column incl. the header + padding, minwidth).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub min_width: usize,
    pub padding: usize,
}

impl Layout {
    /// docker 1.12's swarm commands (`node ls`, `service ls`, `service ps`) each made their own
    /// writer: `tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)` (api/client/node, service, task).
    pub const SWARM_1_12: Layout = Layout { min_width: 0, padding: 2 };
    /// docker 1.12's `formatter` package (`ps`, `network ls`): `NewWriter(out, 20, 1, 3, ' ', 0)`,
    /// hence the tutorial's `NETWORK ID          NAME`.
    pub const FORMATTER_1_12: Layout = Layout { min_width: 20, padding: 3 };
    /// docker/cli's formatter as of 20.10, which every table goes through by then: docker/cli#2699
    /// (20.10) lowered its minimum width from 20 to 10.
    pub const FORMATTER_20_10: Layout = Layout { min_width: 10, padding: 3 };
}

/// Lays out a table as docker/cli 20.10 does ([`Layout::FORMATTER_20_10`]).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    table_with(Layout::FORMATTER_20_10, header, rows)
}

/// Lays out a table as Go's tabwriter does with `layout`: the last cell of a line is written as
/// is, every other one padded (trailing blanks included, as docker prints them). Widths count
/// characters, as tabwriter counts runes.
pub fn table_with(layout: Layout, header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let lines: Vec<Vec<&str>> = std::iter::once(header.to_vec())
        .chain(rows.iter().map(|row| (0..columns).map(|i| row.get(i).map(String::as_str).unwrap_or("")).collect()))
        .collect();
    let widths = column_widths(layout, &lines, columns);
    let mut out = String::new();
    for line in &lines {
        for (i, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < columns {
                let pad = widths[i].saturating_sub(cell.chars().count());
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// Widths of every column but the last (text after the last tab is not part of a column).
fn column_widths(layout: Layout, lines: &[Vec<&str>], columns: usize) -> Vec<usize> {
    (0..columns.saturating_sub(1))
        .map(|i| {
            let widest = lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0);
            (widest + layout.padding).max(layout.min_width)
        })
        .collect()
}

/// One ID per line, no header: what `-q` prints.
fn id_lines<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    ids.into_iter().map(|id| format!("{id}\n")).collect()
}

/// `2 seconds ago`, lowercased as `service ps` prints it.
pub(super) fn lowercase_ago(d: std::time::Duration) -> String {
    format!("{} ago", human_duration(d).to_lowercase())
}

/// `docker node ls`: ` *` after the ID of the node answering; MANAGER STATUS is
/// Leader/Reachable/Unreachable for managers. 1.12 printed the nodes in the order the API gave
/// them, by ID (the tutorial's bd1, bd0, bd2); 20.10's CLI sorts them naturally by hostname.
/// 20.10 adds ENGINE VERSION (docker/cli#885, docker 18.03).
pub fn node_ls(nodes: &[NodeView], quiet: bool, version: DockerVersion) -> String {
    let mut nodes: Vec<&NodeView> = nodes.iter().collect();
    match version {
        DockerVersion::V1_12 => nodes.sort_by(|a, b| a.node.id.cmp(&b.node.id)),
        DockerVersion::V20_10 => nodes.sort_by(|a, b| {
            natural_cmp(&a.node.description.hostname, &b.node.description.hostname)
                .then_with(|| a.node.id.cmp(&b.node.id))
        }),
    }
    if quiet {
        return id_lines(nodes.iter().map(|v| v.node.id.as_str()));
    }
    let rows: Vec<Vec<String>> = nodes
        .iter()
        .map(|v| {
            let n = &v.node;
            let id = if v.is_self { format!("{} *", n.id) } else { n.id.to_string() };
            let mut row = vec![
                id,
                n.description.hostname.clone(),
                n.status.state.as_str().to_string(),
                n.spec.availability.as_str().to_string(),
                v.manager_status.clone().unwrap_or_default(),
            ];
            if version == DockerVersion::V20_10 {
                row.push(n.description.engine_version.clone());
            }
            row
        })
        .collect();
    match version {
        DockerVersion::V1_12 => {
            table_with(Layout::SWARM_1_12, &["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS"], &rows)
        }
        DockerVersion::V20_10 => {
            table(&["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"], &rows)
        }
    }
}

/// `docker service ls`, sorted by name; REPLICAS is `running/desired`. 1.12's columns are
/// `ID NAME REPLICAS IMAGE COMMAND`; 20.10's `ID NAME MODE REPLICAS IMAGE PORTS` (MODE since
/// docker 1.13, when global services got their own REPLICAS count; PORTS since moby#30813,
/// docker 17.06).
pub fn service_ls(services: &[ServiceView], quiet: bool, version: DockerVersion) -> String {
    let mut services: Vec<&ServiceView> = services.iter().collect();
    services.sort_by(|a, b| {
        natural_cmp(&a.service.spec.name, &b.service.spec.name).then_with(|| a.service.id.cmp(&b.service.id))
    });
    if quiet {
        return id_lines(services.iter().map(|v| v.service.id.short()));
    }
    let rows: Vec<Vec<String>> = services
        .iter()
        .map(|v| {
            let s = &v.service;
            let replicas = format!("{}/{}", v.running, v.desired);
            match version {
                DockerVersion::V1_12 => vec![
                    s.id.short().to_string(),
                    s.spec.name.clone(),
                    replicas,
                    s.spec.task.image.clone(),
                    s.spec.task.command.join(" "),
                ],
                DockerVersion::V20_10 => vec![
                    s.id.short().to_string(),
                    s.spec.name.clone(),
                    mode_word(&s.spec.mode).to_string(),
                    replicas_cell(replicas, v),
                    without_digest(&s.spec.task.image).to_string(),
                    ingress_ports(s),
                ],
            }
        })
        .collect();
    match version {
        DockerVersion::V1_12 => table_with(Layout::SWARM_1_12, &["ID", "NAME", "REPLICAS", "IMAGE", "COMMAND"], &rows),
        DockerVersion::V20_10 => table(&["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"], &rows),
    }
}

pub(super) fn mode_word(mode: &ServiceMode) -> &'static str {
    mode.as_str()
}

/// `nginx:latest@sha256:…` → `nginx:latest`: what docker/cli's service and task tables show
/// unless `--no-trunc`.
pub(super) fn without_digest(image: &str) -> &str {
    image.split('@').next().unwrap_or(image)
}

/// `*:8000->80/tcp, *:8443->443/tcp`: the ports published through the routing mesh, as
/// assigned (the endpoint's) once the allocator has assigned them, else as asked.
pub(super) fn ingress_ports(service: &Service) -> String {
    let ports = service.endpoint.as_ref().map(|e| &e.ports).unwrap_or(&service.spec.ports);
    ports.iter().filter(|p| p.mode == PublishMode::Ingress).map(port_mapping).collect::<Vec<_>>().join(", ")
}

pub(super) fn port_mapping(p: &PortConfig) -> String {
    format!("*:{}->{}/{}", p.published_port, p.target_port, p.protocol.as_str())
}

/// `docker service ps`. One group per slot (global: per node), groups in natural order of the
/// task name, the newest task of a group first and the older ones as ` \_ name`. 1.12 prints
/// whole task IDs and no PORTS; 20.10 cuts IDs to 12 characters unless `--no-trunc` and adds
/// PORTS, the task's host-mode ports (both from moby#29196, docker 1.13).
pub fn service_ps(tasks: &[TaskView], now: Instant, no_trunc: bool, quiet: bool, version: DockerVersion) -> String {
    let ordered = tasks_in_ps_order(tasks);
    if quiet {
        // `-q` prints whole IDs in both: quiet overrides truncation (docker/cli#543).
        return id_lines(ordered.iter().map(|(v, _)| v.task.id.as_str()));
    }
    let rows: Vec<Vec<String>> = ordered
        .iter()
        .map(|(view, is_newest)| {
            let task = &view.task;
            let name = if *is_newest { task.name() } else { format!(" \\_ {}", task.name()) };
            let (id, image) = match (version, no_trunc) {
                (DockerVersion::V20_10, false) => {
                    (short_id(task.id.as_str()).to_string(), without_digest(&task.spec.image).to_string())
                }
                _ => (task.id.to_string(), task.spec.image.clone()),
            };
            let mut row = vec![
                id,
                name,
                image,
                view.node.clone(),
                task.desired_state.as_str().to_string(),
                format!(
                    "{} {}",
                    task.status.state.as_str(),
                    lowercase_ago(now.saturating_since(task.status.timestamp))
                ),
                error_cell(&task.status.err, no_trunc),
            ];
            if version == DockerVersion::V20_10 {
                row.push(task.host_ports.iter().map(port_mapping).collect::<Vec<_>>().join(","));
            }
            row
        })
        .collect();
    let header = ["ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS"];
    match version {
        DockerVersion::V1_12 => table_with(Layout::SWARM_1_12, &header[..7], &rows),
        DockerVersion::V20_10 => table(&header, &rows),
    }
}

/// The tasks grouped by name (slot or node), each paired with whether it is the newest of its
/// group.
pub(super) fn tasks_in_ps_order(tasks: &[TaskView]) -> Vec<(&TaskView, bool)> {
    let mut groups: BTreeMap<String, Vec<&TaskView>> = BTreeMap::new();
    for view in tasks {
        groups.entry(view.task.name()).or_default().push(view);
    }
    let mut groups: Vec<(String, Vec<&TaskView>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| natural_cmp(&a.0, &b.0));
    let mut ordered = Vec::new();
    for (_, mut views) in groups {
        views.sort_by(|a, b| b.task.created_at.cmp(&a.task.created_at).then_with(|| a.task.id.cmp(&b.task.id)));
        for (i, view) in views.into_iter().enumerate() {
            ordered.push((view, i == 0));
        }
    }
    ordered
}

/// `"task: non-zero exit (137)"`: quoted, cut to 30 characters with `…` unless `--no-trunc`.
pub(super) fn error_cell(err: &str, no_trunc: bool) -> String {
    if err.is_empty() {
        return String::new();
    }
    let shown = if no_trunc { err.to_string() } else { ellipsis(err, MAX_ERROR_WIDTH) };
    format!("\"{shown}\"")
}

/// docker/cli `Ellipsis`: at most `max` characters, the last one `…` when cut.
pub(super) fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `docker network ls`: `NETWORK ID NAME DRIVER SCOPE`, 12-character IDs, sorted by name. The
/// same columns in both; 1.12 laid them out with its formatter's minimum width of 20.
pub fn network_ls(networks: &[Network], quiet: bool, version: DockerVersion) -> String {
    let mut sorted: Vec<&Network> = networks.iter().collect();
    sorted.sort_by(|a, b| natural_cmp(&a.name, &b.name).then_with(|| a.id.cmp(&b.id)));
    if quiet {
        return id_lines(sorted.iter().map(|n| short_id(n.id.as_str())));
    }
    let cells: Vec<Vec<String>> = sorted
        .iter()
        .map(|n| {
            vec![
                short_id(n.id.as_str()).to_string(),
                n.name.clone(),
                n.driver.as_str().to_string(),
                n.scope.as_str().to_string(),
            ]
        })
        .collect();
    table_with(formatter_layout(version), &["NETWORK ID", "NAME", "DRIVER", "SCOPE"], &cells)
}

/// The layout of the tables docker/cli's `formatter` package writes (`ps`, `network ls`).
fn formatter_layout(version: DockerVersion) -> Layout {
    match version {
        DockerVersion::V1_12 => Layout::FORMATTER_1_12,
        DockerVersion::V20_10 => Layout::FORMATTER_20_10,
    }
}

pub(super) fn short_id(id: &str) -> &str {
    match id.char_indices().nth(SHORT_ID_WIDTH) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

/// `docker ps [-a]`: newest first (the daemon left out stopped containers without `-a`). Docker
/// does not lowercase here: `About a minute ago`, `Up Less than a second`. The command is cut
/// to 20 characters: 1.12 cut it bare (`"nginx -g 'daemon off"`, the tutorial's), 20.10's
/// formatter ends the cut with `…` (`"nginx -g 'daemon of…"`, docker/cli's `Ellipsis`).
pub fn container_ps(containers: &[ContainerInfo], now: Instant, quiet: bool, version: DockerVersion) -> String {
    let mut shown: Vec<&ContainerInfo> = containers.iter().collect();
    shown.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.name.cmp(&b.name)));
    if quiet {
        return id_lines(shown.iter().map(|c| short_id(&c.id)));
    }
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|c| {
            let command = match version {
                DockerVersion::V1_12 => c.command.chars().take(MAX_COMMAND_WIDTH).collect::<String>(),
                DockerVersion::V20_10 => ellipsis(&c.command, MAX_COMMAND_WIDTH),
            };
            vec![
                short_id(&c.id).to_string(),
                c.image.clone(),
                go_quote(&command),
                format!("{} ago", human_duration(now.saturating_since(c.created_at))),
                with_health(container_status(&c.state, now), c),
                c.exposed_ports.join(", "),
                c.name.clone(),
            ]
        })
        .collect();
    table_with(
        formatter_layout(version),
        &["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"],
        &rows,
    )
}

/// The daemon's status words: `Up 40 seconds`, `Exited (137) 5 seconds ago`, `Created`.
pub(super) fn container_status(state: &ContainerState, now: Instant) -> String {
    match state {
        ContainerState::Created => "Created".to_string(),
        ContainerState::Running { since } => format!("Up {}", human_duration(now.saturating_since(*since))),
        ContainerState::Exited { exit_code, at } => {
            format!("Exited ({exit_code}) {} ago", human_duration(now.saturating_since(*at)))
        }
    }
}

/// docker/cli's `2/2 (max 1 per node)` for a service with `--replicas-max-per-node` (20.10).
/// docker/cli's `Replicas()`: a job adds its progress (`0/2 (3/3 completed)`; a global job's
/// total is what is still desired plus what completed) and never the max per node.
pub(super) fn replicas_cell(replicas: String, view: &ServiceView) -> String {
    match view.service.spec.mode {
        ServiceMode::ReplicatedJob { total_completions, .. } => {
            format!("{replicas} ({}/{total_completions} completed)", view.completed)
        }
        ServiceMode::GlobalJob => {
            format!("{replicas} ({}/{} completed)", view.completed, view.desired + view.completed)
        }
        ServiceMode::Replicated { .. } | ServiceMode::Global => with_max_per_node(replicas, &view.service),
    }
}

fn with_max_per_node(replicas: String, service: &crate::api::Service) -> String {
    match service.spec.task.placement.max_replicas {
        0 => replicas,
        max => format!("{replicas} (max {max} per node)"),
    }
}

/// A running container with a health check: `Up 5 seconds (healthy)`, `(health: starting)`,
/// `(unhealthy)` (docker's `State.String()`).
pub(super) fn with_health(status: String, container: &ContainerInfo) -> String {
    match (&container.state, container.health) {
        (ContainerState::Running { .. }, Some(health)) => format!("{status} ({})", health.as_ps_str()),
        _ => status,
    }
}

/// Go's `strconv.Quote` for the characters a command line holds.
pub(super) fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{NetworkId, NodeId};
    use crate::ids::{ServiceId, TaskId};
    use crate::store::{Store, StoreAction, Touched};

    fn apply(store: &mut Store, action: StoreAction) {
        let outcome = store.apply(action, &mut Touched::default());
        assert_eq!(outcome, crate::store::ApplyOutcome::Applied);
    }

    fn node(id: &str, hostname: &str, state: NodeState) -> Node {
        Node {
            id: NodeId(id.to_string()),
            spec: NodeSpec { role: NodeRole::Worker, availability: Availability::Active, labels: BTreeMap::new() },
            description: NodeDescription {
                hostname: hostname.to_string(),
                platform_os: "linux".to_string(),
                platform_arch: "x86_64".to_string(),
                resources: Resources { nano_cpus: 1_000_000_000, memory_bytes: 2_098_229_248 },
                engine_version: "1.12.0".to_string(),
                engine_labels: BTreeMap::new(),
            },
            status: NodeStatus { state, message: String::new(), addr: String::new() },
            manager_status: None,
            created_at: Instant::ZERO,
        }
    }

    fn template(image: &str) -> TaskTemplate {
        TaskTemplate::for_image(image)
    }

    fn service(id: &str, name: &str, mode: ServiceMode) -> Service {
        Service {
            id: ServiceId(id.to_string()),
            spec: ServiceSpec {
                labels: Default::default(),
                name: name.to_string(),
                mode,
                task: template("nginx"),
                ports: vec![],
                update: None,
                rollback: None,
            },
            spec_version: 1,
            endpoint: None,
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
            update_status: None,
            previous_spec: None,
            job_status: None,
        }
    }

    struct TaskShape<'a> {
        id: &'a str,
        slot: u64,
        node: &'a str,
        desired: TaskState,
        state: TaskState,
        at_secs: u64,
        err: &'a str,
    }

    fn task(svc: &Service, shape: TaskShape) -> Task {
        let mut status = TaskStatus::new(shape.state, Instant::from_millis(shape.at_secs * 1000), "");
        status.err = shape.err.to_string();
        Task {
            id: TaskId(shape.id.to_string()),
            service_id: svc.id.clone(),
            service_name: svc.spec.name.clone(),
            slot: shape.slot,
            node_id: Some(NodeId(shape.node.to_string())),
            spec: svc.spec.task.clone(),
            spec_version: 1,
            host_ports: vec![],
            desired_state: shape.desired,
            status,
            networks: vec![],
            created_at: Instant::from_millis(shape.at_secs * 1000),
            job_iteration: None,
        }
    }

    /// The tutorial's three nodes and its `mynginx` service.
    fn tutorial_store() -> Store {
        let mut store = Store::new();
        apply(&mut store, StoreAction::CreateNode(node("1egy2ark49q6xokudps5wykhn", "bd0", NodeState::Ready)));
        apply(&mut store, StoreAction::CreateNode(node("11ochjq4o1s2m6w4u8jxb37w6", "bd1", NodeState::Ready)));
        apply(&mut store, StoreAction::CreateNode(node("b4e2ywnhhd6fhgfxtr1qh4gew", "bd2", NodeState::Ready)));
        apply(
            &mut store,
            StoreAction::CreateService(service(
                "5xrm96xveqw5gq63srts1rbhw",
                "mynginx",
                ServiceMode::Replicated { replicas: 2 },
            )),
        );
        store
    }

    fn mynginx(store: &Store) -> Service {
        store.service_by_name("mynginx").cloned().expect("test service")
    }

    /// The tutorial's tables lost their trailing blanks in its markdown; docker printed them
    /// (a padded empty last-but-one cell), so a table is compared with the tutorial's text
    /// after the blanks at the ends of lines are dropped.
    fn without_trailing_blanks(table: &str) -> String {
        table.lines().map(|l| format!("{}\n", l.trim_end())).collect()
    }

    const V1_12: DockerVersion = DockerVersion::V1_12;
    const V20_10: DockerVersion = DockerVersion::V20_10;

    #[test]
    fn table_pads_all_but_the_last_cell_to_max_of_ten_and_widest_plus_three() {
        let rows = vec![vec!["a".to_string(), "longer-value".to_string(), "x".to_string()]];
        let expected = "A         B              C\n\
                        a         longer-value   x\n";
        assert_eq!(table(&["A", "B", "C"], &rows), expected);
    }

    #[test]
    fn table_prints_the_header_alone_and_keeps_trailing_padding() {
        assert_eq!(table(&["ID", "NAME"], &[]), "ID        NAME\n");
        let rows = vec![vec!["x".to_string(), String::new(), String::new()]];
        assert_eq!(table(&["ID", "NAME", "END"], &rows), "ID        NAME      END\nx                   \n");
    }

    #[test]
    fn node_ls_under_1_12_is_the_tutorials_table_in_id_order() {
        let store = tutorial_store();
        let leader = NodeId("1egy2ark49q6xokudps5wykhn".to_string());
        let status = BTreeMap::from([(leader.clone(), "Leader".to_string())]);
        let tutorial = "\
ID                           HOSTNAME  STATUS  AVAILABILITY  MANAGER STATUS
11ochjq4o1s2m6w4u8jxb37w6    bd1       Ready   Active
1egy2ark49q6xokudps5wykhn *  bd0       Ready   Active        Leader
b4e2ywnhhd6fhgfxtr1qh4gew    bd2       Ready   Active
";
        let table = node_ls(&NodeView::all(&store, &status, Some(&leader)), false, V1_12);
        assert_eq!(without_trailing_blanks(&table), tutorial);
        assert!(
            table.contains("bd1       Ready   Active        \n"),
            "the empty last cell's column is padded: {table}"
        );
        assert_eq!(
            node_ls(&NodeView::all(&store, &status, Some(&leader)), true, V1_12),
            "11ochjq4o1s2m6w4u8jxb37w6\n1egy2ark49q6xokudps5wykhn\nb4e2ywnhhd6fhgfxtr1qh4gew\n"
        );
    }

    #[test]
    fn node_ls_under_20_10_sorts_by_hostname_and_shows_the_engine_version() {
        let store = tutorial_store();
        let leader = NodeId("1egy2ark49q6xokudps5wykhn".to_string());
        let status = BTreeMap::from([(leader.clone(), "Leader".to_string())]);
        let expected = "\
ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION
1egy2ark49q6xokudps5wykhn *   bd0        Ready     Active         Leader           1.12.0
11ochjq4o1s2m6w4u8jxb37w6     bd1        Ready     Active                          1.12.0
b4e2ywnhhd6fhgfxtr1qh4gew     bd2        Ready     Active                          1.12.0
";
        assert_eq!(node_ls(&NodeView::all(&store, &status, Some(&leader)), false, V20_10), expected);
    }

    #[test]
    fn node_ls_under_20_10_sorts_hostnames_naturally() {
        let mut store = Store::new();
        apply(&mut store, StoreAction::CreateNode(node("aaa", "node-10", NodeState::Ready)));
        apply(&mut store, StoreAction::CreateNode(node("bbb", "node-2", NodeState::Down)));
        let text = node_ls(&NodeView::all(&store, &BTreeMap::new(), None), true, V20_10);
        assert_eq!(text, "bbb\naaa\n");
    }

    fn running_tutorial_tasks(store: &mut Store) {
        let svc = mynginx(store);
        let running = |id, slot, node, at_secs| TaskShape {
            id,
            slot,
            node,
            desired: TaskState::Running,
            state: TaskState::Running,
            at_secs,
            err: "",
        };
        apply(
            store,
            StoreAction::CreateTask(task(
                &svc,
                running("1crmc5ecsjoci8xavxzbnbks3", 1, "1egy2ark49q6xokudps5wykhn", 100),
            )),
        );
        apply(
            store,
            StoreAction::CreateTask(task(
                &svc,
                running("divhrq89xhxka8bvb8r9zqqhz", 2, "b4e2ywnhhd6fhgfxtr1qh4gew", 103),
            )),
        );
    }

    #[test]
    fn service_ls_under_1_12_is_the_tutorials_table() {
        let mut store = tutorial_store();
        running_tutorial_tasks(&mut store);
        let tutorial = "\
ID            NAME     REPLICAS  IMAGE  COMMAND
5xrm96xveqw5  mynginx  2/2       nginx
";
        assert_eq!(
            without_trailing_blanks(&service_ls(&ServiceView::all(&store, Instant::ZERO), false, V1_12)),
            tutorial
        );
        assert_eq!(service_ls(&ServiceView::all(&store, Instant::ZERO), true, V1_12), "5xrm96xveqw5\n");
    }

    #[test]
    fn service_ls_under_20_10_has_mode_and_published_ports() {
        let mut store = tutorial_store();
        running_tutorial_tasks(&mut store);
        let mut services = ServiceView::all(&store, Instant::ZERO);
        let port =
            PortConfig { protocol: Protocol::Tcp, target_port: 80, published_port: 8000, mode: PublishMode::Ingress };
        services[0].service.spec.task.image = "nginx:latest@sha256:0123".to_string();
        services[0].service.spec.ports = vec![port];
        let expected = "\
ID             NAME      MODE         REPLICAS   IMAGE          PORTS
5xrm96xveqw5   mynginx   replicated   2/2        nginx:latest   *:8000->80/tcp
";
        assert_eq!(service_ls(&services, false, V20_10), expected);
    }

    #[test]
    fn service_ls_does_not_count_tasks_on_down_nodes() {
        let mut store = tutorial_store();
        running_tutorial_tasks(&mut store);
        apply(
            &mut store,
            StoreAction::SetNodeState {
                id: NodeId("b4e2ywnhhd6fhgfxtr1qh4gew".to_string()),
                state: NodeState::Down,
                message: String::new(),
                addr: None,
            },
        );
        assert!(
            service_ls(&ServiceView::all(&store, Instant::ZERO), false, V20_10).contains("mynginx   replicated   1/2")
        );
    }

    #[test]
    fn service_ls_global_desired_is_the_tasks_meant_to_run() {
        let mut store = tutorial_store();
        apply(
            &mut store,
            StoreAction::CreateService(service("globalsvc0000000000000000", "agent", ServiceMode::Global)),
        );
        let svc = store.service_by_name("agent").cloned().expect("created");
        let shape =
            |id, node, state| TaskShape { id, slot: 0, node, desired: TaskState::Running, state, at_secs: 1, err: "" };
        apply(
            &mut store,
            StoreAction::CreateTask(task(&svc, shape("t1", "1egy2ark49q6xokudps5wykhn", TaskState::Running))),
        );
        apply(
            &mut store,
            StoreAction::CreateTask(task(&svc, shape("t2", "b4e2ywnhhd6fhgfxtr1qh4gew", TaskState::Preparing))),
        );
        assert!(
            service_ls(&ServiceView::all(&store, Instant::ZERO), false, V20_10).contains("agent     global       1/2")
        );
    }

    #[test]
    fn service_ps_after_a_failover_under_both_versions() {
        let mut store = tutorial_store();
        running_tutorial_tasks(&mut store);
        let svc = mynginx(&store);
        // bd2's task was killed and replaced on bd1.
        apply(
            &mut store,
            StoreAction::SetTaskDesired {
                id: TaskId("divhrq89xhxka8bvb8r9zqqhz".into()),
                desired: TaskState::Shutdown,
            },
        );
        let mut failed = TaskStatus::new(TaskState::Failed, Instant::from_millis(455_000), "");
        failed.err = "task: non-zero exit (137)".to_string();
        apply(
            &mut store,
            StoreAction::SetTaskStatus { id: TaskId("divhrq89xhxka8bvb8r9zqqhz".into()), status: failed },
        );
        let replacement = TaskShape {
            id: "br5iyie0dr945ixnq7s77kunr",
            slot: 2,
            node: "11ochjq4o1s2m6w4u8jxb37w6",
            desired: TaskState::Running,
            state: TaskState::Running,
            at_secs: 456,
            err: "",
        };
        apply(&mut store, StoreAction::CreateTask(task(&svc, replacement)));
        let now = Instant::from_millis(460_000);
        // The tutorial's own table has NODE 9 wide and CURRENT STATE 25: wider than docker
        // 1.12's tabwriter (widest cell + 2) makes them for these cells, so its author's text
        // was edited there (its ages, and probably its hostnames). Every other column is as here.
        let expected = "\
ID                         NAME           IMAGE  NODE  DESIRED STATE  CURRENT STATE          ERROR
1crmc5ecsjoci8xavxzbnbks3  mynginx.1      nginx  bd0   Running        Running 6 minutes ago
br5iyie0dr945ixnq7s77kunr  mynginx.2      nginx  bd1   Running        Running 4 seconds ago
divhrq89xhxka8bvb8r9zqqhz   \\_ mynginx.2  nginx  bd2   Shutdown       Failed 5 seconds ago   \"task: non-zero exit (137)\"
";
        let views = TaskView::of_services(&store, &[&svc]);
        assert_eq!(without_trailing_blanks(&service_ps(&views, now, false, false, V1_12)), expected);
        assert_eq!(
            service_ps(&views, now, false, true, V1_12),
            "1crmc5ecsjoci8xavxzbnbks3\nbr5iyie0dr945ixnq7s77kunr\ndivhrq89xhxka8bvb8r9zqqhz\n"
        );
        let expected_20_10 = "\
ID             NAME            IMAGE     NODE      DESIRED STATE   CURRENT STATE           ERROR                         PORTS
1crmc5ecsjoc   mynginx.1       nginx     bd0       Running         Running 6 minutes ago                                 
br5iyie0dr94   mynginx.2       nginx     bd1       Running         Running 4 seconds ago                                 
divhrq89xhxk    \\_ mynginx.2   nginx     bd2       Shutdown        Failed 5 seconds ago    \"task: non-zero exit (137)\"   
";
        assert_eq!(service_ps(&views, now, false, false, V20_10), expected_20_10);
        assert!(service_ps(&views, now, true, false, V20_10).starts_with("ID                          NAME"));
        assert_eq!(service_ps(&views, now, false, true, V20_10), service_ps(&views, now, false, true, V1_12));
    }

    #[test]
    fn service_ps_orders_slots_naturally_and_cuts_long_errors() {
        let mut store = tutorial_store();
        let svc = mynginx(&store);
        let long_err = "no suitable node (insufficient resources on 3 nodes)";
        for (id, slot) in [("t10", 10), ("t2", 2)] {
            let shape = TaskShape {
                id,
                slot,
                node: "n",
                desired: TaskState::Running,
                state: TaskState::Pending,
                at_secs: 0,
                err: long_err,
            };
            let mut t = task(&svc, shape);
            t.node_id = None;
            apply(&mut store, StoreAction::CreateTask(t));
        }
        let text = service_ps(&TaskView::of_services(&store, &[&svc]), Instant::from_millis(500), false, false, V1_12);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("t2 "), "{text}");
        assert!(lines[2].starts_with("t10 "), "{text}");
        assert!(lines[1].ends_with("Pending less than a second ago  \"no suitable node (insufficien…\""), "{text}");
        let untrimmed =
            service_ps(&TaskView::of_services(&store, &[&svc]), Instant::from_millis(500), true, false, V1_12);
        assert!(untrimmed.contains(&format!("\"{long_err}\"")));
    }

    fn container(id: &str, name: &str, created_secs: u64, state: ContainerState) -> ContainerInfo {
        ContainerInfo {
            id: format!("{id}{}", "0".repeat(64 - id.len())),
            name: name.to_string(),
            image: "nginx:latest".to_string(),
            command: "nginx -g 'daemon off;'".to_string(),
            created_at: Instant::from_millis(created_secs * 1000),
            state,
            exposed_ports: vec!["80/tcp".to_string()],
            health: None,
            labels: Default::default(),
        }
    }

    #[test]
    fn container_ps_shows_a_running_containers_health_as_docker_does() {
        use crate::api::HealthStatus;
        let up = ContainerState::Running { since: Instant::from_millis(10_000) };
        let now = Instant::from_millis(15_000);
        for (health, status) in [
            (HealthStatus::Starting, "Up 5 seconds (health: starting)"),
            (HealthStatus::Healthy, "Up 5 seconds (healthy)"),
            (HealthStatus::Unhealthy, "Up 5 seconds (unhealthy)"),
        ] {
            let c = ContainerInfo { health: Some(health), ..container("dddddddddddd", "web", 9, up.clone()) };
            let text = container_ps(&[c], now, false, V20_10);
            assert!(text.contains(status), "{text}");
        }
        let exited = ContainerState::Exited { exit_code: 143, at: Instant::from_millis(12_000) };
        let c = ContainerInfo { health: Some(HealthStatus::Unhealthy), ..container("eeeeeeeeeeee", "web", 9, exited) };
        assert!(!container_ps(&[c], now, false, V20_10).contains("unhealthy"), "only a running container shows it");
    }

    #[test]
    fn container_ps_under_1_12_is_the_tutorials_table_and_20_10_cuts_the_command_with_an_ellipsis() {
        let containers = vec![container(
            "e480d427fd51",
            "mynginx.1.1crmc5ecsjoci8xavxzbnbks3",
            100,
            ContainerState::Running { since: Instant::from_millis(101_000) },
        )];
        let tutorial = "\
CONTAINER ID        IMAGE               COMMAND                  CREATED             STATUS              PORTS               NAMES
e480d427fd51        nginx:latest        \"nginx -g 'daemon off\"   41 seconds ago      Up 40 seconds       80/tcp              mynginx.1.1crmc5ecsjoci8xavxzbnbks3
";
        assert_eq!(container_ps(&containers, Instant::from_millis(141_000), false, V1_12), tutorial);
        let expected_20_10 = "\
CONTAINER ID   IMAGE          COMMAND                  CREATED          STATUS          PORTS     NAMES
e480d427fd51   nginx:latest   \"nginx -g 'daemon of…\"   41 seconds ago   Up 40 seconds   80/tcp    mynginx.1.1crmc5ecsjoci8xavxzbnbks3
";
        assert_eq!(container_ps(&containers, Instant::from_millis(141_000), false, V20_10), expected_20_10);
    }

    #[test]
    fn container_ps_lists_newest_first_in_any_state() {
        let containers = vec![
            container(
                "aaaaaaaaaaaa",
                "old",
                10,
                ContainerState::Exited { exit_code: 137, at: Instant::from_millis(55_000) },
            ),
            container("bbbbbbbbbbbb", "new", 20, ContainerState::Created),
            container("cccccccccccc", "up", 5, ContainerState::Running { since: Instant::from_millis(6_000) }),
        ];
        let now = Instant::from_millis(75_000);
        assert_eq!(container_ps(&containers, now, true, V20_10), "bbbbbbbbbbbb\naaaaaaaaaaaa\ncccccccccccc\n");
        let all = container_ps(&containers, now, false, V20_10);
        assert!(all.contains("Exited (137) 20 seconds ago"), "{all}");
        assert!(all.contains("   Created   "), "{all}");
        assert!(all.contains("About a minute ago"), "{all}");
    }

    #[test]
    fn network_ls_under_1_12_is_the_tutorials_table_minimum_width_20() {
        let row = |id: &str, name: &str, driver: NetworkDriver, scope: NetworkScope| Network {
            labels: Default::default(),
            attachable: false,
            id: NetworkId(id.to_string()),
            name: name.to_string(),
            driver,
            scope,
            subnet: None,
            ingress: false,
            created_at: Instant::ZERO,
        };
        let rows = vec![
            row("a04evrfrr4cvnbvrummzvg0mn", "myswarm", NetworkDriver::Overlay, NetworkScope::Swarm),
            row("36679de6466b0000", "bridge", NetworkDriver::Bridge, NetworkScope::Local),
            row("1zzlk9hpwyqyocloxy9j9vct7", "ingress", NetworkDriver::Overlay, NetworkScope::Swarm),
            row("b45cef05e017", "host", NetworkDriver::Host, NetworkScope::Local),
            row("72e853673d8b", "docker_gwbridge", NetworkDriver::Bridge, NetworkScope::Local),
        ];
        let tutorial = "\
NETWORK ID          NAME                DRIVER              SCOPE
36679de6466b        bridge              bridge              local
72e853673d8b        docker_gwbridge     bridge              local
b45cef05e017        host                host                local
1zzlk9hpwyqy        ingress             overlay             swarm
a04evrfrr4cv        myswarm             overlay             swarm
";
        assert_eq!(network_ls(&rows, false, V1_12), tutorial);
        let expected_20_10 = "\
NETWORK ID     NAME              DRIVER    SCOPE
36679de6466b   bridge            bridge    local
72e853673d8b   docker_gwbridge   bridge    local
b45cef05e017   host              host      local
1zzlk9hpwyqy   ingress           overlay   swarm
a04evrfrr4cv   myswarm           overlay   swarm
";
        assert_eq!(network_ls(&rows, false, V20_10), expected_20_10);
        assert_eq!(network_ls(&rows[..1], true, V1_12), "a04evrfrr4cv\n");
    }

    #[test]
    fn ellipsis_keeps_short_text_and_cuts_long_text_to_the_limit() {
        assert_eq!(ellipsis("short", 30), "short");
        let cut = ellipsis(&"x".repeat(31), 30);
        assert_eq!(cut.chars().count(), 30);
        assert!(cut.ends_with('…'));
        assert_eq!(go_quote("a\"b\\"), "\"a\\\"b\\\\\"");
    }
}
