//! One command grammar and one set of table renderers, shared by `swarmsim` and `swarmctl`,
//! so both print what docker prints.

pub mod command;
pub mod humanize;
pub mod inspect;
pub mod parse;
pub mod tables;

pub use command::*;
