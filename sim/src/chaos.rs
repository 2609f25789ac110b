//! Swarm testing: every seed draws its own fault mix — which kinds of fault are enabled and how
//! often each comes — and from it a bounded fault schedule (`ChaosPlan`) over the scenario's
//! hosts. Mixes that leave most kinds out reach states that an "everything at once" mix
//! drowns (Groce et al., "Swarm testing", ISSTA 2012).
//!
//! The plan is a pure function of (seed, scenario): its RNG is seeded from the seed and the
//! word "chaos", apart from the world's own RNGs, so the same seed replays the same plan and
//! shrinking can replay edited plans against an unchanged world.

pub mod facts;

use crate::faults::Fault;
use crate::runner::{ChaosPlan, DEFAULT_LIVENESS_BOUND};
use facts::ScenarioFacts;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// At most this many faults per plan (heals and restarts included).
pub const MAX_FAULTS: usize = 20;
/// Faults start within this much simulated time after the scenario's own steps.
pub const FAULT_WINDOW: Duration = Duration::from_secs(180);
/// A host brought down or cut off comes back this long after, at most.
const MAX_OUTAGE: Duration = Duration::from_secs(60);

/// The "sometimes" conditions the world can report (see `World::sometimes`).
pub const KNOWN_SOMETIMES: [&str; 7] = [
    "leader-change-during-write",
    "task-replaced-while-node-partitioned",
    "join-refused",
    "node-down-detected",
    "restart-from-disk",
    "corrupt-frame-rejected",
    "stale-leader-resumed",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    Kill,
    Crash,
    StopDaemon,
    LoseLeader,
    Isolate,
    Partition,
    OneWay,
    Link,
    ClockSkew,
    SlowDisk,
    FailDisk,
    Pause,
    Corrupt,
    Runtime,
    LoseDataRoot,
}

impl FaultKind {
    pub const ALL: [FaultKind; 15] = [
        FaultKind::Kill,
        FaultKind::Crash,
        FaultKind::StopDaemon,
        FaultKind::LoseLeader,
        FaultKind::Isolate,
        FaultKind::Partition,
        FaultKind::OneWay,
        FaultKind::Link,
        FaultKind::ClockSkew,
        FaultKind::SlowDisk,
        FaultKind::FailDisk,
        FaultKind::Pause,
        FaultKind::Corrupt,
        FaultKind::Runtime,
        FaultKind::LoseDataRoot,
    ];

    /// The "sometimes" conditions a mix with this kind enabled should reach across a sweep.
    fn expected_sometimes(self) -> &'static [&'static str] {
        match self {
            FaultKind::Crash | FaultKind::StopDaemon | FaultKind::FailDisk => &["restart-from-disk"],
            FaultKind::Corrupt => &["corrupt-frame-rejected"],
            FaultKind::LoseLeader => &["leader-change-during-write", "restart-from-disk"],
            FaultKind::Isolate | FaultKind::Partition => {
                &["node-down-detected", "task-replaced-while-node-partitioned"]
            }
            // A paused leader is deposed only where another manager can win an election
            // ("stale-leader-resumed" is recorded, not expected); a failing runtime and a lost
            // data root show in the tasks and nodes the convergence check waits for.
            FaultKind::Kill
            | FaultKind::OneWay
            | FaultKind::Link
            | FaultKind::ClockSkew
            | FaultKind::SlowDisk
            | FaultKind::Pause
            | FaultKind::Runtime
            | FaultKind::LoseDataRoot => &[],
        }
    }
}

/// The kinds one seed enables, each with a relative rate (weight).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultMix {
    pub weights: BTreeMap<FaultKind, u32>,
    /// How many faults the plan draws (before pairing restarts and heals).
    pub fault_count: usize,
}

impl FaultMix {
    /// What this mix declares it should reach ("sometimes" assertions of the sweep).
    pub fn expected_sometimes(&self) -> BTreeSet<String> {
        self.weights.keys().flat_map(|k| k.expected_sometimes().iter().map(|s| s.to_string())).collect()
    }
}

/// The chaos RNG of one seed: SHA-256 of the seed and the word "chaos", so it shares nothing
/// with the world's RNGs (which are seeded from the seed alone).
pub fn chaos_rng(seed: u64) -> ChaCha8Rng {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(b"chaos");
    ChaCha8Rng::from_seed(hasher.finalize().into())
}

/// Draws the mix: each kind enabled with probability 1/2 (at least one), weights 1..=10.
pub fn draw_mix(rng: &mut ChaCha8Rng, facts: &ScenarioFacts) -> FaultMix {
    let possible: Vec<FaultKind> = FaultKind::ALL.into_iter().filter(|k| kind_possible(*k, facts)).collect();
    assert!(!possible.is_empty(), "every scenario has a host, so some fault is possible");
    let mut weights = BTreeMap::new();
    for kind in &possible {
        if rng.gen_bool(0.5) {
            weights.insert(*kind, rng.gen_range(1..=10));
        }
    }
    if weights.is_empty() {
        weights.insert(*possible.choose(rng).expect("not empty"), 1);
    }
    FaultMix { weights, fault_count: rng.gen_range(1..=MAX_FAULTS / 2) }
}

fn kind_possible(kind: FaultKind, facts: &ScenarioFacts) -> bool {
    match kind {
        FaultKind::Kill => !facts.kill_targets().is_empty(),
        FaultKind::Partition | FaultKind::OneWay | FaultKind::Link | FaultKind::Corrupt => facts.hosts.len() >= 2,
        // Never the host that ran `swarm init` (a lone manager's data is the whole swarm).
        FaultKind::LoseDataRoot => facts.members.len() >= 2,
        _ => !facts.hosts.is_empty(),
    }
}

/// The seed's mix and plan.
pub fn plan_for_seed(seed: u64, facts: &ScenarioFacts) -> (FaultMix, ChaosPlan) {
    let mut rng = chaos_rng(seed);
    let mix = draw_mix(&mut rng, facts);
    let plan = generate_plan(&mut rng, &mix, facts);
    (mix, plan)
}

/// A schedule of `mix.fault_count` faults in `FAULT_WINDOW`, plus the restarts and heals that
/// usually follow them, capped at `MAX_FAULTS`, sorted by time.
pub fn generate_plan(rng: &mut ChaCha8Rng, mix: &FaultMix, facts: &ScenarioFacts) -> ChaosPlan {
    let kinds: Vec<(FaultKind, u32)> = mix.weights.iter().map(|(k, w)| (*k, *w)).collect();
    let mut starts_ms: Vec<u64> =
        (0..mix.fault_count).map(|_| rng.gen_range(0..FAULT_WINDOW.as_millis() as u64)).collect();
    starts_ms.sort_unstable();
    let mut drawer =
        PlanDrawer { rng, facts, faults: Vec::new(), down_until_ms: BTreeMap::new(), data_root_lost: false };
    for start_ms in starts_ms {
        let kind = kinds.choose_weighted(drawer.rng, |(_, w)| *w).expect("weights are positive").0;
        drawer.draw(kind, start_ms);
    }
    let mut faults = drawer.faults;
    // Stable: a fault and the restart drawn at the same millisecond keep their order.
    faults.sort_by_key(|(at, _)| *at);
    faults.truncate(MAX_FAULTS);
    ChaosPlan { faults, liveness_bound: DEFAULT_LIVENESS_BOUND }
}

struct PlanDrawer<'a> {
    rng: &'a mut ChaCha8Rng,
    facts: &'a ScenarioFacts,
    faults: Vec<(Duration, Fault)>,
    /// Hosts this plan brought down, and until when (`u64::MAX`: until the final heal).
    down_until_ms: BTreeMap<String, u64>,
    /// At most one host per plan loses its data root.
    data_root_lost: bool,
}

impl PlanDrawer<'_> {
    fn push(&mut self, at_ms: u64, fault: Fault) {
        self.faults.push((Duration::from_millis(at_ms), fault));
    }

    fn host(&mut self) -> String {
        self.facts.hosts.choose(self.rng).expect("a scenario has hosts").clone()
    }

    fn two_hosts(&mut self) -> (String, String) {
        let pair: Vec<&String> = self.facts.hosts.choose_multiple(self.rng, 2).collect();
        (pair[0].clone(), pair[1].clone())
    }

    fn outage_end_ms(&mut self, start_ms: u64) -> u64 {
        start_ms + self.rng.gen_range(5_000..=MAX_OUTAGE.as_millis() as u64)
    }

    /// Faults that lift after a while: usually (3 in 4) a `heal` follows.
    fn maybe_heal(&mut self, start_ms: u64) {
        if self.rng.gen_bool(0.75) {
            let end = self.outage_end_ms(start_ms);
            self.push(end, Fault::Heal);
        }
    }

    fn draw(&mut self, kind: FaultKind, start_ms: u64) {
        match kind {
            FaultKind::Kill => {
                let target = self.facts.kill_targets().choose(self.rng).expect("kind_possible checked").clone();
                self.push(start_ms, Fault::Kill { target, node: None });
            }
            FaultKind::Crash | FaultKind::StopDaemon => self.take_down(kind, start_ms),
            FaultKind::LoseLeader => self.push(start_ms, Fault::LoseLeader),
            FaultKind::Isolate => {
                let node = self.host();
                self.push(start_ms, Fault::Isolate { node });
                self.maybe_heal(start_ms);
            }
            FaultKind::Partition => {
                let groups = self.partition_groups();
                self.push(start_ms, Fault::Partition { groups });
                self.maybe_heal(start_ms);
            }
            FaultKind::OneWay => {
                let (from, to) = self.two_hosts();
                self.push(start_ms, Fault::OneWay { from, to });
                self.maybe_heal(start_ms);
            }
            FaultKind::Link => {
                let (from, to) = self.two_hosts();
                let fault = Fault::Link {
                    from,
                    to,
                    both: self.rng.gen_bool(0.5),
                    drop: self.rate(0.5),
                    duplicate: self.rate(0.2),
                    extra_delay: Duration::from_millis(self.rng.gen_range(0..=200)),
                    extra_jitter: Duration::from_millis(self.rng.gen_range(0..=100)),
                };
                self.push(start_ms, fault);
                self.maybe_heal(start_ms);
            }
            FaultKind::ClockSkew => {
                let node = self.host();
                let offset_ms = self.rng.gen_range(-5_000..=5_000);
                let drift_ppm = self.rng.gen_range(-500..=500);
                self.push(start_ms, Fault::ClockSkew { node, offset_ms, drift_ppm });
            }
            FaultKind::SlowDisk => {
                let node = self.host();
                let delay = Duration::from_millis(self.rng.gen_range(1..=500));
                self.push(start_ms, Fault::SlowDisk { node, delay });
            }
            FaultKind::FailDisk => {
                // The daemon stops at its next write; 3 times in 4 it is started again later.
                let node = self.host();
                self.push(start_ms, Fault::FailDisk { node: node.clone() });
                if self.rng.gen_bool(0.75) {
                    let end = self.outage_end_ms(start_ms);
                    self.push(end, Fault::Restart { node });
                }
            }
            FaultKind::Pause => {
                // Up to three election timeouts (10 s in swarm): long enough to depose a leader.
                let node = self.host();
                let duration = Duration::from_millis(self.rng.gen_range(1_000..=30_000));
                self.push(start_ms, Fault::Pause { node, duration });
            }
            FaultKind::Corrupt => {
                let (from, to) = self.two_hosts();
                let rate = self.rate(0.5).max(0.05);
                self.push(start_ms, Fault::Corrupt { from, to, rate });
                self.maybe_heal(start_ms);
            }
            FaultKind::Runtime => {
                let node = self.host();
                let hang = self.rng.gen_bool(0.5);
                let duration = Duration::from_millis(self.rng.gen_range(5_000..=MAX_OUTAGE.as_millis() as u64));
                self.push(start_ms, Fault::Runtime { node, hang, duration });
            }
            FaultKind::LoseDataRoot => {
                if self.data_root_lost {
                    return;
                }
                self.data_root_lost = true;
                let node = self.facts.members[1..].choose(self.rng).expect("kind_possible checked").clone();
                self.push(start_ms, Fault::LoseDataRoot { node });
            }
        }
    }

    /// A probability in steps of 0.05 (short to print, easy to halve while shrinking).
    fn rate(&mut self, max: f64) -> f64 {
        let steps = (max / 0.05).round() as u32;
        self.rng.gen_range(0..=steps) as f64 * 0.05
    }

    /// Crash or stop a host that is up, never the last one up; 3 times in 4 it restarts later.
    fn take_down(&mut self, kind: FaultKind, start_ms: u64) {
        let up: Vec<String> = self
            .facts
            .hosts
            .iter()
            .filter(|h| self.down_until_ms.get(*h).map(|until| *until <= start_ms).unwrap_or(true))
            .cloned()
            .collect();
        if up.len() < 2 {
            return;
        }
        let node = up.choose(self.rng).expect("two or more").clone();
        let fault = match kind {
            FaultKind::Crash => Fault::Crash { node: node.clone() },
            _ => Fault::StopDaemon { node: node.clone() },
        };
        self.push(start_ms, fault);
        if self.rng.gen_bool(0.75) {
            let end = self.outage_end_ms(start_ms);
            self.push(end, Fault::Restart { node: node.clone() });
            self.down_until_ms.insert(node, end);
        } else {
            self.down_until_ms.insert(node, u64::MAX);
        }
    }

    /// Two disjoint groups from a shuffle of the hosts; with three or more hosts, one time in
    /// five a host joins both (a bridge).
    fn partition_groups(&mut self) -> Vec<Vec<String>> {
        let mut hosts = self.facts.hosts.clone();
        hosts.shuffle(self.rng);
        let bridge = if hosts.len() >= 3 && self.rng.gen_bool(0.2) { hosts.pop() } else { None };
        let cut = self.rng.gen_range(1..hosts.len());
        let mut groups = vec![hosts[..cut].to_vec(), hosts[cut..].to_vec()];
        if let Some(b) = bridge {
            for g in groups.iter_mut() {
                g.push(b.clone());
            }
        }
        for g in groups.iter_mut() {
            g.sort();
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three_hosts() -> ScenarioFacts {
        ScenarioFacts {
            hosts: vec!["bd0".into(), "bd1".into(), "bd2".into()],
            members: vec!["bd0".into(), "bd1".into(), "bd2".into()],
            services: [("web".to_string(), Some(2))].into_iter().collect(),
            left_down: vec![],
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_plan_and_others_differ() {
        let facts = three_hosts();
        assert_eq!(plan_for_seed(7, &facts), plan_for_seed(7, &facts));
        let distinct: BTreeSet<String> = (0..20).map(|s| format!("{:?}", plan_for_seed(s, &facts).1)).collect();
        assert!(distinct.len() >= 18, "seeds should give different plans, got {} distinct of 20", distinct.len());
    }

    #[test]
    fn plans_stay_within_their_bounds() {
        let facts = three_hosts();
        for seed in 0..500 {
            let (_, plan) = plan_for_seed(seed, &facts);
            // With three hosts the first fault drawn always lands.
            assert!(!plan.faults.is_empty(), "seed {seed}");
            assert!(plan.faults.len() <= MAX_FAULTS);
            assert!(plan.faults.windows(2).all(|w| w[0].0 <= w[1].0), "sorted by time");
            for (at, fault) in &plan.faults {
                assert!(*at <= FAULT_WINDOW + MAX_OUTAGE, "seed {seed}: {fault:?} at {at:?}");
                if let Fault::Partition { groups } = fault {
                    assert_eq!(groups.len(), 2);
                    assert!(groups.iter().all(|g| !g.is_empty()));
                }
            }
        }
    }

    #[test]
    fn a_plan_never_takes_every_host_down_at_once() {
        let facts = three_hosts();
        for seed in 0..500 {
            let (_, plan) = plan_for_seed(seed, &facts);
            let mut down = BTreeSet::new();
            for (_, fault) in &plan.faults {
                match fault {
                    Fault::Crash { node } | Fault::StopDaemon { node } => {
                        down.insert(node.clone());
                    }
                    Fault::Restart { node } => {
                        down.remove(node);
                    }
                    _ => {}
                }
                assert!(down.len() < facts.hosts.len(), "seed {seed}: every host down");
            }
        }
    }

    #[test]
    fn crashes_are_usually_followed_by_a_restart_of_the_same_host() {
        let facts = three_hosts();
        let (mut crashes, mut restarted) = (0, 0);
        for seed in 0..300 {
            let (_, plan) = plan_for_seed(seed, &facts);
            for (i, (_, fault)) in plan.faults.iter().enumerate() {
                if let Fault::Crash { node } = fault {
                    crashes += 1;
                    let later = &plan.faults[i + 1..];
                    if later.iter().any(|(_, f)| matches!(f, Fault::Restart { node: n } if n == node)) {
                        restarted += 1;
                    }
                }
            }
        }
        assert!(crashes > 50, "crashes are drawn: {crashes}");
        assert!(restarted * 2 > crashes, "{restarted} of {crashes} crashes restarted");
    }
}
