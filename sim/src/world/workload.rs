//! The workload's clients inside the event loop: each client's next operation is an event, its
//! answer is the node's `Output::Reply`, a timeout is an event, and a crash of the node it talks
//! to ends its call as unknown. So the clients run concurrently with whatever the runner does
//! (scenario steps, a chaos schedule, the wait for convergence), on the one simulated clock.

use super::{EventKind, NodeIndex, World};
use crate::workload::{HistoryEntry, Outcome, PlannedOp, WorkloadPlan, CLIENT_TIMEOUT};
use std::collections::{BTreeMap, VecDeque};
use swarm_core::control::Reply;
use swarm_core::time::Instant;

/// How long a `LoseLeader` fault waits for a client write before the leader crashes anyway.
pub const LOSE_LEADER_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The clients' state: what each has left to do, the calls in flight, the history so far.
#[derive(Default)]
pub struct Clients {
    /// A `LoseLeader` waiting for the next client write (its number, for `LoseLeaderDue`).
    lose_leader_armed: Option<u64>,
    lose_leader_count: u64,
    /// False once stopped: no client starts another operation.
    issuing: bool,
    queues: Vec<VecDeque<PlannedOp>>,
    /// Request id → the call in flight.
    in_flight: BTreeMap<u64, InFlight>,
    pub history: Vec<HistoryEntry>,
}

struct InFlight {
    op: PlannedOp,
    node: NodeIndex,
    invoked: Instant,
    /// The leader (host, term) when a write was issued: another one at its end is a leader
    /// change during the write.
    leader_at_invoke: Option<(NodeIndex, u64)>,
}

impl World {
    /// Starts the plan's clients now; each issues its first operation after its think time.
    pub fn start_workload(&mut self, plan: &WorkloadPlan) {
        let clients = self.clients.get_or_insert_with(Clients::default);
        clients.issuing = true;
        clients.queues = plan.per_client().into_iter().map(VecDeque::from).collect();
        for client in 0..clients.queues.len() {
            self.schedule_next_op(client);
        }
    }

    /// No client starts another operation; calls in flight still complete.
    pub fn stop_workload(&mut self) {
        if let Some(clients) = &mut self.clients {
            clients.issuing = false;
            clients.lose_leader_armed = None;
        }
    }

    /// Whether clients are issuing operations now.
    pub(super) fn workload_issuing(&self) -> bool {
        self.clients.as_ref().is_some_and(|c| c.issuing)
    }

    /// The leader crashes at the next client write, or after `LOSE_LEADER_WAIT`.
    pub(super) fn arm_lose_leader(&mut self) {
        let clients = self.clients.as_mut().expect("a workload runs");
        clients.lose_leader_count += 1;
        let armed = clients.lose_leader_count;
        clients.lose_leader_armed = Some(armed);
        self.schedule(self.now + LOSE_LEADER_WAIT, EventKind::LoseLeaderDue { armed });
    }

    pub(super) fn lose_leader_due(&mut self, armed: u64) {
        if self.clients.as_ref().is_some_and(|c| c.lose_leader_armed == Some(armed)) {
            self.lose_armed_leader("no client write came");
        }
    }

    fn lose_armed_leader(&mut self, why: &str) {
        if let Some(clients) = &mut self.clients {
            clients.lose_leader_armed = None;
        }
        let note = match self.leader_index() {
            Some(i) => {
                self.crash(i, true);
                format!("the leader, {}, crashed ({why})", self.hosts[i].name)
            }
            None => format!("no leader to lose ({why})"),
        };
        let line = format!("{} fault lose the leader: {note}", self.now);
        self.trace.record(&line);
    }

    /// The history so far, calls still in flight ended as unknown now (their effect may come).
    pub fn finish_workload(&mut self) -> Option<Vec<HistoryEntry>> {
        let keys: Vec<u64> = self.clients.as_ref()?.in_flight.keys().copied().collect();
        for req_id in keys {
            self.end_call(req_id, Outcome::Unknown("still in flight when the history was checked".into()));
        }
        self.clients.as_ref().map(|c| c.history.clone())
    }

    fn schedule_next_op(&mut self, client: usize) {
        let Some(clients) = &self.clients else { return };
        let Some(next) = clients.queues.get(client).and_then(|q| q.front()) else { return };
        let at = self.now + next.think;
        self.schedule(at, EventKind::ClientOp { client });
    }

    /// The client's next operation, now.
    pub(super) fn client_op(&mut self, client: usize) {
        let Some(clients) = &mut self.clients else { return };
        if !clients.issuing {
            return;
        }
        let Some(op) = clients.queues[client].pop_front() else { return };
        let Some(node) = self.host_by_name(&op.host) else { return };
        let command = op.op.command();
        let line = format!("{} workload op#{} client {} on {} invoke: {command}", self.now, op.id, client, op.host);
        self.trace.record(&line);
        if !self.hosts[node].up {
            // docker's client finds no daemon: nothing was sent, a definite failure.
            let entry = HistoryEntry {
                id: op.id,
                client,
                host: op.host.clone(),
                op: op.op.clone(),
                invoked: self.now,
                completed: self.now,
                outcome: Outcome::Failed(
                    "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
                        .into(),
                ),
            };
            self.record_entry(entry);
            self.schedule_next_op(client);
            return;
        }
        let request = match swarm_core::cli::parse(&command) {
            Ok(invocation) => invocation.request,
            Err(e) => panic!("the workload's own command does not parse: {command}: {e}"),
        };
        let is_write = op.op.is_write();
        let leader_at_invoke = if is_write { self.leader_and_term() } else { None };
        let req_id = self.next_req_id;
        let invoked = self.now;
        self.clients
            .as_mut()
            .expect("checked above")
            .in_flight
            .insert(req_id, InFlight { op, node, invoked, leader_at_invoke });
        let submitted = self.submit(node, request);
        debug_assert_eq!(submitted, req_id, "the request id was the next one");
        // Only a write still in flight: one the daemon answered at once (a worker's refusal, a
        // single manager's local commit) is over before any crash.
        let in_flight = self.clients.as_ref().is_some_and(|c| c.in_flight.contains_key(&req_id));
        if is_write && in_flight && self.clients.as_ref().is_some_and(|c| c.lose_leader_armed.is_some()) {
            self.lose_armed_leader("a client write is in flight");
        }
        if self.clients.as_ref().is_some_and(|c| c.in_flight.contains_key(&req_id)) {
            self.schedule(self.now + CLIENT_TIMEOUT, EventKind::ClientTimeout { req_id });
        }
    }

    /// A reply to a workload call: true when it was one (the caller then keeps it out of the
    /// replies the runner collects).
    pub(super) fn client_reply(&mut self, req_id: u64, reply: &Reply) -> bool {
        if !self.clients.as_ref().is_some_and(|c| c.in_flight.contains_key(&req_id)) {
            return false;
        }
        self.end_call(req_id, Outcome::of_reply(reply));
        true
    }

    pub(super) fn client_timeout(&mut self, req_id: u64) {
        if self.clients.as_ref().is_some_and(|c| c.in_flight.contains_key(&req_id)) {
            let why = format!("no answer within {}s", CLIENT_TIMEOUT.as_secs());
            self.end_call(req_id, Outcome::Unknown(why));
        }
    }

    /// The host went down: the calls its daemon held end unknown for their clients.
    pub(super) fn clients_lose_node(&mut self, node: NodeIndex) {
        let Some(clients) = &self.clients else { return };
        let lost: Vec<u64> = clients.in_flight.iter().filter(|(_, f)| f.node == node).map(|(k, _)| *k).collect();
        for req_id in lost {
            self.end_call(req_id, Outcome::Unknown("the node went down before it answered".into()));
        }
    }

    fn end_call(&mut self, req_id: u64, outcome: Outcome) {
        let Some(call) = self.clients.as_mut().and_then(|c| c.in_flight.remove(&req_id)) else { return };
        if call.leader_at_invoke.is_some() && self.leader_and_term() != call.leader_at_invoke {
            self.sometimes.insert("leader-change-during-write".into());
        }
        let client = call.op.client;
        let entry = HistoryEntry {
            id: call.op.id,
            client,
            host: call.op.host,
            op: call.op.op,
            invoked: call.invoked,
            completed: self.now,
            outcome,
        };
        self.record_entry(entry);
        self.schedule_next_op(client);
    }

    fn record_entry(&mut self, entry: HistoryEntry) {
        let line = format!("{} workload op#{} {}", self.now, entry.id, entry.outcome.summary());
        self.trace.record(&line);
        self.clients.as_mut().expect("a workload runs").history.push(entry);
    }

    /// The current leader's host and term.
    fn leader_and_term(&self) -> Option<(NodeIndex, u64)> {
        let i = self.leader_index()?;
        self.hosts[i].node.observe().manager().map(|m| (i, m.term()))
    }
}
