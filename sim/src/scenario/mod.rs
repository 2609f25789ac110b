//! Scenario files: a swarm session written down, with faults and expectations.
//!
//! A scenario is a TOML file that reads like a shell session across several hosts: commands typed
//! on nodes, faults injected, time let pass, and conditions the cluster must reach. The simulator
//! runs it; this module parses and validates it, and every mistake is reported as
//! `path:line:column: message` followed by the line with the spot underlined:
//!
//! ```text
//! scenarios/failover.toml:12:1: unknown field `kil`, expected one of `on`, `at`, `after`, ...
//!    |
//! 12 | kil = "mynginx.2"
//!    | ^^^
//! ```
//!
//! # The format
//!
//! ```toml
//! # failover.toml — a killed task is replaced on another node
//! name = "failover"
//! description = "..."          # optional
//! seed = 1                     # optional (default 0); the CLI's --seed overrides it
//! max_duration = "30m"         # optional bound on simulated time (default 1h)
//! docker_version = "1.12"      # optional: "1.12" (default, the tutorial's) or "20.10"; --docker-version overrides it
//!
//! [network]                    # optional; all keys optional
//! latency = "1ms"              # one-way delay per message (default 1ms)
//! jitter = "200us"             # plus uniform 0..=jitter (default 0s)
//! loss = 0.0                   # probability a message is dropped (default 0.0)
//!
//! [[image]]                    # images the runtime knows besides the defaults (nginx, busybox);
//! name = "nginx"               # an entry named like a default replaces it; one named with a
//!                              # tag (`nginx:broken`) is that tag only, so a new version can fail
//! command = "nginx -g 'daemon off;'"
//! exposed_ports = ["80/tcp"]   # optional; "80" means "80/tcp"
//! http_body = "<title>Welcome to nginx!</title>"   # optional: answers HTTP on its first exposed port
//! pull = "2s"                  # optional (default 1s): pull+create time, the task shows Preparing
//! exit_after = "10s"           # optional: the main process exits by itself after this...
//! exit_code = 1                # ...with this code (default 0): crash loops
//! start_error = "OCI runtime create failed: ..."   # optional: every start fails with this
//! healthcheck = "test -e /tmp/healthy"   # optional: the image's HEALTHCHECK (run by the shell)
//! health_interval = "30s"      # optional HEALTHCHECK options (dockerd's defaults: 30s, 30s,
//! health_timeout = "30s"       #   3 retries, no start period); only with `healthcheck`
//! health_retries = 3
//! health_start_period = "0s"
//! healthy_after = "5s"         # optional (default 0s): a health command in its containers passes
//! unhealthy_after = "30s"      #   from this long after the start, until this (default: never)
//! stop_exit_code = 143         # optional (default 0): the exit code when stopped (SIGTERM)
//!
//! [[node]]
//! name = "bd0"                 # the hostname `node ls` shows
//! interfaces = [ { name = "eth0", addr = "192.168.0.109" }, { name = "virbr0", addr = "192.168.122.1" } ]
//! # or, for one interface:  addr = "192.168.0.109"   (an interface named eth0)
//! daemon_hosts = ["unix:///var/run/docker.sock", "tcp://0.0.0.0:5555"]   # optional (default: the unix socket)
//! cpus = 2                     # optional (default 2)
//! memory = "4GiB"              # optional (default 4GiB); B, KiB, MiB, GiB, KB, MB, GB
//! labels = { zone = "a" }      # optional engine labels (`engine.labels.zone`; dockerd's --label)
//! missing_images = ["nginx"]   # optional: images this node fails to pull (its tasks are rejected)
//!
//! [[step]]                     # a command typed on a node
//! on = "bd0"
//! run = "docker swarm init --advertise-addr 192.168.0.109"
//! exit = 0                     # expected exit code (default 0)
//! output_contains = ["Swarm initialized"]      # substrings the output must contain
//! output_matches = ['mynginx\.2 .* Running']   # regexes, each must match at least one line
//! output_lacks = ["Error"]                     # substrings the output must not contain
//! capture = { worker_token = 'SWMTKN-1-\S+' }  # saves the first match (its group 1 if it has
//!                                              # one) as ${worker_token} for later steps
//! snapshot = "walkthrough-node-ls"             # golden-output name (insta)
//!
//! [[step]]
//! on = "bd1"
//! run = "docker swarm join --token ${worker_token} 192.168.0.109:2377"
//!
//! [[step]]
//! kill = "mynginx.2"           # fault: SIGKILL the container (exit 137) of that task
//! on = "bd2"                   # (SERVICE.SLOT, or a container name prefix); `on` optional
//!
//! [[step]]
//! sleep = "10s"                # let simulated time pass
//!
//! # Other faults: one key per step, naming the nodes themselves (no `on`).
//! [[step]]
//! crash = "bd1"                # host crash: memory and containers lost, the disk keeps what was synced
//! [[step]]
//! restart = "bd1"              # the host starts again from its disk
//! [[step]]
//! stop_daemon = "bd1"          # clean daemon stop: it stops its containers (restart brings it back)
//! [[step]]
//! lose_leader = true           # crash whichever manager leads now
//! [[step]]
//! isolate = "bd2"              # cut every link of bd2
//! [[step]]
//! partition = [["bd0"], ["bd1"]]   # groups that cannot reach each other (a node at most once)
//! bridge = "bd2"               # optional: a node in every group, reaching both sides
//! [[step]]
//! cut = ["bd0", "bd1"]         # one way: messages from bd0 to bd1 are lost
//! [[step]]
//! link = { from = "bd0", to = "bd1", both = true, drop = 0.1, duplicate = 0.05, delay = "20ms", jitter = "50ms" }
//! [[step]]
//! clock = { node = "bd2", offset = "-3s", drift_ppm = 200 }   # skew and drift of bd2's clock
//! [[step]]
//! slow_disk = { node = "bd0", delay = "300ms" }   # writes take this long to be durable
//! [[step]]
//! fail_disk = "bd0"            # the next write fails: the daemon stops, the write is lost
//! [[step]]
//! disk_ok = "bd0"              # bd0's disk is fast and sound again (a pending failure disarmed)
//! [[step]]
//! pause = { node = "bd1", for = "20s" }           # the daemon handles nothing for 20s (SIGSTOP)
//! [[step]]
//! corrupt = { from = "bd0", to = "bd1", rate = 0.3 }   # frames damaged: refused by checksum
//! [[step]]
//! runtime_fails = { node = "bd2", for = "30s" }   # create and start answer an error
//! [[step]]
//! runtime_hangs = { node = "bd2", for = "30s" }   # the runtime answers nothing until then
//! [[step]]
//! lose_data_root = "bd2"       # crash, then start with an empty data root (outside the swarm)
//! [[step]]
//! rejoin = "bd2"               # join it again as a new worker (the leader's token and address)
//! [[step]]
//! heal = true                  # lift every partition and link fault
//!
//! [[step]]
//! expect = "within 30s mynginx has 2 running tasks on distinct nodes"
//! ```
//!
//! Steps run one after another in file order. Each has exactly one action (`run`, `kill`, `sleep`
//! or `expect`) and starts when the previous one is done, unless it says `at = "2m"` (at that
//! simulated time since the start, never earlier than the earlier steps' `at`/`after`/`sleep`
//! reach) or `after = "5s"` (that long after the previous step). `${name}` in `run` is replaced
//! by what an earlier step captured; `$${` writes a literal `${`.
//!
//! Durations are number+unit pairs: `"200us"`, `"1ms"`, `"1.5s"`, `"1m30s"`, `"2h"`.
//!
//! # Expectations
//!
//! ```text
//! [within DURATION] SERVICE has N running task(s) [on distinct nodes]
//! [within DURATION] SERVICE slot N is running on another node than before
//! [within DURATION] SERVICE slot N previous task failed with "TEXT"
//! [within DURATION] SERVICE is gone             (no service, tasks or containers of it)
//! [within DURATION] no container of SERVICE runs on NODE
//! [within DURATION] node NODE is ready|down|unknown|disconnected
//! [within DURATION] node NODE is active|pause|drain
//! [within DURATION] a leader is elected
//! [within DURATION] NODE is the leader
//! [within DURATION] SERVICE runs image IMAGE on N task(s)   (N of its running tasks run IMAGE)
//! [within DURATION] update of SERVICE is updating|paused|completed|rolling back|rollback paused|rolled back
//! ```
//! Without `within` the condition must hold when the step runs; with it, it must come to hold
//! within that much simulated time. A `NODE` must be a declared `[[node]]`.

mod build;
mod error;
mod expect;
mod images;
mod model;
mod raw;
mod template;
mod units;

#[cfg(test)]
mod tests;

pub use build::DEFAULT_MAX_DURATION;
pub use error::ScenarioError;
pub use expect::{parse_expectation, Condition, ExpectError, ParsedExpectation};
pub use images::default_images;
pub use model::{
    Capture, Expectation, ImageDef, ImageExit, InterfaceDef, NetworkDef, NodeDef, RunStep, Scenario, Step, StepAction,
    StepTiming,
};
pub use template::{CommandTemplate, TemplateError};
pub use units::{format_duration, parse_byte_size, parse_duration};

use error::SourceFile;
use raw::{friendly_serde_message, RawScenario};
use std::path::Path;

/// Reads and parses the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let source = std::fs::read_to_string(path)
        .map_err(|e| ScenarioError::whole_file(path, format!("cannot read the scenario file: {e}")))?;
    parse(path, &source)
}

/// Parses and validates scenario text; `path` is only used in errors and kept in the result.
pub fn parse(path: &Path, source: &str) -> Result<Scenario, ScenarioError> {
    let file = SourceFile { path, text: source };
    let raw: RawScenario = toml::from_str(source).map_err(|e| {
        // toml's own messages may span lines ("invalid string\nexpected ..."): keep one line.
        let mut message = friendly_serde_message(&e.message().trim().replace('\n', "; "));
        if message.is_empty() {
            // toml gives no words for a control character (found by fuzz/'s `scenario_file`):
            // name the character it stopped at.
            message = match e.span().and_then(|span| source.get(span.start..)).and_then(|rest| rest.chars().next()) {
                Some(c) => format!(
                    "unexpected character {c:?} (U+{:04X}): TOML allows no control characters but tab",
                    c as u32
                ),
                None => "the file is not valid TOML".to_string(),
            };
        }
        match e.span() {
            Some(span) => file.error(span, message),
            None => ScenarioError::whole_file(path, message),
        }
    })?;
    build::build(file, raw)
}
