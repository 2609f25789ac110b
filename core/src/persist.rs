//! What a node keeps on disk, and how the drivers build that image from `Output::Persist` and
//! `Output::SaveIdentity`, so a crashed or killed node restarts with everything it acknowledged.
//!
//! Both drivers share this logic: the simulator keeps a `DiskState` per host (what was fsynced
//! survives a crash), `swarmd` stores the same pieces in its embedded database.

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

/// Everything a node finds on its disk when it starts again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiskState {
    pub identity: Option<Identity>,
    pub raft: RaftDisk,
}

impl DiskState {
    pub fn apply_raft(&mut self, write: &PersistRaft) {
        self.raft.apply(write);
    }
}
