//! The docker CLI's edge, shared by `swarmsim` and `swarmctl` so both print what docker prints:
//! one grammar (`parse`: a command line → a control-API request and view options) and one
//! renderer (`render`: a reply's objects → docker's tables, inspect JSON and messages).

pub mod command;
pub mod filter;
pub mod format;
pub mod humanize;
pub mod inspect;
pub mod invocation;
pub mod listing;
pub mod parse;
pub mod render;
pub mod tables;

pub use crate::docker_version::DockerVersion;
pub use command::*;
pub use invocation::{parse, CurlTarget, Invocation, View};
pub use render::{exit_code, render};
