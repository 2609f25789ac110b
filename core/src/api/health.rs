//! Container health checks: docker's `HealthConfig` (what `--health-*` and an image's
//! `HEALTHCHECK` declare) and the health status a container's runtime reports.
//!
//! The runtime runs the probes (dockerd's health monitor: a probe every `interval`, each given
//! `timeout`; `retries` failures in a row make the container unhealthy, failures during
//! `start_period` do not count until a probe has passed); the agent acts on the status it
//! reports, as swarm's executor does (`daemon/cluster/executor/container/controller.go`).

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// swarm's executor's `ErrContainerUnhealthy`: the cause after an unhealthy task's exit code,
/// `task: non-zero exit (143): dockerexec: unhealthy container`.
pub const UNHEALTHY_CONTAINER: &str = "dockerexec: unhealthy container";

/// dockerd's defaults for a health check that leaves a field zero (`daemon/health.go`).
pub const DEFAULT_HEALTH_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_HEALTH_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_HEALTH_RETRIES: u64 = 3;
pub const DEFAULT_HEALTH_START_PERIOD: Duration = Duration::ZERO;

/// docker's `container.HealthConfig`. Zero fields (and an empty `test`) are inherited from the
/// image's own health check when the container is created, then fall back to the defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthConfig {
    /// `["CMD-SHELL", cmd]`, `["CMD", arg…]`, or `["NONE"]` (`--no-healthcheck`); empty:
    /// the image's.
    pub test: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u64,
    pub start_period: Duration,
}

impl HealthConfig {
    /// `--health-cmd CMD`: run through the container's shell.
    pub fn shell(cmd: &str) -> HealthConfig {
        HealthConfig { test: vec!["CMD-SHELL".into(), cmd.into()], ..HealthConfig::default() }
    }

    /// `--no-healthcheck`: the image's health check is switched off.
    pub fn none() -> HealthConfig {
        HealthConfig { test: vec!["NONE".into()], ..HealthConfig::default() }
    }

    /// A container's health check as dockerd builds it at create: the service's fields where
    /// set, the image's where not (`daemon/create.go` merges the image config the same way).
    pub fn merged_over(&self, image: Option<&HealthConfig>) -> HealthConfig {
        let Some(image) = image else { return self.clone() };
        let pick = |own: Duration, theirs: Duration| if own.is_zero() { theirs } else { own };
        HealthConfig {
            test: if self.test.is_empty() { image.test.clone() } else { self.test.clone() },
            interval: pick(self.interval, image.interval),
            timeout: pick(self.timeout, image.timeout),
            retries: if self.retries == 0 { image.retries } else { self.retries },
            start_period: pick(self.start_period, image.start_period),
        }
    }

    /// Whether probes run at all: a test that is set and not `NONE`.
    pub fn is_active(&self) -> bool {
        self.test.first().is_some_and(|first| first != "NONE")
    }

    /// The shell command a probe runs (`CMD-SHELL cmd` → `cmd`; `CMD a b` → `a b`).
    pub fn command_line(&self) -> Option<String> {
        match self.test.split_first() {
            Some((kind, rest)) if kind == "CMD-SHELL" || kind == "CMD" => Some(rest.join(" ")),
            _ => None,
        }
    }

    pub fn interval_or_default(&self) -> Duration {
        if self.interval.is_zero() {
            DEFAULT_HEALTH_INTERVAL
        } else {
            self.interval
        }
    }

    pub fn timeout_or_default(&self) -> Duration {
        if self.timeout.is_zero() {
            DEFAULT_HEALTH_TIMEOUT
        } else {
            self.timeout
        }
    }

    pub fn retries_or_default(&self) -> u64 {
        if self.retries == 0 {
            DEFAULT_HEALTH_RETRIES
        } else {
            self.retries
        }
    }
}

/// A container's health as `docker ps` shows it: `(health: starting)`, `(healthy)`,
/// `(unhealthy)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    /// docker's `Health.String()`.
    pub fn as_ps_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "health: starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// dockerd's health monitor, one container's: counts probe results as `daemon/health.go`'s
/// `handleProbeResult` does and says when the status changes. Both runtimes (the simulator's
/// and swarmd's) feed it, so they agree on what a series of probe results means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthMonitor {
    pub status: HealthStatus,
    pub failing_streak: u64,
    retries: u64,
    start_period: Duration,
}

impl HealthMonitor {
    pub fn new(config: &HealthConfig) -> HealthMonitor {
        debug_assert!(config.is_active(), "only an active health check is monitored");
        HealthMonitor {
            status: HealthStatus::Starting,
            failing_streak: 0,
            retries: config.retries_or_default(),
            start_period: config.start_period,
        }
    }

    /// One probe's result, `since_start` after the container started (a timed-out probe is a
    /// failure). Returns the new status when it changed (dockerd logs `health_status: …` then).
    pub fn record(&mut self, passed: bool, since_start: Duration) -> Option<HealthStatus> {
        let before = self.status;
        if passed {
            self.failing_streak = 0;
            self.status = HealthStatus::Healthy;
        } else {
            // Failures in the start period do not count while the container never passed.
            let in_start_period = self.status == HealthStatus::Starting && since_start < self.start_period;
            if !in_start_period {
                self.failing_streak += 1;
                if self.failing_streak >= self.retries {
                    self.status = HealthStatus::Unhealthy;
                }
            }
        }
        (self.status != before).then_some(self.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn three_failures_in_a_row_make_a_container_unhealthy() {
        let mut m = HealthMonitor::new(&HealthConfig::shell("false"));
        assert_eq!(m.record(false, secs(30)), None);
        assert_eq!(m.record(false, secs(60)), None);
        assert_eq!(m.record(false, secs(90)), Some(HealthStatus::Unhealthy));
        assert_eq!(m.record(true, secs(120)), Some(HealthStatus::Healthy), "a pass recovers it");
        assert_eq!(m.failing_streak, 0);
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_until_a_probe_passed() {
        let config = HealthConfig { retries: 1, start_period: secs(20), ..HealthConfig::shell("false") };
        let mut m = HealthMonitor::new(&config);
        assert_eq!(m.record(false, secs(10)), None);
        assert_eq!(m.failing_streak, 0);
        assert_eq!(m.record(false, secs(20)), Some(HealthStatus::Unhealthy), "the period is over");
    }

    #[test]
    fn a_service_health_check_overrides_the_images_field_by_field() {
        let image = HealthConfig { interval: secs(5), retries: 2, ..HealthConfig::shell("test -e /tmp/ok") };
        let service = HealthConfig { interval: secs(1), ..HealthConfig::default() };
        let merged = service.merged_over(Some(&image));
        assert_eq!(merged.test, image.test);
        assert_eq!((merged.interval, merged.retries), (secs(1), 2));
        assert!(!HealthConfig::none().merged_over(Some(&image)).is_active());
        assert_eq!(merged.command_line().as_deref(), Some("test -e /tmp/ok"));
    }
}
