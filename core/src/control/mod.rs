//! The control API: what a client asks a node ([`Request`]) and what it answers
//! ([`Reply`] = `Result<Response, ApiError>`), as data. Docker's grammar and tables are the
//! CLI's (`crate::cli`); nothing here formats text for a terminal.

pub mod errors;
pub mod health_placement;
pub mod request;
pub mod response;

pub use errors::ApiError;
pub use health_placement::{HealthFlags, PlacementFlags};
pub use request::*;
pub use response::*;

/// What a node answers a request.
pub type Reply = Result<Response, ApiError>;
