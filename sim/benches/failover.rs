//! Simulated seconds per wall second for `scenarios/failover.toml` (3 nodes, ~10 simulated
//! minutes), on one core. Run: `cargo bench -p swarmsim --bench failover`.
//! `SWARMSIM_BENCH_RUNS` sets the number of runs (default 20; CI's quick mode uses 3).
//!
//! This is the one place the sim crate reads the wall clock: to time itself, outside the run.

use std::path::Path;
use std::time::Instant as WallClock;
use swarmsim::runner::{self, RunOptions};
use swarmsim::scenario;

fn main() {
    let runs: u64 = std::env::var("SWARMSIM_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/failover.toml");
    let scenario = scenario::load(&path).expect("failover.toml parses");
    // Warm up once (page faults, allocator).
    let warm = runner::run(&scenario, &RunOptions::default());
    assert!(warm.passed(), "failover must pass to be benchmarked");
    let mut sim_ms = 0u64;
    let mut events = 0u64;
    let started = WallClock::now();
    for seed in 0..runs {
        let report = runner::run(&scenario, &RunOptions { seed: Some(1000 + seed), ..Default::default() });
        assert!(report.passed(), "seed {} failed", 1000 + seed);
        sim_ms += report.sim_time.as_millis();
        events += report.events;
    }
    let wall = started.elapsed();
    let sim_s = sim_ms as f64 / 1000.0;
    let wall_s = wall.as_secs_f64();
    println!("failover.toml: {runs} runs, {sim_s:.0} simulated s in {wall_s:.3} wall s");
    println!("  {:.0}x real time (simulated seconds per wall second)", sim_s / wall_s);
    println!(
        "  {:.2} ms wall per run, {:.0} events per run, {:.2} us per event",
        wall_s * 1000.0 / runs as f64,
        events as f64 / runs as f64,
        wall_s * 1e6 / events as f64
    );
}
