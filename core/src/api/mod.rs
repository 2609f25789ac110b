//! The objects of swarm mode, as the managers' replicated store holds them.
//!
//! They mirror swarmkit's `api/objects.proto` and `api/types.proto`, cut down to what swarmsim
//! models. Specs (what the user asked for) are kept apart from status (what is observed).

pub mod cluster;
pub mod health;
pub mod network;
pub mod node;
pub mod placement;
pub mod secret;
pub mod service;
pub mod task;

pub use cluster::*;
pub use health::{HealthConfig, HealthStatus};
pub use network::*;
pub use node::*;
pub use placement::{Placement, SpreadOver};
pub use secret::{DataBytes, DataKind, DataObject, DataReference, DataReferenceArg, DataSpec};
pub use service::*;
pub use task::*;
