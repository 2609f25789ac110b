//! One seed's result: what `--json` writes (one JSON object per line) and `merge` reads back.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
}

/// Why a seed failed. The order is severity, worst last: the sweep's exit code is the worst
/// kind's (`exit_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutcomeKind {
    /// A scenario expectation did not hold (exit 1).
    Expectation,
    /// After the faults healed the cluster did not converge in time (exit 5).
    Liveness,
    /// The same seed gave two different traces: the simulator is not deterministic (exit 4).
    Nondeterminism,
    /// The simulator panicked (exit 4): it may have hidden a safety violation, so it ranks
    /// above liveness.
    Crash,
    /// The workload's history contradicts the cluster's final state or is not linearizable: a
    /// bug found in swarm-core (exit 6).
    History,
    /// A safety invariant broke: a bug found in swarm-core (exit 3).
    Invariant,
}

impl OutcomeKind {
    pub fn exit_code(self) -> u8 {
        match self {
            OutcomeKind::Expectation => 1,
            OutcomeKind::Invariant => 3,
            OutcomeKind::Crash | OutcomeKind::Nondeterminism => 4,
            OutcomeKind::Liveness => 5,
            OutcomeKind::History => 6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OutcomeKind::Expectation => "expectation",
            OutcomeKind::Liveness => "liveness",
            OutcomeKind::Nondeterminism => "nondeterminism",
            OutcomeKind::Crash => "crash",
            OutcomeKind::Invariant => "invariant",
            OutcomeKind::History => "history",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedRecord {
    pub seed: u64,
    pub verdict: Verdict,
    pub kind: Option<OutcomeKind>,
    /// Empty when the run panicked before it could report one.
    pub trace_hash: String,
    /// With chaos: simulated milliseconds from the final heal until the cluster converged.
    pub convergence_ms: Option<u64>,
    /// The failure's first line.
    pub failure: Option<String>,
    /// "Sometimes" conditions this run reached.
    pub sometimes: BTreeSet<String>,
    /// "Sometimes" conditions this run's fault mix declared it should reach (chaos only).
    #[serde(default)]
    pub expects: BTreeSet<String>,
    /// The scenario file, as given on the command line (for replay commands).
    #[serde(default)]
    pub scenario: String,
    #[serde(default)]
    pub chaos: bool,
    /// With chaos: clients ran during the faults and their history was checked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub workload: bool,
    /// A liveness bound given with `--liveness-bound` (chaos only; `None`: the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness_bound_ms: Option<u64>,
}

impl SeedRecord {
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).expect("a record serializes")
    }

    /// The command that replays this seed.
    pub fn replay_command(&self) -> String {
        if self.chaos {
            let bound = match self.liveness_bound_ms {
                Some(ms) => format!(
                    " --liveness-bound {}",
                    crate::scenario::format_duration(std::time::Duration::from_millis(ms))
                ),
                None => String::new(),
            };
            let workload = if self.workload { " --workload" } else { "" };
            format!("swarmsim sweep {} --seeds {}..{} --chaos{workload}{bound}", self.scenario, self.seed, self.seed)
        } else {
            format!("swarmsim run {} --seed {}", self.scenario, self.seed)
        }
    }
}

/// Reads JSON-lines files into one list sorted by seed; a seed found twice is an error naming
/// both places (shards of one sweep never overlap, so a duplicate means files were mixed up).
pub fn read_json_lines(paths: &[&Path]) -> Result<Vec<SeedRecord>, String> {
    let mut by_seed: BTreeMap<u64, (SeedRecord, String)> = BTreeMap::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let place = format!("{}:{}", path.display(), i + 1);
            let record: SeedRecord =
                serde_json::from_str(line).map_err(|e| format!("{place}: not a sweep record: {e}"))?;
            if let Some((_, first)) = by_seed.get(&record.seed) {
                return Err(format!(
                    "seed {} appears twice: {first} and {place}; merge joins disjoint shards",
                    record.seed
                ));
            }
            by_seed.insert(record.seed, (record, place));
        }
    }
    Ok(by_seed.into_values().map(|(r, _)| r).collect())
}
