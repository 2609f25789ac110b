//! A shrunk chaos case as a standalone scenario file: the original scenario's text with its
//! seed set to the failing seed, then the plan's faults as ordinary fault steps, then what the
//! chaos runner does after the last fault (heal, restart every host, normal disks) and the
//! convergence it checks, as `expect` steps. `swarmsim run FILE` then replays the failure
//! without `--chaos`.

use crate::chaos::facts::ScenarioFacts;
use crate::faults::Fault;
use crate::runner::ChaosPlan;
use crate::scenario::{format_duration, Scenario};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

/// Room added to the scenario's `max_duration` beyond the faults and the liveness bound.
const EXTRA_ROOM: Duration = Duration::from_secs(60);

/// The scenario file that replays `plan` on `seed`. `why` is the failure's first line (written
/// as a comment at the top).
pub fn scenario_with_faults(scenario: &Scenario, seed: u64, plan: &ChaosPlan, why: &str) -> String {
    let last_fault = plan.faults.last().map(|(at, _)| *at).unwrap_or_default();
    let max_duration = scenario.max_duration + last_fault + plan.liveness_bound + EXTRA_ROOM;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Shrunk by `swarmsim sweep --chaos` from {} (seed {seed}): {} fault(s).",
        scenario.path.display(),
        plan.faults.len()
    );
    let _ = writeln!(out, "# It failed with: {}", one_line(why));
    let _ = writeln!(out, "# Below: the original scenario (seed and max_duration set here), then the faults as steps.");
    let _ = writeln!(out, "seed = {seed}");
    let _ = writeln!(out, "max_duration = \"{}\"", format_duration(max_duration));
    out.push_str(&without_top_level_keys(&scenario.source, &["seed", "max_duration"]));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    let _ = writeln!(out, "\n# ---- the shrunk chaos schedule; offsets are from the end of the steps above ----");
    let mut previous = Duration::ZERO;
    for (at, fault) in &plan.faults {
        out.push('\n');
        out.push_str(&fault_step(fault, at.saturating_sub(previous)));
        previous = *at;
    }
    out.push_str(&heal_and_converge(scenario, plan));
    out
}

/// One fault as a `[[step]]` in the scenario syntax (sim/src/scenario/mod.rs), starting
/// `after` the previous step. Every fault's spelling lives here.
pub fn fault_step(fault: &Fault, after: Duration) -> String {
    let mut step = String::from("[[step]]\n");
    if !after.is_zero() {
        let _ = writeln!(step, "after = \"{}\"", format_duration(after));
    }
    let action = match fault {
        Fault::Kill { target, node } => match node {
            Some(n) => format!("kill = {}\non = {}", quoted(target), quoted(n)),
            None => format!("kill = {}", quoted(target)),
        },
        Fault::Crash { node } => format!("crash = {}", quoted(node)),
        Fault::Restart { node } => format!("restart = {}", quoted(node)),
        Fault::StopDaemon { node } => format!("stop_daemon = {}", quoted(node)),
        Fault::Isolate { node } => format!("isolate = {}", quoted(node)),
        Fault::Partition { groups } => partition_step(groups),
        Fault::OneWay { from, to } => format!("cut = [{}, {}]", quoted(from), quoted(to)),
        Fault::Heal => "heal = true".to_string(),
        Fault::LoseLeader => "lose_leader = true".to_string(),
        Fault::Link { from, to, both, drop, duplicate, extra_delay, extra_jitter } => {
            let mut fields = vec![format!("from = {}", quoted(from)), format!("to = {}", quoted(to))];
            if *both {
                fields.push("both = true".into());
            }
            if *drop > 0.0 {
                fields.push(format!("drop = {drop:?}"));
            }
            if *duplicate > 0.0 {
                fields.push(format!("duplicate = {duplicate:?}"));
            }
            if !extra_delay.is_zero() {
                fields.push(format!("delay = \"{}\"", format_duration(*extra_delay)));
            }
            if !extra_jitter.is_zero() {
                fields.push(format!("jitter = \"{}\"", format_duration(*extra_jitter)));
            }
            format!("link = {{ {} }}", fields.join(", "))
        }
        Fault::ClockSkew { node, offset_ms, drift_ppm } => {
            let sign = if *offset_ms < 0 { "-" } else { "" };
            let offset = format_duration(Duration::from_millis(offset_ms.unsigned_abs()));
            format!("clock = {{ node = {}, offset = \"{sign}{offset}\", drift_ppm = {drift_ppm} }}", quoted(node))
        }
        Fault::SlowDisk { node, delay } => {
            format!("slow_disk = {{ node = {}, delay = \"{}\" }}", quoted(node), format_duration(*delay))
        }
        Fault::FailDisk { node } => format!("fail_disk = {}", quoted(node)),
        Fault::DiskOk { node } => format!("disk_ok = {}", quoted(node)),
        Fault::Pause { node, duration } => {
            format!("pause = {{ node = {}, for = \"{}\" }}", quoted(node), format_duration(*duration))
        }
        Fault::Corrupt { from, to, rate } => {
            format!("corrupt = {{ from = {}, to = {}, rate = {rate:?} }}", quoted(from), quoted(to))
        }
        Fault::Runtime { node, hang, duration } => format!(
            "{} = {{ node = {}, for = \"{}\" }}",
            if *hang { "runtime_hangs" } else { "runtime_fails" },
            quoted(node),
            format_duration(*duration)
        ),
        Fault::LoseDataRoot { node } => format!("lose_data_root = {}", quoted(node)),
        Fault::Rejoin { node } => format!("rejoin = {}", quoted(node)),
    };
    step.push_str(&action);
    step.push('\n');
    step
}

/// `partition = [[...], [...]]`; a host in every group is written as `bridge`.
fn partition_step(groups: &[Vec<String>]) -> String {
    let bridges: BTreeSet<&String> = groups[0].iter().filter(|h| groups.iter().all(|g| g.contains(h))).collect();
    let bridge = if groups.len() >= 2 { bridges.iter().next().copied() } else { None };
    let rendered: Vec<String> = groups
        .iter()
        .map(|g| {
            let names: Vec<String> = g.iter().filter(|h| Some(*h) != bridge).map(|h| quoted(h)).collect();
            format!("[{}]", names.join(", "))
        })
        .collect();
    match bridge {
        Some(b) => format!("partition = [{}]\nbridge = {}", rendered.join(", "), quoted(b)),
        None => format!("partition = [{}]", rendered.join(", ")),
    }
}

/// The chaos runner's epilogue as steps: heal, give every disk the plan touched its health
/// back, restart every host (a host that is up says so and stays up), join every host that lost
/// its data root again, then expect convergence: a leader, every swarm member ready (a rejoined
/// host by its new node: the condition reads the newest node of a hostname), every replicated
/// service at its replica count.
fn heal_and_converge(scenario: &Scenario, plan: &ChaosPlan) -> String {
    let facts = ScenarioFacts::of(scenario);
    let mut out = String::from("\n# ---- what the chaos runner does after the last fault ----\n\n");
    out.push_str(&fault_step(&Fault::Heal, Duration::ZERO));
    let disks: BTreeSet<&String> = plan
        .faults
        .iter()
        .filter_map(|(_, f)| match f {
            Fault::SlowDisk { node, .. } | Fault::FailDisk { node } => Some(node),
            _ => None,
        })
        .collect();
    for node in disks {
        out.push('\n');
        out.push_str(&fault_step(&Fault::DiskOk { node: node.clone() }, Duration::ZERO));
    }
    for host in facts.hosts.iter().filter(|h| !facts.left_down.contains(h)) {
        out.push('\n');
        out.push_str(&fault_step(&Fault::Restart { node: host.clone() }, Duration::ZERO));
    }
    let lost = crate::runner::lost_data_roots(plan);
    if !lost.is_empty() {
        let within = format_duration(plan.liveness_bound);
        let _ = write!(out, "\n[[step]]\nexpect = {}\n", quoted(&format!("within {within} a leader is elected")));
    }
    for node in lost {
        out.push('\n');
        out.push_str(&fault_step(&Fault::Rejoin { node }, Duration::ZERO));
    }
    let within = format_duration(plan.liveness_bound);
    let mut expectations = vec![format!("within {within} a leader is elected")];
    expectations.extend(
        facts
            .members
            .iter()
            .filter(|m| !facts.left_down.contains(m))
            .map(|m| format!("within {within} node {m} is ready")),
    );
    for (service, replicas) in &facts.services {
        if let Some(n) = replicas {
            let tasks = if *n == 1 { "task" } else { "tasks" };
            expectations.push(format!("within {within} {service} has {n} running {tasks}"));
        }
    }
    for e in expectations {
        let _ = write!(out, "\n[[step]]\nexpect = {}\n", quoted(&e));
    }
    out
}

/// A TOML basic string (JSON's escaping is a subset TOML reads).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_string()
}

/// `source` without the named keys of its top-level table (the lines before the first `[`
/// header), so the caller can set them; later tables are untouched.
fn without_top_level_keys(source: &str, keys: &[&str]) -> String {
    let mut out = String::with_capacity(source.len());
    let mut top_level = true;
    for line in source.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            top_level = false;
        }
        let key = trimmed.split(['=', ' ', '\t']).next().unwrap_or("");
        if top_level && keys.contains(&key) && trimmed[key.len()..].trim_start().starts_with('=') {
            continue;
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_is_written_in_the_scenario_syntax() {
        let ms = Duration::from_millis;
        let cases = [
            (Fault::Kill { target: "web.2".into(), node: Some("bd1".into()) }, "kill = \"web.2\"\non = \"bd1\""),
            (Fault::Crash { node: "bd1".into() }, "crash = \"bd1\""),
            (Fault::Restart { node: "bd1".into() }, "restart = \"bd1\""),
            (Fault::StopDaemon { node: "bd1".into() }, "stop_daemon = \"bd1\""),
            (Fault::Isolate { node: "bd1".into() }, "isolate = \"bd1\""),
            (
                Fault::Partition { groups: vec![vec!["bd0".into(), "bd2".into()], vec!["bd1".into(), "bd2".into()]] },
                "partition = [[\"bd0\"], [\"bd1\"]]\nbridge = \"bd2\"",
            ),
            (Fault::OneWay { from: "bd0".into(), to: "bd1".into() }, "cut = [\"bd0\", \"bd1\"]"),
            (Fault::Heal, "heal = true"),
            (Fault::LoseLeader, "lose_leader = true"),
            (
                Fault::Link {
                    from: "bd0".into(),
                    to: "bd1".into(),
                    both: true,
                    drop: 0.15,
                    duplicate: 0.0,
                    extra_delay: ms(50),
                    extra_jitter: ms(0),
                },
                "link = { from = \"bd0\", to = \"bd1\", both = true, drop = 0.15, delay = \"50ms\" }",
            ),
            (
                Fault::ClockSkew { node: "bd1".into(), offset_ms: -3_000, drift_ppm: 200 },
                "clock = { node = \"bd1\", offset = \"-3s\", drift_ppm = 200 }",
            ),
            (
                Fault::SlowDisk { node: "bd0".into(), delay: ms(500) },
                "slow_disk = { node = \"bd0\", delay = \"500ms\" }",
            ),
            (Fault::FailDisk { node: "bd0".into() }, "fail_disk = \"bd0\""),
            (Fault::DiskOk { node: "bd0".into() }, "disk_ok = \"bd0\""),
            (Fault::Pause { node: "bd1".into(), duration: ms(20_000) }, "pause = { node = \"bd1\", for = \"20s\" }"),
            (
                Fault::Corrupt { from: "bd0".into(), to: "bd1".into(), rate: 0.25 },
                "corrupt = { from = \"bd0\", to = \"bd1\", rate = 0.25 }",
            ),
            (
                Fault::Runtime { node: "bd2".into(), hang: false, duration: ms(30_000) },
                "runtime_fails = { node = \"bd2\", for = \"30s\" }",
            ),
            (
                Fault::Runtime { node: "bd2".into(), hang: true, duration: ms(5_000) },
                "runtime_hangs = { node = \"bd2\", for = \"5s\" }",
            ),
            (Fault::LoseDataRoot { node: "bd2".into() }, "lose_data_root = \"bd2\""),
            (Fault::Rejoin { node: "bd2".into() }, "rejoin = \"bd2\""),
        ];
        for (fault, want) in cases {
            assert_eq!(fault_step(&fault, Duration::ZERO), format!("[[step]]\n{want}\n"));
        }
        assert_eq!(fault_step(&Fault::Heal, Duration::from_secs(90)), "[[step]]\nafter = \"1m30s\"\nheal = true\n");
    }

    #[test]
    fn top_level_keys_are_replaced_but_tables_are_kept() {
        let source = "# c\nname = \"x\"\nseed = 1\nmax_duration = \"15m\"\n\n[[step]]\nseed = 3\n";
        assert_eq!(
            without_top_level_keys(source, &["seed", "max_duration"]),
            "# c\nname = \"x\"\n\n[[step]]\nseed = 3\n"
        );
    }
}
