//! The agent, driven as the dispatcher and the container runtime drive it: assignments in,
//! container events in; container commands and status reports out.
//!
//! Within one input the agent may pass several states (ASSIGNED → ACCEPTED → PREPARING on an
//! assignment, READY → STARTING on `Created`); like swarmkit's reporter it sends the latest
//! status per task, so each step below checks the state the agent ends in and reports.

use super::*;
use crate::ids::ServiceId;
use crate::test_support::{secs, sends_and_commands};
use core::net::Ipv4Addr;

const LEADER: Addr = Addr::on_cluster_port(Ipv4Addr::new(10, 0, 0, 1));

/// What one input made the agent do.
#[derive(Debug, Default)]
struct Step {
    /// Container commands, as `verb container-name`.
    commands: Vec<String>,
    /// Status reports sent to the dispatcher, in order.
    reported: Vec<(TaskId, TaskStatus)>,
}

impl Step {
    fn reported_states(&self) -> Vec<(&str, TaskState)> {
        self.reported.iter().map(|(id, s)| (id.as_str(), s.state)).collect()
    }
}

/// An agent on node `n1` with a session established with the leader.
struct Worker {
    agent: Agent,
    now: Instant,
}

impl Worker {
    fn connected() -> Worker {
        Worker::connect(Agent::new(NodeId("n1".into()), vec![LEADER], LEADER, Instant::ZERO))
    }

    fn connect(mut agent: Agent) -> Worker {
        let mut outputs = Vec::new();
        let now = agent.next_deadline().expect("a new agent registers at once");
        agent.on_timer(now, &mut outputs);
        let (out, _) = sends_and_commands(outputs);
        assert!(matches!(out[..], [(_, Message::Session(SessionMessage::Register { session_seq: 1, .. }))]), "{out:?}");
        let accepted = DispatchMessage::SessionAccepted {
            session_seq: 1,
            heartbeat_period: Duration::from_secs(5),
            managers: vec![],
        };
        agent.on_dispatch(&LEADER, accepted, now, &mut Vec::new());
        assert!(agent.is_connected());
        Worker { agent, now }
    }

    /// The dispatcher sends the node's full set of tasks, one second later.
    fn assign(&mut self, tasks: &[&Task]) -> Step {
        self.now = self.now + Duration::from_secs(1);
        let mut outputs = Vec::new();
        let msg = DispatchMessage::Assignments { tasks: tasks.iter().map(|t| (*t).clone()).collect(), data: vec![] };
        self.agent.on_dispatch(&LEADER, msg, self.now, &mut outputs);
        let (out, commands) = sends_and_commands(outputs);
        step(out, commands)
    }

    /// The runtime reports an event, one second later.
    fn event(&mut self, event: ContainerEvent) -> Step {
        self.now = self.now + Duration::from_secs(1);
        let mut outputs = Vec::new();
        self.agent.on_container_event(event, self.now, &mut outputs);
        let (out, commands) = sends_and_commands(outputs);
        step(out, commands)
    }

    fn status(&self, id: &str) -> Option<TaskStatus> {
        self.agent.task_states().find(|(t, _)| t.id.as_str() == id).map(|(_, s)| s.clone())
    }

    fn observed(&self, id: &str) -> Option<TaskState> {
        self.status(id).map(|s| s.state)
    }

    /// Brings `task` (desired Running) to RUNNING through the usual events.
    fn run(&mut self, task: &Task) {
        self.assign(&[task]);
        self.event(created(task));
        self.event(started(task));
        assert_eq!(self.observed(task.id.as_str()), Some(TaskState::Running));
    }
}

fn step(out: Vec<(Addr, Message)>, commands: Vec<ContainerCommand>) -> Step {
    let mut reported = Vec::new();
    for (to, msg) in out {
        assert_eq!(to, LEADER);
        if let Message::Session(SessionMessage::UpdateTaskStatus { node_id, updates }) = msg {
            assert_eq!(node_id.as_str(), "n1");
            reported.extend(updates);
        }
    }
    Step { commands: commands.iter().map(describe).collect(), reported }
}

fn describe(c: &ContainerCommand) -> String {
    match c {
        ContainerCommand::Create(spec) => format!("create {}", spec.name),
        ContainerCommand::Start { name } => format!("start {name}"),
        ContainerCommand::Stop { name, grace } => {
            assert_eq!(*grace, STOP_GRACE_PERIOD);
            format!("stop {name}")
        }
        ContainerCommand::Kill { name } => format!("kill {name}"),
        ContainerCommand::Remove { name } => format!("remove {name}"),
    }
}

/// Task `id` of service `web`, slot 1, on `n1`: ASSIGNED, desired `desired`. Its container is
/// `web.1.<id>`.
fn task(id: &str, desired: TaskState) -> Task {
    Task {
        id: TaskId(id.into()),
        service_id: ServiceId("web".into()),
        service_name: "web".into(),
        slot: 1,
        node_id: Some(NodeId("n1".into())),
        spec: TaskTemplate::for_image("nginx"),
        spec_version: 1,
        host_ports: vec![],
        desired_state: desired,
        status: TaskStatus::new(TaskState::Assigned, Instant::ZERO, "scheduler assigned task to node"),
        networks: vec![],
        created_at: Instant::ZERO,
        job_iteration: None,
    }
}

/// The same task as the managers see it now: desired state changed.
fn with_desired(task: &Task, desired: TaskState) -> Task {
    Task { desired_state: desired, ..task.clone() }
}

fn container_id(task: &Task) -> String {
    format!("{:0>64}", task.id.as_str())
}

fn created(task: &Task) -> ContainerEvent {
    ContainerEvent::Created {
        name: task.container_name(),
        id: container_id(task),
        command: "nginx -g 'daemon off;'".into(),
        exposed_ports: vec!["80/tcp".into()],
    }
}

fn started(task: &Task) -> ContainerEvent {
    ContainerEvent::Started { name: task.container_name() }
}

fn exited(task: &Task, exit_code: i32) -> ContainerEvent {
    ContainerEvent::Exited { name: task.container_name(), exit_code }
}

fn removed(task: &Task) -> ContainerEvent {
    ContainerEvent::Removed { name: task.container_name() }
}

// --- The way up -------------------------------------------------------------------------

#[test]
fn assigned_task_is_created_then_started_and_reported_at_each_step() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    let name = "web.1.t1";

    // ASSIGNED → ACCEPTED → PREPARING: the container is created.
    let s = w.assign(&[&t]);
    assert_eq!(s.commands, [format!("create {name}")]);
    assert_eq!(s.reported_states(), [("t1", TaskState::Preparing)]);

    // Created: READY, and since desired is RUNNING, STARTING at once.
    let s = w.event(created(&t));
    assert_eq!(s.commands, [format!("start {name}")]);
    assert_eq!(s.reported_states(), [("t1", TaskState::Starting)]);
    assert_eq!(w.status("t1").unwrap().container_id, Some(container_id(&t)));

    // Started: RUNNING.
    let s = w.event(started(&t));
    assert_eq!(s.commands, Vec::<String>::new());
    assert_eq!(s.reported_states(), [("t1", TaskState::Running)]);
    assert!(matches!(w.agent.containers[name].state, ContainerState::Running { .. }));
    assert_eq!(w.agent.containers[name].image, "nginx:latest");
}

#[test]
fn create_command_carries_the_task_name_image_and_swarm_labels() {
    let mut w = Worker::connected();
    let mut outputs = Vec::new();
    let msg = DispatchMessage::Assignments { tasks: vec![task("t1", TaskState::Running)], data: vec![] };
    w.agent.on_dispatch(&LEADER, msg, secs(1), &mut outputs);
    let (_, commands) = sends_and_commands(outputs);

    let [ContainerCommand::Create(spec)] = &commands[..] else { panic!("{commands:?}") };
    assert_eq!(spec.name, "web.1.t1");
    assert_eq!(spec.image, "nginx");
    assert_eq!(spec.labels["com.docker.swarm.task.id"], "t1");
    assert_eq!(spec.labels["com.docker.swarm.task.name"], "web.1");
    assert_eq!(spec.labels["com.docker.swarm.service.name"], "web");
    assert_eq!(spec.labels["com.docker.swarm.node.id"], "n1");
}

#[test]
fn task_desired_ready_is_prepared_but_not_started_until_desired_running() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Ready);

    assert_eq!(w.assign(&[&t]).commands, ["create web.1.t1"]);
    let s = w.event(created(&t));
    assert_eq!(s.commands, Vec::<String>::new(), "held at READY for the restart delay");
    assert_eq!(s.reported_states(), [("t1", TaskState::Ready)]);

    let s = w.assign(&[&with_desired(&t, TaskState::Running)]);
    assert_eq!(s.commands, ["start web.1.t1"]);
    assert_eq!(s.reported_states(), [("t1", TaskState::Starting)]);
}

#[test]
fn create_failure_rejects_the_task_with_the_error() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    w.assign(&[&t]);

    let s =
        w.event(ContainerEvent::CreateFailed { name: t.container_name(), error: "No such image: nginx:latest".into() });

    assert_eq!(s.commands, Vec::<String>::new());
    assert_eq!(s.reported_states(), [("t1", TaskState::Rejected)]);
    assert_eq!(s.reported[0].1.err, "No such image: nginx:latest");
}

// --- The way down -----------------------------------------------------------------------

#[test]
fn container_exit_while_desired_running_ends_the_task_by_exit_code() {
    // (exit code, end state, error)
    let cases = [
        (137, TaskState::Failed, "task: non-zero exit (137)"),
        (1, TaskState::Failed, "task: non-zero exit (1)"),
        (0, TaskState::Complete, ""),
    ];
    for (code, end, err) in cases {
        let mut w = Worker::connected();
        let t = task("t1", TaskState::Running);
        w.run(&t);

        let s = w.event(exited(&t, code));

        assert_eq!(s.commands, Vec::<String>::new(), "exit {code}: the managers decide about restarts");
        assert_eq!(s.reported_states(), [("t1", end)], "exit {code}");
        assert_eq!(s.reported[0].1.err, err, "exit {code}");
        assert_eq!(s.reported[0].1.exit_code, Some(code));
    }
}

#[test]
fn desired_shutdown_stops_a_running_task_then_reports_shutdown() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    w.run(&t);

    let s = w.assign(&[&with_desired(&t, TaskState::Shutdown)]);
    assert_eq!(s.commands, ["stop web.1.t1"]);
    assert_eq!(s.reported, []);

    // SIGTERM's exit is not a failure: the managers asked for it.
    let s = w.event(exited(&t, 143));
    assert_eq!(s.reported_states(), [("t1", TaskState::Shutdown)]);
    assert_eq!(s.reported[0].1.err, "");
    assert_eq!(s.commands, Vec::<String>::new(), "the stopped container is kept while the task is assigned");
}

#[test]
fn task_removed_from_the_assignments_has_its_container_removed_and_is_forgotten() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    w.run(&t);
    w.assign(&[&with_desired(&t, TaskState::Shutdown)]);
    w.event(exited(&t, 143));

    let s = w.assign(&[]);
    assert_eq!(s.commands, ["remove web.1.t1"]);

    let s = w.event(removed(&t));
    assert_eq!(s.commands, Vec::<String>::new());
    assert_eq!(w.observed("t1"), None, "forgotten");
    assert!(w.agent.containers.is_empty());
}

#[test]
fn running_task_removed_from_the_assignments_is_stopped_then_removed() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    w.run(&t);

    assert_eq!(w.assign(&[]).commands, ["stop web.1.t1"]);
    assert_eq!(w.event(exited(&t, 143)).commands, ["remove web.1.t1"]);
    w.event(removed(&t));

    assert_eq!(w.agent.task_states().count(), 0);
}

#[test]
fn desired_remove_removes_the_container_of_a_dead_task() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    w.run(&t);
    w.event(exited(&t, 137));

    assert_eq!(w.assign(&[&with_desired(&t, TaskState::Remove)]).commands, ["remove web.1.t1"]);
}

// --- Restart of the agent -----------------------------------------------------------------

#[test]
fn restored_agent_readopts_running_containers_by_name_and_fails_tasks_whose_container_is_gone() {
    let alive = task("alive", TaskState::Running);
    let lost = task("lost", TaskState::Running);
    let info = |name: &str, id: &str| ContainerInfo {
        id: id.into(),
        name: name.into(),
        image: "nginx:latest".into(),
        command: "nginx".into(),
        created_at: Instant::ZERO,
        state: ContainerState::Running { since: Instant::ZERO },
        exposed_ports: vec![],
        health: None,
        labels: Default::default(),
    };
    let containers = vec![info(&alive.container_name(), "c-alive"), info("old.1.stray", "c-stray")];
    let agent = Agent::restore(NodeId("n1".into()), vec![LEADER], LEADER, containers, secs(100));
    let mut w = Worker::connect(agent);
    let as_running =
        |t: &Task| Task { status: TaskStatus::new(TaskState::Running, Instant::ZERO, "started"), ..t.clone() };

    let s = w.assign(&[&as_running(&alive), &as_running(&lost)]);

    // The live container is taken back as it is; nobody claims the stray one.
    assert_eq!(s.commands, ["kill old.1.stray", "remove old.1.stray"]);
    assert_eq!(w.observed("alive"), Some(TaskState::Running));
    assert_eq!(w.status("alive").unwrap().container_id.as_deref(), Some("c-alive"));
    assert_eq!(s.reported_states(), [("lost", TaskState::Failed)]);
    assert_eq!(s.reported[0].1.err, "task: container lost while the node was down");

    // The adopted task goes on as any other: its container's exit is seen.
    let s = w.event(exited(&alive, 137));
    assert_eq!(s.reported_states(), [("alive", TaskState::Failed)]);
}

#[test]
fn start_failure_fails_the_task_with_the_error() {
    // swarmkit's exec.Do: a fatal error at STARTING or later is FAILED; REJECTED is only for
    // errors before STARTING (the create/pull failure).
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    w.assign(&[&t]);
    w.event(created(&t));
    assert_eq!(w.observed("t1"), Some(TaskState::Starting));

    let s =
        w.event(ContainerEvent::StartFailed { name: t.container_name(), error: "OCI runtime create failed".into() });

    assert_eq!(s.reported_states(), [("t1", TaskState::Failed)]);
    assert_eq!(s.reported[0].1.err, "OCI runtime create failed");
}

// --- Health checks ------------------------------------------------------------------------

fn health(task: &Task, status: HealthStatus) -> ContainerEvent {
    ContainerEvent::Health { name: task.container_name(), status }
}

/// Brings `task` to a started container with a health check: STARTING, health starting.
fn start_with_health_check(w: &mut Worker, task: &Task) {
    w.assign(&[task]);
    w.event(created(task));
    w.event(health(task, HealthStatus::Starting));
    let s = w.event(started(task));
    assert!(s.reported_states().is_empty(), "{:?}", s.reported);
    assert_eq!(w.observed(task.id.as_str()), Some(TaskState::Starting), "not running before it is healthy");
}

#[test]
fn a_task_with_a_health_check_is_running_only_once_healthy() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    start_with_health_check(&mut w, &t);
    assert_eq!(w.agent.containers["web.1.t1"].health, Some(HealthStatus::Starting));
    let s = w.event(health(&t, HealthStatus::Healthy));
    assert_eq!(s.reported_states(), [("t1", TaskState::Running)]);
    assert_eq!(w.agent.containers["web.1.t1"].health, Some(HealthStatus::Healthy));
}

#[test]
fn an_unhealthy_container_is_stopped_and_its_task_fails_with_swarms_words() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    start_with_health_check(&mut w, &t);
    w.event(health(&t, HealthStatus::Healthy));
    let s = w.event(health(&t, HealthStatus::Unhealthy));
    assert_eq!(s.commands, ["stop web.1.t1"]);
    assert!(s.reported_states().is_empty(), "still running until the container exits");
    let s = w.event(exited(&t, 143));
    assert_eq!(s.reported_states(), [("t1", TaskState::Failed)]);
    assert_eq!(w.status("t1").unwrap().err, "task: non-zero exit (143): dockerexec: unhealthy container");
}

#[test]
fn a_container_unhealthy_before_it_was_ever_healthy_fails_from_starting() {
    let mut w = Worker::connected();
    let t = task("t1", TaskState::Running);
    start_with_health_check(&mut w, &t);
    assert_eq!(w.event(health(&t, HealthStatus::Unhealthy)).commands, ["stop web.1.t1"]);
    w.event(exited(&t, 137));
    assert_eq!(w.observed("t1"), Some(TaskState::Failed));
    assert_eq!(w.status("t1").unwrap().err, "task: non-zero exit (137): dockerexec: unhealthy container");
}

#[test]
fn create_command_carries_the_services_health_check() {
    let mut w = Worker::connected();
    let mut t = task("t1", TaskState::Running);
    t.spec.healthcheck = Some(HealthConfig::shell("test -e /tmp/ok"));
    let mut outputs = Vec::new();
    w.agent.on_dispatch(&LEADER, DispatchMessage::Assignments { tasks: vec![t], data: vec![] }, secs(1), &mut outputs);
    let (_, commands) = sends_and_commands(outputs);
    let [ContainerCommand::Create(spec)] = &commands[..] else { panic!("{commands:?}") };
    assert_eq!(spec.healthcheck, Some(HealthConfig::shell("test -e /tmp/ok")));
}

/// Where the agent registers after its session with `Worker::connected`'s leader times out.
fn next_register_target(worker: &mut Worker) -> Addr {
    let deadline = worker.agent.next_deadline().expect("an established session heartbeats");
    let mut outputs = Vec::new();
    // The heartbeat goes out; nobody acks it; the ack deadline passes; the agent backs off and
    // registers with the next manager it knows.
    worker.agent.on_timer(deadline, &mut outputs);
    let mut now = deadline;
    for _ in 0..10 {
        now = worker.agent.next_deadline().expect("a lost session retries");
        let mut outputs = Vec::new();
        worker.agent.on_timer(now, &mut outputs);
        let (out, _) = sends_and_commands(outputs);
        if let Some((to, _)) = out.iter().find(|(_, m)| matches!(m, Message::Session(SessionMessage::Register { .. })))
        {
            return *to;
        }
    }
    panic!("no register within ten timers after {now:?}");
}

#[test]
fn a_worker_told_of_new_managers_on_its_session_looks_for_the_leader_there_when_its_manager_dies() {
    let other = Addr::on_cluster_port(Ipv4Addr::new(10, 0, 0, 2));
    let mut worker = Worker::connected();
    let told = DispatchMessage::Managers { session_seq: 1, managers: vec![LEADER, other] };
    worker.agent.on_dispatch(&LEADER, told, worker.now, &mut Vec::new());
    assert_eq!(next_register_target(&mut worker), other);
}

#[test]
fn a_manager_list_from_an_older_session_is_ignored() {
    let other = Addr::on_cluster_port(Ipv4Addr::new(10, 0, 0, 2));
    let mut worker = Worker::connected();
    let stale = DispatchMessage::Managers { session_seq: 0, managers: vec![other] };
    worker.agent.on_dispatch(&LEADER, stale, worker.now, &mut Vec::new());
    // Still only the leader it joined through: it retries there.
    assert_eq!(next_register_target(&mut worker), LEADER);
}
