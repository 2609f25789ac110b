//! `swarm init`, one node driven by hand (no simulator): with `--default-addr-pool` the ingress
//! network and overlays get their subnets from the pool (without it, docker 1.12's ranges); a
//! driver that made a real root CA gives its digest, and the join tokens carry it. A 20.10
//! daemon takes docker's default pool when none is given, and lists its own networks as 20.10.

use std::collections::BTreeMap;
use swarm_core::api::Resources;
use swarm_core::cli::{self, DockerVersion};
use swarm_core::control::Response;
use swarm_core::node::{Input, Node, NodeConfig, Output, Reply};
use swarm_core::time::Instant;

fn node() -> Node {
    node_of(DockerVersion::V1_12)
}

fn node_of(docker_version: DockerVersion) -> Node {
    let config = NodeConfig {
        hostname: "bd1".into(),
        interfaces: vec![("eth0".into(), "192.168.0.109".parse().unwrap())],
        resources: Resources { nano_cpus: 1_000_000_000, memory_bytes: 1 << 30 },
        engine_version: "test".into(),
        engine_labels: BTreeMap::new(),
        docker_version,
    };
    Node::new(config, 7)
}

/// Runs `line` and the node's timers until its reply, for at most a simulated minute.
fn run(node: &mut Node, now: &mut Instant, line: &str) -> Reply {
    let request = cli::parse(line).expect("parses").request;
    node.handle(*now, Input::Client { req_id: 1, request });
    for _ in 0..10_000 {
        for output in node.drain_outputs() {
            if let Output::Reply { reply, .. } = output {
                return reply;
            }
        }
        *now = node.next_deadline().unwrap_or(Instant(now.0 + 1)).max(Instant(now.0 + 1));
        assert!(now.0 < 60_000, "no reply to {line}");
        node.handle(*now, Input::Timer);
    }
    panic!("no reply to {line}");
}

fn subnets(node: &Node) -> Vec<(String, String)> {
    let store = node.observe().manager().expect("a manager").store();
    let mut out: Vec<(String, String)> = store
        .networks
        .values()
        .map(|n| (n.name.clone(), n.subnet.map(|s| s.to_string()).unwrap_or_default()))
        .collect();
    out.sort();
    out
}

#[test]
fn networks_take_their_subnets_from_the_pool() {
    let (mut n, mut now) = (node(), Instant::ZERO);
    let r =
        run(&mut n, &mut now, "docker swarm init --default-addr-pool 198.18.0.0/16 --default-addr-pool-mask-length 26");
    assert!(r.is_ok(), "{r:?}");
    run(&mut n, &mut now, "docker network create -d overlay a").expect("succeeds");
    run(&mut n, &mut now, "docker network create -d overlay --subnet 198.18.0.128/26 b").expect("succeeds");
    run(&mut n, &mut now, "docker network create -d overlay c").expect("succeeds");
    assert_eq!(
        subnets(&n),
        [
            ("a".to_string(), "198.18.0.64/26".to_string()),
            ("b".to_string(), "198.18.0.128/26".to_string()),
            ("c".to_string(), "198.18.0.192/26".to_string()),
            ("ingress".to_string(), "198.18.0.0/26".to_string()),
        ]
    );
}

#[test]
fn without_a_pool_the_ranges_stay_docker_1_12s() {
    let (mut n, mut now) = (node(), Instant::ZERO);
    run(&mut n, &mut now, "docker swarm init").expect("succeeds");
    run(&mut n, &mut now, "docker network create -d overlay a").expect("succeeds");
    assert_eq!(
        subnets(&n),
        [("a".to_string(), "10.0.0.0/24".to_string()), ("ingress".to_string(), "10.255.0.0/16".to_string())]
    );
}

#[test]
fn a_full_pool_and_bad_sizes_are_refused_with_dockerds_words() {
    let (mut n, mut now) = (node(), Instant::ZERO);
    let r =
        run(&mut n, &mut now, "docker swarm init --default-addr-pool 198.18.0.0/16 --default-addr-pool-mask-length 30");
    assert_eq!(r, Err("subnet size is out of range: 30".into()));
    let r =
        run(&mut n, &mut now, "docker swarm init --default-addr-pool 198.18.0.0/25 --default-addr-pool-mask-length 26");
    assert!(r.is_ok(), "{r:?}");
    run(&mut n, &mut now, "docker network create -d overlay a").expect("succeeds");
    assert_eq!(
        run(&mut n, &mut now, "docker network create -d overlay b"),
        Err(
            "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network".into()
        )
    );
}

#[test]
fn join_tokens_carry_the_root_ca_digest_the_driver_gave() {
    let real = "1".repeat(50);
    let (mut n, mut now) = (node(), Instant::ZERO);
    n.set_root_ca_digest(real.clone());
    run(&mut n, &mut now, "docker swarm init").expect("succeeds");
    let cluster = n.observe().manager().unwrap().store().cluster.clone().unwrap();
    assert_eq!(cluster.ca_digest, real);
    for token in [&cluster.worker_token, &cluster.manager_token] {
        assert!(token.starts_with(&format!("SWMTKN-1-{real}-")), "{token}");
    }

    // Without one, the stand-in drawn from the seed: the same for the same seed.
    let digest = |seed_node: &mut Node| {
        let mut now = Instant::ZERO;
        run(seed_node, &mut now, "docker swarm init").expect("swarm init succeeds");
        seed_node.observe().manager().unwrap().store().cluster.clone().unwrap().ca_digest
    };
    let (a, b) = (digest(&mut node()), digest(&mut node()));
    assert_eq!(a, b);
    assert_ne!(a, real);
}

#[test]
fn without_a_pool_20_10_takes_the_default_pool_10_0_0_0_8_in_24s() {
    let (mut n, mut now) = (node_of(DockerVersion::V20_10), Instant::ZERO);
    run(&mut n, &mut now, "docker swarm init").expect("succeeds");
    run(&mut n, &mut now, "docker network create -d overlay myswarm").expect("succeeds");
    assert_eq!(
        subnets(&n),
        [("ingress".to_string(), "10.0.0.0/24".to_string()), ("myswarm".to_string(), "10.0.1.0/24".to_string())]
    );
}

fn network_names(reply: Reply) -> Vec<String> {
    match reply {
        Ok(Response::Networks(networks)) => {
            let mut names: Vec<String> = networks.into_iter().map(|n| n.name).collect();
            names.sort();
            names
        }
        other => panic!("not a network list: {other:?}"),
    }
}

#[test]
fn a_20_10_daemon_lists_none_and_makes_docker_gwbridge_when_it_enters_a_swarm() {
    let (mut n, mut now) = (node_of(DockerVersion::V20_10), Instant::ZERO);
    assert_eq!(network_names(run(&mut n, &mut now, "docker network ls")), ["bridge", "host", "none"]);
    run(&mut n, &mut now, "docker swarm init").expect("succeeds");
    assert_eq!(
        network_names(run(&mut n, &mut now, "docker network ls")),
        ["bridge", "docker_gwbridge", "host", "ingress", "none"]
    );
    let (mut old, mut now) = (node(), Instant::ZERO);
    assert_eq!(network_names(run(&mut old, &mut now, "docker network ls")), ["bridge", "docker_gwbridge", "host"]);
}
