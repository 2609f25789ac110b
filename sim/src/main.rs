//! `swarmsim`: run a scenario file against simulated swarm nodes, or sweep it over many seeds.
//!
//! Exit codes: 0 pass, 1 an expectation failed, 2 bad input (scenario or usage),
//! 3 a safety invariant broke (a bug found), 4 the simulator itself crashed (or, in a sweep,
//! was not deterministic), 5 the cluster did not converge after the faults healed (liveness),
//! 6 the workload's history contradicts what the cluster kept (`--workload`).
//! A sweep exits with its worst failure's code (see `sweep::record::OutcomeKind`).

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use swarm_core::cli::DockerVersion;
use swarmsim::bench::{self, ScaleSpec};
use swarmsim::conform::{self, known::KnownDifferences};
use swarmsim::record::RunRecord;
use swarmsim::runner::{self, RunOptions};
use swarmsim::scenario;
use swarmsim::sweep::cli as sweep_cli;

#[derive(Parser)]
#[command(name = "swarmsim", version, about = "Deterministic simulator and test harness for Docker swarm mode")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario: print each step's output as docker would, the trace hash and a verdict.
    Run {
        /// The scenario file (TOML).
        file: PathBuf,
        /// Seed of the run (default: the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Write every trace line to this file.
        #[arg(long, value_name = "FILE")]
        trace: Option<PathBuf>,
        /// Directory of golden outputs compared on the scenario's own seed.
        #[arg(long, default_value = "snapshots")]
        snapshots: PathBuf,
        /// Where the scenario runs: `sim` (this simulator), or real daemons in network
        /// namespaces: `swarmd` or `docker` (run by `swarmsim-live`, as root).
        #[arg(long, value_enum, default_value_t = Backend::Sim)]
        backend: Backend,
        /// Write what each step showed (a JSON run record, for `conform`) to this file.
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        /// Go on after a failed check or expectation (the run still fails, with its first
        /// failure), so the record holds every step.
        #[arg(long)]
        keep_going: bool,
        /// The docker imitated, 1.12 or 20.10 (default: the scenario's `docker_version`).
        #[arg(long, value_name = "VERSION", value_parser = parse_docker_version)]
        docker_version: Option<DockerVersion>,
        /// After the steps, the seed's chaos schedule (as `sweep --chaos` draws it), then heal
        /// and check convergence.
        #[arg(long)]
        chaos: bool,
        /// With --chaos: clients write and read while the faults fire (the scenario's
        /// `[workload]`), and their history is checked after the heal. With `--backend
        /// swarmd`: while the steps run, on the real daemons (RELIABILITY.md).
        #[arg(long)]
        workload: bool,
        /// With --workload: write every call of the history, one line each, to this file.
        #[arg(long, value_name = "FILE", requires = "workload")]
        history: Option<PathBuf>,
        /// Switch a planted bug on in every node (a swarmsim built with `--features
        /// planted-bugs`), to replay a seed a sweep with `--planted` caught.
        #[arg(long, value_name = "BUG", value_parser = sweep_cli::parse_planted)]
        planted: Option<swarm_core::planted::PlantedBug>,
    },
    /// Run a scenario over many seeds in parallel and summarize (optionally under chaos).
    Sweep(sweep_cli::SweepArgs),
    /// Measure whole-cluster workloads at scale (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Join `sweep --json` files (e.g. shards) into one summary, as the unsharded sweep prints.
    Merge {
        /// JSON-lines files written by `sweep --json`.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run a scenario on several backends (or compare recorded runs) and compare what a user
    /// sees, step by step; exit 0 only when every difference is a known one.
    Conform(ConformArgs),
}

#[derive(clap::Args)]
struct ConformArgs {
    /// The scenario file (TOML).
    #[arg(required_unless_present = "records", conflicts_with = "records")]
    file: Option<PathBuf>,
    /// The backends to run it on, compared pairwise in this order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sim,docker", conflicts_with = "records")]
    backends: Vec<Backend>,
    /// Compare these run records (`run --record`) instead of running the scenario.
    #[arg(long, num_args = 2.., value_name = "RECORD")]
    records: Vec<PathBuf>,
    /// Seed of the simulator's run (default: the scenario's `seed`).
    #[arg(long, conflicts_with = "records")]
    seed: Option<u64>,
    /// The known differences [default: conformance/known-differences.toml, if present].
    #[arg(long, value_name = "FILE")]
    known: Option<PathBuf>,
    /// Also write the comparison as one JSON document to this file.
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Also write CONFORMANCE.md's table rows for these runs (one per pair of backends).
    #[arg(long, value_name = "OUT")]
    markdown: Option<PathBuf>,
    /// The docker the simulator (and swarmd) imitate: 20.10 by default, the version real swarm
    /// runs here, so that whole tables compare.
    #[arg(long, value_name = "VERSION", value_parser = parse_docker_version, default_value = "20.10", conflicts_with = "records")]
    docker_version: DockerVersion,
    /// Run the backends one after another. By default they run side by side (each real
    /// backend in its own lab), which halves the wall time but has their daemons compete for
    /// the CPU: use this when a difference may be a timing that the competition caused.
    #[arg(long, conflicts_with = "records")]
    serial: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    Sim,
    Swarmd,
    Docker,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// N nodes (one manager), S services of R replicas: join, deploy until every task runs,
    /// then optionally crash a share of the workers and wait until every task is replaced.
    Scale {
        #[arg(long, default_value_t = 1000)]
        nodes: usize,
        #[arg(long, default_value_t = 1)]
        services: usize,
        #[arg(long, default_value_t = 30_000)]
        replicas: u64,
        /// Percentage of the workers to crash once everything runs (e.g. 10).
        #[arg(long, value_name = "PERCENT", default_value_t = 0.0)]
        crash: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print progress (tasks running, wall time, memory) every simulated second.
        #[arg(long)]
        progress: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            if code == 2 && sweep_cli::is_sweep_invocation() {
                // Sweeps run in scripts: one line that says what is wrong (clap's first paragraph).
                let text = e.render().to_string();
                let first_paragraph: Vec<&str> =
                    text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
                eprintln!("{}", first_paragraph.join(" "));
            } else {
                let _ = e.print();
            }
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Cmd::Run {
            file,
            backend: Backend::Sim,
            seed,
            trace,
            snapshots,
            record,
            docker_version,
            keep_going,
            chaos,
            workload,
            history,
            planted,
        } => {
            if workload && !chaos {
                // The simulator's clients run during the chaos phase (a real run's during the steps).
                eprintln!("swarmsim run: --workload on the simulator needs --chaos");
                return ExitCode::from(2);
            }
            run(file, seed, trace, snapshots, record, docker_version, keep_going, (chaos, workload, planted), history)
        }
        Cmd::Run { backend, .. } => run_live(backend),
        Cmd::Sweep(args) => sweep_cli::sweep(args),
        Cmd::Merge { files } => sweep_cli::merge(&files),
        Cmd::Conform(args) => conform(args),
        Cmd::Bench(BenchCmd::Scale { nodes, services, replicas, crash, seed, progress }) => bench_scale(ScaleSpec {
            nodes,
            services,
            replicas_per_service: replicas,
            crash_fraction: crash / 100.0,
            seed,
            progress,
        }),
    }
}

fn bench_scale(spec: ScaleSpec) -> ExitCode {
    if spec.nodes == 0 || !(0.0..=100.0).contains(&(spec.crash_fraction * 100.0)) {
        eprintln!("swarmsim bench scale: --nodes must be at least 1 and --crash between 0 and 100");
        return ExitCode::from(2);
    }
    println!(
        "{} nodes, {} service(s) x {} replicas = {} tasks, seed {}",
        spec.nodes,
        spec.services,
        spec.replicas_per_service,
        spec.tasks(),
        spec.seed
    );
    match bench::run_scale(&spec) {
        Ok(r) => {
            let row = |name: &str, p: &bench::Phase| {
                println!(
                    "  {name:<8} simulated {:>9}  wall {:>9}  events {:>10}  {:.2} us/event",
                    bench::sim_text(p.simulated),
                    bench::wall_text(p.wall),
                    p.events,
                    p.microseconds_per_event()
                )
            };
            row("join", &r.join);
            row("deploy", &r.deploy);
            if let Some(rec) = &r.recover {
                row(&format!("recover ({} nodes crashed)", r.crashed_nodes), rec);
            }
            if let Some(rss) = r.peak_rss_bytes {
                println!("  peak memory (RSS) {:.0} MiB", rss as f64 / (1024.0 * 1024.0));
            }
            if r.process_pass_limit_hits > 0 {
                println!("  manager pass limit hit {} times (work resumed at once)", r.process_pass_limit_hits);
            }
            println!("  trace-hash: {}", r.trace_hash);
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("FAIL: {e}");
            ExitCode::from(1)
        }
    }
}

/// Real backends live in `swarmsim-live`, a separate binary: it starts processes, makes
/// network namespaces and reads the wall clock, none of which this crate may do. It takes the
/// same arguments, so `swarmsim run --backend docker ...` hands them over unchanged.
fn run_live(backend: Backend) -> ExitCode {
    let live = match live_binary() {
        Ok(path) => path,
        Err(e) => {
            eprintln!("swarmsim run --backend {}: {e}", format!("{backend:?}").to_lowercase());
            return ExitCode::from(2);
        }
    };
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    match std::process::Command::new(&live).args(&args).status() {
        Ok(status) => ExitCode::from(status.code().map_or(4, |c| c.clamp(0, 255) as u8)),
        Err(e) => {
            eprintln!("swarmsim: cannot start {}: {e}", live.display());
            ExitCode::from(2)
        }
    }
}

fn conform(args: ConformArgs) -> ExitCode {
    let bad_input = |e: String| {
        eprintln!("swarmsim conform: {e}");
        ExitCode::from(2)
    };
    let runs: Result<Vec<RunRecord>, String> = match &args.file {
        None => args.records.iter().map(|p| conform::records::read(p)).collect(),
        Some(file) if args.serial => {
            args.backends.iter().map(|b| record_on(*b, file, args.seed, args.docker_version)).collect()
        }
        // Side by side: the simulator in this thread's scope too, every run's record back in
        // the order of --backends (the comparison's order).
        Some(file) => std::thread::scope(|scope| {
            let runs: Vec<_> = args
                .backends
                .iter()
                .map(|b| scope.spawn(move || record_on(*b, file, args.seed, args.docker_version)))
                .collect();
            runs.into_iter()
                .map(|run| run.join().unwrap_or_else(|_| Err("a backend's run panicked".to_string())))
                .collect()
        }),
    };
    let runs = match runs.and_then(|r| conform::records::check_same_scenario(&r).map(|()| r)) {
        Ok(r) if r.len() >= 2 => r,
        Ok(_) => return bad_input("compare at least two runs (--backends sim,docker or --records A B)".into()),
        Err(e) => return bad_input(e),
    };
    let default_known = Path::new("conformance/known-differences.toml");
    let known = match &args.known {
        Some(path) => KnownDifferences::load(path),
        None if default_known.is_file() => KnownDifferences::load(default_known),
        None => Ok(KnownDifferences::empty(default_known)),
    };
    let known = match known {
        Ok(k) => k,
        Err(e) => return bad_input(e.to_string()),
    };
    let report = conform::conform(&runs, &known);
    if let Some(path) = &args.json {
        if let Err(e) = std::fs::write(path, report.to_json()) {
            return bad_input(format!("cannot write {}: {e}", path.display()));
        }
    }
    if let Some(path) = &args.markdown {
        if let Err(e) = std::fs::write(path, report.markdown_rows()) {
            return bad_input(format!("cannot write {}: {e}", path.display()));
        }
    }
    print!("{}", report.text());
    ExitCode::from(report.exit_code())
}

/// One run of the scenario on a backend: the simulator in this process; a real backend by
/// `swarmsim-live run FILE --backend NAME --record TMP`, its transcript sent to stderr so
/// stdout stays the comparison.
fn record_on(backend: Backend, file: &Path, seed: Option<u64>, version: DockerVersion) -> Result<RunRecord, String> {
    let name = format!("{backend:?}").to_lowercase();
    if backend == Backend::Sim {
        return conform::records::simulate(file, seed, version);
    }
    let live = live_binary()?;
    let record = std::env::temp_dir().join(format!("swarmsim-conform-{}-{name}.json", std::process::id()));
    let status = std::process::Command::new(&live)
        .args(["run".as_ref(), file.as_os_str(), "--backend".as_ref(), name.as_ref(), "--record".as_ref()])
        .arg(&record)
        .args(["--docker-version", version.as_str(), "--keep-going"])
        .stdout(std::io::stderr())
        .status()
        .map_err(|e| format!("cannot start {}: {e}", live.display()))?;
    let run = conform::records::read(&record)
        .map_err(|e| format!("{name}: swarmsim-live wrote no run record ({status}): {e}"));
    let _ = std::fs::remove_file(&record);
    run
}

/// `swarmsim-live`, next to this executable (cargo builds both into the same directory).
fn live_binary() -> Result<PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let path = me.with_file_name("swarmsim-live");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} is missing; build it with `cargo build --release -p swarmsim-live`", path.display()))
    }
}

#[allow(clippy::too_many_arguments)]
fn run(
    file: PathBuf,
    seed: Option<u64>,
    trace: Option<PathBuf>,
    snapshots: PathBuf,
    record: Option<PathBuf>,
    docker_version: Option<DockerVersion>,
    keep_going: bool,
    (chaos, workload, planted): (bool, bool, Option<swarm_core::planted::PlantedBug>),
    history: Option<PathBuf>,
) -> ExitCode {
    let mut scenario = match scenario::load(&file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let seed_used = seed.unwrap_or(scenario.seed);
    let mut replay = format!("swarmsim run {} --seed {seed_used}", file.display());
    if let Some(version) = docker_version {
        scenario.docker_version = version;
        replay.push_str(&format!(" --docker-version {version}"));
    }
    let facts = swarmsim::chaos::facts::ScenarioFacts::of(&scenario);
    let chaos_plan = chaos.then(|| swarmsim::chaos::plan_for_seed(seed_used, &facts).1);
    let workload_plan = workload.then(|| swarmsim::workload::plan_for_seed(seed_used, &facts, &scenario.workload));
    if chaos {
        replay.push_str(" --chaos");
    }
    if workload {
        replay.push_str(" --workload");
    }
    if let Some(bug) = planted {
        replay.push_str(&format!(" --planted {}", bug.name()));
    }
    let options = RunOptions {
        seed,
        keep_trace: trace.is_some(),
        snapshot_dir: Some(snapshots),
        keep_going,
        chaos: chaos_plan,
        workload: workload_plan,
        planted,
        ..Default::default()
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner::run(&scenario, &options)));
    let report = match outcome {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            let kind = if what.contains("invariant") { 3 } else { 4 };
            println!("FAIL {}: {what}", scenario.name);
            println!("seed: {seed_used}");
            println!("replay: {replay} --trace trace.txt");
            return ExitCode::from(kind);
        }
    };
    print!("{}", report.transcript);
    if let Some(path) = &trace {
        let mut text = report.trace_lines.join("\n");
        text.push('\n');
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("cannot write the trace to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    if let Some(path) = &history {
        let lines: String = report.history.iter().map(|e| format!("{}\n", e.describe())).collect();
        if let Err(e) = std::fs::write(path, lines) {
            eprintln!("cannot write the history to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    println!("trace-hash: {}", report.trace_hash);
    let code = verdict(&scenario, &report, &replay);
    if let Some(path) = &record {
        let run_record = report.record(&file.display().to_string(), code);
        if let Err(e) = std::fs::write(path, run_record.to_json()) {
            eprintln!("cannot write the run record to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    ExitCode::from(code)
}

/// Prints the verdict; returns the exit code.
fn verdict(scenario: &scenario::Scenario, report: &runner::RunReport, replay: &str) -> u8 {
    if !report.snapshot_mismatches.is_empty() && report.failure.is_none() {
        println!(
            "FAIL {} (seed {}): output differs from snapshot(s) {}; review with `cargo insta review`",
            scenario.name,
            report.seed,
            report.snapshot_mismatches.join(", ")
        );
        println!("replay: {replay}");
        return 1;
    }
    match &report.failure {
        None => {
            println!(
                "PASS {} (seed {}, {} simulated, {} events)",
                scenario.name, report.seed, report.sim_time, report.events
            );
            0
        }
        Some(f) => {
            println!("FAIL {} (seed {}, at {} simulated)", scenario.name, report.seed, report.sim_time);
            println!("{}", f.message);
            println!("last trace lines:");
            for line in &report.trace_tail {
                println!("  {line}");
            }
            println!("replay: {replay}");
            f.kind.exit_code()
        }
    }
}

/// `--docker-version`: one of the versions the simulator imitates.
fn parse_docker_version(text: &str) -> Result<DockerVersion, String> {
    DockerVersion::parse(text).ok_or_else(|| {
        let known: Vec<&str> = DockerVersion::ALL.iter().map(|v| v.as_str()).collect();
        format!("expected one of {}", known.join(", "))
    })
}
