//! SCRATCH COPY of the lead's `sim/src/record.rs` interface, so `conform` compiles before
//! main has it; deleted in favour of main's file when main is merged into h-conform.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StepRecord {
    pub index: usize,
    pub line: usize,
    pub outcome: StepOutcome,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepOutcome {
    Run { on: String, command: String, exit_code: i32, output: String },
    Expect { text: String, held: bool, waited_ms: u64, seen: Option<String> },
    Fault { description: String, note: String, applied: bool },
    Sleep { ms: u64 },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub scenario: String,
    pub backend: String,
    pub docker_version: String,
    pub seed: Option<u64>,
    pub steps: Vec<StepRecord>,
    pub exit_code: i32,
    pub failure: Option<String>,
}
