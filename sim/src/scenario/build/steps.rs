//! `[[step]]` tables: one action each, where it happens, when, and what its output must show.

use super::{integer_in, line_of, listing, regexes};
use crate::faults::Fault;
use crate::scenario::error::{ScenarioError, SourceFile};
use crate::scenario::expect::parse_expectation;
use crate::scenario::model::{Capture, Expectation, NodeDef, RunStep, Step, StepAction, StepTiming};
use crate::scenario::raw::{DurationValue, OrderedTable, RawStep};
pub(super) use crate::scenario::raw::{RawClock, RawCorrupt, RawLink, RawNodeFor, RawSlowDisk};
use crate::scenario::template::{is_variable_name, CommandTemplate};
use crate::scenario::units::format_duration;
use regex::Regex;
use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

pub fn build_steps(
    file: SourceFile<'_>,
    raw: Vec<Spanned<RawStep>>,
    nodes: &[NodeDef],
    max_duration: Duration,
) -> Result<Vec<Step>, ScenarioError> {
    let mut context = StepContext {
        file,
        nodes,
        max_duration,
        captured: BTreeMap::new(),
        snapshots: BTreeMap::new(),
        earliest: Duration::ZERO,
        earliest_set_at_line: None,
    };
    raw.into_iter().map(|step| context.build_step(step)).collect()
}

/// What earlier steps established, which later steps are checked against.
struct StepContext<'a> {
    file: SourceFile<'a>,
    nodes: &'a [NodeDef],
    max_duration: Duration,
    /// Variable name → line of the step that captures it.
    captured: BTreeMap<String, usize>,
    /// Snapshot name → line of the step that uses it (two steps must not share a golden file).
    snapshots: BTreeMap<String, usize>,
    /// The earliest simulated time the next step can start: what the `at`, `after` and `sleep`
    /// of earlier steps add up to (commands and `within` waits take unknown extra time).
    earliest: Duration,
    earliest_set_at_line: Option<usize>,
}

/// The keys that only make sense on a `run` step.
const RUN_ONLY_KEYS: [&str; 7] =
    ["exit", "output_contains", "output_matches", "output_lacks", "capture", "snapshot", "stdin"];

impl StepContext<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        self.file.error(span, message)
    }

    /// An error at `inner`, a byte range inside the string value `value`.
    fn error_inside(&self, value: &Spanned<String>, inner: Range<usize>, message: impl Into<String>) -> ScenarioError {
        if inner == (0..value.get_ref().len()) {
            // The whole string is at fault: underline it with its quotes (visible even when empty).
            return self.error(value.span(), message);
        }
        self.error(self.file.span_inside_string(value.span(), value.get_ref(), inner), message)
    }

    fn build_step(&mut self, step: Spanned<RawStep>) -> Result<Step, ScenarioError> {
        let step_span = step.span();
        let line = line_of(self.file, step_span.clone());
        let raw = step.into_inner();

        let actions: Vec<(&str, Range<usize>)> = [
            ("run", raw.run.as_ref().map(Spanned::span)),
            ("kill", raw.kill.as_ref().map(Spanned::span)),
            ("sleep", raw.sleep.as_ref().map(Spanned::span)),
            ("expect", raw.expect.as_ref().map(Spanned::span)),
            ("crash", raw.crash.as_ref().map(Spanned::span)),
            ("restart", raw.restart.as_ref().map(Spanned::span)),
            ("stop_daemon", raw.stop_daemon.as_ref().map(Spanned::span)),
            ("isolate", raw.isolate.as_ref().map(Spanned::span)),
            ("partition", raw.partition.as_ref().map(Spanned::span)),
            ("cut", raw.cut.as_ref().map(Spanned::span)),
            ("heal", raw.heal.as_ref().map(Spanned::span)),
            ("lose_leader", raw.lose_leader.as_ref().map(Spanned::span)),
            ("link", raw.link.as_ref().map(Spanned::span)),
            ("clock", raw.clock.as_ref().map(Spanned::span)),
            ("slow_disk", raw.slow_disk.as_ref().map(Spanned::span)),
            ("fail_disk", raw.fail_disk.as_ref().map(Spanned::span)),
            ("disk_ok", raw.disk_ok.as_ref().map(Spanned::span)),
            ("pause", raw.pause.as_ref().map(Spanned::span)),
            ("corrupt", raw.corrupt.as_ref().map(Spanned::span)),
            ("runtime_fails", raw.runtime_fails.as_ref().map(Spanned::span)),
            ("runtime_hangs", raw.runtime_hangs.as_ref().map(Spanned::span)),
            ("lose_data_root", raw.lose_data_root.as_ref().map(Spanned::span)),
            ("rejoin", raw.rejoin.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(key, span)| Some((key, span?)))
        .collect();
        let (keyword, action_span) = match actions.as_slice() {
            [] => {
                return Err(self.error(
                    step_span,
                    "a step needs an action: one of `run`, `kill`, `sleep`, `expect`, or a fault (`crash`, `restart`, `stop_daemon`, `isolate`, `partition`, `cut`, `heal`, `lose_leader`, `link`, `clock`, `slow_disk`, `fail_disk`, `disk_ok`, `pause`, `corrupt`, `runtime_fails`, `runtime_hangs`, `lose_data_root`, `rejoin`)",
                ))
            }
            [only] => only.clone(),
            [first, second, ..] => {
                return Err(self.error(
                    second.1.clone(),
                    format!(
                        "a step does one thing, but this one has both `{}` and `{}`: give each its own [[step]]",
                        first.0, second.0
                    ),
                ))
            }
        };
        if keyword != "run" {
            self.reject_run_only_keys(&raw, keyword)?;
        }
        if keyword != "partition" {
            if let Some(bridge) = &raw.bridge {
                return Err(self.error(bridge.span(), "`bridge` only goes with `partition`"));
            }
        }
        if super::faults::is_fault_keyword(keyword) {
            if let Some(on) = &raw.on {
                return Err(self.error(
                    on.span(),
                    format!("`on` has no meaning for a `{keyword}` step: the fault names its nodes"),
                ));
            }
            let timing = self.timing(&raw, line)?;
            let fault = self.fault(raw, keyword)?;
            return Ok(Step { line, action_span, on: None, timing, action: StepAction::Fault(fault) });
        }
        let on = self.check_on(&raw, keyword, &action_span)?;
        let timing = self.timing(&raw, line)?;

        let RawStep {
            run,
            kill,
            sleep,
            expect,
            exit,
            output_contains,
            output_matches,
            output_lacks,
            capture,
            snapshot,
            stdin,
            ..
        } = raw;
        let action = if let Some(run) = run {
            let run_keys = RunKeys { exit, output_contains, output_matches, output_lacks, capture, snapshot, stdin };
            StepAction::Run(self.run(run, run_keys, line)?)
        } else if let Some(target) = kill {
            StepAction::Kill { target: self.kill_target(target)? }
        } else if let Some(duration) = sleep {
            StepAction::Sleep(self.sleep(duration, line)?)
        } else if let Some(sentence) = expect {
            StepAction::Expect(self.expectation(sentence)?)
        } else {
            unreachable!("exactly one action was found above")
        };
        Ok(Step { line, action_span, on, timing, action })
    }

    fn reject_run_only_keys(&self, raw: &RawStep, keyword: &str) -> Result<(), ScenarioError> {
        let spans = [
            raw.exit.as_ref().map(Spanned::span),
            raw.output_contains.as_ref().map(Spanned::span),
            raw.output_matches.as_ref().map(Spanned::span),
            raw.output_lacks.as_ref().map(Spanned::span),
            raw.capture.as_ref().map(Spanned::span),
            raw.snapshot.as_ref().map(Spanned::span),
            raw.stdin.as_ref().map(Spanned::span),
        ];
        match RUN_ONLY_KEYS.iter().zip(spans).find_map(|(key, span)| Some((key, span?))) {
            None => Ok(()),
            Some((key, span)) => {
                Err(self.error(span, format!("`{key}` only applies to `run` steps, and this is a `{keyword}` step")))
            }
        }
    }

    /// `on` names a declared node; a `run` needs one, `sleep` and `expect` have none.
    fn check_on(
        &self,
        raw: &RawStep,
        keyword: &str,
        action_span: &Range<usize>,
    ) -> Result<Option<String>, ScenarioError> {
        let Some(on) = &raw.on else {
            if keyword == "run" {
                return Err(self.error(
                    action_span.clone(),
                    "a `run` step needs `on = \"NODE\"`: the node the command is typed on",
                ));
            }
            return Ok(None);
        };
        if matches!(keyword, "sleep" | "expect") {
            let why =
                if keyword == "sleep" { "time passes everywhere" } else { "expectations look at the whole cluster" };
            return Err(self.error(on.span(), format!("`on` has no meaning for a `{keyword}` step: {why}")));
        }
        self.check_node(on.get_ref(), on.span())?;
        Ok(Some(on.get_ref().clone()))
    }

    fn check_node(&self, name: &str, span: Range<usize>) -> Result<(), ScenarioError> {
        if self.nodes.iter().any(|node| node.name == name) {
            return Ok(());
        }
        Err(self.error(
            span,
            format!("unknown node `{name}`; the nodes are {}", listing(self.nodes.iter().map(|n| &n.name))),
        ))
    }

    fn timing(&mut self, raw: &RawStep, line: usize) -> Result<StepTiming, ScenarioError> {
        let (timing, span) = match (&raw.at, &raw.after) {
            (Some(_), Some(after)) => return Err(self.error(after.span(), "give either `at` or `after`, not both")),
            (Some(at), None) => {
                let DurationValue(time) = *at.get_ref();
                if time < self.earliest {
                    let since =
                        self.earliest_set_at_line.map(|l| format!(" by the step at line {l}")).unwrap_or_default();
                    return Err(self.error(
                        at.span(),
                        format!(
                            "`at` goes back in time: {} is earlier than {}, reached{since}; steps run in file order",
                            format_duration(time),
                            format_duration(self.earliest)
                        ),
                    ));
                }
                (StepTiming::At(time), at.span())
            }
            (None, Some(after)) => (StepTiming::After(after.get_ref().0), after.span()),
            (None, None) => return Ok(StepTiming::Immediately),
        };
        self.earliest = match timing {
            StepTiming::At(time) => time,
            StepTiming::After(wait) => self.earliest + wait,
            StepTiming::Immediately => self.earliest,
        };
        self.earliest_set_at_line = Some(line);
        self.check_within_max_duration(span.clone(), "this step starts")?;
        Ok(timing)
    }

    fn check_within_max_duration(&self, span: Range<usize>, what: &str) -> Result<(), ScenarioError> {
        if self.earliest <= self.max_duration {
            return Ok(());
        }
        Err(self.error(
            span,
            format!(
                "{what} at {} or later, past `max_duration` ({}); raise `max_duration` if that is meant",
                format_duration(self.earliest),
                format_duration(self.max_duration)
            ),
        ))
    }

    fn sleep(&mut self, duration: Spanned<DurationValue>, line: usize) -> Result<Duration, ScenarioError> {
        let DurationValue(sleep) = *duration.get_ref();
        self.earliest += sleep;
        self.earliest_set_at_line = Some(line);
        self.check_within_max_duration(duration.span(), "this sleep ends")?;
        Ok(sleep)
    }

    fn kill_target(&self, target: Spanned<String>) -> Result<String, ScenarioError> {
        let text = target.get_ref().trim();
        if text.is_empty() || text.contains(char::is_whitespace) {
            return Err(self.error(
                target.span(),
                "`kill` takes one container: `SERVICE.SLOT` (e.g. \"mynginx.2\") or a container name prefix",
            ));
        }
        Ok(text.to_string())
    }

    fn expectation(&self, sentence: Spanned<String>) -> Result<Expectation, ScenarioError> {
        let parsed =
            parse_expectation(sentence.get_ref()).map_err(|e| self.error_inside(&sentence, e.span, e.message))?;
        for (name, span) in &parsed.node_names {
            if !self.nodes.iter().any(|node| &node.name == name) {
                return Err(self.error_inside(
                    &sentence,
                    span.clone(),
                    format!("unknown node `{name}`; the nodes are {}", listing(self.nodes.iter().map(|n| &n.name))),
                ));
            }
        }
        Ok(Expectation { within: parsed.within, condition: parsed.condition, text: sentence.into_inner() })
    }

    fn run(&mut self, command: Spanned<String>, keys: RunKeys, line: usize) -> Result<RunStep, ScenarioError> {
        if command.get_ref().trim().is_empty() {
            return Err(self.error(command.span(), "the command is empty"));
        }
        let template =
            CommandTemplate::parse(command.get_ref()).map_err(|e| self.error_inside(&command, e.span, e.message))?;
        for (name, span) in template.variables() {
            if !self.captured.contains_key(name) {
                let known = if self.captured.is_empty() {
                    "no earlier step has a `capture`".to_string()
                } else {
                    format!("captured so far: {}", listing(self.captured.keys()))
                };
                return Err(self.error_inside(
                    &command,
                    span,
                    format!("unknown variable `${{{name}}}`: no earlier step captures it ({known})"),
                ));
            }
        }
        let exit_code = match &keys.exit {
            None => 0,
            Some(code) => integer_in(self.file, code, 0..=255, "`exit`")? as i32,
        };
        let output_contains = self.substrings(keys.output_contains, "output_contains")?;
        let output_lacks = self.substrings(keys.output_lacks, "output_lacks")?;
        let output_matches = keys
            .output_matches
            .map(Spanned::into_inner)
            .unwrap_or_default()
            .iter()
            .map(|pattern| self.regex(pattern))
            .collect::<Result<_, _>>()?;
        let captures = self.captures(keys.capture, line)?;
        let snapshot = match keys.snapshot {
            None => None,
            Some(name) => Some(self.snapshot_name(name, line)?),
        };
        let stdin = keys.stdin.map(Spanned::into_inner);
        Ok(RunStep {
            command: template,
            exit_code,
            output_contains,
            output_matches,
            output_lacks,
            captures,
            snapshot,
            stdin,
        })
    }

    fn substrings(&self, list: Option<Spanned<Vec<Spanned<String>>>>, key: &str) -> Result<Vec<String>, ScenarioError> {
        let mut out = Vec::new();
        for text in list.map(Spanned::into_inner).unwrap_or_default() {
            if text.get_ref().is_empty() {
                return Err(self.error(text.span(), format!("an empty string in `{key}` checks nothing")));
            }
            out.push(text.into_inner());
        }
        Ok(out)
    }

    fn regex(&self, pattern: &Spanned<String>) -> Result<Regex, ScenarioError> {
        regexes::compile(pattern.get_ref()).map_err(|e| self.error_inside(pattern, e.span, e.message))
    }

    /// Captures become visible to the steps after this one (not to this step's own command).
    fn captures(
        &mut self,
        table: Option<Spanned<OrderedTable<Spanned<String>>>>,
        line: usize,
    ) -> Result<Vec<Capture>, ScenarioError> {
        let mut captures = Vec::new();
        for (name, pattern) in table.map(|t| t.into_inner().0).unwrap_or_default() {
            if !is_variable_name(name.get_ref()) {
                return Err(self.error(
                    name.span(),
                    format!(
                        "invalid variable name `{}`: use letters, digits and `_`, not starting with a digit",
                        name.get_ref()
                    ),
                ));
            }
            let compiled = self.regex(&pattern)?;
            captures.push(Capture { name: name.get_ref().clone(), pattern: compiled });
        }
        for capture in &captures {
            self.captured.insert(capture.name.clone(), line);
        }
        Ok(captures)
    }

    fn snapshot_name(&mut self, name: Spanned<String>, line: usize) -> Result<String, ScenarioError> {
        let text = name.get_ref();
        let valid = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !valid {
            return Err(self.error(
                name.span(),
                format!("invalid snapshot name `{text}`: it names a file, so use letters, digits, `-`, `_` and `.`"),
            ));
        }
        if let Some(first) = self.snapshots.insert(text.clone(), line) {
            return Err(
                self.error(name.span(), format!("snapshot `{text}` is already used by the step at line {first}"))
            );
        }
        Ok(name.into_inner())
    }
}

/// The `run`-only keys of a step, moved out of the `RawStep`.
struct RunKeys {
    exit: Option<Spanned<i64>>,
    output_contains: Option<Spanned<Vec<Spanned<String>>>>,
    output_matches: Option<Spanned<Vec<Spanned<String>>>>,
    output_lacks: Option<Spanned<Vec<Spanned<String>>>>,
    capture: Option<Spanned<OrderedTable<Spanned<String>>>>,
    snapshot: Option<Spanned<String>>,
    stdin: Option<Spanned<String>>,
}

/// Fault steps.
impl StepContext<'_> {
    fn node_name(&self, name: &Spanned<String>) -> Result<String, ScenarioError> {
        self.check_node(name.get_ref(), name.span())?;
        Ok(name.get_ref().clone())
    }

    fn fault(&mut self, raw: RawStep, keyword: &str) -> Result<Fault, ScenarioError> {
        let must_be_true = |this: &Self, flag: &Spanned<bool>, key: &str| {
            if *flag.get_ref() {
                Ok(())
            } else {
                Err(this
                    .error(flag.span(), format!("`{key} = false` does nothing: write `{key} = true` or drop the step")))
            }
        };
        Ok(match keyword {
            "crash" => Fault::Crash { node: self.node_name(raw.crash.as_ref().expect("keyword found"))? },
            "restart" => Fault::Restart { node: self.node_name(raw.restart.as_ref().expect("keyword found"))? },
            "stop_daemon" => {
                Fault::StopDaemon { node: self.node_name(raw.stop_daemon.as_ref().expect("keyword found"))? }
            }
            "isolate" => Fault::Isolate { node: self.node_name(raw.isolate.as_ref().expect("keyword found"))? },
            "heal" => {
                must_be_true(self, raw.heal.as_ref().expect("keyword found"), "heal")?;
                Fault::Heal
            }
            "lose_leader" => {
                must_be_true(self, raw.lose_leader.as_ref().expect("keyword found"), "lose_leader")?;
                Fault::LoseLeader
            }
            "partition" => self.partition(raw.partition.expect("keyword found"), raw.bridge)?,
            "cut" => {
                let cut = raw.cut.expect("keyword found");
                match cut.get_ref().as_slice() {
                    [from, to] => Fault::OneWay { from: self.node_name(from)?, to: self.node_name(to)? },
                    _ => {
                        return Err(self.error(
                            cut.span(),
                            "`cut` takes two nodes, [\"FROM\", \"TO\"]: messages from FROM to TO are lost",
                        ))
                    }
                }
            }
            "link" => {
                let link: RawLink = raw.link.expect("keyword found").into_inner();
                let rate = |this: &Self, v: &Option<Spanned<f64>>| -> Result<f64, ScenarioError> {
                    match v {
                        None => Ok(0.0),
                        Some(r) if (0.0..=1.0).contains(r.get_ref()) => Ok(*r.get_ref()),
                        Some(r) => Err(this.error(r.span(), "a rate is a probability between 0.0 and 1.0")),
                    }
                };
                Fault::Link {
                    from: self.node_name(&link.from)?,
                    to: self.node_name(&link.to)?,
                    both: link.both.unwrap_or(false),
                    drop: rate(self, &link.drop)?,
                    duplicate: rate(self, &link.duplicate)?,
                    extra_delay: link.delay.map(|d| d.get_ref().0).unwrap_or_default(),
                    extra_jitter: link.jitter.map(|d| d.get_ref().0).unwrap_or_default(),
                }
            }
            "clock" => {
                let clock: RawClock = raw.clock.expect("keyword found").into_inner();
                let offset_ms = match &clock.offset {
                    None => 0,
                    Some(text) => {
                        let t = text.get_ref().trim();
                        let (negative, body) = match t.strip_prefix('-') {
                            Some(rest) => (true, rest),
                            None => (false, t.strip_prefix('+').unwrap_or(t)),
                        };
                        let d = crate::scenario::parse_duration(body).map_err(|e| self.error(text.span(), e))?;
                        let ms = d.as_millis() as i64;
                        if negative {
                            -ms
                        } else {
                            ms
                        }
                    }
                };
                let drift_ppm = clock.drift_ppm.as_ref().map(|d| *d.get_ref()).unwrap_or(0);
                if drift_ppm.abs() > 100_000 {
                    let span = clock.drift_ppm.as_ref().expect("checked").span();
                    return Err(self.error(span, "a drift beyond ±100000 ppm (10%) is not a clock, it is a bug"));
                }
                Fault::ClockSkew { node: self.node_name(&clock.node)?, offset_ms, drift_ppm }
            }
            "fail_disk" => Fault::FailDisk { node: self.node_name(raw.fail_disk.as_ref().expect("keyword found"))? },
            "disk_ok" => Fault::DiskOk { node: self.node_name(raw.disk_ok.as_ref().expect("keyword found"))? },
            "pause" => {
                let pause: RawNodeFor = raw.pause.expect("keyword found").into_inner();
                Fault::Pause { node: self.node_name(&pause.node)?, duration: pause.duration.get_ref().0 }
            }
            "corrupt" => {
                let corrupt: RawCorrupt = raw.corrupt.expect("keyword found").into_inner();
                let rate = *corrupt.rate.get_ref();
                if !(0.0..=1.0).contains(&rate) {
                    return Err(self.error(corrupt.rate.span(), "a rate is a probability between 0.0 and 1.0"));
                }
                Fault::Corrupt { from: self.node_name(&corrupt.from)?, to: self.node_name(&corrupt.to)?, rate }
            }
            "runtime_fails" | "runtime_hangs" => {
                let hang = keyword == "runtime_hangs";
                let spec: RawNodeFor =
                    if hang { raw.runtime_hangs } else { raw.runtime_fails }.expect("keyword found").into_inner();
                Fault::Runtime { node: self.node_name(&spec.node)?, hang, duration: spec.duration.get_ref().0 }
            }
            "rejoin" => Fault::Rejoin { node: self.node_name(raw.rejoin.as_ref().expect("keyword found"))? },
            "lose_data_root" => {
                Fault::LoseDataRoot { node: self.node_name(raw.lose_data_root.as_ref().expect("keyword found"))? }
            }
            "slow_disk" => {
                let disk: RawSlowDisk = raw.slow_disk.expect("keyword found").into_inner();
                Fault::SlowDisk { node: self.node_name(&disk.node)?, delay: disk.delay.get_ref().0 }
            }
            other => unreachable!("not a fault keyword: {other}"),
        })
    }

    /// Groups must be disjoint: a node named twice is a mistake (a host that should reach
    /// both sides is written as `bridge`).
    fn partition(
        &self,
        groups: Spanned<Vec<Vec<Spanned<String>>>>,
        bridge: Option<Spanned<String>>,
    ) -> Result<Fault, ScenarioError> {
        if groups.get_ref().len() < 2 {
            return Err(
                self.error(groups.span(), "a partition needs at least two groups: [[\"bd0\"], [\"bd1\", \"bd2\"]]")
            );
        }
        let mut seen: BTreeMap<String, ()> = BTreeMap::new();
        let mut out: Vec<Vec<String>> = Vec::new();
        for group in groups.get_ref() {
            if group.is_empty() {
                return Err(self.error(groups.span(), "a partition group cannot be empty"));
            }
            let mut names = Vec::new();
            for name in group {
                let n = self.node_name(name)?;
                if seen.insert(n.clone(), ()).is_some() {
                    return Err(self.error(
                        name.span(),
                        format!("node `{n}` is named twice in this partition; a node on both sides is written `bridge = \"{n}\"`"),
                    ));
                }
                names.push(n);
            }
            out.push(names);
        }
        if let Some(bridge) = bridge {
            let b = self.node_name(&bridge)?;
            if seen.contains_key(&b) {
                return Err(self.error(bridge.span(), format!("the bridge `{b}` is also in a group")));
            }
            for g in out.iter_mut() {
                g.push(b.clone());
            }
        }
        Ok(Fault::Partition { groups: out })
    }
}
