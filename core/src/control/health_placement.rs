//! The health-check and placement flags of `service create` and `service update`, as data,
//! and how each applies to a task template (docker/cli's `toHealthConfig`,
//! `updateHealthcheck`, `updatePlacementPreferences`, `updateMaxReplicas`).

use crate::api::{HealthConfig, SpreadOver, TaskTemplate};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `--health-cmd`, `--health-interval`, `--health-timeout`, `--health-retries`,
/// `--health-start-period`, `--no-healthcheck`: each `None`/false when not given.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthFlags {
    pub cmd: Option<String>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub retries: Option<u64>,
    pub start_period: Option<Duration>,
    pub no_healthcheck: bool,
}

/// docker/cli's words when `--no-healthcheck` comes with a `--health-*` flag.
pub const NO_HEALTHCHECK_CONFLICT: &str = "--no-healthcheck conflicts with --health-* options";

impl HealthFlags {
    fn any_health_setting(&self) -> bool {
        self.cmd.is_some()
            || self.interval.is_some()
            || self.timeout.is_some()
            || self.retries.is_some()
            || self.start_period.is_some()
    }

    /// Checked by the CLI, before anything is sent.
    pub fn validate(&self) -> Result<(), String> {
        if self.no_healthcheck && self.any_health_setting() {
            return Err(NO_HEALTHCHECK_CONFLICT.to_string());
        }
        Ok(())
    }

    /// `service create`: the health check the flags make, `None` without any.
    pub fn to_config(&self) -> Option<HealthConfig> {
        if self.no_healthcheck {
            return Some(HealthConfig::none());
        }
        if !self.any_health_setting() {
            return None;
        }
        let mut config = HealthConfig::default();
        self.apply_settings(&mut config);
        Some(config)
    }

    /// `service update`: changes only what was given; a `NONE` test is dropped by any other
    /// health flag, and an empty `--health-cmd` falls back to the image's.
    pub fn update(&self, template: &mut TaskTemplate) {
        if !self.no_healthcheck && !self.any_health_setting() {
            return;
        }
        if self.no_healthcheck {
            template.healthcheck = Some(HealthConfig::none());
            return;
        }
        let config = template.healthcheck.get_or_insert_with(HealthConfig::default);
        if config.test.first().is_some_and(|t| t == "NONE") {
            config.test.clear();
        }
        self.apply_settings(config);
    }

    fn apply_settings(&self, config: &mut HealthConfig) {
        if let Some(cmd) = &self.cmd {
            config.test = if cmd.is_empty() { Vec::new() } else { HealthConfig::shell(cmd).test };
        }
        if let Some(d) = self.interval {
            config.interval = d;
        }
        if let Some(d) = self.timeout {
            config.timeout = d;
        }
        if let Some(n) = self.retries {
            config.retries = n;
        }
        if let Some(d) = self.start_period {
            config.start_period = d;
        }
    }
}

/// `--placement-pref` (create), `--placement-pref-add/-rm` (update), `--replicas-max-per-node`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementFlags {
    pub pref_add: Vec<SpreadOver>,
    pub pref_rm: Vec<SpreadOver>,
    pub max_replicas: Option<u64>,
}

impl PlacementFlags {
    /// Removals first, then additions appended (docker/cli `updatePlacementPreferences`).
    pub fn apply(&self, template: &mut TaskTemplate) {
        let placement = &mut template.placement;
        placement.preferences.retain(|p| !self.pref_rm.contains(p));
        placement.preferences.extend(self.pref_add.iter().cloned());
        if let Some(n) = self.max_replicas {
            placement.max_replicas = n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_flags_make_dockers_health_config() {
        let flags = HealthFlags { cmd: Some("test -e /tmp/ok".into()), retries: Some(2), ..HealthFlags::default() };
        let config = flags.to_config().unwrap();
        assert_eq!(config.test, ["CMD-SHELL", "test -e /tmp/ok"]);
        assert_eq!((config.retries, config.interval), (2, Duration::ZERO), "unset fields stay zero");
        assert_eq!(HealthFlags::default().to_config(), None);
        let conflict = HealthFlags { no_healthcheck: true, retries: Some(1), ..HealthFlags::default() };
        assert_eq!(conflict.validate().unwrap_err(), NO_HEALTHCHECK_CONFLICT);
    }

    #[test]
    fn a_health_update_keeps_what_it_does_not_name_and_drops_none() {
        let mut template = TaskTemplate::for_image("web");
        template.healthcheck = Some(HealthConfig::none());
        HealthFlags { interval: Some(Duration::from_secs(2)), ..HealthFlags::default() }.update(&mut template);
        let config = template.healthcheck.clone().unwrap();
        assert!(config.test.is_empty(), "NONE is dropped: the image's test applies again");
        assert_eq!(config.interval, Duration::from_secs(2));
        HealthFlags { no_healthcheck: true, ..HealthFlags::default() }.update(&mut template);
        assert_eq!(template.healthcheck, Some(HealthConfig::none()));
    }

    #[test]
    fn placement_preferences_are_removed_then_added() {
        let zone = SpreadOver::parse("spread=node.labels.zone").unwrap();
        let rack = SpreadOver::parse("spread=node.labels.rack").unwrap();
        let mut template = TaskTemplate::for_image("web");
        PlacementFlags { pref_add: vec![zone.clone()], max_replicas: Some(2), ..PlacementFlags::default() }
            .apply(&mut template);
        PlacementFlags { pref_add: vec![rack.clone()], pref_rm: vec![zone], ..PlacementFlags::default() }
            .apply(&mut template);
        assert_eq!(template.placement.preferences, [rack]);
        assert_eq!(template.placement.max_replicas, 2);
    }
}
