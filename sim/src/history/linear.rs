//! A bounded linearizability search over one object's history (Wing & Gong's algorithm with
//! Lowe's memoisation, as Porcupine and Knossos run it): find an order of the operations that
//! respects real time (an operation that completed before another was invoked comes first) and
//! that the sequential model accepts. Operations with an unknown outcome may be placed anywhere
//! after their invocation, or left out (they may never have taken effect).
//!
//! By P-compositionality (Horn & Kroening) a history is linearizable if and only if the history
//! of every object alone is, so the caller checks each object separately and the search stays
//! small.

use std::collections::BTreeSet;

/// A sequential specification: the state, and what an operation does to it (`None`: the
/// operation cannot happen in that state, or a read saw something else).
pub trait Model {
    type State: Clone + Ord;
    type Op;
    fn init(&self) -> Self::State;
    fn step(&self, state: &Self::State, op: &Self::Op) -> Option<Self::State>;
}

/// One operation of an object's history; times in simulated milliseconds.
#[derive(Clone, Debug)]
pub struct Call<O> {
    /// The history entry it came from (reports name it).
    pub entry: u64,
    pub invoke: u64,
    /// `None`: unknown outcome (may take effect at any time after `invoke`, or never).
    pub complete: Option<u64>,
    pub op: O,
}

/// Searched states before a check gives up (the history is then reported unchecked).
pub const DEFAULT_BUDGET: usize = 200_000;
/// Longest history searched (a bit per operation).
pub const MAX_CALLS: usize = 128;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    /// Not linearizable; the smallest prefix window that is not: every call invoked at or
    /// before `until` (calls completing after it may or may not have happened yet).
    Violation {
        until: u64,
        calls: Vec<u64>,
    },
    /// Too long or too costly to decide within the bounds.
    Unchecked(String),
}

/// Checks `calls` (any order) against `model`.
pub fn check<M: Model>(model: &M, calls: &[Call<M::Op>], budget: usize) -> Verdict {
    if calls.len() > MAX_CALLS {
        return Verdict::Unchecked(format!("{} operations, more than the {MAX_CALLS} searched", calls.len()));
    }
    let mut sorted: Vec<&Call<M::Op>> = calls.iter().collect();
    sorted.sort_by_key(|c| (c.invoke, c.entry));
    match linearizable(model, &sorted, u64::MAX, budget) {
        Some(true) => return Verdict::Linearizable,
        None => return Verdict::Unchecked(format!("more than {budget} states searched")),
        Some(false) => {}
    }
    // The shortest window: the first completion time whose prefix window fails. A window that
    // fails proves the whole history does (a linearization of the whole, cut at `until`, would
    // linearize the window), and windows only grow, so a binary search finds the first.
    let mut ends: Vec<u64> = sorted.iter().filter_map(|c| c.complete).collect();
    ends.sort_unstable();
    ends.dedup();
    let (mut lo, mut hi) = (0usize, ends.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        match linearizable(model, &sorted, ends[mid], budget) {
            Some(false) => hi = mid,
            _ => lo = mid + 1,
        }
    }
    let until = ends.get(lo).copied().unwrap_or(u64::MAX);
    let calls = sorted.iter().filter(|c| c.invoke <= until).map(|c| c.entry).collect();
    Verdict::Violation { until, calls }
}

/// Whether the window up to `until` is linearizable (`None`: the budget ran out). In the
/// window, calls invoked after `until` do not exist and calls completing after it are optional.
fn linearizable<M: Model>(model: &M, sorted: &[&Call<M::Op>], until: u64, budget: usize) -> Option<bool> {
    let calls: Vec<&Call<M::Op>> = sorted.iter().copied().filter(|c| c.invoke <= until).collect();
    let required: u128 = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| c.complete.is_some_and(|t| t <= until))
        .fold(0u128, |mask, (i, _)| mask | (1u128 << i));
    let mut seen: BTreeSet<(u128, M::State)> = BTreeSet::new();
    let mut stack: Vec<(u128, M::State)> = vec![(0, model.init())];
    while let Some((done, state)) = stack.pop() {
        if done & required == required {
            return Some(true);
        }
        if !seen.insert((done, state.clone())) {
            continue;
        }
        if seen.len() > budget {
            return None;
        }
        // A call can come next only if no call still to place completed before it was invoked.
        let horizon = calls
            .iter()
            .enumerate()
            .filter(|(i, _)| done & (1u128 << i) == 0 && required & (1u128 << i) != 0)
            .filter_map(|(_, c)| c.complete)
            .min()
            .unwrap_or(u64::MAX);
        for (i, call) in calls.iter().enumerate() {
            if done & (1u128 << i) != 0 || call.invoke > horizon {
                continue;
            }
            if let Some(next) = model.step(&state, &call.op) {
                stack.push((done | (1u128 << i), next));
            }
        }
    }
    Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A register of integers: writes and reads.
    struct Register;
    #[derive(Clone, Debug)]
    enum RegOp {
        Write(u32),
        Read(u32),
    }
    impl Model for Register {
        type State = u32;
        type Op = RegOp;
        fn init(&self) -> u32 {
            0
        }
        fn step(&self, state: &u32, op: &RegOp) -> Option<u32> {
            match op {
                RegOp::Write(v) => Some(*v),
                RegOp::Read(v) => (*v == *state).then_some(*state),
            }
        }
    }

    fn call(entry: u64, invoke: u64, complete: Option<u64>, op: RegOp) -> Call<RegOp> {
        Call { entry, invoke, complete, op }
    }

    #[test]
    fn concurrent_calls_may_take_effect_in_either_order() {
        let calls = [
            call(1, 0, Some(10), RegOp::Write(1)),
            call(2, 5, Some(6), RegOp::Read(1)),
            call(3, 7, Some(8), RegOp::Read(1)),
        ];
        assert_eq!(check(&Register, &calls, DEFAULT_BUDGET), Verdict::Linearizable);
    }

    #[test]
    fn a_read_of_an_overwritten_value_after_the_write_completed_is_not() {
        let calls = [
            call(1, 0, Some(1), RegOp::Write(1)),
            call(2, 2, Some(3), RegOp::Write(2)),
            call(3, 4, Some(5), RegOp::Read(1)),
            call(4, 6, Some(7), RegOp::Write(3)),
        ];
        match check(&Register, &calls, DEFAULT_BUDGET) {
            Verdict::Violation { until, calls } => {
                assert_eq!(until, 5, "the window ends with the stale read");
                assert_eq!(calls, vec![1, 2, 3]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_write_may_land_late_or_never() {
        let late = [
            call(1, 0, None, RegOp::Write(1)),
            call(2, 50, Some(51), RegOp::Read(0)),
            call(3, 60, Some(61), RegOp::Read(1)),
        ];
        assert_eq!(check(&Register, &late, DEFAULT_BUDGET), Verdict::Linearizable);
        let never = [call(1, 0, None, RegOp::Write(1)), call(2, 50, Some(51), RegOp::Read(0))];
        assert_eq!(check(&Register, &never, DEFAULT_BUDGET), Verdict::Linearizable);
        let back = [
            call(1, 0, None, RegOp::Write(1)),
            call(2, 50, Some(51), RegOp::Read(1)),
            call(3, 60, Some(61), RegOp::Read(0)),
        ];
        assert!(matches!(check(&Register, &back, DEFAULT_BUDGET), Verdict::Violation { until: 61, .. }));
    }
}
