//! Safety checkers, run after every event. A violation stops the run: it is a bug found in
//! swarm-core, reported with the seed, the time, the invariant and the command that replays it.
//! They read the nodes through core's read-only `Node::observe`.
//!
//! One file per family of invariants:
//! - `raft`: at most one leader per term; a committed entry never changes (managers at the
//!   same applied index hold the same digest of everything applied);
//! - `store`: managers at the same applied index hold equal stores (checked between steps);
//! - `tasks`, in the leader's store: a slot never has two tasks that should be running on
//!   Ready nodes; no task running on a node that was removed; no node holds more of a
//!   service's tasks than its `--replicas-max-per-node`;
//! - `allocator`, in the leader's store: no address or VIP handed out twice in a network; no
//!   host port bound twice on a node; every live task's address taken in the allocator;
//! - `health`, across the leader's store and the runtimes: a task is never RUNNING while its
//!   container's health check has not passed (`World` runs it when the leader's store changed);
//! - `livelock`: a node's timer never leaves its deadline due without time moving;
//! - `updates`, in the leader's store: no more slots updating at once than the parallelism;
//!   a rolled-back service ends on its previous spec; a paused update stays paused until a
//!   new spec;
//!
//! - `secrets`: a secret's bytes appear in no trace line and in no command's output but a
//!   `cat` of its file in a task's container;
//!
//! and `sometimes`: conditions a run should reach at least once, noted, never failed on.

pub mod allocator;
pub mod health;
pub mod livelock;
pub mod raft;
pub mod secrets;
pub mod sometimes;
pub mod store;
pub mod tasks;
pub mod updates;

use crate::world::SimHost;
use std::collections::BTreeMap;
use swarm_core::store::{Store, Touched};

/// The checks that look at every manager after each event (besides `raft::OneLeaderPerTerm`).
#[derive(Default)]
pub struct Checker {
    committed: raft::CommittedEntries,
    /// Per host, the (applied index, controllers' rounds) last checked: a step costs nothing
    /// when nothing was applied and no round ran.
    checked_index: BTreeMap<String, (u64, u64)>,
    /// The leader whose store was checked last (a new leader's store is checked at once),
    /// and the applied index it was checked at: the next check of the same leader looks only
    /// at what the batches since then touched (`check_store_changed`).
    leader_checked: Option<String>,
    leader_checked_index: u64,
    updates: updates::UpdateHistory,
}

impl Checker {
    /// `hosts`: every host running a manager (the others hold no store).
    pub fn after_event<'a>(&mut self, hosts: impl Iterator<Item = &'a SimHost>) -> Result<(), String> {
        for h in hosts.filter(|h| h.up) {
            let Some(mgr) = h.node.observe().manager() else { continue };
            let index = mgr.applied_index();
            let mark = (index, mgr.controller_rounds());
            let last = self.checked_index.get(&h.name).copied();
            if last == Some(mark) {
                continue;
            }
            // The store changes only when entries apply; the allocator's state also in rounds.
            let store_changed = last.map(|(i, _)| i != index).unwrap_or(true);
            self.checked_index.insert(h.name.clone(), mark);
            self.committed.check(&h.name, index, mgr.applied_digest())?;
            if mgr.is_leader() {
                if store_changed || self.leader_checked.as_deref() != Some(h.name.as_str()) {
                    let same_leader = self.leader_checked.as_deref() == Some(h.name.as_str());
                    let changed = if same_leader { mgr.touched_since(self.leader_checked_index) } else { None };
                    self.leader_checked = Some(h.name.clone());
                    self.leader_checked_index = index;
                    let verdict = match &changed {
                        Some(changed) => check_store_changed(mgr.store(), changed),
                        None => check_store(mgr.store()),
                    };
                    #[cfg(debug_assertions)]
                    if changed.is_some() {
                        let full = check_store(mgr.store());
                        assert_eq!(
                            verdict.is_ok(),
                            full.is_ok(),
                            "the incremental store checks disagree with the full ones at index {index}: {verdict:?} vs {full:?}"
                        );
                    }
                    verdict.map_err(|e| format!("invariant violated in {}'s store: {e}", h.name))?;
                    self.updates
                        .check(mgr.store())
                        .map_err(|e| format!("invariant violated in {}'s store: {e}", h.name))?;
                }
                if let Some(allocator) = mgr.allocator() {
                    allocator::live_addresses_taken(mgr.store(), allocator)
                        .map_err(|e| format!("invariant violated in {}'s allocator: {e}", h.name))?;
                }
            }
        }
        Ok(())
    }
}

/// `check_store` over what changed since a store that passed it: the task checks look only
/// at the tasks the batches may have changed (`tasks::affected_tasks`); the address and port
/// checks still scan the store. Same invariants, same order.
pub fn check_store_changed(store: &Store, changed: &[&Touched]) -> Result<(), String> {
    let affected = tasks::affected_tasks(store, changed);
    tasks::one_task_per_slot_among(store, &affected)?;
    allocator::addresses_unique(store)?;
    allocator::host_ports_unique(store)?;
    tasks::none_on_removed_nodes_among(store, &affected)?;
    tasks::max_replicas_per_node_among(store, &affected)
}

/// The invariants of one store (the leader's), in the order they are reported.
pub fn check_store(store: &Store) -> Result<(), String> {
    tasks::one_task_per_slot(store)?;
    allocator::addresses_unique(store)?;
    allocator::host_ports_unique(store)?;
    tasks::none_on_removed_nodes(store)?;
    tasks::max_replicas_per_node(store)
}
