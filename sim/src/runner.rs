//! Runs a scenario: builds the world from its nodes and images, then plays its steps like a
//! shell session — commands typed on nodes, faults, waits and expectations — and returns the
//! transcript, the verdict and the trace hash.

use crate::conditions;
use crate::faults::Fault;
use crate::record::{StepOutcome, StepRecord};
use crate::runtime::ImageBehaviour;
use crate::scenario::{Scenario, StepAction, StepTiming};
use crate::trace::TraceMode;
use crate::world::{HostSpec, NetworkModel, World};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;
use swarm_core::cli::{self, CurlTarget};
use swarm_core::control::{Reply, Response};
use swarm_core::node::NodeConfig;
use swarm_core::time::Instant;

/// How long a command may wait for its daemon's answer before the step fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep every trace line (for `--trace`), not only the hash and the tail.
    pub keep_trace: bool,
    /// Keep only the trace's hash, not even the last lines a failure report prints (sweeps:
    /// they print no line). The hash is the same either way.
    pub hash_only: bool,
    /// Where golden outputs live; compared only when running the scenario's own seed, since
    /// IDs and placements differ per seed.
    pub snapshot_dir: Option<PathBuf>,
    /// Faults to inject after the scenario's steps, then heal and check convergence.
    pub chaos: Option<ChaosPlan>,
    /// A deliberate bug to switch on in every node (only with the `planted-bugs` feature).
    pub planted: Option<swarm_core::planted::PlantedBug>,
    /// After a failed check or expectation, go on with the next step (the run still fails, with
    /// its first failure): `conform` records everything a user would see.
    pub keep_going: bool,
    /// Clients that talk to the cluster while the chaos schedule runs (from its start until the
    /// final heal); their history is checked once the cluster converged.
    pub workload: Option<crate::workload::WorkloadPlan>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// An expectation of the scenario did not hold (exit 1).
    Expectation,
    /// A safety invariant broke: a bug in swarm-core found by the simulator (exit 3).
    Invariant,
    /// After the last fault healed, the cluster did not converge within the bound (exit 5).
    Liveness,
    /// The workload's history contradicts what the cluster kept: a lost or doubled write, a
    /// failed write that took effect, calls on one object that are not linearizable, a read
    /// that went back in time (exit 6).
    History,
}

/// A generated fault schedule run after the scenario's own steps (swarm testing).
#[derive(Clone, Debug, PartialEq)]
pub struct ChaosPlan {
    /// Faults at offsets from the end of the scenario's steps, in order.
    pub faults: Vec<(Duration, Fault)>,
    /// After the faults, every partition heals and every down host restarts; then every
    /// service must reach its replica count within this long.
    pub liveness_bound: Duration,
}

/// swarm's own timings bound recovery: an election (≤ 20 s), a node Down (≤ 16.5 s of
/// heartbeat grace, ×2 after a leader change), the restart delay (5 s), pulls and starts.
pub const DEFAULT_LIVENESS_BOUND: Duration = Duration::from_secs(120);

#[derive(Clone, Debug)]
pub struct Failure {
    pub kind: FailureKind,
    /// `file:line:col: what went wrong`, with the step's line underlined.
    pub message: String,
}

pub struct RunReport {
    pub seed: u64,
    pub transcript: String,
    pub failure: Option<Failure>,
    pub trace_hash: String,
    pub trace_lines: Vec<String>,
    pub trace_tail: Vec<String>,
    pub sim_time: Instant,
    pub events: u64,
    /// (snapshot name, output) of every step that names a snapshot.
    pub snapshots: Vec<(String, String)>,
    /// Snapshots that differ from their golden file (CLI runs; `cargo test` uses insta).
    pub snapshot_mismatches: Vec<String>,
    /// With chaos: simulated time from the final heal until every service converged.
    pub convergence: Option<Duration>,
    /// "Sometimes" conditions reached in this run.
    pub sometimes: std::collections::BTreeSet<String>,
    /// What each step showed, in order, up to and including a failing one (for `conform`).
    pub steps: Vec<StepRecord>,
    /// The docker the run imitated (tables, texts, version-dependent behaviour).
    pub docker_version: swarm_core::cli::DockerVersion,
    /// The workload's operations, in completion order (empty without a workload).
    pub history: Vec<crate::workload::HistoryEntry>,
}

impl RunOptions {
    /// What the run keeps of its trace: every line wins over the hash only.
    pub fn trace_mode(&self) -> TraceMode {
        if self.keep_trace {
            TraceMode::Full
        } else if self.hash_only {
            TraceMode::HashOnly
        } else {
            TraceMode::Tail
        }
    }
}

impl RunReport {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }

    /// The exit code of the run's own verdict (0 when it passed); the CLI may fail a passing
    /// run for other reasons (a golden output that differs).
    pub fn exit_code(&self) -> u8 {
        self.failure.as_ref().map_or(0, |f| f.kind.exit_code())
    }

    /// The run as `run --record` writes it and `conform` compares it.
    pub fn record(&self, scenario_file: &str, exit_code: u8) -> crate::record::RunRecord {
        crate::record::RunRecord {
            scenario: scenario_file.to_string(),
            backend: "sim".into(),
            docker_version: self.docker_version.as_str().into(),
            seed: Some(self.seed),
            steps: self.steps.clone(),
            exit_code: exit_code.into(),
            failure: self.failure.as_ref().map(|f| f.message.clone()),
        }
    }
}

impl FailureKind {
    /// `swarmsim run`'s exit code for a run that failed this way.
    pub fn exit_code(&self) -> u8 {
        match self {
            FailureKind::Expectation => 1,
            FailureKind::Invariant => 3,
            FailureKind::Liveness => 5,
            FailureKind::History => 6,
        }
    }
}

fn images(scenario: &Scenario) -> BTreeMap<String, ImageBehaviour> {
    image_behaviours(&scenario.images)
}

/// The runtime's view of image definitions (the scenario's, or the defaults).
pub fn image_behaviours(defs: &[crate::scenario::ImageDef]) -> BTreeMap<String, ImageBehaviour> {
    defs.iter()
        .map(|i| {
            (
                i.name.clone(),
                ImageBehaviour {
                    name: i.name.clone(),
                    command: i.command.clone(),
                    exposed_ports: i.exposed_ports.clone(),
                    http_body: i.http_body.clone(),
                    pull: i.pull,
                    exit_after: i.exits.map(|e| (e.after, e.code)),
                    start_error: i.start_error.clone(),
                    healthcheck: i.healthcheck.clone(),
                    probes: crate::runtime::ProbeBehaviour {
                        healthy_after: i.healthy_after,
                        unhealthy_after: i.unhealthy_after,
                    },
                    stop_exit_code: i.stop_exit_code,
                },
            )
        })
        .collect()
}

pub fn build_world(scenario: &Scenario, seed: u64, trace: TraceMode) -> World {
    let docker_version = scenario.docker_version;
    let hosts = scenario
        .nodes
        .iter()
        .map(|n| HostSpec {
            name: n.name.clone(),
            config: NodeConfig {
                hostname: n.name.clone(),
                interfaces: n.interfaces.iter().map(|i| (i.name.clone(), i.addr)).collect(),
                resources: n.resources(),
                engine_version: docker_version.engine_version().to_string(),
                engine_labels: n.labels.clone(),
                docker_version,
            },
            daemon_tcp: n.daemon_hosts.iter().any(|h| h.starts_with("tcp://")),
            missing_images: n.missing_images.clone(),
        })
        .collect();
    let network = NetworkModel {
        latency: scenario.network.latency,
        jitter: scenario.network.jitter,
        loss: scenario.network.loss,
    };
    World::new(seed, hosts, images(scenario), network, trace)
}

pub fn run(scenario: &Scenario, options: &RunOptions) -> RunReport {
    let seed = options.seed.unwrap_or(scenario.seed);
    let mut world = build_world(scenario, seed, options.trace_mode());
    if let Some(bug) = options.planted {
        world.plant(bug);
    }
    let mut transcript = String::new();
    let mut captures: BTreeMap<String, String> = BTreeMap::new();
    let mut snapshots = Vec::new();
    let mut snapshot_mismatches = Vec::new();
    let mut failure = None;
    let deadline = Instant::ZERO + scenario.max_duration;
    let mut records = Vec::new();

    for (index, step) in scenario.steps.iter().enumerate() {
        let line = scenario.line_of(step.action_span.start);
        let mut record = |outcome: StepOutcome| records.push(StepRecord { index, line, outcome });
        let start = match step.timing {
            StepTiming::Immediately => world.now,
            StepTiming::At(t) => Instant::ZERO + t,
            StepTiming::After(d) => world.now + d,
        };
        world.run_until(start.max(world.now));
        let fail = |why: String| Failure {
            kind: FailureKind::Expectation,
            message: scenario.error_at(step.action_span.clone(), why).to_string(),
        };
        match &step.action {
            StepAction::Run(run) => {
                let host_name = step.on.clone().unwrap_or_else(|| scenario.nodes[0].name.clone());
                let line = match run.command.render(&captures) {
                    Ok(l) => l,
                    Err(e) => {
                        failure = Some(fail(e));
                        break;
                    }
                };
                let _ = writeln!(transcript, "{host_name}$ {}", one_line(&line));
                let input = CommandInput { stdin: run.stdin.as_deref(), dir: scenario.path.parent() };
                let (exit_code, output) = run_command(&mut world, &host_name, &line, scenario, &input);
                // The one place a secret may show: `cat` of its file in a task's container.
                let reads_a_file = matches!(
                    cli::parse(&line).map(|i| i.request),
                    Ok(swarm_core::control::Request::Exec { command, .. }) if command.first().map(String::as_str) == Some("cat")
                );
                if !reads_a_file {
                    let step_line = scenario.line_of(step.action_span.start);
                    world.trace.secrets.scan(&output, || format!("the output of the command at line {step_line}"));
                    if let Some(leak) = world.trace.secrets.leak() {
                        world.violation.get_or_insert(leak.clone());
                    }
                }
                record(StepOutcome::Run {
                    on: host_name.clone(),
                    command: one_line(&line),
                    exit_code,
                    output: output.clone(),
                });
                transcript.push_str(&output);
                if !output.is_empty() && !output.ends_with('\n') {
                    transcript.push('\n');
                }
                for capture in &run.captures {
                    if let Some(value) = capture.extract(&output) {
                        captures.insert(capture.name.clone(), value.to_string());
                    }
                }
                let problems = run.check_output(exit_code, &output);
                if let Some(name) = &run.snapshot {
                    snapshots.push((name.clone(), output.clone()));
                    if seed == scenario.seed {
                        if let Some(dir) = &options.snapshot_dir {
                            if let Some(golden) = read_golden(dir, name) {
                                if golden.trim_end() != output.trim_end() {
                                    snapshot_mismatches.push(name.clone());
                                }
                            }
                        }
                    }
                }
                if !problems.is_empty() {
                    failure.get_or_insert(fail(problems.join("; ")));
                    if !options.keep_going {
                        break;
                    }
                }
            }
            StepAction::Kill { target } => {
                let _ = writeln!(transcript, "# fault: kill {target}");
                let fault = Fault::Kill { target: target.clone(), node: step.on.clone() };
                let applied = world.apply_fault(&fault);
                record(fault_outcome(&fault, &applied));
                match applied {
                    Ok(note) => {
                        let _ = writeln!(transcript, "#   {note}");
                    }
                    Err(e) => {
                        failure.get_or_insert(fail(e));
                        if !options.keep_going {
                            break;
                        }
                    }
                }
            }
            StepAction::Fault(fault) => {
                let _ = writeln!(transcript, "# fault: {}", fault.describe());
                let applied = world.apply_fault(fault);
                record(fault_outcome(fault, &applied));
                match applied {
                    Ok(note) => {
                        let _ = writeln!(transcript, "#   {note}");
                    }
                    Err(e) => {
                        failure.get_or_insert(fail(e));
                        if !options.keep_going {
                            break;
                        }
                    }
                }
            }
            StepAction::Sleep(d) => {
                let _ = writeln!(transcript, "# sleep {}", crate::scenario::format_duration(*d));
                record(StepOutcome::Sleep { ms: d.as_millis() as u64 });
                let until = world.now + *d;
                world.run_until(until);
            }
            StepAction::Expect(expectation) => {
                let began = world.now;
                let held = match expectation.within {
                    None => conditions::holds(&world, &expectation.condition),
                    Some(within) => {
                        let until = world.now + within;
                        world.run_until_condition(until, |w| conditions::holds(w, &expectation.condition))
                    }
                };
                let waited = world.now.saturating_since(began);
                let seen =
                    (!held).then(|| conditions::describe_failure(&world, &expectation.condition).unwrap_or_default());
                record(StepOutcome::Expect {
                    text: expectation.text.clone(),
                    held,
                    waited_ms: waited.as_millis() as u64,
                    seen: seen.clone(),
                });
                if held {
                    let _ = writeln!(
                        transcript,
                        "# expect: {} — ok after {}",
                        expectation.text,
                        crate::scenario::format_duration(waited)
                    );
                } else {
                    let seen = seen.unwrap_or_default();
                    let _ = writeln!(transcript, "# expect: {} — FAILED ({seen})", expectation.text);
                    failure.get_or_insert(fail(format!(
                        "expectation not met: {} (at {}: {seen})",
                        expectation.text, world.now
                    )));
                    if !options.keep_going {
                        break;
                    }
                }
            }
        }
        if let Some(v) = &world.violation {
            failure = Some(Failure { kind: FailureKind::Invariant, message: format!("{v} (at {})", world.now) });
            break;
        }
        if let Err(e) = world.check_stores_agree() {
            failure = Some(Failure { kind: FailureKind::Invariant, message: e });
            break;
        }
        if world.now > deadline {
            failure = Some(fail(format!(
                "the run passed its max_duration of {}",
                crate::scenario::format_duration(scenario.max_duration)
            )));
            break;
        }
    }
    let mut convergence = None;
    if let (None, Some(plan)) = (&failure, &options.chaos) {
        match run_chaos(&mut world, plan, options.workload.as_ref(), &mut transcript) {
            Ok(c) => convergence = Some(c),
            Err(f) => failure = Some(f),
        }
    }
    // A broken invariant outranks what a step saw: a step that fails breaks out of the loop
    // above before the per-step check, and its expectation's failure is most likely the
    // violation's consequence, not the bug to report.
    if let Some(v) = &world.violation {
        if !matches!(&failure, Some(Failure { kind: FailureKind::Invariant, .. })) {
            failure = Some(Failure { kind: FailureKind::Invariant, message: format!("{v} (at {})", world.now) });
        }
    }
    let history = world.finish_workload().unwrap_or_default();
    RunReport {
        history,
        seed,
        convergence,
        sometimes: world.sometimes.clone(),
        transcript,
        failure,
        trace_hash: world.trace.hash_hex(),
        trace_lines: world.trace.lines().to_vec(),
        trace_tail: world.trace.tail().cloned().collect(),
        sim_time: world.now,
        events: world.stats.events,
        snapshots,
        snapshot_mismatches,
        steps: records,
        docker_version: scenario.docker_version,
    }
}

fn fault_outcome(fault: &Fault, applied: &Result<String, String>) -> StepOutcome {
    match applied {
        Ok(note) => StepOutcome::Fault { description: fault.describe(), note: note.clone(), applied: true },
        Err(e) => StepOutcome::Fault { description: fault.describe(), note: e.clone(), applied: false },
    }
}

/// The command as one line, for the transcript (continuations joined).
fn one_line(line: &str) -> String {
    line.replace("\\\n", " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An insta snapshot file's body (after its `---` header).
pub fn read_golden(dir: &std::path::Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.snap"))).ok()?;
    let mut parts = text.splitn(3, "---\n");
    parts.next()?;
    parts.next()?;
    parts.next().map(|s| s.to_string())
}

/// What a typed command may read besides its line: the step's standard input, and files
/// named relative to the scenario's directory (`docker secret create NAME FILE`).
struct CommandInput<'a> {
    stdin: Option<&'a str>,
    dir: Option<&'a std::path::Path>,
}

impl CommandInput<'_> {
    /// The bytes of `-` (standard input) or of a file, as the docker CLI reads them; the error
    /// is the CLI's when the file cannot be read.
    fn read(&self, file: &str) -> Result<Vec<u8>, String> {
        if file == "-" {
            return Ok(self.stdin.unwrap_or("").as_bytes().to_vec());
        }
        let path = match self.dir {
            Some(dir) => dir.join(file),
            None => std::path::PathBuf::from(file),
        };
        std::fs::read(&path).map_err(|_| format!("open {file}: no such file or directory"))
    }
}

/// Types a command on a host and waits for the daemon's answer: (exit code, output).
fn run_command(
    world: &mut World,
    host_name: &str,
    line: &str,
    scenario: &Scenario,
    input: &CommandInput,
) -> (i32, String) {
    let docker_version = scenario.docker_version;
    let Some(origin) = world.host_by_name(host_name) else {
        return (127, format!("no host named {host_name}\n"));
    };
    if let Some(stack) = cli::parse::parse_stack_line(line) {
        return match stack {
            Ok((host, command)) => run_stack(world, origin, host.as_deref(), command, scenario),
            Err(e) => (1, format!("{e}\n")),
        };
    }
    let mut invocation = match cli::parse(line) {
        Ok(inv) => inv.for_docker(docker_version),
        Err(e) => return (1, format!("{e}\n")),
    };
    if let Some(file) = invocation.data_file.clone() {
        match input.read(&file) {
            Ok(bytes) => invocation.supply_data(bytes),
            Err(e) => return (1, format!("{e}\n")),
        }
    }
    if let Some(target) = &invocation.view.curl {
        return curl(world, target, &invocation);
    }
    let target = match &invocation.host {
        None => origin,
        Some(h) => match remote_daemon(world, h) {
            Ok(i) => i,
            Err(e) => return (1, format!("{e}\n")),
        },
    };
    let req = world.submit(target, invocation.request.clone());
    let until = world.now + COMMAND_TIMEOUT;
    match wait_reply(world, target, req, until) {
        Some(reply) => (cli::exit_code(&invocation, &reply), cli::render(&invocation, &reply)),
        None => (1, format!("Error: no answer from the daemon within {}s\n", COMMAND_TIMEOUT.as_secs())),
    }
}

/// `docker stack ...`: the CLI's sequence of requests, each waited for as a command's.
fn run_stack(
    world: &mut World,
    origin: usize,
    host: Option<&str>,
    command: swarm_core::stack::StackCommand,
    scenario: &Scenario,
) -> (i32, String) {
    use swarm_core::stack::{Next, StackRun};
    let target = match host {
        None => origin,
        Some(h) => match remote_daemon(world, h) {
            Ok(i) => i,
            Err(e) => return (1, format!("{e}\n")),
        },
    };
    let mut run = match StackRun::new(command, scenario.docker_version, |name| scenario.read_file(name)) {
        Ok(run) => run,
        Err(e) => return (1, format!("{e}\n")),
    };
    let mut reply = None;
    loop {
        match run.next(reply.take()) {
            Next::Done { exit_code, output } => return (exit_code, output),
            Next::Send(request) => {
                let req = world.submit(target, *request);
                let until = world.now + COMMAND_TIMEOUT;
                match wait_reply(world, target, req, until) {
                    Some(r) => reply = Some(r),
                    None => {
                        return (1, format!("Error: no answer from the daemon within {}s\n", COMMAND_TIMEOUT.as_secs()))
                    }
                }
            }
        }
    }
}

fn wait_reply(world: &mut World, node: usize, req: u64, until: Instant) -> Option<Reply> {
    loop {
        if let Some(r) = world.take_reply(node, req) {
            return Some(r);
        }
        if world.now > until || !world.step_until(until) {
            return world.take_reply(node, req);
        }
    }
}

/// `-H 192.168.0.109:5555`, `-H tcp://bd0:5555`: a daemon listening on TCP.
fn remote_daemon(world: &World, host: &str) -> Result<usize, String> {
    let addr = host.trim_start_matches("tcp://");
    match world.host_by_ip_or_name(swarm_core::addr::host(addr)) {
        Some(i) if world.hosts[i].daemon_tcp => Ok(i),
        _ => Err(format!("Cannot connect to the Docker daemon at tcp://{addr}. Is the docker daemon running?")),
    }
}

/// `curl http://bd0:8000/`: the request enters the routing mesh of the node the URL names.
fn curl(world: &mut World, target: &CurlTarget, invocation: &cli::Invocation) -> (i32, String) {
    let (host, hostport) = (&target.host, &target.hostport);
    let Some(index) = world.host_by_ip_or_name(host) else {
        return (6, format!("curl: (6) Could not resolve host: {host}\n"));
    };
    let req = world.submit(index, invocation.request.clone());
    let until = world.now + COMMAND_TIMEOUT;
    match wait_reply(world, index, req, until) {
        Some(Ok(Response::Route(route))) => {
            let backend_ip: Option<std::net::Ipv4Addr> = route.backend.node_addr.parse().ok();
            let Some(backend_host) = backend_ip.and_then(|ip| world.host_by_ip(ip)) else {
                return (7, format!("curl: (7) Failed to connect to {hostport}: No route to host\n"));
            };
            let runtime = &world.hosts[backend_host].runtime;
            if !runtime.running(&route.backend.container_name) {
                return (56, "curl: (56) Recv failure: Connection reset by peer\n".into());
            }
            let image = runtime.containers[&route.backend.container_name].image.clone();
            let body = runtime.images.get(&image).and_then(|i| i.http_body.clone());
            match body {
                Some(body) => {
                    let vip = route.vip.map(|v| v.ip.to_string()).unwrap_or_else(|| "-".into());
                    let task_ip = route.backend.addresses.first().map(|(_, a)| a.ip.to_string()).unwrap_or_default();
                    (
                        0,
                        format!(
                            "{body}\n# served by {} on {} ({}) via ingress VIP {vip}\n",
                            route.backend.container_name, world.hosts[backend_host].name, task_ip
                        ),
                    )
                }
                None => (52, "curl: (52) Empty reply from server\n".into()),
            }
        }
        Some(reply) => (cli::exit_code(invocation, &reply), cli::render(invocation, &reply)),
        None => (28, "curl: (28) Operation timed out\n".into()),
    }
}

/// Hosts the plan wipes (`LoseDataRoot`), each once, in plan order.
pub fn lost_data_roots(plan: &ChaosPlan) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for (_, fault) in &plan.faults {
        if let Fault::LoseDataRoot { node } = fault {
            if !hosts.contains(node) {
                hosts.push(node.clone());
            }
        }
    }
    hosts
}

/// Plays a chaos schedule, heals everything, and waits for every service to converge.
fn run_chaos(
    world: &mut World,
    plan: &ChaosPlan,
    workload: Option<&crate::workload::WorkloadPlan>,
    transcript: &mut String,
) -> Result<Duration, Failure> {
    let start = world.now;
    world.leave_down_what_the_scenario_left_down();
    if let Some(workload) = workload {
        let _ = writeln!(
            transcript,
            "# workload: {} clients, {} operations planned, from {start} until the heal",
            workload.clients,
            workload.ops.len()
        );
        world.start_workload(workload);
    }
    for (offset, fault) in &plan.faults {
        world.run_until((start + *offset).max(world.now));
        if let Some(v) = &world.violation {
            return Err(Failure { kind: FailureKind::Invariant, message: format!("{v} (at {})", world.now) });
        }
        let note = world.apply_fault(fault).unwrap_or_else(|e| format!("skipped: {e}"));
        let _ = writeln!(transcript, "# chaos at {}: {} — {note}", world.now, fault.describe());
    }
    world.stop_workload();
    // Heal, give every disk its health back (a slow disk, a failure still pending: one armed
    // now would stop a daemon after the restarts below, and nothing would start it again),
    // then start every host that is down.
    let _ = world.apply_fault(&Fault::Heal);
    for i in 0..world.hosts.len() {
        let name = world.hosts[i].name.clone();
        let _ = world.apply_fault(&Fault::DiskOk { node: name });
    }
    let to_restart: Vec<usize> = world.down_hosts().into_iter().filter(|i| !world.left_down.contains(i)).collect();
    for i in to_restart {
        let name = world.hosts[i].name.clone();
        let _ = world.apply_fault(&Fault::Restart { node: name });
    }
    // A host that lost its data root is outside the swarm: the operator joins it again, as a
    // new node (the old one stays Down, forgotten by the convergence check). Without it a
    // service pinned to that host, or needing every node, could never converge.
    // The hosts actually wiped: a plan's `lose_data_root` may have been refused.
    let lost = world.wiped.clone();
    if !lost.is_empty() {
        // Joining goes through the leader: wait for one (the restarts above may be electing).
        let until = world.now + plan.liveness_bound;
        world.run_until_condition(until, |w| w.leader_index().is_some());
    }
    for node in lost {
        let note = world.apply_fault(&Fault::Rejoin { node: node.clone() }).unwrap_or_else(|e| format!("skipped: {e}"));
        let _ = writeln!(transcript, "# chaos: {node} joins again — {note}");
    }
    let healed = world.now;
    let _ = writeln!(
        transcript,
        "# chaos: healed at {healed}, waiting up to {}s for convergence",
        plan.liveness_bound.as_secs()
    );
    let converged = world.run_until_condition(healed + plan.liveness_bound, conditions::cluster_converged);
    if let Some(v) = &world.violation {
        return Err(Failure { kind: FailureKind::Invariant, message: format!("{v} (at {})", world.now) });
    }
    if !converged {
        let why = conditions::convergence_gap(world).unwrap_or_default();
        return Err(Failure {
            kind: FailureKind::Liveness,
            message: format!(
                "liveness: not converged {}s after the last fault healed: {why}",
                plan.liveness_bound.as_secs()
            ),
        });
    }
    let took = world.now.saturating_since(healed);
    let _ = writeln!(transcript, "# chaos: converged after {} ms", took.as_millis());
    if workload.is_some() {
        check_history(world, transcript)?;
    }
    Ok(took)
}

/// The workload's history against the converged cluster (`crate::history`).
fn check_history(world: &mut World, transcript: &mut String) -> Result<(), Failure> {
    let history = world.finish_workload().unwrap_or_default();
    let Some(store) = world.authoritative_store() else {
        return Err(Failure {
            kind: FailureKind::History,
            message: "history: no manager to read the final state from".into(),
        });
    };
    let end = crate::history::FinalState::of(store, world.now);
    let count = |f: fn(&crate::workload::Outcome) -> bool| history.iter().filter(|e| f(&e.outcome)).count();
    let (ok, unknown) = (count(|o| o.is_ok()), count(|o| o.is_unknown()));
    let _ = writeln!(
        transcript,
        "# workload: {} calls: {ok} ok, {} failed, {unknown} unknown",
        history.len(),
        history.len() - ok - unknown
    );
    match crate::history::check(&history, &end) {
        Ok(stats) => {
            let unchecked = if stats.unchecked.is_empty() {
                String::new()
            } else {
                format!("; unchecked: {}", stats.unchecked.join(", "))
            };
            let _ = writeln!(
                transcript,
                "# history: {} objects linearizable, no lost or doubled write{unchecked}",
                stats.objects
            );
            Ok(())
        }
        Err(v) => Err(Failure { kind: FailureKind::History, message: v.report(&history) }),
    }
}
