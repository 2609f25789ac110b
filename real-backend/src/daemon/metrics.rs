//! Prometheus metrics of one daemon: its store's view of the swarm, Raft, the cluster port.

use super::Daemon;
use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use swarm_core::api::TaskState;

impl Daemon {
    pub fn metrics(&self) -> String {
        let mut out = String::new();
        if let Some(mgr) = self.node.manager() {
            let mut nodes: std::collections::BTreeMap<&str, u64> = Default::default();
            for n in mgr.store.nodes.values() {
                *nodes.entry(n.status.state.as_str()).or_default() += 1;
            }
            out.push_str(
                "# HELP swarmd_nodes Nodes in the swarm by status (this manager's store).\n# TYPE swarmd_nodes gauge\n",
            );
            for (s, n) in nodes {
                let _ = writeln!(out, "swarmd_nodes{{status=\"{}\"}} {n}", s.to_lowercase());
            }
            let mut tasks: std::collections::BTreeMap<TaskState, u64> = Default::default();
            for t in mgr.store.tasks.values() {
                *tasks.entry(t.status.state).or_default() += 1;
            }
            out.push_str("# HELP swarmd_tasks Tasks by observed state.\n# TYPE swarmd_tasks gauge\n");
            for (s, n) in tasks {
                let _ = writeln!(out, "swarmd_tasks{{state=\"{}\"}} {n}", s.as_str().to_lowercase());
            }
            out.push_str("# HELP swarmd_raft_term Current Raft term.\n# TYPE swarmd_raft_term gauge\n");
            let _ = writeln!(out, "swarmd_raft_term {}", mgr.raft.term());
            out.push_str("# HELP swarmd_raft_commit_index Raft commit index.\n# TYPE swarmd_raft_commit_index gauge\n");
            let _ = writeln!(out, "swarmd_raft_commit_index {}", mgr.raft.commit_index());
            out.push_str(
                "# HELP swarmd_raft_leader Whether this manager is the Raft leader.\n# TYPE swarmd_raft_leader gauge\n",
            );
            let _ = writeln!(out, "swarmd_raft_leader {}", mgr.is_leader() as u8);
        }
        let s = &self.transport.stats;
        out.push_str("# HELP swarmd_frames_dropped_total Frames dropped on the cluster port.\n# TYPE swarmd_frames_dropped_total counter\n");
        let _ = writeln!(
            out,
            "swarmd_frames_dropped_total{{reason=\"malformed\"}} {}",
            s.frames_malformed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "swarmd_frames_dropped_total{{reason=\"queue\"}} {}",
            s.frames_dropped.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "swarmd_frames_dropped_total{{reason=\"core\"}} {}", self.node.stats.messages_dropped);
        out.push_str("# TYPE swarmd_frames_sent_total counter\n");
        let _ = writeln!(out, "swarmd_frames_sent_total {}", s.frames_sent.load(Ordering::Relaxed));
        out.push_str("# TYPE swarmd_frames_received_total counter\n");
        let _ = writeln!(out, "swarmd_frames_received_total {}", s.frames_received.load(Ordering::Relaxed));
        out.push_str("# HELP swarmd_connections_refused_total Cluster-port connections refused (TLS, certificate, hello).\n# TYPE swarmd_connections_refused_total counter\n");
        let _ = writeln!(out, "swarmd_connections_refused_total {}", s.connections_refused.load(Ordering::Relaxed));
        out.push_str("# TYPE swarmd_containers gauge\n");
        let _ = writeln!(out, "swarmd_containers {}", self.node.agent().map(|a| a.containers.len()).unwrap_or(0));
        let _ = self.seed;
        out
    }
}
