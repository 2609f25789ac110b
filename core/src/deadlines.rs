//! Deadlines by key, also ordered by time: "when is X due" and "what is due now" both in
//! O(log n). The dispatcher keeps one per node (heartbeat grace), the orchestrator one per
//! waiting task (restart delay); scanning every key per round cost O(nodes) or O(tasks).

use crate::time::Instant;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct Deadlines<K: Ord + Clone> {
    by_key: BTreeMap<K, Instant>,
    by_time: BTreeSet<(Instant, K)>,
}

impl<K: Ord + Clone> Default for Deadlines<K> {
    fn default() -> Self {
        Deadlines { by_key: BTreeMap::new(), by_time: BTreeSet::new() }
    }
}

impl<K: Ord + Clone> Deadlines<K> {
    /// Sets (or moves) the deadline of `key`.
    pub fn set(&mut self, key: K, at: Instant) {
        if let Some(old) = self.by_key.insert(key.clone(), at) {
            self.by_time.remove(&(old, key.clone()));
        }
        self.by_time.insert((at, key));
        debug_assert_eq!(self.by_key.len(), self.by_time.len());
    }

    /// Forgets the deadline of `key`, returning it.
    pub fn clear(&mut self, key: &K) -> Option<Instant> {
        let at = self.by_key.remove(key)?;
        self.by_time.remove(&(at, key.clone()));
        debug_assert_eq!(self.by_key.len(), self.by_time.len());
        Some(at)
    }

    pub fn get(&self, key: &K) -> Option<Instant> {
        self.by_key.get(key).copied()
    }

    /// The earliest deadline.
    pub fn first(&self) -> Option<Instant> {
        self.by_time.first().map(|(at, _)| *at)
    }

    /// The keys due at `now`, earliest first.
    pub fn due(&self, now: Instant) -> impl Iterator<Item = &K> {
        self.by_time.iter().take_while(move |(at, _)| *at <= now).map(|(_, k)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moving_a_deadline_moves_it_in_time_order_and_clearing_forgets_it() {
        let mut d = Deadlines::default();
        d.set("a", Instant::from_millis(30));
        d.set("b", Instant::from_millis(10));
        d.set("c", Instant::from_millis(20));
        assert_eq!(d.first(), Some(Instant::from_millis(10)));
        d.set("b", Instant::from_millis(40));
        assert_eq!(d.due(Instant::from_millis(30)).copied().collect::<Vec<_>>(), ["c", "a"]);
        assert_eq!(d.clear(&"c"), Some(Instant::from_millis(20)));
        assert_eq!(d.clear(&"c"), None);
        assert_eq!(d.get(&"b"), Some(Instant::from_millis(40)));
        assert_eq!(d.due(Instant::from_millis(35)).copied().collect::<Vec<_>>(), ["a"]);
    }
}
