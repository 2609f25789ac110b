//! Safety checkers, run after every event. A violation stops the run: it is a bug found in
//! swarm-core, reported with the seed, the time, the invariant and the command that replays it.
//!
//! Checked here (the world checks "one leader per term" itself, since it sees every leader):
//! - a committed entry never changes: managers at the same applied index hold the same digest
//!   of everything applied (so also the same store);
//! - in the leader's store: a slot never has two tasks that should be running on Ready nodes;
//!   no address or VIP handed out twice in a network; no host port bound twice on a node;
//!   no task running on a node that was removed.

use crate::world::SimHost;
use std::collections::{BTreeMap, BTreeSet};
use swarm_core::api::{NodeState, TaskState};
use swarm_core::ids::{NetworkId, NodeId, ServiceId, TaskId};
use swarm_core::store::Store;
use swarm_core::time::Instant;

#[derive(Default)]
pub struct Checker {
    /// Applied index → digest, as the first manager to reach it had it.
    digests: BTreeMap<u64, u64>,
    /// Per host, the (applied index, controllers' rounds) last checked: a step costs nothing
    /// when nothing was applied and no round ran.
    checked_index: BTreeMap<String, (u64, u64)>,
    /// The leader whose store was checked last (a new leader's store is checked at once).
    leader_checked: Option<String>,
}

impl Checker {
    /// `hosts`: every host running a manager (the others hold no store).
    pub fn after_event<'a>(&mut self, hosts: impl Iterator<Item = &'a SimHost>, _now: Instant) -> Result<(), String> {
        for h in hosts.filter(|h| h.up) {
            let Some(mgr) = h.node.manager() else { continue };
            let index = mgr.store.applied_index;
            let mark = (index, mgr.rounds_run);
            let last = self.checked_index.get(&h.name).copied();
            if last == Some(mark) {
                continue;
            }
            // The store changes only when entries apply; the allocator's state also in rounds.
            let store_changed = last.map(|(i, _)| i != index).unwrap_or(true);
            self.checked_index.insert(h.name.clone(), mark);
            let digest = mgr.store.applied_digest;
            match self.digests.get(&index) {
                Some(d) if *d != digest => {
                    return Err(format!(
                        "invariant violated: committed entries differ: {} applied index {index} with digest {digest:016x}, another manager had {d:016x}",
                        h.name
                    ));
                }
                Some(_) => {}
                None => {
                    self.digests.insert(index, digest);
                }
            }
            if mgr.is_leader() {
                if store_changed || self.leader_checked.as_deref() != Some(h.name.as_str()) {
                    self.leader_checked = Some(h.name.clone());
                    check_store(&mgr.store).map_err(|e| format!("invariant violated in {}'s store: {e}", h.name))?;
                }
                if let Some(allocator) = mgr.leader_allocator() {
                    check_allocator(&mgr.store, allocator)
                        .map_err(|e| format!("invariant violated in {}'s allocator: {e}", h.name))?;
                }
            }
        }
        Ok(())
    }
}

/// Every address a live task holds is one the allocator counts as taken: otherwise it could
/// hand it out again while the task's container still uses it.
pub fn check_allocator(store: &Store, allocator: &swarm_core::manager::allocator::Allocator) -> Result<(), String> {
    for t in store.tasks.values().filter(|t| !t.status.state.is_terminal()) {
        for att in &t.networks {
            for a in &att.addresses {
                if !allocator.is_address_taken(&att.network_id, a.ip) {
                    return Err(format!(
                        "address {} of live task {} on network {} is free for the allocator",
                        a, t.id, att.network_id
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The store-level safety invariants.
pub fn check_store(store: &Store) -> Result<(), String> {
    // A slot never has two tasks that should be running on healthy nodes.
    // Keys borrow from the store: this runs after every applied batch, so it allocates nothing
    // per task.
    let mut running_slots: BTreeMap<(&ServiceId, u64, Option<&NodeId>), &TaskId> = BTreeMap::new();
    for t in store.tasks.values() {
        let on_ready_node = t
            .node_id
            .as_ref()
            .and_then(|n| store.nodes.get(n))
            .map(|n| n.status.state == NodeState::Ready)
            .unwrap_or(false);
        if !(on_ready_node && t.desired_state == TaskState::Running && t.status.state == TaskState::Running) {
            continue;
        }
        let node_key = if t.slot == 0 { t.node_id.as_ref() } else { None };
        let key = (&t.service_id, t.slot, node_key);
        if let Some(other) = running_slots.insert(key, &t.id) {
            return Err(format!("slot {} has two running tasks: {} and {}", t.name(), other, t.id));
        }
    }
    // No address or VIP handed out twice in a network.
    let mut addresses: BTreeSet<(&NetworkId, std::net::Ipv4Addr)> = BTreeSet::new();
    for svc in store.services.values() {
        for vip in svc.endpoint.iter().flat_map(|e| e.virtual_ips.iter()) {
            if !addresses.insert((&vip.network_id, vip.addr.ip)) {
                return Err(format!("VIP {} on network {} handed out twice", vip.addr, vip.network_id));
            }
        }
    }
    for t in store.tasks.values().filter(|t| !t.status.state.is_terminal()) {
        for att in &t.networks {
            for a in &att.addresses {
                if !addresses.insert((&att.network_id, a.ip)) {
                    return Err(format!(
                        "address {} on network {} handed out twice (task {})",
                        a, att.network_id, t.id
                    ));
                }
            }
        }
    }
    // No host port bound twice on a node.
    let mut host_ports: BTreeSet<(&NodeId, u16)> = BTreeSet::new();
    for t in store.tasks.values().filter(|t| t.is_runnable()) {
        let Some(node) = &t.node_id else { continue };
        for p in &t.host_ports {
            if !host_ports.insert((node, p.published_port)) {
                return Err(format!("host port {} bound twice on node {}", p.published_port, node));
            }
        }
    }
    // No task runs on a removed node.
    for t in store.tasks.values() {
        if let Some(node) = &t.node_id {
            if !store.nodes.contains_key(node)
                && t.status.state == TaskState::Running
                && t.desired_state == TaskState::Running
            {
                return Err(format!("task {} runs on removed node {}", t.id, node));
            }
        }
    }
    Ok(())
}
