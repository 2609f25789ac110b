//! swarmsim: a deterministic discrete-event simulator that runs `swarm-core` nodes over a
//! simulated clock, network, disk and container runtime, driven by scenario files.

pub mod scenario;
