//! A node's timer makes progress: a node whose next deadline stays in the past after its
//! timer ran would be woken again and again without time moving, so the run would spin
//! forever. That is a bug in the node, reported as such.

use crate::world::NodeIndex;
use std::collections::BTreeMap;
use swarm_core::time::Instant;

/// Timer runs in a row, at one instant, that left the deadline due, past which it is a livelock.
const SPINS_ALLOWED: u32 = 1000;

#[derive(Default)]
pub struct TimerSpins {
    /// Per host: (time, timer runs at that time with the deadline still due).
    spins: BTreeMap<NodeIndex, (Instant, u32)>,
}

impl TimerSpins {
    /// After `host`'s timer ran at `now`; `still_due`: its next deadline is at or before `now`.
    pub fn after_timer(&mut self, host: NodeIndex, name: &str, now: Instant, still_due: bool) -> Result<(), String> {
        let count = self.spins.entry(host).or_insert((now, 0));
        if still_due && count.0 == now {
            count.1 += 1;
            if count.1 > SPINS_ALLOWED {
                return Err(format!(
                    "invariant violated: {name}'s next deadline stays at or before {now} after its timer ran (a livelock)"
                ));
            }
        } else {
            *count = (now, 0);
        }
        Ok(())
    }
}
