//! "Sometimes" conditions: situations a run should reach at least once (a sweep reports which
//! no seed reached, so a fault schedule that never exercises them is noticed). They are noted,
//! never failed on: the trace is the same whether they are reached or not.

use std::collections::BTreeSet;
use swarm_core::api::{NodeState, TaskState};
use swarm_core::node::Reply;
use swarm_core::store::Store;

/// Conditions a daemon's reply shows: a join refused, a write cut short by a leader change.
pub fn note_reply(reached: &mut BTreeSet<String>, reply: &Reply) {
    if let Err(e) = reply {
        let e = &e.message;
        if e.contains("join token") {
            reached.insert("join-refused".into());
        }
        if e.contains("lost leader status") {
            reached.insert("leader-change-during-write".into());
        }
    }
}

/// Conditions the leader's store shows: a node detected Down, and a task replaced while its
/// node is cut off by a partition (`cut_off(hostname)`).
pub fn note_store(reached: &mut BTreeSet<String>, store: &Store, cut_off: impl Fn(&str) -> bool) {
    let down: Vec<&swarm_core::api::Node> =
        store.nodes.values().filter(|n| n.status.state == NodeState::Down).collect();
    if down.is_empty() {
        return;
    }
    reached.insert("node-down-detected".into());
    for node in down {
        if !cut_off(&node.description.hostname) {
            continue;
        }
        let replaced = store.tasks_on_node(&node.id).any(|old| {
            old.desired_state == TaskState::Shutdown
                && old.slot > 0
                && store.tasks_of_service(&old.service_id).any(|t| t.slot == old.slot && t.created_at > old.created_at)
        });
        if replaced {
            reached.insert("task-replaced-while-node-partitioned".into());
            return;
        }
    }
}
