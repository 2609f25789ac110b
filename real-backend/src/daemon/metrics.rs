//! Prometheus metrics of one daemon: its store's view of the swarm, Raft, the cluster port.
//!
//! Read at scrape time from the node (`Node::gauges`) and the transport's counters into a fresh registry, and
//! written by `prometheus-client` (OpenMetrics text: a counter `swarmd_x` is exposed as
//! `swarmd_x_total`, the output ends with `# EOF`).

use super::Daemon;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

/// One label, `status="ready"`.
type Label = [(&'static str, String); 1];

impl Daemon {
    pub fn metrics(&self) -> String {
        let mut registry = Registry::default();
        let gauges = self.node.gauges();
        if let Some(mgr) = &gauges.manager {
            let nodes = mgr.nodes_by_state.iter().map(|(s, n)| (s.as_str().to_lowercase(), *n as i64)).collect();
            registry.register(
                "swarmd_nodes",
                "Nodes in the swarm by status (this manager's store)",
                labelled("status", nodes),
            );
            let tasks = mgr.tasks_by_state.iter().map(|(s, n)| (s.as_str().to_lowercase(), *n as i64)).collect();
            registry.register("swarmd_tasks", "Tasks by observed state", labelled("state", tasks));
            registry.register("swarmd_raft_term", "Current Raft term", ConstGauge::new(mgr.raft_term as i64));
            registry.register(
                "swarmd_raft_commit_index",
                "Raft commit index",
                ConstGauge::new(mgr.raft_commit_index as i64),
            );
            registry.register(
                "swarmd_raft_leader",
                "Whether this manager is the Raft leader",
                ConstGauge::new(mgr.is_leader as i64),
            );
            registry.register(
                "swarmd_process_pass_limit_hits",
                "Inputs after which the manager stopped at its Raft/round pass limit with work left",
                ConstCounter::new(mgr.process_pass_limit_hits),
            );
        }
        let s = &self.transport.stats;
        // A fresh family per scrape: `inc_by` from zero is the counter's value.
        let dropped = Family::<Label, Counter>::default();
        for (reason, n) in [
            ("malformed", s.frames_malformed.load(Ordering::Relaxed)),
            ("queue", s.frames_dropped.load(Ordering::Relaxed)),
            ("core", gauges.messages_dropped),
        ] {
            dropped.get_or_create(&[("reason", reason.to_string())]).inc_by(n);
        }
        registry.register("swarmd_frames_dropped", "Frames dropped on the cluster port", dropped);
        registry.register(
            "swarmd_frames_sent",
            "Frames sent on the cluster port",
            ConstCounter::new(s.frames_sent.load(Ordering::Relaxed)),
        );
        registry.register(
            "swarmd_frames_received",
            "Frames received on the cluster port",
            ConstCounter::new(s.frames_received.load(Ordering::Relaxed)),
        );
        registry.register(
            "swarmd_connections_refused",
            "Cluster-port connections refused (TLS, certificate, hello)",
            ConstCounter::new(s.connections_refused.load(Ordering::Relaxed)),
        );
        registry.register(
            "swarmd_containers",
            "Containers this node's agent knows",
            ConstGauge::new(gauges.containers as i64),
        );
        let mut out = String::new();
        encode(&mut out, &registry).expect("writing to a String cannot fail");
        out
    }
}

/// A gauge per label value.
fn labelled(name: &'static str, values: BTreeMap<String, i64>) -> Family<Label, Gauge> {
    let family = Family::<Label, Gauge>::default();
    for (value, n) in values {
        family.get_or_create(&[(name, value)]).set(n);
    }
    family
}
