//! What a node keeps on disk, and what each persist output means for it: the one disk contract
//! both drivers apply, so a crashed or killed node restarts with everything it acknowledged.
//!
//! The simulator keeps a `DiskState` per host and applies each `DiskWrite` to it when the write
//! is durable; `swarmd` applies the same writes to its redb file (`real-backend/src/storage.rs`,
//! tested against `DiskState` with one sequence of writes).

use crate::api::NodeRole;
use crate::ids::NodeId;
use crate::message::Addr;
use raft::eraftpb::{ConfState, Entry, HardState, Snapshot};

/// Who the node is in its swarm: written when it joins or initialises, cleared when it leaves.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub node_id: NodeId,
    pub role: NodeRole,
    /// `IP:2377`.
    pub advertise_addr: Addr,
    /// The node's Raft ID when it is a manager.
    pub raft_id: Option<u64>,
    /// Every manager known at the time: Raft ID and address.
    pub managers: Vec<(u64, Addr)>,
}

/// The durable part of one Raft `Ready`, to be fsynced before the sends that follow it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PersistRaft {
    pub hard_state: Option<HardState>,
    pub entries: Vec<Entry>,
    /// A snapshot received from the leader or taken locally (it replaces the log before it).
    pub snapshot: Option<Snapshot>,
    /// The voter set after a bootstrap or an applied membership change.
    pub conf_state: Option<ConfState>,
}

impl PersistRaft {
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none() && self.entries.is_empty() && self.snapshot.is_none() && self.conf_state.is_none()
    }
}

/// A manager's Raft state as the disk holds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaftDisk {
    pub hard_state: HardState,
    pub conf_state: ConfState,
    pub snapshot: Option<Snapshot>,
    /// Entries after the snapshot, contiguous.
    pub entries: Vec<Entry>,
}

impl RaftDisk {
    /// Applies one write, as a log-structured store would: a snapshot drops the entries it
    /// covers; appended entries replace any conflicting suffix (raft may overwrite uncommitted
    /// entries of an old term).
    pub fn apply(&mut self, write: &PersistRaft) {
        if let Some(snap) = &write.snapshot {
            let index = snap.get_metadata().index;
            self.entries.retain(|e| e.index > index);
            self.conf_state = snap.get_metadata().get_conf_state().clone();
            self.snapshot = Some(snap.clone());
        }
        if let Some(first) = write.entries.first() {
            // The entries are contiguous and ascending, so the ones kept are a prefix: a binary
            // search finds its end (a scan of the whole log per append cost O(log length), up to
            // 10,000 entries between snapshots, on every manager for every write).
            let kept = self.entries.partition_point(|e| e.index < first.index);
            self.entries.truncate(kept);
            if let Some(last) = self.entries.last() {
                assert_eq!(last.index + 1, first.index, "persisted entries stay contiguous");
            }
            self.entries.extend(write.entries.iter().cloned());
        }
        if let Some(hs) = &write.hard_state {
            self.hard_state = hs.clone();
        }
        if let Some(cs) = &write.conf_state {
            self.conf_state = cs.clone();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.snapshot.is_none() && self.entries.is_empty() && self.hard_state == HardState::default()
    }
}

/// One write a node asks its disk for, in the order of its outputs.
#[derive(Clone, Debug, PartialEq)]
pub enum DiskWrite {
    /// `Output::Persist`: Raft's hard state, entries, snapshot, voters (`RaftDisk::apply`).
    Raft(PersistRaft),
    /// `Output::SaveIdentity`: who the node is in its swarm (`DiskState::save_identity`).
    Identity(Option<Identity>),
}

/// Everything a node finds on its disk when it starts again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiskState {
    pub identity: Option<Identity>,
    pub raft: RaftDisk,
}

impl DiskState {
    pub fn apply(&mut self, write: &DiskWrite) {
        match write {
            DiskWrite::Raft(w) => self.apply_raft(w),
            DiskWrite::Identity(identity) => self.save_identity(identity.as_ref()),
        }
    }

    pub fn apply_raft(&mut self, write: &PersistRaft) {
        self.raft.apply(write);
    }

    /// `Some`: the node joined, initialised or was promoted; its Raft state stays (a promoted
    /// worker's first Raft writes follow). `None`: it left its swarm, and as docker removes its
    /// swarm directory on `swarm leave` (`/var/lib/docker/swarm`: Raft log, snapshots, state),
    /// nothing of that swarm is left: a later join starts from an empty Raft log.
    pub fn save_identity(&mut self, identity: Option<&Identity>) {
        match identity {
            Some(id) => self.identity = Some(id.clone()),
            None => *self = DiskState::default(),
        }
    }
}

/// The sequence of writes both storages are tested against: `DiskState` here, swarmd's redb file
/// in `real-backend/src/storage.rs`, which must load back what `DiskState` holds after each one.
pub mod contract {
    use super::*;
    use raft::eraftpb::SnapshotMetadata;

    fn entry(index: u64, term: u64) -> Entry {
        Entry { index, term, data: vec![index as u8].into(), ..Default::default() }
    }

    pub fn identity(raft_id: Option<u64>) -> Identity {
        Identity {
            node_id: NodeId("n1".into()),
            role: if raft_id.is_some() { NodeRole::Manager } else { NodeRole::Worker },
            advertise_addr: "10.0.0.1:2377".parse().expect("an address"),
            raft_id,
            managers: vec![(7, "10.0.0.7:2377".parse().expect("an address"))],
        }
    }

    fn hard_state(term: u64, commit: u64) -> HardState {
        HardState { term, commit, ..Default::default() }
    }

    fn snapshot(index: u64, term: u64) -> Snapshot {
        let mut meta = SnapshotMetadata { index, term, ..Default::default() };
        meta.mut_conf_state().voters = vec![7];
        let mut snap = Snapshot { data: vec![1, 2, 3].into(), ..Default::default() };
        snap.set_metadata(meta);
        snap
    }

    /// A join, a log with a conflicting suffix overwritten, a promotion's new identity, a
    /// snapshot that drops what it covers, then `swarm leave` and a join into another swarm;
    /// each with what it stands for.
    pub fn writes() -> Vec<(DiskWrite, &'static str)> {
        let raft = |w: PersistRaft| DiskWrite::Raft(w);
        vec![
            (DiskWrite::Identity(Some(identity(None))), "a worker joined"),
            (
                raft(PersistRaft { entries: vec![entry(1, 1), entry(2, 1), entry(3, 1)], ..Default::default() }),
                "appended",
            ),
            (
                raft(PersistRaft {
                    hard_state: Some(hard_state(2, 2)),
                    entries: vec![entry(3, 2), entry(4, 2)],
                    ..Default::default()
                }),
                "entry 3 of term 1 overwritten",
            ),
            (DiskWrite::Identity(Some(identity(Some(9)))), "promoted: the Raft state stays"),
            (
                raft(PersistRaft {
                    snapshot: Some(snapshot(3, 2)),
                    hard_state: Some(hard_state(2, 4)),
                    ..Default::default()
                }),
                "a snapshot at 3 keeps entry 4 only",
            ),
            (DiskWrite::Identity(None), "left the swarm: nothing of it stays"),
            (DiskWrite::Identity(Some(identity(Some(11)))), "joined another swarm"),
            (raft(PersistRaft { entries: vec![entry(1, 1)], ..Default::default() }), "its log starts at 1"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::contract::*;
    use super::*;

    #[test]
    fn each_write_means_what_the_contract_says() {
        let mut disk = DiskState::default();
        let writes = writes();
        for (i, (write, why)) in writes.iter().enumerate() {
            disk.apply(write);
            match i {
                2 => assert_eq!(
                    disk.raft.entries.iter().map(|e| (e.index, e.term)).collect::<Vec<_>>(),
                    vec![(1, 1), (2, 1), (3, 2), (4, 2)],
                    "{why}"
                ),
                3 => {
                    assert_eq!(disk.identity, Some(identity(Some(9))), "{why}");
                    assert_eq!(disk.raft.entries.len(), 4, "{why}");
                }
                4 => {
                    assert_eq!(disk.raft.entries.iter().map(|e| e.index).collect::<Vec<_>>(), vec![4], "{why}");
                    assert_eq!(disk.raft.conf_state.voters, vec![7], "{why}: the snapshot's voters");
                }
                5 => assert_eq!(disk, DiskState::default(), "{why}"),
                _ => {}
            }
        }
        assert_eq!(disk.identity, Some(identity(Some(11))));
        assert_eq!(disk.raft.entries.iter().map(|e| e.index).collect::<Vec<_>>(), vec![1]);
        assert!(disk.raft.snapshot.is_none(), "the old swarm's snapshot went with it");
        assert_eq!(disk.raft.hard_state, HardState::default());
    }
}
