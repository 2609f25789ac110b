//! The sweep's summary: a pure function of the seed records, so a sweep and a merge of its
//! shards print the same text and exit with the same code.

use super::record::{OutcomeKind, SeedRecord, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Failing seeds listed one per line; the rest are counted (all are in `--json`).
const MAX_LISTED_FAILURES: usize = 25;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub seeds: usize,
    pub passed: usize,
    /// Failing records, by seed.
    pub failures: Vec<SeedRecord>,
    /// Convergence times of the runs that reported one, ascending.
    pub convergence_ms: Vec<u64>,
    /// Per "sometimes" condition, how many seeds reached it.
    pub sometimes_reached: BTreeMap<String, usize>,
    /// Conditions some seed's mix expected and no seed reached.
    pub sometimes_never_reached: BTreeSet<String>,
}

impl Summary {
    pub fn of(records: &[SeedRecord]) -> Summary {
        debug_assert!(
            records.windows(2).all(|w| w[0].seed < w[1].seed),
            "records come sorted by seed, without duplicates"
        );
        let mut sometimes_reached: BTreeMap<String, usize> = BTreeMap::new();
        let mut expected = BTreeSet::new();
        for r in records {
            for name in &r.sometimes {
                *sometimes_reached.entry(name.clone()).or_default() += 1;
            }
            expected.extend(r.expects.iter().cloned());
        }
        let mut convergence_ms: Vec<u64> = records.iter().filter_map(|r| r.convergence_ms).collect();
        convergence_ms.sort_unstable();
        Summary {
            seeds: records.len(),
            passed: records.iter().filter(|r| r.verdict == Verdict::Pass).count(),
            failures: records.iter().filter(|r| r.verdict == Verdict::Fail).cloned().collect(),
            convergence_ms,
            sometimes_never_reached: expected.into_iter().filter(|e| !sometimes_reached.contains_key(e)).collect(),
            sometimes_reached,
        }
    }

    /// The worst failure kind, if any seed failed.
    pub fn worst_kind(&self) -> Option<OutcomeKind> {
        self.failures.iter().filter_map(|r| r.kind).max()
    }

    /// 0 when every seed passed, else the worst kind's code.
    pub fn exit_code(&self) -> u8 {
        self.worst_kind().map(OutcomeKind::exit_code).unwrap_or(0)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{} seeds: {} passed, {} failed", self.seeds, self.passed, self.failures.len());
        if !self.failures.is_empty() {
            let mut by_kind: BTreeMap<OutcomeKind, usize> = BTreeMap::new();
            for r in &self.failures {
                *by_kind.entry(r.kind.unwrap_or(OutcomeKind::Crash)).or_default() += 1;
            }
            let counts: Vec<String> = by_kind.iter().rev().map(|(k, n)| format!("{n} {}", k.name())).collect();
            let _ = writeln!(out, "failing seeds ({}):", counts.join(", "));
            for r in self.failures.iter().take(MAX_LISTED_FAILURES) {
                let kind = r.kind.map(OutcomeKind::name).unwrap_or("?");
                let _ = writeln!(out, "  seed {:<8} {kind:<14} {}", r.seed, r.failure.as_deref().unwrap_or(""));
                let _ = writeln!(out, "  {:13} replay: {}", "", r.replay_command());
            }
            if self.failures.len() > MAX_LISTED_FAILURES {
                let _ = writeln!(
                    out,
                    "  ... and {} more (every seed is in --json)",
                    self.failures.len() - MAX_LISTED_FAILURES
                );
            }
        }
        if !self.convergence_ms.is_empty() {
            let p = |q| format_seconds(percentile(&self.convergence_ms, q));
            let _ = writeln!(
                out,
                "convergence after heal ({} runs): p50 {}  p90 {}  p99 {}  max {}",
                self.convergence_ms.len(),
                p(50),
                p(90),
                p(99),
                p(100)
            );
        }
        if !self.sometimes_reached.is_empty() {
            let reached: Vec<String> = self.sometimes_reached.iter().map(|(name, n)| format!("{name} ({n})")).collect();
            let _ = writeln!(out, "sometimes reached (seeds): {}", reached.join(", "));
        }
        if !self.sometimes_never_reached.is_empty() {
            let never: Vec<&str> = self.sometimes_never_reached.iter().map(String::as_str).collect();
            let _ = writeln!(out, "sometimes NEVER reached (expected by the fault mixes): {}", never.join(", "));
        }
        out
    }
}

/// Nearest-rank percentile of ascending `sorted` values (`q` in 1..=100).
pub fn percentile(sorted: &[u64], q: u64) -> u64 {
    assert!(!sorted.is_empty() && (1..=100).contains(&q));
    let rank = (q as usize * sorted.len()).div_ceil(100);
    sorted[rank.max(1) - 1]
}

fn format_seconds(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 50), 50);
        assert_eq!(percentile(&values, 99), 99);
        assert_eq!(percentile(&values, 100), 100);
        assert_eq!(percentile(&[7], 50), 7);
        assert_eq!(percentile(&[1, 2, 3], 90), 3);
    }

    fn record(seed: u64, kind: Option<OutcomeKind>) -> SeedRecord {
        SeedRecord {
            seed,
            verdict: if kind.is_some() { Verdict::Fail } else { Verdict::Pass },
            kind,
            trace_hash: String::new(),
            convergence_ms: None,
            failure: kind.map(|k| format!("{} went wrong", k.name())),
            sometimes: BTreeSet::new(),
            expects: BTreeSet::new(),
            scenario: "s.toml".into(),
            chaos: false,
            workload: false,
            liveness_bound_ms: None,
        }
    }

    #[test]
    fn the_exit_code_is_the_worst_kinds() {
        use OutcomeKind::*;
        let code = |kinds: &[Option<OutcomeKind>]| {
            let records: Vec<SeedRecord> = kinds.iter().enumerate().map(|(i, k)| record(i as u64, *k)).collect();
            Summary::of(&records).exit_code()
        };
        assert_eq!(code(&[None, None]), 0);
        assert_eq!(code(&[None, Some(Expectation)]), 1);
        assert_eq!(code(&[Some(Expectation), Some(Liveness)]), 5);
        assert_eq!(code(&[Some(Liveness), Some(Crash), Some(Expectation)]), 4);
        assert_eq!(code(&[Some(Crash), Some(Invariant), Some(Liveness)]), 3);
    }
}
