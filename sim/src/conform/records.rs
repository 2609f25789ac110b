//! Where compared runs come from: the simulator, run in-process, or record files written by
//! `swarmsim run --record` and `swarmsim-live run --record` (real backends are started by the
//! CLI, not here: this crate starts no process).

use crate::record::RunRecord;
use crate::runner::{self, FailureKind, RunOptions};
use crate::scenario;
use std::path::Path;

/// The output profile the simulator prints in, as `run --record` writes it (until profiles
/// are selectable, docker 1.12's).
const SIM_DOCKER_VERSION: &str = "1.12";

/// Runs the scenario on the simulator and records it as `swarmsim run FILE --record` would.
pub fn simulate(file: &Path, seed: Option<u64>) -> Result<RunRecord, String> {
    let scenario = scenario::load(file).map_err(|e| e.to_string())?;
    let options = RunOptions { seed, ..Default::default() };
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner::run(&scenario, &options)))
        .map_err(|_| format!("the simulator crashed running {}; replay it with `swarmsim run`", file.display()))?;
    let exit_code = match report.failure.as_ref().map(|f| &f.kind) {
        None => 0,
        Some(FailureKind::Expectation) => 1,
        Some(FailureKind::Invariant) => 3,
        Some(FailureKind::Liveness) => 5,
    };
    Ok(RunRecord {
        scenario: file.display().to_string(),
        backend: "sim".into(),
        docker_version: SIM_DOCKER_VERSION.into(),
        seed: Some(report.seed),
        steps: report.steps,
        exit_code,
        failure: report.failure.map(|f| f.message),
    })
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
