//! The dispatcher: sessions, heartbeats and their deadlines, the leader-change grace, status
//! batching and the routing-mesh directory.

use super::*;
use crate::ids::{NetworkId, ServiceId};
use crate::test_support::{apply_all, secs, sends_and_commands, NodeFixture};
use core::net::Ipv4Addr;
use rand::SeedableRng;

const LEADER: Addr = Addr::on_cluster_port(Ipv4Addr::new(10, 0, 0, 1));

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// The node's agent address: `10.0.0.<n>:2377` for node `n<n>`.
fn addr_of(node: &str) -> Addr {
    Addr::on_cluster_port(Ipv4Addr::new(10, 0, 0, node[1..].parse().expect("n<number>")))
}

fn nid(id: &str) -> NodeId {
    NodeId(id.into())
}

/// A leader's dispatcher beside its store.
struct Leader {
    store: Store,
    dispatcher: Dispatcher,
    rng: ChaCha8Rng,
}

impl Leader {
    /// Nodes `n1`, `n2`, … in the given states.
    fn with_nodes(nodes: &[(&str, NodeState)]) -> Leader {
        let mut leader =
            Leader { store: Store::new(), dispatcher: Dispatcher::new(), rng: ChaCha8Rng::seed_from_u64(3) };
        leader.apply(nodes.iter().map(|(n, state)| StoreAction::CreateNode(node(n, *state))).collect());
        leader
    }

    fn apply(&mut self, actions: Vec<StoreAction>) {
        apply_all(&mut self.store, actions);
    }

    /// An agent's message from `node`'s address: what the dispatcher answers and wants written.
    fn receive(&mut self, node: &str, msg: SessionMessage, now: Instant) -> (Vec<StoreAction>, Vec<(Addr, Message)>) {
        let (mut actions, mut out) = (Vec::new(), Vec::new());
        let mut round = Round { store: &self.store, now, rng: &mut self.rng, actions: &mut actions };
        self.dispatcher.handle(&addr_of(node), msg, vec![LEADER], &mut round, &mut out);
        (actions, sends_and_commands(out).0)
    }

    fn register(&mut self, node: &str, now: Instant) -> (Vec<StoreAction>, Vec<(Addr, Message)>) {
        self.receive(node, SessionMessage::Register { node_id: nid(node), session_seq: 1 }, now)
    }

    fn heartbeat(&mut self, node: &str, now: Instant) -> Vec<(Addr, Message)> {
        self.receive(node, SessionMessage::Heartbeat { node_id: nid(node), session_seq: 1 }, now).1
    }

    fn expire(&mut self, now: Instant) -> Vec<StoreAction> {
        let mut actions = Vec::new();
        self.dispatcher.expire(&self.store, now, &mut actions);
        actions
    }

    /// A service `name` (ID = name) with an endpoint and one VIP per given network.
    fn service(&mut self, name: &str, vips: Vec<(NetworkId, NetAddr)>) {
        let svc = Service {
            id: ServiceId(name.into()),
            spec: ServiceSpec {
                labels: Default::default(),
                name: name.into(),
                mode: ServiceMode::Replicated { replicas: 1 },
                task: template(),
                ports: vec![],
                update: None,
                rollback: None,
            },
            spec_version: 1,
            endpoint: Some(Endpoint {
                ports: vec![],
                virtual_ips: vips.into_iter().map(|(network_id, addr)| VirtualIp { network_id, addr }).collect(),
            }),
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
            update_status: None,
            previous_spec: None,
            job_status: None,
        };
        self.apply(vec![StoreAction::CreateService(svc)]);
    }

    /// A task `id` of service `web` on `node`, observed `state`, desired `desired`.
    fn task(
        &mut self,
        id: &str,
        slot: u64,
        node: &str,
        state: TaskState,
        desired: TaskState,
        networks: Vec<NetworkAttachment>,
    ) {
        let svc = self.store.services[&ServiceId("web".into())].clone();
        let mut task =
            crate::manager::orchestrator::new_task(&svc, slot, None, TaskState::Running, Instant::ZERO, &mut self.rng);
        task.id = TaskId(id.into());
        let tid = task.id.clone();
        let mut actions = vec![
            StoreAction::CreateTask(task),
            StoreAction::AllocateTask { id: tid.clone(), networks, host_ports: vec![], at: Instant::ZERO },
            StoreAction::AssignTask { id: tid.clone(), node: nid(node), at: Instant::ZERO },
        ];
        if state > TaskState::Assigned {
            actions.push(StoreAction::SetTaskStatus {
                id: tid.clone(),
                status: TaskStatus::new(state, Instant::ZERO, ""),
            });
        }
        if desired != TaskState::Running {
            actions.push(StoreAction::SetTaskDesired { id: tid, desired });
        }
        self.apply(actions);
    }
}

fn node(id: &str, state: NodeState) -> Node {
    NodeFixture { state, ..NodeFixture::worker(id) }.build()
}

fn template() -> TaskTemplate {
    TaskTemplate::for_image("nginx")
}

fn node_states(actions: &[StoreAction]) -> Vec<(String, NodeState, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            StoreAction::SetNodeState { id, state, message, .. } => Some((id.0.clone(), *state, message.clone())),
            _ => None,
        })
        .collect()
}

/// The heartbeat period a SessionAccepted or HeartbeatAck carried.
fn period_in(out: &[(Addr, Message)]) -> Duration {
    out.iter()
        .find_map(|(_, m)| match m {
            Message::Dispatch(DispatchMessage::SessionAccepted { heartbeat_period, .. })
            | Message::Dispatch(DispatchMessage::HeartbeatAck { heartbeat_period, .. }) => Some(*heartbeat_period),
            _ => None,
        })
        .expect("a session answer")
}

fn assert_period_in_jitter_range(period: Duration) {
    assert!((ms(4500)..=ms(5500)).contains(&period), "5 s ± 0.5 s, got {period:?}");
}

fn net(name: &str) -> NetworkId {
    NetworkId(name.into())
}

fn addr(a: u8, b: u8, c: u8, d: u8, prefix_len: u8) -> NetAddr {
    NetAddr { ip: Ipv4Addr::new(a, b, c, d), prefix_len }
}

// --- Sessions -------------------------------------------------------------------------------

#[test]
fn register_of_an_unknown_node_is_answered_unknown_node() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready)]);

    let (actions, out) = leader.register("n9", secs(1));

    assert_eq!(actions, []);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, addr_of("n9"));
    assert!(matches!(out[0].1, Message::Dispatch(DispatchMessage::UnknownNode)), "{out:?}");
    assert_eq!(leader.dispatcher.next_deadline(), None, "no session, no deadline");
}

#[test]
fn register_of_a_known_node_sets_it_ready_and_answers_session_accepted_then_assignments() {
    let mut leader = Leader::with_nodes(&[("n2", NodeState::Unknown)]);
    leader.service("web", vec![]);
    leader.task("web.1", 1, "n2", TaskState::Assigned, TaskState::Running, vec![]);

    let (actions, out) = leader.register("n2", secs(1));

    assert_eq!(
        actions,
        [StoreAction::SetNodeState {
            id: nid("n2"),
            state: NodeState::Ready,
            message: String::new(),
            addr: Some("10.0.0.2".into())
        }]
    );
    assert!(out.iter().all(|(to, _)| *to == addr_of("n2")));
    match &out[..] {
        [(_, Message::Dispatch(DispatchMessage::SessionAccepted { session_seq: 1, heartbeat_period, managers })), (_, Message::Dispatch(DispatchMessage::Assignments { tasks, .. }))] =>
        {
            assert_period_in_jitter_range(*heartbeat_period);
            assert_eq!(managers, &[LEADER]);
            assert_eq!(tasks.iter().map(|t| t.id.0.as_str()).collect::<Vec<_>>(), ["web.1"]);
        }
        other => panic!("expected SessionAccepted then Assignments, got {other:?}"),
    }
}

#[test]
fn register_of_a_node_already_ready_at_that_address_writes_nothing() {
    let mut leader = Leader::with_nodes(&[("n2", NodeState::Unknown)]);
    let (first, _) = leader.register("n2", secs(1));
    leader.apply(first);

    let (actions, _) = leader.register("n2", secs(2));

    assert_eq!(actions, []);
}

#[test]
fn heartbeat_without_a_session_sends_the_agent_back_to_register() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready)]);

    let out = leader.heartbeat("n1", secs(1));

    assert!(matches!(out[..], [(_, Message::Dispatch(DispatchMessage::NotLeader { leader_addr: None }))]), "{out:?}");
}

// --- Heartbeats and deadlines ---------------------------------------------------------------

#[test]
fn silent_node_is_set_down_with_heartbeat_failure_at_three_periods() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready)]);
    let (_, out) = leader.register("n1", secs(10));
    let period = period_in(&out);
    let deadline = secs(10) + period * 3;
    assert_eq!(leader.dispatcher.next_deadline(), Some(deadline));
    assert!((secs(10) + ms(13_500)..=secs(10) + ms(16_500)).contains(&deadline));

    assert_eq!(leader.expire(deadline - ms(1)), [], "still within grace");
    let actions = leader.expire(deadline);

    assert_eq!(node_states(&actions), [("n1".to_string(), NodeState::Down, "heartbeat failure".to_string())]);
    assert_eq!(leader.dispatcher.next_deadline(), None);
    assert!(
        matches!(leader.heartbeat("n1", deadline)[..], [(_, Message::Dispatch(DispatchMessage::NotLeader { .. }))]),
        "session dropped"
    );
}

#[test]
fn heartbeats_extend_the_deadline() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready)]);
    let (_, out) = leader.register("n1", secs(0));
    let first_deadline = secs(0) + period_in(&out) * 3;

    // A heartbeat every 5 s for a minute: never Down.
    let mut deadline = first_deadline;
    for beat in 1..=12 {
        let now = secs(5 * beat);
        let out = leader.heartbeat("n1", now);
        let period = period_in(&out);
        assert_period_in_jitter_range(period);
        deadline = now + period * 3;
        assert_eq!(leader.dispatcher.next_deadline(), Some(deadline));
        assert_eq!(leader.expire(now), []);
    }
    assert!(deadline > first_deadline);
    assert_eq!(leader.expire(first_deadline), []);
    assert_eq!(
        node_states(&leader.expire(deadline)),
        [("n1".to_string(), NodeState::Down, "heartbeat failure".to_string())]
    );
}

#[test]
fn expiry_of_a_node_already_down_writes_nothing() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready)]);
    leader.register("n1", secs(0));
    leader.apply(vec![StoreAction::SetNodeState {
        id: nid("n1"),
        state: NodeState::Down,
        message: String::new(),
        addr: None,
    }]);

    assert_eq!(leader.expire(secs(60)), []);
}

#[test]
fn new_leader_sets_every_node_not_down_unknown_with_twice_the_grace() {
    let mut leader = Leader::with_nodes(&[
        ("n1", NodeState::Ready),
        ("n2", NodeState::Down),
        ("n3", NodeState::Disconnected),
        ("n4", NodeState::Unknown),
    ]);
    let mut actions = Vec::new();
    leader.dispatcher.on_become_leader(&leader.store, secs(100), &mut actions);

    let unknown = |n: &str| (n.to_string(), NodeState::Unknown, UNKNOWN_AFTER_LEADER_CHANGE.to_string());
    assert_eq!(node_states(&actions), [unknown("n1"), unknown("n3"), unknown("n4")]);
    assert_eq!(UNKNOWN_AFTER_LEADER_CHANGE, "Node moved to \"unknown\" state due to leadership change in cluster");
    leader.apply(actions);

    // 5 s × 3 × 2 = 30 s to find the new leader.
    assert_eq!(leader.dispatcher.next_deadline(), Some(secs(130)));
    assert_eq!(leader.expire(secs(130) - ms(1)), []);
    let down = |n: &str| (n.to_string(), NodeState::Down, "heartbeat failure".to_string());
    assert_eq!(node_states(&leader.expire(secs(130))), [down("n1"), down("n3"), down("n4")]);
}

#[test]
fn node_that_registers_with_the_new_leader_in_time_is_not_set_down() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready), ("n2", NodeState::Ready)]);
    let mut actions = Vec::new();
    leader.dispatcher.on_become_leader(&leader.store, secs(0), &mut actions);
    leader.apply(actions);

    leader.register("n1", secs(20));

    assert_eq!(
        node_states(&leader.expire(secs(30))),
        [("n2".to_string(), NodeState::Down, "heartbeat failure".to_string())]
    );
}

// --- Task status ----------------------------------------------------------------------------

#[test]
fn status_update_for_a_task_assigned_to_another_node_is_dropped() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready), ("n2", NodeState::Ready)]);
    leader.service("web", vec![]);
    leader.task("web.1", 1, "n2", TaskState::Assigned, TaskState::Running, vec![]);
    leader.register("n1", secs(0));
    leader.register("n2", secs(0));
    let running = TaskStatus::new(TaskState::Running, secs(1), "started");

    // n1 claims n2's task: dropped.
    let update = |node: &str| SessionMessage::UpdateTaskStatus {
        node_id: nid(node),
        updates: vec![(TaskId("web.1".into()), running.clone())],
    };
    leader.receive("n1", update("n1"), secs(1));
    let mut actions = Vec::new();
    leader.dispatcher.take_status_actions(&leader.store, secs(2), &mut actions);
    assert_eq!(actions, []);

    // The same report from n2 is written.
    leader.receive("n2", update("n2"), secs(1));
    assert!(leader.dispatcher.has_pending_status());
    leader.dispatcher.take_status_actions(&leader.store, secs(2), &mut actions);
    assert_eq!(actions, [StoreAction::SetTaskStatus { id: TaskId("web.1".into()), status: running }]);
    assert!(!leader.dispatcher.has_pending_status());
}

#[test]
fn status_update_that_would_move_a_task_backwards_is_dropped() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready)]);
    leader.service("web", vec![]);
    leader.task("web.1", 1, "n1", TaskState::Running, TaskState::Running, vec![]);
    leader.register("n1", secs(0));

    let late = TaskStatus::new(TaskState::Starting, secs(1), "starting");
    leader.receive(
        "n1",
        SessionMessage::UpdateTaskStatus { node_id: nid("n1"), updates: vec![(TaskId("web.1".into()), late)] },
        secs(1),
    );
    let mut actions = Vec::new();
    leader.dispatcher.take_status_actions(&leader.store, secs(2), &mut actions);

    assert_eq!(actions, []);
}

#[test]
fn task_status_is_written_in_one_batch_100ms_after_the_first_update() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready)]);
    leader.service("web", vec![]);
    leader.task("web.1", 1, "n1", TaskState::Assigned, TaskState::Running, vec![]);
    leader.task("web.2", 2, "n1", TaskState::Assigned, TaskState::Running, vec![]);
    leader.register("n1", secs(0));
    let report = |task: &str, at| SessionMessage::UpdateTaskStatus {
        node_id: nid("n1"),
        updates: vec![(TaskId(task.into()), TaskStatus::new(TaskState::Running, at, "started"))],
    };
    let first = secs(1);
    leader.receive("n1", report("web.1", first), first);
    leader.receive("n1", report("web.2", first + Duration::from_millis(60)), first + Duration::from_millis(60));
    assert_eq!(leader.dispatcher.next_deadline(), Some(first + STATUS_BATCH_INTERVAL));

    let mut actions = Vec::new();
    leader.dispatcher.take_status_actions(&leader.store, first + Duration::from_millis(99), &mut actions);
    assert_eq!(actions, [], "not before the batch is due");
    leader.dispatcher.take_status_actions(&leader.store, first + STATUS_BATCH_INTERVAL, &mut actions);
    assert_eq!(actions.len(), 2, "both updates in one write: {actions:?}");
    assert!(!leader.dispatcher.has_pending_status());
}

// --- The routing-mesh directory -------------------------------------------------------------

#[test]
fn directory_lists_only_running_tasks_desired_running_and_the_ingress_network() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready), ("n2", NodeState::Ready)]);
    let ingress = Network {
        labels: Default::default(),
        attachable: false,
        id: net("ingress-id"),
        name: "ingress".into(),
        driver: NetworkDriver::Overlay,
        scope: NetworkScope::Swarm,
        subnet: Subnet::parse("10.255.0.0/16"),
        ingress: true,
        created_at: Instant::ZERO,
    };
    leader.apply(vec![StoreAction::CreateNetwork(ingress)]);
    leader.service("web", vec![(net("ingress-id"), addr(10, 255, 0, 2, 16))]);
    let on_ingress = |host: u8| {
        vec![NetworkAttachment { network_id: net("ingress-id"), addresses: vec![addr(10, 255, 0, host, 16)] }]
    };
    // (task, node, observed, desired, listed?)
    let tasks = [
        ("web.1", "n1", TaskState::Running, TaskState::Running, true),
        ("web.2", "n2", TaskState::Running, TaskState::Running, true),
        ("web.3", "n1", TaskState::Starting, TaskState::Running, false),
        ("web.4", "n2", TaskState::Running, TaskState::Shutdown, false),
        ("web.5", "n1", TaskState::Failed, TaskState::Shutdown, false),
    ];
    for (i, (id, node, state, desired, _)) in tasks.iter().enumerate() {
        leader.task(id, i as u64 + 1, node, *state, *desired, on_ingress(i as u8 + 3));
    }
    for n in ["n1", "n2"] {
        let (actions, _) = leader.register(n, secs(0));
        leader.apply(actions);
    }

    let dir = crate::manager::directory::build(&leader.store);

    assert_eq!(dir.ingress_network, Some(net("ingress-id")));
    let web = &dir.services["web"];
    assert_eq!(web.vips, [(net("ingress-id"), addr(10, 255, 0, 2, 16))]);
    let listed: Vec<String> = web.backends.iter().map(|b| b.task_id.0.clone()).collect();
    let expected: Vec<String> = tasks.iter().filter(|t| t.4).map(|t| t.0.to_string()).collect();
    assert_eq!(listed, expected);
    assert_eq!(web.backends[0].container_name, "web.1.web.1");
    assert_eq!(web.backends[0].node_addr, "10.0.0.1");
    assert_eq!(web.backends[1].addresses, [(net("ingress-id"), addr(10, 255, 0, 4, 16))]);
}

#[test]
fn directory_leaves_out_services_the_allocator_has_not_reached() {
    let mut leader = Leader::with_nodes(&[]);
    leader.service("web", vec![]);
    let mut svc = leader.store.services[&ServiceId("web".into())].clone();
    svc.id = ServiceId("db".into());
    svc.spec.name = "db".into();
    svc.endpoint = None;
    leader.apply(vec![StoreAction::CreateService(svc)]);

    let dir = crate::manager::directory::build(&leader.store);

    assert_eq!(dir.services.keys().collect::<Vec<_>>(), ["web"]);
    assert_eq!(dir.ingress_network, None);
}

#[test]
fn open_sessions_are_told_a_changed_manager_list_once() {
    let mut leader = Leader::with_nodes(&[("n1", NodeState::Ready), ("n2", NodeState::Ready)]);
    leader.register("n1", secs(0));
    leader.register("n2", secs(0));
    let second = Addr::on_cluster_port(Ipv4Addr::new(10, 0, 0, 9));

    let mut out = Vec::new();
    leader.dispatcher.note_managers(vec![LEADER], &mut out);
    assert!(out.is_empty(), "the sessions were told this list when they registered: {out:?}");

    leader.dispatcher.note_managers(vec![LEADER, second], &mut out);
    let told: Vec<(Addr, Vec<Addr>)> = sends_and_commands(std::mem::take(&mut out))
        .0
        .into_iter()
        .map(|(to, m)| match m {
            Message::Dispatch(DispatchMessage::Managers { session_seq: 1, managers }) => (to, managers),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(told, vec![(addr_of("n1"), vec![LEADER, second]), (addr_of("n2"), vec![LEADER, second])]);

    leader.dispatcher.note_managers(vec![LEADER, second], &mut out);
    assert!(out.is_empty(), "told once: {out:?}");
}
