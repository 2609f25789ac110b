//! What a chaos schedule and a shrunk scenario need to know about a scenario: its hosts, which
//! of them join the swarm, and which services it creates with how many replicas.
//!
//! Read from the scenario's `run` commands, not from a run: the facts must be the same for
//! every seed, so a plan depends only on (seed, scenario).

use crate::scenario::{Scenario, StepAction};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScenarioFacts {
    /// Every `[[node]]`, in file order.
    pub hosts: Vec<String>,
    /// Hosts that ran `swarm init` or `swarm join` (and not a later `swarm leave`), in file order.
    pub members: Vec<String>,
    /// Services left after the steps: name → replicas (`None` for `--mode global`).
    pub services: BTreeMap<String, Option<u64>>,
}

impl ScenarioFacts {
    pub fn of(scenario: &Scenario) -> ScenarioFacts {
        let mut facts =
            ScenarioFacts { hosts: scenario.nodes.iter().map(|n| n.name.clone()).collect(), ..Default::default() };
        for step in &scenario.steps {
            let StepAction::Run(run) = &step.action else { continue };
            let host = step.on.clone().unwrap_or_else(|| facts.hosts[0].clone());
            let words: Vec<&str> = run.command.text().split_whitespace().filter(|w| *w != "\\").collect();
            facts.learn(&host, &words);
        }
        facts
    }

    fn learn(&mut self, host: &str, words: &[&str]) {
        let verb = |a: &str, b: &str| words.windows(2).any(|w| w[0] == a && w[1] == b);
        if verb("swarm", "init") || verb("swarm", "join") {
            if !self.members.iter().any(|m| m == host) {
                self.members.push(host.to_string());
            }
        } else if verb("swarm", "leave") {
            self.members.retain(|m| m != host);
        } else if verb("service", "create") {
            let Some(name) = option_value(words, "--name") else { return };
            let global = option_value(words, "--mode").as_deref() == Some("global");
            let replicas = option_value(words, "--replicas").and_then(|r| r.parse().ok()).unwrap_or(1);
            self.services.insert(name, if global { None } else { Some(replicas) });
        } else if verb("service", "scale") {
            for word in words {
                if let Some((name, n)) = word.split_once('=') {
                    if let (Some(entry), Ok(n)) = (self.services.get_mut(name), n.parse()) {
                        *entry = Some(n);
                    }
                }
            }
        } else if verb("service", "rm") {
            let at = words.iter().position(|w| *w == "rm").expect("verb found");
            for name in &words[at + 1..] {
                self.services.remove(*name);
            }
        }
    }

    /// `SERVICE.SLOT` targets a `kill` can aim at: every replicated slot.
    pub fn kill_targets(&self) -> Vec<String> {
        let mut targets = Vec::new();
        for (name, replicas) in &self.services {
            for slot in 1..=replicas.unwrap_or(0) {
                targets.push(format!("{name}.{slot}"));
            }
        }
        targets
    }
}

/// `--name web` or `--name=web`.
fn option_value(words: &[&str], option: &str) -> Option<String> {
    let with_equals = format!("{option}=");
    for (i, word) in words.iter().enumerate() {
        if *word == option {
            return words.get(i + 1).map(|v| v.to_string());
        }
        if let Some(v) = word.strip_prefix(&with_equals) {
            return Some(v.to_string());
        }
    }
    None
}
