//! What a node serves, over directories as the dispatcher sends them: each update reports only
//! what changed.

use super::*;
use crate::api::{PortConfig, Protocol};
use crate::ids::{ServiceId, TaskId};
use crate::runtime::ContainerState;
use crate::time::Instant;

const HERE: &str = "192.168.0.1";
const THERE: &str = "192.168.0.2";

fn net(id: &str) -> NetworkId {
    NetworkId(id.into())
}

fn addr(s: &str) -> NetAddr {
    NetAddr { ip: s.parse().unwrap(), prefix_len: 24 }
}

fn backend(i: u8, node: &str) -> Backend {
    Backend {
        task_id: TaskId(format!("t{i}")),
        container_name: format!("web.{i}.t{i}"),
        node_addr: node.into(),
        addresses: vec![
            (net("ingress"), addr(&format!("10.255.0.{}", 10 + i))),
            (net("back"), addr(&format!("10.0.0.{}", 10 + i))),
        ],
    }
}

/// `web` publishing 8080 → 80, on ingress and `back`, with the given tasks.
fn directory(backends: Vec<Backend>) -> Directory {
    let web = ServiceEntry {
        id: ServiceId("web-id".into()),
        name: "web".into(),
        ports: vec![PortConfig {
            protocol: Protocol::Tcp,
            target_port: 80,
            published_port: 8080,
            mode: PublishMode::Ingress,
        }],
        vips: vec![(net("ingress"), addr("10.255.0.2")), (net("back"), addr("10.0.0.2"))],
        backends: backends.into_iter().collect(),
    };
    Directory { services: [("web".to_string(), web)].into_iter().collect(), ingress_network: Some(net("ingress")) }
}

fn container(name: &str, exposed: &[&str]) -> (String, ContainerInfo) {
    let info = ContainerInfo {
        id: "0".repeat(64),
        name: name.into(),
        image: "nginx:latest".into(),
        command: "nginx".into(),
        created_at: Instant::ZERO,
        state: ContainerState::Running { since: Instant::ZERO },
        exposed_ports: exposed.iter().map(|p| p.to_string()).collect(),
        health: None,
        labels: Default::default(),
    };
    (name.to_string(), info)
}

fn update(serving: &mut Serving, dir: &Directory, containers: &BTreeMap<String, ContainerInfo>) -> Vec<ServeChange> {
    let mut out = Vec::new();
    serving.update(Some(ServeView { directory: dir, own_ip: HERE, containers }), &mut out);
    out
}

#[test]
fn a_task_on_another_node_is_served_at_its_address_only_while_a_task_here_shares_its_network() {
    let mut serving = Serving::default();
    let none = BTreeMap::new();
    // Only a task elsewhere: the published port and the VIP, but no remote address (no bridge
    // here carries that network).
    let changes = update(&mut serving, &directory(vec![backend(2, THERE)]), &none);
    assert_eq!(
        changes,
        vec![ServeChange::PublishPort { port: 8080 }, ServeChange::AddVip { vip: addr("10.0.0.2"), port: 80 }]
    );
    // A task here joins `back`: the remote task's address on it is served, standing for it.
    let changes = update(&mut serving, &directory(vec![backend(1, HERE), backend(2, THERE)]), &none);
    assert_eq!(
        changes,
        vec![ServeChange::AddRemoteAddr { addr: addr("10.0.0.12"), port: 80, backend: backend(2, THERE) }]
    );
    // The same directory again (a copy, not the same map): nothing to report.
    assert_eq!(update(&mut serving, &directory(vec![backend(1, HERE), backend(2, THERE)]), &none), vec![]);
    // The local task goes: the remote address is no longer served.
    let changes = update(&mut serving, &directory(vec![backend(2, THERE)]), &none);
    assert_eq!(changes, vec![ServeChange::RemoveRemoteAddr { addr: addr("10.0.0.12"), port: 80 }]);
}

#[test]
fn ports_a_local_container_exposes_are_served_on_the_vip_too() {
    let mut serving = Serving::default();
    let dir = directory(vec![backend(1, HERE)]);
    update(&mut serving, &dir, &BTreeMap::new());
    let containers: BTreeMap<_, _> = [container("web.1.t1", &["80/tcp", "9000/tcp", "53/udp"])].into_iter().collect();
    assert_eq!(
        update(&mut serving, &dir, &containers),
        vec![ServeChange::AddVip { vip: addr("10.0.0.2"), port: 9000 }],
        "80 was served already; UDP is not a listener's"
    );
    // Another service's container changes nothing for web.
    let mut more = containers.clone();
    more.extend([container("webby.1.t9", &["7000/tcp"])]);
    assert_eq!(update(&mut serving, &dir, &more), vec![]);
    assert_eq!(
        update(&mut serving, &dir, &BTreeMap::new()),
        vec![ServeChange::RemoveVip { vip: addr("10.0.0.2"), port: 9000 }]
    );
}

#[test]
fn a_task_moving_to_another_node_is_served_for_the_new_one_and_leaving_serves_nothing() {
    let mut serving = Serving::default();
    let none = BTreeMap::new();
    update(&mut serving, &directory(vec![backend(1, HERE), backend(2, THERE)]), &none);
    // Task 2's address now stands for a task on a third node: removed, then added again.
    let mut moved = backend(2, "192.168.0.3");
    moved.container_name = "web.2.t7".into();
    let changes = update(&mut serving, &directory(vec![backend(1, HERE), moved.clone()]), &none);
    assert_eq!(
        changes,
        vec![
            ServeChange::RemoveRemoteAddr { addr: addr("10.0.0.12"), port: 80 },
            ServeChange::AddRemoteAddr { addr: addr("10.0.0.12"), port: 80, backend: moved },
        ]
    );
    let mut out = Vec::new();
    serving.update(None, &mut out);
    assert_eq!(
        out,
        vec![
            ServeChange::UnpublishPort { port: 8080 },
            ServeChange::RemoveVip { vip: addr("10.0.0.2"), port: 80 },
            ServeChange::RemoveRemoteAddr { addr: addr("10.0.0.12"), port: 80 },
        ]
    );
}
