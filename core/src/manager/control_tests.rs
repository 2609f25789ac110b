//! The control API's writes, from the command line a user types to the actions (or docker's
//! error) the leader would propose.

use super::*;
use crate::cli;
use crate::ids::NodeId;
use crate::test_support::{apply_all, NodeFixture};
use rand::SeedableRng;

/// A swarm as after the tutorial's first steps: manager `manager1` (Ready, the only manager),
/// workers `worker1` (Ready) and `worker2` (Down), the ingress network, a replicated service
/// `web` and a global service `mon`.
fn swarm() -> Store {
    let mut store = Store::new();
    let cluster = Cluster {
        id: "cluster".into(),
        ca_digest: "0".repeat(50),
        worker_token: "SWMTKN-1-worker".into(),
        manager_token: "SWMTKN-1-manager".into(),
        task_history_limit: 5,
        dispatcher_heartbeat: crate::api::DEFAULT_DISPATCHER_HEARTBEAT,
        node_cert_expiry: crate::api::DEFAULT_NODE_CERT_EXPIRY,
        default_addr_pool: None,
    };
    let ingress = Network {
        labels: Default::default(),
        attachable: false,
        id: NetworkId("ingressid".into()),
        name: "ingress".into(),
        driver: NetworkDriver::Overlay,
        scope: NetworkScope::Swarm,
        subnet: Subnet::parse("10.255.0.0/16"),
        ingress: true,
        created_at: Instant::ZERO,
    };
    let mut actions = vec![
        StoreAction::SetCluster(cluster),
        StoreAction::CreateNetwork(ingress),
        StoreAction::CreateNode(node("manager1", NodeRole::Manager, NodeState::Ready)),
        StoreAction::CreateNode(node("worker1", NodeRole::Worker, NodeState::Ready)),
        StoreAction::CreateNode(node("worker2", NodeRole::Worker, NodeState::Down)),
    ];
    let mut ids = ChaCha8Rng::seed_from_u64(1);
    actions.extend(
        ["docker service create --name web --replicas 2 nginx", "docker service create --name mon --mode global prom"]
            .map(|line| {
                let write = plan_write(&store, &command(line), Instant::ZERO, &mut ids).expect(line);
                write.actions.into_iter().next().unwrap()
            }),
    );
    apply(&mut store, actions);
    store
}

fn apply(store: &mut Store, actions: Vec<StoreAction>) {
    apply_all(store, actions);
}

fn node(name: &str, role: NodeRole, state: NodeState) -> Node {
    let id = format!("{name}-id");
    NodeFixture {
        hostname: name,
        role,
        state,
        addr: "192.168.99.100",
        manager: (role == NodeRole::Manager).then(|| (raft_id_of(name), "192.168.99.100:2377")),
        ..NodeFixture::worker(&id)
    }
    .build()
}

/// `manager2` → Raft ID 2.
fn raft_id_of(name: &str) -> u64 {
    name.trim_start_matches(|c: char| !c.is_ascii_digit()).parse().expect("a numbered name")
}

fn rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(11)
}

fn command(line: &str) -> Request {
    cli::parse(line).unwrap_or_else(|e| panic!("{line}: {e}")).request
}

/// What the CLI prints once the write commits.
fn printed(line: &str, write: &Write) -> String {
    let invocation = cli::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    cli::render(&invocation, &Ok(write.response.clone()))
}

/// What the leader would do with `line` on `store`.
fn plan(store: &Store, line: &str) -> Result<Write, String> {
    plan_write(store, &command(line), Instant::from_millis(1000), &mut rng())
}

fn refusal(store: &Store, line: &str) -> String {
    match plan(store, line) {
        Ok(w) => panic!("{line}: expected a refusal, got {:?}", w.actions),
        Err(e) => e,
    }
}

#[test]
fn writes_that_docker_refuses_answer_with_docker_text() {
    let store = swarm();
    let cases = [
        (
            "docker service create --name web redis",
            "rpc error: code = AlreadyExists desc = name conflicts with an existing object: service web already exists",
        ),
        ("docker service scale mon=3", "mon: scale can only be used with replicated mode"),
        ("docker network rm ingress", "rpc error: code = PermissionDenied desc = ingress network cannot be removed"),
        ("docker node demote manager1", "rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm"),
        ("docker node rm worker1", "rpc error: code = FailedPrecondition desc = node worker1-id is not down and can't be removed"),
        (
            "docker node rm manager1",
            "rpc error: code = FailedPrecondition desc = node manager1-id is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal",
        ),
        ("docker service scale nosuch=2", "service nosuch not found"),
    ];
    for (line, text) in cases {
        assert_eq!(refusal(&store, line), text, "{line}");
    }
}

#[test]
fn service_create_makes_one_service_with_swarm_defaults() {
    let store = swarm();

    let write = plan(&store, "docker service create --name redis --replicas 3 redis:3.0.6").unwrap();

    let [StoreAction::CreateService(svc)] = &write.actions[..] else { panic!("{:?}", write.actions) };
    assert_eq!(svc.spec.name, "redis");
    assert_eq!(svc.spec.mode, ServiceMode::Replicated { replicas: 3 });
    assert_eq!(svc.spec.task.image, "redis:3.0.6");
    assert_eq!(svc.spec.task.restart_policy, RestartPolicy::default());
    assert_eq!(svc.spec_version, 1);
    assert_eq!(write.response, Response::ServiceCreated { id: svc.id.clone() });
    assert_eq!(printed("docker service create redis", &write), format!("{}\n", svc.id));
}

#[test]
fn scale_on_a_replicated_service_updates_its_spec() {
    let store = swarm();

    let write = plan(&store, "docker service scale web=5").unwrap();

    let [StoreAction::UpdateServiceSpec { spec, .. }] = &write.actions[..] else { panic!("{:?}", write.actions) };
    assert_eq!(spec.mode, ServiceMode::Replicated { replicas: 5 });
    assert_eq!(printed("docker service scale web=5", &write), "web scaled to 5\n");
}

#[test]
fn node_rm_of_a_ready_node_needs_force() {
    let store = swarm();

    let write = plan(&store, "docker node rm --force worker1").unwrap();

    assert_eq!(write.actions, [StoreAction::RemoveNode { id: NodeId("worker1-id".into()) }]);
    assert_eq!(printed("docker node rm --force worker1", &write), "worker1\n");
}

#[test]
fn node_rm_of_a_down_node_needs_no_force() {
    let store = swarm();

    let write = plan(&store, "docker node rm worker2").unwrap();

    assert_eq!(write.actions, [StoreAction::RemoveNode { id: NodeId("worker2-id".into()) }]);
}

#[test]
fn demoting_a_manager_is_allowed_when_another_manager_keeps_quorum() {
    let mut store = swarm();
    // Three Ready managers: removing one leaves two of two.
    for name in ["manager2", "manager3"] {
        apply(&mut store, vec![StoreAction::CreateNode(node(name, NodeRole::Manager, NodeState::Ready))]);
    }

    let write = plan(&store, "docker node demote manager2").unwrap();

    assert_eq!(write.actions, [StoreAction::SetNodeRole { id: NodeId("manager2-id".into()), role: NodeRole::Worker }]);
    assert_eq!(write.remove_raft_member, Some(2), "manager2 leaves the Raft membership");
    assert_eq!(printed("docker node demote manager2", &write), "Manager manager2 demoted in the swarm.\n");
}

#[test]
fn join_token_rotate_changes_only_that_role_token() {
    let store = swarm();
    let before = store.cluster.clone().unwrap();

    // (command, role rotated)
    for (line, role) in [
        ("docker swarm join-token --rotate worker", NodeRole::Worker),
        ("docker swarm join-token --rotate manager", NodeRole::Manager),
    ] {
        let write = plan(&store, line).unwrap();
        let [StoreAction::SetCluster(after)] = &write.actions[..] else { panic!("{line}: {:?}", write.actions) };
        let (rotated, kept) = match role {
            NodeRole::Worker => {
                ((&before.worker_token, &after.worker_token), (&before.manager_token, &after.manager_token))
            }
            NodeRole::Manager => {
                ((&before.manager_token, &after.manager_token), (&before.worker_token, &after.worker_token))
            }
        };
        assert_ne!(rotated.0, rotated.1, "{line}");
        assert!(rotated.1.starts_with(&format!("SWMTKN-1-{}-", before.ca_digest)), "{line}: {}", rotated.1);
        assert_eq!(kept.0, kept.1, "{line}");
        let shown = printed(line, &write);
        assert!(shown.starts_with(&format!("Successfully rotated {} join token.\n\n", role.as_str())), "{shown}");
        assert!(shown.contains(&format!("--token {} ", rotated.1)), "{line}: the new token follows: {shown}");
    }
}

#[test]
fn reads_are_not_planned_as_writes() {
    let store = swarm();

    assert!(refusal(&store, "docker service ls").starts_with("not a write"));
}

#[test]
fn swarm_update_changes_only_the_settings_given_and_refuses_what_swarmkit_refuses() {
    let store = swarm();
    let before = store.cluster.clone().unwrap();
    let write = plan(&store, "docker swarm update --task-history-limit 2 --dispatcher-heartbeat 10s").unwrap();
    let [StoreAction::SetCluster(after)] = write.actions.as_slice() else { panic!("{:?}", write.actions) };
    assert_eq!(after.task_history_limit, 2);
    assert_eq!(after.dispatcher_heartbeat, std::time::Duration::from_secs(10));
    assert_eq!(after.node_cert_expiry, before.node_cert_expiry, "not given, kept");
    assert_eq!(after.worker_token, before.worker_token);
    assert_eq!(printed("docker swarm update --task-history-limit 2", &write), "Swarm updated.\n");
    assert_eq!(
        refusal(&store, "docker swarm update --cert-expiry 59m"),
        "rpc error: code = InvalidArgument desc = minimum certificate expiry time is: 1h0m0s"
    );
    assert!(refusal(&store, "docker swarm update --autolock").contains("does not support autolock"));
    assert!(plan(&store, "docker swarm update --autolock=false").is_ok(), "no autolock is what swarmsim has");
}

// ----- secrets and configs -----

/// `docker secret|config create NAME -` with `bytes` on standard input, committed.
fn create_data(store: &mut Store, line: &str, bytes: &[u8]) {
    let mut invocation = cli::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    invocation.supply_data(bytes.to_vec());
    let mut ids = ChaCha8Rng::seed_from_u64(100 + (store.secrets.len() + store.configs.len()) as u64);
    let write = plan_write(store, &invocation.request, Instant::ZERO, &mut ids).expect(line);
    apply(store, write.actions);
}

fn commit(store: &mut Store, line: &str) -> Write {
    let write = plan(store, line).unwrap_or_else(|e| panic!("{line}: {e}"));
    apply(store, write.actions.clone());
    write
}

#[test]
fn a_secret_name_is_taken_once_and_its_data_is_checked_as_swarmkit_does() {
    let mut store = swarm();
    create_data(&mut store, "docker secret create db_pass -", b"s3cret-pw");
    let mut again = cli::parse("docker secret create db_pass -").unwrap();
    again.supply_data(b"other".to_vec());
    let refused = plan_write(&store, &again.request, Instant::ZERO, &mut rng()).err().unwrap();
    assert_eq!(refused, "rpc error: code = AlreadyExists desc = secret db_pass already exists");
    // A config may share a secret's name: they are separate kinds.
    create_data(&mut store, "docker config create db_pass -", b"x");
    assert_eq!(store.configs.len(), 1);
    let empty = cli::parse("docker secret create empty -").unwrap();
    assert_eq!(
        plan_write(&store, &empty.request, Instant::ZERO, &mut rng()).err().unwrap(),
        "rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than 512000 bytes"
    );
    let mut bad = cli::parse("docker secret create x- -").unwrap();
    bad.supply_data(b"x".to_vec());
    assert!(plan_write(&store, &bad.request, Instant::ZERO, &mut rng()).err().unwrap().contains("invalid name"));
}

#[test]
fn secret_in_use_cannot_be_removed() {
    let mut store = swarm();
    create_data(&mut store, "docker secret create db_pass -", b"s3cret-pw");
    create_data(&mut store, "docker secret create api_key -", b"k3y-abc");
    commit(&mut store, "docker service create --name api --secret db_pass --secret src=api_key,target=key nginx");
    let write = commit(&mut store, "docker secret rm api_key db_pass nosuch");
    assert!(write.actions.is_empty(), "every one is refused: {:?}", write.actions);
    let invocation = cli::parse("docker secret rm api_key db_pass nosuch").unwrap();
    let reply = Ok(write.response.clone());
    assert_eq!(
        cli::render(&invocation, &reply),
        "Error response from daemon: rpc error: code = InvalidArgument desc = secret 'api_key' is in use by the following service: api\n\
         Error response from daemon: rpc error: code = InvalidArgument desc = secret 'db_pass' is in use by the following service: api\n\
         Error: No such secret: nosuch\n"
    );
    assert_eq!(cli::exit_code(&invocation, &reply), 1);
    // Once the service no longer uses it, it goes.
    commit(&mut store, "docker service update --secret-rm db_pass api");
    let write = commit(&mut store, "docker secret rm db_pass");
    assert_eq!(printed("docker secret rm db_pass", &write), "db_pass\n");
    assert_eq!(store.secrets.len(), 1);
}

#[test]
fn a_service_references_secrets_and_configs_by_the_ids_the_manager_resolved() {
    let mut store = swarm();
    create_data(&mut store, "docker secret create db_pass -", b"s3cret-pw");
    create_data(&mut store, "docker config create app_conf -", b"listen 80\n");
    let missing = refusal(&store, "docker service create --name api --secret nope nginx");
    assert_eq!(crate::control::ApiError::new(missing).to_string(), "secret not found: nope");
    commit(
        &mut store,
        "docker service create --name api --secret src=db_pass,target=pw,mode=0400 --config src=app_conf,target=/etc/app.conf nginx",
    );
    let svc = store.service_by_name("api").unwrap();
    let secret = store.secrets.values().next().unwrap();
    assert_eq!(svc.spec.task.secrets[0].id, secret.id);
    assert_eq!((svc.spec.task.secrets[0].target.as_str(), svc.spec.task.secrets[0].mode), ("pw", 0o400));
    assert_eq!(svc.spec.task.configs[0].name, "app_conf");
    let write = plan(&store, "docker config rm app_conf").unwrap();
    assert_eq!(
        printed("docker config rm app_conf", &write),
        "Error response from daemon: rpc error: code = InvalidArgument desc = config 'app_conf' is in use by the following service: api\n"
    );
}

#[test]
fn a_change_of_secret_references_replaces_the_tasks() {
    let mut store = swarm();
    create_data(&mut store, "docker secret create db_pass -", b"s3cret-pw");
    commit(&mut store, "docker service create --name api --secret db_pass nginx");
    let before = store.service_by_name("api").unwrap().spec.task.clone();
    commit(&mut store, "docker service update --secret-rm db_pass api");
    let after = &store.service_by_name("api").unwrap().spec.task;
    assert!(after.secrets.is_empty());
    assert!(crate::api::placement::task_is_dirty(after, &before, true), "a placed task runs the old references");
}
