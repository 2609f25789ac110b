//! Raft for the managers' store: tikv's raft-rs `RawNode`, driven sans-IO.
//!
//! raft-rs has no clock, threads or I/O of its own; we tick it, step it with messages and drain
//! its `Ready`. Its one hole is `reset_randomized_election_timeout`, which draws from
//! `thread_rng`: after every change of term or role we overwrite the timeout with a value from
//! the node's seeded RNG, so elections replay bit for bit (checked by the simulator's
//! determinism test, which runs every scenario twice and compares trace hashes).
//!
//! Contract with the caller (as raft-rs's on `Ready`): the `persist` part of a [`RaftReady`] must
//! be durable before the messages that follow it are sent, and committed entries are applied in
//! order. Node emits `Output::Persist` before the `Output::Send`s of the same step for that reason.

use crate::persist::{PersistRaft, RaftDisk};
use raft::eraftpb::{ConfChange, ConfChangeType, ConfState, Entry, EntryType, Message, Snapshot};
use raft::storage::MemStorage;
use raft::{Config, RawNode, StateRole, Storage};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// swarmkit: ElectionTick 10, HeartbeatTick 1 (with a 1 s tick).
pub const ELECTION_TICK: usize = 10;
pub const HEARTBEAT_TICK: usize = 1;
/// swarmkit snapshots every 10,000 entries and keeps 500 for slow followers.
pub const SNAPSHOT_INTERVAL_ENTRIES: u64 = 10_000;
pub const LOG_ENTRIES_KEPT_AFTER_SNAPSHOT: u64 = 500;

/// raft-rs's in-memory log plus the latest snapshot *with* the store's bytes in it
/// (MemStorage's own snapshot carries metadata only).
pub struct RaftStorage {
    log: MemStorage,
    latest_snapshot: Snapshot,
}

impl RaftStorage {
    fn new() -> RaftStorage {
        RaftStorage { log: MemStorage::new(), latest_snapshot: Snapshot::default() }
    }
}

impl Storage for RaftStorage {
    fn initial_state(&self) -> raft::Result<raft::RaftState> {
        self.log.initial_state()
    }
    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        context: raft::GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        self.log.entries(low, high, max_size, context)
    }
    fn term(&self, idx: u64) -> raft::Result<u64> {
        let meta = self.latest_snapshot.get_metadata();
        if idx == meta.index && meta.index > 0 {
            return Ok(meta.term);
        }
        self.log.term(idx)
    }
    fn first_index(&self) -> raft::Result<u64> {
        self.log.first_index()
    }
    fn last_index(&self) -> raft::Result<u64> {
        self.log.last_index()
    }
    fn snapshot(&self, request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        if self.latest_snapshot.get_metadata().index < request_index.max(1) {
            return Err(raft::Error::Store(raft::StorageError::SnapshotTemporarilyUnavailable));
        }
        Ok(self.latest_snapshot.clone())
    }
}

/// What one drain of raft's `Ready` gives the manager.
#[derive(Default)]
pub struct RaftReady {
    /// Messages to send, in order; the ones after `persist` only once it is durable.
    pub messages: Vec<Message>,
    pub persist: PersistRaft,
    /// A snapshot from the leader to restore the store from, before `committed`.
    pub snapshot: Option<Snapshot>,
    pub committed: Vec<Entry>,
}

pub struct RaftNode {
    raw: RawNode<RaftStorage>,
    /// (term, role) seen last: a change means raft-rs re-drew its election timeout.
    last_term_role: (u64, StateRole),
}

impl RaftNode {
    fn config(id: u64) -> Config {
        Config {
            id,
            election_tick: ELECTION_TICK,
            heartbeat_tick: HEARTBEAT_TICK,
            check_quorum: true,
            pre_vote: true,
            max_size_per_msg: 1024 * 1024,
            max_inflight_msgs: 256,
            ..Default::default()
        }
    }

    fn logger() -> slog::Logger {
        slog::Logger::root(slog::Discard, slog::o!())
    }

    /// The first manager of a new swarm: a one-voter cluster that elects itself at once.
    pub fn bootstrap(id: u64, rng: &mut ChaCha8Rng) -> RaftNode {
        let storage = RaftStorage::new();
        storage.log.initialize_with_conf_state(Self::bootstrap_conf_state(id));
        let raw = RawNode::new(&Self::config(id), storage, &Self::logger()).expect("valid raft config");
        let mut node = RaftNode { raw, last_term_role: (0, StateRole::Follower) };
        node.reseed_election_timeout(rng);
        node.raw.campaign().expect("a single voter can campaign");
        node.reseed_election_timeout(rng);
        node
    }

    /// The voter set of a new swarm: persisted at bootstrap, since it is in no log entry.
    pub fn bootstrap_conf_state(id: u64) -> ConfState {
        ConfState::from((vec![id], vec![]))
    }

    /// A manager restarting from its disk: the snapshot, the entries after it and the hard
    /// state. Entries committed after the snapshot come back through `drain_ready` to be
    /// applied again on top of the snapshot's store.
    pub fn restore(id: u64, disk: &RaftDisk, rng: &mut ChaCha8Rng) -> RaftNode {
        let mut storage = RaftStorage::new();
        let mut applied = 0;
        if let Some(snap) = &disk.snapshot {
            storage.log.wl().apply_snapshot(snap.clone()).expect("a fresh log takes any snapshot");
            storage.latest_snapshot = snap.clone();
            applied = snap.get_metadata().index;
        } else {
            storage.log.initialize_with_conf_state(disk.conf_state.clone());
        }
        storage.log.wl().append(&disk.entries).expect("persisted entries are contiguous");
        storage.log.wl().set_hardstate(disk.hard_state.clone());
        let mut config = Self::config(id);
        config.applied = applied;
        let raw = RawNode::new(&config, storage, &Self::logger()).expect("valid raft config");
        let mut node = RaftNode { raw, last_term_role: (0, StateRole::Follower) };
        node.reseed_election_timeout(rng);
        node
    }

    /// A manager joining an existing swarm: empty log, no voters known; the leader's
    /// appends (or a snapshot) bring it up to date, its own AddNode included.
    pub fn joining(id: u64, rng: &mut ChaCha8Rng) -> RaftNode {
        let storage = RaftStorage::new();
        let raw = RawNode::new(&Self::config(id), storage, &Self::logger()).expect("valid raft config");
        let mut node = RaftNode { raw, last_term_role: (0, StateRole::Follower) };
        node.reseed_election_timeout(rng);
        node
    }

    pub fn id(&self) -> u64 {
        self.raw.raft.id
    }
    pub fn term(&self) -> u64 {
        self.raw.raft.term
    }
    pub fn role(&self) -> StateRole {
        self.raw.raft.state
    }
    pub fn is_leader(&self) -> bool {
        self.raw.raft.state == StateRole::Leader
    }
    /// The leader's raft ID as this node knows it (0: none).
    pub fn leader_id(&self) -> u64 {
        self.raw.raft.leader_id
    }
    pub fn commit_index(&self) -> u64 {
        self.raw.raft.raft_log.committed
    }
    pub fn voters(&self) -> Vec<u64> {
        let mut v: Vec<u64> = self.raw.raft.prs().conf().voters().ids().iter().collect();
        v.sort_unstable();
        v
    }
    /// Whether this leader has committed an entry of its own term, so every entry of earlier
    /// terms is committed too: only then do its controllers read a complete store.
    pub fn leader_has_committed_in_term(&self) -> bool {
        let log = &self.raw.raft.raft_log;
        self.is_leader() && log.term(log.committed).map(|t| t == self.term()).unwrap_or(false)
    }
    /// Whether the leader heard from a quorum recently (raft-rs's check-quorum view).
    pub fn peer_recently_active(&self, id: u64) -> bool {
        self.raw.raft.prs().get(id).map(|p| p.recent_active).unwrap_or(false)
    }

    /// After every change of term or role raft-rs has drawn a timeout from `thread_rng`;
    /// replace it with one from the seeded RNG, in raft-rs's range [election, 2 × election).
    fn reseed_election_timeout(&mut self, rng: &mut ChaCha8Rng) {
        let now = (self.raw.raft.term, self.raw.raft.state);
        let timeout = rng.gen_range(ELECTION_TICK..2 * ELECTION_TICK);
        self.raw.raft.set_randomized_election_timeout(timeout);
        self.last_term_role = now;
    }

    fn reseed_if_changed(&mut self, rng: &mut ChaCha8Rng) {
        if (self.raw.raft.term, self.raw.raft.state) != self.last_term_role {
            self.reseed_election_timeout(rng);
        }
    }

    pub fn tick(&mut self, rng: &mut ChaCha8Rng) {
        self.raw.tick();
        self.reseed_if_changed(rng);
    }

    /// Feeds a message from a peer. A message raft refuses is dropped (as a lost packet would be).
    pub fn step(&mut self, msg: Message, rng: &mut ChaCha8Rng) -> Result<(), String> {
        // A leader never tells a follower to commit past what it matched, so a heartbeat
        // committing past our last entry was meant for a member that held entries this node
        // never had: a former manager at this address whose data root was lost (the chaos
        // sweeps' `lose_data_root`, with clients writing, found raft-rs panicking on it).
        // Refused as a message from a stranger, never a panic.
        if msg.get_msg_type() == raft::eraftpb::MessageType::MsgHeartbeat
            && msg.commit > self.raw.raft.raft_log.last_index()
        {
            return Err(format!(
                "heartbeat commits to {} but the log ends at {}: meant for a former member",
                msg.commit,
                self.raw.raft.raft_log.last_index()
            ));
        }
        let r = self.raw.step(msg).map_err(|e| e.to_string());
        self.reseed_if_changed(rng);
        r
    }

    pub fn propose(&mut self, data: Vec<u8>) -> Result<(), String> {
        self.raw.propose(Vec::new(), data).map_err(|e| e.to_string())
    }

    pub fn propose_add_node(&mut self, id: u64, context: Vec<u8>) -> Result<(), String> {
        self.refuse_second_conf_change()?;
        let mut cc = ConfChange::default();
        cc.set_change_type(ConfChangeType::AddNode);
        cc.node_id = id;
        self.raw.propose_conf_change(context, cc).map_err(|e| e.to_string())
    }

    pub fn propose_remove_node(&mut self, id: u64) -> Result<(), String> {
        self.refuse_second_conf_change()?;
        let mut cc = ConfChange::default();
        cc.set_change_type(ConfChangeType::RemoveNode);
        cc.node_id = id;
        self.raw.propose_conf_change(Vec::new(), cc).map_err(|e| e.to_string())
    }

    /// raft-rs takes one membership change at a time, and turns a second one proposed before
    /// the first applies into an empty entry without an error: the change would be lost
    /// silently. Refused here instead, so the caller can queue it or say so.
    fn refuse_second_conf_change(&self) -> Result<(), String> {
        if self.raw.raft.has_pending_conf() {
            return Err("a membership change is still being applied".into());
        }
        Ok(())
    }

    /// Applies a committed conf change to raft's own membership.
    pub fn apply_conf_change(&mut self, cc: &ConfChange) -> ConfState {
        // (the caller persists the returned voter set)
        let cs = self.raw.apply_conf_change(cc).expect("a committed conf change applies");
        self.raw.mut_store().log.wl().set_conf_state(cs.clone());
        cs
    }

    pub fn set_check_quorum(&mut self, on: bool) {
        self.raw.raft.set_check_quorum(on);
    }

    pub fn has_ready(&self) -> bool {
        self.raw.has_ready()
    }

    /// Drains raft's Ready: persists into the in-memory log (mirrored to the driver through
    /// `persist`), collects messages and committed entries, and advances.
    pub fn drain_ready(&mut self, rng: &mut ChaCha8Rng) -> RaftReady {
        let mut out = RaftReady::default();
        if !self.raw.has_ready() {
            return out;
        }
        let mut ready = self.raw.ready();
        out.messages.extend(ready.take_messages());
        if !ready.snapshot().is_empty() {
            let snap = ready.snapshot().clone();
            {
                let store = self.raw.mut_store();
                store.log.wl().apply_snapshot(snap.clone()).expect("leader's snapshot is newer than our log");
                store.latest_snapshot = snap.clone();
            }
            out.persist.snapshot = Some(snap.clone());
            out.snapshot = Some(snap);
        }
        out.committed.extend(ready.take_committed_entries());
        if !ready.entries().is_empty() {
            let entries = ready.take_entries();
            self.raw.mut_store().log.wl().append(&entries).expect("raft hands contiguous entries");
            out.persist.entries = entries;
        }
        if let Some(hs) = ready.hs() {
            self.raw.mut_store().log.wl().set_hardstate(hs.clone());
            out.persist.hard_state = Some(hs.clone());
        }
        out.messages.extend(ready.take_persisted_messages());
        let mut light = self.raw.advance(ready);
        if let Some(commit) = light.commit_index() {
            self.raw.mut_store().log.wl().mut_hard_state().commit = commit;
            let mut hs = self.raw.store().log.rl().hard_state().clone();
            hs.commit = commit;
            out.persist.hard_state = Some(hs);
        }
        out.messages.extend(light.take_messages());
        out.committed.extend(light.take_committed_entries());
        self.raw.advance_apply();
        self.reseed_if_changed(rng);
        out
    }

    /// Takes a snapshot of the store at `applied` and compacts the log behind it, keeping
    /// [`LOG_ENTRIES_KEPT_AFTER_SNAPSHOT`] entries for slow followers.
    /// Returns the snapshot, for the driver to persist.
    pub fn snapshot_and_compact(&mut self, applied: u64, store_bytes: Vec<u8>) -> Snapshot {
        let term = self.raw.raft.raft_log.term(applied).expect("applied entry is in the log");
        let conf_state = self.raw.raft.prs().conf().to_conf_state();
        let mut snap = Snapshot { data: store_bytes.into(), ..Default::default() };
        let meta = snap.mut_metadata();
        meta.index = applied;
        meta.term = term;
        meta.set_conf_state(conf_state);
        let store = self.raw.mut_store();
        store.latest_snapshot = snap.clone();
        let compact_to = applied.saturating_sub(LOG_ENTRIES_KEPT_AFTER_SNAPSHOT).max(1);
        store.log.wl().compact(compact_to).expect("compacting behind the applied index");
        snap
    }

    pub fn snapshot_index(&self) -> u64 {
        self.raw.store().latest_snapshot.get_metadata().index
    }

    pub fn campaign(&mut self, rng: &mut ChaCha8Rng) {
        // Refused only while a conf change waits to be applied; the caller retries after.
        let _ = self.raw.campaign();
        self.reseed_if_changed(rng);
    }

    /// `swarm init --force-new-cluster`: this member's Raft state as its disk holds it (our
    /// storage mirrors the disk: every write is persisted before the next input), rewritten
    /// as swarmkit's `loadAndStart(forceNewCluster)` rewrites its WAL: the entries after the
    /// commit index are discarded, and one `RemoveNode` conf change per other voter (an
    /// `AddNode` of itself if it is not one) is appended at the current term and committed
    /// by fiat. Returns the write to persist and the disk image to restart Raft from.
    ///
    /// Why this way in raft-rs: a `ConfState` cannot be swapped under a running `RawNode`,
    /// and writing a new conf state into the disk image alone would disagree with the conf
    /// changes the log still holds, which are replayed on every restart. Conf change entries
    /// on top of the committed log keep the log the one history: a restart (now, or after a
    /// later crash) replays them and ends with this node the only voter, and the snapshot and
    /// committed entries, so the store, are kept. The term is not raised: the entries are
    /// committed on this node's own authority, and its first election as the sole voter
    /// moves to the next term, above anything the old members wrote.
    pub fn forced_new_cluster(&self, self_addr: &str) -> (PersistRaft, RaftDisk) {
        let store = self.raw.store();
        let snapshot = (store.latest_snapshot.get_metadata().index > 0).then(|| store.latest_snapshot.clone());
        let snap_index = snapshot.as_ref().map_or(0, |s| s.get_metadata().index);
        let mut hard_state = store.log.rl().hard_state().clone();
        let last = store.log.last_index().expect("MemStorage answers");
        let mut entries = if last > snap_index {
            store
                .log
                .entries(snap_index + 1, last + 1, None, raft::GetEntriesContext::empty(false))
                .expect("entries after the snapshot are in the log")
        } else {
            Vec::new()
        };
        let voters = self.voters();
        let own = self.id();
        let mut changes = Vec::new();
        for id in voters.iter().copied().filter(|v| *v != own) {
            let mut cc = ConfChange::default();
            cc.set_change_type(ConfChangeType::RemoveNode);
            cc.node_id = id;
            changes.push((cc, Vec::new()));
        }
        if !voters.contains(&own) {
            let mut cc = ConfChange::default();
            cc.set_change_type(ConfChangeType::AddNode);
            cc.node_id = own;
            changes.push((cc, self_addr.as_bytes().to_vec()));
        }
        let mut persist = PersistRaft::default();
        if !changes.is_empty() {
            // Only a voter set to rewrite makes a write: with none (already alone) the log
            // commits by itself, and nothing needs discarding on a one-voter log.
            entries.retain(|e| e.index <= hard_state.commit);
            let term = hard_state.term;
            let mut next = hard_state.commit + 1;
            for (cc, context) in changes {
                let mut cc = cc;
                cc.context = context.into();
                let data = protobuf::Message::write_to_bytes(&cc).expect("a conf change encodes");
                let mut e = Entry { index: next, term, data: data.into(), ..Default::default() };
                e.set_entry_type(EntryType::EntryConfChange);
                persist.entries.push(e.clone());
                entries.push(e);
                next += 1;
            }
            hard_state.commit = next - 1;
            persist.hard_state = Some(hard_state.clone());
        }
        let conf_state = self.raw.raft.prs().conf().to_conf_state();
        let disk = RaftDisk { hard_state, conf_state, snapshot, entries };
        (persist, disk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn entry(index: u64, term: u64) -> Entry {
        Entry { index, term, data: vec![index as u8].into(), ..Default::default() }
    }

    /// A member of a three-voter cluster as its disk holds it: five entries, three committed.
    fn member_of_three() -> RaftDisk {
        RaftDisk {
            hard_state: raft::eraftpb::HardState { term: 4, vote: 2, commit: 3, ..Default::default() },
            conf_state: ConfState::from((vec![1, 2, 3], vec![])),
            snapshot: None,
            entries: (1..=5).map(|i| entry(i, if i <= 3 { 2 } else { 4 })).collect(),
        }
    }

    #[test]
    fn force_new_cluster_keeps_the_committed_log_and_leaves_this_node_the_only_voter() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let old = RaftNode::restore(1, &member_of_three(), &mut rng);
        assert_eq!(old.voters(), vec![1, 2, 3]);
        let (write, disk) = old.forced_new_cluster("10.0.0.1:2377");

        // The uncommitted entries 4 and 5 are gone; one RemoveNode per other voter follows the
        // commit index at the current term, committed by fiat.
        let kinds: Vec<(u64, u64, EntryType)> =
            disk.entries.iter().map(|e| (e.index, e.term, e.get_entry_type())).collect();
        assert_eq!(
            kinds,
            vec![
                (1, 2, EntryType::EntryNormal),
                (2, 2, EntryType::EntryNormal),
                (3, 2, EntryType::EntryNormal),
                (4, 4, EntryType::EntryConfChange),
                (5, 4, EntryType::EntryConfChange),
            ]
        );
        assert_eq!(disk.hard_state.commit, 5);
        assert_eq!(write.entries, disk.entries[3..].to_vec(), "the write replaces the discarded suffix");
        assert_eq!(write.hard_state.as_ref().map(|h| h.commit), Some(5));

        // The disk image after the write is the one Raft restarts from.
        let mut on_disk = member_of_three();
        on_disk.apply(&write);
        assert_eq!(on_disk.entries, disk.entries);

        // Restarted from it, Raft hands the whole committed log out again (the store is
        // rebuilt from it), applies the removals and, alone, elects itself at a higher term.
        let mut node = RaftNode::restore(1, &disk, &mut rng);
        let ready = node.drain_ready(&mut rng);
        assert_eq!(ready.committed.iter().map(|e| e.index).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
        for e in ready.committed.iter().filter(|e| e.get_entry_type() == EntryType::EntryConfChange) {
            let mut cc = ConfChange::default();
            protobuf::Message::merge_from_bytes(&mut cc, &e.data).expect("conf change decodes");
            assert_eq!(cc.get_change_type(), ConfChangeType::RemoveNode);
            node.apply_conf_change(&cc);
        }
        assert_eq!(node.voters(), vec![1]);
        node.campaign(&mut rng);
        let _ = node.drain_ready(&mut rng);
        assert!(node.is_leader());
        assert!(node.term() > 4, "the new cluster's first term is above every term the old one used");
    }

    #[test]
    fn force_new_cluster_on_a_lone_voter_rewrites_nothing() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut disk = member_of_three();
        disk.conf_state = ConfState::from((vec![1], vec![]));
        let node = RaftNode::restore(1, &disk, &mut rng);
        let (write, forced) = node.forced_new_cluster("10.0.0.1:2377");
        assert!(write.is_empty());
        assert_eq!(forced.entries.len(), 5);
    }
}
