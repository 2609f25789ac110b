//! Plays a scenario's steps on a live lab, printing the same transcript as the simulator's
//! runner (`sim/src/runner.rs`): `bd0$ docker …` and its output, `# fault: …` with a note,
//! `# sleep …`, `# expect: … — ok after …` or `— FAILED (…)`. Time is real: `sleep`, `after`,
//! `at` and `within` wait on the wall clock, and expectations poll the cluster's own answers.

use crate::backend::Backend;
use crate::exec::{self, Captured};
use crate::lab::Lab;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::time::{Duration, Instant};
use swarmsim::conditions;
use swarmsim::faults::Fault;
use swarmsim::record::{StepOutcome, StepRecord};
use swarmsim::scenario::{format_duration, Expectation, RunStep, Scenario, Step, StepAction, StepTiming};

/// How often an expectation asks the cluster again.
const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// A `curl` typed in a scenario gives up after this long (the simulator's answers are instant).
const CURL_TIMEOUT_S: u64 = 10;

/// How a run ended.
pub struct Verdict {
    /// `file:line:col: what went wrong` (with the snippet), or `None` when every step passed.
    pub failure: Option<String>,
    pub elapsed: Duration,
}

/// The transcript, printed as it grows (a live run takes minutes) and kept.
#[derive(Default)]
pub struct Transcript {
    pub text: String,
}

impl Transcript {
    fn line(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        println!("{line}");
        let _ = std::io::stdout().flush();
    }

    fn output(&mut self, output: &str) {
        let mut text = output.to_string();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        self.text.push_str(&text);
        print!("{text}");
        let _ = std::io::stdout().flush();
    }
}

pub struct Player<'a> {
    pub scenario: &'a Scenario,
    pub lab: &'a Lab,
    pub backend: &'a mut dyn Backend,
    pub transcript: Transcript,
    /// What each step showed, for `--record`.
    pub records: Vec<StepRecord>,
    captures: BTreeMap<String, String>,
    started: Instant,
    /// Go on after a failed check or expectation (`--keep-going`); the first failure stays
    /// the run's.
    pub keep_going: bool,
    /// `--workload`: the clients' plan, started after the step of this index.
    pub workload: Option<PlannedWorkload>,
    /// The clients, once started; `play` leaves them running for the caller to stop.
    pub clients: Option<crate::workload::Clients>,
}

/// What the clients will do, and where they start (`workload::start_after_step`).
pub struct PlannedWorkload {
    pub start_after: usize,
    pub plan: swarmsim::workload::WorkloadPlan,
    pub sockets: crate::workload::Sockets,
}

impl<'a> Player<'a> {
    pub fn new(scenario: &'a Scenario, lab: &'a Lab, backend: &'a mut dyn Backend) -> Player<'a> {
        Player {
            scenario,
            lab,
            backend,
            transcript: Transcript::default(),
            records: Vec::new(),
            captures: BTreeMap::new(),
            started: Instant::now(),
            keep_going: false,
            workload: None,
            clients: None,
        }
    }

    pub fn play(&mut self) -> Verdict {
        self.started = Instant::now();
        let mut failure = None;
        // The scenario's `[[file]]`s, where the clients run (their working directory).
        if let Err(e) = write_files(self.scenario, &self.lab.files_dir()) {
            return Verdict { failure: Some(e), elapsed: self.started.elapsed() };
        }
        for (index, step) in self.scenario.steps.iter().enumerate() {
            match step.timing {
                StepTiming::Immediately => {}
                StepTiming::At(at) => sleep_until(self.started + at),
                StepTiming::After(after) => std::thread::sleep(after),
            }
            let line = self.scenario.line_of(step.action_span.start);
            let outcome = self.step(step);
            if let Some(shown) = outcome.shown {
                self.records.push(StepRecord { index, line, outcome: shown });
            }
            self.start_clients_after(index);
            if let Err(why) = outcome.result {
                failure.get_or_insert_with(|| self.scenario.error_at(step.action_span.clone(), why).to_string());
                if !self.keep_going {
                    break;
                }
            }
            if self.started.elapsed() > self.scenario.max_duration {
                let why = format!("the run passed its max_duration of {}", format_duration(self.scenario.max_duration));
                failure = Some(self.scenario.error_at(step.action_span.clone(), why).to_string());
                break;
            }
        }
        Verdict { failure, elapsed: self.started.elapsed() }
    }

    /// Starts the workload's clients if `index` is the step they wait for.
    fn start_clients_after(&mut self, index: usize) {
        let Some(workload) = self.workload.as_ref().filter(|w| w.start_after == index) else { return };
        self.transcript.line(&format!(
            "# workload: {} clients, {} operations planned, from now until the steps end",
            workload.plan.clients,
            workload.plan.ops.len()
        ));
        self.clients = Some(crate::workload::Clients::start(&workload.plan, &workload.sockets));
    }

    fn step(&mut self, step: &Step) -> StepResult {
        match &step.action {
            StepAction::Run(run) => self.run(step, run),
            StepAction::Kill { target } => {
                self.transcript.line(&format!("# fault: kill {target}"));
                let fault = Fault::Kill { target: target.clone(), node: step.on.clone() };
                self.apply(&fault)
            }
            StepAction::Fault(fault) => {
                self.transcript.line(&format!("# fault: {}", fault.describe()));
                self.apply(fault)
            }
            StepAction::Sleep(duration) => {
                self.transcript.line(&format!("# sleep {}", format_duration(*duration)));
                std::thread::sleep(*duration);
                StepResult { shown: Some(StepOutcome::Sleep { ms: duration.as_millis() as u64 }), result: Ok(()) }
            }
            StepAction::Expect(expectation) => self.expect(expectation),
        }
    }

    fn apply(&mut self, fault: &Fault) -> StepResult {
        let applied = self.fault(fault);
        if let Ok(note) = &applied {
            self.transcript.line(&format!("#   {note}"));
        }
        let (note, result) = match applied {
            Ok(note) => (note, Ok(())),
            Err(e) => (e.clone(), Err(e)),
        };
        let shown = StepOutcome::Fault { description: fault.describe(), note, applied: result.is_ok() };
        StepResult { shown: Some(shown), result }
    }

    fn run(&mut self, step: &Step, run: &RunStep) -> StepResult {
        let host = step.on.clone().unwrap_or_else(|| self.scenario.nodes[0].name.clone());
        let line = match run.command.render(&self.captures) {
            Ok(line) => line,
            Err(e) => return StepResult { shown: None, result: Err(e) },
        };
        self.transcript.line(&format!("{host}$ {}", one_line(&line)));
        let Some(node) = self.lab.node_index(&host) else {
            return StepResult { shown: None, result: Err(format!("no node named {host}")) };
        };
        let Captured { exit_code, output } = self.type_line(node, &line, run.stdin.as_deref());
        self.transcript.output(&output);
        for capture in &run.captures {
            if let Some(value) = capture.extract(&output) {
                self.captures.insert(capture.name.clone(), value.to_string());
            }
        }
        let problems = run.check_output(exit_code, &output);
        let shown = StepOutcome::Run { on: host, command: one_line(&line), exit_code, output };
        StepResult { shown: Some(shown), result: if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) } }
    }

    /// A line as a user types it on `node`: `sudo` is a no-op (the lab runs as root), `docker …`
    /// goes to the backend's client, `curl URL` runs curl inside the node with the lab's host
    /// names resolved to their addresses, anything else runs as it is inside the node.
    fn type_line(&mut self, node: usize, line: &str, stdin: Option<&str>) -> Captured {
        let words = match shlex::split(&line.replace("\\\n", " ")) {
            Some(words) if !words.is_empty() => words,
            _ => return Captured { exit_code: 2, output: format!("cannot read the command line {line:?}\n") },
        };
        let words: &[String] = if words[0] == "sudo" { &words[1..] } else { &words };
        // A step's `stdin` is written to a file of the run's directory and fed to the client.
        let stdin_file = match stdin {
            None => None,
            Some(text) => {
                let path = self.lab.dir.join("stdin");
                if let Err(e) = std::fs::write(&path, text) {
                    return Captured { exit_code: 126, output: format!("cannot write {}: {e}\n", path.display()) };
                }
                Some(path)
            }
        };
        let words = self.files_from_the_scenario(words);
        let words = words.as_slice();
        match words.first().map(String::as_str) {
            Some("docker") => self.backend.client(self.lab, node, &words[1..], stdin_file.as_deref()),
            Some("curl") => self.curl(node, &words[1..]),
            Some(_) => {
                exec::capture(exec::in_netns(&self.lab.nodes[node].netns_path(), words), None, Duration::from_secs(60))
            }
            None => Captured { exit_code: 0, output: String::new() },
        }
    }

    /// `docker secret|config create NAME FILE`: a relative FILE names a file beside the
    /// scenario, as the simulator reads it; the client runs elsewhere, so it gets the full path.
    fn files_from_the_scenario(&self, words: &[String]) -> Vec<String> {
        let mut words = words.to_vec();
        let creates_data = words.len() >= 3
            && words[0] == "docker"
            && matches!(words[1].as_str(), "secret" | "config")
            && words[2] == "create";
        if let (true, Some(last)) = (creates_data, words.last_mut()) {
            if last != "-" && !last.starts_with('/') {
                if let Some(dir) = self.scenario.path.parent() {
                    *last = dir.join(&*last).display().to_string();
                }
            }
        }
        words
    }

    fn curl(&self, node: usize, args: &[String]) -> Captured {
        let mut argv: Vec<String> = vec!["curl".into(), "-sS".into(), "--max-time".into(), CURL_TIMEOUT_S.to_string()];
        for arg in args {
            if let Some(rest) = arg.strip_prefix("http://") {
                let hostport = rest.split('/').next().unwrap_or(rest);
                let (host, port) = hostport.split_once(':').unwrap_or((hostport, "80"));
                // Node names resolve as /etc/hosts would on the tutorial's machines.
                if let Some(target) =
                    self.lab.node_by_host(host).filter(|_| host.parse::<std::net::Ipv4Addr>().is_err())
                {
                    argv.push("--resolve".into());
                    argv.push(format!("{host}:{port}:{}", self.lab.nodes[target].addr));
                }
            }
        }
        argv.extend(args.iter().cloned());
        exec::capture(
            exec::in_netns(&self.lab.nodes[node].netns_path(), &argv),
            None,
            Duration::from_secs(CURL_TIMEOUT_S + 5),
        )
    }

    fn running_nodes(&mut self, only: Option<&str>) -> Result<Vec<usize>, String> {
        match only {
            Some(name) => Ok(vec![self.lab.node_index(name).ok_or_else(|| format!("no host named {name}"))?]),
            None => Ok((0..self.lab.nodes.len()).filter(|n| self.backend.is_running(*n)).collect()),
        }
    }

    /// `kill SERVICE.SLOT` or a container-name prefix: SIGKILL the first running container that
    /// matches, on `on` or on any node, through the node's own daemon (`docker kill`).
    fn kill(&mut self, target: &str, on: Option<&str>) -> Result<String, String> {
        let with_dot = format!("{target}.");
        for node in self.running_nodes(on)? {
            let listed = self.backend.client(self.lab, node, &words(&["ps", "--format", "{{.Names}}"]), None);
            if listed.exit_code != 0 {
                continue;
            }
            let found =
                listed.output.lines().find(|name| name.starts_with(&with_dot) || *name == target).map(str::to_string);
            if let Some(name) = found {
                let killed = self.backend.client(self.lab, node, &words(&["kill", &name]), None);
                if killed.exit_code != 0 {
                    return Err(format!(
                        "docker kill {name} on {}: {}",
                        self.lab.nodes[node].name,
                        killed.output.trim()
                    ));
                }
                return Ok(format!("SIGKILL {name} on {}", self.lab.nodes[node].name));
            }
        }
        Err(format!("no running container matches {target}"))
    }

    fn node(&self, name: &str) -> Result<usize, String> {
        self.lab.node_index(name).ok_or_else(|| format!("no host named {name}"))
    }

    fn crash(&mut self, node: usize) {
        self.lab.kill_node_processes(node);
        self.backend.forget_crashed(node);
    }

    fn fault(&mut self, fault: &Fault) -> Result<String, String> {
        match fault {
            Fault::Kill { target, node } => self.kill(target, node.as_deref()),
            Fault::Crash { node } => {
                let index = self.node(node)?;
                // The simulator's words: a record's note compares across backends.
                self.crash(index);
                Ok(format!("{node} crashed"))
            }
            Fault::Restart { node } => {
                let index = self.node(node)?;
                if self.backend.is_running(index) {
                    return Ok(format!("{node} is already up"));
                }
                // A stopped daemon's containers keep their processes only until it comes back.
                self.backend.start(self.lab, index)?;
                Ok(format!("{node} restarted from its disk"))
            }
            Fault::Pause { node, duration } => {
                let index = self.node(node)?;
                let pid =
                    self.backend.daemon_pid(index).ok_or_else(|| format!("the daemon on {node} is not running"))?;
                crate::procs::pause_for(pid, *duration)?;
                Ok(format!("{node} paused for {duration:?}"))
            }
            Fault::StopDaemon { node } => {
                let index = self.node(node)?;
                self.backend.stop(self.lab, index)?;
                Ok(format!("daemon on {node} stopped (SIGTERM)"))
            }
            Fault::LoseLeader => {
                let leader = self.backend.view(self.lab).leader();
                match leader {
                    Some(name) => {
                        let index = self.node(&name)?;
                        self.crash(index);
                        Ok(format!("the leader, {name}, crashed"))
                    }
                    None => Ok("no leader to lose".into()),
                }
            }
            Fault::Isolate { node } => {
                self.lab.set_link(self.node(node)?, false)?;
                Ok(format!("{node} isolated"))
            }
            Fault::Partition { groups } => {
                // A node named in two groups is a bridge: it reaches both sides.
                let group_of = |name: &String| groups.iter().filter(|g| g.contains(name)).count();
                for (a, group_a) in groups.iter().enumerate() {
                    for group_b in &groups[a + 1..] {
                        for x in group_a.iter().filter(|n| group_of(n) == 1) {
                            for y in group_b.iter().filter(|n| group_of(n) == 1) {
                                let (x, y) = (self.node(x)?, self.node(y)?);
                                self.lab.drop_traffic(x, y, 1.0)?;
                                self.lab.drop_traffic(y, x, 1.0)?;
                            }
                        }
                    }
                }
                Ok("partitioned".into())
            }
            Fault::OneWay { from, to } => {
                self.lab.drop_traffic(self.node(from)?, self.node(to)?, 1.0)?;
                Ok(format!("messages {from} -> {to} are lost"))
            }
            Fault::Link { from, to, both, drop, .. } => {
                let (x, y) = (self.node(from)?, self.node(to)?);
                if *drop > 0.0 {
                    self.lab.drop_traffic(x, y, *drop)?;
                    if *both {
                        self.lab.drop_traffic(y, x, *drop)?;
                    }
                }
                Ok("link degraded".into())
            }
            Fault::Heal => {
                self.lab.heal()?;
                Ok("network healed".into())
            }
            Fault::ClockSkew { .. }
            | Fault::SlowDisk { .. }
            | Fault::FailDisk { .. }
            | Fault::DiskOk { .. }
            | Fault::Corrupt { .. }
            | Fault::Runtime { .. }
            | Fault::LoseDataRoot { .. }
            | Fault::Rejoin { .. } => {
                Err(format!("{} is not supported on backend {}", fault.describe(), self.backend.kind()))
            }
        }
    }

    fn expect(&mut self, expectation: &Expectation) -> StepResult {
        let began = Instant::now();
        let until = began + expectation.within.unwrap_or(Duration::ZERO);
        let seen = loop {
            let poll_started = Instant::now();
            let seen = conditions::describe_failure(&*self.backend.view(self.lab), &expectation.condition);
            if seen.is_none() || Instant::now() >= until {
                break seen;
            }
            std::thread::sleep(POLL_INTERVAL.saturating_sub(poll_started.elapsed()));
        };
        let waited = in_polls(began.elapsed());
        let shown = StepOutcome::Expect {
            text: expectation.text.clone(),
            held: seen.is_none(),
            waited_ms: waited.as_millis() as u64,
            seen: seen.clone(),
        };
        let result = match seen {
            None => {
                let text = format!("# expect: {} — ok after {}", expectation.text, format_duration(waited));
                self.transcript.line(&text);
                Ok(())
            }
            Some(seen) => {
                self.transcript.line(&format!("# expect: {} — FAILED ({seen})", expectation.text));
                let at = format_duration(in_polls(self.started.elapsed()));
                Err(format!("expectation not met: {} (at {at}: {seen})", expectation.text))
            }
        };
        StepResult { shown: Some(shown), result }
    }
}

/// What a step showed (none when it could not even start, e.g. an unknown capture) and
/// whether it passed.
struct StepResult {
    shown: Option<StepOutcome>,
    result: Result<(), String>,
}

/// A wait, rounded down to the poll interval: a real wait is only known that closely.
fn in_polls(waited: Duration) -> Duration {
    let polls = waited.as_millis() / POLL_INTERVAL.as_millis();
    POLL_INTERVAL * polls as u32
}

fn sleep_until(when: Instant) {
    if let Some(left) = when.checked_duration_since(Instant::now()) {
        std::thread::sleep(left);
    }
}

fn words(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// The command as one line, for the transcript (continuations joined), as the simulator's
/// runner prints it.
fn one_line(line: &str) -> String {
    line.replace("\\\n", " ").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Writes each `[[file]]` into `dir` under its name, as the clients read it.
fn write_files(scenario: &Scenario, dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (name, text) in &scenario.files {
        if name.contains("..") || name.starts_with('/') {
            return Err(format!("[[file]] {name:?}: a live run writes files only inside its own directory"));
        }
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_reported_in_whole_polls() {
        assert_eq!(format_duration(in_polls(Duration::from_millis(2_999))), "2750ms");
        assert_eq!(format_duration(in_polls(Duration::from_millis(3_100))), "3s");
        assert_eq!(format_duration(in_polls(Duration::from_millis(40))), "0s");
    }

    #[test]
    fn continuations_join_into_one_line() {
        assert_eq!(
            one_line("sudo docker swarm join \\\n  --token T \\\n  1.2.3.4:2377"),
            "sudo docker swarm join --token T 1.2.3.4:2377"
        );
    }
}
