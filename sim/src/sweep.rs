//! Sweeps: one scenario over many seeds, each seed one deterministic single-threaded run, the
//! seeds spread over N OS threads (one world per thread at a time). Results are put back in
//! seed order before anything is printed, so the summary does not depend on thread timing.
//!
//! With chaos, each seed also draws a fault plan (`chaos`), and a failing seed's plan can be
//! shrunk (`shrink`) and written out as a scenario file that fails on its own.

pub mod cli;
pub mod record;
pub mod seeds;
pub mod summary;

use crate::chaos::{self, facts::ScenarioFacts};
use crate::runner::{self, ChaosPlan, FailureKind, RunOptions, RunReport};
use crate::scenario::Scenario;
use crate::shrink::{self, render};
use crate::workload::{self, WorkloadPlan};
use record::{OutcomeKind, SeedRecord, Verdict};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    /// Draw a chaos plan per seed (swarm testing).
    pub chaos: bool,
    /// Run every seed twice with the full trace and compare the traces line by line.
    pub check_determinism: bool,
    /// The scenario file as the user named it, for replay commands.
    pub scenario_arg: String,
    /// Overrides the chaos plans' liveness bound (`DEFAULT_LIVENESS_BOUND`).
    pub liveness_bound: Option<std::time::Duration>,
    /// With chaos: clients write and read while the faults fire (the scenario's `[workload]`),
    /// and their history is checked after the heal.
    pub workload: bool,
    /// A deliberate bug switched on in every node (needs the `planted-bugs` feature).
    pub planted: Option<swarm_core::planted::PlantedBug>,
}

/// One seed's result, with the chaos plan and workload it ran (for shrinking).
#[derive(Clone, Debug)]
pub struct SeedRun {
    pub record: SeedRecord,
    pub plan: Option<ChaosPlan>,
    pub workload: Option<WorkloadPlan>,
    pub planted: Option<swarm_core::planted::PlantedBug>,
}

/// Runs one seed: the scenario, then its chaos plan if asked, catching a panic as a crash.
pub fn run_seed(scenario: &Scenario, facts: &ScenarioFacts, seed: u64, options: &SweepOptions) -> SeedRun {
    let (expects, plan) = if options.chaos {
        let (mix, mut plan) = chaos::plan_for_seed(seed, facts);
        plan.liveness_bound = options.liveness_bound.unwrap_or(plan.liveness_bound);
        (mix.expected_sometimes(), Some(plan))
    } else {
        (BTreeSet::new(), None)
    };
    let workload =
        (options.chaos && options.workload).then(|| workload::plan_for_seed(seed, facts, &scenario.workload));
    let run_options = RunOptions {
        seed: Some(seed),
        keep_trace: options.check_determinism,
        // A sweep prints no trace line: a failing seed is replayed with `run` to read them.
        hash_only: true,
        chaos: plan.clone(),
        workload: workload.clone(),
        planted: options.planted,
        ..Default::default()
    };
    let first = guarded_run(scenario, &run_options);
    let mut record = match &first {
        Ok(report) => record_of(report),
        Err((kind, message)) => failed_record(seed, *kind, message),
    };
    if options.check_determinism {
        let second = guarded_run(scenario, &run_options);
        if let Some(divergence) = first_divergence(&first, &second) {
            record.verdict = Verdict::Fail;
            record.kind = Some(OutcomeKind::Nondeterminism);
            record.failure = Some(divergence);
        }
    }
    record.expects = expects;
    record.scenario = options.scenario_arg.clone();
    record.chaos = options.chaos;
    record.workload = workload.is_some();
    record.liveness_bound_ms = options.liveness_bound.filter(|_| options.chaos).map(|d| d.as_millis() as u64);
    SeedRun { record, plan, workload, planted: options.planted }
}

fn record_of(report: &RunReport) -> SeedRecord {
    let (verdict, kind, failure) = match &report.failure {
        None => (Verdict::Pass, None, None),
        Some(f) => (Verdict::Fail, Some(outcome_kind(&f.kind)), Some(first_line(&f.message))),
    };
    SeedRecord {
        seed: report.seed,
        verdict,
        kind,
        trace_hash: report.trace_hash.clone(),
        convergence_ms: report.convergence.map(|d| d.as_millis() as u64),
        failure,
        sometimes: report.sometimes.clone(),
        expects: BTreeSet::new(),
        scenario: String::new(),
        chaos: false,
        workload: false,
        liveness_bound_ms: None,
    }
}

fn failed_record(seed: u64, kind: OutcomeKind, message: &str) -> SeedRecord {
    SeedRecord {
        seed,
        verdict: Verdict::Fail,
        kind: Some(kind),
        trace_hash: String::new(),
        convergence_ms: None,
        failure: Some(first_line(message)),
        sometimes: BTreeSet::new(),
        expects: BTreeSet::new(),
        scenario: String::new(),
        chaos: false,
        workload: false,
        liveness_bound_ms: None,
    }
}

pub fn outcome_kind(kind: &FailureKind) -> OutcomeKind {
    match kind {
        FailureKind::Expectation => OutcomeKind::Expectation,
        FailureKind::Invariant => OutcomeKind::Invariant,
        FailureKind::Liveness => OutcomeKind::Liveness,
        FailureKind::History => OutcomeKind::History,
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_string()
}

thread_local! {
    /// Where the last panic on this thread happened (set by `quiet_panic_hook`).
    static PANIC_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the default panic hook (which prints to stderr, through the progress bar) with
/// one that only remembers where the panic happened; `run_seed` reports it with the seed.
/// For the CLI: tests keep the default hook so their own failures print.
pub fn quiet_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!("{}:{}", l.file(), l.line()));
        PANIC_LOCATION.with(|p| *p.borrow_mut() = location);
    }));
}

/// `runner::run`, with a panic turned into (kind, message): a panic naming an invariant is a
/// safety violation (as `swarmsim run` classes it), any other a simulator crash.
pub fn guarded_run(scenario: &Scenario, options: &RunOptions) -> Result<RunReport, (OutcomeKind, String)> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner::run(scenario, options))).map_err(|payload| {
        let what = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into());
        let location = PANIC_LOCATION.with(|p| p.borrow_mut().take()).map(|l| format!(" (at {l})")).unwrap_or_default();
        let kind = if what.contains("invariant") { OutcomeKind::Invariant } else { OutcomeKind::Crash };
        (kind, format!("panicked: {}{location}", first_line(&what)))
    })
}

/// Where two runs of one seed part: the first differing trace line, or a differing verdict.
fn first_divergence(
    a: &Result<RunReport, (OutcomeKind, String)>,
    b: &Result<RunReport, (OutcomeKind, String)>,
) -> Option<String> {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            let longest = a.trace_lines.len().max(b.trace_lines.len());
            for i in 0..longest {
                let (x, y) = (a.trace_lines.get(i), b.trace_lines.get(i));
                if x != y {
                    let show =
                        |l: Option<&String>| l.map(|s| format!("`{s}`")).unwrap_or_else(|| "(end of trace)".into());
                    return Some(format!(
                        "trace diverges at line {}: first run {}, second run {}",
                        i + 1,
                        show(x),
                        show(y)
                    ));
                }
            }
            (a.trace_hash != b.trace_hash)
                .then(|| format!("same trace lines, different hashes {} and {}", a.trace_hash, b.trace_hash))
        }
        (Err(x), Err(y)) if x == y => None,
        (x, y) => {
            let verdict = |r: &Result<RunReport, (OutcomeKind, String)>| match r {
                Ok(_) => "finished".to_string(),
                Err((_, m)) => m.clone(),
            };
            Some(format!("one run {}, the other {}", verdict(x), verdict(y)))
        }
    }
}

/// Runs `job` on every item over `threads` OS threads; `on_done` sees each result as it comes
/// (in completion order, for a progress bar); the results come back in item order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    job: impl Fn(&T) -> R + Sync,
    mut on_done: impl FnMut(&R),
) -> Vec<R> {
    assert!(threads >= 1, "at least one thread");
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        for _ in 0..threads.min(items.len()) {
            let sender = sender.clone();
            let (next, job) = (&next, &job);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                if sender.send((i, job(item))).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        for (i, result) in receiver {
            on_done(&result);
            results[i] = Some(result);
        }
    });
    results.into_iter().map(|r| r.expect("every item ran")).collect()
}

/// Sweeps `seeds` (ascending) and returns one run per seed, in seed order.
pub fn sweep(
    scenario: &Scenario,
    seeds: &[u64],
    options: &SweepOptions,
    threads: usize,
    on_done: impl FnMut(&SeedRun),
) -> Vec<SeedRun> {
    debug_assert!(seeds.windows(2).all(|w| w[0] < w[1]), "seeds ascend");
    let facts = ScenarioFacts::of(scenario);
    parallel_map(seeds, threads, |seed| run_seed(scenario, &facts, *seed, options), on_done)
}

/// A failing chaos seed, shrunk and written as a scenario file.
#[derive(Clone, Debug)]
pub struct ShrunkCase {
    pub seed: u64,
    pub kind: OutcomeKind,
    pub faults_before: usize,
    pub shrunk: shrink::Shrunk,
    pub file: PathBuf,
    /// The written file's own verdict under `swarmsim run` (`None`: it passed).
    pub file_fails_with: Option<OutcomeKind>,
}

/// Shrinks a failing chaos seed's plan (same seed, same failure kind) and writes the result to
/// `dir/<scenario>-seed<N>.toml`, then runs that file once to say whether it fails on its own.
pub fn shrink_and_write(
    scenario: &Scenario,
    failing: &SeedRun,
    dir: &Path,
    max_replays: usize,
) -> Result<ShrunkCase, String> {
    let plan = failing.plan.as_ref().ok_or("only chaos seeds are shrunk")?;
    let kind = failing.record.kind.ok_or("only failing seeds are shrunk")?;
    let seed = failing.record.seed;
    let shrunk = shrink::shrink(plan, max_replays, |candidate| {
        let options = RunOptions {
            seed: Some(seed),
            chaos: Some(candidate.clone()),
            workload: failing.workload.clone(),
            planted: failing.planted,
            ..Default::default()
        };
        fails_with(&guarded_run(scenario, &options)) == Some(kind)
    });
    let text =
        render::scenario_with_faults(scenario, seed, &shrunk.plan, failing.record.failure.as_deref().unwrap_or(""));
    let stem =
        scenario.path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_else(|| scenario.name.clone());
    let file = dir.join(format!("{stem}-seed{seed}.toml"));
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    std::fs::write(&file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let written = crate::scenario::parse(&file, &text)
        .map_err(|e| format!("the shrunk scenario does not parse (a renderer bug): {e}"))?;
    let file_fails_with = fails_with(&guarded_run(&written, &RunOptions::default()));
    Ok(ShrunkCase { seed, kind, faults_before: plan.faults.len(), shrunk, file, file_fails_with })
}

fn fails_with(result: &Result<RunReport, (OutcomeKind, String)>) -> Option<OutcomeKind> {
    match result {
        Ok(report) => report.failure.as_ref().map(|f| outcome_kind(&f.kind)),
        Err((kind, _)) => Some(*kind),
    }
}
