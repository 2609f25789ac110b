//! The worker side of every node: the agent that keeps a session with the leader's
//! dispatcher and drives its assigned tasks through the container runtime.

pub mod agent;
