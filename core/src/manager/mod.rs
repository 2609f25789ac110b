//! The manager: Raft-replicated store plus the controllers the leader runs.

pub mod allocator;
pub mod scheduler;
