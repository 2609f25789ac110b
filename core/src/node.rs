//! One swarm node as a sans-IO state machine.
//!
//! ```text
//! node.handle(now, Input)      // a message, a timer, a container event, a client command
//! node.drain_outputs()         // messages to send, container commands, writes to persist, replies
//! node.next_deadline()         // when to call handle(now, Input::Timer) next
//! ```
//! Contract for drivers: carry out outputs in order. A `Persist` must be durable before any
//! `Send` that follows it (Raft's persist-before-send rule). Time must never go backwards.

use crate::api::*;
use crate::cli::{inspect, tables, Command};
use crate::ids::{NetworkId, NodeId};
use crate::manager::manager::{Manager, Origin, NO_LEADER_ERROR};
use crate::manager::tokens;
use crate::message::{Addr, DispatchMessage, JoinAccepted, JoinRefused, JoinRequest, Message};
use crate::net::{Route, RoutingMesh};
use crate::persist::{DiskState, Identity, PersistRaft};
use crate::runtime::{ContainerCommand, ContainerEvent, ContainerInfo, ContainerState};
use crate::store::StoreAction;
use crate::time::Instant;
use crate::worker::agent::Agent;
use core::net::Ipv4Addr;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

mod door;
pub use door::{JoinGrant, ManagerGauges, NodeGauges};

pub const CLUSTER_PORT: u16 = 2377;
/// How long `swarm join` waits before answering (docker: 20 s).
const JOIN_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a follower waits for the leader to answer a forwarded write.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(20);

pub const NOT_A_MANAGER_WORKER: &str = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";
pub const NOT_IN_SWARM: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";
pub const ALREADY_IN_SWARM: &str =
    "This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.";
/// A node that is no manager answering a join or a certificate request.
pub const NOT_A_MANAGER_RPC: &str = "rpc error: code = Unavailable desc = this node is not a swarm manager";
pub const JOIN_TIMED_OUT: &str = "Timeout was reached before node joined. The attempt to join the swarm will continue in the background. Use the \"docker info\" command to see the current swarm status of your node.";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeConfig {
    pub hostname: String,
    /// Non-loopback interfaces, in the order the host lists them.
    pub interfaces: Vec<(String, Ipv4Addr)>,
    pub resources: Resources,
    pub engine_version: String,
    pub engine_labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug)]
pub enum Input {
    Message {
        from: Addr,
        msg: Message,
    },
    /// `now` reached `next_deadline()`.
    Timer,
    Container(ContainerEvent),
    Client {
        req_id: u64,
        command: Command,
    },
}

#[derive(Clone, Debug)]
pub enum Output {
    Send {
        to: Addr,
        msg: Message,
    },
    Container(ContainerCommand),
    /// Raft state to make durable before the sends that follow.
    Persist(PersistRaft),
    /// The node's identity in its swarm (`None`: it left): durable before the reply.
    SaveIdentity(Option<Identity>),
    Reply {
        req_id: u64,
        reply: Reply,
    },
    /// What the node serves changed (published ports, VIPs, remote task addresses): a driver
    /// with real listeners opens or closes one (`node/door.rs`); the simulator has none.
    Serve(crate::serve::ServeChange),
}

/// What a command returns to the user.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Reply {
    /// Success: what the CLI prints on stdout.
    Text(String),
    /// The daemon refused: the CLI prints `Error response from daemon: <text>` and exits 1.
    Error(String),
    /// `curl`: where the routing mesh sent the request; the driver delivers it to the task.
    Route(Route),
}

enum Pending {
    Join { req_id: u64, deadline: Instant },
    Forward { req_id: u64, deadline: Instant },
}

enum Membership {
    Outside,
    Joining { request_id: u64, token: String, advertise_addr: Addr },
    Member(Member),
}

pub struct Member {
    pub node_id: NodeId,
    pub advertise_addr: Addr,
    pub manager: Option<Manager>,
    pub agent: Agent,
}

/// Counters a driver or checker may read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStats {
    pub messages_dropped: u64,
}

pub struct Node {
    pub config: NodeConfig,
    rng: ChaCha8Rng,
    /// `bridge`, `docker_gwbridge`, `host`: the daemon's own networks.
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
    serving: crate::serve::Serving,
    /// The latest time a driver handed in: every deadline and timeout in core assumes time
    /// never goes backwards, so `handle` asserts it at the door.
    last_now: Instant,
}

impl Node {
    pub fn new(config: NodeConfig, seed: u64) -> Node {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let local_networks = [
            ("bridge", NetworkDriver::Bridge),
            ("docker_gwbridge", NetworkDriver::Bridge),
            ("host", NetworkDriver::Host),
        ]
        .into_iter()
        .map(|(name, driver)| Network {
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
            serving: crate::serve::Serving::default(),
            last_now: Instant::ZERO,
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
    /// crash; all of them after a daemon restart with live-restore). `seed` should differ from
    /// the first life's, as a restarted process draws new randomness.
    pub fn restart(
        config: NodeConfig,
        seed: u64,
        disk: &DiskState,
        containers: Vec<ContainerInfo>,
        now: Instant,
    ) -> Node {
        let mut node = Node::new(config, seed);
        node.last_now = now;
        let Some(identity) = &disk.identity else { return node };
        let manager = identity.raft_id.map(|id| {
            Manager::restore(id, identity.advertise_addr.clone(), &identity.managers, &disk.raft, now, &mut node.rng)
        });
        let managers: Vec<Addr> = identity.managers.iter().map(|(_, a)| a.clone()).collect();
        let first_contact = if identity.raft_id.is_some() {
            identity.advertise_addr.clone()
        } else {
            managers.first().cloned().unwrap_or_else(|| identity.advertise_addr.clone())
        };
        let agent = Agent::restore(identity.node_id.clone(), managers, first_contact, containers, now);
        node.membership = Membership::Member(Member {
            node_id: identity.node_id.clone(),
            advertise_addr: identity.advertise_addr.clone(),
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

    pub fn member(&self) -> Option<&Member> {
        match &self.membership {
            Membership::Member(m) => Some(m),
            _ => None,
        }
    }

    pub fn manager(&self) -> Option<&Manager> {
        self.member().and_then(|m| m.manager.as_ref())
    }

    pub fn agent(&self) -> Option<&Agent> {
        self.member().map(|m| &m.agent)
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
            consider(Some(match p {
                Pending::Join { deadline, .. } | Pending::Forward { deadline, .. } => *deadline,
            }));
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
            Input::Timer => self.on_timer(now, &mut loopback),
            Input::Message { from, msg } => self.on_message(now, from, msg, &mut loopback),
            Input::Container(event) => self.on_container_event(now, event, &mut loopback),
            Input::Client { req_id, command } => self.on_command(now, req_id, command, &mut loopback),
        }
        self.route_sends(&mut loopback);
        // Messages a node sends itself (its agent to its own dispatcher) are handled at once.
        let mut rounds = 0;
        while let Some((from, msg)) = loopback.pop_front() {
            rounds += 1;
            assert!(rounds < 100_000, "loopback messages do not converge");
            self.on_message(now, from, msg, &mut loopback);
            self.route_sends(&mut loopback);
        }
        self.refresh_serving();
    }

    /// Moves `Send`s addressed to this node from the outputs into the loopback queue.
    fn route_sends(&mut self, loopback: &mut VecDeque<(Addr, Message)>) {
        let Some(own) = self.cluster_addr().cloned() else { return };
        let mut kept = Vec::with_capacity(self.outputs.len());
        for o in self.outputs.drain(..) {
            match o {
                Output::Send { to, msg } if to == own => loopback.push_back((own.clone(), msg)),
                other => kept.push(other),
            }
        }
        self.outputs = kept;
    }

    fn push_sends(&mut self, sends: Vec<(Addr, Message)>) {
        self.outputs.extend(sends.into_iter().map(|(to, msg)| Output::Send { to, msg }));
    }

    fn on_timer(&mut self, now: Instant, _loopback: &mut VecDeque<(Addr, Message)>) {
        let expired: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| match p {
                Pending::Join { deadline, .. } | Pending::Forward { deadline, .. } => *deadline <= now,
            })
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            match self.pending.remove(&key).expect("listed above") {
                Pending::Join { req_id, .. } => {
                    self.reply(req_id, Reply::Error(JOIN_TIMED_OUT.into()));
                    // The attempt goes on in the background, as docker's does.
                }
                Pending::Forward { req_id, .. } => {
                    self.reply(req_id, Reply::Error("context deadline exceeded".into()));
                }
            }
        }
        let rng = &mut self.rng;
        if let Membership::Member(m) = &mut self.membership {
            let mut sends = Vec::new();
            m.agent.on_timer(now, &mut sends);
            self.outputs.extend(sends.into_iter().map(|(to, msg)| Output::Send { to, msg }));
            if let Some(mgr) = &mut m.manager {
                mgr.on_timer(now, rng, &mut self.outputs);
            }
        }
        self.drop_manager_if_removed();
    }

    fn on_container_event(&mut self, now: Instant, event: ContainerEvent, _loopback: &mut VecDeque<(Addr, Message)>) {
        let Membership::Member(m) = &mut self.membership else { return };
        let mut sends = Vec::new();
        let mut commands = Vec::new();
        m.agent.on_container_event(event, now, &mut sends, &mut commands);
        self.push_sends(sends);
        self.outputs.extend(commands.into_iter().map(Output::Container));
    }

    fn on_message(&mut self, now: Instant, from: Addr, msg: Message, _loopback: &mut VecDeque<(Addr, Message)>) {
        let rng = &mut self.rng;
        match msg {
            Message::Raft(raft_msg) => match &mut self.membership {
                Membership::Member(Member { manager: Some(mgr), .. }) => {
                    mgr.on_raft_message(*raft_msg, now, rng, &mut self.outputs)
                }
                // A worker the leader added to Raft (`node promote`): its first Raft message
                // makes it a manager, which catches up from the leader as a joining one does.
                Membership::Member(member) if raft_msg.to != 0 && member.agent.knows_manager(&from) => {
                    let managers = vec![(raft_msg.from, from.clone())];
                    let mut mgr = Manager::joining(raft_msg.to, member.advertise_addr.clone(), &managers, now, rng);
                    mgr.plant(self.planted);
                    self.outputs.push(Output::SaveIdentity(Some(Identity {
                        node_id: member.node_id.clone(),
                        role: NodeRole::Manager,
                        advertise_addr: member.advertise_addr.clone(),
                        raft_id: Some(raft_msg.to),
                        managers,
                    })));
                    mgr.on_raft_message(*raft_msg, now, rng, &mut self.outputs);
                    member.manager = Some(mgr);
                    let own = member.advertise_addr.clone();
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
            Message::Forward { request_id, command } => match &mut self.membership {
                Membership::Member(Member { manager: Some(mgr), .. }) => {
                    mgr.on_write(Origin::Forwarded { addr: from, request_id }, &command, now, rng, &mut self.outputs)
                }
                _ => self.stats.messages_dropped += 1,
            },
            Message::ForwardReply { request_id, reply } => {
                if let Some(Pending::Forward { req_id, .. }) = self.pending.remove(&request_id) {
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
            Message::Dispatch(dispatch) => {
                let Membership::Member(m) = &mut self.membership else {
                    self.stats.messages_dropped += 1;
                    return;
                };
                let mut sends = Vec::new();
                let mut commands = Vec::new();
                m.agent.on_dispatch(&from, dispatch, now, &mut sends, &mut commands);
                self.push_sends(sends);
                self.outputs.extend(commands.into_iter().map(Output::Container));
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

    fn on_command(&mut self, now: Instant, req_id: u64, command: Command, _loopback: &mut VecDeque<(Addr, Message)>) {
        match &command {
            Command::SwarmInit { advertise_addr, .. } => self.swarm_init(now, req_id, advertise_addr.clone(), None),
            Command::SwarmInitWithPool { advertise_addr, default_addr_pool, .. } => {
                self.swarm_init(now, req_id, advertise_addr.clone(), Some(default_addr_pool.clone()))
            }
            Command::SwarmJoin { token, remote_addr, advertise_addr } => {
                self.swarm_join(now, req_id, token.clone(), remote_addr.clone(), advertise_addr.clone())
            }
            Command::SwarmLeave { force } => self.swarm_leave(req_id, *force),
            Command::Ps { all, quiet } => {
                let text = match self.agent() {
                    Some(agent) => {
                        let containers: Vec<_> = agent.containers.values().cloned().collect();
                        tables::container_ps(&containers, now, *all, *quiet)
                    }
                    None => tables::container_ps(&[], now, *all, *quiet),
                };
                self.reply(req_id, Reply::Text(text));
            }
            Command::Kill { containers } => self.kill(req_id, containers),
            Command::Exec { container, command } => self.exec(req_id, container, command),
            Command::Curl { url } => self.curl(req_id, url),
            Command::NetworkLs { quiet } => {
                let text = self.network_ls(*quiet);
                self.reply(req_id, Reply::Text(text));
            }
            c if c.is_write() => self.write(now, req_id, command),
            _ => self.read(now, req_id, &command),
        }
    }

    fn choose_advertise_addr(&self, given: Option<String>) -> Result<Ipv4Addr, String> {
        if let Some(given) = given {
            let host = given.split(':').next().unwrap_or(&given);
            if let Ok(ip) = host.parse::<Ipv4Addr>() {
                return Ok(ip);
            }
            return self
                .config
                .interfaces
                .iter()
                .find(|(name, _)| name == host)
                .map(|(_, ip)| *ip)
                .ok_or_else(|| format!("advertise address must be a non-zero IP address or network interface (with optional port): {given}"));
        }
        match self.config.interfaces.as_slice() {
            [] => Err("could not find the system's IP address - specify one with --advertise-addr".into()),
            [(_, ip)] => Ok(*ip),
            [(if_a, ip_a), (if_b, ip_b), ..] => Err(format!(
                "could not choose an IP address to advertise since this system has multiple addresses on different interfaces ({ip_a} on {if_a} and {ip_b} on {if_b}) - specify one with --advertise-addr"
            )),
        }
    }

    fn description(&self) -> NodeDescription {
        NodeDescription {
            hostname: self.config.hostname.clone(),
            platform_os: "linux".into(),
            platform_arch: "x86_64".into(),
            resources: self.config.resources,
            engine_version: self.config.engine_version.clone(),
            engine_labels: self.config.engine_labels.clone(),
        }
    }

    fn swarm_init(&mut self, now: Instant, req_id: u64, advertise: Option<String>, pool: Option<AddrPool>) {
        if !matches!(self.membership, Membership::Outside) {
            return self.reply(req_id, Reply::Error(ALREADY_IN_SWARM.into()));
        }
        if let Some(Err(e)) = pool.as_ref().map(AddrPool::validate) {
            return self.reply(req_id, Reply::Error(e));
        }
        let ip = match self.choose_advertise_addr(advertise) {
            Ok(ip) => ip,
            Err(e) => return self.reply(req_id, Reply::Error(e)),
        };
        let addr = format!("{ip}:{CLUSTER_PORT}");
        let rng = &mut self.rng;
        let node_id = NodeId::generate(rng);
        // Drawn even when the driver gave the real digest, so the RNG stream stays the same.
        let mut ca_cert = [0u8; 64];
        rng.fill_bytes(&mut ca_cert);
        let ca_digest = self.root_ca_digest.clone().unwrap_or_else(|| tokens::ca_digest(&ca_cert));
        let cluster = Cluster {
            id: crate::ids::new_id(rng),
            worker_token: tokens::new_join_token(&ca_digest, rng),
            manager_token: tokens::new_join_token(&ca_digest, rng),
            ca_digest,
            task_history_limit: crate::manager::orchestrator::DEFAULT_TASK_HISTORY_LIMIT,
            default_addr_pool: pool,
        };
        let raft_id: u64 = loop {
            let id: u64 = rng.gen();
            if id != 0 {
                break id;
            }
        };
        let node = Node_ {
            id: node_id.clone(),
            spec: NodeSpec { role: NodeRole::Manager, availability: Availability::Active, labels: Default::default() },
            description: self.description(),
            status: NodeStatus { state: NodeState::Ready, message: String::new(), addr: ip.to_string() },
            manager_status: Some(ManagerStatus { raft_id, addr: addr.clone(), reachable: true }),
            created_at: now,
        };
        let ingress = Network {
            id: NetworkId::generate(&mut self.rng),
            name: "ingress".into(),
            driver: NetworkDriver::Overlay,
            scope: NetworkScope::Swarm,
            // From the pool when one was given (as dockerd), else docker 1.12's 10.255.0.0/16.
            subnet: match &cluster.default_addr_pool {
                Some(pool) => pool.first_free(&[]),
                None => Subnet::parse("10.255.0.0/16"),
            },
            ingress: true,
            created_at: now,
        };
        let text = format!(
            "Swarm initialized: current node ({node_id}) is now a manager.\n\n{}\nTo add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.\n\n",
            join_instructions(NodeRole::Worker, &cluster.worker_token, &addr)
        );
        self.outputs.push(Output::SaveIdentity(Some(Identity {
            node_id: node_id.clone(),
            role: NodeRole::Manager,
            advertise_addr: addr.clone(),
            raft_id: Some(raft_id),
            managers: vec![(raft_id, addr.clone())],
        })));
        let mut manager = Manager::bootstrap(raft_id, addr.clone(), now, &mut self.rng, &mut self.outputs);
        let actions =
            vec![StoreAction::SetCluster(cluster), StoreAction::CreateNode(node), StoreAction::CreateNetwork(ingress)];
        manager.plant(self.planted);
        if let Err(e) = manager.propose_initial_state(actions, Origin::Local(req_id), text) {
            return self.reply(req_id, Reply::Error(e));
        }
        let agent = Agent::new(node_id.clone(), vec![addr.clone()], addr.clone(), now);
        self.membership = Membership::Member(Member { node_id, advertise_addr: addr, manager: Some(manager), agent });
        if let Membership::Member(Member { manager: Some(mgr), .. }) = &mut self.membership {
            mgr.on_timer(now, &mut self.rng, &mut self.outputs);
        }
    }

    fn swarm_join(&mut self, now: Instant, req_id: u64, token: String, remote: String, advertise: Option<String>) {
        if !matches!(self.membership, Membership::Outside) {
            return self.reply(req_id, Reply::Error(ALREADY_IN_SWARM.into()));
        }
        if let Err(e) = tokens::parse_join_token(&token) {
            return self.reply(req_id, Reply::Error(e));
        }
        let ip = match self.choose_advertise_addr(advertise) {
            Ok(ip) => ip,
            Err(e) => return self.reply(req_id, Reply::Error(e)),
        };
        let remote = if remote.contains(':') { remote } else { format!("{remote}:{CLUSTER_PORT}") };
        let request_id = self.new_request_id();
        let advertise_addr = format!("{ip}:{CLUSTER_PORT}");
        self.pending.insert(request_id, Pending::Join { req_id, deadline: now + JOIN_TIMEOUT });
        self.send_join(request_id, &token, &advertise_addr, remote);
        self.membership = Membership::Joining { request_id, token, advertise_addr };
    }

    fn send_join(&mut self, request_id: u64, token: &str, advertise_addr: &Addr, to: Addr) {
        let req = JoinRequest {
            request_id,
            token: token.to_string(),
            advertise_addr: advertise_addr.clone(),
            description: self.description(),
        };
        self.outputs.push(Output::Send { to, msg: Message::JoinRequest(req) });
    }

    fn on_join_response(&mut self, now: Instant, request_id: u64, result: Result<JoinAccepted, JoinRefused>) {
        let Membership::Joining { request_id: expected, token, advertise_addr } = &self.membership else { return };
        if *expected != request_id {
            return;
        }
        let (token, advertise_addr) = (token.clone(), advertise_addr.clone());
        let req_id = match self.pending.get(&request_id) {
            Some(Pending::Join { req_id, .. }) => Some(*req_id),
            _ => None,
        };
        match result {
            Err(JoinRefused::NotLeader { leader_addr: Some(leader) }) => {
                self.send_join(request_id, &token, &advertise_addr, leader);
            }
            Err(JoinRefused::NotLeader { leader_addr: None }) => {
                self.membership = Membership::Outside;
                self.pending.remove(&request_id);
                if let Some(req_id) = req_id {
                    self.reply(req_id, Reply::Error(NO_LEADER_ERROR.into()));
                }
            }
            Err(JoinRefused::Error(e)) => {
                self.membership = Membership::Outside;
                self.pending.remove(&request_id);
                if let Some(req_id) = req_id {
                    self.reply(req_id, Reply::Error(e));
                }
            }
            Ok(accepted) => {
                self.pending.remove(&request_id);
                let managers: Vec<Addr> = accepted.managers.iter().map(|(_, a)| a.clone()).collect();
                let manager = accepted
                    .raft_id
                    .map(|id| Manager::joining(id, advertise_addr.clone(), &accepted.managers, now, &mut self.rng))
                    .map(|mut m| {
                        m.plant(self.planted);
                        m
                    });
                self.outputs.push(Output::SaveIdentity(Some(Identity {
                    node_id: accepted.node_id.clone(),
                    role: accepted.role,
                    advertise_addr: advertise_addr.clone(),
                    raft_id: accepted.raft_id,
                    managers: accepted.managers.clone(),
                })));
                let agent = Agent::new(accepted.node_id.clone(), managers, accepted.leader_addr.clone(), now);
                self.membership =
                    Membership::Member(Member { node_id: accepted.node_id, advertise_addr, manager, agent });
                if let Some(req_id) = req_id {
                    let text = format!("This node joined a swarm as a {}.\n", accepted.role.as_str());
                    self.reply(req_id, Reply::Text(text));
                }
            }
        }
    }

    fn swarm_leave(&mut self, req_id: u64, force: bool) {
        match &self.membership {
            Membership::Outside => self.reply(req_id, Reply::Error("This node is not part of a swarm".into())),
            Membership::Member(m) if m.manager.is_some() && !force => self.reply(
                req_id,
                Reply::Error("You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.".into()),
            ),
            _ => {
                self.membership = Membership::Outside;
                self.outputs.push(Output::SaveIdentity(None));
                self.reply(req_id, Reply::Text("Node left the swarm.\n".into()));
            }
        }
    }

    fn write(&mut self, now: Instant, req_id: u64, command: Command) {
        let rng = &mut self.rng;
        match &mut self.membership {
            Membership::Member(Member { manager: Some(mgr), .. }) => {
                if mgr.is_leader() {
                    mgr.on_write(Origin::Local(req_id), &command, now, rng, &mut self.outputs);
                    return;
                }
                let Some(leader) = mgr.leader_addr() else {
                    return self.reply(req_id, Reply::Error(NO_LEADER_ERROR.into()));
                };
                let request_id = self.new_request_id();
                self.pending.insert(request_id, Pending::Forward { req_id, deadline: now + FORWARD_TIMEOUT });
                self.outputs.push(Output::Send { to: leader, msg: Message::Forward { request_id, command } });
            }
            Membership::Member(_) => self.reply(req_id, Reply::Error(NOT_A_MANAGER_WORKER.into())),
            _ => self.reply(req_id, Reply::Error(NOT_IN_SWARM.into())),
        }
    }

    fn read(&mut self, now: Instant, req_id: u64, command: &Command) {
        let reply = match self.member() {
            None => Reply::Error(NOT_IN_SWARM.into()),
            Some(Member { manager: None, .. }) => Reply::Error(NOT_A_MANAGER_WORKER.into()),
            Some(Member { manager: Some(mgr), node_id, advertise_addr, .. }) => {
                match render_read(mgr, node_id, advertise_addr, command, now) {
                    Ok(text) => Reply::Text(text),
                    Err(e) => Reply::Error(e),
                }
            }
        };
        self.reply(req_id, reply);
    }

    fn network_ls(&self, quiet: bool) -> String {
        let mut rows: Vec<tables::NetworkRow> = self
            .local_networks
            .iter()
            .map(|n| tables::NetworkRow {
                id: n.id.to_string(),
                name: n.name.clone(),
                driver: n.driver.as_str().into(),
                scope: n.scope.as_str().into(),
            })
            .collect();
        if let Some(mgr) = self.manager() {
            rows.extend(mgr.store.networks.values().map(|n| tables::NetworkRow {
                id: n.id.to_string(),
                name: n.name.clone(),
                driver: n.driver.as_str().into(),
                scope: n.scope.as_str().into(),
            }));
        } else if self.member().is_some() {
            // A worker lists the swarm networks its tasks use; ingress is always there.
            rows.push(tables::NetworkRow {
                id: self
                    .agent()
                    .and_then(|a| a.directory.ingress_network.clone())
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                name: "ingress".into(),
                driver: "overlay".into(),
                scope: "swarm".into(),
            });
        }
        tables::network_ls(&rows, quiet)
    }

    fn find_container(&self, name: &str) -> Option<String> {
        let agent = self.agent()?;
        if agent.containers.contains_key(name) {
            return Some(name.to_string());
        }
        // Docker accepts ID prefixes; swarmsim also accepts a name prefix such as `mynginx.2`,
        // since task IDs are not known before the run.
        let matches: Vec<&ContainerInfo> = agent
            .containers
            .values()
            .filter(|c| c.id.starts_with(name) || c.name.starts_with(&format!("{name}.")))
            .collect();
        if matches.len() == 1 {
            return Some(matches[0].name.clone());
        }
        // Several (a slot's dead container beside its replacement): the one running, if unique.
        let running: Vec<&&ContainerInfo> =
            matches.iter().filter(|c| matches!(c.state, ContainerState::Running { .. })).collect();
        (running.len() == 1).then(|| running[0].name.clone())
    }

    fn kill(&mut self, req_id: u64, containers: &[String]) {
        let mut text = String::new();
        for name in containers {
            match self.find_container(name) {
                Some(full) => {
                    self.outputs.push(Output::Container(ContainerCommand::Kill { name: full.clone() }));
                    text.push_str(name);
                    text.push('\n');
                }
                None => {
                    return self.reply(
                        req_id,
                        Reply::Error(format!("Cannot kill container: {name}: No such container: {name}")),
                    );
                }
            }
        }
        self.reply(req_id, Reply::Text(text));
    }

    fn exec(&mut self, req_id: u64, container: &str, command: &[String]) {
        let Some(full) = self.find_container(container) else {
            return self.reply(req_id, Reply::Error(format!("No such container: {container}")));
        };
        let agent = self.agent().expect("find_container found one");
        match command {
            [cmd, name] if cmd == "nslookup" => {
                let networks = agent.container_networks(&full).unwrap_or_default();
                let ips = agent.directory.resolve(name, &networks);
                let mut text = String::from("Server:    127.0.0.11\nAddress 1: 127.0.0.11\n\n");
                if ips.is_empty() {
                    return self.reply(req_id, Reply::Error(format!("{text}nslookup: can't resolve '{name}'")));
                }
                text.push_str(&format!("Name:      {name}\n"));
                for (i, ip) in ips.iter().enumerate() {
                    text.push_str(&format!("Address {}: {ip}\n", i + 1));
                }
                self.reply(req_id, Reply::Text(text));
            }
            _ => self.reply(
                req_id,
                Reply::Error(format!("exec: the simulated image only runs `nslookup NAME`, not {command:?}")),
            ),
        }
    }

    fn curl(&mut self, req_id: u64, url: &str) {
        let port = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .and_then(|hostport| hostport.rsplit_once(':'))
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .unwrap_or(80);
        if self.agent().is_none() {
            return self.reply(
                req_id,
                Reply::Error(format!("curl: (7) Failed to connect to port {port}: Connection refused")),
            );
        }
        match self.route_ingress(port) {
            Ok(route) => self.reply(req_id, Reply::Route(route)),
            Err(e) => self.reply(req_id, Reply::Error(format!("curl: (7) Failed to connect to port {port}: {e}"))),
        }
    }

    /// A read-only view of this node for observers outside core (the simulator's checkers).
    pub fn observe(&self) -> crate::observe::Observation<'_> {
        crate::observe::Observation::of(self)
    }
}

// The store's `Node` type and this module's `Node` share a name; alias the store's here.
use crate::api::Node as Node_;

fn local_network_id(rng: &mut ChaCha8Rng) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn join_instructions(role: NodeRole, token: &str, addr: &str) -> String {
    format!(
        "To add a {} to this swarm, run the following command:\n\n    docker swarm join \\\n    --token {token} \\\n    {addr}\n",
        role.as_str()
    )
}

/// Answers a read from this manager's copy of the store (reads answer even without quorum).
fn render_read(mgr: &Manager, local: &NodeId, addr: &Addr, command: &Command, now: Instant) -> Result<String, String> {
    let store = &mgr.store;
    match command {
        Command::NodeLs { quiet } => Ok(tables::node_ls(store, Some(local), &mgr.manager_statuses(), *quiet)),
        Command::NodeInspect { nodes, pretty } => {
            let found: Vec<&Node_> = nodes
                .iter()
                .map(|n| {
                    if n == "self" {
                        store.nodes.get(local).ok_or_else(|| "node self not found".to_string())
                    } else {
                        store.lookup_node(n)
                    }
                })
                .collect::<Result<_, _>>()?;
            Ok(inspect::node_inspect(store, &found, &mgr.manager_statuses(), *pretty))
        }
        Command::NetworkInspect { networks } => {
            let found: Vec<&Network> = networks.iter().map(|n| store.lookup_network(n)).collect::<Result<_, _>>()?;
            Ok(inspect::network_inspect(&found))
        }
        Command::ServiceLs { quiet } => Ok(tables::service_ls(store, *quiet)),
        Command::ServicePs { services, quiet, no_trunc } => {
            let found: Vec<&Service> = services.iter().map(|s| store.lookup_service(s)).collect::<Result<_, _>>()?;
            Ok(tables::service_ps(store, &found, now, *no_trunc, *quiet))
        }
        Command::ServiceInspect { services, pretty } => {
            let found: Vec<&Service> = services.iter().map(|s| store.lookup_service(s)).collect::<Result<_, _>>()?;
            Ok(if *pretty {
                inspect::service_inspect_pretty(store, &found)
            } else {
                inspect::service_inspect(store, &found)
            })
        }
        Command::SwarmJoinToken { role, quiet, rotate: false } => {
            let cluster = store.cluster.as_ref().ok_or_else(|| NOT_IN_SWARM.to_string())?;
            let token = match role {
                NodeRole::Worker => &cluster.worker_token,
                NodeRole::Manager => &cluster.manager_token,
            };
            Ok(if *quiet { format!("{token}\n") } else { join_instructions(*role, token, addr) })
        }
        other => Err(format!("unsupported command on a manager: {other:?}")),
    }
}
