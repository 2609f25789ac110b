//! A host's own clock: true time plus an offset, plus a drift since the offset was set (a
//! `ClockSkew` fault). The node reads only this clock; the event queue runs on true time.

use swarm_core::time::Instant;

#[derive(Clone, Debug, Default)]
pub struct HostClock {
    /// How far the clock is ahead of true time (negative: behind) at `since`.
    offset_ms: i64,
    /// Microseconds the clock gains per second of true time since `since`.
    drift_ppm: i64,
    since: Instant,
    /// The last local time handed to the node: a skewed clock never runs backwards.
    last_local: Instant,
}

impl HostClock {
    /// The node's clock at true time `now`.
    pub fn local_time(&mut self, now: Instant) -> Instant {
        let since_ms = now.as_millis().saturating_sub(self.since.as_millis()) as i64;
        let local = now.as_millis() as i64 + self.offset_ms + since_ms * self.drift_ppm / 1_000_000;
        let local = Instant::from_millis(local.max(0) as u64).max(self.last_local);
        self.last_local = local;
        local
    }

    /// True time at which the node's clock reads `local`.
    pub fn true_time(&self, local: Instant, now: Instant) -> Instant {
        let since_ms = now.as_millis().saturating_sub(self.since.as_millis()) as i64;
        let offset = self.offset_ms + since_ms * self.drift_ppm / 1_000_000;
        Instant::from_millis((local.as_millis() as i64 - offset).max(now.as_millis() as i64) as u64)
    }

    /// Moves the clock by `offset_ms` and makes it drift by `drift_ppm` from `now` on.
    pub fn skew(&mut self, now: Instant, offset_ms: i64, drift_ppm: i64) {
        // Fold the drift so far into the offset, then start the new drift from now.
        let since_ms = now.as_millis().saturating_sub(self.since.as_millis()) as i64;
        self.offset_ms += since_ms * self.drift_ppm / 1_000_000 + offset_ms;
        self.drift_ppm = drift_ppm;
        self.since = now;
    }

    /// A restarted node is a new process: only its own readings must not run backwards.
    pub fn restart(&mut self) {
        self.last_local = Instant::ZERO;
    }
}
