//! The `swarmd` backend: one swarmd per node (real-backend's daemon, swarm-core inside), all on
//! one containerd the run starts, typed at through `swarmctl` or Debian's `docker` CLI
//! (`--client docker`: swarmd's Engine API, as the docker backend types), the cluster read back
//! as swarmctl's `--format json` (core's reply objects themselves).
//!
//! What the run makes here, on top of the lab: a containerd with its root, state and socket
//! under `LAB/containerd` (Debian's containerd and runc), started under `tini -s` so the shims
//! it daemonizes stay descendants of a process the lab's cleanup kills; a containerd namespace
//! `RUNID-NODE` per node, holding that node's images and containers; a swarmd per node inside
//! the node's network namespace with its data root, socket and log in the node's directory.
//! On every ordinary end (and a panic) `Drop` stops the daemons and deletes each namespace's
//! tasks, containers and images through containerd before the lab removes the rest (the
//! containers' cgroups too, which a Ctrl-C leaves behind with no time for containerd).

use crate::backend::Backend;
use crate::exec::{self, Captured};
use crate::images::BuiltImage;
use crate::lab::Lab;
use crate::oci;
use crate::procs;
use std::cell::{Cell, OnceCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use swarm_core::api::{NodeState, UpdateState};
use swarm_core::cli::DockerVersion;
use swarm_core::control::response::{NodeView as CoreNode, TaskView as CoreTask};
use swarm_core::runtime::{ContainerInfo, ContainerState};
use swarmsim::conditions::{ClusterView, ContainerView, NodeView, TaskView};
use swarmsim::scenario::NodeDef;

/// `tini -s`: a subreaper, so containerd's daemonized shims (and their containers) are
/// re-parented to it, not to init, and stay in the process tree the lab kills on cleanup.
const SUBREAPER: &str = "tini";
/// How long containerd or a swarmd may take to answer after it was started.
const DAEMON_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a SIGTERMed swarmd may take to exit (it leaves its tasks running).
const DAEMON_STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// A typed command's bound, as the simulator's runner has one.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// A query for an `expect` poll: short, so a dead or cut-off manager does not stall the poll.
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// A containerd call during setup or cleanup.
const CTR_TIMEOUT: Duration = Duration::from_secs(30);

/// What types a scenario's commands on swarmd.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SwarmdClient {
    /// swarmctl: core's grammar and tables for the docker the run imitates.
    Swarmctl,
    /// Debian's docker CLI (20.10) against swarmd's Engine API, as the docker backend types.
    Docker,
}

/// Debian's docker CLI, as the docker backend uses it.
const DEBIAN_DOCKER_CLIENT: &str = "/usr/bin/docker";

pub struct Swarmd {
    /// The docker swarmd and swarmctl imitate (`--docker-version`): behaviour and output.
    docker_version: DockerVersion,
    /// Who types the scenario's commands; the cluster is read back through swarmctl either way.
    typing: SwarmdClient,
    swarmd_path: PathBuf,
    swarmctl_path: PathBuf,
    /// Each node's `tcp://` control addresses from its `daemon_hosts` (`tcp://0.0.0.0:5555`).
    tcp_hosts: Vec<Vec<String>>,
    /// Each node's engine labels (a `[[node]]`'s `labels`), as swarmd's `--label K=V`.
    engine_labels: Vec<Vec<String>>,
    daemons: Vec<Option<Child>>,
    /// The run's containerd (under its subreaper), started with the first node.
    containerd: Option<Child>,
    /// Set once containerd is up: what `Drop` needs to clean the namespaces.
    run: Option<RunPlaces>,
    /// Each image's OCI archive, built once and imported on every node that has it.
    archives: BTreeMap<String, oci::OciArchive>,
    /// The manager that answered last: asked first next time.
    preferred_manager: Cell<Option<usize>>,
}

/// Where the run's containerd and its namespaces are.
struct RunPlaces {
    containerd_dir: PathBuf,
    namespaces: Vec<String>,
}

impl RunPlaces {
    fn socket(&self) -> PathBuf {
        self.containerd_dir.join("containerd.sock")
    }
}

impl Swarmd {
    /// Finds `swarmd` and `swarmctl` next to this executable (cargo builds all three into the
    /// same directory).
    pub fn new(nodes: &[NodeDef], docker_version: DockerVersion, typing: SwarmdClient) -> Result<Swarmd, String> {
        let me = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
        let beside = |name: &str| -> Result<PathBuf, String> {
            let path = me.with_file_name(name);
            if path.exists() {
                Ok(path)
            } else {
                Err(format!("{} is missing; build it with `cargo build --release -p swarmd`", path.display()))
            }
        };
        if typing == SwarmdClient::Docker && !Path::new(DEBIAN_DOCKER_CLIENT).exists() {
            return Err(format!("{DEBIAN_DOCKER_CLIENT} is missing: install Debian's docker.io for its docker CLI"));
        }
        Ok(Swarmd {
            docker_version,
            typing,
            swarmd_path: beside("swarmd")?,
            swarmctl_path: beside("swarmctl")?,
            tcp_hosts: nodes
                .iter()
                .map(|n| n.daemon_hosts.iter().filter(|h| h.starts_with("tcp://")).cloned().collect())
                .collect(),
            engine_labels: nodes.iter().map(|n| n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect()).collect(),
            daemons: nodes.iter().map(|_| None).collect(),
            containerd: None,
            run: None,
            archives: BTreeMap::new(),
            preferred_manager: Cell::new(None),
        })
    }

    fn namespace(lab: &Lab, node: usize) -> String {
        format!("{}-{}", lab.id, lab.nodes[node].name)
    }

    /// The node's control socket (its Engine API and swarmctl's route).
    pub fn socket(lab: &Lab, node: usize) -> PathBuf {
        lab.nodes[node].dir.join("swarmd.sock")
    }

    fn log_path(lab: &Lab, node: usize) -> PathBuf {
        lab.nodes[node].dir.join("swarmd.log")
    }

    /// `swarmctl -H unix://SOCKET ARGS…` inside the node: an `-H` among the args names another
    /// daemon (swarmctl takes the last one), reached from this node's network namespace.
    fn client_command(&self, lab: &Lab, node: usize, args: &[String]) -> Command {
        let mut argv = vec![
            self.swarmctl_path.display().to_string(),
            "-H".to_string(),
            format!("unix://{}", Self::socket(lab, node).display()),
            "--docker-version".to_string(),
            self.docker_version.as_str().to_string(),
        ];
        argv.extend(args.iter().cloned());
        let mut command = exec::in_netns(&lab.nodes[node].netns_path(), &argv);
        command.env_remove("SWARMD_HOST");
        command.current_dir(lab.files_dir());
        command
    }

    fn query(&self, lab: &Lab, node: usize, args: &[&str]) -> Captured {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        exec::capture(self.client_command(lab, node, &args), None, QUERY_TIMEOUT)
    }

    /// `docker -H unix://SOCKET ARGS…` inside the node (no `-H` of its own among the args), with
    /// the run's own client config, as the docker backend types.
    fn docker_command(&self, lab: &Lab, node: usize, args: &[String]) -> Command {
        let names_its_host = args.first().is_some_and(|a| a == "-H" || a == "--host" || a.starts_with("--host="));
        let mut argv = vec![DEBIAN_DOCKER_CLIENT.to_string()];
        if !names_its_host {
            argv.push("-H".into());
            argv.push(format!("unix://{}", Self::socket(lab, node).display()));
        }
        argv.extend(args.iter().cloned());
        let mut command = exec::in_netns(&lab.nodes[node].netns_path(), &argv);
        command.env("DOCKER_CONFIG", lab.dir.join("client")).env_remove("DOCKER_HOST").env_remove("DOCKER_CONTEXT");
        command
    }

    /// Starts the run's containerd once, with a config of its own (as `ci/containerd-lib.sh`
    /// writes it), and waits until it answers.
    fn ensure_containerd(&mut self, lab: &Lab) -> Result<(), String> {
        if self.containerd.is_some() {
            return Ok(());
        }
        let dir = lab.dir.join("containerd");
        for sub in ["root", "state"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let config = format!(
            "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{d}/containerd.sock\"\n\
             [ttrpc]\n  address = \"{d}/containerd.sock.ttrpc\"\n",
            d = dir.display()
        );
        let config_path = dir.join("config.toml");
        std::fs::write(&config_path, config).map_err(|e| format!("{}: {e}", config_path.display()))?;
        let log_path = dir.join("containerd.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(SUBREAPER);
        command.args(["-s", "--", "containerd", "--config"]).arg(&config_path);
        command.stdin(Stdio::null()).stdout(log).stderr(log_err);
        // Its own process group: a Ctrl-C at the terminal reaches only us, and we clean up.
        command.process_group(0);
        let child = command.spawn().map_err(|e| {
            format!("cannot start containerd under {SUBREAPER}: {e} (apt-get install -y containerd runc tini)")
        })?;
        lab.record_process(child.id() as i32)?;
        self.containerd = Some(child);
        let run = RunPlaces {
            containerd_dir: dir,
            namespaces: (0..lab.nodes.len()).map(|n| Self::namespace(lab, n)).collect(),
        };
        // swarmd asks runc for `/NAMESPACE/CONTAINER` cgroups; on Ctrl-C no `ctr tasks delete`
        // runs, so the lab removes what is left of them.
        for namespace in &run.namespaces {
            lab.record_cgroup(namespace)?;
        }
        let until = Instant::now() + DAEMON_START_TIMEOUT;
        loop {
            if ctr(&run.socket(), None, &["version"]).is_ok() {
                self.run = Some(run);
                return Ok(());
            }
            if Instant::now() > until {
                return Err(format!("containerd did not come up; see {}", log_path.display()));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the daemons and empties every namespace of the run through containerd: tasks
    /// (runc removes their cgroups), containers (with their snapshots), images, then the
    /// namespace.
    fn clean_up_namespaces(&mut self) {
        for daemon in self.daemons.iter_mut() {
            if let Some(mut child) = daemon.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        let Some(run) = &self.run else { return };
        let socket = run.socket();
        for namespace in &run.namespaces {
            let list = |what: &str| -> Vec<String> {
                ctr(&socket, Some(namespace), &[what, "ls", "-q"])
                    .map(|out| out.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
                    .unwrap_or_default()
            };
            for task in list("tasks") {
                let _ = ctr(&socket, Some(namespace), &["tasks", "kill", "-s", "SIGKILL", &task]);
            }
            for container in list("containers") {
                let _ = ctr(&socket, Some(namespace), &["tasks", "delete", "-f", &container]);
                let _ = ctr(&socket, Some(namespace), &["containers", "delete", &container]);
            }
            for image in list("images") {
                let _ = ctr(&socket, Some(namespace), &["images", "remove", &image]);
            }
            let _ = ctr(&socket, None, &["namespaces", "remove", namespace]);
        }
    }
}

/// `ctr -a SOCKET [-n NAMESPACE] ARGS…`: its stdout, or its output as the error.
fn ctr(socket: &Path, namespace: Option<&str>, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new("ctr");
    command.arg("-a").arg(socket);
    if let Some(namespace) = namespace {
        command.args(["-n", namespace]);
    }
    command.args(args);
    let out = exec::capture(command, None, CTR_TIMEOUT);
    if out.exit_code == 0 {
        Ok(out.output)
    } else {
        Err(format!("`ctr {}` failed: {}", args.join(" "), out.output.trim()))
    }
}

/// containerd's shims serving a namespace (their command lines carry `-namespace NS`), with
/// every descendant: the node's container processes.
fn shims_of_namespace_with_descendants(namespace: &str) -> BTreeSet<i32> {
    let mut found = BTreeSet::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return found };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let words: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        let is_shim = words.first().is_some_and(|w| String::from_utf8_lossy(w).contains("containerd-shim"));
        let serves_namespace = words.windows(2).any(|pair| pair[0] == b"-namespace" && pair[1] == namespace.as_bytes());
        if is_shim && serves_namespace {
            found.extend(procs::with_descendants(pid));
        }
    }
    found
}

impl Drop for Swarmd {
    fn drop(&mut self) {
        self.clean_up_namespaces();
    }
}

impl Backend for Swarmd {
    fn kind(&self) -> &'static str {
        "swarmd"
    }

    fn start(&mut self, lab: &Lab, node: usize) -> Result<(), String> {
        self.ensure_containerd(lab)?;
        let socket_of_containerd = self.run.as_ref().map(RunPlaces::socket).ok_or("containerd is not up")?;
        let place = &lab.nodes[node];
        let log_path = Self::log_path(lab, node);
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("{}: {e}", log_path.display()))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let socket = Self::socket(lab, node);
        let mut argv: Vec<String> = vec![
            self.swarmd_path.display().to_string(),
            "--data-root".into(),
            place.dir.display().to_string(),
            "--listen-addr".into(),
            format!("{}:2377", place.addr),
            "-H".into(),
            format!("unix://{}", socket.display()),
            "--containerd-socket".into(),
            socket_of_containerd.display().to_string(),
            "--containerd-namespace".into(),
            Self::namespace(lab, node),
            "--hostname".into(),
            place.name.clone(),
            "--docker-version".into(),
            self.docker_version.as_str().into(),
        ];
        for host in &self.tcp_hosts[node] {
            argv.push("-H".into());
            argv.push(host.clone());
        }
        for label in &self.engine_labels[node] {
            argv.push("--label".into());
            argv.push(label.clone());
        }
        if !self.tcp_hosts[node].is_empty() {
            // The scenario's dockerd listens on TCP in plain HTTP (the tutorial's `-H
            // tcp://0.0.0.0:5555`), inside this run's own network namespace.
            argv.push("--unauthenticated-tcp".into());
        }
        // A crashed daemon leaves its socket file behind; a stale one would look like an answer.
        let _ = std::fs::remove_file(&socket);
        let mut command = exec::in_netns(&place.netns_path(), &argv);
        command.stdin(Stdio::null()).stdout(log).stderr(log_err);
        command.process_group(0);
        let child = command.spawn().map_err(|e| format!("cannot start swarmd on {}: {e}", place.name))?;
        lab.record_process(child.id() as i32)?;
        self.daemons[node] = Some(child);
        let until = Instant::now() + DAEMON_START_TIMEOUT;
        loop {
            if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                return Ok(());
            }
            if !self.is_running(node) || Instant::now() > until {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                return Err(format!(
                    "swarmd on {} did not come up; the end of {}:\n{}",
                    place.name,
                    log_path.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
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
        procs::signal(child.id() as i32, libc::SIGTERM);
        let until = Instant::now() + DAEMON_STOP_TIMEOUT;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return Ok(());
            }
            if Instant::now() > until {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "swarmd on {} did not stop within {DAEMON_STOP_TIMEOUT:?}; killed",
                    lab.nodes[node].name
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The lab killed what runs in the node's network namespace (swarmd); the node's containers
    /// run under containerd's shims outside it, so they die here: a crashed host loses them all.
    fn forget_crashed(&mut self, node: usize) {
        if let Some(mut child) = self.daemons[node].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(run) = &self.run {
            let pids = shims_of_namespace_with_descendants(&run.namespaces[node]);
            procs::kill_all(&pids, Duration::from_secs(10));
        }
    }

    fn load_image(&mut self, lab: &Lab, node: usize, image: &BuiltImage) -> Result<(), String> {
        self.ensure_containerd(lab)?;
        if !self.archives.contains_key(&image.name) {
            let dir = image.tar.parent().unwrap_or(&lab.dir).to_path_buf();
            let archive = oci::write_archive(image, &dir)?;
            self.archives.insert(image.name.clone(), archive);
        }
        let archive = &self.archives[&image.name];
        let socket = self.run.as_ref().map(RunPlaces::socket).ok_or("containerd is not up")?;
        let archive_path = archive.archive.display().to_string();
        ctr(
            &socket,
            Some(&Self::namespace(lab, node)),
            &["images", "import", "--base-name", &archive.base_name, &archive_path],
        )
        .map(|_| ())
        .map_err(|e| format!("importing {} on {}: {e}", image.reference, lab.nodes[node].name))
    }

    fn client(&self, lab: &Lab, node: usize, args: &[String], stdin: Option<&std::path::Path>) -> Captured {
        if self.typing == SwarmdClient::Docker {
            return exec::capture(self.docker_command(lab, node, args), stdin, COMMAND_TIMEOUT);
        }
        exec::capture(self.client_command(lab, node, args), stdin, COMMAND_TIMEOUT)
    }

    fn view<'a>(&'a mut self, lab: &'a Lab) -> Box<dyn ClusterView + 'a> {
        let running: Vec<bool> = (0..lab.nodes.len()).map(|n| self.is_running(n)).collect();
        Box::new(SwarmdView { swarmd: self, lab, running, manager: Cell::new(None), nodes: OnceCell::new() })
    }

    fn daemon_version(&self, _lab: &Lab) -> String {
        // swarmd has no version verb; it is built from this workspace, at this version.
        format!("swarmd {}", env!("CARGO_PKG_VERSION"))
    }

    /// swarmctl prints core's tables and words for the docker the run imitates, as the simulator does.
    fn output_profile(&self, _daemon_version: &str) -> String {
        match self.typing {
            SwarmdClient::Swarmctl => self.docker_version.as_str().to_string(),
            // The docker CLI prints its own version's tables and words.
            SwarmdClient::Docker => DockerVersion::V20_10.as_str().to_string(),
        }
    }
}

/// The JSON objects of a `--format json` listing (stderr is interleaved in the capture; the
/// objects are the lines that start with `{`).
fn json_rows<T: serde::de::DeserializeOwned>(output: &str, what: &str) -> Result<Vec<T>, String> {
    output
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).map_err(|e| format!("unreadable `{what}` JSON: {e}")))
        .collect()
}

/// The real cluster as the conditions ask it: a query per question, each asked once per poll.
struct SwarmdView<'a> {
    swarmd: &'a Swarmd,
    lab: &'a Lab,
    running: Vec<bool>,
    /// The manager that answered `node ls` in this poll: tasks are asked there too.
    manager: Cell<Option<usize>>,
    nodes: OnceCell<Result<Vec<CoreNode>, String>>,
}

impl SwarmdView<'_> {
    /// Nodes whose daemon runs, the last answering manager first.
    fn candidates(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.running.len()).filter(|n| self.running[*n]).collect();
        if let Some(preferred) = self.swarmd.preferred_manager.get() {
            if let Some(at) = order.iter().position(|n| *n == preferred) {
                order.remove(at);
                order.insert(0, preferred);
            }
        }
        order
    }

    fn node_rows(&self) -> &Result<Vec<CoreNode>, String> {
        self.nodes.get_or_init(|| {
            let mut last_error = "no daemon runs".to_string();
            for node in self.candidates() {
                let out = self.swarmd.query(self.lab, node, &["--format", "json", "node", "ls"]);
                if out.exit_code != 0 {
                    last_error = format!("{}: {}", self.lab.nodes[node].name, out.output.trim());
                    continue;
                }
                match json_rows::<CoreNode>(&out.output, "node ls") {
                    Ok(rows) => {
                        self.manager.set(Some(node));
                        self.swarmd.preferred_manager.set(Some(node));
                        return Ok(rows);
                    }
                    Err(e) => last_error = e,
                }
            }
            Err(format!("no manager answers ({last_error})"))
        })
    }
}

impl ClusterView for SwarmdView<'_> {
    /// The leader the answering manager names — unless this run crashed or stopped it: until
    /// their election timeout the followers still name the dead leader, and a `lose_leader`
    /// followed by "a leader is elected" must wait for the new one, as the simulator's does.
    fn leader(&self) -> Option<String> {
        let rows = self.node_rows().as_ref().ok()?;
        let named = rows.iter().find(|r| r.manager_status.as_deref() == Some("Leader"))?;
        let hostname = &named.node.description.hostname;
        let alive = self.lab.node_index(hostname).is_none_or(|node| self.running[node]);
        alive.then(|| hostname.clone())
    }

    fn node(&self, hostname: &str) -> Result<Option<NodeView>, String> {
        let rows = self.node_rows().as_ref().map_err(Clone::clone)?;
        Ok(rows.iter().find(|r| r.node.description.hostname == hostname).map(|r| NodeView {
            id: r.node.id.to_string(),
            state: r.node.status.state,
            availability: r.node.spec.availability,
        }))
    }

    fn tasks(&self, service: &str) -> Result<Option<Vec<TaskView>>, String> {
        let rows = self.node_rows().as_ref().map_err(Clone::clone)?;
        let manager = self.manager.get().ok_or("no manager answers")?;
        let out = self.swarmd.query(self.lab, manager, &["--format", "json", "service", "ps", service]);
        if out.exit_code != 0 {
            let text = out.output.to_lowercase();
            if text.contains("no such service")
                || text.contains(&format!("service {} not found", service.to_lowercase()))
            {
                return Ok(None);
            }
            return Err(out.output.trim().to_string());
        }
        let down: BTreeMap<String, bool> =
            rows.iter().map(|r| (r.node.id.to_string(), r.node.status.state == NodeState::Down)).collect();
        let tasks = json_rows::<CoreTask>(&out.output, "service ps")?;
        Ok(Some(
            tasks
                .into_iter()
                .map(|view| {
                    let task = view.task;
                    let node_id = task.node_id.as_ref().map(|n| n.to_string());
                    TaskView {
                        // As the simulator reads its store: a task on a node gone from it is on no live node.
                        node_down: node_id.as_ref().map(|id| down.get(id).copied().unwrap_or(true)).unwrap_or(true),
                        id: task.id.to_string(),
                        slot: task.slot,
                        node_id,
                        desired: task.desired_state,
                        state: task.status.state,
                        err: task.status.err,
                        created_at_ns: task.created_at.as_millis().saturating_mul(1_000_000),
                        image: task.spec.image,
                    }
                })
                .collect(),
        ))
    }

    fn update_state(&self, service: &str) -> Result<Option<UpdateState>, String> {
        self.node_rows().as_ref().map_err(Clone::clone)?;
        let manager = self.manager.get().ok_or("no manager answers")?;
        let out = self.swarmd.query(self.lab, manager, &["--format", "json", "service", "inspect", service]);
        if out.exit_code != 0 {
            return Err(out.output.trim().to_string());
        }
        let services = json_rows::<swarm_core::control::response::ServiceView>(&out.output, "service inspect")?;
        Ok(services.into_iter().next().and_then(|v| v.service.update_status).map(|s| s.state))
    }

    fn containers(&self, service: &str) -> Vec<ContainerView> {
        let prefix = format!("{service}.");
        let mut found = Vec::new();
        for node in (0..self.running.len()).filter(|n| self.running[*n]) {
            let out = self.swarmd.query(self.lab, node, &["--format", "json", "ps", "-a"]);
            if out.exit_code != 0 {
                continue;
            }
            let Ok(containers) = json_rows::<ContainerInfo>(&out.output, "ps -a") else { continue };
            for container in containers.into_iter().filter(|c| c.name.starts_with(&prefix)) {
                found.push(ContainerView {
                    node: self.lab.nodes[node].name.clone(),
                    running: matches!(container.state, ContainerState::Running { .. }),
                    health: container.health.filter(|_| matches!(container.state, ContainerState::Running { .. })),
                    name: container.name,
                });
            }
        }
        found
    }
}
