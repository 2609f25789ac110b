//! swarmsim: a deterministic discrete-event simulator that runs `swarm-core` nodes over a
//! simulated clock, network, disk and container runtime, driven by scenario files.
//!
//! One seed is one run: the world draws every network delay, container ID and node seed from
//! ChaCha RNGs seeded by it, iterates only ordered maps, and never reads the wall clock.

pub mod bench;
pub mod chaos;
pub mod checkers;
pub mod conditions;
pub mod conform;
pub mod faults;
pub mod history;
pub mod record;
pub mod runner;
pub mod runtime;
pub mod scenario;
pub mod shrink;
pub mod sweep;
pub mod trace;
pub mod workload;
pub mod world;
