//! The encoding of node-to-node messages on the cluster port is core's (`swarm_core::wire`):
//! the simulator uses it too, when a link fault corrupts a frame.

pub use swarm_core::wire::*;
