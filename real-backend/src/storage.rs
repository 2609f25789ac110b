//! The node's disk: Raft log, hard state, conf state, snapshot and identity in one redb file
//! under the data root, applying core's disk contract (`swarm_core::persist::DiskWrite`). Every write is one redb transaction committed with immediate durability
//! (fsync) before `persist` returns, so nothing is acknowledged that a `kill -9` could lose.

use protobuf::Message as _;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::Path;
use swarm_core::persist::{DiskState, DiskWrite, Identity, PersistRaft, RaftDisk};

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("raft_log");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

pub struct Storage {
    db: Database,
}

#[derive(Debug)]
pub struct StorageError(pub String);

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage: {}", self.0)
    }
}

impl std::error::Error for StorageError {}

fn err(e: impl std::fmt::Display) -> StorageError {
    StorageError(e.to_string())
}

impl Storage {
    pub fn open(path: &Path) -> Result<Storage, StorageError> {
        let db = Database::create(path).map_err(err)?;
        let tx = db.begin_write().map_err(err)?;
        tx.open_table(LOG).map_err(err)?;
        tx.open_table(META).map_err(err)?;
        tx.commit().map_err(err)?;
        Ok(Storage { db })
    }

    /// Makes one write durable, as core's disk contract says (`DiskState::apply`).
    pub fn apply(&self, write: &DiskWrite) -> Result<(), StorageError> {
        match write {
            DiskWrite::Raft(w) => self.persist(w),
            DiskWrite::Identity(identity) => self.save_identity(identity.as_ref()),
        }
    }

    /// Makes one Raft write durable: a snapshot drops the entries it covers, appended entries
    /// replace any conflicting suffix, as `RaftDisk::apply` does in memory.
    fn persist(&self, write: &PersistRaft) -> Result<(), StorageError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut log = tx.open_table(LOG).map_err(err)?;
            let mut meta = tx.open_table(META).map_err(err)?;
            if let Some(snap) = &write.snapshot {
                let index = snap.get_metadata().index;
                log.retain(|k, _| k > index).map_err(err)?;
                meta.insert("snapshot", snap.write_to_bytes().map_err(err)?.as_slice()).map_err(err)?;
                let cs = snap.get_metadata().get_conf_state().write_to_bytes().map_err(err)?;
                meta.insert("conf_state", cs.as_slice()).map_err(err)?;
            }
            if let Some(first) = write.entries.first() {
                let first_index = first.index;
                log.retain(|k, _| k < first_index).map_err(err)?;
                for e in &write.entries {
                    log.insert(e.index, e.write_to_bytes().map_err(err)?.as_slice()).map_err(err)?;
                }
            }
            if let Some(hs) = &write.hard_state {
                meta.insert("hard_state", hs.write_to_bytes().map_err(err)?.as_slice()).map_err(err)?;
            }
            if let Some(cs) = &write.conf_state {
                meta.insert("conf_state", cs.write_to_bytes().map_err(err)?.as_slice()).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// `None` when the node left its swarm: the Raft state goes with it (`DiskState::save_identity`).
    fn save_identity(&self, identity: Option<&Identity>) -> Result<(), StorageError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut meta = tx.open_table(META).map_err(err)?;
            match identity {
                Some(id) => {
                    let bytes = serde_json::to_vec(id).map_err(err)?;
                    meta.insert("identity", bytes.as_slice()).map_err(err)?;
                }
                None => {
                    for key in ["identity", "hard_state", "conf_state", "snapshot"] {
                        meta.remove(key).map_err(err)?;
                    }
                    let mut log = tx.open_table(LOG).map_err(err)?;
                    log.retain(|_, _| false).map_err(err)?;
                }
            }
        }
        tx.commit().map_err(err)
    }

    /// Everything on disk, as `Node::restart` wants it.
    pub fn load(&self) -> Result<DiskState, StorageError> {
        let tx = self.db.begin_read().map_err(err)?;
        let meta = tx.open_table(META).map_err(err)?;
        let log = tx.open_table(LOG).map_err(err)?;
        let get = |key: &str| -> Result<Option<Vec<u8>>, StorageError> {
            Ok(meta.get(key).map_err(err)?.map(|v| v.value().to_vec()))
        };
        let identity = match get("identity")? {
            Some(bytes) => Some(serde_json::from_slice(&bytes).map_err(err)?),
            None => None,
        };
        let mut raft = RaftDisk::default();
        if let Some(b) = get("hard_state")? {
            raft.hard_state = protobuf::Message::parse_from_bytes(&b).map_err(err)?;
        }
        if let Some(b) = get("conf_state")? {
            raft.conf_state = protobuf::Message::parse_from_bytes(&b).map_err(err)?;
        }
        if let Some(b) = get("snapshot")? {
            raft.snapshot = Some(protobuf::Message::parse_from_bytes(&b).map_err(err)?);
        }
        for row in log.iter().map_err(err)? {
            let (k, v) = row.map_err(err)?;
            let e: raft::eraftpb::Entry = protobuf::Message::parse_from_bytes(v.value()).map_err(err)?;
            assert_eq!(e.index, k.value(), "a log entry is stored under its own index");
            if let Some(last) = raft.entries.last() {
                assert_eq!(last.index + 1, e.index, "the stored log is contiguous");
            }
            raft.entries.push(e);
        }
        Ok(DiskState { identity, raft })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarm_core::persist::contract;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("swarmd-storage-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Core's contract sequence, applied to redb and to `DiskState`: after every write the file,
    /// reopened, holds what `DiskState` holds (a reopen is what a restart reads).
    #[test]
    fn redb_keeps_what_cores_disk_state_keeps_after_every_write() {
        let dir = scratch("contract");
        let path = dir.join("raft.redb");
        let mut expected = DiskState::default();
        for (write, why) in contract::writes() {
            expected.apply(&write);
            Storage::open(&path).unwrap().apply(&write).unwrap();
            assert_eq!(Storage::open(&path).unwrap().load().unwrap(), expected, "after: {why}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
