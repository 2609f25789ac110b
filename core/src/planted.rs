//! Bugs planted on purpose, to prove the harness finds them (issue: "planted bugs behind a
//! cargo feature"). Without the `planted-bugs` feature `Planted` holds nothing and every check
//! is a constant `false` the compiler removes; with it, a simulation can switch one bug on.

/// Each breaks one swarm guarantee the simulator's checkers or scenarios must catch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlantedBug {
    /// The scheduler's first filter lets Down nodes through.
    SchedulerPlacesOnDownNode,
    /// The leader never steps down for lack of a quorum and acknowledges writes it only
    /// appended, as if it were a quorum on its own.
    LeaderCountsItselfAsQuorum,
    /// The dispatcher never expires a session: a silent node is never marked Down.
    DispatcherNeverExpiresSession,
    /// The allocator frees a task's addresses when it is told to shut down, while its
    /// container still runs and holds them.
    AllocatorReusesFreedAddress,
    /// On scale-down the orchestrator forgets one slot: a task too many keeps running.
    OrchestratorForgetsSlotOnScaleDown,
    /// The scheduler's max-replicas filter lets every node through.
    SchedulerIgnoresMaxReplicas,
    /// The updater counts failed tasks but never compares them with the failure ratio: a
    /// bad image is rolled out to every slot, never paused or rolled back.
    UpdaterIgnoresFailureRatio,
    /// The leader answers `service create` as soon as it appended the entry, before a quorum
    /// has it: a leader change before the entry commits drops a create the client was told
    /// succeeded (a lost acknowledged write; only the workload's history checker sees it).
    LeaderAcksCreateBeforeCommit,
    /// A manager restarting from its disk takes the last entry of its log for a torn write
    /// and drops it (clamping the commit index to the log it kept), though it was whole and
    /// committed: a single manager then reuses the entry's index for a different entry.
    RestartForgetsLastEntry,
    /// A new leader rebuilds its allocator's in-use sets when it wins the election, not once
    /// it has applied everything its predecessor committed: addresses and VIPs allocated in
    /// those last entries are handed out a second time.
    AllocatorRebuiltBeforeCatchingUp,
    /// The restart supervisor counts every restart of a slot against
    /// `--restart-max-attempts`, not only those within `--restart-window`.
    RestartWindowIgnored,
    /// The manager applies committed entries (and answers their clients) before it hands the
    /// driver the write that makes them durable: a crash before the write completes loses a
    /// write the client was told succeeded.
    AcksBeforeDurable,
}

impl PlantedBug {
    pub const ALL: [PlantedBug; 12] = [
        PlantedBug::SchedulerPlacesOnDownNode,
        PlantedBug::LeaderCountsItselfAsQuorum,
        PlantedBug::DispatcherNeverExpiresSession,
        PlantedBug::AllocatorReusesFreedAddress,
        PlantedBug::OrchestratorForgetsSlotOnScaleDown,
        PlantedBug::SchedulerIgnoresMaxReplicas,
        PlantedBug::UpdaterIgnoresFailureRatio,
        PlantedBug::LeaderAcksCreateBeforeCommit,
        PlantedBug::RestartForgetsLastEntry,
        PlantedBug::AllocatorRebuiltBeforeCatchingUp,
        PlantedBug::RestartWindowIgnored,
        PlantedBug::AcksBeforeDurable,
    ];

    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            PlantedBug::SchedulerPlacesOnDownNode => "scheduler-places-on-down-node",
            PlantedBug::LeaderCountsItselfAsQuorum => "leader-counts-itself-as-quorum",
            PlantedBug::DispatcherNeverExpiresSession => "dispatcher-never-expires-session",
            PlantedBug::AllocatorReusesFreedAddress => "allocator-reuses-freed-address",
            PlantedBug::OrchestratorForgetsSlotOnScaleDown => "orchestrator-forgets-slot-on-scale-down",
            PlantedBug::SchedulerIgnoresMaxReplicas => "scheduler-ignores-max-replicas",
            PlantedBug::UpdaterIgnoresFailureRatio => "updater-ignores-failure-ratio",
            PlantedBug::LeaderAcksCreateBeforeCommit => "leader-acks-create-before-commit",
            PlantedBug::RestartForgetsLastEntry => "restart-forgets-last-entry",
            PlantedBug::AllocatorRebuiltBeforeCatchingUp => "allocator-rebuilt-before-catching-up",
            PlantedBug::RestartWindowIgnored => "restart-window-ignored",
            PlantedBug::AcksBeforeDurable => "acks-before-durable",
        }
    }

    pub fn parse(name: &str) -> Option<PlantedBug> {
        PlantedBug::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// The bug switched on in one node, if any (always none without the feature).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Planted {
    #[cfg(feature = "planted-bugs")]
    bug: Option<PlantedBug>,
}

impl Planted {
    #[cfg(feature = "planted-bugs")]
    pub fn bug(bug: PlantedBug) -> Planted {
        Planted { bug: Some(bug) }
    }

    #[inline]
    pub fn is(self, bug: PlantedBug) -> bool {
        #[cfg(feature = "planted-bugs")]
        {
            self.bug == Some(bug)
        }
        #[cfg(not(feature = "planted-bugs"))]
        {
            let _ = bug;
            false
        }
    }
}

/// `RestartForgetsLastEntry`'s slip, in reading the Raft log back: the last entry is taken
/// for a write torn by the crash and dropped, though it is whole (a torn tail is what a WAL
/// repair truncates; this one truncates a sound record), and the commit index is clamped to
/// the log kept, as it must be once entries are dropped.
pub fn last_entry_taken_for_torn(disk: &crate::persist::RaftDisk) -> crate::persist::RaftDisk {
    let mut kept = disk.clone();
    if let Some(dropped) = kept.entries.pop() {
        let last_kept = dropped.index - 1;
        if kept.hard_state.commit > last_kept {
            kept.hard_state.commit = last_kept;
        }
    }
    kept
}
