//! `swarmsim-live run FILE --backend docker|swarmd`: a scenario file played against real daemons.
//!
//! The same file, transcript and exit codes as `swarmsim run` (0 pass, 1 an expectation failed,
//! 2 bad input — including a step this backend cannot do for real, refused before anything
//! is made). Every `[[node]]` becomes a network namespace on a bridge the run makes, with its
//! own hostname and one daemon; see `lab.rs` for what is made and how it is all removed, on
//! success, failure, panic and Ctrl-C alike.
//!
//! Needs root (namespaces, links, nftables, daemons). `swarmsim run --backend docker` runs this
//! binary with its own arguments, so the simulator-only flags are accepted here too.

mod backend;
mod docker;
mod exec;
mod images;
mod lab;
mod oci;
mod play;
mod procs;
mod support;
mod swarmd;
mod workload;

use backend::Backend;
use clap::{Parser, Subcommand, ValueEnum};
use lab::{Lab, SharedRegistry};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use swarmsim::record::RunRecord;
use swarmsim::scenario::{self, Scenario};

#[derive(Parser)]
#[command(name = "swarmsim-live", version, about = "Run a swarmsim scenario against real daemons")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario on real daemons: print each step's output, then a verdict.
    Run {
        /// The scenario file (TOML).
        file: PathBuf,
        #[arg(long, value_enum, default_value = "docker")]
        backend: BackendKind,
        /// Write what each step showed (a JSON run record) to this file.
        #[arg(long, value_name = "OUT.json")]
        record: Option<PathBuf>,
        /// The docker version the run is compared as (recorded; the daemon's own is reported).
        #[arg(long, value_name = "V")]
        docker_version: Option<String>,
        /// Go on after a failed check or expectation (the run still fails, with its first
        /// failure), so the record holds every step.
        #[arg(long)]
        keep_going: bool,
        /// What types the scenario's `docker` commands on the swarmd backend: `swarmctl` (core's
        /// grammar and tables, the docker the run imitates) or `docker` (Debian's docker CLI
        /// against swarmd's Engine API, as on the docker backend). Default: the environment's
        /// `SWARMSIM_SWARMD_CLIENT` (so `swarmsim conform` can choose it), else swarmctl.
        #[arg(long, value_enum)]
        client: Option<swarmd::SwarmdClient>,
        /// Clients write and read through the nodes' control APIs while the steps run (the
        /// simulator's workload plan for the seed and the `[workload]` table), from the last
        /// `swarm init`/`join` until the steps end; then the network heals, the cluster
        /// converges and the simulator's history checker judges what the clients were told
        /// against what the cluster kept (exit 6 on a violation). swarmd only.
        #[arg(long)]
        workload: bool,
        /// With `--workload`: write every call of the history, one line each, to this file.
        #[arg(long, value_name = "OUT.txt")]
        history: Option<PathBuf>,
        /// The simulator's seed: a real run has none (accepted so `swarmsim run` can hand over).
        #[arg(long, hide = true)]
        seed: Option<u64>,
        /// The simulator's trace: a real run has none.
        #[arg(long, hide = true)]
        trace: Option<PathBuf>,
        /// The simulator's golden outputs: IDs and ages differ on a real cluster, not compared.
        #[arg(long, hide = true)]
        snapshots: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum BackendKind {
    /// The simulator itself: not this binary's business.
    Sim,
    /// dockerd from Debian's docker.io, driven by its docker CLI.
    Docker,
    /// swarmd (real-backend) per node on one containerd, driven by swarmctl or the docker CLI
    /// (`--client`).
    Swarmd,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let Cmd::Run {
        file,
        backend,
        record,
        docker_version,
        keep_going,
        client,
        workload,
        history,
        seed,
        trace: _,
        snapshots: _,
    } = cli.command;
    let client = match client {
        Some(c) => c,
        None => match std::env::var("SWARMSIM_SWARMD_CLIENT").ok().as_deref() {
            None | Some("") | Some("swarmctl") => swarmd::SwarmdClient::Swarmctl,
            Some("docker") => swarmd::SwarmdClient::Docker,
            Some(other) => {
                eprintln!("swarmsim-live: SWARMSIM_SWARMD_CLIENT={other:?} is not swarmctl or docker");
                return ExitCode::from(2);
            }
        },
    };
    let mut scenario = match scenario::load(&file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // The docker swarmd imitates (real dockerd is what it is): the flag, else the scenario's.
    if let Some(asked) = &docker_version {
        match swarm_core::cli::DockerVersion::parse(asked) {
            Some(v) => scenario.docker_version = v,
            None => {
                eprintln!("swarmsim-live: --docker-version {asked:?} is not 1.12 or 20.10");
                return ExitCode::from(2);
            }
        }
    }
    let kind = match backend {
        BackendKind::Docker => "docker",
        BackendKind::Sim => {
            eprintln!("swarmsim-live: the simulator runs as `swarmsim run FILE`");
            return ExitCode::from(2);
        }
        BackendKind::Swarmd => "swarmd",
    };
    let workload = match workload_options(&scenario, kind, workload, seed, history) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("swarmsim-live: {e}");
            return ExitCode::from(2);
        }
    };
    let refused = support::unsupported_steps(&scenario, kind);
    if !refused.is_empty() {
        for error in refused {
            eprintln!("{error}");
        }
        return ExitCode::from(2);
    }
    let registry: SharedRegistry = Arc::new(Mutex::new(lab::Registry::default()));
    if let Err(e) = clean_up_on_signals(registry.clone()) {
        eprintln!("swarmsim-live: cannot catch signals: {e}");
        return ExitCode::from(2);
    }
    // Cleanup runs however `live_run` ends: a return, an error or a panic.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        live_run(&scenario, registry.clone(), kind, keep_going, client, workload.as_ref())
    }));
    lab::clean_up(&registry);
    // Interrupted: the run's own steps failed as their daemons were killed; what counts is the
    // signal, reported as a shell does.
    let signal = INTERRUPTED_BY.load(Ordering::SeqCst);
    if signal != 0 {
        return ExitCode::from((128 + signal) as u8);
    }
    let Ok(mut ran) = outcome else { return ExitCode::from(4) };
    if let Some(path) = record {
        if let Some(asked) = docker_version.filter(|asked| !ran.record.docker_version.starts_with(asked.as_str())) {
            eprintln!("swarmsim-live: --docker-version {asked}, but the daemons are {}", ran.docker_version);
        }
        ran.record.scenario = file.display().to_string();
        if let Err(e) = std::fs::write(&path, ran.record.to_json()) {
            eprintln!("cannot write the run record to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::from(ran.exit_code)
}

/// How a live run ended.
struct Ran {
    exit_code: u8,
    /// The daemons' own version (`20.10.24+dfsg1`).
    docker_version: String,
    record: RunRecord,
}

/// The signal that interrupted the run (0: none).
static INTERRUPTED_BY: AtomicI32 = AtomicI32::new(0);

/// SIGINT, SIGTERM, SIGHUP: remove the lab, then exit as a shell reports a signal (128 + n).
fn clean_up_on_signals(registry: SharedRegistry) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            INTERRUPTED_BY.store(signal, Ordering::SeqCst);
            eprintln!("\nswarmsim-live: interrupted; removing everything the run made");
            lab::clean_up(&registry);
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}

/// Makes the lab, starts the daemons, loads the images, plays the steps.
fn live_run(
    scenario: &Scenario,
    registry: SharedRegistry,
    kind: &str,
    keep_going: bool,
    client: swarmd::SwarmdClient,
    workload: Option<&WorkloadOptions>,
) -> Ran {
    let mut ran = Ran {
        exit_code: 2,
        docker_version: String::new(),
        record: RunRecord {
            scenario: String::new(),
            backend: kind.into(),
            docker_version: String::new(),
            seed: None,
            steps: Vec::new(),
            exit_code: 2,
            failure: None,
        },
    };
    let id = Lab::new_id();
    eprintln!("swarmsim-live: run {id}: {} node(s) on backend {kind}", scenario.nodes.len());
    let lab = match Lab::create(&id, &scenario.nodes, registry) {
        Ok(lab) => lab,
        Err(e) => {
            println!("FAIL {}: cannot make the lab: {e}", scenario.name);
            ran.record.failure = Some(e);
            return ran;
        }
    };
    let made: Result<Box<dyn Backend>, String> = match kind {
        "swarmd" => swarmd::Swarmd::new(&scenario.nodes, scenario.docker_version, client)
            .map(|b| Box::new(b) as Box<dyn Backend>),
        _ => Ok(Box::new(docker::Docker::new(&scenario.nodes))),
    };
    // Declared after the lab: dropped before it, so a backend's own cleanup (swarmd's
    // containerd namespaces) runs while the lab still stands.
    let mut backend = match made {
        Ok(backend) => backend,
        Err(e) => {
            println!("FAIL {}: {e}", scenario.name);
            ran.record.failure = Some(e);
            return ran;
        }
    };
    if let Err(e) = set_up(scenario, &lab, &mut *backend) {
        println!("FAIL {}: {e}", scenario.name);
        ran.record.failure = Some(e);
        return ran;
    }
    ran.docker_version = backend.daemon_version(&lab);
    ran.record.docker_version = backend.output_profile(&ran.docker_version);
    let mut player = play::Player::new(scenario, &lab, &mut *backend);
    player.keep_going = keep_going;
    player.workload = workload.and_then(|w| {
        let start_after = w.start_after?;
        let sockets =
            (0..lab.nodes.len()).map(|n| (lab.nodes[n].name.clone(), swarmd::Swarmd::socket(&lab, n))).collect();
        Some(play::PlannedWorkload { start_after, plan: w.plan.clone(), sockets })
    });
    let mut verdict = player.play();
    ran.record.steps = std::mem::take(&mut player.records);
    let clients = player.clients.take();
    let sockets = player.workload.take().map(|w| w.sockets).unwrap_or_default();
    // The steps' own failure comes first; a violation of the history is exit 6, as the simulator's.
    let mut exit_code = u8::from(verdict.failure.is_some());
    if let (Some(options), Some(clients)) = (workload, clients) {
        if let Err((code, message)) = finish_workload(clients, options, &lab, &mut *backend, &sockets) {
            if verdict.failure.is_none() {
                exit_code = code;
            }
            verdict.failure.get_or_insert(message);
        }
    } else if let Some(options) = workload {
        let why = match options.start_after {
            None => "no step makes a swarm (`swarm init`/`swarm join`): the clients had nothing to talk to",
            Some(_) => "the steps ended before the clients were to start",
        };
        verdict.failure.get_or_insert(format!("--workload: {why}"));
        exit_code = exit_code.max(1);
    }
    let seconds = verdict.elapsed.as_secs_f64();
    ran.exit_code = match &verdict.failure {
        None => {
            println!("PASS {} (backend {kind}, {seconds:.1}s)", scenario.name);
            0
        }
        Some(message) => {
            println!("FAIL {} (backend {kind}, at {seconds:.1}s)", scenario.name);
            println!("{message}");
            exit_code.max(1)
        }
    };
    ran.record.exit_code = ran.exit_code.into();
    ran.record.failure = verdict.failure;
    ran
}

/// Every node's daemon up with the scenario's images (but those it is meant to miss).
fn set_up(scenario: &Scenario, lab: &Lab, backend: &mut dyn Backend) -> Result<(), String> {
    let built = images::build_all(&scenario.images, &lab.dir.join("images"))?;
    for (index, node) in scenario.nodes.iter().enumerate() {
        backend.start(lab, index)?;
        for image in built.iter().filter(|image| !node.missing_images.contains(&image.name)) {
            backend.load_image(lab, index, image)?;
        }
    }
    Ok(())
}

/// `--workload`: the plan, who is a member, where the clients start, where the history goes.
struct WorkloadOptions {
    plan: swarmsim::workload::WorkloadPlan,
    members: Vec<String>,
    start_after: Option<usize>,
    history_file: Option<PathBuf>,
}

fn workload_options(
    scenario: &Scenario,
    kind: &str,
    asked: bool,
    seed: Option<u64>,
    history_file: Option<PathBuf>,
) -> Result<Option<WorkloadOptions>, String> {
    if !asked {
        return match history_file {
            Some(_) => Err("--history is the workload's: it needs --workload".into()),
            None => Ok(None),
        };
    }
    if kind != "swarmd" {
        // dockerd has no `/swarmd/control` route; the docker CLI's answers are text to parse.
        return Err(format!("--workload talks to swarmd's control route: not done on backend {kind}"));
    }
    let facts = swarmsim::chaos::facts::ScenarioFacts::of(scenario);
    let plan = swarmsim::workload::plan_for_seed(seed.unwrap_or(scenario.seed), &facts, &scenario.workload);
    Ok(Some(WorkloadOptions {
        plan,
        members: facts.members,
        start_after: workload::start_after_step(scenario),
        history_file,
    }))
}

/// After the steps: stop the clients, heal, wait for a leader and every member Ready, read the
/// final state and check the history. `Err((exit code, message))` when it fails.
fn finish_workload(
    clients: workload::Clients,
    options: &WorkloadOptions,
    lab: &Lab,
    backend: &mut dyn Backend,
    sockets: &workload::Sockets,
) -> Result<(), (u8, String)> {
    println!("# workload: the steps ended; the clients stop (calls in flight end or time out)");
    let (history, unreadable, started) = clients.stop();
    let clock = || swarm_core::time::Instant(started.elapsed().as_millis() as u64);
    if let Some(path) = &options.history_file {
        let lines: String = history.iter().map(|e| format!("{}\n", e.describe())).collect();
        if let Err(e) = std::fs::write(path, lines) {
            eprintln!("cannot write the history to {}: {e}", path.display());
        }
    }
    println!("# workload: {}", workload::summary(&history));
    if unreadable > 0 {
        return Err((1, format!("workload: {unreadable} answers were not the control route's (see the history)")));
    }
    lab.heal().map_err(|e| (1, format!("workload: cannot heal the network: {e}")))?;
    // As the simulator's epilogue: every member whose daemon is down starts again from its disk.
    for member in &options.members {
        let Some(node) = lab.node_index(member) else { continue };
        if !backend.is_running(node) {
            backend.start(lab, node).map_err(|e| (1, format!("workload: cannot restart {member}: {e}")))?;
            println!("# workload: {member} restarted from its disk");
        }
    }
    println!("# workload: network healed; waiting for a leader and every member Ready");
    let began = std::time::Instant::now();
    loop {
        let view = backend.view(lab);
        let leader = view.leader();
        let not_ready: Vec<String> = options
            .members
            .iter()
            .filter(|m| !matches!(view.node(m), Ok(Some(n)) if n.state == swarm_core::api::NodeState::Ready))
            .cloned()
            .collect();
        drop(view);
        if leader.is_some() && not_ready.is_empty() {
            println!("# workload: converged after {:.1}s", began.elapsed().as_secs_f64());
            break;
        }
        if began.elapsed() > workload::CONVERGE_TIMEOUT {
            return Err((
                1,
                format!(
                    "workload: no convergence within {:?} after the heal (leader {leader:?}, not Ready: {not_ready:?})",
                    workload::CONVERGE_TIMEOUT
                ),
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    let end = workload::read_final_state(sockets, &options.members, clock)
        .map_err(|e| (1, format!("workload: cannot read the final state: {e}")))?;
    match swarmsim::history::check(&history, &end) {
        Ok(stats) => {
            let unchecked = if stats.unchecked.is_empty() {
                String::new()
            } else {
                format!("; unchecked: {}", stats.unchecked.join(", "))
            };
            println!(
                "# history: {} objects linearizable, no lost or doubled write, no trace of a failed one{unchecked}",
                stats.objects
            );
            Ok(())
        }
        Err(violation) => {
            let report = violation.report(&history);
            println!("{report}");
            Err((6, violation.summary))
        }
    }
}
