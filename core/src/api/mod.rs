//! The objects of swarm mode, as the managers' replicated store holds them.
//!
//! They mirror swarmkit's `api/objects.proto` and `api/types.proto`, cut down to what swarmsim
//! models. Specs (what the user asked for) are kept apart from status (what is observed).

pub mod cluster;
pub mod network;
pub mod node;
pub mod service;
pub mod task;

pub use cluster::*;
pub use network::*;
pub use node::*;
pub use service::*;
pub use task::*;
