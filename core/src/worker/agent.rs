//! The agent: takes the dispatcher's assignments and drives each task
//! ASSIGNED → ACCEPTED → PREPARING → READY → STARTING → RUNNING → COMPLETE | FAILED | SHUTDOWN
//! (or REJECTED before it starts) through container commands and events, reporting every
//! observed state back. Observed state only moves forward; desired state comes from managers.

use crate::api::*;
use crate::ids::{NodeId, TaskId};
use crate::io::Output;
use crate::message::{Addr, DispatchMessage, Message, SessionMessage};
use crate::net::Directory;
use crate::runtime::{
    ContainerCommand, ContainerEvent, ContainerInfo, ContainerNetwork, ContainerSpec, ContainerState,
};
use crate::time::Instant;
use std::collections::BTreeMap;
use std::time::Duration;

/// swarmkit's StopGracePeriod default.
pub const STOP_GRACE_PERIOD: Duration = Duration::from_secs(10);
/// Agent session backoff, 100 ms doubling to 8 s.
const SESSION_BACKOFF_MIN: Duration = Duration::from_millis(100);
const SESSION_BACKOFF_MAX: Duration = Duration::from_secs(8);
/// Heartbeats with which a status report is sent again.
const RESENDS_AFTER_A_REPORT: u8 = 3;
/// Leader redirects followed at once before the agent backs off again.
const MAX_REDIRECTS_IN_A_ROW: u32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Create,
    Start,
    Stop,
    Remove,
}

struct AgentTask {
    /// The latest assignment.
    task: Task,
    /// What the agent has observed; reported to the dispatcher.
    status: TaskStatus,
    pending: Option<Pending>,
    container_created: bool,
    /// No longer assigned: remove the container, then forget the task.
    unassigned: bool,
    /// Health checks: see `HealthWatch`.
    health: HealthWatch,
}

/// What the agent knows of a task's container's health, as swarm's executor acts on it
/// (`daemon/cluster/executor/container/controller.go`): a container with a health check stays
/// STARTING until it is healthy; once unhealthy it is stopped and the task fails with
/// `task: non-zero exit (N): dockerexec: unhealthy container`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct HealthWatch {
    /// The runtime reported a health status: RUNNING waits for `Healthy`.
    checked: bool,
    /// Reported unhealthy: the container is stopped, and its exit is the health check's doing.
    unhealthy: bool,
}

use crate::api::health::UNHEALTHY_CONTAINER;

#[derive(Debug)]
enum SessionState {
    /// Waiting to (re)connect at `retry_at`.
    Disconnected {
        retry_at: Instant,
    },
    /// Register sent at `sent_at`.
    Registering {
        sent_at: Instant,
    },
    Established {
        period: Duration,
        next_heartbeat: Instant,
        ack_deadline: Option<Instant>,
    },
}

pub struct Agent {
    pub node_id: NodeId,
    managers: Vec<Addr>,
    /// The manager currently tried as the dispatcher.
    target: Addr,
    session: SessionState,
    session_seq: u64,
    backoff: Duration,
    tasks: BTreeMap<TaskId, AgentTask>,
    /// Containers this node's runtime holds, by name, as `docker ps` shows them.
    pub containers: BTreeMap<String, ContainerInfo>,
    pub directory: Directory,
    /// Status changes not yet sent.
    unreported: BTreeMap<TaskId, TaskStatus>,
    /// Set after a restart until the first assignments: containers nobody claims are removed.
    adopting: bool,
    /// Redirects followed without backoff since the last session was accepted.
    redirects_in_a_row: u32,
    /// Statuses sent recently, re-sent with the next few heartbeats: a report lost on the way
    /// is repaired (the dispatcher ignores a status it already has).
    recently_reported: BTreeMap<TaskId, (TaskStatus, u8)>,
    /// The secrets' and configs' bytes the dispatcher sent for this node's tasks.
    data: BTreeMap<(DataKind, crate::ids::DataId), DataBytes>,
}

impl Agent {
    pub fn new(node_id: NodeId, managers: Vec<Addr>, leader: Addr, now: Instant) -> Agent {
        Agent {
            node_id,
            managers,
            target: leader,
            session: SessionState::Disconnected { retry_at: now },
            session_seq: 0,
            backoff: SESSION_BACKOFF_MIN,
            tasks: BTreeMap::new(),
            containers: BTreeMap::new(),
            directory: Directory::default(),
            unreported: BTreeMap::new(),
            adopting: false,
            redirects_in_a_row: 0,
            recently_reported: BTreeMap::new(),
            data: BTreeMap::new(),
        }
    }

    /// An agent starting again beside the containers its runtime still has: assigned tasks
    /// are matched to them by name (re-adopted), the rest are cleaned up.
    pub fn restore(
        node_id: NodeId,
        managers: Vec<Addr>,
        first_contact: Addr,
        containers: Vec<ContainerInfo>,
        now: Instant,
    ) -> Agent {
        let mut agent = Agent::new(node_id, managers, first_contact, now);
        agent.containers = containers.into_iter().map(|c| (c.name.clone(), c)).collect();
        agent.adopting = true;
        agent
    }

    /// Adds a manager to try when looking for the leader (a node promoted to manager adds
    /// itself: its own manager knows where the leader is).
    pub fn add_manager(&mut self, addr: &Addr) {
        if !self.managers.contains(addr) {
            self.managers.push(*addr);
        }
    }

    /// Whether `addr` is one of the managers this agent was told about (or talks to).
    pub fn knows_manager(&self, addr: &Addr) -> bool {
        self.target == *addr || self.managers.contains(addr)
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.session, SessionState::Established { .. })
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        match &self.session {
            SessionState::Disconnected { retry_at } => Some(*retry_at),
            SessionState::Registering { sent_at } => Some(*sent_at + SESSION_BACKOFF_MAX),
            SessionState::Established { next_heartbeat, ack_deadline, .. } => {
                Some(ack_deadline.map(|d| d.min(*next_heartbeat)).unwrap_or(*next_heartbeat))
            }
        }
    }

    /// Tasks the agent drives, with their observed state (for the checkers and `ps`).
    pub fn task_states(&self) -> impl Iterator<Item = (&Task, &TaskStatus)> {
        self.tasks.values().map(|t| (&t.task, &t.status))
    }

    /// The networks a container is attached to (for DNS inside it).
    pub fn container_networks(&self, container_name: &str) -> Option<Vec<crate::ids::NetworkId>> {
        self.tasks
            .values()
            .find(|t| t.task.container_name() == container_name)
            .map(|t| t.task.networks.iter().map(|n| n.network_id.clone()).collect())
    }

    pub fn on_timer(&mut self, now: Instant, out: &mut Vec<Output>) {
        match self.session {
            SessionState::Disconnected { retry_at } if retry_at <= now => self.register(now, out),
            SessionState::Registering { sent_at } if sent_at + SESSION_BACKOFF_MAX <= now => {
                // No answer: that manager is gone or cut off; try the next one.
                self.lose_session(now);
                self.rotate_target();
            }
            SessionState::Established { period, next_heartbeat, ack_deadline } => {
                if ack_deadline.map(|d| d <= now).unwrap_or(false) {
                    // The dispatcher stopped answering: find the leader again.
                    self.lose_session(now);
                    self.rotate_target();
                } else if next_heartbeat <= now {
                    out.push(Output::Send {
                        to: self.target,
                        msg: Message::Session(SessionMessage::Heartbeat {
                            node_id: self.node_id.clone(),
                            session_seq: self.session_seq,
                        }),
                    });
                    self.resend_recent_reports(out);
                    self.session = SessionState::Established {
                        period,
                        next_heartbeat: now + period,
                        ack_deadline: Some(now + period),
                    };
                }
            }
            _ => {}
        }
    }

    fn register(&mut self, now: Instant, out: &mut Vec<Output>) {
        self.session_seq += 1;
        out.push(Output::Send {
            to: self.target,
            msg: Message::Session(SessionMessage::Register {
                node_id: self.node_id.clone(),
                session_seq: self.session_seq,
            }),
        });
        self.session = SessionState::Registering { sent_at: now };
    }

    fn lose_session(&mut self, now: Instant) {
        self.session = SessionState::Disconnected { retry_at: now + self.backoff };
        self.backoff = (self.backoff * 2).min(SESSION_BACKOFF_MAX);
    }

    fn rotate_target(&mut self) {
        if self.managers.is_empty() {
            return;
        }
        let pos = self.managers.iter().position(|m| *m == self.target).map(|p| p + 1).unwrap_or(0);
        self.target = self.managers[pos % self.managers.len()];
    }

    /// A message from a dispatcher.
    pub fn on_dispatch(&mut self, from: &Addr, msg: DispatchMessage, now: Instant, out: &mut Vec<Output>) {
        if *from != self.target {
            if let DispatchMessage::NotLeader { .. } = msg {
                return; // a stale answer from a manager we left
            }
        }
        match msg {
            DispatchMessage::SessionAccepted { session_seq, heartbeat_period, managers } => {
                if session_seq != self.session_seq {
                    return;
                }
                if !managers.is_empty() {
                    self.managers = managers;
                }
                self.backoff = SESSION_BACKOFF_MIN;
                self.redirects_in_a_row = 0;
                self.session = SessionState::Established {
                    period: heartbeat_period,
                    next_heartbeat: now + heartbeat_period,
                    ack_deadline: None,
                };
                // A new session may be with a new leader: tell it everything we observe.
                for t in self.tasks.values() {
                    self.unreported.insert(t.task.id.clone(), t.status.clone());
                }
            }
            DispatchMessage::HeartbeatAck { session_seq, heartbeat_period } => {
                if session_seq == self.session_seq {
                    if let SessionState::Established { .. } = self.session {
                        self.session = SessionState::Established {
                            period: heartbeat_period,
                            next_heartbeat: now + heartbeat_period,
                            ack_deadline: None,
                        };
                    }
                }
            }
            DispatchMessage::NotLeader { leader_addr } => match leader_addr {
                // A redirect is not a failure: follow it at once, without backing off — but
                // not forever: two managers with stale views could bounce the agent between
                // them at network speed.
                Some(addr) if addr != self.target && self.redirects_in_a_row < MAX_REDIRECTS_IN_A_ROW => {
                    self.redirects_in_a_row += 1;
                    self.target = addr;
                    self.session = SessionState::Disconnected { retry_at: now };
                }
                Some(addr) => {
                    self.target = addr;
                    self.lose_session(now);
                }
                None => {
                    self.rotate_target();
                    self.lose_session(now);
                }
            },
            DispatchMessage::UnknownNode => {
                self.lose_session(now);
                self.session = SessionState::Disconnected { retry_at: now + SESSION_BACKOFF_MAX };
            }
            DispatchMessage::Assignments { tasks, data } => {
                // Replaced whole with each assignment: what no task here uses is forgotten.
                self.data = data.into_iter().map(|d| ((d.kind, d.id), d.data)).collect();
                self.assign(tasks, now, out)
            }
            DispatchMessage::Directory(dir) => self.directory = dir,
            DispatchMessage::Managers { session_seq, managers } => {
                if session_seq == self.session_seq && !managers.is_empty() {
                    self.managers = managers;
                }
            }
        }
        self.flush(out);
    }

    fn assign(&mut self, tasks: Vec<Task>, now: Instant, out: &mut Vec<Output>) {
        let assigned: std::collections::BTreeSet<TaskId> = tasks.iter().map(|t| t.id.clone()).collect();
        for task in tasks {
            match self.tasks.get_mut(&task.id) {
                Some(existing) => {
                    existing.task = task;
                    existing.unassigned = false;
                }
                None => {
                    // A task we do not know (we restarted): start from the manager's view of
                    // its state, so nothing is reported going backwards, then square it with
                    // the container the runtime still has, if any.
                    let mut agent_task = AgentTask {
                        status: task.status.clone(),
                        task,
                        pending: None,
                        container_created: false,
                        unassigned: false,
                        health: HealthWatch::default(),
                    };
                    self.adopt(&mut agent_task, now);
                    self.tasks.insert(agent_task.task.id.clone(), agent_task);
                }
            }
        }
        for (id, t) in self.tasks.iter_mut() {
            if !assigned.contains(id) {
                t.unassigned = true;
            }
        }
        if std::mem::take(&mut self.adopting) {
            // Containers of tasks this node no longer has: stop and remove them.
            let claimed: std::collections::BTreeSet<String> =
                self.tasks.values().map(|t| t.task.container_name()).collect();
            for (name, info) in &self.containers {
                if claimed.contains(name) {
                    continue;
                }
                if matches!(info.state, ContainerState::Running { .. }) {
                    out.push(Output::Container(ContainerCommand::Kill { name: name.clone() }));
                }
                out.push(Output::Container(ContainerCommand::Remove { name: name.clone() }));
            }
        }
        self.drive_all(now, out);
    }

    /// Matches a task the agent did not know with the runtime's container of the same name.
    fn adopt(&mut self, t: &mut AgentTask, now: Instant) {
        let name = t.task.container_name();
        let observed = t.status.state;
        if observed < TaskState::Accepted || observed.is_terminal() {
            return; // nothing was started for it, or it is over
        }
        match self.containers.get(&name).map(|c| (c.state.clone(), c.id.clone(), c.health)) {
            Some((ContainerState::Running { .. }, id, health)) => {
                t.container_created = true;
                t.status.container_id = Some(id);
                t.health.checked = health.is_some();
                t.health.unhealthy = health == Some(HealthStatus::Unhealthy);
                let target = match health {
                    Some(HealthStatus::Starting | HealthStatus::Unhealthy) => TaskState::Starting,
                    Some(HealthStatus::Healthy) | None => TaskState::Running,
                };
                if observed < target {
                    let message = if target == TaskState::Running { "started" } else { "starting" };
                    set_state(t, target, now, message, &mut self.unreported);
                }
            }
            Some((ContainerState::Exited { exit_code, .. }, _, _)) => {
                t.container_created = true;
                t.status.exit_code = Some(exit_code);
                if exit_code == 0 {
                    set_state(t, TaskState::Complete, now, "finished", &mut self.unreported);
                } else {
                    t.status.err = format!("task: non-zero exit ({exit_code})");
                    set_state(t, TaskState::Failed, now, "started", &mut self.unreported);
                }
            }
            Some((ContainerState::Created, _, _)) => {
                t.container_created = true;
                if observed < TaskState::Ready {
                    set_state(t, TaskState::Ready, now, "prepared", &mut self.unreported);
                }
            }
            None if t.task.desired_state >= TaskState::Shutdown => {
                // Gone, and the managers wanted it gone anyway.
                set_state(t, TaskState::Shutdown, now, "shutdown", &mut self.unreported);
            }
            None => {
                // The container is gone (the host crashed): the task died with it.
                t.status.err = "task: container lost while the node was down".to_string();
                set_state(t, TaskState::Failed, now, "lost", &mut self.unreported);
            }
        }
    }

    /// An event from this node's container runtime.
    pub fn on_container_event(&mut self, event: ContainerEvent, now: Instant, out: &mut Vec<Output>) {
        self.record_container(&event, now);
        let name = event.name().to_string();
        let Some(id) = self.tasks.iter().find(|(_, t)| t.task.container_name() == name).map(|(id, _)| id.clone())
        else {
            self.flush(out);
            return;
        };
        let t = self.tasks.get_mut(&id).expect("found above");
        match event {
            ContainerEvent::Created { id: container_id, .. } => {
                t.pending = None;
                t.container_created = true;
                t.status.container_id = Some(container_id);
                if t.status.state < TaskState::Ready {
                    set_state(t, TaskState::Ready, now, "prepared", &mut self.unreported);
                }
            }
            ContainerEvent::CreateFailed { error, .. } => {
                t.pending = None;
                if !t.status.state.is_terminal() {
                    t.status.err = error;
                    set_state(t, TaskState::Rejected, now, "preparing", &mut self.unreported);
                }
            }
            ContainerEvent::Started { .. } => {
                t.pending = None;
                // With a health check the task stays STARTING until the container is healthy.
                if t.status.state < TaskState::Running && !t.health.checked {
                    set_state(t, TaskState::Running, now, "started", &mut self.unreported);
                }
            }
            ContainerEvent::Health { status, .. } => {
                t.health.checked = true;
                match status {
                    HealthStatus::Starting => {}
                    HealthStatus::Healthy => {
                        if t.status.state == TaskState::Starting && t.pending.is_none() && !t.health.unhealthy {
                            set_state(t, TaskState::Running, now, "started", &mut self.unreported);
                        }
                    }
                    // `drive` stops the container; its exit fails the task.
                    HealthStatus::Unhealthy => {
                        if t.status.state >= TaskState::Starting && !t.status.state.is_terminal() {
                            t.health.unhealthy = true;
                        }
                    }
                }
            }
            ContainerEvent::StartFailed { error, .. } => {
                // REJECTED is for fatal errors before STARTING; from STARTING on it is FAILED.
                t.pending = None;
                if !t.status.state.is_terminal() {
                    t.status.err = error;
                    set_state(t, TaskState::Failed, now, "starting", &mut self.unreported);
                }
            }
            ContainerEvent::Exited { exit_code, .. } => {
                if t.pending == Some(Pending::Stop) {
                    t.pending = None;
                }
                if !t.status.state.is_terminal() {
                    t.status.exit_code = Some(exit_code);
                    if t.task.desired_state >= TaskState::Shutdown {
                        set_state(t, TaskState::Shutdown, now, "shutdown", &mut self.unreported);
                    } else if exit_code == 0 {
                        set_state(t, TaskState::Complete, now, "finished", &mut self.unreported);
                    } else if t.health.unhealthy {
                        t.status.err = format!("task: non-zero exit ({exit_code}): {UNHEALTHY_CONTAINER}");
                        set_state(t, TaskState::Failed, now, "started", &mut self.unreported);
                    } else {
                        t.status.err = format!("task: non-zero exit ({exit_code})");
                        set_state(t, TaskState::Failed, now, "started", &mut self.unreported);
                    }
                }
            }
            ContainerEvent::Removed { .. } | ContainerEvent::NotFound { .. } => {
                t.pending = None;
                t.container_created = false;
                if !t.status.state.is_terminal() && t.status.state >= TaskState::Preparing {
                    t.status.err = "container removed".to_string();
                    set_state(t, TaskState::Failed, now, "removed", &mut self.unreported);
                }
            }
        }
        self.drive_all(now, out);
        self.flush(out);
    }

    fn record_container(&mut self, event: &ContainerEvent, now: Instant) {
        let name = event.name().to_string();
        match event {
            ContainerEvent::Created { id, command, exposed_ports, .. } => {
                let task = self.tasks.values().find(|t| t.task.container_name() == name).map(|t| &t.task);
                let image = task.map(|t| crate::image::with_tag(&t.spec.image)).unwrap_or_default();
                let labels = task.map(container_labels).unwrap_or_default();
                self.containers.insert(
                    name.clone(),
                    ContainerInfo {
                        id: id.clone(),
                        name,
                        image,
                        command: command.clone(),
                        created_at: now,
                        state: ContainerState::Created,
                        exposed_ports: exposed_ports.clone(),
                        health: None,
                        labels,
                    },
                );
            }
            ContainerEvent::Health { status, .. } => {
                if let Some(c) = self.containers.get_mut(&name) {
                    c.health = Some(*status);
                }
            }
            ContainerEvent::Started { .. } => {
                if let Some(c) = self.containers.get_mut(&name) {
                    c.state = ContainerState::Running { since: now };
                }
            }
            ContainerEvent::Exited { exit_code, .. } => {
                if let Some(c) = self.containers.get_mut(&name) {
                    c.state = ContainerState::Exited { exit_code: *exit_code, at: now };
                }
            }
            ContainerEvent::Removed { .. } | ContainerEvent::NotFound { .. } => {
                self.containers.remove(&name);
            }
            ContainerEvent::CreateFailed { .. } | ContainerEvent::StartFailed { .. } => {}
        }
    }

    fn drive_all(&mut self, now: Instant, out: &mut Vec<Output>) {
        let ids: Vec<TaskId> = self.tasks.keys().cloned().collect();
        for id in ids {
            let forget = {
                let t = self.tasks.get_mut(&id).expect("listed above");
                drive(t, now, out, &mut self.unreported, &self.data)
            };
            if forget {
                self.tasks.remove(&id);
                self.unreported.remove(&id);
            }
        }
    }

    fn resend_recent_reports(&mut self, out: &mut Vec<Output>) {
        if self.recently_reported.is_empty() {
            return;
        }
        let updates: Vec<(TaskId, TaskStatus)> =
            self.recently_reported.iter().map(|(id, (s, _))| (id.clone(), s.clone())).collect();
        self.recently_reported.retain(|_, (_, left)| {
            *left -= 1;
            *left > 0
        });
        out.push(Output::Send {
            to: self.target,
            msg: Message::Session(SessionMessage::UpdateTaskStatus { node_id: self.node_id.clone(), updates }),
        });
    }

    /// Sends the status changes gathered so far to the dispatcher, in one message.
    pub fn flush(&mut self, out: &mut Vec<Output>) {
        if self.unreported.is_empty() || !self.is_connected() {
            return;
        }
        let updates: Vec<(TaskId, TaskStatus)> = std::mem::take(&mut self.unreported).into_iter().collect();
        for (id, status) in &updates {
            self.recently_reported.insert(id.clone(), (status.clone(), RESENDS_AFTER_A_REPORT));
        }
        out.push(Output::Send {
            to: self.target,
            msg: Message::Session(SessionMessage::UpdateTaskStatus { node_id: self.node_id.clone(), updates }),
        });
    }
}

fn set_state(
    t: &mut AgentTask,
    state: TaskState,
    now: Instant,
    message: &str,
    unreported: &mut BTreeMap<TaskId, TaskStatus>,
) {
    debug_assert!(state >= t.status.state, "observed state moves forward: {:?} → {:?}", t.status.state, state);
    t.status.state = state;
    t.status.timestamp = now;
    t.status.message = message.to_string();
    unreported.insert(t.task.id.clone(), t.status.clone());
}

/// One step of a task's life; returns true when the agent can forget it.
fn drive(
    t: &mut AgentTask,
    now: Instant,
    out: &mut Vec<Output>,
    unreported: &mut BTreeMap<TaskId, TaskStatus>,
    data: &BTreeMap<(DataKind, crate::ids::DataId), DataBytes>,
) -> bool {
    if t.pending.is_some() {
        return false; // one container command at a time per task
    }
    let name = t.task.container_name();
    let desired = t.task.desired_state;
    if t.health.unhealthy && t.status.state >= TaskState::Starting && !t.status.state.is_terminal() {
        // The executor shuts an unhealthy container down (stop, with the grace period).
        out.push(Output::Container(ContainerCommand::Stop { name, grace: STOP_GRACE_PERIOD }));
        t.pending = Some(Pending::Stop);
        return false;
    }
    if t.unassigned || desired >= TaskState::Shutdown {
        if t.status.state == TaskState::Running
            || (t.status.state >= TaskState::Starting && !t.status.state.is_terminal())
        {
            out.push(Output::Container(ContainerCommand::Stop { name, grace: STOP_GRACE_PERIOD }));
            t.pending = Some(Pending::Stop);
            return false;
        }
        if !t.status.state.is_terminal() && !t.unassigned {
            set_state(t, TaskState::Shutdown, now, "shutdown", unreported);
        }
        if t.container_created && (t.unassigned || desired >= TaskState::Remove) {
            out.push(Output::Container(ContainerCommand::Remove { name }));
            t.pending = Some(Pending::Remove);
            return false;
        }
        return t.unassigned && !t.container_created;
    }
    match t.status.state {
        TaskState::Assigned => {
            set_state(t, TaskState::Accepted, now, "accepted", unreported);
            drive(t, now, out, unreported, data)
        }
        TaskState::Accepted => {
            set_state(t, TaskState::Preparing, now, "preparing", unreported);
            match container_files(&t.task, data) {
                Ok(files) => {
                    out.push(Output::Container(ContainerCommand::Create(Box::new(container_spec(&t.task, files)))));
                    t.pending = Some(Pending::Create);
                }
                // The executor cannot prepare a container without its files: the task is
                // rejected, as swarmkit's agent does when a secret is missing.
                Err(e) => {
                    t.status.err = e;
                    set_state(t, TaskState::Rejected, now, "preparing", unreported);
                }
            }
            false
        }
        // A job's task is desired COMPLETE: it starts as a service's does (READY is a
        // restart delay not yet run out).
        TaskState::Ready if desired == TaskState::Running || desired == TaskState::Complete => {
            set_state(t, TaskState::Starting, now, "starting", unreported);
            out.push(Output::Container(ContainerCommand::Start { name }));
            t.pending = Some(Pending::Start);
            false
        }
        _ => false,
    }
}

impl Agent {
    /// The secret or config file at `path` in the container named `container`, as its task's
    /// references and the bytes the dispatcher sent make it.
    pub fn container_file(&self, container: &str, path: &str) -> Option<crate::api::secret::ContainerFile> {
        let t = self.tasks.values().find(|t| t.task.container_name() == container)?;
        container_files(&t.task, &self.data).ok()?.into_iter().find(|f| f.path == path)
    }
}

/// The files a task's container gets for its secret and config references; an error names a
/// reference whose bytes the dispatcher did not send.
fn container_files(
    task: &Task,
    data: &BTreeMap<(DataKind, crate::ids::DataId), DataBytes>,
) -> Result<Vec<crate::api::secret::ContainerFile>, String> {
    let refs = task
        .spec
        .secrets
        .iter()
        .map(|r| (DataKind::Secret, r))
        .chain(task.spec.configs.iter().map(|r| (DataKind::Config, r)));
    refs.map(|(kind, r)| {
        let bytes = data.get(&(kind, r.id.clone())).ok_or_else(|| format!("{} {} not found", kind.as_str(), r.id))?;
        Ok(crate::api::secret::ContainerFile {
            kind,
            path: kind.path_of(&r.target),
            uid: r.uid.clone(),
            gid: r.gid.clone(),
            mode: r.mode,
            data: bytes.clone(),
        })
    })
    .collect()
}

fn container_spec(task: &Task, files: Vec<crate::api::secret::ContainerFile>) -> ContainerSpec {
    ContainerSpec {
        name: task.container_name(),
        image: task.spec.image.clone(),
        command: task.spec.command.clone(),
        env: task.spec.env.clone(),
        labels: container_labels(task),
        networks: task
            .networks
            .iter()
            .flat_map(|n| {
                n.addresses.iter().map(move |a| ContainerNetwork { network_name: n.network_id.to_string(), addr: *a })
            })
            .collect(),
        healthcheck: task.spec.healthcheck.clone(),
        files,
    }
}

/// The labels docker puts on a task's container (swarmkit's executor `labels()`).
fn container_labels(task: &Task) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert("com.docker.swarm.task.id".to_string(), task.id.to_string());
    labels.insert("com.docker.swarm.task.name".to_string(), task.name());
    labels.insert("com.docker.swarm.service.id".to_string(), task.service_id.to_string());
    labels.insert("com.docker.swarm.service.name".to_string(), task.service_name.clone());
    if let Some(n) = &task.node_id {
        labels.insert("com.docker.swarm.node.id".to_string(), n.to_string());
    }
    labels
}

#[cfg(test)]
#[path = "agent_tests.rs"]
mod tests;
