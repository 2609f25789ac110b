//! The workload during chaos: deterministic per seed, recorded in the trace, configured by a
//! scenario's `[workload]` table.

use std::path::Path;
use swarmsim::chaos::{self, facts::ScenarioFacts};
use swarmsim::runner::{self, RunOptions};
use swarmsim::scenario;
use swarmsim::workload::{self, OpKind};

fn leader_loss() -> scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/leader-loss.toml");
    scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn chaos_with_workload(scenario: &scenario::Scenario, seed: u64) -> RunOptions {
    let facts = ScenarioFacts::of(scenario);
    RunOptions {
        seed: Some(seed),
        keep_trace: true,
        chaos: Some(chaos::plan_for_seed(seed, &facts).1),
        workload: Some(workload::plan_for_seed(seed, &facts, &scenario.workload)),
        ..Default::default()
    }
}

#[test]
fn the_same_seed_with_the_workload_gives_the_same_trace_and_history() {
    let scenario = leader_loss();
    let a = runner::run(&scenario, &chaos_with_workload(&scenario, 3));
    let b = runner::run(&scenario, &chaos_with_workload(&scenario, 3));
    assert!(a.passed(), "{:?}", a.failure);
    assert_eq!(a.trace_hash, b.trace_hash);
    assert_eq!(a.history, b.history);
    assert!(a.history.len() > 100, "the clients ran: {} calls", a.history.len());
    // Every call is in the trace (so the hash covers the history), invoked and ended.
    let ends = a.trace_lines.iter().filter(|l| l.contains(" workload op#") && !l.contains(" invoke: ")).count();
    assert_eq!(ends, a.history.len());
    // The workload changes the run: without it the same seed's chaos gives another trace.
    let without = RunOptions { workload: None, ..chaos_with_workload(&scenario, 3) };
    assert_ne!(runner::run(&scenario, &without).trace_hash, a.trace_hash);
}

#[test]
fn a_workload_table_sets_clients_think_time_and_mix() {
    let text = |workload: &str| {
        format!("name = \"w\"\n[[node]]\nname = \"bd0\"\naddr = \"10.0.0.1\"\n[[step]]\nsleep = \"1s\"\n{workload}")
    };
    let path = Path::new("w.toml");
    let parsed = scenario::parse(
        path,
        &text("[workload]\nclients = 2\nthink = \"250ms\"\nmix = { service-create = 3, service-ls = 1 }\n"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed.workload.clients, 2);
    assert_eq!(parsed.workload.think, std::time::Duration::from_millis(250));
    assert_eq!(parsed.workload.mix[&OpKind::ServiceCreate], 3);
    assert_eq!(parsed.workload.mix[&OpKind::ServiceRm], 0, "kinds the mix leaves out are not drawn");
    let error = scenario::parse(path, &text("[workload]\nmix = { service-crate = 1 }\n")).unwrap_err().to_string();
    assert!(error.contains("unknown operation `service-crate`"), "{error}");
}

#[test]
fn run_with_the_workload_on_the_simulator_needs_chaos_and_writes_the_history_asked_for() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/leader-loss.toml");
    let swarmsim = env!("CARGO_BIN_EXE_swarmsim");
    // Without --chaos the simulator's clients would have no phase to run in (a real backend's
    // run during the steps: the flag reaches swarmsim-live unchanged).
    let alone = std::process::Command::new(swarmsim).arg("run").arg(&file).arg("--workload").output().expect("runs");
    assert_eq!(alone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&alone.stderr).contains("--workload on the simulator needs --chaos"));
    let history = std::env::temp_dir().join(format!("swarmsim-history-{}.txt", std::process::id()));
    let run = std::process::Command::new(swarmsim)
        .arg("run")
        .arg(&file)
        .args(["--seed", "3", "--chaos", "--workload", "--history"])
        .arg(&history)
        .output()
        .expect("runs");
    let written = std::fs::read_to_string(&history).unwrap_or_default();
    let _ = std::fs::remove_file(&history);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stdout));
    let expected = runner::run(&leader_loss(), &chaos_with_workload(&leader_loss(), 3)).history;
    assert!(!expected.is_empty());
    let lines: Vec<String> = expected.iter().map(|e| e.describe()).collect();
    assert_eq!(written.lines().collect::<Vec<_>>(), lines, "one line per call, as the run recorded them");
}
