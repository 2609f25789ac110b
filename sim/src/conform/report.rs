//! What `swarmsim conform` tells: per step `agree` or the first differences side by side, a
//! summary per pair of backends, and the same as one JSON document (`--json`) or as rows of
//! CONFORMANCE.md's table (`--markdown`).

use super::compare::Difference;
use crate::record::RunRecord;
use serde::Serialize;
use std::fmt::Write as _;

/// How many differences of one step and pair the text report shows; `--json` has them all.
const SHOWN_PER_STEP: usize = 5;

#[derive(Clone, Debug, Serialize)]
pub struct Conformance {
    pub scenario: String,
    pub known_file: String,
    pub runs: Vec<RunSummary>,
    pub steps: Vec<StepReport>,
    pub pairs: Vec<PairSummary>,
    /// Entries of the known-differences file that apply to these runs and matched nothing.
    pub stale: Vec<StaleEntry>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub label: String,
    pub backend: String,
    pub docker_version: String,
    pub seed: Option<u64>,
    pub exit_code: i32,
    pub failure: Option<String>,
}

impl RunSummary {
    pub fn of(label: &str, record: &RunRecord) -> RunSummary {
        RunSummary {
            label: label.to_string(),
            backend: record.backend.clone(),
            docker_version: record.docker_version.clone(),
            seed: record.seed,
            exit_code: record.exit_code,
            failure: record.failure.clone(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// 0-based, as in the records.
    pub index: usize,
    /// The step's line in the scenario file.
    pub line: usize,
    /// `bd0$ docker node ls`, `expect: …`, normalised as the first run printed it.
    pub title: String,
    pub pairs: Vec<PairStep>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Agree,
    /// Every difference is listed in the known-differences file.
    Known,
    Unexplained,
}

impl Verdict {
    pub fn of(found: &[Found]) -> Verdict {
        if found.is_empty() {
            Verdict::Agree
        } else if found.iter().all(|f| f.known.is_some()) {
            Verdict::Known
        } else {
            Verdict::Unexplained
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PairStep {
    pub left: String,
    pub right: String,
    pub verdict: Verdict,
    pub differences: Vec<Found>,
    pub columns_only_left: Vec<String>,
    pub columns_only_right: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Found {
    #[serde(flatten)]
    pub difference: Difference,
    /// The reason given in the known-differences file, if listed there.
    pub known: Option<String>,
    /// `file:line` of the entry that lists it.
    pub known_at: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PairSummary {
    pub left: String,
    pub right: String,
    pub steps: usize,
    pub agree: usize,
    pub known: usize,
    pub unexplained: usize,
    pub columns_only_left: Vec<String>,
    pub columns_only_right: Vec<String>,
}

impl PairSummary {
    pub fn new(left: &str, right: &str) -> PairSummary {
        PairSummary {
            left: left.to_string(),
            right: right.to_string(),
            steps: 0,
            agree: 0,
            known: 0,
            unexplained: 0,
            columns_only_left: Vec::new(),
            columns_only_right: Vec::new(),
        }
    }

    pub fn count(&mut self, step: &PairStep) {
        self.steps += 1;
        match step.verdict {
            Verdict::Agree => self.agree += 1,
            Verdict::Known => self.known += 1,
            Verdict::Unexplained => self.unexplained += 1,
        }
        for (all, these) in [
            (&mut self.columns_only_left, &step.columns_only_left),
            (&mut self.columns_only_right, &step.columns_only_right),
        ] {
            for column in these {
                if !all.contains(column) {
                    all.push(column.clone());
                }
            }
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StaleEntry {
    /// `file:line` of the entry.
    pub at: String,
    pub reason: String,
}

impl Conformance {
    /// 0 when every difference is known, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.pairs.iter().any(|p| p.unexplained > 0))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plain data serializes")
    }

    /// Per step `agree` or, per pair that differs, its first differences side by side; then
    /// the summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "conform {}:", self.scenario);
        for run in &self.runs {
            let seed = run.seed.map(|s| format!(", seed {s}")).unwrap_or_default();
            let failure = run.failure.as_deref().map(|f| format!(" ({})", first_line(f))).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}: {} {}{seed}, exit {}{failure}",
                run.label, run.backend, run.docker_version, run.exit_code
            );
        }
        out.push('\n');
        for step in &self.steps {
            let heading = format!("step {} (line {}) {}", step.index + 1, step.line, step.title);
            if step.pairs.iter().all(|p| p.verdict == Verdict::Agree) {
                let _ = writeln!(out, "{heading} — agree");
                continue;
            }
            let _ = writeln!(out, "{heading}");
            for pair in &step.pairs {
                write_pair_step(&mut out, pair);
            }
        }
        out.push('\n');
        out.push_str(&self.summary());
        out
    }

    fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "summary: {} steps", self.steps.len());
        for pair in &self.pairs {
            let _ = writeln!(
                out,
                "  {} | {}: {} agree, {} known, {} unexplained",
                pair.left, pair.right, pair.agree, pair.known, pair.unexplained
            );
            for (side, columns) in [(&pair.left, &pair.columns_only_left), (&pair.right, &pair.columns_only_right)] {
                if !columns.is_empty() {
                    let _ = writeln!(out, "    columns only {side} prints (not compared): {}", columns.join(", "));
                }
            }
        }
        for stale in &self.stale {
            let _ = writeln!(out, "stale: {} matched no difference ({})", stale.at, stale.reason);
        }
        let unexplained: usize = self.pairs.iter().map(|p| p.unexplained).sum();
        if unexplained == 0 {
            let _ = writeln!(out, "PASS {}: every difference is known ({})", self.scenario, self.known_file);
        } else {
            let _ = writeln!(
                out,
                "FAIL {}: {unexplained} step(s) differ in ways {} does not list",
                self.scenario, self.known_file
            );
        }
        out
    }

    /// Rows of CONFORMANCE.md's table: `| scenario | left | right | agree | known | unexplained |`.
    pub fn markdown_rows(&self) -> String {
        let mut out = String::new();
        let version = |label: &str| {
            self.runs
                .iter()
                .find(|r| r.label == label)
                .map(|r| format!("{label} ({})", r.docker_version))
                .unwrap_or_default()
        };
        for pair in &self.pairs {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}/{} | {} | {} |",
                self.scenario,
                version(&pair.left),
                version(&pair.right),
                pair.agree,
                pair.steps,
                pair.known,
                pair.unexplained
            );
        }
        out
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// ```text
///   sim | docker: 2 differences: 1 unexplained, 1 known
///     row 2 MANAGER STATUS   ""    | Reachable
///     row 3 NODE             bd1   | bd2         (known)
///     known: placement is drawn from the seed (conformance/known-differences.toml:12)
/// ```
fn write_pair_step(out: &mut String, pair: &PairStep) {
    if pair.verdict == Verdict::Agree {
        let _ = writeln!(out, "  {} | {}: agree", pair.left, pair.right);
        return;
    }
    let known = pair.differences.iter().filter(|f| f.known.is_some()).count();
    let unexplained = pair.differences.len() - known;
    let _ = writeln!(
        out,
        "  {} | {}: {} difference{}: {unexplained} unexplained, {known} known",
        pair.left,
        pair.right,
        pair.differences.len(),
        if pair.differences.len() == 1 { "" } else { "s" }
    );
    let shown = &pair.differences[..pair.differences.len().min(SHOWN_PER_STEP)];
    let place_width = shown.iter().map(|f| f.difference.place.to_string().chars().count()).max().unwrap_or(0);
    let left_width = shown.iter().map(|f| as_printed(&f.difference.left).chars().count()).max().unwrap_or(0);
    let right_width = shown.iter().map(|f| as_printed(&f.difference.right).chars().count()).max().unwrap_or(0);
    for found in shown {
        let d = &found.difference;
        let (place, left, right) = (d.place.to_string(), as_printed(&d.left), as_printed(&d.right));
        let marker = if found.known.is_some() { "(known)" } else { "" };
        let line = format!("    {place:<place_width$}   {left:<left_width$} | {right:<right_width$}   {marker}");
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if pair.differences.len() > shown.len() {
        let _ = writeln!(out, "    … and {} more (all in --json)", pair.differences.len() - shown.len());
    }
    // Each reason once, however many differences it explains.
    let mut reasons: Vec<(&str, &str)> = Vec::new();
    for found in &pair.differences {
        if let (Some(reason), Some(at)) = (&found.known, &found.known_at) {
            if !reasons.contains(&(reason.as_str(), at.as_str())) {
                reasons.push((reason, at));
            }
        }
    }
    for (reason, at) in reasons {
        let _ = writeln!(out, "    known: {reason} ({at})");
    }
}

/// A cell or line as printed; an empty one as `""`, so it shows.
fn as_printed(text: &str) -> String {
    if text.is_empty() {
        "\"\"".to_string()
    } else {
        text.to_string()
    }
}
