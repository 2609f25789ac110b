//! One swarm node as a sans-IO state machine.
//!
//! ```text
//! node.handle(now, Input)      // a message, a timer, a container event, a client request
//! node.drain_outputs()         // messages to send, container commands, writes to persist, replies
//! node.next_deadline()         // when to call handle(now, Input::Timer) next
//! ```
//! Contract for drivers: carry out outputs in order. A `Persist` must be durable before any
//! `Send` that follows it (Raft's persist-before-send rule). Time must never go backwards.

mod door;
mod local;
mod membership;
mod reads;

pub use door::{JoinGrant, ManagerGauges, NodeGauges};

use crate::api::*;
use crate::control::errors::{JOIN_TIMED_OUT, NOT_A_MANAGER_RPC, NOT_A_MANAGER_WORKER, NOT_IN_SWARM, NO_LEADER_ERROR};
use crate::control::{ApiError, Request, Response};
use crate::docker_version::DockerVersion;
use crate::ids::{NetworkId, NodeId};
pub use crate::io::{Input, Output, Reply};
use crate::manager::{Manager, Origin};
use crate::message::{Addr, DispatchMessage, JoinRefused, Message};
use crate::net::{Route, RoutingMesh};
use crate::persist::{DiskState, Identity};
use crate::runtime::{ContainerEvent, ContainerInfo};
use crate::time::Instant;
use crate::worker::agent::Agent;
use core::net::Ipv4Addr;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

pub use crate::message::CLUSTER_PORT;
/// How long `swarm join` waits before answering (docker: 20 s).
const JOIN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a follower waits for the leader to answer a forwarded write.
/// docker's deadline on a control call it makes to swarmkit (moby `swarmRequestTimeout`).
const FORWARD_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a manager may have had no leader before a control call fails at once instead of
/// waiting for one (swarmkit raft `lostQuorumTimeout`: 10 ticks of 1 s).
const LOST_QUORUM_TIMEOUT: Duration = Duration::from_secs(10);
/// A control call that ran out of docker's deadline, as the CLI prints the gRPC error.
const DEADLINE_EXCEEDED: &str = "rpc error: code = DeadlineExceeded desc = context deadline exceeded";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    pub hostname: String,
    /// Non-loopback interfaces, in the order the host lists them.
    pub interfaces: Vec<(String, Ipv4Addr)>,
    pub resources: Resources,
    pub engine_version: String,
    pub engine_labels: BTreeMap<String, String>,
    /// The docker this daemon behaves as, where swarm's behaviour changed between versions.
    pub docker_version: DockerVersion,
}

/// A read a follower forwarded while this node led without being caught up.
struct HeldRead {
    from: Addr,
    request_id: u64,
    request: Request,
    asker: NodeId,
    asker_addr: Addr,
}

enum Pending {
    Join {
        req_id: u64,
        deadline: Instant,
    },
    Forward {
        req_id: u64,
        deadline: Instant,
    },
    /// A control call on a manager that has had no leader for less than `LOST_QUORUM_TIMEOUT`:
    /// it waits for one (swarmkit's `LeaderConn` polls), until docker's deadline.
    AwaitLeader {
        req_id: u64,
        request: Box<Request>,
        deadline: Instant,
    },
}

impl Pending {
    fn deadline(&self) -> Instant {
        match self {
            Pending::Join { deadline, .. }
            | Pending::Forward { deadline, .. }
            | Pending::AwaitLeader { deadline, .. } => *deadline,
        }
    }
}

enum Membership {
    Outside,
    Joining { request_id: u64, token: String, advertise_addr: Addr },
    Member(Member),
}

pub struct Member {
    pub node_id: NodeId,
    pub advertise_addr: Addr,
    // Manager and agent are boxed: they are most of a member's size (a manager's Raft, store
    // and controllers; an agent's tasks and directory), and `Membership`'s other states are small.
    pub manager: Option<Box<Manager>>,
    pub agent: Box<Agent>,
}

/// Counters a driver or checker may read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    pub messages_dropped: u64,
}

pub struct Node {
    pub config: NodeConfig,
    rng: ChaCha8Rng,
    /// `bridge`, `docker_gwbridge`, `host` (and `none` in 20.10): the daemon's own networks.
    pub local_networks: Vec<Network>,
    membership: Membership,
    outputs: Vec<Output>,
    pending: BTreeMap<u64, Pending>,
    next_request_id: u64,
    mesh: RoutingMesh,
    pub stats: NodeStats,
    planted: crate::planted::Planted,
    /// The digest of the cluster's real root CA certificate, when the driver made one
    /// (`set_root_ca_digest`); `None`: `swarm init` draws a stand-in from the node's RNG.
    root_ca_digest: Option<String>,
    /// The latest time a driver handed in: every deadline and timeout in core assumes time
    /// never goes backwards, so `handle` asserts it at the door.
    last_now: Instant,
    /// Since when this manager has known no leader (swarmkit counts `ticksWithNoLeader`):
    /// past `LOST_QUORUM_TIMEOUT`, control calls fail at once.
    no_leader_since: Option<Instant>,
    /// Reads followers forwarded to this node while it was a leader not yet caught up
    /// (`Manager::is_leader_caught_up`): answered once it is, or refused if it loses the lead.
    held_reads: Vec<HeldRead>,
    /// What the node serves (ports, VIPs, remote addresses), for a driver that asked.
    serving: crate::serve::Serving,
}

impl Node {
    pub fn new(config: NodeConfig, seed: u64) -> Node {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut own_networks = vec![
            ("bridge", NetworkDriver::Bridge),
            ("docker_gwbridge", NetworkDriver::Bridge),
            ("host", NetworkDriver::Host),
        ];
        // Real 20.10 lists `none` (driver `null`) too. docker 1.12 had it as well, but the
        // tutorial's `network ls` shows only the three above, and the 1.12 profile prints the
        // tutorial; `none` comes last so that the IDs drawn for the others do not change.
        if config.docker_version == DockerVersion::V20_10 {
            own_networks.push(("none", NetworkDriver::Null));
        }
        let local_networks = own_networks
            .into_iter()
            .map(|(name, driver)| Network {
                labels: Default::default(),
                attachable: false,
                id: NetworkId(local_network_id(&mut rng)),
                name: name.to_string(),
                driver,
                scope: NetworkScope::Local,
                subnet: None,
                ingress: false,
                created_at: Instant::ZERO,
            })
            .collect();
        Node {
            config,
            rng,
            local_networks,
            membership: Membership::Outside,
            outputs: Vec::new(),
            pending: BTreeMap::new(),
            next_request_id: 1,
            mesh: RoutingMesh::default(),
            stats: NodeStats::default(),
            planted: crate::planted::Planted::default(),
            root_ca_digest: None,
            last_now: Instant::ZERO,
            no_leader_since: None,
            held_reads: Vec::new(),
            serving: crate::serve::Serving::default(),
        }
    }

    /// Where a connection a task opened to a service's VIP goes (a driver that serves VIPs asks;
    /// core picks the task, round-robin).
    pub fn route_vip(&mut self, vip: Ipv4Addr, port: u16) -> Result<Route, String> {
        let directory = self.agent().map(|a| a.directory.clone()).ok_or_else(|| "not in a swarm".to_string())?;
        self.mesh.route_vip(&directory, vip, port)
    }

    /// The sha256 digest (`tokens::ca_digest`) of the root CA certificate a driver created for
    /// the next `swarm init` (swarmd does, with a real CA): the cluster record and the join
    /// tokens carry it, so a joining node can check the CA it is shown against its token. The
    /// simulator makes no CA and keeps the deterministic stand-in.
    pub fn set_root_ca_digest(&mut self, digest: String) {
        debug_assert_eq!(digest.len(), 50, "tokens::ca_digest's form: 50 base-36 characters");
        self.root_ca_digest = Some(digest);
    }

    /// A node starting again after a crash, a `kill -9` or a clean stop: it finds its identity
    /// and Raft state on `disk`, and the containers its runtime still has (none after a host
    /// crash; exited ones after dockerd's clean stop; running ones after swarmd's, which keeps them). `seed` should differ from
    /// the first life's, as a restarted process draws new randomness.
    pub fn restart(
        config: NodeConfig,
        seed: u64,
        disk: &DiskState,
        containers: Vec<ContainerInfo>,
        now: Instant,
    ) -> Node {
        Self::restart_planted(config, seed, disk, containers, now, crate::planted::Planted::default())
    }

    /// `restart` with a planted bug switched on from the first instant (the simulator's; a bug
    /// in reading the disk back must be on before the disk is read).
    pub fn restart_planted(
        config: NodeConfig,
        seed: u64,
        disk: &DiskState,
        containers: Vec<ContainerInfo>,
        now: Instant,
        planted: crate::planted::Planted,
    ) -> Node {
        let mut node = Node::new(config, seed);
        node.last_now = now;
        node.planted = planted;
        let Some(identity) = &disk.identity else { return node };
        let manager = identity.raft_id.map(|id| {
            let mut manager = Manager::restore(
                id,
                identity.advertise_addr,
                &identity.managers,
                &disk.raft,
                now,
                &mut node.rng,
                planted,
            );
            manager.behave_as(node.config.docker_version);
            Box::new(manager)
        });
        let managers: Vec<Addr> = identity.managers.iter().map(|(_, a)| *a).collect();
        let first_contact = if identity.raft_id.is_some() {
            identity.advertise_addr
        } else {
            managers.first().cloned().unwrap_or(identity.advertise_addr)
        };
        let agent = Box::new(Agent::restore(identity.node_id.clone(), managers, first_contact, containers, now));
        node.membership = Membership::Member(Member {
            node_id: identity.node_id.clone(),
            advertise_addr: identity.advertise_addr,
            manager,
            agent,
        });
        node
    }

    /// Switches a planted bug on in this node (simulator only; see `planted.rs`).
    pub fn plant(&mut self, planted: crate::planted::Planted) {
        self.planted = planted;
        if let Membership::Member(Member { manager: Some(mgr), .. }) = &mut self.membership {
            mgr.plant(planted);
        }
    }

    // ----- getters -----

    pub(crate) fn member(&self) -> Option<&Member> {
        match &self.membership {
            Membership::Member(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn manager(&self) -> Option<&Manager> {
        self.member().and_then(|m| m.manager.as_deref())
    }

    pub(crate) fn agent(&self) -> Option<&Agent> {
        self.member().map(|m| &*m.agent)
    }

    pub fn node_id(&self) -> Option<&NodeId> {
        self.member().map(|m| &m.node_id)
    }

    /// The address on the cluster port, once in a swarm.
    pub fn cluster_addr(&self) -> Option<&Addr> {
        self.member().map(|m| &m.advertise_addr)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |d: Option<Instant>| {
            if let Some(d) = d {
                next = Some(next.map(|n| n.min(d)).unwrap_or(d));
            }
        };
        for p in self.pending.values() {
            consider(Some(p.deadline()));
        }
        if let Some(m) = self.member() {
            consider(m.agent.next_deadline());
            consider(m.manager.as_ref().map(|mgr| mgr.next_deadline()));
        }
        next
    }

    pub fn drain_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outputs)
    }

    // ----- inputs -----

    pub fn handle(&mut self, now: Instant, input: Input) {
        assert!(now >= self.last_now, "time went backwards at the node's door: {now:?} after {:?}", self.last_now);
        self.last_now = now;
        let mut loopback: VecDeque<(Addr, Message)> = VecDeque::new();
        match input {
            Input::Timer => self.on_timer(now),
            Input::Message { from, msg } => self.on_message(now, from, msg),
            Input::Container(event) => self.on_container_event(now, event),
            Input::Client { req_id, request } => self.on_request(now, req_id, request),
        }
        self.route_sends(&mut loopback);
        // Messages a node sends itself (its agent to its own dispatcher) are handled at once.
        let mut rounds = 0;
        while let Some((from, msg)) = loopback.pop_front() {
            rounds += 1;
            assert!(rounds < 100_000, "loopback messages do not converge");
            self.on_message(now, from, msg);
            self.route_sends(&mut loopback);
        }
        self.track_leader(now);
        self.refresh_serving();
    }

    /// Notes when the leader was lost, and hands the calls that waited for one on.
    fn track_leader(&mut self, now: Instant) {
        self.answer_held_reads(now);
        let leader_known = match self.member() {
            // A leader answers its own clients' reads once caught up; until then they wait.
            Some(Member { manager: Some(mgr), .. }) if mgr.is_leader() => mgr.is_leader_caught_up(),
            Some(Member { manager: Some(mgr), .. }) => mgr.leader_addr().is_some(),
            _ => {
                self.no_leader_since = None;
                return;
            }
        };
        if !leader_known {
            self.no_leader_since.get_or_insert(now);
            return;
        }
        self.no_leader_since = None;
        let waiting: Vec<u64> =
            self.pending.iter().filter(|(_, p)| matches!(p, Pending::AwaitLeader { .. })).map(|(k, _)| *k).collect();
        for key in waiting {
            if let Some(Pending::AwaitLeader { req_id, request, .. }) = self.pending.remove(&key) {
                if request.is_write() {
                    self.write(now, req_id, *request);
                } else {
                    self.read(now, req_id, &request);
                }
            }
        }
        let mut loopback = VecDeque::new();
        self.route_sends(&mut loopback);
        while let Some((from, msg)) = loopback.pop_front() {
            self.on_message(now, from, msg);
            self.route_sends(&mut loopback);
        }
    }

    /// Forwarded reads held while this leader caught up: answered once it has, refused (as by
    /// a follower) once it is no longer the leader.
    fn answer_held_reads(&mut self, now: Instant) {
        if self.held_reads.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.held_reads);
        let mut answers = Vec::with_capacity(held.len());
        match &self.membership {
            Membership::Member(Member { manager: Some(mgr), .. }) if mgr.is_leader() && !mgr.is_leader_caught_up() => {
                self.held_reads = held;
                return;
            }
            Membership::Member(Member { manager: Some(mgr), .. }) if mgr.is_leader_caught_up() => {
                for h in held {
                    let reply = reads::answer(mgr, &h.asker, &h.asker_addr, &h.request, now).map_err(ApiError::from);
                    answers.push((h.from, h.request_id, reply));
                }
            }
            _ => {
                for h in held {
                    answers.push((h.from, h.request_id, Err(NO_LEADER_ERROR.into())));
                }
            }
        }
        for (to, request_id, reply) in answers {
            self.outputs.push(Output::Send { to, msg: Message::ForwardReply { request_id, reply } });
        }
    }

    /// A control call on a manager that knows no leader: fails at once once the leader has
    /// been gone for `LOST_QUORUM_TIMEOUT` (swarm's "does not have a leader"), else waits
    /// for one until docker's deadline.
    fn no_leader(&mut self, now: Instant, req_id: u64, request: Request) {
        let since = *self.no_leader_since.get_or_insert(now);
        if now.saturating_since(since) > LOST_QUORUM_TIMEOUT {
            return self.reply(req_id, Err(NO_LEADER_ERROR.into()));
        }
        let key = self.new_request_id();
        self.pending
            .insert(key, Pending::AwaitLeader { req_id, request: Box::new(request), deadline: now + FORWARD_TIMEOUT });
    }

    /// Moves `Send`s addressed to this node from the outputs into the loopback queue.
    fn route_sends(&mut self, loopback: &mut VecDeque<(Addr, Message)>) {
        let Some(own) = self.cluster_addr().cloned() else { return };
        let mut kept = Vec::with_capacity(self.outputs.len());
        for o in self.outputs.drain(..) {
            match o {
                Output::Send { to, msg } if to == own => loopback.push_back((own, msg)),
                other => kept.push(other),
            }
        }
        self.outputs = kept;
    }

    fn on_timer(&mut self, now: Instant) {
        let expired: Vec<u64> = self.pending.iter().filter(|(_, p)| p.deadline() <= now).map(|(k, _)| *k).collect();
        for key in expired {
            match self.pending.remove(&key).expect("listed above") {
                Pending::Join { req_id, .. } => {
                    self.reply(req_id, Err(JOIN_TIMED_OUT.into()));
                    // The attempt goes on in the background, as docker's does.
                }
                Pending::Forward { req_id, .. } | Pending::AwaitLeader { req_id, .. } => {
                    self.reply(req_id, Err(DEADLINE_EXCEEDED.into()));
                }
            }
        }
        let rng = &mut self.rng;
        if let Membership::Member(m) = &mut self.membership {
            m.agent.on_timer(now, &mut self.outputs);
            if let Some(mgr) = &mut m.manager {
                mgr.on_timer(now, rng, &mut self.outputs);
            }
        }
        self.drop_manager_if_removed();
    }

    fn on_container_event(&mut self, now: Instant, event: ContainerEvent) {
        let Membership::Member(m) = &mut self.membership else { return };
        m.agent.on_container_event(event, now, &mut self.outputs);
    }

    fn on_message(&mut self, now: Instant, from: Addr, msg: Message) {
        let rng = &mut self.rng;
        match msg {
            Message::Raft(raft_msg) => match &mut self.membership {
                Membership::Member(Member { manager: Some(mgr), .. }) if mgr.is_removed_member(raft_msg.from) => {
                    let msg = Message::RaftMemberRemoved { raft_id: raft_msg.from };
                    self.outputs.push(Output::Send { to: from, msg });
                }
                Membership::Member(Member { manager: Some(mgr), .. }) => {
                    mgr.on_raft_message(from, *raft_msg, now, rng, &mut self.outputs)
                }
                // A worker the leader added to Raft (`node promote`): its first Raft message
                // makes it a manager, which catches up from the leader as a joining one does.
                // A new member is probed from the start (the leader matched nothing of it), so
                // a heartbeat committing entries is for a former member at this address (one
                // whose data root was lost, now joined again as a new node): not a promotion.
                Membership::Member(member)
                    if raft_msg.to != 0
                        && member.agent.knows_manager(&from)
                        && !(raft_msg.get_msg_type() == raft::eraftpb::MessageType::MsgHeartbeat
                            && raft_msg.commit > 0) =>
                {
                    let managers = vec![(raft_msg.from, from)];
                    let mut mgr = Manager::joining(raft_msg.to, member.advertise_addr, &managers, now, rng);
                    mgr.plant(self.planted);
                    mgr.behave_as(self.config.docker_version);
                    self.outputs.push(Output::SaveIdentity(Some(Identity {
                        node_id: member.node_id.clone(),
                        role: NodeRole::Manager,
                        advertise_addr: member.advertise_addr,
                        raft_id: Some(raft_msg.to),
                        managers,
                    })));
                    mgr.on_raft_message(from, *raft_msg, now, rng, &mut self.outputs);
                    member.manager = Some(Box::new(mgr));
                    let own = member.advertise_addr;
                    member.agent.add_manager(&own);
                }
                _ => self.stats.messages_dropped += 1,
            },
            Message::JoinRequest(req) => match &mut self.membership {
                Membership::Member(Member { manager: Some(mgr), .. }) => {
                    mgr.on_join_request(&from, req, now, rng, &mut self.outputs)
                }
                _ => self.outputs.push(Output::Send {
                    to: from,
                    msg: Message::JoinResponse {
                        request_id: req.request_id,
                        result: Err(JoinRefused::Error(NOT_A_MANAGER_RPC.into())),
                    },
                }),
            },
            Message::JoinResponse { request_id, result } => self.on_join_response(now, request_id, result),
            Message::Forward { request_id, request } => match &mut self.membership {
                Membership::Member(Member { manager: Some(mgr), .. }) => {
                    mgr.on_write(Origin::Forwarded { addr: from, request_id }, &request, now, rng, &mut self.outputs)
                }
                _ => self.stats.messages_dropped += 1,
            },
            Message::ForwardRead { request_id, request, asker, asker_addr } => match self.member() {
                Some(Member { manager: Some(mgr), .. }) if mgr.is_leader() && !mgr.is_leader_caught_up() => {
                    self.held_reads.push(HeldRead { from, request_id, request, asker, asker_addr });
                }
                Some(Member { manager: Some(mgr), .. }) => {
                    let reply = if mgr.is_leader() {
                        reads::answer(mgr, &asker, &asker_addr, &request, now).map_err(ApiError::from)
                    } else {
                        Err(NO_LEADER_ERROR.into())
                    };
                    self.outputs.push(Output::Send { to: from, msg: Message::ForwardReply { request_id, reply } });
                }
                _ => self.stats.messages_dropped += 1,
            },
            Message::ForwardReply { request_id, mut reply } => {
                if let Some(Pending::Forward { req_id, .. }) = self.pending.remove(&request_id) {
                    // The join command after a rotation names the node the client asked.
                    if let (Ok(Response::JoinTokenRotated { manager_addr, .. }), Some(own)) =
                        (&mut reply, self.member().map(|m| m.advertise_addr))
                    {
                        *manager_addr = own;
                    }
                    self.reply(req_id, reply);
                }
            }
            Message::Session(session_msg) => match &mut self.membership {
                Membership::Member(Member { manager: Some(mgr), .. }) => {
                    mgr.on_session_message(&from, session_msg, now, rng, &mut self.outputs)
                }
                _ => self.outputs.push(Output::Send {
                    to: from,
                    msg: Message::Dispatch(DispatchMessage::NotLeader { leader_addr: None }),
                }),
            },
            Message::RaftMemberRemoved { raft_id } => self.on_removed_from_raft(raft_id),
            Message::Dispatch(dispatch) => {
                let Membership::Member(m) = &mut self.membership else {
                    self.stats.messages_dropped += 1;
                    return;
                };
                m.agent.on_dispatch(&from, dispatch, now, &mut self.outputs);
            }
        }
        self.drop_manager_if_removed();
    }

    /// A demoted manager leaves Raft and carries on as a worker.
    fn drop_manager_if_removed(&mut self) {
        if let Membership::Member(m) = &mut self.membership {
            if m.manager.as_ref().map(|mgr| mgr.removed_from_raft).unwrap_or(false) {
                m.manager = None;
            }
        }
    }

    fn reply(&mut self, req_id: u64, reply: Reply) {
        self.outputs.push(Output::Reply { req_id, reply });
    }

    fn new_request_id(&mut self) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        id
    }

    // ----- commands -----

    fn on_request(&mut self, now: Instant, req_id: u64, request: Request) {
        match &request {
            Request::InitSwarm { advertise_addr, default_addr_pool, force_new_cluster: true, .. } => {
                self.swarm_force_new_cluster(now, req_id, advertise_addr.clone(), default_addr_pool.clone())
            }
            Request::InitSwarm { advertise_addr, default_addr_pool, .. } => {
                self.swarm_init(now, req_id, advertise_addr.clone(), default_addr_pool.clone())
            }
            Request::JoinSwarm { token, remote_addr, advertise_addr } => {
                self.swarm_join(now, req_id, token.clone(), remote_addr.clone(), advertise_addr.clone())
            }
            Request::LeaveSwarm { force } => self.swarm_leave(req_id, *force),
            Request::ListContainers { all } => self.ps(now, req_id, *all),
            Request::KillContainers { containers } => self.kill(req_id, containers),
            Request::Exec { container, command } => self.exec(req_id, container, command),
            Request::RouteIngress { port } => self.answer_route_ingress(req_id, *port),
            Request::ListNetworks => {
                let networks = self.known_networks();
                self.reply(req_id, Ok(Response::Networks(networks)));
            }
            Request::SystemInfo => {
                let info = Box::new(self.swarm_info());
                self.reply(req_id, Ok(Response::SystemInfo(info)));
            }
            r if r.is_write() => self.write(now, req_id, request),
            _ => self.read(now, req_id, &request),
        }
    }

    fn write(&mut self, now: Instant, req_id: u64, request: Request) {
        let rng = &mut self.rng;
        match &mut self.membership {
            Membership::Member(Member { manager: Some(mgr), .. }) => {
                if mgr.is_leader() {
                    mgr.on_write(Origin::Local(req_id), &request, now, rng, &mut self.outputs);
                    return;
                }
                let Some(leader) = mgr.leader_addr() else {
                    return self.no_leader(now, req_id, request);
                };
                let request_id = self.new_request_id();
                self.pending.insert(request_id, Pending::Forward { req_id, deadline: now + FORWARD_TIMEOUT });
                self.outputs.push(Output::Send { to: leader, msg: Message::Forward { request_id, request } });
            }
            Membership::Member(_) => self.reply(req_id, Err(NOT_A_MANAGER_WORKER.into())),
            _ => self.reply(req_id, Err(NOT_IN_SWARM.into())),
        }
    }

    /// `docker info`'s Swarm section, from what this node holds: a manager counts its own
    /// store (replicated from the leader) and says when there is no leader, as dockerd does.
    fn swarm_info(&self) -> crate::control::SwarmInfoView {
        use crate::control::{LocalNodeState, SwarmInfoView};
        let mut info = SwarmInfoView {
            node_id: String::new(),
            node_addr: String::new(),
            local_state: LocalNodeState::Inactive,
            control_available: false,
            error: String::new(),
            cluster: None,
            managers: 0,
            nodes: 0,
            remote_managers: Vec::new(),
        };
        match &self.membership {
            Membership::Outside => {}
            Membership::Joining { .. } => info.local_state = LocalNodeState::Pending,
            Membership::Member(m) => {
                info.local_state = LocalNodeState::Active;
                info.node_id = m.node_id.to_string();
                info.node_addr = m.advertise_addr.ip.to_string();
                if let Some(mgr) = m.manager.as_deref() {
                    let store = &mgr.store;
                    info.control_available = true;
                    info.cluster = store.cluster.clone();
                    info.nodes = store.nodes.len() as u64;
                    info.managers = store.nodes.values().filter(|n| n.manager_status.is_some()).count() as u64;
                    info.remote_managers = store
                        .nodes
                        .values()
                        .filter_map(|n| n.manager_status.as_ref().map(|s| (n.id.clone(), s.addr)))
                        .collect();
                    if !mgr.is_leader() && mgr.leader_addr().is_none() {
                        info.error = NO_LEADER_ERROR.to_string();
                    }
                }
            }
        }
        info
    }

    /// A read-only view of this node for observers outside core (the simulator's checkers).
    pub fn observe(&self) -> crate::observe::Observation<'_> {
        crate::observe::Observation::of(self)
    }

    /// swarmkit's raft proxy sends every control call to the leader, reads too (seen on docker
    /// 20.10: a follower's `node ls` shows what the leader knows, and with no leader `node ls`
    /// and `service ls` fail). Only the leader answers from its store.
    fn read(&mut self, now: Instant, req_id: u64, request: &Request) {
        let forward_to = match self.member() {
            None => return self.reply(req_id, Err(NOT_IN_SWARM.into())),
            Some(Member { manager: None, .. }) => return self.reply(req_id, Err(NOT_A_MANAGER_WORKER.into())),
            Some(Member { manager: Some(mgr), node_id, advertise_addr, .. }) if mgr.is_leader_caught_up() => {
                let reply = reads::answer(mgr, node_id, advertise_addr, request, now).map_err(ApiError::from);
                return self.reply(req_id, reply);
            }
            Some(Member { manager: Some(mgr), .. }) if mgr.is_leader() => None,
            Some(Member { manager: Some(mgr), node_id, advertise_addr, .. }) => {
                mgr.leader_addr().map(|leader| (leader, node_id.clone(), *advertise_addr))
            }
        };
        let Some((leader, asker, asker_addr)) = forward_to else {
            return self.no_leader(now, req_id, request.clone());
        };
        let request_id = self.new_request_id();
        self.pending.insert(request_id, Pending::Forward { req_id, deadline: now + FORWARD_TIMEOUT });
        let msg = Message::ForwardRead { request_id, request: request.clone(), asker, asker_addr };
        self.outputs.push(Output::Send { to: leader, msg });
    }
}

// The store's `Node` type and this module's `Node` share a name; alias the store's here.
use crate::api::Node as Node_;

fn local_network_id(rng: &mut ChaCha8Rng) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
