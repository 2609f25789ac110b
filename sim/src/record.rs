//! What each step of a run showed a user, as data: the unit that `swarmsim conform` compares
//! across backends (the simulator, swarmd, real Docker swarm), and what `run --record FILE`
//! writes as JSON.
//!
//! The transcript is for people; this is for comparison. Each backend fills it the same way, so
//! a difference between two records is a difference a user would have seen.

use serde::{Deserialize, Serialize};

/// One step of the scenario, as it went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Index of the step in the scenario's `[[step]]` list (0-based).
    pub index: usize,
    /// Line of the step's action in the scenario file (1-based), for reports.
    pub line: usize,
    pub outcome: StepOutcome,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepOutcome {
    /// A command typed on a node: the line as typed (captures substituted, continuations
    /// joined), its exit code and everything it printed.
    Run {
        on: String,
        command: String,
        exit_code: i32,
        output: String,
    },
    /// An expectation: whether it held, how long it took to (or how long was waited before
    /// giving up), and what was seen instead when it did not.
    Expect {
        text: String,
        held: bool,
        waited_ms: u64,
        seen: Option<String>,
    },
    /// A fault: the step's own description, what the backend did (`note`), and whether it
    /// could be done at all.
    Fault {
        description: String,
        note: String,
        applied: bool,
    },
    Sleep {
        ms: u64,
    },
}

/// A whole run on one backend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The scenario file, as given on the command line.
    pub scenario: String,
    /// `sim`, `swarmd` or `docker`.
    pub backend: String,
    /// The output profile the run printed in (`1.12`, `20.10`).
    pub docker_version: String,
    /// The simulator's seed; real backends have none.
    pub seed: Option<u64>,
    /// Every step that ran, in order; a run that failed stops at its failing step.
    pub steps: Vec<StepRecord>,
    /// The exit code `swarmsim run` gave (0 pass, 1 an expectation failed, ...).
    pub exit_code: i32,
    /// The failure's message, when the run failed.
    pub failure: Option<String>,
}

impl RunRecord {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a record is plain data")
    }

    pub fn from_json(text: &str) -> Result<RunRecord, String> {
        serde_json::from_str(text).map_err(|e| format!("not a run record: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{self, RunOptions};
    use std::path::Path;

    const SCENARIO: &str = r#"
name = "record"
[[node]]
name = "bd0"
addr = "192.168.0.109"

[[step]]
on = "bd0"
run = "docker swarm init --advertise-addr 192.168.0.109"

[[step]]
expect = "within 5s a leader is elected"

[[step]]
sleep = "2s"

[[step]]
on = "bd0"
run = "docker service ls --bogus"

[[step]]
expect = "bd0 is the leader"
"#;

    #[test]
    fn every_step_is_recorded_with_its_line_until_the_failing_one() {
        let scenario = crate::scenario::parse(Path::new("record.toml"), SCENARIO).unwrap();
        let report = runner::run(&scenario, &RunOptions::default());
        let lines: Vec<usize> = report.steps.iter().map(|s| s.line).collect();
        // The bogus flag fails its step (exit 0 is expected by default): the run stops there.
        assert_eq!(lines, [9, 12, 15, 19]);
        assert!(report.failure.is_some());
        match &report.steps[0].outcome {
            StepOutcome::Run { on, command, exit_code, output } => {
                assert_eq!(
                    (on.as_str(), command.as_str(), *exit_code),
                    ("bd0", "docker swarm init --advertise-addr 192.168.0.109", 0)
                );
                assert!(output.starts_with("Swarm initialized: current node ("), "{output}");
            }
            other => panic!("not a run: {other:?}"),
        }
        assert!(matches!(&report.steps[1].outcome, StepOutcome::Expect { held: true, seen: None, .. }));
        assert_eq!(report.steps[2].outcome, StepOutcome::Sleep { ms: 2000 });
        assert!(matches!(&report.steps[3].outcome, StepOutcome::Run { exit_code, .. } if *exit_code != 0));
    }

    #[test]
    fn a_run_record_reads_back_as_it_was_written() {
        let record = RunRecord {
            scenario: "scenarios/failover.toml".into(),
            backend: "docker".into(),
            docker_version: "20.10".into(),
            seed: None,
            steps: vec![
                StepRecord {
                    index: 0,
                    line: 3,
                    outcome: StepOutcome::Fault {
                        description: "kill mynginx.2".into(),
                        note: "killed".into(),
                        applied: true,
                    },
                },
                StepRecord {
                    index: 1,
                    line: 7,
                    outcome: StepOutcome::Expect {
                        text: "mynginx has 2 running tasks".into(),
                        held: false,
                        waited_ms: 30_000,
                        seen: Some("mynginx has 1 running tasks".into()),
                    },
                },
            ],
            exit_code: 1,
            failure: Some("expectation not met".into()),
        };
        assert_eq!(RunRecord::from_json(&record.to_json()).unwrap(), record);
        assert!(RunRecord::from_json("{").unwrap_err().starts_with("not a run record:"));
    }
}
