//! Whole files through `parse`: a good one gives the right structures, each kind of mistake an
//! error at the exact line and column.

use super::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use swarm_core::api::{Availability, NodeState};

const WALKTHROUGH: &str = include_str!("testdata/walkthrough.toml");

fn walkthrough() -> Scenario {
    parse(Path::new("scenarios/walkthrough.toml"), WALKTHROUGH).unwrap_or_else(|e| panic!("{e}"))
}

fn run_step(step: &Step) -> &RunStep {
    match &step.action {
        StepAction::Run(run) => run,
        other => panic!("line {}: expected a run step, got {other:?}", step.line),
    }
}

fn expectation(step: &Step) -> &Expectation {
    match &step.action {
        StepAction::Expect(expectation) => expectation,
        other => panic!("line {}: expected an expect step, got {other:?}", step.line),
    }
}

#[test]
fn walkthrough_header_network_and_images() {
    let s = walkthrough();
    assert_eq!(s.path, PathBuf::from("scenarios/walkthrough.toml"));
    assert_eq!(s.name, "walkthrough");
    assert_eq!(s.description.as_deref(), Some("The swarm-mode tutorial, step by step"));
    assert_eq!(s.seed, 7);
    assert_eq!(s.max_duration, Duration::from_secs(30 * 60));
    assert_eq!(s.docker_version, swarm_core::cli::DockerVersion::V1_12, "the tutorial's, when the file names none");
    assert_eq!(
        s.network,
        NetworkDef { latency: Duration::from_millis(1), jitter: Duration::from_micros(200), loss: 0.0 }
    );

    let names: Vec<_> = s.images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["nginx", "busybox", "crasher"]);
    assert_eq!(s.image("nginx"), Some(&default_images()[0]));
    assert_eq!(
        s.image("crasher"),
        Some(&ImageDef {
            name: "crasher".into(),
            command: "sh -c 'sleep 5; exit 1'".into(),
            exposed_ports: vec![],
            http_body: None,
            pull: Duration::from_millis(500),
            exits: Some(ImageExit { after: Duration::from_secs(5), code: 1 }),
            start_error: None,
            healthcheck: None,
            healthy_after: Duration::ZERO,
            unhealthy_after: None,
            stop_exit_code: 0,
        })
    );
}

#[test]
fn walkthrough_nodes() {
    let s = walkthrough();
    let bd0 = s.node("bd0").unwrap();
    assert_eq!(
        bd0.interfaces,
        [
            InterfaceDef { name: "eth0".into(), addr: "192.168.0.109".parse().unwrap() },
            InterfaceDef { name: "virbr0".into(), addr: "192.168.122.1".parse().unwrap() },
        ]
    );
    assert_eq!(bd0.daemon_hosts, ["unix:///var/run/docker.sock", "tcp://0.0.0.0:5555"]);
    assert_eq!((bd0.cpus, bd0.memory_bytes), (2, 4 << 30));
    assert_eq!(bd0.labels.get("zone").map(String::as_str), Some("a"));
    assert_eq!(bd0.line, 19);

    let bd1 = s.node("bd1").unwrap();
    assert_eq!(bd1.interfaces, [InterfaceDef { name: "eth0".into(), addr: "192.168.0.192".parse().unwrap() }]);
    assert_eq!(bd1.daemon_hosts, ["unix:///var/run/docker.sock"]);
    assert_eq!(bd1.resources().nano_cpus, 4_000_000_000);
    assert_eq!(bd1.memory_bytes, 8 << 30);
    assert_eq!(s.node("bd2").unwrap().missing_images, ["crasher"]);
}

#[test]
fn walkthrough_steps() {
    let s = walkthrough();
    assert_eq!(s.steps.len(), 23);
    let keywords: String = s.steps.iter().map(|step| &step.action.keyword()[..1]).collect();
    assert_eq!(keywords, "rrrrrrerrrrerrkeerseree");

    let first = &s.steps[0];
    assert_eq!((first.line, first.on.as_deref(), first.timing), (37, Some("bd1"), StepTiming::Immediately));
    assert_eq!(&s.source[first.action_span.clone()], "\"docker -H 192.168.0.109:5555 ps\"");
    assert_eq!(run_step(first).output_contains, ["CONTAINER ID"]);
    assert_eq!(run_step(first).exit_code, 0);
    assert_eq!(run_step(&s.steps[1]).exit_code, 1);

    let init = run_step(&s.steps[2]);
    assert_eq!(init.command.text(), "docker swarm init --advertise-addr 192.168.0.109");
    let captured: Vec<_> = init.captures.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(captured, ["worker_token", "manager_addr"]);
    let output = "Swarm initialized: current node (abc) is now a manager.\n\n    docker swarm join --token SWMTKN-1-xyz 192.168.0.109:2377\n";
    assert_eq!(init.captures[0].extract(output), Some("SWMTKN-1-xyz"));
    assert_eq!(init.captures[1].extract(output), Some("192.168.0.109:2377"));
    assert!(init.check_output(0, output).is_empty(), "{:?}", init.check_output(0, output));
    assert_eq!(
        init.check_output(1, "Error"),
        [
            "exit code 1, expected 0",
            "output does not contain \"Swarm initialized: current node (\"",
            "output does not contain \") is now a manager.\"",
            r"no output line matches /^\s+docker swarm join --token SWMTKN-1-\S+ 192\.168\.0\.109:2377$/",
        ]
    );

    let join = run_step(&s.steps[4]);
    let values = BTreeMap::from([
        ("worker_token".to_string(), "SWMTKN-1-xyz".to_string()),
        ("manager_addr".to_string(), "192.168.0.109:2377".to_string()),
    ]);
    assert_eq!(join.command.render(&values).unwrap(), "docker swarm join --token SWMTKN-1-xyz 192.168.0.109:2377");
    assert_eq!(s.steps[5].timing, StepTiming::After(Duration::from_secs(1)));

    assert_eq!(
        expectation(&s.steps[6]),
        &Expectation {
            within: Some(Duration::from_secs(10)),
            condition: Condition::NodeState { node: "bd2".into(), state: NodeState::Ready },
            text: "within 10s node bd2 is ready".into(),
        }
    );
    assert_eq!(run_step(&s.steps[7]).snapshot.as_deref(), Some("walkthrough-node-ls"));

    let kill = &s.steps[14];
    assert_eq!(kill.timing, StepTiming::At(Duration::from_secs(300)));
    assert!(matches!(&kill.action, StepAction::Kill { target } if target == "mynginx.2"));
    assert_eq!(kill.on, None);
    assert_eq!(
        expectation(&s.steps[15]).condition,
        Condition::SlotPreviousTaskFailed {
            service: "mynginx".into(),
            slot: 2,
            error: "task: non-zero exit (137)".into()
        }
    );
    assert!(matches!(s.steps[18].action, StepAction::Sleep(d) if d == Duration::from_secs(20)));
    assert_eq!(expectation(&s.steps[21]).to_string(), "within 1m mynginx is gone");
    assert_eq!(expectation(&s.steps[22]).condition, Condition::IsLeader { node: "bd0".into() });
}

#[test]
fn a_minimal_file_gets_the_defaults() {
    let s = parse(Path::new("min.toml"), "name = \"min\"\n[[node]]\nname = \"n1\"\naddr = \"10.0.0.1\"\n").unwrap();
    assert_eq!((s.seed, s.max_duration), (0, DEFAULT_MAX_DURATION));
    assert_eq!(s.network, NetworkDef::default());
    assert_eq!(s.images, default_images());
    assert!(s.steps.is_empty());
}

#[test]
fn runner_failures_are_reported_against_the_step() {
    let s = walkthrough();
    let step = &s.steps[6];
    let failure = s.error_at(step.action_span.clone(), "expectation not met after 10s: bd2 is down");
    assert_eq!(
        failure.to_string(),
        "scenarios/walkthrough.toml:76:10: expectation not met after 10s: bd2 is down\n   |\n76 | expect = \"within 10s node bd2 is ready\"\n   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"
    );
}

// ---- mistakes ----------------------------------------------------------------------------------

/// Two nodes on lines 2-7; tests append from line 8 on.
const NODES: &str = "name = \"t\"
[[node]]
name = \"bd0\"
addr = \"192.168.0.109\"
[[node]]
name = \"bd1\"
addr = \"192.168.0.192\"
";

/// Parses `NODES` followed by `rest` and returns (line, column, message) of the error.
fn mistake(rest: &str) -> (usize, usize, String) {
    let source = format!("{NODES}{rest}");
    let e = parse(Path::new("scenarios/x.toml"), &source).expect_err("the file should be refused");
    assert_eq!(e.path, Path::new("scenarios/x.toml"));
    assert!(e.snippet.is_some(), "no snippet for {e}");
    (e.line, e.column, e.message)
}

/// Top-level keys (`header`, from line 1) must come before the first table (`NODES`).
fn header_mistake(header: &str) -> (usize, usize, String) {
    mistake_with_header(header, "")
}

fn mistake_with_header(header: &str, rest: &str) -> (usize, usize, String) {
    let source = format!("{header}{NODES}{rest}");
    let e = parse(Path::new("scenarios/x.toml"), &source).expect_err("the file should be refused");
    (e.line, e.column, e.message)
}

fn assert_header_mistake(header: &str, line: usize, column: usize, message: &str) {
    assert_eq!(header_mistake(header), (line, column, message.to_string()), "for:\n{header}");
}

fn assert_mistake(rest: &str, line: usize, column: usize, message: &str) {
    let (l, c, m) = mistake(rest);
    assert_eq!((l, c, m.as_str()), (line, column, message), "for:\n{rest}");
}

fn assert_mistake_starts(rest: &str, line: usize, column: usize, message_start: &str) {
    let (l, c, m) = mistake(rest);
    assert_eq!((l, c), (line, column), "{m}\nfor:\n{rest}");
    assert!(m.starts_with(message_start), "message {m:?} should start with {message_start:?}");
}

#[test]
fn display_is_path_line_column_message_and_snippet() {
    let source = format!("{NODES}[[step]]\n  kil = \"mynginx.2\"\n");
    let e = parse(Path::new("scenarios/x.toml"), &source).unwrap_err();
    assert_eq!(
        e.to_string(),
        "scenarios/x.toml:9:3: unknown field `kil`, expected one of `on`, `at`, `after`, `run`, `kill`, `sleep`, \
`expect`, `crash`, `restart`, `stop_daemon`, `isolate`, `partition`, `bridge`, `cut`, `heal`, `lose_leader`, \
`link`, `clock`, `slow_disk`, `fail_disk`, `disk_ok`, `pause`, `corrupt`, `runtime_fails`, `runtime_hangs`, `lose_data_root`, `rejoin`, `exit`, `output_contains`, `output_matches`, `output_lacks`, `capture`, `snapshot`, `stdin`\n  |\n9 |   kil = \"mynginx.2\"\n  |   ^^^"
    );
}

#[test]
fn unknown_keys() {
    let (line, column, message) = header_mistake("nmae = \"x\"\n");
    assert_eq!((line, column), (1, 1));
    assert!(message.starts_with("unknown field `nmae`, expected one of `name`, `description`, `seed`"), "{message}");
    assert_mistake_starts(
        "[[step]]\non = \"bd0\"\nrun = \"docker ps\"\noutput_contain = [\"x\"]\n",
        11,
        1,
        "unknown field `output_contain`",
    );
    // A top-level key after a table header belongs to that table: say so.
    assert_mistake(
        "seed = 3\n",
        8,
        1,
        "unknown field `seed`, expected one of `name`, `addr`, `interfaces`, `daemon_hosts`, `cpus`, `memory`, \
`labels`, `missing_images`; `seed` is a top-level key, and TOML puts every key after a [[table]] header into \
that table: move it above the first table",
    );
    assert_mistake_starts(
        "[network]\nlatncy = \"1ms\"\n",
        9,
        1,
        "unknown field `latncy`, expected one of `latency`, `jitter`, `loss`",
    );
    assert_mistake_starts(
        "[[node]]\nname = \"bd2\"\ninterfaces = [{ name = \"eth0\", adr = \"10.0.0.1\" }]\n",
        10,
        32,
        "unknown field `adr`",
    );
}

#[test]
fn wrong_types_and_missing_keys() {
    assert_mistake(
        "[[node]]\nname = \"bd2\"\naddr = \"10.0.0.2\"\ncpus = \"two\"\n",
        11,
        8,
        "invalid type: string \"two\", expected an integer",
    );
    assert_mistake_starts(
        "[[step]]\non = \"bd0\"\nrun = [\"docker\", \"ps\"]\n",
        10,
        7,
        "invalid type: sequence, expected a string",
    );
    assert_mistake_starts("[[step]]\nsleep = 10\n", 9, 9, "a duration needs a unit: write \"10s\" or \"10ms\"");
    let e = parse(Path::new("x.toml"), "seed = 1\n").unwrap_err();
    assert_eq!((e.line, e.column, e.message.as_str()), (1, 1, "missing field `name`"));
    assert_mistake("[[node]]\naddr = \"10.0.0.2\"\n", 8, 1, "missing field `name`");
}

#[test]
fn step_actions() {
    assert_mistake("[[step]]\non = \"bd0\"\n", 8, 1, "a step needs an action: one of `run`, `kill`, `sleep`, `expect`, or a fault (`crash`, `restart`, `stop_daemon`, `isolate`, `partition`, `cut`, `heal`, `lose_leader`, `link`, `clock`, `slow_disk`, `fail_disk`, `disk_ok`, `pause`, `corrupt`, `runtime_fails`, `runtime_hangs`, `lose_data_root`, `rejoin`)");
    assert_mistake(
        "[[step]]\non = \"bd0\"\nrun = \"docker ps\"\nsleep = \"5s\"\n",
        11,
        9,
        "a step does one thing, but this one has both `run` and `sleep`: give each its own [[step]]",
    );
    assert_mistake(
        "[[step]]\nkill = \"mynginx.2\"\nexit = 137\n",
        10,
        8,
        "`exit` only applies to `run` steps, and this is a `kill` step",
    );
    assert_mistake(
        "[[step]]\nrun = \"docker ps\"\n",
        9,
        7,
        "a `run` step needs `on = \"NODE\"`: the node the command is typed on",
    );
    assert_mistake("[[step]]\non = \"bd0\"\nrun = \"  \"\n", 10, 7, "the command is empty");
    assert_mistake_starts("[[step]]\nkill = \"mynginx 2\"\n", 9, 8, "`kill` takes one container");
}

#[test]
fn on_must_name_a_declared_node() {
    assert_mistake(
        "[[step]]\non = \"bd3\"\nrun = \"docker ps\"\n",
        9,
        6,
        "unknown node `bd3`; the nodes are `bd0`, `bd1`",
    );
    assert_mistake("[[step]]\nkill = \"x.1\"\non = \"bd9\"\n", 10, 6, "unknown node `bd9`; the nodes are `bd0`, `bd1`");
    assert_mistake(
        "[[step]]\nsleep = \"1s\"\non = \"bd0\"\n",
        10,
        6,
        "`on` has no meaning for a `sleep` step: time passes everywhere",
    );
}

#[test]
fn nodes_and_addresses() {
    assert_mistake(
        "[[node]]\nname = \"bd0\"\naddr = \"10.0.0.9\"\n",
        9,
        8,
        "node `bd0` is declared twice (first at line 3)",
    );
    assert_mistake(
        "[[node]]\nname = \"bd2\"\naddr = \"192.168.0.192\"\n",
        10,
        8,
        "address 192.168.0.192 is already used by bd1 eth0 (line 7)",
    );
    assert_mistake(
        "[[node]]\nname = \"bd2\"\ninterfaces = [{ name = \"eth0\", addr = \"10.0.0.1\" }, { name = \"eth0\", addr = \"10.0.0.2\" }]\n",
        10,
        62,
        "node `bd2` has two interfaces named `eth0`",
    );
    assert_mistake(
        "[[node]]\nname = \"bd2\"\naddr = \"192.168.0.300\"\n",
        10,
        8,
        "`192.168.0.300` is not an IPv4 address (expected four numbers 0-255, e.g. 192.168.0.10)",
    );
    assert_mistake(
        "[[node]]\nname = \"bd2\"\naddr = \"127.0.0.1\"\n",
        10,
        8,
        "127.0.0.1 cannot be a host interface address",
    );
    assert_mistake_starts("[[node]]\nname = \"bd2\"\n", 9, 8, "node `bd2` needs an address");
    assert_mistake_starts(
        "[[node]]\nname = \"bd2\"\naddr = \"10.0.0.2\"\ninterfaces = []\n",
        10,
        8,
        "give either `addr` (one interface, eth0) or `interfaces`, not both",
    );
    assert_mistake(
        "[[node]]\nname = \"bd 2\"\naddr = \"10.0.0.2\"\n",
        9,
        8,
        "invalid node name `bd 2`: use letters, digits, `-`, `_` and `.`, starting with a letter or digit",
    );
    assert_mistake(
        "[[node]]\nname = \"bd2\"\naddr = \"10.0.0.2\"\ndaemon_hosts = [\"tcp://10.0.0.3:5555\"]\n",
        11,
        17,
        "daemon host `tcp://10.0.0.3:5555` listens on 10.0.0.3, which is not one of this node's addresses (or 0.0.0.0)",
    );
    assert_mistake_starts(
        "[[node]]\nname = \"bd2\"\naddr = \"10.0.0.2\"\ndaemon_hosts = [\"http://x\"]\n",
        11,
        17,
        "invalid daemon host `http://x`",
    );
    assert_mistake_starts(
        "[[node]]\nname = \"bd2\"\naddr = \"10.0.0.2\"\nmissing_images = [\"ngnix\"]\n",
        11,
        19,
        "unknown image `ngnix`; the known images are `nginx`, `busybox`",
    );
    assert_mistake(
        "[[node]]\nname = \"bd2\"\naddr = \"10.0.0.2\"\nmemory = \"4 gigs\"\n",
        11,
        10,
        "invalid size `4 gigs`: unknown unit `gigs` (use B, KiB, MiB, GiB, TiB, KB, MB, GB or TB)",
    );
}

#[test]
fn negative_numbers() {
    assert_header_mistake("seed = -3\n", 1, 8, "`seed` must not be negative, found -3");
    assert_mistake(
        "[[step]]\non = \"bd0\"\nrun = \"docker ps\"\nexit = -1\n",
        11,
        8,
        "`exit` must not be negative: found -1, expected 0 to 255",
    );
    assert_mistake(
        "[[step]]\non = \"bd0\"\nrun = \"docker ps\"\nexit = 256\n",
        11,
        8,
        "`exit` is out of range: found 256, expected 0 to 255",
    );
    assert_mistake(
        "[[node]]\nname = \"bd2\"\naddr = \"10.0.0.2\"\ncpus = -2\n",
        11,
        8,
        "`cpus` must not be negative: found -2, expected 1 to 1024",
    );
    assert_mistake(
        "[[image]]\nname = \"x\"\ncommand = \"x\"\nexit_after = \"1s\"\nexit_code = -1\n",
        12,
        13,
        "`exit_code` must not be negative: found -1, expected 0 to 255",
    );
    assert_mistake("[network]\nloss = -0.5\n", 9, 8, "`loss` is a probability between 0.0 and 1.0, found -0.5");
    assert_mistake_starts("[[step]]\nsleep = \"-5s\"\n", 9, 9, "negative duration `-5s`");
}

#[test]
fn durations() {
    assert_mistake(
        "[[step]]\nsleep = \"5x\"\n",
        9,
        9,
        "invalid duration `5x`: unknown unit at `x` (use ns, us, ms, s, m, h or d)",
    );
    assert_mistake_starts("[network]\njitter = \"\"\n", 9, 10, "empty duration");
    assert_header_mistake("max_duration = \"0s\"\n", 1, 16, "`max_duration` must be more than zero");
    assert_mistake(
        "[[step]]\nat = \"2m\"\nsleep = \"1s\"\n[[step]]\nat = \"1m\"\nsleep = \"1s\"\n",
        12,
        6,
        "`at` goes back in time: 1m is earlier than 2m1s, reached by the step at line 8; steps run in file order",
    );
    assert_mistake(
        "[[step]]\nat = \"1s\"\nafter = \"2s\"\nsleep = \"1s\"\n",
        10,
        9,
        "give either `at` or `after`, not both",
    );
    assert_eq!(
        mistake_with_header("max_duration = \"1m\"\n", "[[step]]\nafter = \"50s\"\nsleep = \"20s\"\n"),
        (
            11,
            9,
            "this sleep ends at 1m10s or later, past `max_duration` (1m); raise `max_duration` if that is meant"
                .to_string()
        )
    );
}

#[test]
fn regexes_and_variables() {
    assert_mistake(
        "[[step]]\non = \"bd0\"\nrun = \"docker service ps mynginx\"\noutput_matches = ['mynginx\\.2 (']\n",
        11,
        31,
        "invalid regex: unclosed group",
    );
    assert_mistake(
        "[[step]]\non = \"bd0\"\nrun = \"docker swarm init\"\ncapture = { token = 'SWMTKN-1-[' }\n",
        11,
        31,
        "invalid regex: unclosed character class",
    );
    assert_mistake_starts(
        "[[step]]\non = \"bd0\"\nrun = \"x\"\ncapture = { 1token = 'x' }\n",
        11,
        13,
        "invalid variable name `1token`",
    );
    assert_mistake(
        "[[step]]\non = \"bd1\"\nrun = \"docker swarm join --token ${worker_token} 192.168.0.109:2377\"\n",
        10,
        34,
        "unknown variable `${worker_token}`: no earlier step captures it (no earlier step has a `capture`)",
    );
    // A step's own captures are for later steps.
    assert_mistake(
        "[[step]]\non = \"bd0\"\nrun = \"docker swarm init\"\ncapture = { token = 'SWMTKN\\S+' }\n\
[[step]]\non = \"bd1\"\nrun = \"echo ${tokn} ${self}\"\ncapture = { self = 'x' }\n",
        14,
        13,
        "unknown variable `${tokn}`: no earlier step captures it (captured so far: `token`)",
    );
    assert_mistake_starts("[[step]]\non = \"bd0\"\nrun = \"echo ${oops\"\n", 10, 13, "unclosed `${`");
    assert_mistake(
        "[[step]]\non = \"bd0\"\nrun = \"docker ps\"\nsnapshot = \"ps\"\n[[step]]\non = \"bd0\"\nrun = \"docker ps\"\nsnapshot = \"ps\"\n",
        15,
        12,
        "snapshot `ps` is already used by the step at line 8",
    );
}

#[test]
fn expectations() {
    assert_mistake(
        "[[step]]\nexpect = \"within 30s mynginx has 2 runing tasks\"\n",
        9,
        36,
        "expected `running`, found `runing` (in `SERVICE has N running tasks`)",
    );
    assert_mistake(
        "[[step]]\nexpect = \"within 3O s a leader is elected\"\n",
        9,
        18,
        "invalid duration `3O`: unknown unit at `O` (use ns, us, ms, s, m, h or d)",
    );
    assert_mistake(
        "[[step]]\nexpect = \"node bd3 is ready\"\n",
        9,
        16,
        "unknown node `bd3`; the nodes are `bd0`, `bd1`",
    );
    assert_mistake(
        "[[step]]\nexpect = 'no container of mynginx runs on bd7'\n",
        9,
        43,
        "unknown node `bd7`; the nodes are `bd0`, `bd1`",
    );
    assert_mistake(
        "[[step]]\nexpect = \"bd4 is the leader\"\n",
        9,
        11,
        "unknown node `bd4`; the nodes are `bd0`, `bd1`",
    );
    assert_mistake_starts(
        "[[step]]\nexpect = \"\"\n",
        9,
        10,
        "empty expectation; write one of `SERVICE has N running tasks",
    );
    assert_mistake(
        "[[step]]\nexpect = \"a leader is\"\n",
        9,
        22,
        "expected `elected`, found the end of the sentence (in `a leader is elected`)",
    );
    assert_mistake(
        "[[step]]\nexpect = \"\"\"\nmynginx is gone!\"\"\"\n",
        10,
        12,
        "expected `gone` (`SERVICE is gone`) or `the leader` (`NODE is the leader`) after `mynginx is`, found `gone!`",
    );
    // With an escape sequence the written text differs from the sentence: point at the string.
    assert_mistake(
        "[[step]]\nexpect = \"mynginx\\thas two running tasks\"\n",
        9,
        10,
        "expected a number of tasks (in `SERVICE has N running tasks`), found `two`",
    );
}

#[test]
fn images() {
    assert_mistake(
        "[[image]]\nname = \"x\"\ncommand = \"x\"\n[[image]]\nname = \"x\"\ncommand = \"y\"\n",
        12,
        8,
        "image `x` is declared twice (first at line 9)",
    );
    assert_mistake(
        "[[image]]\nname = \"x\"\ncommand = \"x\"\nexit_code = 1\n",
        11,
        13,
        "`exit_code` needs `exit_after`: when the process exits by itself",
    );
    assert_mistake(
        "[[image]]\nname = \"x\"\ncommand = \"x\"\nhttp_body = \"hi\"\n",
        11,
        13,
        "`http_body` needs an `exposed_ports` entry to answer on",
    );
    assert_mistake_starts(
        "[[image]]\nname = \"x\"\ncommand = \"x\"\nexposed_ports = [\"80/tpc\"]\n",
        11,
        18,
        "unknown protocol `tpc`",
    );
}

#[test]
fn image_health_keys() {
    assert_mistake(
        "[[image]]\nname = \"x\"\ncommand = \"x\"\nhealth_interval = \"2s\"\n",
        11,
        19,
        "a `health_*` option needs `healthcheck`: the command it runs",
    );
    assert_mistake(
        "[[image]]\nname = \"x\"\ncommand = \"x\"\nhealthy_after = \"20s\"\nunhealthy_after = \"10s\"\n",
        12,
        19,
        "`unhealthy_after` must come after `healthy_after`",
    );
    let source = format!(
        "{NODES}[[image]]\nname = \"web\"\ncommand = \"httpd\"\nhealthcheck = \"test -e /tmp/healthy\"\n\
         health_interval = \"2s\"\nhealth_retries = 2\nhealthy_after = \"5s\"\nunhealthy_after = \"30s\"\n\
         stop_exit_code = 143\n"
    );
    let scenario = parse(Path::new("scenarios/x.toml"), &source).unwrap();
    let web = scenario.image("web").unwrap();
    let health = web.healthcheck.as_ref().unwrap();
    assert_eq!(health.test, ["CMD-SHELL", "test -e /tmp/healthy"]);
    assert_eq!((health.interval, health.retries), (Duration::from_secs(2), 2));
    assert_eq!((web.healthy_after, web.unhealthy_after), (Duration::from_secs(5), Some(Duration::from_secs(30))));
    assert_eq!(web.stop_exit_code, 143);
}

#[test]
fn a_file_without_nodes_or_a_name() {
    let e = parse(Path::new("x.toml"), "name = \"t\"\n").unwrap_err();
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.starts_with("a scenario needs at least one [[node]]"), "{}", e.message);
    let e = parse(Path::new("x.toml"), "name = \" \"\n").unwrap_err();
    assert_eq!((e.line, e.column, e.message.as_str()), (1, 8, "`name` must not be empty"));
}

#[test]
fn toml_syntax_errors_have_positions_too() {
    let (line, column, message) = mistake("[[step]]\nsleep = \"5s\n");
    assert_eq!((line, column), (9, 12), "{message}");
    assert!(message.starts_with("invalid basic string"), "{message}");
}

#[test]
fn an_unreadable_file_is_named_without_a_position() {
    let e = load(Path::new("/nonexistent/scenario.toml")).unwrap_err();
    assert_eq!((e.line, e.column, e.snippet.as_deref()), (0, 0, None));
    assert!(e.to_string().starts_with("/nonexistent/scenario.toml: cannot read the scenario file: "), "{e}");
}

#[test]
fn load_reads_a_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/scenario/testdata/walkthrough.toml");
    let s = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((s.name.as_str(), s.path.as_path()), ("walkthrough", path.as_path()));
    assert_eq!(
        expectation(&s.steps[11]).condition,
        Condition::RunningTasks { service: "mynginx".into(), count: 2, on_distinct_nodes: true }
    );
    assert!(s.steps.iter().all(|step| !matches!(&step.action, StepAction::Expect(e)
        if matches!(e.condition, Condition::NodeAvailability { availability: Availability::Drain, .. }))));
}

#[test]
fn fault_steps_parse_into_faults() {
    use crate::faults::Fault;
    let text = r#"name = "faults"

[[node]]
name = "bd0"
addr = "192.168.0.109"

[[node]]
name = "bd1"
addr = "192.168.0.192"

[[node]]
name = "bd2"
addr = "192.168.0.193"

[[step]]
crash = "bd1"

[[step]]
restart = "bd1"

[[step]]
partition = [["bd0"], ["bd1"]]
bridge = "bd2"

[[step]]
cut = ["bd0", "bd2"]

[[step]]
link = { from = "bd0", to = "bd1", both = true, drop = 0.5, delay = "20ms" }

[[step]]
clock = { node = "bd2", offset = "-3s", drift_ppm = 200 }

[[step]]
heal = true

[[step]]
lose_leader = true

[[step]]
pause = { node = "bd1", for = "20s" }

[[step]]
corrupt = { from = "bd0", to = "bd1", rate = 0.3 }

[[step]]
runtime_fails = { node = "bd2", for = "30s" }

[[step]]
runtime_hangs = { node = "bd2", for = "5s" }

[[step]]
lose_data_root = "bd2"
"#;
    let scenario = parse(Path::new("faults.toml"), text).expect("fault steps parse");
    let faults: Vec<Fault> = scenario
        .steps
        .iter()
        .map(|s| match &s.action {
            StepAction::Fault(f) => f.clone(),
            other => panic!("not a fault: {other:?}"),
        })
        .collect();
    assert_eq!(faults[0], Fault::Crash { node: "bd1".into() });
    assert_eq!(faults[1], Fault::Restart { node: "bd1".into() });
    assert_eq!(
        faults[2],
        Fault::Partition { groups: vec![vec!["bd0".into(), "bd2".into()], vec!["bd1".into(), "bd2".into()]] }
    );
    assert_eq!(faults[3], Fault::OneWay { from: "bd0".into(), to: "bd2".into() });
    assert!(matches!(&faults[4], Fault::Link { both: true, drop, .. } if *drop == 0.5));
    assert_eq!(faults[5], Fault::ClockSkew { node: "bd2".into(), offset_ms: -3000, drift_ppm: 200 });
    assert_eq!(faults[6], Fault::Heal);
    assert_eq!(faults[7], Fault::LoseLeader);
    assert_eq!(faults[8], Fault::Pause { node: "bd1".into(), duration: Duration::from_secs(20) });
    assert_eq!(faults[9], Fault::Corrupt { from: "bd0".into(), to: "bd1".into(), rate: 0.3 });
    assert_eq!(faults[10], Fault::Runtime { node: "bd2".into(), hang: false, duration: Duration::from_secs(30) });
    assert_eq!(faults[11], Fault::Runtime { node: "bd2".into(), hang: true, duration: Duration::from_secs(5) });
    assert_eq!(faults[12], Fault::LoseDataRoot { node: "bd2".into() });
}

#[test]
fn a_corruption_rate_outside_zero_to_one_is_refused() {
    assert_mistake(
        "[[step]]\ncorrupt = { from = \"bd0\", to = \"bd1\", rate = 2.0 }\n",
        9,
        46,
        "a rate is a probability between 0.0 and 1.0",
    );
}

#[test]
fn fault_step_mistakes() {
    assert_mistake("[[step]]\ncrash = \"bd7\"\n", 9, 9, "unknown node `bd7`; the nodes are `bd0`, `bd1`");
    assert_mistake_starts(
        "[[step]]\npartition = [[\"bd0\"], [\"bd1\", \"bd0\"]]\n",
        9,
        31,
        "node `bd0` is named twice in this partition",
    );
    assert_mistake_starts("[[step]]\nheal = false\n", 9, 8, "`heal = false` does nothing");
    assert_mistake_starts("[[step]]\ncrash = \"bd0\"\non = \"bd1\"\n", 10, 6, "`on` has no meaning for a `crash` step");
    assert_mistake_starts(
        "[[step]]\nlink = { from = \"bd0\", to = \"bd1\", drop = 1.5 }\n",
        9,
        43,
        "a rate is a probability",
    );
    assert_mistake_starts("[[step]]\nbridge = \"bd0\"\nheal = true\n", 9, 10, "`bridge` only goes with `partition`");
}

#[test]
fn docker_version_is_read_from_the_header() {
    let text = "name = \"x\"\ndocker_version = \"20.10\"\n[[node]]\nname = \"bd0\"\naddr = \"10.0.0.1\"\n";
    let s = parse(Path::new("x.toml"), text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.docker_version, swarm_core::cli::DockerVersion::V20_10);
}

#[test]
fn a_control_character_in_a_comment_is_named_in_the_error() {
    let e = parse(Path::new("ctl.toml"), "seed = 1\n# a comment with a \u{10} in it\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 20));
    assert_eq!(e.message, "unexpected character '\\u{10}' (U+0010): TOML allows no control characters but tab");
}

#[test]
fn stdin_is_a_run_step_key() {
    let source = format!("{NODES}[[step]]\non = \"bd0\"\nrun = \"docker secret create x -\"\nstdin = \"s3cret\"\n");
    let scenario = parse(Path::new("scenarios/x.toml"), &source).expect("parses");
    assert_eq!(run_step(&scenario.steps[0]).stdin.as_deref(), Some("s3cret"));
    let source = format!("{NODES}[[step]]\nsleep = \"1s\"\nstdin = \"s3cret\"\n");
    let e = parse(Path::new("scenarios/x.toml"), &source).unwrap_err();
    assert!(e.to_string().contains("`stdin` only applies to `run` steps"), "{e}");
}
