//! Stacks: `docker stack deploy -c FILE NAME` and its siblings, done on the client as docker's
//! CLI does them. `compose` reads a compose file's text (never a file: the driver reads it),
//! `convert` turns it into the networks and services to ask for, `run` is the CLI's sequence of
//! plain API calls, one [`crate::control::Request`] at a time.

pub mod compose;
pub mod convert;
pub mod run;

pub use convert::{StackSpec, LABEL_IMAGE, LABEL_NAMESPACE};
pub use run::{Next, StackCommand, StackRun};

#[cfg(test)]
mod tests;
