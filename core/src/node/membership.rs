//! Membership: `swarm init`, `swarm join` (the handshake with a manager) and `swarm leave`.

use super::{Member, Membership, Node, Node_, Pending, JOIN_TIMEOUT};
use crate::api::*;
use crate::control::errors::{ALREADY_IN_SWARM, NOT_A_MANAGER_WORKER, NO_LEADER_ERROR};
use crate::control::Response;
use crate::docker_version::DockerVersion;
use crate::ids::{NetworkId, NodeId};
use crate::io::Output;
use crate::manager::{Manager, Origin};
use crate::message::{Addr, JoinAccepted, JoinRefused, JoinRequest, Message};
use crate::persist::Identity;
use crate::runtime::ContainerCommand;
use crate::store::StoreAction;
use crate::time::Instant;
use crate::tokens;
use crate::worker::agent::Agent;
use core::net::Ipv4Addr;
use rand::{Rng, RngCore};

impl Node {
    pub(super) fn choose_advertise_addr(&self, given: Option<String>) -> Result<Ipv4Addr, String> {
        if let Some(given) = given {
            let host = crate::addr::host(&given);
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

    pub(super) fn description(&self) -> NodeDescription {
        NodeDescription {
            hostname: self.config.hostname.clone(),
            platform_os: "linux".into(),
            platform_arch: "x86_64".into(),
            resources: self.config.resources,
            engine_version: self.config.engine_version.clone(),
            engine_labels: self.config.engine_labels.clone(),
        }
    }

    pub(super) fn swarm_init(&mut self, now: Instant, req_id: u64, advertise: Option<String>, pool: Option<AddrPool>) {
        if !matches!(self.membership, Membership::Outside) {
            return self.reply(req_id, Err(ALREADY_IN_SWARM.into()));
        }
        if let Some(Err(e)) = pool.as_ref().map(AddrPool::validate) {
            return self.reply(req_id, Err(e.into()));
        }
        // Since moby#36396 (docker 18.09) a swarm without `--default-addr-pool` takes its
        // subnets from 10.0.0.0/8 in /24s, so 20.10's ingress is 10.0.0.0/24 and the first
        // overlay 10.0.1.0/24 (conformance/reference/docker-20.10, 11-service-inspect); 1.12
        // had fixed ranges, ingress 10.255.0.0/16 (the tutorial's VIP 10.255.0.6/16).
        let pool = pool.or_else(|| match self.config.docker_version {
            DockerVersion::V1_12 => None,
            DockerVersion::V20_10 => Some(AddrPool {
                pools: vec![Subnet::parse("10.0.0.0/8").expect("a CIDR")],
                subnet_size: crate::api::DEFAULT_SUBNET_SIZE,
            }),
        });
        let ip = match self.choose_advertise_addr(advertise) {
            Ok(ip) => ip,
            Err(e) => return self.reply(req_id, Err(e.into())),
        };
        let addr = Addr::on_cluster_port(ip);
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
            dispatcher_heartbeat: crate::api::DEFAULT_DISPATCHER_HEARTBEAT,
            node_cert_expiry: crate::api::DEFAULT_NODE_CERT_EXPIRY,
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
            manager_status: Some(ManagerStatus { raft_id, addr, reachable: true }),
            created_at: now,
        };
        let ingress = Network {
            labels: Default::default(),
            attachable: false,
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
        let response = Response::SwarmInitialized {
            node_id: node_id.clone(),
            worker_token: cluster.worker_token.clone(),
            advertise_addr: addr,
        };
        self.outputs.push(Output::SaveIdentity(Some(Identity {
            node_id: node_id.clone(),
            role: NodeRole::Manager,
            advertise_addr: addr,
            raft_id: Some(raft_id),
            managers: vec![(raft_id, addr)],
        })));
        let mut manager = Manager::bootstrap(raft_id, addr, now, &mut self.rng, &mut self.outputs);
        let actions =
            vec![StoreAction::SetCluster(cluster), StoreAction::CreateNode(node), StoreAction::CreateNetwork(ingress)];
        manager.plant(self.planted);
        manager.behave_as(self.config.docker_version);
        if let Err(e) = manager.propose_initial_state(actions, Origin::Local(req_id), response) {
            return self.reply(req_id, Err(e.into()));
        }
        let agent = Box::new(Agent::new(node_id.clone(), vec![addr], addr, now));
        self.membership =
            Membership::Member(Member { node_id, advertise_addr: addr, manager: Some(Box::new(manager)), agent });
        if let Membership::Member(Member { manager: Some(mgr), .. }) = &mut self.membership {
            mgr.on_timer(now, &mut self.rng, &mut self.outputs);
        }
    }

    /// `swarm init --force-new-cluster`. Outside a swarm it is a plain `swarm init` (moby's
    /// `Cluster.Init` starts a new node either way); on a worker, or a node still joining, it
    /// is refused with moby's `errSwarmNotManager`; on a manager (typically one that lost its
    /// quorum) Raft restarts from this node's own log and snapshot with this node the only
    /// voter: the store, so every service, network and node, is kept, the tasks on live
    /// workers keep running and the workers find the new leader among the managers they know.
    /// The node keeps its ID; the reply is `swarm init`'s.
    pub(super) fn swarm_force_new_cluster(
        &mut self,
        now: Instant,
        req_id: u64,
        advertise: Option<String>,
        pool: Option<AddrPool>,
    ) {
        let member = match &mut self.membership {
            Membership::Outside => return self.swarm_init(now, req_id, advertise, pool),
            Membership::Joining { .. } | Membership::Member(Member { manager: None, .. }) => {
                return self.reply(req_id, Err(NOT_A_MANAGER_WORKER.into()))
            }
            Membership::Member(m) => m,
        };
        let old = member.manager.take().expect("matched a manager above");
        let manager = old.force_new_cluster(now, &mut self.rng, &mut self.outputs);
        let raft_id = manager.raft.id();
        let addr = member.advertise_addr;
        let worker_token = manager.store.cluster.as_ref().map(|c| c.worker_token.clone()).unwrap_or_default();
        member.manager = Some(Box::new(manager));
        // Who the node is stays; the managers it knows are now itself alone, so a restart
        // does not look for the others.
        self.outputs.push(Output::SaveIdentity(Some(Identity {
            node_id: member.node_id.clone(),
            role: NodeRole::Manager,
            advertise_addr: addr,
            raft_id: Some(raft_id),
            managers: vec![(raft_id, addr)],
        })));
        let node_id = member.node_id.clone();
        self.reply(req_id, Ok(Response::SwarmInitialized { node_id, worker_token, advertise_addr: addr }));
    }

    /// A manager this node's Raft messages reached says this node was removed from Raft (the
    /// others were left out by `--force-new-cluster`): as swarmkit's node on
    /// `ErrMemberRemoved`, the manager stops and the node goes on as a worker.
    pub(super) fn on_removed_from_raft(&mut self, raft_id: u64) {
        let Membership::Member(member) = &mut self.membership else { return };
        let Some(manager) = member.manager.take_if(|m| m.raft.id() == raft_id) else { return };
        // The managers it knew are where its agent, and the agent after a restart, looks for
        // the leader (the one that refused it among them).
        let managers: Vec<(u64, Addr)> =
            manager.peers.iter().filter(|(id, _)| **id != raft_id).map(|(id, a)| (*id, *a)).collect();
        self.outputs.push(Output::SaveIdentity(Some(Identity {
            node_id: member.node_id.clone(),
            role: NodeRole::Worker,
            advertise_addr: member.advertise_addr,
            raft_id: None,
            managers,
        })));
    }

    pub(super) fn swarm_join(
        &mut self,
        now: Instant,
        req_id: u64,
        token: String,
        remote: String,
        advertise: Option<String>,
    ) {
        if !matches!(self.membership, Membership::Outside) {
            return self.reply(req_id, Err(ALREADY_IN_SWARM.into()));
        }
        if let Err(e) = tokens::parse_join_token(&token) {
            return self.reply(req_id, Err(e.into()));
        }
        let ip = match self.choose_advertise_addr(advertise) {
            Ok(ip) => ip,
            Err(e) => return self.reply(req_id, Err(e.into())),
        };
        let request_id = self.new_request_id();
        let advertise_addr = Addr::on_cluster_port(ip);
        self.pending.insert(request_id, Pending::Join { req_id, deadline: now + JOIN_TIMEOUT });
        // A host name: core resolves none (a driver may, before handing the request in), so,
        // as a dial to a name that does not resolve, the join times out with docker's words.
        if let Some(remote) = Addr::with_cluster_port(&remote) {
            self.send_join(request_id, &token, &advertise_addr, remote);
        }
        self.membership = Membership::Joining { request_id, token, advertise_addr };
    }

    pub(super) fn send_join(&mut self, request_id: u64, token: &str, advertise_addr: &Addr, to: Addr) {
        let req = JoinRequest {
            request_id,
            token: token.to_string(),
            advertise_addr: *advertise_addr,
            description: self.description(),
        };
        self.outputs.push(Output::Send { to, msg: Message::JoinRequest(req) });
    }

    pub(super) fn on_join_response(
        &mut self,
        now: Instant,
        request_id: u64,
        result: Result<JoinAccepted, JoinRefused>,
    ) {
        let Membership::Joining { request_id: expected, token, advertise_addr } = &self.membership else { return };
        if *expected != request_id {
            return;
        }
        let (token, advertise_addr) = (token.clone(), *advertise_addr);
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
                    self.reply(req_id, Err(NO_LEADER_ERROR.into()));
                }
            }
            Err(JoinRefused::Error(e)) => {
                self.membership = Membership::Outside;
                self.pending.remove(&request_id);
                if let Some(req_id) = req_id {
                    self.reply(req_id, Err(e.into()));
                }
            }
            Ok(accepted) => {
                self.pending.remove(&request_id);
                let managers: Vec<Addr> = accepted.managers.iter().map(|(_, a)| *a).collect();
                let manager = accepted
                    .raft_id
                    .map(|id| Manager::joining(id, advertise_addr, &accepted.managers, now, &mut self.rng))
                    .map(|mut m| {
                        m.plant(self.planted);
                        m.behave_as(self.config.docker_version);
                        Box::new(m)
                    });
                self.outputs.push(Output::SaveIdentity(Some(Identity {
                    node_id: accepted.node_id.clone(),
                    role: accepted.role,
                    advertise_addr,
                    raft_id: accepted.raft_id,
                    managers: accepted.managers.clone(),
                })));
                let agent = Box::new(Agent::new(accepted.node_id.clone(), managers, accepted.leader_addr, now));
                self.membership =
                    Membership::Member(Member { node_id: accepted.node_id, advertise_addr, manager, agent });
                if let Some(req_id) = req_id {
                    self.reply(req_id, Ok(Response::SwarmJoined { role: accepted.role }));
                }
            }
        }
    }

    pub(super) fn swarm_leave(&mut self, req_id: u64, force: bool) {
        match &self.membership {
            Membership::Outside => self.reply(req_id, Err("This node is not part of a swarm".into())),
            Membership::Member(Member { manager: Some(mgr), .. }) if !force => {
                let warning = leave_warning(mgr);
                self.reply(req_id, Err(warning.into()))
            }
            _ => {
                // As dockerd's `Cluster.Leave`: the node's task containers are removed (forced:
                // running ones are killed), then its swarm state.
                if let Membership::Member(m) = &self.membership {
                    for name in m.agent.containers.keys() {
                        self.outputs.push(Output::Container(ContainerCommand::Remove { name: name.clone() }));
                    }
                }
                self.membership = Membership::Outside;
                self.outputs.push(Output::SaveIdentity(None));
                self.reply(req_id, Ok(Response::SwarmLeft));
            }
        }
    }
}

/// dockerd's refusal of `swarm leave` without `--force` on a manager (moby
/// `daemon/cluster/swarm.go` `Leave`), from the manager statuses its `node ls` would show
/// (`managerStats`: the leader and reachable managers count as reachable). Without a leader
/// the node list cannot be read, and the warning has no count.
fn leave_warning(mgr: &Manager) -> String {
    let mut msg = "You are attempting to leave the swarm on a node that is participating as a manager. ".to_string();
    if mgr.is_leader() || mgr.leader_addr().is_some() {
        let statuses = mgr.manager_statuses();
        let reachable = statuses.values().filter(|s| *s != "Unreachable").count();
        let unreachable = statuses.len() - reachable;
        let own_reachable =
            mgr.store.nodes.values().any(|n| n.manager_status.as_ref().is_some_and(|ms| ms.raft_id == mgr.raft.id()));
        // moby `removingManagerCausesLossOfQuorum` and `isLastManager`.
        if own_reachable && reachable as i64 - 2 <= unreachable as i64 {
            if reachable == 1 && unreachable == 0 {
                msg.push_str(
                    "Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.",
                );
                return msg;
            }
            msg.push_str(&format!(
                "Removing this node leaves {} managers out of {}. Without a Raft quorum your swarm will be inaccessible. ",
                reachable - 1,
                reachable + unreachable
            ));
        }
    }
    msg.push_str("The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.");
    msg
}
