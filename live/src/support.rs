//! Which scenario steps a real backend can do. A step with no real counterpart is refused
//! before the lab is made, so a run never half-happens.

use swarmsim::faults::Fault;
use swarmsim::scenario::{Scenario, ScenarioError, StepAction};

/// Every step the backend cannot do for real, as `file:line:col: <what> is not supported on
/// backend <kind>` errors (in file order).
pub fn unsupported_steps(scenario: &Scenario, backend: &str) -> Vec<ScenarioError> {
    scenario
        .steps
        .iter()
        .filter_map(|step| {
            let StepAction::Fault(fault) = &step.action else { return None };
            let what = unsupported(fault)?;
            Some(scenario.error_at(step.action_span.clone(), format!("{what} is not supported on backend {backend}")))
        })
        .collect()
}

/// What of a fault has no real counterpart here: clocks are the machine's, disks are the
/// machine's, and this kernel has no netem for delay, jitter or duplication (drops are nftables).
fn unsupported(fault: &Fault) -> Option<&'static str> {
    match fault {
        Fault::ClockSkew { .. } => Some("clock skew"),
        Fault::SlowDisk { .. } => Some("slow_disk"),
        Fault::FailDisk { .. } => Some("fail_disk"),
        Fault::DiskOk { .. } => Some("disk_ok"),
        // Not built yet on the live backends (a frame-damaging proxy, a failing containerd,
        // wiping a data root): the simulator only, for now. A pause is SIGSTOP and SIGCONT.
        Fault::Corrupt { .. } => Some("corrupt"),
        Fault::Runtime { hang: false, .. } => Some("runtime_fails"),
        Fault::Runtime { hang: true, .. } => Some("runtime_hangs"),
        Fault::LoseDataRoot { .. } => Some("lose_data_root"),
        Fault::Rejoin { .. } => Some("rejoin"),
        Fault::Link { duplicate, .. } if *duplicate > 0.0 => Some("link duplicate"),
        Fault::Link { extra_delay, .. } if !extra_delay.is_zero() => Some("link delay"),
        Fault::Link { extra_jitter, .. } if !extra_jitter.is_zero() => Some("link jitter"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn a_clock_step_is_refused_at_its_place_in_the_file() {
        let text = "name = \"t\"\n\n[[node]]\nname = \"bd0\"\naddr = \"10.0.0.1\"\n\n[[step]]\nclock = { node = \"bd0\", offset = \"3s\" }\n";
        let scenario = swarmsim::scenario::parse(Path::new("t.toml"), text).expect("valid");
        let errors = unsupported_steps(&scenario, "docker");
        assert_eq!(errors.len(), 1);
        let first_line = errors[0].to_string().lines().next().unwrap_or_default().to_string();
        assert!(first_line.starts_with("t.toml:8:"), "{first_line}");
        assert!(first_line.ends_with("clock skew is not supported on backend docker"), "{first_line}");
    }

    #[test]
    fn drops_are_supported_delays_are_not() {
        let link = |drop: f64, delay_ms: u64| Fault::Link {
            from: "a".into(),
            to: "b".into(),
            both: true,
            drop,
            duplicate: 0.0,
            extra_delay: std::time::Duration::from_millis(delay_ms),
            extra_jitter: std::time::Duration::ZERO,
        };
        assert_eq!(unsupported(&link(0.5, 0)), None);
        assert_eq!(unsupported(&link(0.0, 20)), Some("link delay"));
    }
}
