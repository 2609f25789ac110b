//! `swarmsim conform`: the same scenario on several backends (the simulator, swarmd, real
//! docker), compared as a user sees it, step by step.
//!
//! A run is a `RunRecord`: per step, a `run`'s exit code and output, an `expect`'s verdict, a
//! fault's note. Each run is normalised on its own (`normalise`: IDs → `ID1, ID2, …`, ages →
//! `<age>`), outputs are split into text and tables (`table`), and every pair of runs is
//! compared step by step (`compare`). A difference listed with its reason in
//! `conformance/known-differences.toml` (`known`) is known; any other is unexplained and fails
//! the comparison. `report` prints the verdicts, the summary, JSON and Markdown rows.

pub mod compare;
pub mod known;
pub mod normalise;
pub mod records;
pub mod report;
pub mod table;

use crate::record::RunRecord;
use compare::{compare_step, observe, IdPairing, Seen};
use known::{Context, KnownDifferences};
use report::{Conformance, Found, PairStep, PairSummary, RunSummary, StaleEntry, StepReport, Verdict};

/// A name per run for the report: its backend, and its seed (or position) when two runs are
/// of the same backend (`sim@1`, `sim@7`).
pub fn labels(records: &[RunRecord]) -> Vec<String> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let same_backend: Vec<&RunRecord> = records.iter().filter(|o| o.backend == r.backend).collect();
            if same_backend.len() == 1 {
                r.backend.clone()
            } else if same_backend.iter().filter(|o| o.seed == r.seed).count() == 1 && r.seed.is_some() {
                format!("{}@{}", r.backend, r.seed.unwrap_or_default())
            } else {
                format!("{}#{}", r.backend, i + 1)
            }
        })
        .collect()
}

/// Compares every pair of runs (in the order given) step by step and explains what it can.
pub fn conform(records: &[RunRecord], known: &KnownDifferences) -> Conformance {
    let labels = labels(records);
    let scenario = records.first().map(records::scenario_name).unwrap_or_default();
    let seen: Vec<Vec<Seen>> = records.iter().map(observe).collect();
    let step_count = seen.iter().map(Vec::len).max().unwrap_or(0);
    let mut used = vec![0usize; known.entries.len()];
    let mut steps: Vec<StepReport> = (0..step_count)
        .map(|i| {
            let first = seen.iter().find_map(|s| s.get(i)).expect("some run reached the step");
            StepReport { index: i, line: first.line, title: first.title.clone(), pairs: Vec::new() }
        })
        .collect();
    let mut pairs = Vec::new();
    for l in 0..records.len() {
        for r in l + 1..records.len() {
            let mut ids = IdPairing::default();
            let mut summary = PairSummary::new(&labels[l], &labels[r]);
            for step in steps.iter_mut() {
                let comparison = compare_step(seen[l].get(step.index), seen[r].get(step.index), &mut ids);
                let at = Context {
                    scenario: &scenario,
                    backends: [&records[l].backend, &records[r].backend],
                    line: step.line,
                    command: &step.title,
                };
                let found: Vec<Found> = comparison
                    .differences
                    .into_iter()
                    .map(|difference| {
                        let entry = known.entries.iter().position(|e| e.explains(&at, &difference));
                        if let Some(e) = entry {
                            used[e] += 1;
                        }
                        Found {
                            known: entry.map(|e| known.entries[e].reason.clone()),
                            known_at: entry.map(|e| format!("{}:{}", known.path.display(), known.entries[e].line)),
                            difference,
                        }
                    })
                    .collect();
                let pair_step = PairStep {
                    left: labels[l].clone(),
                    right: labels[r].clone(),
                    verdict: Verdict::of(&found),
                    differences: found,
                    columns_only_left: comparison.columns_only_left,
                    columns_only_right: comparison.columns_only_right,
                };
                summary.count(&pair_step);
                step.pairs.push(pair_step);
            }
            pairs.push(summary);
        }
    }
    let backend_pairs: Vec<[&str; 2]> = (0..records.len())
        .flat_map(|l| (l + 1..records.len()).map(move |r| (l, r)))
        .map(|(l, r)| [records[l].backend.as_str(), records[r].backend.as_str()])
        .collect();
    let stale = known
        .entries
        .iter()
        .zip(&used)
        // Only an entry tied to one step of one scenario can be judged stale from one run: an
        // entry for a kind of step in every scenario (a `command` without a `scenario`) may
        // simply have nothing to match here.
        .filter(|(e, _)| e.scenario.is_some() || matches!(e.step, known::StepSelector::Line(_)))
        .filter(|(e, n)| **n == 0 && backend_pairs.iter().any(|b| e.applies_to(&scenario, *b)))
        .map(|(e, _)| StaleEntry { at: format!("{}:{}", known.path.display(), e.line), reason: e.reason.clone() })
        .collect();
    Conformance {
        scenario,
        known_file: known.path.display().to_string(),
        runs: records.iter().zip(&labels).map(|(r, label)| RunSummary::of(label, r)).collect(),
        steps,
        pairs,
        stale,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{StepOutcome, StepRecord};
    use std::path::Path;

    fn record(backend: &str, seed: Option<u64>, outputs: &[&str]) -> RunRecord {
        RunRecord {
            scenario: "conformance/suite/scale.toml".into(),
            backend: backend.into(),
            docker_version: "20.10".into(),
            seed,
            steps: outputs
                .iter()
                .enumerate()
                .map(|(index, output)| StepRecord {
                    index,
                    line: 10 * (index + 1),
                    outcome: StepOutcome::Run {
                        on: "bd0".into(),
                        command: "docker service ls".into(),
                        exit_code: 0,
                        output: output.to_string(),
                    },
                })
                .collect(),
            exit_code: 0,
            failure: None,
        }
    }

    fn known(text: &str) -> KnownDifferences {
        KnownDifferences::parse(Path::new("known.toml"), text).unwrap()
    }

    #[test]
    fn runs_are_named_by_backend_and_by_seed_when_a_backend_repeats() {
        let runs = [record("sim", Some(1), &[]), record("sim", Some(7), &[]), record("docker", None, &[])];
        assert_eq!(labels(&runs), ["sim@1", "sim@7", "docker"]);
        assert_eq!(labels(&[record("docker", None, &[]), record("docker", None, &[])]), ["docker#1", "docker#2"]);
    }

    #[test]
    fn every_pair_is_compared_and_the_scenario_is_named_by_its_file() {
        let runs = [record("sim", Some(1), &["a"]), record("swarmd", None, &["a"]), record("docker", None, &["b"])];
        let report = conform(&runs, &KnownDifferences::empty(Path::new("known.toml")));
        assert_eq!(report.scenario, "scale");
        let pairs: Vec<(&str, &str, usize)> =
            report.pairs.iter().map(|p| (p.left.as_str(), p.right.as_str(), p.unexplained)).collect();
        assert_eq!(pairs, [("sim", "swarmd", 0), ("sim", "docker", 1), ("swarmd", "docker", 1)]);
        assert_eq!(report.exit_code(), 1);
        assert_eq!(report.markdown_rows(), "| scale | sim (20.10) | swarmd (20.10) | 1/1 | 0 | 0 |\n| scale | sim (20.10) | docker (20.10) | 0/1 | 0 | 1 |\n| scale | swarmd (20.10) | docker (20.10) | 0/1 | 0 | 1 |\n");
    }

    #[test]
    fn an_entry_for_every_scenario_that_matches_nothing_here_is_not_stale() {
        let runs = [record("sim", Some(1), &["same"]), record("docker", None, &["same"])];
        let list =
            known("[[difference]]\ncommand = 'service create'\nbackends = [\"*\", \"docker\"]\nreason = \"r\"\n");
        assert!(conform(&runs, &list).stale.is_empty());
    }

    #[test]
    fn a_known_difference_passes_and_an_entry_that_matches_nothing_here_is_stale() {
        let runs = [record("sim", Some(1), &["a", "same"]), record("docker", None, &["b", "same"])];
        let list = known(
            "[[difference]]\nline = 10\nbackends = [\"*\", \"docker\"]\nreason = \"first\"\n\
             [[difference]]\nline = 20\nbackends = [\"sim\", \"docker\"]\nreason = \"agrees now\"\n\
             [[difference]]\nline = 20\nbackends = [\"sim\", \"swarmd\"]\nreason = \"another pair\"\n\
             [[difference]]\nscenario = \"drain\"\nline = 20\nbackends = [\"*\", \"*\"]\nreason = \"another scenario\"\n",
        );
        let report = conform(&runs, &list);
        assert_eq!(report.exit_code(), 0);
        assert_eq!(report.steps[0].pairs[0].verdict, Verdict::Known);
        assert_eq!(report.steps[0].pairs[0].differences[0].known_at.as_deref(), Some("known.toml:1"));
        let stale: Vec<&str> = report.stale.iter().map(|s| s.at.as_str()).collect();
        assert_eq!(stale, ["known.toml:5"]);
        assert!(report.text().contains("stale: known.toml:5 matched no difference (agrees now)\n"));
    }

    #[test]
    fn a_step_shows_its_first_five_differences_and_points_at_json_for_the_rest() {
        let many = |v: &str| (1..=7).map(|i| format!("{v}{i}\n")).collect::<String>();
        let runs = [record("sim", Some(1), &[&many("x")]), record("docker", None, &[&many("y")])];
        let text = conform(&runs, &KnownDifferences::empty(Path::new("known.toml"))).text();
        assert!(
            text.contains("  sim | docker: 7 differences: 7 unexplained, 0 known\n    line 1   x1 | y1\n"),
            "{text}"
        );
        assert!(text.contains("    line 5   x5 | y5\n    … and 2 more (all in --json)\n"), "{text}");
    }
}
