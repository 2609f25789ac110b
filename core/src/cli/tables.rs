//! docker's tables, byte for byte: the columns of docker 1.12 (the tutorial's), the alignment of
//! docker/cli's formatter (Go tabwriter, minwidth 10, padding 3, spaces).

use super::humanize::{human_duration, natural_cmp};
use crate::api::*;
use crate::control::{NodeView, ServiceView, TaskView};
use crate::runtime::{ContainerInfo, ContainerState};
use crate::time::Instant;
use std::collections::BTreeMap;

/// Go tabwriter's `minwidth`: no column is narrower than this.
const MIN_COLUMN_WIDTH: usize = 10;
/// Go tabwriter's `padding`: spaces added to the widest cell of a column.
const COLUMN_PADDING: usize = 3;
/// `service ps` cuts task errors longer than this (docker/cli `maxErrLength`).
const MAX_ERROR_WIDTH: usize = 30;
/// `docker ps` cuts the command to this many characters.
const MAX_COMMAND_WIDTH: usize = 20;

/// Lays out a table as docker/cli does: every cell but the last on its line is padded with
/// spaces to its column's width, max(widest cell incl. header + 3, 10); the last cell is written
/// as is. Widths count characters, as tabwriter counts runes.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let columns = header.len();
    let lines: Vec<Vec<&str>> = std::iter::once(header.to_vec())
        .chain(rows.iter().map(|row| (0..columns).map(|i| row.get(i).map(String::as_str).unwrap_or("")).collect()))
        .collect();
    let widths = column_widths(&lines, columns);
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
fn column_widths(lines: &[Vec<&str>], columns: usize) -> Vec<usize> {
    (0..columns.saturating_sub(1))
        .map(|i| {
            let widest = lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0);
            (widest + COLUMN_PADDING).max(MIN_COLUMN_WIDTH)
        })
        .collect()
}

/// One ID per line, no header: what `-q` prints.
fn id_lines<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    ids.into_iter().map(|id| format!("{id}\n")).collect()
}

/// `2 seconds ago`, lowercased as `service ps` prints it.
fn lowercase_ago(d: std::time::Duration) -> String {
    format!("{} ago", human_duration(d).to_lowercase())
}

/// `docker node ls` (docker 1.12 columns): sorted naturally by hostname, ` *` after the ID of
/// the node answering; MANAGER STATUS is Leader/Reachable/Unreachable for managers.
pub fn node_ls(nodes: &[NodeView], quiet: bool) -> String {
    let mut nodes: Vec<&NodeView> = nodes.iter().collect();
    nodes.sort_by(|a, b| {
        natural_cmp(&a.node.description.hostname, &b.node.description.hostname).then_with(|| a.node.id.cmp(&b.node.id))
    });
    if quiet {
        return id_lines(nodes.iter().map(|v| v.node.id.as_str()));
    }
    let rows: Vec<Vec<String>> = nodes
        .iter()
        .map(|v| {
            let n = &v.node;
            let id = if v.is_self { format!("{} *", n.id) } else { n.id.to_string() };
            vec![
                id,
                n.description.hostname.clone(),
                n.status.state.as_str().to_string(),
                n.spec.availability.as_str().to_string(),
                v.manager_status.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(&["ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS"], &rows)
}

/// `docker service ls` (docker 1.12 columns: `ID NAME REPLICAS IMAGE COMMAND`), sorted by name;
/// REPLICAS is `running/desired`.
pub fn service_ls(services: &[ServiceView], quiet: bool) -> String {
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
            vec![
                s.id.short().to_string(),
                s.spec.name.clone(),
                format!("{}/{}", v.running, v.desired),
                s.spec.task.image.clone(),
                s.spec.task.command.join(" "),
            ]
        })
        .collect();
    table(&["ID", "NAME", "REPLICAS", "IMAGE", "COMMAND"], &rows)
}

/// `docker service ps` (docker 1.12 columns). One group per slot (global: per node), groups in
/// natural order of the task name, the newest task of a group first and the older ones as
/// ` \_ name`.
pub fn service_ps(tasks: &[TaskView], now: Instant, no_trunc: bool, quiet: bool) -> String {
    let ordered = tasks_in_ps_order(tasks);
    if quiet {
        return id_lines(ordered.iter().map(|(v, _)| v.task.id.as_str()));
    }
    let rows: Vec<Vec<String>> = ordered
        .iter()
        .map(|(view, is_newest)| {
            let task = &view.task;
            let name = if *is_newest { task.name() } else { format!(" \\_ {}", task.name()) };
            vec![
                task.id.to_string(),
                name,
                task.spec.image.clone(),
                view.node.clone(),
                task.desired_state.as_str().to_string(),
                format!(
                    "{} {}",
                    task.status.state.as_str(),
                    lowercase_ago(now.saturating_since(task.status.timestamp))
                ),
                error_cell(&task.status.err, no_trunc),
            ]
        })
        .collect();
    table(&["ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR"], &rows)
}

/// The tasks grouped by name (slot or node), each paired with whether it is the newest of its
/// group.
fn tasks_in_ps_order(tasks: &[TaskView]) -> Vec<(&TaskView, bool)> {
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
fn error_cell(err: &str, no_trunc: bool) -> String {
    if err.is_empty() {
        return String::new();
    }
    let shown = if no_trunc { err.to_string() } else { ellipsis(err, MAX_ERROR_WIDTH) };
    format!("\"{shown}\"")
}

/// docker/cli `Ellipsis`: at most `max` characters, the last one `…` when cut.
fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `docker network ls`: `NETWORK ID NAME DRIVER SCOPE`, 12-character IDs, sorted by name.
pub fn network_ls(networks: &[Network], quiet: bool) -> String {
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
    table(&["NETWORK ID", "NAME", "DRIVER", "SCOPE"], &cells)
}

fn short_id(id: &str) -> &str {
    match id.char_indices().nth(12) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

/// `docker ps [-a]`: newest first (the daemon left out stopped containers without `-a`). Docker
/// does not lowercase here: `About a minute ago`, `Up Less than a second`.
pub fn container_ps(containers: &[ContainerInfo], now: Instant, quiet: bool) -> String {
    let mut shown: Vec<&ContainerInfo> = containers.iter().collect();
    shown.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.name.cmp(&b.name)));
    if quiet {
        return id_lines(shown.iter().map(|c| short_id(&c.id)));
    }
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|c| {
            vec![
                short_id(&c.id).to_string(),
                c.image.clone(),
                go_quote(&c.command.chars().take(MAX_COMMAND_WIDTH).collect::<String>()),
                format!("{} ago", human_duration(now.saturating_since(c.created_at))),
                container_status(&c.state, now),
                c.exposed_ports.join(", "),
                c.name.clone(),
            ]
        })
        .collect();
    table(&["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], &rows)
}

/// The daemon's status words: `Up 40 seconds`, `Exited (137) 5 seconds ago`, `Created`.
fn container_status(state: &ContainerState, now: Instant) -> String {
    match state {
        ContainerState::Created => "Created".to_string(),
        ContainerState::Running { since } => format!("Up {}", human_duration(now.saturating_since(*since))),
        ContainerState::Exited { exit_code, at } => {
            format!("Exited ({exit_code}) {} ago", human_duration(now.saturating_since(*at)))
        }
    }
}

/// Go's `strconv.Quote` for the characters a command line holds.
fn go_quote(s: &str) -> String {
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
            spec: ServiceSpec { name: name.to_string(), mode, task: template("nginx"), ports: vec![] },
            spec_version: 1,
            endpoint: None,
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
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
    fn node_ls_matches_the_tutorial_layout() {
        let store = tutorial_store();
        let leader = NodeId("1egy2ark49q6xokudps5wykhn".to_string());
        let status = BTreeMap::from([(leader.clone(), "Leader".to_string())]);
        let expected = "\
ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS
1egy2ark49q6xokudps5wykhn *   bd0        Ready     Active         Leader
11ochjq4o1s2m6w4u8jxb37w6     bd1        Ready     Active         
b4e2ywnhhd6fhgfxtr1qh4gew     bd2        Ready     Active         
";
        assert_eq!(node_ls(&NodeView::all(&store, &status, Some(&leader)), false), expected);
        assert_eq!(
            node_ls(&NodeView::all(&store, &status, Some(&leader)), true),
            "1egy2ark49q6xokudps5wykhn\n11ochjq4o1s2m6w4u8jxb37w6\nb4e2ywnhhd6fhgfxtr1qh4gew\n"
        );
    }

    #[test]
    fn node_ls_sorts_hostnames_naturally() {
        let mut store = Store::new();
        apply(&mut store, StoreAction::CreateNode(node("aaa", "node-10", NodeState::Ready)));
        apply(&mut store, StoreAction::CreateNode(node("bbb", "node-2", NodeState::Down)));
        let text = node_ls(&NodeView::all(&store, &BTreeMap::new(), None), true);
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
    fn service_ls_counts_running_tasks_like_the_tutorial() {
        let mut store = tutorial_store();
        running_tutorial_tasks(&mut store);
        let expected = "\
ID             NAME      REPLICAS   IMAGE     COMMAND
5xrm96xveqw5   mynginx   2/2        nginx     
";
        assert_eq!(service_ls(&ServiceView::all(&store), false), expected);
        assert_eq!(service_ls(&ServiceView::all(&store), true), "5xrm96xveqw5\n");
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
        assert!(service_ls(&ServiceView::all(&store), false).contains("mynginx   1/2"));
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
        assert!(service_ls(&ServiceView::all(&store), false).contains("agent     1/2"));
    }

    #[test]
    fn service_ps_matches_the_tutorial_after_a_failover() {
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
        let expected = "\
ID                          NAME            IMAGE     NODE      DESIRED STATE   CURRENT STATE           ERROR
1crmc5ecsjoci8xavxzbnbks3   mynginx.1       nginx     bd0       Running         Running 6 minutes ago   
br5iyie0dr945ixnq7s77kunr   mynginx.2       nginx     bd1       Running         Running 4 seconds ago   
divhrq89xhxka8bvb8r9zqqhz    \\_ mynginx.2   nginx     bd2       Shutdown        Failed 5 seconds ago    \"task: non-zero exit (137)\"
";
        assert_eq!(service_ps(&TaskView::of_services(&store, &[&svc]), now, false, false), expected);
        assert_eq!(
            service_ps(&TaskView::of_services(&store, &[&svc]), now, false, true),
            "1crmc5ecsjoci8xavxzbnbks3\nbr5iyie0dr945ixnq7s77kunr\ndivhrq89xhxka8bvb8r9zqqhz\n"
        );
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
        let text = service_ps(&TaskView::of_services(&store, &[&svc]), Instant::from_millis(500), false, false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("t2 "), "{text}");
        assert!(lines[2].starts_with("t10 "), "{text}");
        assert!(lines[1].ends_with("Pending less than a second ago   \"no suitable node (insufficien…\""), "{text}");
        let untrimmed = service_ps(&TaskView::of_services(&store, &[&svc]), Instant::from_millis(500), true, false);
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
        }
    }

    #[test]
    fn container_ps_matches_the_tutorial() {
        let containers = vec![container(
            "e480d427fd51",
            "mynginx.1.1crmc5ecsjoci8xavxzbnbks3",
            100,
            ContainerState::Running { since: Instant::from_millis(101_000) },
        )];
        let expected = "\
CONTAINER ID   IMAGE          COMMAND                  CREATED          STATUS          PORTS     NAMES
e480d427fd51   nginx:latest   \"nginx -g 'daemon off\"   41 seconds ago   Up 40 seconds   80/tcp    mynginx.1.1crmc5ecsjoci8xavxzbnbks3
";
        assert_eq!(container_ps(&containers, Instant::from_millis(141_000), false), expected);
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
        assert_eq!(container_ps(&containers, now, true), "bbbbbbbbbbbb\naaaaaaaaaaaa\ncccccccccccc\n");
        let all = container_ps(&containers, now, false);
        assert!(all.contains("Exited (137) 20 seconds ago"), "{all}");
        assert!(all.contains("   Created   "), "{all}");
        assert!(all.contains("About a minute ago"), "{all}");
    }

    #[test]
    fn network_ls_matches_the_tutorial() {
        let row = |id: &str, name: &str, driver: NetworkDriver, scope: NetworkScope| Network {
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
        let expected = "\
NETWORK ID     NAME              DRIVER    SCOPE
36679de6466b   bridge            bridge    local
72e853673d8b   docker_gwbridge   bridge    local
b45cef05e017   host              host      local
1zzlk9hpwyqy   ingress           overlay   swarm
a04evrfrr4cv   myswarm           overlay   swarm
";
        assert_eq!(network_ls(&rows, false), expected);
        assert_eq!(network_ls(&rows[..1], true), "a04evrfrr4cv\n");
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
