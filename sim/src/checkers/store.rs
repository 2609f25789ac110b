//! The replicated store: managers that applied the same index hold equal stores, and each
//! store's secondary indexes match its records.

use crate::world::SimHost;
use std::collections::BTreeMap;
use swarm_core::store::Store;

/// Checked between steps (comparing whole stores after every event would cost too much; the
/// digest check of `raft::CommittedEntries` runs after every event).
pub fn stores_agree<'a>(hosts: impl Iterator<Item = &'a SimHost>) -> Result<(), String> {
    let mut by_index: BTreeMap<u64, (&str, &Store)> = BTreeMap::new();
    for h in hosts.filter(|h| h.up) {
        let Some(mgr) = h.node.observe().manager() else { continue };
        let store = mgr.store();
        store.check_indexes().map_err(|e| format!("{}: {e}", h.name))?;
        if let Some((other, other_store)) = by_index.get(&store.applied_index) {
            if *other_store != store {
                return Err(format!(
                    "invariant violated: managers {} and {} applied index {} but hold different stores",
                    other, h.name, store.applied_index
                ));
            }
        } else {
            by_index.insert(store.applied_index, (&h.name, store));
        }
    }
    Ok(())
}
