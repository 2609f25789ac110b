use serde::{Deserialize, Serialize};

/// The swarm itself: its CA and join tokens (swarmkit `api.Cluster`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: String,
    /// sha256 of the root CA certificate, in base 36, zero-padded to 50 characters.
    pub ca_digest: String,
    pub worker_token: String,
    pub manager_token: String,
    /// Tasks kept per slot, the running one included (`--task-history-limit`, default 5).
    pub task_history_limit: usize,
}
