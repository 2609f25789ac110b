//! Where compared runs come from: the simulator, run in-process, or record files written by
//! `swarmsim run --record` and `swarmsim-live run --record` (real backends are started by the
//! CLI, not here: this crate starts no process).

use crate::record::RunRecord;
use crate::runner::{self, RunOptions};
use crate::scenario;
use std::path::Path;
use swarm_core::cli::DockerVersion;

/// Runs the scenario on the simulator and records it as `swarmsim run FILE --keep-going --record`
/// would.
pub fn simulate(file: &Path, seed: Option<u64>, version: DockerVersion) -> Result<RunRecord, String> {
    let mut scenario = scenario::load(file).map_err(|e| e.to_string())?;
    scenario.docker_version = version;
    // Every step, past failed checks: a comparison wants all a user would see.
    let options = RunOptions { seed, keep_going: true, ..Default::default() };
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner::run(&scenario, &options)))
        .map_err(|_| format!("the simulator crashed running {}; replay it with `swarmsim run`", file.display()))?;
    Ok(report.record(&file.display().to_string(), report.exit_code()))
}

pub fn read(path: &Path) -> Result<RunRecord, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    RunRecord::from_json(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The scenario a record ran, by its file's name (`walkthrough`): records made on other
/// machines name the same file by other paths.
pub fn scenario_name(record: &RunRecord) -> String {
    let path = Path::new(&record.scenario);
    path.file_stem().map_or_else(|| record.scenario.clone(), |s| s.to_string_lossy().into_owned())
}

/// Records compared together must be runs of one scenario.
pub fn check_same_scenario(records: &[RunRecord]) -> Result<(), String> {
    let names: Vec<String> = records.iter().map(scenario_name).collect();
    match names.iter().find(|n| **n != names[0]) {
        Some(other) => Err(format!("the records are runs of different scenarios: {} and {other}", names[0])),
        None => Ok(()),
    }
}
