//! What one controllers' round on the leader works with.
//!
//! The orchestrator, the dispatcher's expiry and status batching, the allocator and the
//! scheduler all read the store as last applied, at one time, draw from the leader's one RNG
//! (so a seed decides every ID and placement), and add store actions that the manager then
//! proposes together as one Raft entry. One value carries those four instead of four
//! arguments threaded through every function.

use crate::store::{Store, StoreAction};
use crate::time::Instant;
use rand_chacha::ChaCha8Rng;

pub struct Round<'s, 'r> {
    /// The store as applied when the round started: a round never sees its own actions.
    pub store: &'s Store,
    pub now: Instant,
    pub rng: &'r mut ChaCha8Rng,
    /// What the round proposes, in order.
    pub actions: &'r mut Vec<StoreAction>,
}
