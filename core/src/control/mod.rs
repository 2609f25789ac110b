//! The control API: what a client asks a node and what it answers, as data.

pub mod errors;
