//! The `docker` backend: one dockerd (Debian's docker.io, swarmkit inside) per node, typed at
//! through the docker CLI, the cluster read back as the CLI's JSON.

use crate::backend::Backend;
use crate::exec::{self, Captured};
use crate::images::BuiltImage;
use crate::lab::Lab;
use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use swarm_core::api::{Availability, NodeState, TaskState, UpdateState};
use swarmsim::conditions::{ClusterView, ContainerView, NodeView, TaskView};
use swarmsim::scenario::NodeDef;

const DOCKERD: &str = "/usr/sbin/dockerd";
/// Debian's client matches the daemon (20.10); /usr/local/bin may hold a newer static client
/// whose messages differ.
const DEBIAN_CLIENT: &str = "/usr/bin/docker";
/// How long a daemon may take to answer after it was started (vfs and a cold containerd).
const DAEMON_START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a stopped daemon may take to exit (it stops its containers first).
const DAEMON_STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// A typed command's bound, as the simulator's runner has one.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// A query for an `expect` poll: short, so a dead manager does not stall the poll.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Docker {
    client_path: String,
    /// The daemons' own API addresses beyond the run's unix socket (`tcp://0.0.0.0:5555`).
    extra_hosts: Vec<Vec<String>>,
    /// Each node's engine labels (a `[[node]]`'s `labels`), as dockerd's `--label K=V`.
    engine_labels: Vec<Vec<String>>,
    daemons: Vec<Option<Child>>,
    /// The manager that answered last: asked first next time.
    preferred_manager: Cell<Option<usize>>,
}

impl Docker {
    pub fn new(nodes: &[NodeDef]) -> Docker {
        let client_path =
            if std::path::Path::new(DEBIAN_CLIENT).exists() { DEBIAN_CLIENT.to_string() } else { "docker".to_string() };
        Docker {
            client_path,
            extra_hosts: nodes
                .iter()
                .map(|n| n.daemon_hosts.iter().filter(|h| !h.starts_with("unix://")).cloned().collect())
                .collect(),
            engine_labels: nodes.iter().map(|n| n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect()).collect(),
            daemons: nodes.iter().map(|_| None).collect(),
            preferred_manager: Cell::new(None),
        }
    }

    fn socket(lab: &Lab, node: usize) -> PathBuf {
        lab.nodes[node].dir.join("docker.sock")
    }

    fn client_command(&self, lab: &Lab, node: usize, args: &[String]) -> Command {
        let names_its_host = args.first().is_some_and(|a| a == "-H" || a == "--host" || a.starts_with("--host="));
        let mut argv = vec![self.client_path.clone()];
        if !names_its_host {
            argv.push("-H".into());
            argv.push(format!("unix://{}", Self::socket(lab, node).display()));
        }
        argv.extend(args.iter().cloned());
        let mut command = exec::in_netns(&lab.nodes[node].netns_path(), &argv);
        // The client's config (contexts, credentials) is the run's own, not the user's.
        command.env("DOCKER_CONFIG", lab.dir.join("client")).env_remove("DOCKER_HOST").env_remove("DOCKER_CONTEXT");
        command.current_dir(lab.files_dir());
        command
    }

    fn query(&self, lab: &Lab, node: usize, args: &[&str]) -> Captured {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        exec::capture(self.client_command(lab, node, &args), None, QUERY_TIMEOUT)
    }
}

impl Backend for Docker {
    fn kind(&self) -> &'static str {
        "docker"
    }

    fn start(&mut self, lab: &Lab, node: usize) -> Result<(), String> {
        let place = &lab.nodes[node];
        let dir = &place.dir;
        let log_path = dir.join("dockerd.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut argv: Vec<String> = vec![
            // A UTS namespace of its own, so `node ls` shows the scenario's hostname.
            "unshare".into(),
            "--uts".into(),
            "--".into(),
            "/bin/sh".into(),
            "-c".into(),
            r#"hostname "$0" && exec "$@""#.into(),
            place.name.clone(),
            DOCKERD.into(),
            "--data-root".into(),
            dir.join("root").display().to_string(),
            "--exec-root".into(),
            dir.join("exec").display().to_string(),
            "--pidfile".into(),
            dir.join("dockerd.pid").display().to_string(),
            "-H".into(),
            format!("unix://{}", Self::socket(lab, node).display()),
            // vfs: no overlayfs on overlayfs, nothing to set up; slow but images are tiny.
            "--storage-driver".into(),
            "vfs".into(),
        ];
        for host in &self.extra_hosts[node] {
            argv.push("-H".into());
            argv.push(host.clone());
        }
        for label in &self.engine_labels[node] {
            argv.push("--label".into());
            argv.push(label.clone());
        }
        // nsenter, not `ip netns exec`: the latter remounts /sys, and dockerd then finds no cgroups.
        let mut command = exec::in_netns(&place.netns_path(), &argv);
        command.stdin(Stdio::null()).stdout(log).stderr(log_err);
        // Its own process group: a Ctrl-C at the terminal reaches only us, and we clean up.
        command.process_group(0);
        let child = command.spawn().map_err(|e| format!("cannot start dockerd on {}: {e}", place.name))?;
        lab.record_process(child.id() as i32)?;
        self.daemons[node] = Some(child);
        let until = Instant::now() + DAEMON_START_TIMEOUT;
        loop {
            if self.query(lab, node, &["version", "--format", "{{.Server.Version}}"]).exit_code == 0 {
                return Ok(());
            }
            if !self.is_running(node) || Instant::now() > until {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                return Err(format!(
                    "dockerd on {} did not come up; the end of {}:\n{}",
                    place.name,
                    log_path.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn daemon_pid(&mut self, node: usize) -> Option<i32> {
        if !self.is_running(node) {
            return None;
        }
        self.daemons[node].as_ref().map(|child| child.id() as i32)
    }

    fn is_running(&mut self, node: usize) -> bool {
        match &mut self.daemons[node] {
            Some(child) => match child.try_wait() {
                Ok(None) => true,
                _ => {
                    self.daemons[node] = None;
                    false
                }
            },
            None => false,
        }
    }

    fn stop(&mut self, lab: &Lab, node: usize) -> Result<(), String> {
        let Some(mut child) = self.daemons[node].take() else {
            return Err(format!("the daemon on {} is not running", lab.nodes[node].name));
        };
        crate::procs::signal(child.id() as i32, libc::SIGTERM);
        let until = Instant::now() + DAEMON_STOP_TIMEOUT;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return Ok(());
            }
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "dockerd on {} did not stop within {DAEMON_STOP_TIMEOUT:?}; killed",
                    lab.nodes[node].name
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn forget_crashed(&mut self, node: usize) {
        if let Some(mut child) = self.daemons[node].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn load_image(&mut self, lab: &Lab, node: usize, image: &BuiltImage) -> Result<(), String> {
        let mut args = vec!["import".to_string()];
        for change in &image.changes {
            args.push("--change".into());
            args.push(change.clone());
        }
        args.push(image.tar.display().to_string());
        args.push(image.reference.clone());
        let out = exec::capture(self.client_command(lab, node, &args), None, COMMAND_TIMEOUT);
        if out.exit_code == 0 {
            Ok(())
        } else {
            Err(format!("importing {} on {}: {}", image.reference, lab.nodes[node].name, out.output.trim()))
        }
    }

    fn client(&self, lab: &Lab, node: usize, args: &[String], stdin: Option<&std::path::Path>) -> Captured {
        exec::capture(self.client_command(lab, node, args), stdin, COMMAND_TIMEOUT)
    }

    fn view<'a>(&'a mut self, lab: &'a Lab) -> Box<dyn ClusterView + 'a> {
        let running: Vec<bool> = (0..lab.nodes.len()).map(|n| self.is_running(n)).collect();
        Box::new(DockerView { docker: self, lab, running, manager: Cell::new(None), nodes: OnceCell::new() })
    }

    fn daemon_version(&self, lab: &Lab) -> String {
        (0..lab.nodes.len())
            .map(|n| self.query(lab, n, &["version", "--format", "{{.Server.Version}}"]))
            .find(|out| out.exit_code == 0)
            .map(|out| out.output.trim().to_string())
            .unwrap_or_default()
    }
}

/// One row of `docker node ls --format '{{json .}}'`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NodeRow {
    #[serde(rename = "ID")]
    id: String,
    hostname: String,
    status: String,
    availability: String,
    manager_status: String,
}

/// The part of `docker inspect --type task` the conditions read.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskJson {
    #[serde(rename = "ID")]
    id: String,
    #[serde(default)]
    slot: u64,
    #[serde(rename = "NodeID", default)]
    node_id: String,
    desired_state: String,
    status: TaskStatusJson,
    created_at: String,
    spec: TaskSpecJson,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskSpecJson {
    container_spec: ContainerSpecJson,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ContainerSpecJson {
    image: String,
}

/// `service inspect`'s `UpdateStatus`, when the service has one.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceUpdateJson {
    #[serde(default)]
    update_status: Option<UpdateStatusJson>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateStatusJson {
    #[serde(default)]
    state: String,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TaskStatusJson {
    state: String,
    #[serde(default)]
    err: String,
}

/// The real cluster as the conditions ask it, a query per question, each asked once per poll.
struct DockerView<'a> {
    docker: &'a Docker,
    lab: &'a Lab,
    running: Vec<bool>,
    /// The manager that answered `node ls` in this poll: tasks are asked there too.
    manager: Cell<Option<usize>>,
    nodes: OnceCell<Result<Vec<NodeRow>, String>>,
}

impl DockerView<'_> {
    /// Nodes whose daemon runs, the last answering manager first.
    fn candidates(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.running.len()).filter(|n| self.running[*n]).collect();
        if let Some(preferred) = self.docker.preferred_manager.get() {
            if let Some(at) = order.iter().position(|n| *n == preferred) {
                order.remove(at);
                order.insert(0, preferred);
            }
        }
        order
    }

    fn node_rows(&self) -> &Result<Vec<NodeRow>, String> {
        self.nodes.get_or_init(|| {
            let mut last_error = "no daemon runs".to_string();
            for node in self.candidates() {
                let out = self.docker.query(self.lab, node, &["node", "ls", "--format", "{{json .}}"]);
                if out.exit_code != 0 {
                    last_error = format!("{}: {}", self.lab.nodes[node].name, out.output.trim());
                    continue;
                }
                let rows: Result<Vec<NodeRow>, _> =
                    out.output.lines().filter(|l| l.starts_with('{')).map(serde_json::from_str).collect();
                match rows {
                    Ok(rows) => {
                        self.manager.set(Some(node));
                        self.docker.preferred_manager.set(Some(node));
                        return Ok(rows);
                    }
                    Err(e) => last_error = format!("unreadable `node ls` JSON: {e}"),
                }
            }
            Err(format!("no manager answers ({last_error})"))
        })
    }
}

impl ClusterView for DockerView<'_> {
    fn leader(&self) -> Option<String> {
        let rows = self.node_rows().as_ref().ok()?;
        rows.iter().find(|r| r.manager_status == "Leader").map(|r| r.hostname.clone())
    }

    fn node(&self, hostname: &str) -> Result<Option<NodeView>, String> {
        let rows = self.node_rows().as_ref().map_err(Clone::clone)?;
        let Some(row) = rows.iter().find(|r| r.hostname == hostname) else { return Ok(None) };
        Ok(Some(NodeView {
            id: row.id.clone(),
            state: node_state(&row.status)?,
            availability: availability(&row.availability)?,
        }))
    }

    fn tasks(&self, service: &str) -> Result<Option<Vec<TaskView>>, String> {
        let rows = self.node_rows().as_ref().map_err(Clone::clone)?;
        let manager = self.manager.get().ok_or("no manager answers")?;
        let down: BTreeMap<&str, bool> = rows.iter().map(|r| (r.id.as_str(), r.status == "Down")).collect();
        let ids = self.docker.query(self.lab, manager, &["service", "ps", "-q", "--no-trunc", service]);
        if ids.exit_code != 0 {
            if ids.output.contains("no such service") {
                return Ok(None);
            }
            return Err(ids.output.trim().to_string());
        }
        let ids: Vec<&str> = ids.output.split_whitespace().collect();
        if ids.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let mut args = vec!["inspect", "--type", "task"];
        args.extend(ids);
        let out = self.docker.query(self.lab, manager, &args);
        if out.exit_code != 0 {
            return Err(out.output.trim().to_string());
        }
        let tasks: Vec<TaskJson> =
            serde_json::from_str(&out.output).map_err(|e| format!("unreadable task JSON: {e}"))?;
        tasks
            .into_iter()
            .map(|t| {
                let node_id = (!t.node_id.is_empty()).then_some(t.node_id);
                Ok(TaskView {
                    node_down: node_id.as_deref().is_some_and(|id| down.get(id).copied().unwrap_or(false)),
                    id: t.id,
                    slot: t.slot,
                    node_id,
                    desired: task_state(&t.desired_state)?,
                    state: task_state(&t.status.state)?,
                    err: t.status.err,
                    created_at_ns: rfc3339_ns(&t.created_at)
                        .ok_or_else(|| format!("unreadable time {:?}", t.created_at))?,
                    image: t.spec.container_spec.image,
                })
            })
            .collect::<Result<Vec<_>, String>>()
            .map(Some)
    }

    fn update_state(&self, service: &str) -> Result<Option<UpdateState>, String> {
        self.node_rows().as_ref().map_err(Clone::clone)?;
        let manager = self.manager.get().ok_or("no manager answers")?;
        let out = self.docker.query(self.lab, manager, &["service", "inspect", service]);
        if out.exit_code != 0 {
            return Err(out.output.trim().to_string());
        }
        let services: Vec<ServiceUpdateJson> =
            serde_json::from_str(&out.output).map_err(|e| format!("unreadable service JSON: {e}"))?;
        let status = services.into_iter().next().and_then(|s| s.update_status).filter(|s| !s.state.is_empty());
        status.map(|s| update_state(&s.state)).transpose()
    }

    fn containers(&self, service: &str) -> Vec<ContainerView> {
        let prefix = format!("{service}.");
        let mut found = Vec::new();
        for node in (0..self.running.len()).filter(|n| self.running[*n]) {
            let out =
                self.docker.query(self.lab, node, &["ps", "-a", "--format", "{{.Names}}\t{{.State}}\t{{.Status}}"]);
            if out.exit_code != 0 {
                continue;
            }
            for line in out.output.lines() {
                let mut fields = line.splitn(3, '\t');
                let (Some(name), Some(state)) = (fields.next(), fields.next()) else { continue };
                if name.starts_with(&prefix) {
                    found.push(ContainerView {
                        node: self.lab.nodes[node].name.clone(),
                        name: name.to_string(),
                        running: state == "running",
                        health: health_in_status(fields.next().unwrap_or("")),
                    });
                }
            }
        }
        found
    }
}

/// `node ls`'s STATUS column.
fn node_state(text: &str) -> Result<NodeState, String> {
    match text {
        "Ready" => Ok(NodeState::Ready),
        "Down" => Ok(NodeState::Down),
        "Unknown" => Ok(NodeState::Unknown),
        "Disconnected" => Ok(NodeState::Disconnected),
        other => Err(format!("unknown node status {other:?}")),
    }
}

fn availability(text: &str) -> Result<Availability, String> {
    Availability::parse(&text.to_lowercase()).ok_or_else(|| format!("unknown availability {text:?}"))
}

/// `UpdateStatus.State` as docker's API writes it.
fn update_state(text: &str) -> Result<UpdateState, String> {
    UpdateState::ALL.into_iter().find(|s| s.as_str() == text).ok_or_else(|| format!("unknown update state {text:?}"))
}

/// swarm's task states as its API writes them (lowercase).
fn task_state(text: &str) -> Result<TaskState, String> {
    Ok(match text {
        "new" => TaskState::New,
        "pending" => TaskState::Pending,
        "assigned" => TaskState::Assigned,
        "accepted" => TaskState::Accepted,
        "preparing" => TaskState::Preparing,
        "ready" => TaskState::Ready,
        "starting" => TaskState::Starting,
        "running" => TaskState::Running,
        "complete" => TaskState::Complete,
        "shutdown" => TaskState::Shutdown,
        "failed" => TaskState::Failed,
        "rejected" => TaskState::Rejected,
        "remove" => TaskState::Remove,
        "orphaned" => TaskState::Orphaned,
        other => return Err(format!("unknown task state {other:?}")),
    })
}

/// Nanoseconds since the epoch of `2026-11-30T20:30:46.978389622Z` (swarm writes UTC, `Z`).
fn rfc3339_ns(text: &str) -> Option<u64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut date_parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (date_parts.next()??, date_parts.next()??, date_parts.next()??);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut time_parts = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (time_parts.next()??, time_parts.next()??, time_parts.next()??);
    let nanos: u64 = format!("{fraction:0<9}").get(..9)?.parse().ok()?;
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(seconds).ok().map(|s| s * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The health `docker ps` shows in STATUS: `Up 5 seconds (healthy)`, `(health: starting)`,
/// `(unhealthy)`; none without a health check (or once the container exited).
fn health_in_status(status: &str) -> Option<swarm_core::api::HealthStatus> {
    use swarm_core::api::HealthStatus;
    [HealthStatus::Starting, HealthStatus::Healthy, HealthStatus::Unhealthy]
        .into_iter()
        .find(|h| status.ends_with(&format!("({})", h.as_ps_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarm_timestamps_read_as_nanoseconds() {
        assert_eq!(rfc3339_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(rfc3339_ns("1970-01-02T00:00:01.5Z"), Some(86_401_500_000_000));
        // `date -d 2026-11-30T20:30:46Z +%s` = 1796070646
        assert_eq!(rfc3339_ns("2026-11-30T20:30:46.978389622Z"), Some(1_796_070_646_978_389_622));
        assert_eq!(rfc3339_ns("yesterday"), None);
    }

    #[test]
    fn ps_status_shows_the_health_docker_prints() {
        use swarm_core::api::HealthStatus;
        assert_eq!(health_in_status("Up 5 seconds (healthy)"), Some(HealthStatus::Healthy));
        assert_eq!(health_in_status("Up 2 seconds (health: starting)"), Some(HealthStatus::Starting));
        assert_eq!(health_in_status("Up About a minute (unhealthy)"), Some(HealthStatus::Unhealthy));
        assert_eq!(health_in_status("Exited (143) 3 seconds ago"), None);
    }

    #[test]
    fn task_states_map_from_swarms_words() {
        assert_eq!(task_state("running"), Ok(TaskState::Running));
        assert_eq!(task_state("failed"), Ok(TaskState::Failed));
        assert!(task_state("Running").is_err());
    }
}
