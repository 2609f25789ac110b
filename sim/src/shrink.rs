//! Shrinking a failing chaos plan to a small one that fails the same way.
//!
//! First delete faults (delta debugging: halves, then quarters, ... then single faults), then
//! simplify what is left (shorter gaps between faults, fewer hosts cut off by a partition,
//! milder link faults, smaller clock skews and disk delays), deleting again after every round
//! of simplification. Every candidate is replayed through `still_fails`, which the caller
//! makes run the scenario with the same seed and compare the failure kind: the world is a pure
//! function of (seed, scenario, plan), so a replay is a faithful test of the candidate.
//!
//! Replays are bounded (`max_replays`): a failover run takes milliseconds, so a few hundred
//! replays cost about a second.

pub mod render;

use crate::faults::Fault;
use crate::runner::ChaosPlan;
use std::time::Duration;

/// Enough for a 20-fault plan: ddmin needs O(n log n) replays, simplification a few per fault.
pub const DEFAULT_MAX_REPLAYS: usize = 400;

#[derive(Clone, Debug, PartialEq)]
pub struct Shrunk {
    /// The smallest failing plan found (the input itself if nothing smaller fails).
    pub plan: ChaosPlan,
    /// Candidates replayed.
    pub replays: usize,
    /// The budget ran out before no candidate was left to try: the plan may shrink further.
    pub budget_exhausted: bool,
}

/// Shrinks `plan`, which must fail (`still_fails(plan)` is assumed, not replayed).
pub fn shrink(plan: &ChaosPlan, max_replays: usize, still_fails: impl FnMut(&ChaosPlan) -> bool) -> Shrunk {
    let mut shrinker = Shrinker { best: plan.clone(), replays: 0, max_replays, still_fails };
    let empty = ChaosPlan { faults: Vec::new(), ..plan.clone() };
    if !shrinker.try_candidate(empty) {
        shrinker.delete_chunks();
        loop {
            let before = shrinker.best.clone();
            shrinker.simplify_faults();
            shrinker.shorten_gaps();
            shrinker.delete_chunks();
            if shrinker.best == before || shrinker.exhausted() {
                break;
            }
        }
    }
    let budget_exhausted = shrinker.exhausted();
    Shrunk { plan: shrinker.best, replays: shrinker.replays, budget_exhausted }
}

struct Shrinker<F> {
    best: ChaosPlan,
    replays: usize,
    max_replays: usize,
    still_fails: F,
}

impl<F: FnMut(&ChaosPlan) -> bool> Shrinker<F> {
    fn exhausted(&self) -> bool {
        self.replays >= self.max_replays
    }

    /// Replays `candidate`; keeps it as the new best when it still fails.
    fn try_candidate(&mut self, candidate: ChaosPlan) -> bool {
        if self.exhausted() {
            return false;
        }
        debug_assert!(candidate.faults.windows(2).all(|w| w[0].0 <= w[1].0), "a candidate stays sorted by time");
        self.replays += 1;
        if (self.still_fails)(&candidate) {
            self.best = candidate;
            true
        } else {
            false
        }
    }

    fn without(&self, range: std::ops::Range<usize>) -> ChaosPlan {
        let mut faults = self.best.faults.clone();
        faults.drain(range);
        ChaosPlan { faults, ..self.best.clone() }
    }

    /// ddmin's deletion half: remove chunks of len/n faults, n doubling up to single faults.
    fn delete_chunks(&mut self) {
        let mut chunks = 2usize;
        while !self.best.faults.is_empty() && !self.exhausted() {
            let chunk_len = self.best.faults.len().div_ceil(chunks);
            let mut start = 0;
            let mut deleted_any = false;
            while start < self.best.faults.len() && !self.exhausted() {
                let end = (start + chunk_len).min(self.best.faults.len());
                // On success the next chunk has moved to `start`: stay there.
                if self.try_candidate(self.without(start..end)) {
                    deleted_any = true;
                } else {
                    start = end;
                }
            }
            if chunk_len == 1 && !deleted_any {
                break;
            }
            chunks = if deleted_any { (chunks - 1).max(2) } else { (chunks * 2).min(self.best.faults.len().max(1)) };
        }
    }

    /// Replaces each fault by the first simpler variant that still fails, until none does.
    fn simplify_faults(&mut self) {
        let mut i = 0;
        while i < self.best.faults.len() && !self.exhausted() {
            let simplified = simpler_variants(&self.best.faults[i].1).into_iter().any(|variant| {
                let mut candidate = self.best.clone();
                candidate.faults[i].1 = variant;
                self.try_candidate(candidate)
            });
            if !simplified {
                i += 1;
            }
        }
    }

    /// Shortens the gap before each fault (to zero, else by half), moving the faults after it
    /// earlier by as much: the schedule gets shorter and so does the replay.
    fn shorten_gaps(&mut self) {
        for i in 0..self.best.faults.len() {
            let previous = if i == 0 { Duration::ZERO } else { self.best.faults[i - 1].0 };
            let gap_ms = self.best.faults[i].0.saturating_sub(previous).as_millis() as u64;
            for cut_ms in [gap_ms, gap_ms / 2] {
                if cut_ms == 0 {
                    continue;
                }
                let mut candidate = self.best.clone();
                for (at, _) in &mut candidate.faults[i..] {
                    *at -= Duration::from_millis(cut_ms);
                }
                if self.try_candidate(candidate) {
                    break;
                }
            }
        }
    }
}

/// Simpler forms of one fault, most simplifying first. Any fault may become a `heal`, which
/// keeps its place in time: when a failure needs time to pass before the runner's final heal
/// (a crashed host must be found down), the last fault only marks time, and `heal` says so.
pub fn simpler_variants(fault: &Fault) -> Vec<Fault> {
    let mut variants = Vec::new();
    if *fault != Fault::Heal {
        variants.push(Fault::Heal);
    }
    match fault {
        Fault::Partition { groups } => partition_variants(groups, &mut variants),
        Fault::Link { from, to, both, drop, duplicate, extra_delay, extra_jitter } => {
            let link = |both: bool, drop: f64, duplicate: f64, extra_delay: Duration, extra_jitter: Duration| {
                Fault::Link { from: from.clone(), to: to.clone(), both, drop, duplicate, extra_delay, extra_jitter }
            };
            if *both {
                variants.push(link(false, *drop, *duplicate, *extra_delay, *extra_jitter));
            }
            for smaller in smaller_rates(*drop) {
                variants.push(link(*both, smaller, *duplicate, *extra_delay, *extra_jitter));
            }
            for smaller in smaller_rates(*duplicate) {
                variants.push(link(*both, *drop, smaller, *extra_delay, *extra_jitter));
            }
            for smaller in shorter(*extra_delay) {
                variants.push(link(*both, *drop, *duplicate, smaller, *extra_jitter));
            }
            for smaller in shorter(*extra_jitter) {
                variants.push(link(*both, *drop, *duplicate, *extra_delay, smaller));
            }
        }
        Fault::ClockSkew { node, offset_ms, drift_ppm } => {
            for offset in [0, offset_ms / 2] {
                if offset != *offset_ms {
                    variants.push(Fault::ClockSkew { node: node.clone(), offset_ms: offset, drift_ppm: *drift_ppm });
                }
            }
            for drift in [0, drift_ppm / 2] {
                if drift != *drift_ppm {
                    variants.push(Fault::ClockSkew { node: node.clone(), offset_ms: *offset_ms, drift_ppm: drift });
                }
            }
        }
        Fault::SlowDisk { node, delay } => {
            for shorter in shorter(*delay) {
                if !shorter.is_zero() {
                    variants.push(Fault::SlowDisk { node: node.clone(), delay: shorter });
                }
            }
        }
        Fault::Kill { target, node: Some(_) } => variants.push(Fault::Kill { target: target.clone(), node: None }),
        Fault::Pause { node, duration } => {
            for shorter in shorter(*duration).into_iter().filter(|d| !d.is_zero()) {
                variants.push(Fault::Pause { node: node.clone(), duration: shorter });
            }
        }
        Fault::Runtime { node, hang, duration } => {
            for shorter in shorter(*duration).into_iter().filter(|d| !d.is_zero()) {
                variants.push(Fault::Runtime { node: node.clone(), hang: *hang, duration: shorter });
            }
        }
        Fault::Corrupt { from, to, rate } => {
            for smaller in smaller_rates(*rate).into_iter().filter(|r| *r > 0.0) {
                variants.push(Fault::Corrupt { from: from.clone(), to: to.clone(), rate: smaller });
            }
        }
        // Losing the data root is also a crash and a restart, which keep the data.
        Fault::LoseDataRoot { node } => variants.push(Fault::Crash { node: node.clone() }),
        _ => {}
    }
    variants
}

/// Zero, then half (probabilities under 0.05 go straight to zero).
fn smaller_rates(rate: f64) -> Vec<f64> {
    match rate {
        r if r <= 0.0 => vec![],
        r if r < 0.05 => vec![0.0],
        r => vec![0.0, r / 2.0],
    }
}

/// Zero, then half, in whole milliseconds (the simulated clock's unit).
fn shorter(d: Duration) -> Vec<Duration> {
    let ms = d.as_millis() as u64;
    match ms {
        0 => vec![],
        1 => vec![Duration::ZERO],
        _ => vec![Duration::ZERO, Duration::from_millis(ms / 2)],
    }
}

/// Fewer hosts cut off: a one-host side becomes `isolate`; else a host moves from the smaller
/// side to the larger; with more than two groups, two merge; a bridge host stops bridging by
/// leaving all groups but its first (which reunites the sides it joined).
fn partition_variants(groups: &[Vec<String>], variants: &mut Vec<Fault>) {
    let in_every_group = |host: &String| groups.iter().all(|g| g.contains(host));
    if groups.len() == 2 {
        for (alone, other) in [(&groups[0], &groups[1]), (&groups[1], &groups[0])] {
            if let [host] = alone.as_slice() {
                if !other.contains(host) {
                    variants.push(Fault::Isolate { node: host.clone() });
                }
            }
        }
        let (small, large) = if groups[0].len() <= groups[1].len() { (0, 1) } else { (1, 0) };
        if groups[small].len() > 1 {
            for host in groups[small].iter().filter(|h| !in_every_group(h)) {
                let mut moved = groups.to_vec();
                moved[small].retain(|h| h != host);
                moved[large].push(host.clone());
                moved[large].sort();
                variants.push(Fault::Partition { groups: moved });
            }
        }
    }
    if groups.len() > 2 {
        for i in 1..groups.len() {
            let mut merged = groups.to_vec();
            let taken = merged.remove(i);
            merged[0].extend(taken);
            merged[0].sort();
            merged[0].dedup();
            variants.push(Fault::Partition { groups: merged });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(faults: Vec<(u64, Fault)>) -> ChaosPlan {
        ChaosPlan {
            faults: faults.into_iter().map(|(s, f)| (Duration::from_secs(s), f)).collect(),
            liveness_bound: Duration::from_secs(120),
        }
    }

    fn crash(node: &str) -> Fault {
        Fault::Crash { node: node.into() }
    }

    #[test]
    fn deletion_keeps_only_the_faults_the_failure_needs() {
        // Fails when bd1 and bd2 both crash, whatever else happens.
        let needs_both = |p: &ChaosPlan| {
            let crashed = |n: &str| p.faults.iter().any(|(_, f)| *f == crash(n));
            crashed("bd1") && crashed("bd2")
        };
        let mut faults: Vec<(u64, Fault)> = (0..16)
            .map(|i| (i * 10, Fault::SlowDisk { node: "bd0".into(), delay: Duration::from_millis(5) }))
            .collect();
        faults[3].1 = crash("bd1");
        faults[11].1 = crash("bd2");
        let shrunk = shrink(&plan(faults), DEFAULT_MAX_REPLAYS, needs_both);
        let kept: Vec<&Fault> = shrunk.plan.faults.iter().map(|(_, f)| f).collect();
        assert_eq!(kept, vec![&crash("bd1"), &crash("bd2")]);
        assert!(!shrunk.budget_exhausted);
        // The gaps shrink too: both crashes now happen at once, at the end of the steps.
        assert!(shrunk.plan.faults.iter().all(|(at, _)| at.is_zero()), "{:?}", shrunk.plan.faults);
    }

    #[test]
    fn a_plan_that_fails_without_faults_shrinks_to_nothing() {
        let shrunk = shrink(&plan(vec![(1, crash("bd0")), (2, Fault::Heal)]), 10, |_| true);
        assert!(shrunk.plan.faults.is_empty());
        assert_eq!(shrunk.replays, 1);
    }

    #[test]
    fn simplification_cuts_off_fewer_hosts_and_softens_links() {
        let groups = vec![vec!["bd0".to_string(), "bd1".into()], vec!["bd2".into(), "bd3".into(), "bd4".into()]];
        let link = Fault::Link {
            from: "bd0".into(),
            to: "bd1".into(),
            both: true,
            drop: 0.4,
            duplicate: 0.1,
            extra_delay: Duration::from_millis(100),
            extra_jitter: Duration::from_millis(40),
        };
        // Fails as long as bd0 is cut off from bd2 and some message from bd0 to bd1 is dropped.
        let fails = |p: &ChaosPlan| {
            let cut = p.faults.iter().any(|(_, f)| match f {
                Fault::Partition { groups } => {
                    groups.iter().any(|g| g.contains(&"bd0".to_string()) && !g.contains(&"bd2".to_string()))
                }
                Fault::Isolate { node } => node == "bd0" || node == "bd2",
                _ => false,
            });
            let drops = p.faults.iter().any(|(_, f)| matches!(f, Fault::Link { drop, .. } if *drop > 0.0));
            cut && drops
        };
        let shrunk = shrink(&plan(vec![(0, Fault::Partition { groups }), (30, link)]), DEFAULT_MAX_REPLAYS, fails);
        let faults: Vec<&Fault> = shrunk.plan.faults.iter().map(|(_, f)| f).collect();
        assert!(matches!(faults[0], Fault::Isolate { node } if node == "bd0" || node == "bd2"), "{faults:?}");
        match faults[1] {
            Fault::Link { both, drop, duplicate, extra_delay, extra_jitter, .. } => {
                assert!(!both);
                assert!(*drop > 0.0 && *drop <= 0.4);
                assert_eq!((*duplicate, *extra_delay, *extra_jitter), (0.0, Duration::ZERO, Duration::ZERO));
            }
            other => panic!("expected a link, got {other:?}"),
        }
    }

    #[test]
    fn the_replay_budget_is_respected() {
        let faults = (0..20).map(|i| (i, crash("bd1"))).collect();
        let mut calls = 0;
        let shrunk = shrink(&plan(faults), 7, |_| {
            calls += 1;
            false
        });
        assert_eq!(calls, 7);
        assert_eq!(shrunk.replays, 7);
        assert!(shrunk.budget_exhausted);
        assert_eq!(shrunk.plan.faults.len(), 20, "nothing smaller failed, so the plan is unchanged");
    }
}
