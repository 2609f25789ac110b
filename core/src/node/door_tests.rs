//! The door's queries and serve changes on one node driven by hand: `swarm init`, a service on
//! an overlay network publishing a port, containers answered at once as a runtime would; and
//! the door's invariant that time never goes backwards.

use super::*;
use crate::api::Resources;
use crate::node::{Input, NodeConfig, Output, Reply};
use crate::runtime::{ContainerCommand, ContainerEvent};
use crate::serve::ServeChange;
use crate::time::Instant;
use std::collections::BTreeMap;

fn config(interfaces: &[(&str, &str)]) -> NodeConfig {
    NodeConfig {
        hostname: "bd1".into(),
        interfaces: interfaces.iter().map(|(n, ip)| (n.to_string(), ip.parse().unwrap())).collect(),
        resources: Resources { nano_cpus: 1_000_000_000, memory_bytes: 1 << 30 },
        engine_version: "test".into(),
        engine_labels: BTreeMap::new(),
        docker_version: Default::default(),
    }
}

/// One node, its clock, and the serve changes it emitted so far.
struct Harness {
    node: Node,
    now: Instant,
    served: Vec<ServeChange>,
}

impl Harness {
    fn new() -> Harness {
        let mut h = Harness::without_serving();
        h.node.report_serving();
        h
    }

    /// As the simulator drives a node: nobody asked for `Output::Serve`.
    fn without_serving() -> Harness {
        Harness { node: Node::new(config(&[("eth0", "192.168.0.109")]), 7), now: Instant(1_000), served: Vec::new() }
    }

    /// Runs `line`, then timers and container events until the node has nothing to do for a
    /// simulated `settle_ms`; returns the reply.
    fn run(&mut self, line: &str, settle_ms: u64) -> Reply {
        let request = crate::cli::parse(line).expect("parses").request;
        self.node.handle(self.now, Input::Client { req_id: 1, request });
        let until = Instant(self.now.0 + settle_ms);
        let mut reply = None;
        loop {
            let mut events = Vec::new();
            for output in self.node.drain_outputs() {
                match output {
                    Output::Reply { reply: r, .. } => reply = Some(r),
                    Output::Serve(change) => self.served.push(change),
                    Output::Container(cmd) => events.extend(answer(cmd)),
                    _ => {}
                }
            }
            if !events.is_empty() {
                for e in events {
                    self.node.handle(self.now, Input::Container(e));
                }
                continue;
            }
            match self.node.next_deadline() {
                Some(d) if d <= until => {
                    self.now = d.max(self.now);
                    self.node.handle(self.now, Input::Timer);
                }
                _ => break,
            }
        }
        self.now = until;
        reply.unwrap_or_else(|| panic!("no reply to {line}"))
    }
}

/// What a runtime that never fails answers (images expose 80/tcp).
fn answer(cmd: ContainerCommand) -> Vec<ContainerEvent> {
    match cmd {
        ContainerCommand::Create(spec) => vec![ContainerEvent::Created {
            id: format!("{:0>64}", spec.name.len()),
            name: spec.name,
            command: "nginx".into(),
            exposed_ports: vec!["80/tcp".into(), "53/udp".into()],
        }],
        ContainerCommand::Start { name } => vec![ContainerEvent::Started { name }],
        ContainerCommand::Stop { name, .. } | ContainerCommand::Kill { name } => {
            vec![ContainerEvent::Exited { name, exit_code: 0 }]
        }
        ContainerCommand::Remove { name } => vec![ContainerEvent::Removed { name }],
    }
}

/// The request succeeded (what it answered is not this module's concern).
fn succeeded(reply: Reply) -> crate::control::Response {
    reply.unwrap_or_else(|e| panic!("refused: {e}"))
}

#[test]
fn advertise_ip_is_the_address_swarm_init_would_advertise() {
    let one = Node::new(config(&[("eth0", "192.168.0.109")]), 1);
    assert_eq!(one.advertise_ip(None), Ok("192.168.0.109".parse().unwrap()));
    assert_eq!(one.advertise_ip(Some("10.1.2.3:2377")), Ok("10.1.2.3".parse().unwrap()));
    assert_eq!(one.advertise_ip(Some("eth0")), Ok("192.168.0.109".parse().unwrap()));
    assert_eq!(
        one.advertise_ip(Some("wlan0")).unwrap_err(),
        "advertise address must be a non-zero IP address or network interface (with optional port): wlan0"
    );
    let two = Node::new(config(&[("eth0", "10.0.0.1"), ("eth1", "10.0.0.2")]), 1);
    assert!(two.advertise_ip(None).unwrap_err().starts_with("could not choose an IP address to advertise"));
    assert_eq!(two.advertise_ip(Some("eth1")), Ok("10.0.0.2".parse().unwrap()));
}

#[test]
fn authorize_join_grants_the_tokens_role_and_the_ca_key_to_managers_only() {
    let outside = Node::new(config(&[("eth0", "192.168.0.109")]), 1);
    assert_eq!(outside.authorize_join("SWMTKN-1-x").unwrap_err(), NOT_A_MANAGER_RPC);
    assert_eq!(outside.gauges(), NodeGauges::default(), "nothing to count outside a swarm");

    let mut h = Harness::new();
    succeeded(h.run("docker swarm init", 1_000));
    let cluster = h.node.manager().unwrap().store.cluster.clone().unwrap();
    assert_eq!(h.node.authorize_join(&cluster.manager_token), Ok(JoinGrant { role: NodeRole::Manager, ca_key: true }));
    assert_eq!(h.node.authorize_join(&cluster.worker_token), Ok(JoinGrant { role: NodeRole::Worker, ca_key: false }));
    // This cluster's CA, a wrong secret: the manager's own refusal, word for word.
    let wrong_secret = format!("SWMTKN-1-{}-{}", cluster.ca_digest, "1".repeat(25));
    assert_eq!(h.node.authorize_join(&wrong_secret).unwrap_err(), tokens::INVALID_JOIN_TOKEN);
    // Another cluster's CA: refused on the CA before the secret is read, as docker 20.10 does.
    let stranger = format!("SWMTKN-1-{}-{}", "0".repeat(50), "1".repeat(25));
    assert!(h.node.authorize_join(&stranger).unwrap_err().starts_with("remote CA does not match fingerprint."));
    assert_eq!(
        h.node.authorize_join("SWMTKN-1-short").unwrap_err(),
        "rpc error: code = InvalidArgument desc = invalid join token"
    );
}

#[test]
fn a_published_service_on_an_overlay_is_routed_resolved_and_served_as_changes() {
    let mut h = Harness::new();
    assert_eq!(h.node.route_ingress(8080).unwrap_err(), "not in a swarm");
    assert!(h.node.resolve("web.1.x", "web").is_empty());
    succeeded(h.run("docker swarm init", 1_000));
    succeeded(h.run("docker network create -d overlay backend", 1_000));
    assert!(h.served.is_empty(), "nothing published yet: {:?}", h.served);
    succeeded(h.run("docker service create --name web --replicas 2 --network backend --publish 8080:80 nginx", 20_000));

    let gauges = h.node.gauges();
    let mgr = gauges.manager.as_ref().expect("a manager's gauges");
    assert_eq!(mgr.nodes_by_state, [(NodeState::Ready, 1)].into_iter().collect());
    assert_eq!(mgr.tasks_by_state, [(TaskState::Running, 2)].into_iter().collect());
    assert!(mgr.is_leader && mgr.raft_term >= 1 && mgr.raft_commit_index >= 1, "{mgr:?}");
    assert_eq!(gauges.containers, 2);

    let agent = h.node.agent().unwrap();
    let web = agent.directory.services.get("web").expect("web in the directory").clone();
    assert_eq!(web.backends.len(), 2, "both tasks run");
    let ingress = agent.directory.ingress_network.clone().unwrap();
    let (backend_net, vip) = web.vips.iter().find(|(n, _)| *n != ingress).cloned().unwrap();
    // The routing mesh: published port, VIP on the overlay, on port 80 (the target, and what
    // the image exposes; 53/udp is no TCP listener's).
    assert_eq!(h.served, vec![ServeChange::PublishPort { port: 8080 }, ServeChange::AddVip { vip, port: 80 }]);

    let first = h.node.route_ingress(8080).unwrap();
    let second = h.node.route_ingress(8080).unwrap();
    assert_eq!((first.service.as_str(), first.target_port), ("web", 80));
    assert_ne!(first.backend.container_name, second.backend.container_name, "round-robin");
    assert_eq!(h.node.route_ingress(9999).unwrap_err(), "connection refused: nothing published on port 9999");

    let container = &web.backends[0].container_name;
    assert_eq!(h.node.resolve(container, "web"), vec![vip.ip]);
    let mut task_ips: Vec<_> = web
        .backends
        .iter()
        .flat_map(|b| b.addresses.iter().filter(|(n, _)| *n == backend_net).map(|(_, a)| a.ip))
        .collect();
    let mut resolved = h.node.resolve(container, "tasks.web");
    task_ips.sort();
    resolved.sort();
    assert_eq!(resolved, task_ips);
    assert!(h.node.resolve(container, "nothing").is_empty());
    assert!(h.node.resolve("no-such-container", "web").is_empty(), "a stranger shares no network");

    h.served.clear();
    succeeded(h.run("docker service rm web", 20_000));
    assert_eq!(h.served, vec![ServeChange::UnpublishPort { port: 8080 }, ServeChange::RemoveVip { vip, port: 80 }]);

    // Leaving the swarm stops serving everything (nothing is left here).
    h.served.clear();
    succeeded(h.run("docker service create --name api --publish 9090:80 nginx", 20_000));
    assert_eq!(h.served, vec![ServeChange::PublishPort { port: 9090 }]);
    h.served.clear();
    succeeded(h.run("docker swarm leave --force", 1_000));
    assert_eq!(h.served, vec![ServeChange::UnpublishPort { port: 9090 }]);
}

#[test]
fn a_node_reports_what_it_serves_only_to_a_driver_that_asked() {
    let mut h = Harness::without_serving();
    succeeded(h.run("docker swarm init", 1_000));
    succeeded(h.run("docker service create --name web --publish 8080:80 nginx", 20_000));
    assert_eq!(h.node.route_ingress(8080).unwrap().service, "web", "the mesh routes all the same");
    assert!(h.served.is_empty(), "{:?}", h.served);
    // Asking later reports everything served so far, from nothing.
    h.node.report_serving();
    h.node.handle(h.now, Input::Timer);
    let served: Vec<ServeChange> = h
        .node
        .drain_outputs()
        .into_iter()
        .filter_map(|o| match o {
            Output::Serve(change) => Some(change),
            _ => None,
        })
        .collect();
    assert_eq!(served, vec![ServeChange::PublishPort { port: 8080 }]);
}

// Every deadline and timeout in core assumes time never goes backwards: a driver that hands a
// node an earlier time than before has a bug, and the door says so at once rather than letting
// a timer fire twice or a heartbeat grace run negative.

#[test]
fn the_same_time_twice_is_fine() {
    let mut node = Node::new(config(&[("eth0", "192.168.0.108")]), 1);
    node.handle(Instant(5_000), Input::Timer);
    node.handle(Instant(5_000), Input::Timer);
    assert!(node.drain_outputs().is_empty(), "a node outside a swarm has nothing to do on a timer");
}

#[test]
#[should_panic(expected = "time went backwards at the node's door")]
fn time_going_backwards_at_the_door_is_refused() {
    let mut node = Node::new(config(&[("eth0", "192.168.0.108")]), 1);
    node.handle(Instant(5_000), Input::Timer);
    node.handle(Instant(4_999), Input::Timer);
}
