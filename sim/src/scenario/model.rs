//! The parsed, validated scenario: what the simulator executes.

use super::error::{ScenarioError, SourceFile};
use super::expect::Condition;
use super::template::CommandTemplate;
use super::units::format_duration;
use regex::Regex;
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;
use swarm_core::api::Resources;
use swarm_core::cli::DockerVersion;

#[derive(Clone, Debug)]
pub struct Scenario {
    pub path: PathBuf,
    /// The file's text, kept so the runner can report failures against it (`error_at`).
    pub source: String,
    pub name: String,
    pub description: Option<String>,
    /// The file's seed; the CLI's `--seed` overrides it.
    pub seed: u64,
    /// Simulated time after which the run stops and fails.
    pub max_duration: Duration,
    /// The docker imitated (tables, texts, the behaviours that changed); the CLI's
    /// `--docker-version` overrides it. 1.12, the tutorial's, when the file names none.
    pub docker_version: DockerVersion,
    pub network: NetworkDef,
    /// The images every node's runtime knows: the defaults merged with the file's `[[image]]`s.
    pub images: Vec<ImageDef>,
    pub nodes: Vec<NodeDef>,
    pub steps: Vec<Step>,
    /// The clients `--workload` runs during chaos (`[workload]`, or the defaults).
    pub workload: crate::workload::WorkloadConfig,
    /// `[[file]]`s: text a command reads by that name (a stack's compose file).
    pub files: BTreeMap<String, String>,
}

impl Scenario {
    /// What a command reads as `name`: a `[[file]]` of that name, or else the file at that path
    /// relative to the scenario file's directory. The error is what docker's CLI prints.
    pub fn read_file(&self, name: &str) -> Result<String, String> {
        if let Some(text) = self.files.get(name) {
            return Ok(text.clone());
        }
        let dir = self.path.parent().unwrap_or(std::path::Path::new("."));
        std::fs::read_to_string(dir.join(name)).map_err(|_| format!("open {name}: no such file or directory"))
    }
}

impl Scenario {
    /// An error at a place in this scenario's file, e.g. a failed expectation at
    /// `step.action_span`: it prints as `path:line:col: message` with the line underlined.
    pub fn error_at(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        SourceFile { path: &self.path, text: &self.source }.error(span, message)
    }

    /// The 1-based line of a byte offset in this scenario's file.
    pub fn line_of(&self, offset: usize) -> usize {
        SourceFile { path: &self.path, text: &self.source }.line_column(offset).0
    }

    pub fn node(&self, name: &str) -> Option<&NodeDef> {
        self.nodes.iter().find(|node| node.name == name)
    }

    pub fn image(&self, name: &str) -> Option<&ImageDef> {
        self.images.iter().find(|image| image.name == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NetworkDef {
    /// One-way delay of every link.
    pub latency: Duration,
    /// Each message's delay is latency plus a uniform draw from 0..=jitter.
    pub jitter: Duration,
    /// Probability in 0.0..=1.0 that a message is dropped.
    pub loss: f64,
}

impl Default for NetworkDef {
    fn default() -> Self {
        NetworkDef { latency: Duration::from_millis(1), jitter: Duration::ZERO, loss: 0.0 }
    }
}

/// An image the simulated container runtime can pull and run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageDef {
    /// As the user types it in `service create`: `nginx` (a missing tag means `latest`).
    pub name: String,
    /// The default command, as `docker ps` shows it.
    pub command: String,
    /// `80/tcp`, `53/udp`: normalized, a bare port gets `/tcp`.
    pub exposed_ports: Vec<String>,
    /// When set, the container answers HTTP GET on its first exposed port with this body.
    pub http_body: Option<String>,
    /// Time to pull and create a container (the task shows `Preparing` meanwhile).
    pub pull: Duration,
    /// The main process exits by itself; `None` runs until killed.
    pub exits: Option<ImageExit>,
    /// Containers of this image fail to start with this error (a runtime start error: the
    /// task is FAILED at STARTING).
    pub start_error: Option<String>,
    /// The image's own `HEALTHCHECK` (`healthcheck = "CMD"` and the `health_*` keys).
    pub healthcheck: Option<swarm_core::api::HealthConfig>,
    /// A health command run in its containers (the image's or a service's `--health-cmd`)
    /// passes from this long after the container started (default: at once) …
    pub healthy_after: Duration,
    /// … until this long after it started, and fails from then on (default: never).
    pub unhealthy_after: Option<Duration>,
    /// The main process's exit code when docker stops it (SIGTERM); default 0.
    pub stop_exit_code: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageExit {
    /// Time after the container starts.
    pub after: Duration,
    pub code: i32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeDef {
    /// The hostname, as `node ls` shows it.
    pub name: String,
    /// In file order; the first is the node's default address.
    pub interfaces: Vec<InterfaceDef>,
    /// Where the daemon serves its API, normalized: `unix:///var/run/docker.sock`,
    /// `tcp://0.0.0.0:5555`.
    pub daemon_hosts: Vec<String>,
    pub cpus: u32,
    pub memory_bytes: u64,
    pub labels: BTreeMap<String, String>,
    /// Images this node's runtime fails to pull: its tasks of them are rejected.
    pub missing_images: Vec<String>,
    /// Line of the node's `[[node]]` table.
    pub line: usize,
}

impl NodeDef {
    pub fn resources(&self) -> Resources {
        Resources { nano_cpus: self.cpus as u64 * 1_000_000_000, memory_bytes: self.memory_bytes }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceDef {
    pub name: String,
    pub addr: Ipv4Addr,
}

/// One `[[step]]`. Steps run one after another in file order.
#[derive(Clone, Debug)]
pub struct Step {
    /// Line of the step's `[[step]]` header (or `{` of an inline table).
    pub line: usize,
    /// Byte span of the action's value (the `run`, `kill`, `sleep` or `expect` string): where a
    /// failure of this step is reported, with `Scenario::error_at`.
    pub action_span: Range<usize>,
    /// The node the step happens on: required for `run`, optional for `kill`.
    pub on: Option<String>,
    pub timing: StepTiming,
    pub action: StepAction,
}

/// When a step starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepTiming {
    /// As soon as the previous step is done.
    Immediately,
    /// At this simulated time since the start (never earlier than the previous steps reach).
    At(Duration),
    /// This long after the previous step is done.
    After(Duration),
}

#[derive(Clone, Debug)]
pub enum StepAction {
    /// A command typed on the node `on`.
    Run(RunStep),
    /// Fault: SIGKILL a container (it exits 137). `target` is `service.slot` (the slot's
    /// running container) or a prefix of a container name; searched on `on` or on every node.
    Kill { target: String },
    /// Let simulated time pass.
    Sleep(Duration),
    /// A condition on the whole cluster that must hold, at once or within a bound.
    Expect(Expectation),
    /// Any other fault: crash, restart, stop_daemon, isolate, partition, cut, heal,
    /// lose_leader, link, clock, slow_disk.
    Fault(crate::faults::Fault),
}

impl StepAction {
    /// The key the file uses for the action: `run`, `kill`, `sleep`, `expect`.
    pub fn keyword(&self) -> &'static str {
        match self {
            StepAction::Run(_) => "run",
            StepAction::Kill { .. } => "kill",
            StepAction::Sleep(_) => "sleep",
            StepAction::Expect(_) => "expect",
            StepAction::Fault(_) => "fault",
        }
    }
}

#[derive(Clone, Debug)]
pub struct RunStep {
    /// The command line; `${name}` is filled from earlier captures when the step runs.
    pub command: CommandTemplate,
    /// Expected exit code (default 0).
    pub exit_code: i32,
    /// Substrings the output must contain.
    pub output_contains: Vec<String>,
    /// Each must match at least one line of the output.
    pub output_matches: Vec<Regex>,
    /// Substrings the output must not contain.
    pub output_lacks: Vec<String>,
    /// Values saved from the output for later `${name}` uses, in file order.
    pub captures: Vec<Capture>,
    /// Name of the golden file the output is compared with.
    pub snapshot: Option<String>,
    /// What the command reads on its standard input (`docker secret create NAME -`).
    pub stdin: Option<String>,
}

impl RunStep {
    /// Every way `exit_code` and `output` miss this step's expectations, one sentence each; empty
    /// when the step passed. Captures are not checked here (see `Capture::extract`).
    pub fn check_output(&self, exit_code: i32, output: &str) -> Vec<String> {
        let mut failures = Vec::new();
        if exit_code != self.exit_code {
            failures.push(format!("exit code {exit_code}, expected {}", self.exit_code));
        }
        for needle in &self.output_contains {
            if !output.contains(needle.as_str()) {
                failures.push(format!("output does not contain {needle:?}"));
            }
        }
        for pattern in &self.output_matches {
            if !output.lines().any(|line| pattern.is_match(line)) {
                failures.push(format!("no output line matches /{}/", pattern.as_str()));
            }
        }
        for needle in &self.output_lacks {
            if output.contains(needle.as_str()) {
                failures.push(format!("output contains {needle:?}"));
            }
        }
        failures
    }
}

/// `capture = { worker_token = 'SWMTKN-1-\S+' }`.
#[derive(Clone, Debug)]
pub struct Capture {
    pub name: String,
    pub pattern: Regex,
}

impl Capture {
    /// The first match's group 1 if the pattern has a group, else the whole match.
    pub fn extract<'o>(&self, output: &'o str) -> Option<&'o str> {
        let found = self.pattern.captures(output)?;
        found.get(1).or_else(|| found.get(0)).map(|m| m.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expectation {
    /// `None`: must hold when the step runs. `Some(d)`: must come to hold within `d`.
    pub within: Option<Duration>,
    pub condition: Condition,
    /// The sentence as written, for reports.
    pub text: String,
}

impl fmt::Display for Expectation {
    /// The canonical sentence: `within 30s mynginx has 2 running tasks`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(within) = self.within {
            write!(f, "within {} ", format_duration(within))?;
        }
        write!(f, "{}", self.condition)
    }
}
