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

#[cfg(test)]
mod tests {
    use super::*;

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
