//! swarm-core: Docker swarm-mode semantics as sans-IO state machines.
//!
//! A [`node::Node`] is fed inputs (a message, a timer, a container event, a client request, with
//! the current time) and returns outputs (messages to send, container commands, writes to
//! persist, replies). It owns no thread, clock, socket, file or global RNG: every random choice
//! comes from the seeded ChaCha RNG it was built with. The simulator (`swarmsim`) and the real
//! daemons (`swarmd`) are drivers around it and hold no swarm logic of their own.

pub mod addr;
pub mod api;
pub mod cli;
pub mod control;
pub mod deadlines;
pub mod docker_version;
pub mod ids;
pub mod image;
pub mod io;
pub mod manager;
pub mod message;
pub mod names;
pub mod net;
pub mod node;
pub mod observe;
pub mod persist;
pub mod planted;
pub mod runtime;
pub mod serve;
pub mod stack;
pub mod store;
#[cfg(test)]
mod test_support;
pub mod time;
/// The join token format (`SWMTKN-1-<CA digest>-<secret>`): data a driver checks during TLS bootstrap.
pub mod tokens;
pub mod wire;
pub(crate) mod worker;
