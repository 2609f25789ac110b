//! Every deadline and timeout in core assumes time never goes backwards: a driver that hands a
//! node an earlier time than before has a bug, and the node's door says so at once rather than
//! letting a timer fire twice or a heartbeat grace run negative.

use std::collections::BTreeMap;
use swarm_core::api::Resources;
use swarm_core::node::{Input, Node, NodeConfig};
use swarm_core::time::Instant;

fn node() -> Node {
    let config = NodeConfig {
        hostname: "bd0".into(),
        interfaces: vec![("eth0".into(), "192.168.0.108".parse().unwrap())],
        resources: Resources { nano_cpus: 1_000_000_000, memory_bytes: 1 << 30 },
        engine_version: "test".into(),
        engine_labels: BTreeMap::new(),
    };
    Node::new(config, 1)
}

#[test]
fn the_same_time_twice_is_fine() {
    let mut n = node();
    n.handle(Instant(5_000), Input::Timer);
    n.handle(Instant(5_000), Input::Timer);
    assert!(n.drain_outputs().is_empty(), "a node outside a swarm has nothing to do on a timer");
}

#[test]
#[should_panic(expected = "time went backwards at the node's door")]
fn time_going_backwards_at_the_door_is_refused() {
    let mut n = node();
    n.handle(Instant(5_000), Input::Timer);
    n.handle(Instant(4_999), Input::Timer);
}
