//! The `sweep` and `merge` subcommands of `swarmsim` (main.rs only dispatches here).

use super::record::{read_json_lines, OutcomeKind, SeedRecord};
use super::seeds::{SeedRange, Shard};
use super::summary::Summary;
use super::{quiet_panic_hook, shrink_and_write, sweep as run_sweep, SeedRun, SweepOptions};
use crate::scenario;
use crate::shrink::DEFAULT_MAX_REPLAYS;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Failing chaos seeds shrunk per sweep by default: each shrink replays up to `DEFAULT_MAX_REPLAYS` runs.
const MAX_SHRUNK_SEEDS: usize = 10;

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario file (TOML).
    pub file: PathBuf,
    /// Seeds to run: FIRST..LAST, both included (e.g. 1..1000), or one seed.
    #[arg(long, value_name = "FIRST..LAST")]
    pub seeds: String,
    /// Worker threads, one world each (default: the machine's cores).
    #[arg(short = 'j', long = "jobs", value_name = "N")]
    pub jobs: Option<usize>,
    /// Swarm testing: each seed draws a fault mix and a fault schedule run after the steps,
    /// then everything heals and the cluster must converge; failing seeds are shrunk.
    #[arg(long)]
    pub chaos: bool,
    /// With --chaos: clients write and read while the faults fire (the scenario's `[workload]`
    /// table, or 3 clients), and their history is checked after the heal.
    #[arg(long, requires = "chaos")]
    pub workload: bool,
    /// Switch a planted bug on in every node (a swarmsim built with `--features planted-bugs`),
    /// to measure how a sweep catches it.
    #[arg(long, value_name = "BUG", value_parser = parse_planted)]
    pub planted: Option<swarm_core::planted::PlantedBug>,
    /// Run only the K-th of N disjoint slices: seed s belongs to shard (s mod N) + 1.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Write one JSON line per seed to this file (for `swarmsim merge`).
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Run every seed twice with the full trace and report the first diverging line.
    #[arg(long)]
    pub check_determinism: bool,
    /// With chaos: how long after the final heal the cluster has to converge (default 2m).
    #[arg(long, value_name = "DURATION")]
    pub liveness_bound: Option<String>,
    /// How many failing chaos seeds to shrink, the lowest first (0: none).
    #[arg(long, value_name = "N", default_value_t = MAX_SHRUNK_SEEDS)]
    pub shrink_max: usize,
    /// Where shrunk failing chaos cases are written as scenario files.
    #[arg(long, value_name = "DIR", default_value = "target/shrunk")]
    pub shrink_out: PathBuf,
}

pub fn parse_planted(name: &str) -> Result<swarm_core::planted::PlantedBug, String> {
    swarm_core::planted::PlantedBug::parse(name).ok_or_else(|| {
        let known: Vec<&str> = swarm_core::planted::PlantedBug::ALL.iter().map(|b| b.name()).collect();
        format!("expected one of {}", known.join(", "))
    })
}

/// Whether the command line is a `sweep` or `merge` (their usage errors are one line).
pub fn is_sweep_invocation() -> bool {
    matches!(std::env::args().nth(1).as_deref(), Some("sweep" | "merge"))
}

fn bad_input(why: &str) -> ExitCode {
    eprintln!("swarmsim: {why}");
    ExitCode::from(2)
}

pub fn sweep(args: SweepArgs) -> ExitCode {
    let range = match SeedRange::parse(&args.seeds) {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    let shard = match args.shard.as_deref().map(Shard::parse).transpose() {
        Ok(s) => s.unwrap_or(Shard::WHOLE),
        Err(e) => return bad_input(&e),
    };
    let threads = match args.jobs {
        Some(0) => return bad_input("-j 0: a sweep needs at least one thread"),
        Some(n) => n,
        None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let liveness_bound = match args.liveness_bound.as_deref().map(scenario::parse_duration).transpose() {
        Ok(bound) => bound,
        Err(e) => return bad_input(&format!("--liveness-bound: {e}")),
    };
    let scenario = match scenario::load(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut json_out = match &args.json {
        None => None,
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Some(std::io::BufWriter::new(f)),
            Err(e) => return bad_input(&format!("cannot write {}: {e}", path.display())),
        },
    };
    let seeds = shard.seeds(range);
    let options = SweepOptions {
        chaos: args.chaos,
        check_determinism: args.check_determinism,
        scenario_arg: args.file.display().to_string(),
        liveness_bound,
        workload: args.workload,
        planted: args.planted,
    };
    quiet_panic_hook();

    let started = std::time::Instant::now(); // wall time for the rate on stderr only
    let bar = progress_bar(seeds.len() as u64);
    let mut failed = 0;
    let runs = run_sweep(&scenario, &seeds, &options, threads, |run| {
        if run.record.kind.is_some() {
            failed += 1;
            bar.set_message(format!("{failed} failed"));
        }
        bar.inc(1);
    });
    bar.finish_and_clear();
    let wall = started.elapsed();

    let records: Vec<SeedRecord> = runs.iter().map(|r| r.record.clone()).collect();
    if let (Some(out), Some(path)) = (json_out.as_mut(), &args.json) {
        let written = records.iter().try_for_each(|r| writeln!(out, "{}", r.to_json_line())).and_then(|_| out.flush());
        if let Err(e) = written {
            return bad_input(&format!("cannot write {}: {e}", path.display()));
        }
    }
    let mut mode = vec![];
    if args.chaos {
        mode.push("chaos".to_string());
    }
    if args.workload {
        mode.push("workload".to_string());
    }
    if let Some(bug) = args.planted {
        mode.push(format!("planted {}", bug.name()));
    }
    if args.check_determinism {
        mode.push("each seed twice".to_string());
    }
    if shard != Shard::WHOLE {
        mode.push(format!("shard {shard}"));
    }
    let mode = if mode.is_empty() { String::new() } else { format!(" ({})", mode.join(", ")) };
    println!("sweep {} seeds {range}{mode}", args.file.display());
    let summary = Summary::of(&records);
    print!("{}", summary.render());
    if args.chaos {
        print_shrunk_cases(&scenario, &runs, &args.shrink_out, threads, args.shrink_max);
    }
    let rate = seeds.len() as f64 / wall.as_secs_f64().max(1e-9);
    eprintln!("{} seeds in {:.2}s on {threads} thread(s): {rate:.1} seeds/s", seeds.len(), wall.as_secs_f64());
    ExitCode::from(summary.exit_code())
}

fn progress_bar(len: u64) -> ProgressBar {
    // indicatif draws nothing when stderr is not a terminal (CI logs, pipes).
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} seeds  {per_sec}  eta {eta}  {msg}")
        .expect("a valid template");
    bar.set_style(style);
    bar
}

fn print_shrunk_cases(scenario: &scenario::Scenario, runs: &[SeedRun], dir: &Path, threads: usize, max: usize) {
    let failing: Vec<&SeedRun> = runs
        .iter()
        .filter(|r| r.plan.is_some() && matches!(r.record.kind, Some(k) if k != OutcomeKind::Nondeterminism))
        .collect();
    if failing.is_empty() || max == 0 {
        return;
    }
    let chosen = &failing[..failing.len().min(max)];
    println!("shrunk ({} of {} failing chaos seeds, written to {}):", chosen.len(), failing.len(), dir.display());
    let cases =
        super::parallel_map(chosen, threads, |run| shrink_and_write(scenario, run, dir, DEFAULT_MAX_REPLAYS), |_| {});
    for (run, case) in chosen.iter().zip(cases) {
        match case {
            Err(e) => println!("  seed {}: cannot shrink: {e}", run.record.seed),
            Ok(case) => {
                let budget = if case.shrunk.budget_exhausted { " (replay budget reached)" } else { "" };
                println!(
                    "  seed {} ({}): {} faults -> {} in {} replays{budget}",
                    case.seed,
                    case.kind.name(),
                    case.faults_before,
                    case.shrunk.plan.faults.len(),
                    case.shrunk.replays
                );
                match case.file_fails_with {
                    Some(kind) => {
                        println!("    replay: swarmsim run {}   (fails: {})", case.file.display(), kind.name())
                    }
                    None => println!(
                        "    wrote {}, but it passes on its own; replay: {}",
                        case.file.display(),
                        run.record.replay_command()
                    ),
                }
            }
        }
    }
}

pub fn merge(files: &[PathBuf]) -> ExitCode {
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let records = match read_json_lines(&paths) {
        Ok(r) => r,
        Err(e) => return bad_input(&e),
    };
    println!("merge of {} file(s)", files.len());
    let summary = Summary::of(&records);
    print!("{}", summary.render());
    ExitCode::from(summary.exit_code())
}
