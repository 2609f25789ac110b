//! Placement beyond constraints: `--placement-pref spread=…` and `--replicas-max-per-node`
//! (swarmkit's `Placement.Preferences` and `Placement.MaxReplicas`).

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// In order: the first splits the nodes by its label's value, the next splits each of
    /// those groups, and so on (swarmkit's tree of preferences).
    pub preferences: Vec<SpreadOver>,
    /// 0: no limit.
    pub max_replicas: u64,
}

/// `spread=node.labels.zone`: tasks spread evenly over the values of that label (nodes
/// without the label form one more group).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpreadOver {
    /// `node.labels.zone` or `engine.labels.zone`, as typed.
    pub descriptor: String,
}

impl SpreadOver {
    /// Parses `spread=node.labels.KEY` with docker/cli's errors.
    pub fn parse(text: &str) -> Result<SpreadOver, String> {
        let Some((strategy, descriptor)) = text.split_once('=') else {
            return Err(format!("invalid placement preference: {text}"));
        };
        if !strategy.eq_ignore_ascii_case("spread") {
            return Err(format!("unsupported placement preference {strategy} (only spread is supported)"));
        }
        Ok(SpreadOver { descriptor: descriptor.to_string() })
    }
}

impl std::fmt::Display for SpreadOver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "spread={}", self.descriptor)
    }
}

/// Whether a task made from `task` must be replaced to follow the service's `service`
/// template (swarmkit's `IsTaskDirty`): not when they differ only in these placement fields
/// (preferences, max replicas) and the task is already on a node — they say where new tasks
/// go, not how a task runs. An unplaced task is replaced, so it waits under the new rules.
pub fn task_is_dirty(service: &super::TaskTemplate, task: &super::TaskTemplate, on_a_node: bool) -> bool {
    if service == task {
        return false;
    }
    if !on_a_node || service.placement == task.placement {
        return true;
    }
    let mut same_placement = task.clone();
    same_placement.placement = service.placement.clone();
    *service != same_placement
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placed_task_is_not_replaced_for_a_change_of_preferences_or_max_replicas_alone() {
        let old = super::super::TaskTemplate::for_image("nginx");
        let mut new = old.clone();
        new.placement.max_replicas = 2;
        assert!(!task_is_dirty(&new, &old, true));
        assert!(task_is_dirty(&new, &old, false), "a pending task waits under the new limit");
        new.image = "nginx:1.25".into();
        assert!(task_is_dirty(&new, &old, true));
    }

    #[test]
    fn only_spread_preferences_are_accepted() {
        assert_eq!(SpreadOver::parse("spread=node.labels.zone").unwrap().to_string(), "spread=node.labels.zone");
        assert_eq!(
            SpreadOver::parse("pack=node.labels.zone").unwrap_err(),
            "unsupported placement preference pack (only spread is supported)"
        );
        assert_eq!(SpreadOver::parse("zone").unwrap_err(), "invalid placement preference: zone");
    }
}
