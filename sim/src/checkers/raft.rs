//! Raft's safety: at most one leader per term, and a committed entry never changes.

use crate::world::SimHost;
use std::collections::BTreeMap;

/// At most one leader per term, across the whole run (checked after every event, since a
/// leader may lose its term before the next step).
#[derive(Default)]
pub struct OneLeaderPerTerm {
    /// The first leader seen in each term.
    leader_by_term: BTreeMap<u64, u64>,
}

impl OneLeaderPerTerm {
    /// `hosts`: every host running a manager (the others hold no Raft state).
    pub fn check<'a>(&mut self, hosts: impl Iterator<Item = &'a SimHost>) -> Result<(), String> {
        let mut violation = None;
        for host in hosts.filter(|h| h.up) {
            let Some(mgr) = host.node.observe().manager() else { continue };
            if !mgr.is_leader() {
                continue;
            }
            let (term, id) = (mgr.term(), mgr.raft_id());
            let seen = *self.leader_by_term.entry(term).or_insert(id);
            if seen != id && violation.is_none() {
                violation = Some(format!("invariant violated: two leaders ({seen:x} and {id:x}) in term {term}"));
            }
        }
        violation.map_or(Ok(()), Err)
    }
}

/// A committed entry never changes: managers at the same applied index hold the same digest
/// of everything applied (so also the same store).
#[derive(Default)]
pub struct CommittedEntries {
    /// Applied index → digest, as the first manager to reach it had it.
    digests: BTreeMap<u64, u64>,
}

impl CommittedEntries {
    pub fn check(&mut self, host: &str, index: u64, digest: u64) -> Result<(), String> {
        match self.digests.get(&index) {
            Some(d) if *d != digest => Err(format!(
                "invariant violated: committed entries differ: {host} applied index {index} with digest {digest:016x}, another manager had {d:016x}"
            )),
            Some(_) => Ok(()),
            None => {
                self.digests.insert(index, digest);
                Ok(())
            }
        }
    }
}
