//! The routing mesh and embedded DNS, over a directory as the dispatcher sends it.

use super::*;
use crate::api::Protocol;

fn net(id: &str) -> NetworkId {
    NetworkId(id.into())
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn addr(s: &str, prefix_len: u8) -> NetAddr {
    NetAddr { ip: ip(s), prefix_len }
}

/// Service `web` publishing 8080 → 80 in ingress mode, attached to ingress and `backend-net`,
/// with running tasks web.1 … web.N; task i has 10.255.0.(10+i) and 10.0.0.(10+i).
fn directory(running: u8) -> Directory {
    let backends = (1..=running)
        .map(|i| Backend {
            task_id: TaskId(format!("t{i}")),
            container_name: format!("web.{i}.t{i}"),
            node_addr: format!("192.168.99.{}", 100 + i),
            addresses: vec![
                (net("ingress"), addr(&format!("10.255.0.{}", 10 + i), 16)),
                (net("backend-net"), addr(&format!("10.0.0.{}", 10 + i), 24)),
            ],
        })
        .collect();
    let web = ServiceEntry {
        id: ServiceId("web-id".into()),
        name: "web".into(),
        ports: vec![PortConfig {
            protocol: Protocol::Tcp,
            target_port: 80,
            published_port: 8080,
            mode: PublishMode::Ingress,
        }],
        vips: vec![(net("ingress"), addr("10.255.0.2", 16)), (net("backend-net"), addr("10.0.0.2", 24))],
        backends,
    };
    Directory { services: [("web".to_string(), web)].into_iter().collect(), ingress_network: Some(net("ingress")) }
}

fn ips(list: &[&str]) -> Vec<Ipv4Addr> {
    list.iter().map(|s| ip(s)).collect()
}

// --- Routing mesh -------------------------------------------------------------------------

#[test]
fn routing_mesh_goes_round_robin_over_the_running_tasks() {
    let dir = directory(3);
    let mut mesh = RoutingMesh::default();

    let picked: Vec<String> =
        (0..7).map(|_| mesh.route(&dir, 8080, dir.ingress_network.as_ref()).unwrap().backend.container_name).collect();

    assert_eq!(picked, ["web.1.t1", "web.2.t2", "web.3.t3", "web.1.t1", "web.2.t2", "web.3.t3", "web.1.t1"]);
}

#[test]
fn routing_mesh_route_names_the_service_its_ingress_vip_and_target_port() {
    let dir = directory(1);

    let route = RoutingMesh::default().route(&dir, 8080, dir.ingress_network.as_ref()).unwrap();

    assert_eq!(route.service, "web");
    assert_eq!(route.vip, Some(addr("10.255.0.2", 16)));
    assert_eq!(route.target_port, 80);
    assert_eq!(route.backend.node_addr, "192.168.99.101");
}

#[test]
fn routing_mesh_keeps_one_counter_per_node_and_follows_backend_changes() {
    let mut mesh_a = RoutingMesh::default();
    let mut mesh_b = RoutingMesh::default();
    let three = directory(3);
    let name = |mesh: &mut RoutingMesh, dir: &Directory| mesh.route(dir, 8080, None).unwrap().backend.container_name;

    assert_eq!(name(&mut mesh_a, &three), "web.1.t1");
    assert_eq!(name(&mut mesh_a, &three), "web.2.t2");
    assert_eq!(name(&mut mesh_b, &three), "web.1.t1", "another node starts its own rotation");

    // A task stopped: the rotation goes on over those left.
    let two = directory(2);
    assert_eq!(name(&mut mesh_a, &two), "web.1.t1");
    assert_eq!(name(&mut mesh_a, &two), "web.2.t2");
}

#[test]
fn routing_mesh_refuses_ports_nothing_publishes_and_services_with_no_running_task() {
    let cases = [
        (directory(2), 9090, "connection refused: nothing published on port 9090"),
        (directory(0), 8080, "connection refused: service web has no running task"),
    ];
    for (dir, port, error) in cases {
        assert_eq!(RoutingMesh::default().route(&dir, port, None), Err(error.to_string()), "port {port}");
    }
}

// --- Embedded DNS -------------------------------------------------------------------------

#[test]
fn dns_answers_vip_and_task_addresses_on_a_shared_network_and_nothing_on_ingress() {
    let dir = directory(3);
    let on_backend = [net("backend-net")];
    let on_ingress = [net("ingress")];
    let elsewhere = [net("other-net")];
    let both = [net("ingress"), net("backend-net")];
    // (query, networks of the asking container, answer)
    let cases: [(&str, &[NetworkId], Vec<Ipv4Addr>); 9] = [
        ("web", &on_backend, ips(&["10.0.0.2"])),
        ("tasks.web", &on_backend, ips(&["10.0.0.11", "10.0.0.12", "10.0.0.13"])),
        ("web", &on_ingress, vec![]),
        ("tasks.web", &on_ingress, vec![]),
        ("web", &both, ips(&["10.0.0.2"])),
        ("tasks.web", &both, ips(&["10.0.0.11", "10.0.0.12", "10.0.0.13"])),
        ("web", &elsewhere, vec![]),
        ("db", &on_backend, vec![]),
        ("tasks.db", &on_backend, vec![]),
    ];
    for (query, networks, answer) in cases {
        assert_eq!(dir.resolve(query, networks), answer, "nslookup {query} from {networks:?}");
    }
}

#[test]
fn a_vip_goes_round_robin_over_the_running_tasks_but_not_on_ingress() {
    let dir = directory(2);
    let mut mesh = RoutingMesh::default();
    let picked: Vec<String> =
        (0..3).map(|_| mesh.route_vip(&dir, ip("10.0.0.2"), 80).unwrap().backend.container_name).collect();
    assert_eq!(picked, ["web.1.t1", "web.2.t2", "web.1.t1"]);
    let route = mesh.route_vip(&dir, ip("10.0.0.2"), 8081).unwrap();
    assert_eq!((route.service.as_str(), route.vip, route.target_port), ("web", Some(addr("10.0.0.2", 24)), 8081));
    assert!(mesh.route_vip(&dir, ip("10.255.0.2"), 80).is_err(), "the ingress VIP is the mesh's, not served");
    assert!(mesh.route_vip(&directory(0), ip("10.0.0.2"), 80).unwrap_err().contains("no running task"));
}
