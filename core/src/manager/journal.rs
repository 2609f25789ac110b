//! What the last applied batches touched, kept for observers (the simulator's safety
//! checkers) so they can look again at what changed instead of at the whole store.
//!
//! Each batch is recorded with the applied index before and after it. An observer that last
//! looked at the store at index `i` asks for the batches since `i`: it gets them only if the
//! journal holds an unbroken chain from `i` to the store's current index, otherwise `None`
//! (it fell behind, or the store was replaced by a snapshot) and it looks at everything.
//! Managers at the same applied index hold the same store, so the chain is valid whichever
//! manager the observer last looked at. Bounded, so a driver that never asks pays little.

use crate::store::Touched;
use std::collections::VecDeque;

/// Batches kept at most.
pub const KEPT_BATCHES: usize = 16;
/// Touched IDs kept at most over all kept batches (the newest batch is always kept).
pub const KEPT_IDS: usize = 50_000;

/// One applied batch: the store went from `from_index` to `to_index` and these objects changed.
pub struct AppliedBatch {
    pub from_index: u64,
    pub to_index: u64,
    pub touched: Touched,
}

#[derive(Default)]
pub struct ChangeJournal {
    batches: VecDeque<AppliedBatch>,
    ids: usize,
}

fn ids_in(touched: &Touched) -> usize {
    touched.tasks.len() + touched.nodes.len() + touched.services.len()
}

impl ChangeJournal {
    /// Records one applied batch (in apply order: `from_index` is the last batch's `to_index`
    /// unless the store was replaced meanwhile).
    pub fn record(&mut self, from_index: u64, to_index: u64, touched: &Touched) {
        debug_assert!(from_index <= to_index, "the applied index only grows: {from_index} → {to_index}");
        if from_index == to_index {
            debug_assert!(touched.is_empty(), "a batch that applied nothing touched nothing");
            return;
        }
        self.ids += ids_in(touched);
        self.batches.push_back(AppliedBatch { from_index, to_index, touched: touched.clone() });
        while self.batches.len() > 1 && (self.batches.len() > KEPT_BATCHES || self.ids > KEPT_IDS) {
            let dropped = self.batches.pop_front().expect("more than one batch kept");
            self.ids -= ids_in(&dropped.touched);
        }
    }

    /// The store was replaced wholesale (a snapshot): no earlier batch describes it.
    pub fn clear(&mut self) {
        self.batches.clear();
        self.ids = 0;
    }

    /// What changed between applied index `seen` and `current`, batch by batch; `None` when
    /// the journal does not hold every batch in between.
    pub fn since(&self, seen: u64, current: u64) -> Option<Vec<&Touched>> {
        if seen == current {
            return Some(Vec::new());
        }
        let start = self.batches.iter().position(|b| b.from_index == seen)?;
        let mut at = seen;
        let mut out = Vec::new();
        for batch in self.batches.iter().skip(start) {
            if batch.from_index != at {
                return None;
            }
            out.push(&batch.touched);
            at = batch.to_index;
            if at == current {
                return Some(out);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TaskId;

    fn touching(task: &str) -> Touched {
        let mut t = Touched::default();
        t.tasks.insert(TaskId(task.into()));
        t
    }

    #[test]
    fn an_unbroken_chain_of_batches_is_handed_out_and_a_gap_is_not() {
        let mut journal = ChangeJournal::default();
        journal.record(0, 3, &touching("a"));
        journal.record(3, 4, &touching("b"));
        journal.record(4, 7, &touching("c"));
        let since_3 = journal.since(3, 7).expect("batches 3→4→7 are kept");
        assert_eq!(since_3.len(), 2);
        assert!(since_3[0].tasks.contains(&TaskId("b".into())));
        assert_eq!(journal.since(7, 7).map(|v| v.len()), Some(0), "nothing changed");
        assert!(journal.since(2, 7).is_none(), "no batch starts at index 2");
        assert!(journal.since(3, 9).is_none(), "the journal does not reach index 9");
        journal.clear();
        assert!(journal.since(4, 7).is_none(), "a replaced store has no chain");
    }

    #[test]
    fn old_batches_are_dropped_past_the_bound() {
        let mut journal = ChangeJournal::default();
        for i in 0..(KEPT_BATCHES as u64 + 5) {
            journal.record(i, i + 1, &touching(&format!("t{i}")));
        }
        assert!(journal.since(0, KEPT_BATCHES as u64 + 5).is_none());
        assert_eq!(journal.since(5, KEPT_BATCHES as u64 + 5).map(|v| v.len()), Some(KEPT_BATCHES));
    }
}
