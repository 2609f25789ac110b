//! Sweeps, shards, merge, shrinking and the CLI's bad-input handling, on small scenarios.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use swarmsim::faults::Fault;
use swarmsim::runner::{ChaosPlan, RunOptions};
use swarmsim::scenario::{self, Scenario};
use swarmsim::sweep::record::{read_json_lines, OutcomeKind, SeedRecord};
use swarmsim::sweep::seeds::{SeedRange, Shard};
use swarmsim::sweep::summary::Summary;
use swarmsim::sweep::{self, SeedRun, SweepOptions};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sweep").join(name)
}

fn load(path: &Path) -> Scenario {
    scenario::load(path).unwrap_or_else(|e| panic!("{e}"))
}

fn chaos_options(path: &Path) -> SweepOptions {
    SweepOptions { chaos: true, scenario_arg: path.display().to_string(), ..Default::default() }
}

fn records(runs: &[SeedRun]) -> Vec<SeedRecord> {
    runs.iter().map(|r| r.record.clone()).collect()
}

#[test]
fn a_chaos_sweep_gives_the_same_records_and_summary_twice_whatever_the_thread_count() {
    let path = fixture("web.toml");
    let scenario = load(&path);
    let seeds: Vec<u64> = (1..=6).collect();
    let first = records(&sweep::sweep(&scenario, &seeds, &chaos_options(&path), 2, |_| {}));
    let second = records(&sweep::sweep(&scenario, &seeds, &chaos_options(&path), 1, |_| {}));
    assert_eq!(first, second);
    assert_eq!(first.iter().map(|r| r.seed).collect::<Vec<_>>(), seeds, "records come back in seed order");
    assert_eq!(Summary::of(&first).render(), Summary::of(&second).render());
    assert!(first.iter().all(|r| r.chaos), "every record says it ran under chaos (merge needs it for replay commands)");
}

#[test]
fn shards_are_disjoint_and_cover_the_range() {
    let range = SeedRange::parse("1..50").unwrap();
    for count in 1..=5 {
        let mut all: Vec<u64> = (1..=count).flat_map(|index| Shard { index, count }.seeds(range)).collect();
        all.sort_unstable();
        assert_eq!(all, (1..=50).collect::<Vec<u64>>(), "{count} shards");
    }
    assert_eq!(Shard::parse("2/3").unwrap().seeds(range)[..3], [1, 4, 7], "seed s is in shard (s mod N) + 1");
}

#[test]
fn checking_determinism_runs_each_seed_twice_and_finds_no_divergence() {
    let path = fixture("web.toml");
    let scenario = load(&path);
    let options =
        SweepOptions { chaos: true, check_determinism: true, scenario_arg: "web.toml".into(), ..Default::default() };
    for run in sweep::sweep(&scenario, &[3, 4], &options, 2, |_| {}) {
        assert_ne!(run.record.kind, Some(OutcomeKind::Nondeterminism), "{:?}", run.record.failure);
    }
}

fn swarmsim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_swarmsim"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the swarmsim binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Everything after the first line (which names the command).
fn body(stdout: &str) -> &str {
    stdout.split_once('\n').map(|(_, rest)| rest).unwrap_or("")
}

#[test]
fn merging_two_shards_gives_the_unsharded_sweeps_summary_and_exit_code() {
    let dir = tempdir("merge");
    let json = |name: &str| dir.join(name).display().to_string();
    let shrunk = dir.join("shrunk").display().to_string();
    let sweep_with = |extra: &[&str]| {
        let mut args =
            vec!["sweep", "tests/sweep/web.toml", "--seeds", "1..8", "--chaos", "-j", "2", "--shrink-out", &shrunk];
        args.extend_from_slice(extra);
        swarmsim(&args)
    };
    let (all_code, all_out, _) = sweep_with(&["--json", &json("all.jsonl")]);
    sweep_with(&["--shard", "1/2", "--json", &json("a.jsonl")]);
    sweep_with(&["--shard", "2/2", "--json", &json("b.jsonl")]);
    let (merge_code, merge_out, merge_err) = swarmsim(&["merge", &json("a.jsonl"), &json("b.jsonl")]);
    assert_eq!(merge_code, all_code, "{merge_err}");
    let summary_of_sweep = body(&all_out).split("shrunk (").next().unwrap();
    assert_eq!(body(&merge_out), summary_of_sweep);
    assert!(summary_of_sweep.starts_with("8 seeds: "), "{all_out}");

    let whole = read_json_lines(&[&dir.join("all.jsonl")]).unwrap();
    let joined = read_json_lines(&[&dir.join("b.jsonl"), &dir.join("a.jsonl")]).unwrap();
    assert_eq!(whole, joined);
}

#[test]
fn merge_refuses_a_seed_found_twice() {
    let dir = tempdir("duplicate");
    let file = dir.join("one.jsonl").display().to_string();
    let (code, _, _) = swarmsim(&["sweep", "tests/sweep/web.toml", "--seeds", "1..2", "--json", &file]);
    assert_eq!(code, 0);
    let (code, out, err) = swarmsim(&["merge", &file, &file]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("seed 1 appears twice"), "{err}");
}

#[test]
fn bad_cli_input_exits_2_with_a_one_line_reason() {
    let cases: [(&[&str], &str); 7] = [
        (&["sweep", "tests/sweep/web.toml", "--seeds", "9..1"], "the first seed is after the last"),
        (&["sweep", "tests/sweep/web.toml", "--seeds", "a..b"], "expected FIRST..LAST"),
        (&["sweep", "tests/sweep/web.toml", "--seeds", "1..4", "--shard", "3/2"], "K must be between 1 and N"),
        (&["sweep", "tests/sweep/web.toml", "--seeds", "1..4", "-j", "0"], "at least one thread"),
        (&["sweep", "tests/sweep/web.toml", "--seeds", "1..4", "-j", "many"], "invalid value 'many'"),
        (&["sweep", "tests/sweep/web.toml"], "--seeds"),
        (&["merge", "no/such/file.jsonl"], "cannot read no/such/file.jsonl"),
    ];
    for (args, reason) in cases {
        let (code, out, err) = swarmsim(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(out, "", "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got:\n{err}");
        assert!(err.contains(reason), "{args:?}: {err}");
    }
}

/// A plan built to fail: a crash of bd1 among benign faults, and a liveness bound too short
/// for the crashed host to rejoin (one simulated second).
fn planted_plan() -> ChaosPlan {
    let ms = Duration::from_millis;
    let slow = |node: &str, delay_ms| Fault::SlowDisk { node: node.into(), delay: ms(delay_ms) };
    let faults = vec![
        (ms(0), slow("bd0", 5)),
        (ms(1_000), Fault::Kill { target: "nothing.1".into(), node: None }),
        (ms(2_000), slow("bd2", 3)),
        (
            ms(5_000),
            Fault::Link {
                from: "bd0".into(),
                to: "bd2".into(),
                both: false,
                drop: 0.0,
                duplicate: 0.0,
                extra_delay: ms(2),
                extra_jitter: ms(1),
            },
        ),
        (ms(9_000), Fault::Heal),
        (ms(12_000), Fault::Crash { node: "bd1".into() }),
        (ms(15_000), slow("bd0", 1)),
        (ms(20_000), Fault::Heal),
        (ms(30_000), slow("bd2", 2)),
    ];
    ChaosPlan { faults, liveness_bound: Duration::from_secs(1) }
}

#[test]
fn shrinking_reduces_a_planted_failure_to_the_fault_that_causes_it_and_writes_a_failing_file() {
    let path = fixture("web.toml");
    let scenario = load(&path);
    let seed = 5;
    let plan = planted_plan();
    let options = RunOptions { seed: Some(seed), chaos: Some(plan.clone()), ..Default::default() };
    let report = sweep::guarded_run(&scenario, &options).expect("no panic");
    let failure = report.failure.as_ref().expect("the planted plan fails");
    let kind = sweep::outcome_kind(&failure.kind);
    assert_eq!(kind, OutcomeKind::Liveness, "{}", failure.message);

    let mut record = SeedRecord {
        seed,
        verdict: swarmsim::sweep::record::Verdict::Fail,
        kind: Some(kind),
        trace_hash: report.trace_hash.clone(),
        convergence_ms: None,
        failure: Some(failure.message.clone()),
        sometimes: Default::default(),
        expects: Default::default(),
        scenario: path.display().to_string(),
        chaos: true,
        workload: false,
        liveness_bound_ms: None,
    };
    record.failure = Some(failure.message.lines().next().unwrap().to_string());
    let dir = tempdir("shrink");
    let case = sweep::shrink_and_write(
        &scenario,
        &SeedRun { record, plan: Some(plan), workload: None, planted: None },
        &dir,
        200,
    )
    .unwrap();
    let faults: Vec<&Fault> = case.shrunk.plan.faults.iter().map(|(_, f)| f).collect();
    // The crash, and possibly a `heal` that only keeps bd1 down long enough to be noticed.
    assert_eq!(faults[0], &Fault::Crash { node: "bd1".into() }, "after {} replays: {faults:?}", case.shrunk.replays);
    assert!(faults[1..].iter().all(|f| **f == Fault::Heal) && faults.len() <= 2, "{faults:?}");
    assert!(!case.shrunk.budget_exhausted);
    assert!(case.file_fails_with.is_some(), "the written file fails on its own: {}", case.file.display());
    let text = std::fs::read_to_string(&case.file).unwrap();
    assert!(text.contains("seed = 5\n") && text.contains("crash = \"bd1\""), "{text}");
}

fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("sweep-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
