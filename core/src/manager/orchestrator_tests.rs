//! The orchestrators, restart supervisor, updater and reaper, one behaviour per test.
//!
//! Every store is built through `Store::apply`, as Raft would build it; a test calls
//! `reconcile` at a given time and reads the actions it proposes, then (where the story goes
//! on) applies them and moves the clock.

use super::*;
use crate::test_support::{apply_all, secs, NodeFixture};
use rand::SeedableRng;
use std::time::Duration;

const NGINX: &str = "nginx:1.12";

/// A leader's view: a store, the orchestrator that keeps state across rounds, and its RNG.
struct Swarm {
    store: Store,
    orchestrator: Orchestrator,
    rng: ChaCha8Rng,
}

impl Swarm {
    /// A cluster (history limit 5) with Ready, Active workers named as given.
    fn with_nodes(names: &[&str]) -> Swarm {
        let mut swarm =
            Swarm { store: Store::new(), orchestrator: Orchestrator::new(), rng: ChaCha8Rng::seed_from_u64(7) };
        let cluster = Cluster {
            id: "cluster".into(),
            ca_digest: "digest".into(),
            worker_token: "SWMTKN-1-w".into(),
            manager_token: "SWMTKN-1-m".into(),
            task_history_limit: DEFAULT_TASK_HISTORY_LIMIT,
            dispatcher_heartbeat: crate::api::DEFAULT_DISPATCHER_HEARTBEAT,
            node_cert_expiry: crate::api::DEFAULT_NODE_CERT_EXPIRY,
            default_addr_pool: None,
        };
        swarm.apply(vec![StoreAction::SetCluster(cluster)]);
        swarm.apply(names.iter().map(|n| StoreAction::CreateNode(node(n))).collect());
        swarm
    }

    fn apply(&mut self, actions: Vec<StoreAction>) {
        let touched = apply_all(&mut self.store, actions);
        // As the manager does after every applied batch: the next round looks at what changed.
        self.orchestrator.note_applied(&self.store, &touched);
    }

    /// A service `name` (its ID is its name) with swarm's default restart policy.
    fn service(&mut self, name: &str, mode: ServiceMode) -> &mut Swarm {
        self.service_with(name, mode, RestartPolicy::default())
    }

    fn service_with(&mut self, name: &str, mode: ServiceMode, restart_policy: RestartPolicy) -> &mut Swarm {
        let spec = ServiceSpec {
            labels: Default::default(),
            name: name.into(),
            mode,
            task: template(restart_policy),
            ports: vec![],
            update: None,
            rollback: None,
        };
        let svc = Service {
            id: ServiceId(name.into()),
            spec,
            spec_version: 1,
            endpoint: Some(Endpoint::default()),
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
            update_status: None,
            previous_spec: None,
            job_status: None,
        };
        self.apply(vec![StoreAction::CreateService(svc)]);
        self
    }

    /// A task of `service` (ID `id`) in `slot` on `node`, brought to `state` the way the
    /// allocator, scheduler and agent would; created at `created`.
    fn task(
        &mut self,
        id: &str,
        service: &str,
        slot: u64,
        node: &str,
        state: TaskState,
        created: Instant,
    ) -> &mut Swarm {
        let svc = self.store.services[&ServiceId(service.into())].clone();
        let mut task = new_task(&svc, slot, None, TaskState::Running, created, &mut self.rng);
        task.id = TaskId(id.into());
        let tid = task.id.clone();
        let mut actions = vec![
            StoreAction::CreateTask(task),
            StoreAction::AllocateTask { id: tid.clone(), networks: vec![], host_ports: vec![], at: created },
            StoreAction::AssignTask { id: tid.clone(), node: NodeId(node.into()), at: created },
        ];
        if state > TaskState::Assigned {
            actions.push(StoreAction::SetTaskStatus { id: tid.clone(), status: status(state, created) });
        }
        if state.is_terminal() {
            actions.push(StoreAction::SetTaskDesired { id: tid, desired: TaskState::Shutdown });
        }
        self.apply(actions);
        self
    }

    /// A global service `name` with a running task `name.NODE` on each of `nodes`.
    fn global_service_running(&mut self, name: &str, nodes: &[&str]) -> &mut Swarm {
        self.service(name, ServiceMode::Global);
        for node in nodes {
            self.task(&format!("{name}.{node}"), name, 0, node, TaskState::Running, Instant::ZERO);
        }
        self
    }

    fn running(&mut self, id: &str, service: &str, slot: u64, node: &str) -> &mut Swarm {
        self.task(id, service, slot, node, TaskState::Running, Instant::ZERO)
    }

    /// The agent's report for a task already in the store.
    fn report(&mut self, id: &str, state: TaskState, at: Instant) {
        self.apply(vec![StoreAction::SetTaskStatus { id: TaskId(id.into()), status: status(state, at) }]);
    }

    fn set_node(&mut self, node: &str, state: NodeState) {
        self.apply(vec![StoreAction::SetNodeState {
            id: NodeId(node.into()),
            state,
            message: String::new(),
            addr: None,
        }]);
    }

    fn drain(&mut self, node: &str) {
        self.apply(vec![StoreAction::SetNodeAvailability {
            id: NodeId(node.into()),
            availability: Availability::Drain,
        }]);
    }

    fn reconcile(&mut self, now: Instant) -> Vec<StoreAction> {
        let mut actions = Vec::new();
        self.orchestrator.reconcile(&mut Round { store: &self.store, now, rng: &mut self.rng, actions: &mut actions });
        actions
    }

    /// One round: reconcile and commit what it proposed.
    fn round(&mut self, now: Instant) -> Vec<StoreAction> {
        let actions = self.reconcile(now);
        self.apply(actions.clone());
        actions
    }

    /// Places a task the orchestrator made on `node` and reports it `state`, as the allocator,
    /// scheduler and agent would.
    fn place(&mut self, id: &TaskId, node: &str, state: TaskState, at: Instant) {
        self.apply(vec![
            StoreAction::AllocateTask { id: id.clone(), networks: vec![], host_ports: vec![], at },
            StoreAction::AssignTask { id: id.clone(), node: NodeId(node.into()), at },
            StoreAction::SetTaskStatus { id: id.clone(), status: status(state, at) },
        ]);
    }

    fn desired_of(&self, id: &TaskId) -> TaskState {
        self.store.tasks[id].desired_state
    }
}

fn node(name: &str) -> Node {
    let resources = Resources { nano_cpus: 1_000_000_000, memory_bytes: 1 << 30 };
    NodeFixture { addr: "10.0.0.1", resources, ..NodeFixture::worker(name) }.build()
}

fn template(restart_policy: RestartPolicy) -> TaskTemplate {
    TaskTemplate { restart_policy, ..TaskTemplate::for_image(NGINX) }
}

fn status(state: TaskState, at: Instant) -> TaskStatus {
    let mut s = TaskStatus::new(state, at, state.as_str());
    if state == TaskState::Failed {
        s.err = "task: non-zero exit (137)".into();
        s.exit_code = Some(137);
    }
    s
}

fn replicated(replicas: u64) -> ServiceMode {
    ServiceMode::Replicated { replicas }
}

fn policy(condition: RestartCondition, delay_s: u64, max_attempts: u64) -> RestartPolicy {
    RestartPolicy { condition, delay: Duration::from_secs(delay_s), max_attempts, window: Duration::ZERO }
}

fn tid(id: &str) -> TaskId {
    TaskId(id.into())
}

/// The tasks an action list creates: (slot, node, desired state).
fn created(actions: &[StoreAction]) -> Vec<(u64, Option<String>, TaskState)> {
    created_tasks(actions).iter().map(|t| (t.slot, t.node_id.as_ref().map(|n| n.0.clone()), t.desired_state)).collect()
}

fn created_tasks(actions: &[StoreAction]) -> Vec<Task> {
    actions
        .iter()
        .filter_map(|a| match a {
            StoreAction::CreateTask(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// The desired-state changes an action list makes, as (task, desired).
fn desired(actions: &[StoreAction]) -> Vec<(TaskId, TaskState)> {
    actions
        .iter()
        .filter_map(|a| match a {
            StoreAction::SetTaskDesired { id, desired } => Some((id.clone(), *desired)),
            _ => None,
        })
        .collect()
}

fn removed(actions: &[StoreAction]) -> Vec<TaskId> {
    actions
        .iter()
        .filter_map(|a| match a {
            StoreAction::RemoveTask { id } => Some(id.clone()),
            _ => None,
        })
        .collect()
}

// --- Replicated services: slots ------------------------------------------------------------

#[test]
fn missing_replicas_get_new_tasks_in_the_lowest_free_slots() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm.service("web", replicated(4)).running("web.2", "web", 2, "n1").running("web.4", "web", 4, "n2");

    let actions = swarm.reconcile(secs(1));

    assert_eq!(created(&actions), [(1, None, TaskState::Running), (3, None, TaskState::Running)]);
    for t in created_tasks(&actions) {
        assert_eq!(t.status.state, TaskState::New, "the allocator and scheduler take it from NEW");
        assert_eq!(t.spec.image, NGINX);
    }
    assert_eq!(desired(&actions), []);
}

#[test]
fn a_converged_service_needs_no_action() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm.service("web", replicated(2)).running("web.1", "web", 1, "n1").running("web.2", "web", 2, "n2");

    assert_eq!(swarm.reconcile(secs(1)), []);
}

#[test]
fn scale_down_shuts_down_tasks_on_the_most_loaded_node_first() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2", "n3"]);
    swarm
        .service("web", replicated(3))
        .running("web.1", "web", 1, "n1")
        .running("web.2", "web", 2, "n1")
        .running("web.3", "web", 3, "n2")
        .running("web.4", "web", 4, "n3");

    let actions = swarm.reconcile(secs(1));

    // By slot alone web.4 would go; n1 holds two of the service, so one of its tasks goes.
    assert_eq!(desired(&actions), [(tid("web.2"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), []);
}

#[test]
fn under_20_10_scale_down_marks_the_task_remove_and_the_reaper_deletes_it_once_stopped() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2", "n3"]);
    swarm.orchestrator.docker_version = DockerVersion::V20_10;
    swarm
        .service("web", replicated(2))
        .running("web.1", "web", 1, "n1")
        .running("web.2", "web", 2, "n2")
        .running("web.3", "web", 3, "n3");

    assert_eq!(desired(&swarm.round(secs(1))), [(tid("web.3"), TaskState::Remove)]);
    // Listed (`Remove  Running`) while its agent stops it; deleted once it has stopped.
    assert_eq!(swarm.round(secs(2)), []);
    swarm.report("web.3", TaskState::Shutdown, secs(3));
    assert_eq!(removed(&swarm.round(secs(3))), [tid("web.3")]);
    assert_eq!(swarm.store.tasks.len(), 2);
}

#[test]
fn scale_down_shuts_down_tasks_not_yet_running_first_among_equally_loaded_nodes() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2", "n3"]);
    swarm
        .service("web", replicated(2))
        .task("web.1", "web", 1, "n1", TaskState::Preparing, Instant::ZERO)
        .running("web.2", "web", 2, "n2")
        .running("web.3", "web", 3, "n3");

    let actions = swarm.reconcile(secs(1));

    assert_eq!(desired(&actions), [(tid("web.1"), TaskState::Shutdown)]);
}

#[test]
fn scale_down_by_several_spreads_the_removals_over_the_loaded_nodes() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm
        .service("web", replicated(2))
        .running("web.1", "web", 1, "n1")
        .running("web.2", "web", 2, "n1")
        .running("web.3", "web", 3, "n1")
        .running("web.4", "web", 4, "n2");

    let mut victims = desired(&swarm.reconcile(secs(1)));
    victims.sort();

    // n1 holds three: two go from there, leaving one on each node.
    assert_eq!(victims, [(tid("web.2"), TaskState::Shutdown), (tid("web.3"), TaskState::Shutdown)]);
}

// --- Restarts -----------------------------------------------------------------------------

#[test]
fn failed_task_is_shut_down_and_replaced_in_its_slot_after_the_restart_delay() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm.service("web", replicated(1)).running("web.1", "web", 1, "n1");
    swarm.report("web.1", TaskState::Failed, secs(10));

    let actions = swarm.round(secs(10));

    assert_eq!(desired(&actions), [(tid("web.1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(1, None, TaskState::Ready)], "held at READY for the restart delay");
    let replacement = created_tasks(&actions)[0].id.clone();
    assert_eq!(swarm.orchestrator.next_deadline(), Some(secs(15)));

    // Within the delay the replacement waits.
    assert_eq!(swarm.round(secs(12)), []);
    assert_eq!(swarm.round(secs(14) + Duration::from_millis(999)), []);
    assert_eq!(swarm.desired_of(&replacement), TaskState::Ready);

    // Once 5 s have passed it may run.
    let actions = swarm.round(secs(15));
    assert_eq!(desired(&actions), [(replacement.clone(), TaskState::Running)]);
    assert_eq!(created(&actions), [], "no second replacement");
    assert_eq!(swarm.orchestrator.next_deadline(), None);
}

#[test]
fn task_on_a_down_node_is_replaced_after_the_restart_delay() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm.service("web", replicated(2)).running("web.1", "web", 1, "n1").running("web.2", "web", 2, "n2");
    swarm.set_node("n1", NodeState::Down);

    let actions = swarm.round(secs(20));

    assert_eq!(desired(&actions), [(tid("web.1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(1, None, TaskState::Ready)]);
    let replacement = created_tasks(&actions)[0].id.clone();
    assert_eq!(desired(&swarm.round(secs(25))), [(replacement, TaskState::Running)]);
}

#[test]
fn drained_node_tasks_are_replaced_with_no_delay() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm.service("web", replicated(2)).running("web.1", "web", 1, "n1").running("web.2", "web", 2, "n2");
    swarm.drain("n1");

    let actions = swarm.reconcile(secs(20));

    assert_eq!(desired(&actions), [(tid("web.1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(1, None, TaskState::Running)]);
}

#[test]
fn restart_condition_decides_which_exits_are_restarted() {
    use RestartCondition as On;
    // (condition, how the task ended, replaced?)
    let cases = [
        (On::Any, TaskState::Complete, true),
        (On::Any, TaskState::Failed, true),
        (On::OnFailure, TaskState::Failed, true),
        (On::OnFailure, TaskState::Complete, false),
        (On::None, TaskState::Failed, false),
        (On::None, TaskState::Complete, false),
    ];
    for (condition, end, replaced) in cases {
        let case = format!("--restart-condition {} after {:?}", condition.as_str(), end);
        let mut swarm = Swarm::with_nodes(&["n1"]);
        swarm.service_with("web", replicated(1), policy(condition, 0, 0)).running("web.1", "web", 1, "n1");
        swarm.report("web.1", end, secs(3));

        let actions = swarm.round(secs(3));

        assert_eq!(desired(&actions), [(tid("web.1"), TaskState::Shutdown)], "{case}");
        let expected: &[_] = if replaced { &[(1, None, TaskState::Running)] } else { &[] };
        assert_eq!(created(&actions), expected, "{case}");
        // A slot left dead still counts toward the replicas: it does not come back as new.
        assert_eq!(swarm.reconcile(secs(60)), [], "{case}: the next round");
    }
}

#[test]
fn max_attempts_keeps_a_dead_slot_dead_and_not_recreated() {
    let mut swarm = Swarm::with_nodes(&["n1"]);
    swarm.service_with("web", replicated(1), policy(RestartCondition::Any, 0, 1)).running("web.1", "web", 1, "n1");

    // First failure: the one allowed restart.
    swarm.report("web.1", TaskState::Failed, secs(1));
    let actions = swarm.round(secs(1));
    assert_eq!(created(&actions), [(1, None, TaskState::Running)]);
    let second = created_tasks(&actions)[0].id.clone();
    swarm.place(&second, "n1", TaskState::Running, secs(2));

    // Second failure: attempts used up, the slot stays dead.
    swarm.report(&second.0, TaskState::Failed, secs(3));
    let actions = swarm.round(secs(3));
    assert_eq!(desired(&actions), [(second, TaskState::Shutdown)]);
    assert_eq!(created(&actions), []);
    assert_eq!(swarm.reconcile(secs(60)), [], "the dead slot is not filled with a new task");
}

/// `web.1` on `n1` fails `times` times, two seconds apart, and is replaced every time.
fn crash_loop(max_attempts: u64, times: u64) -> Swarm {
    let mut swarm = Swarm::with_nodes(&["n1"]);
    let restart = policy(RestartCondition::Any, 0, max_attempts);
    swarm.service_with("web", replicated(1), restart).running("web.1", "web", 1, "n1");
    let mut current = tid("web.1");
    for i in 0..times {
        swarm.report(&current.0, TaskState::Failed, secs(2 * i + 1));
        let actions = swarm.round(secs(2 * i + 1));
        current = created_tasks(&actions)[0].id.clone();
        swarm.place(&current, "n1", TaskState::Running, secs(2 * i + 2));
    }
    swarm
}

#[test]
fn a_crash_loop_keeps_a_bounded_restart_history() {
    // Without a limit there is nothing to count: no history at all, however long it loops.
    let swarm = crash_loop(0, 20);
    assert!(swarm.orchestrator.restarts.is_empty(), "{:?}", swarm.orchestrator.restarts);

    // With a limit, each restart is recorded; the history goes with its service.
    let mut swarm = crash_loop(100, 5);
    let lengths: Vec<usize> = swarm.orchestrator.restarts.values().map(Vec::len).collect();
    assert_eq!(lengths, [5]);
    let web = swarm.store.services.keys().next().expect("web").clone();
    swarm.apply(vec![StoreAction::RemoveService { id: web }]);
    swarm.round(secs(20));
    assert!(swarm.orchestrator.restarts.is_empty(), "{:?}", swarm.orchestrator.restarts);
}

// --- Global services ------------------------------------------------------------------------

#[test]
fn global_service_gets_one_task_per_schedulable_node() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2", "n3", "n4", "n5"]);
    swarm.set_node("n3", NodeState::Down);
    swarm.drain("n4");
    swarm.service("mon", ServiceMode::Global).task("mon.n5", "mon", 0, "n5", TaskState::Running, Instant::ZERO);

    let actions = swarm.reconcile(secs(1));

    let s = |n: &str| Some(n.to_string());
    assert_eq!(created(&actions), [(0, s("n1"), TaskState::Running), (0, s("n2"), TaskState::Running)]);
}

#[test]
fn global_service_shuts_down_its_task_on_a_drained_node() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm.global_service_running("mon", &["n1", "n2"]);
    swarm.drain("n2");

    let actions = swarm.reconcile(secs(1));

    assert_eq!(desired(&actions), [(tid("mon.n2"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [], "nothing replaces it elsewhere");
}

#[test]
fn global_task_that_failed_is_replaced_on_the_same_node_after_the_delay() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm.global_service_running("mon", &["n1", "n2"]);
    swarm.report("mon.n1", TaskState::Failed, secs(10));

    let actions = swarm.round(secs(10));

    assert_eq!(desired(&actions), [(tid("mon.n1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(0, Some("n1".to_string()), TaskState::Ready)]);
    let replacement = created_tasks(&actions)[0].id.clone();
    assert_eq!(swarm.round(secs(12)), []);
    assert_eq!(desired(&swarm.round(secs(15))), [(replacement, TaskState::Running)]);
}

// --- Service removal and the reaper ---------------------------------------------------------

#[test]
fn tasks_of_a_removed_service_get_desired_remove_and_the_reaper_deletes_dead_ones() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2"]);
    swarm.service("web", replicated(2)).running("web.1", "web", 1, "n1").task(
        "web.2",
        "web",
        2,
        "n2",
        TaskState::Failed,
        Instant::ZERO,
    );
    swarm.apply(vec![StoreAction::RemoveService { id: ServiceId("web".into()) }]);

    let actions = swarm.round(secs(1));
    let mut marked = desired(&actions);
    marked.sort();
    assert_eq!(marked, [(tid("web.1"), TaskState::Remove), (tid("web.2"), TaskState::Remove)]);
    assert_eq!(created(&actions), []);

    // The dead one goes; the running one stays until its agent reports it stopped.
    assert_eq!(removed(&swarm.round(secs(2))), [tid("web.2")]);
    assert_eq!(swarm.round(secs(3)), []);
    swarm.report("web.1", TaskState::Shutdown, secs(4));
    assert_eq!(removed(&swarm.round(secs(4))), [tid("web.1")]);
    assert!(swarm.store.tasks.is_empty());
}

#[test]
fn history_beyond_the_task_history_limit_is_deleted_oldest_first() {
    let mut swarm = Swarm::with_nodes(&["n1"]);
    swarm.service("web", replicated(1));
    // Six dead incarnations of slot 1, created at 1 s … 6 s, then the running one at 7 s.
    for i in 1..=6 {
        swarm.task(&format!("web.1-dead{i}"), "web", 1, "n1", TaskState::Failed, secs(i));
    }
    swarm.task("web.1-live", "web", 1, "n1", TaskState::Running, secs(7));
    assert_eq!(swarm.store.cluster.as_ref().unwrap().task_history_limit, 5);

    let mut reaped = removed(&swarm.reconcile(secs(8)));
    reaped.sort();

    // Seven tasks, five kept (the running one and the four newest dead ones).
    assert_eq!(reaped, [tid("web.1-dead1"), tid("web.1-dead2")]);
}

// --- Rolling update -----------------------------------------------------------------------

/// A three-slot service "web" running nginx:1.12, updated at 1 s to `image` with `update`.
fn updating(image: &str, update: UpdateConfig) -> Swarm {
    let mut swarm = Swarm::with_nodes(&["n1", "n2", "n3"]);
    swarm
        .service("web", replicated(3))
        .running("web.1", "web", 1, "n1")
        .running("web.2", "web", 2, "n2")
        .running("web.3", "web", 3, "n3");
    let mut spec = swarm.store.services[&ServiceId("web".into())].spec.clone();
    spec.task.image = image.into();
    spec.update = Some(update);
    swarm.apply(vec![StoreAction::UpdateServiceSpec { id: ServiceId("web".into()), spec, at: secs(1) }]);
    swarm
}

fn update_status(swarm: &Swarm) -> Option<UpdateStatus> {
    swarm.store.services[&ServiceId("web".into())].update_status.clone()
}

#[test]
fn stop_first_update_stops_the_old_task_before_starting_its_replacement() {
    let mut swarm = updating("nginx:1.13", UpdateConfig::default());

    // First slot: the old task stops; its replacement waits at READY until it has.
    let actions = swarm.round(secs(1));
    assert_eq!(desired(&actions), [(tid("web.1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(1, None, TaskState::Ready)]);
    let new1 = created_tasks(&actions)[0].clone();
    assert_eq!((new1.spec.image.as_str(), new1.spec_version), ("nginx:1.13", 2));
    let status = update_status(&swarm).expect("the update started");
    assert_eq!((status.state, status.message.as_str()), (UpdateState::Updating, "update in progress"));

    // The old task stopped: the new one may start; nothing more while it is not running.
    swarm.place(&new1.id, "n1", TaskState::Ready, secs(2));
    swarm.report("web.1", TaskState::Shutdown, secs(2));
    assert_eq!(desired(&swarm.round(secs(2))), [(new1.id.clone(), TaskState::Running)]);
    assert_eq!(swarm.round(secs(3)), []);

    // Once it runs, the next slot.
    swarm.report(&new1.id.0, TaskState::Running, secs(4));
    let actions = swarm.round(secs(4));
    assert_eq!(desired(&actions), [(tid("web.2"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(2, None, TaskState::Ready)]);
}

/// Runs every replacement the update makes, slot after slot, until it has none left to make.
fn run_replacements(swarm: &mut Swarm, mut now: Instant) -> Instant {
    for _ in 0..20 {
        let actions = swarm.round(now);
        for t in created_tasks(&actions) {
            swarm.place(&t.id, "n1", TaskState::Running, now);
        }
        for (id, state) in desired(&actions) {
            if state == TaskState::Shutdown && swarm.store.tasks[&id].status.state == TaskState::Running {
                swarm.report(&id.0, TaskState::Shutdown, now);
            }
        }
        now = now + Duration::from_secs(1);
    }
    now
}

#[test]
fn an_update_completes_after_the_last_replacement_ran_for_the_monitor_period() {
    let mut swarm = updating("nginx:1.13", UpdateConfig::default());
    run_replacements(&mut swarm, secs(1));
    let status = update_status(&swarm).expect("status");
    assert_eq!((status.state, status.message.as_str()), (UpdateState::Completed, "update completed"));
    assert!(status.completed_at.expect("completed") >= status.started_at.expect("started") + Duration::from_secs(5));
    let images: BTreeSet<String> = swarm
        .store
        .tasks
        .values()
        .filter(|t| t.desired_state == TaskState::Running)
        .map(|t| t.spec.image.clone())
        .collect();
    assert_eq!(images, BTreeSet::from(["nginx:1.13".to_string()]));
}

#[test]
fn a_replacement_failing_within_the_monitor_period_pauses_the_update() {
    let mut swarm = updating("nginx:broken", UpdateConfig::default());
    let actions = swarm.round(secs(1));
    let new1 = created_tasks(&actions)[0].clone();
    swarm.report("web.1", TaskState::Shutdown, secs(2));
    swarm.round(secs(2));
    swarm.place(&new1.id, "n1", TaskState::Running, secs(3));
    swarm.round(secs(3));
    swarm.report(&new1.id.0, TaskState::Failed, secs(5));
    swarm.round(secs(5));
    let status = update_status(&swarm).expect("status");
    assert_eq!(status.state, UpdateState::Paused);
    assert_eq!(status.message, format!("update paused due to failure or early termination of task {}", new1.id));
    // Slot 2 was taken when slot 1's task ran; once paused, slot 3 keeps its old task however
    // long we wait.
    run_replacements(&mut swarm, secs(6));
    assert_eq!(swarm.desired_of(&tid("web.2")), TaskState::Shutdown);
    assert_eq!(swarm.desired_of(&tid("web.3")), TaskState::Running, "web.3 is left alone");
    assert_eq!(update_status(&swarm).map(|s| s.state), Some(UpdateState::Paused));
}

#[test]
fn bad_image_update_rolls_back_to_previous_spec() {
    let config = UpdateConfig { failure_action: FailureAction::Rollback, ..UpdateConfig::default() };
    let mut swarm = updating("nginx:broken", config);
    let actions = swarm.round(secs(1));
    let new1 = created_tasks(&actions)[0].clone();
    swarm.report("web.1", TaskState::Shutdown, secs(2));
    swarm.round(secs(2));
    swarm.place(&new1.id, "n1", TaskState::Rejected, secs(3));
    swarm.round(secs(3));
    let status = update_status(&swarm).expect("status");
    assert_eq!(status.state, UpdateState::RollbackStarted);
    assert_eq!(status.message, format!("update rolled back due to failure or early termination of task {}", new1.id));
    let svc = &swarm.store.services[&ServiceId("web".into())];
    assert_eq!(svc.spec.task.image, NGINX);
    assert!(svc.previous_spec.is_none(), "an automatic rollback leaves no spec to roll back to");
    run_replacements(&mut swarm, secs(4));
    let status = update_status(&swarm).expect("status");
    assert_eq!((status.state, status.message.as_str()), (UpdateState::RollbackCompleted, "rollback completed"));
}

#[test]
fn start_first_keeps_the_old_task_running_until_its_replacement_runs() {
    let config = UpdateConfig { order: UpdateOrder::StartFirst, ..UpdateConfig::default() };
    let mut swarm = updating("nginx:1.13", config);
    let actions = swarm.round(secs(1));
    assert_eq!(desired(&actions), []);
    assert_eq!(created(&actions), [(1, None, TaskState::Running)]);
    let new1 = created_tasks(&actions)[0].clone();
    swarm.place(&new1.id, "n1", TaskState::Starting, secs(2));
    assert_eq!(desired(&swarm.round(secs(2))), [], "two tasks in slot 1 for now");
    swarm.report(&new1.id.0, TaskState::Running, secs(3));
    let actions = swarm.round(secs(3));
    assert_eq!(desired(&actions), [(tid("web.1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(2, None, TaskState::Running)]);
}

#[test]
fn parallelism_two_updates_two_slots_then_waits_the_delay() {
    let config = UpdateConfig { parallelism: 2, delay: Duration::from_secs(10), ..UpdateConfig::default() };
    let mut swarm = updating("nginx:1.13", config);
    let actions = swarm.round(secs(1));
    assert_eq!(created(&actions), [(1, None, TaskState::Ready), (2, None, TaskState::Ready)]);
    for t in created_tasks(&actions) {
        swarm.place(&t.id, "n1", TaskState::Running, secs(2));
    }
    swarm.report("web.1", TaskState::Shutdown, secs(2));
    swarm.report("web.2", TaskState::Shutdown, secs(2));
    swarm.round(secs(2));
    assert_eq!(created(&swarm.round(secs(3))), [], "the delay runs");
    assert_eq!(swarm.orchestrator.next_deadline(), Some(secs(12)));
    assert_eq!(created(&swarm.round(secs(12))), [(3, None, TaskState::Ready)]);
}

#[test]
fn a_new_leader_counts_the_slot_an_old_one_was_updating_against_the_parallelism() {
    let mut swarm = updating("nginx:1.13", UpdateConfig::default());
    let new1 = created_tasks(&swarm.round(secs(1)))[0].clone();
    // The leader changes while slot 1's replacement waits for the old task to stop.
    swarm.orchestrator = Orchestrator::new();
    let actions = swarm.round(secs(2));
    assert_eq!(created(&actions), [], "slot 1 is still in flight: parallelism 1");
    swarm.report("web.1", TaskState::Shutdown, secs(3));
    assert_eq!(desired(&swarm.round(secs(3))), [(new1.id.clone(), TaskState::Running)]);
}

#[test]
fn a_new_leader_resumes_the_update_from_the_store() {
    let mut swarm = updating("nginx:1.13", UpdateConfig::default());
    let actions = swarm.round(secs(1));
    let new1 = created_tasks(&actions)[0].clone();
    swarm.report("web.1", TaskState::Shutdown, secs(2));
    swarm.round(secs(2));
    swarm.place(&new1.id, "n1", TaskState::Running, secs(3));
    // The leader changes: the new one knows only the store.
    swarm.orchestrator = Orchestrator::new();
    // (This round's proposal is lost: the next round makes slot 2's replacement again.)
    let actions = swarm.reconcile(secs(4));
    assert_eq!(desired(&actions), [(tid("web.2"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(2, None, TaskState::Ready)]);
    swarm.orchestrator.look_at_everything(); // as the manager does when a round is lost
    run_replacements(&mut swarm, secs(5));
    assert_eq!(update_status(&swarm).map(|s| s.state), Some(UpdateState::Completed));
}

#[test]
fn global_task_that_exited_under_restart_condition_none_stays_dead() {
    let mut swarm = Swarm::with_nodes(&["n1"]);
    swarm.service_with("mon", ServiceMode::Global, policy(RestartCondition::None, 0, 0)).task(
        "mon.n1",
        "mon",
        0,
        "n1",
        TaskState::Running,
        Instant::ZERO,
    );
    swarm.report("mon.n1", TaskState::Complete, secs(3));

    let actions = swarm.round(secs(3));
    assert_eq!(desired(&actions), [(tid("mon.n1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), []);

    // swarmkit's global orchestrator counts the node as done (isTaskCompleted): no new task.
    assert_eq!(created(&swarm.reconcile(secs(4))), [], "the node's task is not recreated");
}

#[test]
fn a_round_looks_only_at_what_changed_and_a_lost_round_is_redone_by_a_full_look() {
    let mut swarm = Swarm::with_nodes(&["n1"]);
    swarm.service("web", replicated(1)).running("web.1", "web", 1, "n1");
    assert_eq!(swarm.round(secs(1)), []);
    swarm.report("web.1", TaskState::Failed, secs(2));
    // The round's proposal is lost (a leader change, a timeout): nothing was applied.
    let lost = swarm.reconcile(secs(2));
    assert_eq!(desired(&lost), [(tid("web.1"), TaskState::Shutdown)]);
    // Nothing changed since, so the next round has nothing to look at...
    assert_eq!(swarm.reconcile(secs(3)), []);
    // ...until the manager asks for a full look, which finds the same work again.
    swarm.orchestrator.look_at_everything();
    let again = swarm.reconcile(secs(3));
    assert_eq!(desired(&again), [(tid("web.1"), TaskState::Shutdown)]);
    assert_eq!(created(&again).len(), 1);
}

#[test]
fn a_global_service_should_run_one_task_per_node_that_takes_tasks() {
    let mut swarm = Swarm::with_nodes(&["n1", "n2", "n3"]);
    swarm.service("agent", ServiceMode::Global).service("web", replicated(2));
    swarm.drain("n2");
    let agent = &swarm.store.services[&ServiceId("agent".into())];
    let web = &swarm.store.services[&ServiceId("web".into())];
    assert_eq!(desired_running(&swarm.store, agent), 2, "n1 and n3; n2 is drained");
    assert_eq!(desired_running(&swarm.store, web), 2);
    // The orchestrator creates exactly that many.
    let actions = swarm.round(secs(1));
    assert_eq!(created(&actions).iter().filter(|(slot, _, _)| *slot == 0).count(), 2);
}

// --- Rolling update of a global service: one slot per node -------------------------------

/// A global service "mon" running nginx:1.12 on n1, n2 and n3, updated at 1 s to `image`.
fn updating_global(image: &str, update: UpdateConfig) -> Swarm {
    let mut swarm = Swarm::with_nodes(&["n1", "n2", "n3"]);
    swarm.global_service_running("mon", &["n1", "n2", "n3"]);
    let mut spec = swarm.store.services[&ServiceId("mon".into())].spec.clone();
    spec.task.image = image.into();
    spec.update = Some(update);
    swarm.apply(vec![StoreAction::UpdateServiceSpec { id: ServiceId("mon".into()), spec, at: secs(1) }]);
    swarm
}

fn global_status(swarm: &Swarm) -> Option<UpdateStatus> {
    swarm.store.services[&ServiceId("mon".into())].update_status.clone()
}

/// Runs every replacement a global update makes, each on its own node, for 40 rounds.
fn run_global_replacements(swarm: &mut Swarm, mut now: Instant) -> Instant {
    for _ in 0..40 {
        let actions = swarm.round(now);
        for t in created_tasks(&actions) {
            let node = t.node_id.clone().expect("a global task is made for its node");
            swarm.place(&t.id, &node.0, TaskState::Running, now);
        }
        for (id, state) in desired(&actions) {
            if state == TaskState::Shutdown && swarm.store.tasks[&id].status.state == TaskState::Running {
                swarm.report(&id.0, TaskState::Shutdown, now);
            }
        }
        now = now + Duration::from_secs(1);
    }
    now
}

fn running_images(swarm: &Swarm) -> BTreeMap<String, String> {
    swarm
        .store
        .tasks
        .values()
        .filter(|t| t.desired_state == TaskState::Running)
        .map(|t| (t.node_id.as_ref().expect("placed").0.clone(), t.spec.image.clone()))
        .collect()
}

#[test]
fn global_service_update_replaces_one_node_at_a_time() {
    let config = UpdateConfig { parallelism: 1, delay: Duration::from_secs(10), ..UpdateConfig::default() };
    let mut swarm = updating_global("nginx:1.13", config);

    // n1 first: its task stops, the replacement (made for n1) waits at READY until it has.
    let actions = swarm.round(secs(1));
    assert_eq!(desired(&actions), [(tid("mon.n1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(0, Some("n1".into()), TaskState::Ready)]);
    let new1 = created_tasks(&actions)[0].clone();
    assert_eq!((new1.spec.image.as_str(), new1.spec_version), ("nginx:1.13", 2));
    let status = global_status(&swarm).expect("the update started");
    assert_eq!((status.state, status.message.as_str()), (UpdateState::Updating, "update in progress"));

    swarm.place(&new1.id, "n1", TaskState::Ready, secs(2));
    swarm.report("mon.n1", TaskState::Shutdown, secs(2));
    assert_eq!(desired(&swarm.round(secs(2))), [(new1.id.clone(), TaskState::Running)]);
    swarm.report(&new1.id.0, TaskState::Running, secs(3));
    assert_eq!(swarm.round(secs(3)), [], "the delay runs; n2 and n3 keep the old task");
    assert_eq!(swarm.orchestrator.next_deadline(), Some(secs(13)));
    assert_eq!(swarm.round(secs(12)), []);

    // Then n2, and only n2.
    let actions = swarm.round(secs(13));
    assert_eq!(desired(&actions), [(tid("mon.n2"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(0, Some("n2".into()), TaskState::Ready)]);
    assert_eq!(swarm.desired_of(&tid("mon.n3")), TaskState::Running);
    let new2 = created_tasks(&actions)[0].clone();
    swarm.place(&new2.id, "n2", TaskState::Running, secs(13));
    swarm.report("mon.n2", TaskState::Shutdown, secs(13));

    run_global_replacements(&mut swarm, secs(14));
    let status = global_status(&swarm).expect("status");
    assert_eq!((status.state, status.message.as_str()), (UpdateState::Completed, "update completed"));
    let want: BTreeMap<String, String> =
        ["n1", "n2", "n3"].iter().map(|n| (n.to_string(), "nginx:1.13".to_string())).collect();
    assert_eq!(running_images(&swarm), want, "one task per node, all on the new image");
}

#[test]
fn global_service_start_first_update_keeps_the_nodes_old_task_until_its_replacement_runs() {
    let config = UpdateConfig { order: UpdateOrder::StartFirst, ..UpdateConfig::default() };
    let mut swarm = updating_global("nginx:1.13", config);
    let actions = swarm.round(secs(1));
    assert_eq!(desired(&actions), []);
    assert_eq!(created(&actions), [(0, Some("n1".into()), TaskState::Running)]);
    let new1 = created_tasks(&actions)[0].clone();
    swarm.place(&new1.id, "n1", TaskState::Starting, secs(2));
    assert_eq!(desired(&swarm.round(secs(2))), [], "two tasks on n1 for now");
    swarm.report(&new1.id.0, TaskState::Running, secs(3));
    let actions = swarm.round(secs(3));
    assert_eq!(desired(&actions), [(tid("mon.n1"), TaskState::Shutdown)]);
    assert_eq!(created(&actions), [(0, Some("n2".into()), TaskState::Running)]);
}

#[test]
fn global_service_update_failing_on_a_node_pauses_with_swarms_message() {
    let mut swarm = updating_global("nginx:broken", UpdateConfig::default());
    let new1 = created_tasks(&swarm.round(secs(1)))[0].clone();
    swarm.report("mon.n1", TaskState::Shutdown, secs(2));
    swarm.round(secs(2));
    swarm.place(&new1.id, "n1", TaskState::Running, secs(3));
    swarm.round(secs(3));
    swarm.report(&new1.id.0, TaskState::Failed, secs(5));
    swarm.round(secs(5));
    let status = global_status(&swarm).expect("status");
    assert_eq!(status.state, UpdateState::Paused);
    assert_eq!(status.message, format!("update paused due to failure or early termination of task {}", new1.id));
    run_global_replacements(&mut swarm, secs(6));
    assert_eq!(swarm.desired_of(&tid("mon.n3")), TaskState::Running, "mon.n3 is left alone");
    assert_eq!(global_status(&swarm).map(|s| s.state), Some(UpdateState::Paused));
}

#[test]
fn a_new_leader_resumes_a_global_update_from_the_store() {
    let mut swarm = updating_global("nginx:1.13", UpdateConfig::default());
    let new1 = created_tasks(&swarm.round(secs(1)))[0].clone();
    // The leader changes while n1's replacement waits for the old task to stop.
    swarm.orchestrator = Orchestrator::new();
    assert_eq!(created(&swarm.round(secs(2))), [], "n1 is still in flight: parallelism 1");
    swarm.report("mon.n1", TaskState::Shutdown, secs(3));
    assert_eq!(desired(&swarm.round(secs(3))), [(new1.id.clone(), TaskState::Running)]);
    swarm.place(&new1.id, "n1", TaskState::Running, secs(4));
    swarm.orchestrator = Orchestrator::new();
    run_global_replacements(&mut swarm, secs(5));
    assert_eq!(global_status(&swarm).map(|s| s.state), Some(UpdateState::Completed));
    assert_eq!(running_images(&swarm).values().filter(|i| *i == "nginx:1.13").count(), 3);
}

#[test]
fn a_global_update_moves_on_when_a_nodes_replacement_is_shut_down_before_it_ran() {
    let config = UpdateConfig { order: UpdateOrder::StartFirst, ..UpdateConfig::default() };
    let mut swarm = updating_global("nginx:1.13", config);
    let new1 = created_tasks(&swarm.round(secs(1)))[0].clone();
    swarm.apply(vec![
        StoreAction::AllocateTask { id: new1.id.clone(), networks: vec![], host_ports: vec![], at: secs(2) },
        StoreAction::AssignTask { id: new1.id.clone(), node: NodeId("n1".into()), at: secs(2) },
    ]);
    // n1 is drained before its replacement ran: both its tasks go, and the update takes n2.
    swarm.drain("n1");
    let actions = swarm.round(secs(3));
    assert_eq!(desired(&actions), [(new1.id.clone(), TaskState::Shutdown), (tid("mon.n1"), TaskState::Shutdown)]);
    assert_eq!(created(&swarm.round(secs(4))), [(0, Some("n2".into()), TaskState::Running)]);
}
