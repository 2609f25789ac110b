//! The manager: Raft-replicated store plus the controllers the leader runs, one module per
//! swarm concept (as swarmkit's manager/ packages), composed in `manager.rs`.

pub mod allocator;
pub mod control;
pub mod directory;
pub mod dispatcher;
pub mod manager;
pub mod orchestrator;
pub mod raft_node;
pub mod round;
pub mod scheduler;
pub mod tokens;
