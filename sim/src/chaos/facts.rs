//! What a chaos schedule and a shrunk scenario need to know about a scenario: its hosts, which
//! of them join the swarm, and which services it creates with how many replicas.
//!
//! Read from the scenario's `run` commands, not from a run: the facts must be the same for
//! every seed, so a plan depends only on (seed, scenario).

use crate::faults::Fault;
use crate::scenario::{Scenario, StepAction};
use std::collections::BTreeMap;
use swarm_core::cli;
use swarm_core::control::Request;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScenarioFacts {
    /// Every `[[node]]`, in file order.
    pub hosts: Vec<String>,
    /// Hosts that ran `swarm init` or `swarm join` (and not a later `swarm leave`), in file order.
    pub members: Vec<String>,
    /// Services left after the steps: name → replicas (`None` for `--mode global`).
    pub services: BTreeMap<String, Option<u64>>,
    /// In a scenario that ends a quorum loss with `swarm init --force-new-cluster`: the hosts
    /// its steps leave down (`crash`, `stop_daemon` without a later `restart`), the managers
    /// the new cluster removed. Chaos does not bring them back (see `World::left_down`).
    pub left_down: Vec<String>,
}

impl ScenarioFacts {
    pub fn of(scenario: &Scenario) -> ScenarioFacts {
        let mut facts =
            ScenarioFacts { hosts: scenario.nodes.iter().map(|n| n.name.clone()).collect(), ..Default::default() };
        for step in &scenario.steps {
            if let StepAction::Fault(fault) = &step.action {
                match fault {
                    Fault::Crash { node } | Fault::StopDaemon { node } if !facts.left_down.contains(node) => {
                        facts.left_down.push(node.clone());
                    }
                    Fault::Restart { node } => facts.left_down.retain(|h| h != node),
                    _ => {}
                }
                continue;
            }
            let StepAction::Run(run) = &step.action else { continue };
            let host = step.on.clone().unwrap_or_else(|| facts.hosts[0].clone());
            // A line the grammar refuses changes nothing, as the daemon never sees it.
            if let Ok(invocation) = cli::parse(run.command.text()) {
                facts.learn(&host, &invocation.request);
            }
        }
        let forces_a_new_cluster = scenario.steps.iter().any(|s| {
            matches!(&s.action, StepAction::Run(run) if matches!(
                cli::parse(run.command.text()).map(|i| i.request),
                Ok(Request::InitSwarm { force_new_cluster: true, .. })
            ))
        });
        if !forces_a_new_cluster {
            facts.left_down.clear();
        }
        facts
    }

    fn learn(&mut self, host: &str, request: &Request) {
        match request {
            Request::InitSwarm { .. } | Request::JoinSwarm { .. } if !self.members.iter().any(|m| m == host) => {
                self.members.push(host.to_string());
            }
            Request::LeaveSwarm { .. } => self.members.retain(|m| m != host),
            Request::CreateService(spec) => {
                // An unnamed service gets a random name: no kill target can name it ahead.
                let Some(name) = &spec.name else { return };
                let replicas = if spec.global { None } else { Some(spec.replicas.unwrap_or(1)) };
                self.services.insert(name.clone(), replicas);
            }
            Request::ScaleServices { scales } => {
                for (name, n) in scales {
                    if let Some(entry) = self.services.get_mut(name) {
                        *entry = Some(*n);
                    }
                }
            }
            Request::RemoveServices { services } => {
                for name in services {
                    self.services.remove(name);
                }
            }
            _ => {}
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

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_of(name: &str) -> ScenarioFacts {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios").join(name);
        ScenarioFacts::of(&crate::scenario::load(&path).expect("the scenario loads"))
    }

    #[test]
    fn facts_follow_the_requests_a_scenario_runs() {
        let failover = facts_of("failover.toml");
        assert_eq!(failover.members, ["bd0", "bd1", "bd2"], "init and two joins (with a ${{token}} placeholder)");
        assert_eq!(failover.services, BTreeMap::from([("mynginx".to_string(), Some(2))]));
        assert_eq!(failover.kill_targets(), ["mynginx.1", "mynginx.2"]);
        // The walkthrough creates, scales and removes its service: none is left.
        assert!(facts_of("walkthrough.toml").services.is_empty());
    }
}
