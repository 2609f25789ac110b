//! A host's disk: what survives a crash. Writes become durable in the order they were issued,
//! after the disk's delay (a `SlowDisk` fault); one may fail (a `FailDisk` fault), which stops
//! the daemon; a crash loses the writes still in flight.

use super::{EventKind, NodeIndex, World};
use std::time::Duration;
// What a write means is core's disk contract (`DiskState::apply`); swarmd's redb applies the same.
use swarm_core::persist::{DiskState, DiskWrite};
use swarm_core::time::Instant;

#[derive(Debug, Default)]
pub struct HostDisk {
    /// Every write the node asked for, once it is durable.
    pub state: DiskState,
    /// Writes take this long before they are durable (a slow-disk fault).
    pub delay: Duration,
    /// Writes complete in the order they were issued: none is durable before this.
    pub(super) busy_until: Instant,
    /// The next write fails (a `FailDisk` fault).
    pub(super) fails_next: bool,
}

impl World {
    /// Starts a write on `node`'s disk; returns when it is durable (outputs after it wait).
    pub(super) fn write_disk(&mut self, node: NodeIndex, write: DiskWrite) -> Instant {
        if std::mem::take(&mut self.hosts[node].disk.fails_next) {
            let line = format!("{} {} disk write failed: the daemon stops", self.now, self.hosts[node].name);
            self.trace.record(&line);
            self.crash(node, false);
            return self.now;
        }
        let delay = self.hosts[node].disk.delay;
        // A disk makes writes durable in the order they were issued (one log, fsynced in
        // turn): a fast write never overtakes a slow one issued before it.
        let at = (self.now + delay).max(self.hosts[node].disk.busy_until);
        if at <= self.now {
            self.hosts[node].disk.state.apply(&write);
            return self.now;
        }
        self.hosts[node].disk.busy_until = at;
        let life = self.hosts[node].life;
        self.schedule(at, EventKind::DiskDone { node, life, write });
        at
    }
}
