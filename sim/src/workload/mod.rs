//! The workload: simulated clients that talk to the cluster while chaos faults fire, each
//! operation recorded with its invoke and completion times and its outcome, for the history
//! checker (`crate::history`).
//!
//! The plan is a pure function of (seed, scenario facts, config): its RNG is seeded from the
//! seed and the word "workload", apart from the world's and the chaos plan's, so shrinking the
//! fault schedule keeps every operation (only their timing follows the world), and the op list
//! itself can be shrunk by deleting operations. Every object an operation creates has a name of
//! its own (`wl-svc-17`: made by op 17), so the checker can attribute every effect to one call.
//!
//! A client is one sequential process (Jepsen's model): it issues its next operation a think
//! time after its previous one completed. An operation whose outcome the client cannot know (a
//! timeout, the node crashed, the daemon said the deadline passed or leadership was lost while
//! the entry was in flight) is *unknown*: it may take effect at any later time, or never.

use crate::chaos::facts::ScenarioFacts;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Duration;
use swarm_core::control::{Reply, Response};
use swarm_core::time::Instant;

/// The client gives up on an answer after this long (docker's CLI has no deadline of its own;
/// the daemon answers a forwarded call within its 20 s, so this is only reached when a node
/// holds a call for longer).
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// What `[workload]` or `--workload` sets: how many clients, how often, which operations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkloadConfig {
    pub clients: usize,
    /// The mean think time between one operation's completion and the client's next.
    pub think: Duration,
    /// At most this many operations per client (the chaos phase usually ends first).
    pub ops_per_client: usize,
    /// Relative weight of each operation kind (0: never drawn).
    pub mix: BTreeMap<OpKind, u32>,
}

impl Default for WorkloadConfig {
    fn default() -> WorkloadConfig {
        WorkloadConfig {
            clients: 3,
            think: Duration::from_millis(1_000),
            ops_per_client: 200,
            mix: OpKind::ALL.iter().map(|k| (*k, k.default_weight())).collect(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpKind {
    ServiceCreate,
    ServiceUpdate,
    ServiceScale,
    ServiceRm,
    NodeLabel,
    NetworkCreate,
    NetworkRm,
    ServiceInspect,
    ServiceLs,
    ServicePs,
    NodeLs,
}

impl OpKind {
    pub const ALL: [OpKind; 11] = [
        OpKind::ServiceCreate,
        OpKind::ServiceUpdate,
        OpKind::ServiceScale,
        OpKind::ServiceRm,
        OpKind::NodeLabel,
        OpKind::NetworkCreate,
        OpKind::NetworkRm,
        OpKind::ServiceInspect,
        OpKind::ServiceLs,
        OpKind::ServicePs,
        OpKind::NodeLs,
    ];

    /// The name in `[workload] mix = { service-create = 3, ... }`.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::ServiceCreate => "service-create",
            OpKind::ServiceUpdate => "service-update",
            OpKind::ServiceScale => "service-scale",
            OpKind::ServiceRm => "service-rm",
            OpKind::NodeLabel => "node-label",
            OpKind::NetworkCreate => "network-create",
            OpKind::NetworkRm => "network-rm",
            OpKind::ServiceInspect => "service-inspect",
            OpKind::ServiceLs => "service-ls",
            OpKind::ServicePs => "service-ps",
            OpKind::NodeLs => "node-ls",
        }
    }

    pub fn parse(name: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn default_weight(self) -> u32 {
        match self {
            OpKind::ServiceCreate => 4,
            OpKind::ServiceUpdate | OpKind::ServiceScale => 3,
            OpKind::ServiceRm => 2,
            OpKind::NodeLabel => 2,
            OpKind::NetworkCreate | OpKind::NetworkRm => 1,
            OpKind::ServiceInspect | OpKind::ServiceLs => 3,
            OpKind::ServicePs | OpKind::NodeLs => 1,
        }
    }
}

/// An operation as the checker reads it: what it asks of which object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    CreateService { name: String, replicas: u64, image: String },
    UpdateImage { name: String, image: String },
    Scale { name: String, replicas: u64 },
    RemoveService { name: String },
    LabelNode { node: String, key: String, value: String },
    CreateNetwork { name: String },
    RemoveNetwork { name: String },
    InspectService { name: String },
    ListServices,
    PsService { name: String },
    ListNodes,
}

impl Op {
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Op::CreateService { .. }
                | Op::UpdateImage { .. }
                | Op::Scale { .. }
                | Op::RemoveService { .. }
                | Op::LabelNode { .. }
                | Op::CreateNetwork { .. }
                | Op::RemoveNetwork { .. }
        )
    }

    /// The docker command line a user would type for it.
    pub fn command(&self) -> String {
        match self {
            Op::CreateService { name, replicas, image } => {
                format!("docker service create --name {name} --replicas {replicas} {image}")
            }
            Op::UpdateImage { name, image } => format!("docker service update --image {image} {name}"),
            Op::Scale { name, replicas } => format!("docker service scale {name}={replicas}"),
            Op::RemoveService { name } => format!("docker service rm {name}"),
            Op::LabelNode { node, key, value } => format!("docker node update --label-add {key}={value} {node}"),
            Op::CreateNetwork { name } => format!("docker network create --driver overlay {name}"),
            Op::RemoveNetwork { name } => format!("docker network rm {name}"),
            Op::InspectService { name } => format!("docker service inspect {name}"),
            Op::ListServices => "docker service ls".to_string(),
            Op::PsService { name } => format!("docker service ps {name}"),
            Op::ListNodes => "docker node ls".to_string(),
        }
    }
}

/// One operation of the plan: which client issues it, on which host, after how long a think.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedOp {
    /// Unique in the plan; objects it creates carry it in their names.
    pub id: u64,
    pub client: usize,
    pub host: String,
    pub think: Duration,
    pub op: Op,
}

/// Every client's operations, in the order each client issues them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct WorkloadPlan {
    pub clients: usize,
    /// Ordered by (client, position); `id`s ascend.
    pub ops: Vec<PlannedOp>,
}

impl WorkloadPlan {
    /// The plan with only the operations whose id is in `keep` (shrinking).
    pub fn keeping(&self, keep: &[u64]) -> WorkloadPlan {
        WorkloadPlan { clients: self.clients, ops: self.ops.iter().filter(|o| keep.contains(&o.id)).cloned().collect() }
    }

    /// Each client's operations, in issue order.
    pub fn per_client(&self) -> Vec<Vec<PlannedOp>> {
        let mut out = vec![Vec::new(); self.clients];
        for op in &self.ops {
            out[op.client].push(op.clone());
        }
        out
    }
}

/// The workload RNG of one seed: SHA-256 of the seed and the word "workload".
pub fn workload_rng(seed: u64) -> ChaCha8Rng {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(b"workload");
    ChaCha8Rng::from_seed(hasher.finalize().into())
}

/// The seed's plan over the scenario's swarm members (managers and workers alike: a worker
/// refuses every call with swarm's words, which is a definite failure). No members: no plan.
pub fn plan_for_seed(seed: u64, facts: &ScenarioFacts, config: &WorkloadConfig) -> WorkloadPlan {
    let mut rng = workload_rng(seed);
    let mut plan = WorkloadPlan { clients: config.clients, ops: Vec::new() };
    if facts.members.is_empty() || config.clients == 0 {
        return plan;
    }
    let kinds: Vec<(OpKind, u32)> = config.mix.iter().filter(|(_, w)| **w > 0).map(|(k, w)| (*k, *w)).collect();
    if kinds.is_empty() {
        return plan;
    }
    // Objects earlier operations (of any client) create: later ones update, read or remove them.
    let mut services: Vec<String> = Vec::new();
    let mut networks: Vec<String> = Vec::new();
    let mut id = 0u64;
    let think_max_ms = (config.think.as_millis() as u64 * 2).max(1);
    for position in 0..config.ops_per_client {
        for client in 0..config.clients {
            let _ = position;
            id += 1;
            let kind = kinds.choose_weighted(&mut rng, |(_, w)| *w).expect("positive weights").0;
            let host = facts.members.choose(&mut rng).expect("members").clone();
            let think = Duration::from_millis(rng.gen_range(0..=think_max_ms));
            let pick = |rng: &mut ChaCha8Rng, names: &[String]| names.choose(rng).cloned();
            let op = match kind {
                OpKind::ServiceCreate => {
                    let name = format!("wl-svc-{id}");
                    services.push(name.clone());
                    Op::CreateService { name, replicas: rng.gen_range(0..=2), image: format!("busybox:wl-{id}") }
                }
                OpKind::ServiceUpdate => match pick(&mut rng, &services) {
                    Some(name) => Op::UpdateImage { name, image: format!("busybox:wl-{id}") },
                    None => Op::ListServices,
                },
                OpKind::ServiceScale => match pick(&mut rng, &services) {
                    Some(name) => Op::Scale { name, replicas: rng.gen_range(0..=3) },
                    None => Op::ListServices,
                },
                OpKind::ServiceRm => match pick(&mut rng, &services) {
                    Some(name) => Op::RemoveService { name },
                    None => Op::ListServices,
                },
                OpKind::NodeLabel => {
                    let node = facts.members.choose(&mut rng).expect("members").clone();
                    let key = ["wl-a", "wl-b"].choose(&mut rng).expect("two keys").to_string();
                    Op::LabelNode { node, key, value: format!("v{id}") }
                }
                OpKind::NetworkCreate => {
                    let name = format!("wl-net-{id}");
                    networks.push(name.clone());
                    Op::CreateNetwork { name }
                }
                OpKind::NetworkRm => match pick(&mut rng, &networks) {
                    Some(name) => Op::RemoveNetwork { name },
                    None => Op::ListServices,
                },
                OpKind::ServiceInspect => match pick(&mut rng, &services) {
                    Some(name) => Op::InspectService { name },
                    None => Op::ListServices,
                },
                OpKind::ServiceLs => Op::ListServices,
                OpKind::ServicePs => match pick(&mut rng, &services) {
                    Some(name) => Op::PsService { name },
                    None => Op::ListServices,
                },
                OpKind::NodeLs => Op::ListNodes,
            };
            plan.ops.push(PlannedOp { id, client, host, think, op });
        }
    }
    plan.ops.sort_by_key(|o| (o.client, o.id));
    plan
}

/// How an operation ended, as its client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The daemon answered with success (the reply kept for the checker).
    Ok(Response),
    /// The daemon refused with a definite error: the call had no effect.
    Failed(String),
    /// The client cannot know: a timeout, the node crashed, or an error that says the call may
    /// still take effect.
    Unknown(String),
}

impl Outcome {
    /// A daemon's answer: an error that leaves the call's fate open is `Unknown` (swarmkit's
    /// "lost leader status" comes after the entry was proposed, and a new leader may still
    /// commit it; a deadline passed while a forwarded call was in flight).
    pub fn of_reply(reply: &Reply) -> Outcome {
        match reply {
            Ok(response) => Outcome::Ok(response.clone()),
            Err(e) if error_is_indefinite(&e.message) => Outcome::Unknown(e.message.clone()),
            Err(e) => Outcome::Failed(e.message.clone()),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Outcome::Unknown(_))
    }

    /// One line for the trace and reports.
    pub fn summary(&self) -> String {
        match self {
            Outcome::Ok(response) => format!("ok {}", response.summary()),
            Outcome::Failed(e) => format!("failed {e:?}"),
            Outcome::Unknown(why) => format!("unknown ({why})"),
        }
    }
}

/// Errors after which a write may still take effect.
pub fn error_is_indefinite(message: &str) -> bool {
    message.contains("lost leader status") || message.contains("DeadlineExceeded")
}

/// One completed (or given up) operation of the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    pub id: u64,
    pub client: usize,
    /// The host whose daemon the client talked to.
    pub host: String,
    pub op: Op,
    pub invoked: Instant,
    /// When the client got its answer or gave up; an unknown operation may take effect later.
    pub completed: Instant,
    pub outcome: Outcome,
}

impl HistoryEntry {
    /// `op#17 c1 bd0 [12.300s..12.305s] docker service create ... -> ok ...`
    pub fn describe(&self) -> String {
        format!(
            "op#{} client {} on {} [{} .. {}] {} -> {}",
            self.id,
            self.client,
            self.host,
            self.invoked,
            self.completed,
            self.op.command(),
            self.outcome.summary()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> ScenarioFacts {
        ScenarioFacts {
            hosts: vec!["bd0".into(), "bd1".into(), "bd2".into()],
            members: vec!["bd0".into(), "bd1".into(), "bd2".into()],
            services: BTreeMap::new(),
            left_down: vec![],
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_plan_and_names_are_unique_per_operation() {
        let config = WorkloadConfig::default();
        let a = plan_for_seed(5, &facts(), &config);
        assert_eq!(a, plan_for_seed(5, &facts(), &config));
        assert_ne!(a, plan_for_seed(6, &facts(), &config));
        let mut created = std::collections::BTreeSet::new();
        for op in &a.ops {
            if let Op::CreateService { name, .. } | Op::CreateNetwork { name } = &op.op {
                assert!(created.insert(name.clone()), "{name} created twice");
                assert!(name.ends_with(&format!("-{}", op.id)), "{name} carries its op's id");
            }
        }
        assert_eq!(a.ops.len(), config.clients * config.ops_per_client);
    }

    #[test]
    fn every_command_parses_in_the_docker_grammar_as_the_operation_it_stands_for() {
        let plan = plan_for_seed(1, &facts(), &WorkloadConfig::default());
        for op in &plan.ops {
            let invocation = swarm_core::cli::parse(&op.op.command()).unwrap_or_else(|e| panic!("{:?}: {e}", op.op));
            assert_eq!(invocation.request.is_write(), op.op.is_write(), "{:?}", op.op);
        }
    }

    #[test]
    fn errors_that_leave_a_write_open_are_unknown() {
        let lost = swarm_core::control::errors::LOST_LEADERSHIP_ERROR;
        assert!(Outcome::of_reply(&Err(lost.into())).is_unknown());
        let worker = swarm_core::control::errors::NOT_A_MANAGER_WORKER;
        assert_eq!(Outcome::of_reply(&Err(worker.into())), Outcome::Failed(worker.into()));
    }
}
