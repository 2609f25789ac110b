//! The checker on hand-written histories.

use super::*;
use crate::workload::{HistoryEntry, Op, Outcome};

fn at(ms: u64) -> Instant {
    Instant(ms)
}

fn entry(id: u64, op: Op, invoked: u64, completed: u64, outcome: Outcome) -> HistoryEntry {
    HistoryEntry { id, client: 0, host: "bd0".into(), op, invoked: at(invoked), completed: at(completed), outcome }
}

fn ok() -> Outcome {
    // The reply's contents do not matter for a write.
    Outcome::Ok(Response::SwarmLeft)
}

fn create(id: u64, invoked: u64, completed: u64, outcome: Outcome) -> HistoryEntry {
    let op = Op::CreateService { name: format!("wl-svc-{id}"), replicas: 1, image: format!("busybox:wl-{id}") };
    entry(id, op, invoked, completed, outcome)
}

fn not_found(name: &str) -> Outcome {
    Outcome::Failed(format!("service {name} not found"))
}

fn final_with(services: &[(&str, u64, &str)]) -> FinalState {
    let mut end = FinalState { at: at(100_000), ..Default::default() };
    for (name, replicas, tag) in services {
        end.services
            .entry(name.to_string())
            .or_default()
            .push(ServiceValue { replicas: *replicas, image: tag.to_string() });
    }
    end
}

#[test]
fn a_linearizable_history_passes() {
    let history = vec![
        create(1, 0, 10, ok()),
        // Concurrent with the create: it may come first.
        entry(2, Op::InspectService { name: "wl-svc-1".into() }, 1, 2, not_found("wl-svc-1")),
        entry(3, Op::Scale { name: "wl-svc-1".into(), replicas: 3 }, 12, 20, ok()),
        entry(4, Op::UpdateImage { name: "wl-svc-1".into(), image: "busybox:wl-4".into() }, 15, 30, ok()),
        entry(5, Op::LabelNode { node: "bd1".into(), key: "wl-a".into(), value: "v5".into() }, 40, 41, ok()),
    ];
    let mut end = final_with(&[("wl-svc-1", 3, "wl-4")]);
    end.labels.insert(("bd1".into(), "wl-a".into()), "v5".into());
    let stats = check(&history, &end).expect("linearizable");
    assert_eq!(stats.objects, 2);
    assert!(stats.unchecked.is_empty());
}

#[test]
fn an_acknowledged_create_missing_from_the_final_state_is_a_lost_write() {
    let history = vec![create(1, 0, 10, ok())];
    let violation = check(&history, &final_with(&[])).expect_err("lost");
    assert!(violation.summary.starts_with("history: acknowledged write lost: op#1"), "{}", violation.summary);
    assert!(violation.report(&history).contains("* op#1 client 0 on bd0"));
}

#[test]
fn a_create_applied_twice_is_caught() {
    let history = vec![create(7, 0, 10, ok())];
    let end = final_with(&[("wl-svc-7", 1, "wl-7"), ("wl-svc-7", 1, "wl-7")]);
    let violation = check(&history, &end).expect_err("duplicate");
    assert!(violation.summary.contains("service wl-svc-7 exists 2 times"), "{}", violation.summary);
}

#[test]
fn a_read_that_misses_a_completed_create_is_stale() {
    let history = vec![
        create(1, 0, 10, ok()),
        entry(2, Op::InspectService { name: "wl-svc-1".into() }, 20, 21, not_found("wl-svc-1")),
    ];
    let violation = check(&history, &final_with(&[("wl-svc-1", 1, "wl-1")])).expect_err("stale read");
    assert!(violation.summary.contains("not linearizable"), "{}", violation.summary);
    assert!(violation.summary.contains("ends at 0.021s"), "{}", violation.summary);
    assert_eq!(violation.calls, vec![1, 2]);
}

#[test]
fn an_unknown_create_may_take_effect_late_or_never() {
    let unknown = Outcome::Unknown("the node went down before it answered".into());
    let history = vec![
        create(1, 0, 5, unknown.clone()),
        entry(2, Op::InspectService { name: "wl-svc-1".into() }, 10, 11, not_found("wl-svc-1")),
    ];
    // It took effect after the read...
    check(&history, &final_with(&[("wl-svc-1", 1, "wl-1")])).expect("an unknown call may land late");
    // ...or never.
    check(&history, &final_with(&[])).expect("or not at all");
}

#[test]
fn a_write_that_failed_definitely_must_leave_no_trace() {
    let worker = swarm_core::control::errors::NOT_A_MANAGER_WORKER.to_string();
    let history = vec![create(3, 0, 1, Outcome::Failed(worker))];
    let violation = check(&history, &final_with(&[("wl-svc-3", 1, "wl-3")])).expect_err("trace");
    assert!(violation.summary.contains("a write that failed left a trace: op#3"), "{}", violation.summary);
    check(&history, &final_with(&[])).expect("no trace, no violation");
}
