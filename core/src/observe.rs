//! A read-only view of one node, for observers outside core: the simulator's safety checkers,
//! its `expect` conditions and its benches. They judge the cluster by what its managers hold
//! (Raft's term and leader, the applied index and digest, the replicated store, the leader's
//! allocator) without naming the manager's types or being able to change anything.
//!
//! ```text
//! node.observe().manager()              // None on a worker or outside a swarm
//!     .map(|m| (m.term(), m.is_leader(), m.applied_index(), m.store()))
//! ```
//! Drivers carry out a node's outputs and need none of this: it is the checkers' window.

use crate::ids::NetworkId;
use crate::manager::allocator::Allocator;
use crate::manager::Manager;
use crate::node::Node;
use crate::store::{Store, Touched};
use core::net::Ipv4Addr;

/// How many tasks of a service should be running once the cluster settles (the orchestrator's
/// rule: its replicas, or for a global service one per node it runs on).
pub use crate::manager::orchestrator::desired_running;

/// A job's progress as `service ls` counts it, and whether its current iteration has nothing
/// left to run (the job orchestrators' rules).
pub use crate::manager::jobs::{is_finished as job_is_finished, progress as job_progress, JobProgress};

/// What an observer may read of a node (`Node::observe`).
#[derive(Clone, Copy)]
pub struct Observation<'a> {
    node: &'a Node,
}

impl<'a> Observation<'a> {
    pub(crate) fn of(node: &'a Node) -> Observation<'a> {
        Observation { node }
    }

    /// The node's manager, if it runs one.
    pub fn manager(&self) -> Option<ManagerView<'a>> {
        self.node.manager().map(|manager| ManagerView { manager })
    }
}

/// A manager as its Raft state and replicated store show it.
#[derive(Clone, Copy)]
pub struct ManagerView<'a> {
    manager: &'a Manager,
}

impl<'a> ManagerView<'a> {
    /// This manager's Raft ID.
    pub fn raft_id(&self) -> u64 {
        self.manager.raft.id()
    }

    pub fn term(&self) -> u64 {
        self.manager.raft.term()
    }

    pub fn is_leader(&self) -> bool {
        self.manager.is_leader()
    }

    /// The Raft IDs of the voting managers, sorted.
    pub fn voters(&self) -> Vec<u64> {
        self.manager.raft.voters()
    }

    /// The store as this manager applied it (committed entries only).
    pub fn store(&self) -> &'a Store {
        &self.manager.store
    }

    /// The index of the last entry applied to the store.
    pub fn applied_index(&self) -> u64 {
        self.manager.store.applied_index
    }

    /// A digest of every entry applied so far: equal at equal indexes, or a committed entry
    /// changed.
    pub fn applied_digest(&self) -> u64 {
        self.manager.store.applied_digest
    }

    /// Rounds of the leader's controllers run so far: the allocator's state can change in a
    /// round that applied nothing.
    pub fn controller_rounds(&self) -> u64 {
        self.manager.rounds_run
    }

    /// Inputs after which this manager stopped at its pass limit with work left (it resumed
    /// at once; see `manager::PROCESS_PASS_LIMIT`).
    pub fn process_pass_limit_hits(&self) -> u64 {
        self.manager.process_pass_limit_hits
    }

    /// What the store's applied batches touched between applied index `seen` and now, batch
    /// by batch; `None` when this manager no longer holds every batch in between (the
    /// observer then looks at the whole store). See `manager::journal`.
    pub fn touched_since(&self, seen: u64) -> Option<Vec<&'a Touched>> {
        self.manager.journal.since(seen, self.manager.store.applied_index)
    }

    /// The allocator's view, on the leader once its controllers run.
    pub fn allocator(&self) -> Option<AllocatorView<'a>> {
        self.manager.leader_allocator().map(|allocator| AllocatorView { allocator })
    }
}

/// Which addresses the leader's allocator counts as handed out.
#[derive(Clone, Copy)]
pub struct AllocatorView<'a> {
    allocator: &'a Allocator,
}

impl AllocatorView<'_> {
    pub fn is_address_taken(&self, network: &NetworkId, ip: Ipv4Addr) -> bool {
        self.allocator.is_address_taken(network, ip)
    }
}
