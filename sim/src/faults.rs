//! Faults the world can inject, from a scenario step or a generated schedule.
//!
//! Each is a plain value, so a schedule of faults is data: it can be generated from a seed,
//! printed back as scenario steps, and shrunk.

use std::time::Duration;

#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// SIGKILL the running container of `SERVICE.SLOT` (or a container-name prefix), on
    /// `node` or wherever it runs.
    Kill { target: String, node: Option<String> },
    /// The host crashes: the node's volatile state and its containers are lost; its disk keeps
    /// what was fsynced.
    Crash { node: String },
    /// The crashed or stopped host starts again from its disk.
    Restart { node: String },
    /// The daemon stops cleanly (SIGTERM): in swarm mode dockerd stops its containers first.
    StopDaemon { node: String },
    /// Cut every link to and from `node`.
    Isolate { node: String },
    /// Split the hosts into groups that cannot reach each other; a host named in two groups
    /// is a bridge that reaches both.
    Partition { groups: Vec<Vec<String>> },
    /// Messages from `from` to `to` are dropped (the other direction still works).
    OneWay { from: String, to: String },
    /// Every partition and link fault is lifted, and every paused daemon continues.
    Heal,
    /// Crash whichever manager leads at that moment.
    LoseLeader,
    /// Degrade the link from `from` to `to` (both ways when `both`): drop, duplicate or
    /// delay messages; reordering comes from the added jitter.
    Link {
        from: String,
        to: String,
        both: bool,
        drop: f64,
        duplicate: f64,
        extra_delay: Duration,
        extra_jitter: Duration,
    },
    /// The node's clock runs `offset_ms` ahead (negative: behind) of true time from now on,
    /// and gains `drift_ppm` microseconds per second.
    ClockSkew { node: String, offset_ms: i64, drift_ppm: i64 },
    /// Disk writes on `node` take `delay` before they are durable.
    SlowDisk { node: String, delay: Duration },
    /// The next disk write on `node` fails: the daemon stops (as dockerd and etcd do when an
    /// fsync fails) and the write is lost; a restart finds the disk as it was before it.
    FailDisk { node: String },
    /// The disk of `node` is healthy again: writes are durable at once and a pending `FailDisk`
    /// is disarmed (the chaos runner's epilogue, before it restarts the hosts).
    DiskOk { node: String },
    /// The daemon on `node` stops handling anything for `duration` (SIGSTOP, a long GC pause):
    /// messages, timers, container events and client requests wait, then arrive at once, and
    /// its timers fire late. Its containers keep running and the other hosts carry on.
    Pause { node: String, duration: Duration },
    /// Frames from `from` to `to` are damaged in transit with probability `rate`: the receiver
    /// rejects each by its checksum (`swarm_core::wire`) and counts it, never acts on it.
    Corrupt { from: String, to: String, rate: f64 },
    /// For `duration` the container runtime on `node` answers create and start with an error
    /// (`hang: false`), or answers no command at all until the time is up (`hang: true`).
    Runtime { node: String, hang: bool, duration: Duration },
    /// The host crashes (if up) and starts again with an empty data root, as a docker host
    /// whose /var/lib/docker was lost: outside the swarm; the managers see its old node go down.
    LoseDataRoot { node: String },
    /// The operator joins `node` to the swarm again as a new worker, with the worker token and
    /// address of the leader (the chaos epilogue's recovery of a host that lost its data root).
    Rejoin { node: String },
}

impl Fault {
    /// The fault as a scenario step would write it (for shrunk schedules and reports).
    pub fn describe(&self) -> String {
        match self {
            Fault::Kill { target, node: Some(n) } => format!("kill {target} on {n}"),
            Fault::Kill { target, node: None } => format!("kill {target}"),
            Fault::Crash { node } => format!("crash {node}"),
            Fault::Restart { node } => format!("restart {node}"),
            Fault::StopDaemon { node } => format!("stop daemon on {node}"),
            Fault::Isolate { node } => format!("isolate {node}"),
            Fault::Partition { groups } => {
                let g: Vec<String> = groups.iter().map(|g| g.join(",")).collect();
                format!("partition {}", g.join(" | "))
            }
            Fault::OneWay { from, to } => format!("cut {from} -> {to}"),
            Fault::Heal => "heal".to_string(),
            Fault::LoseLeader => "lose the leader".to_string(),
            Fault::Link { from, to, both, drop, duplicate, extra_delay, extra_jitter } => format!(
                "link {from} {} {to}: drop {drop}, duplicate {duplicate}, delay +{extra_delay:?} jitter +{extra_jitter:?}",
                if *both { "<->" } else { "->" }
            ),
            Fault::ClockSkew { node, offset_ms, drift_ppm } => format!("clock of {node} {offset_ms:+}ms, drift {drift_ppm:+}ppm"),
            Fault::SlowDisk { node, delay } => format!("slow disk on {node}: {delay:?}"),
            Fault::FailDisk { node } => format!("the next disk write on {node} fails"),
            Fault::DiskOk { node } => format!("the disk of {node} is healthy again"),
            Fault::Pause { node, duration } => format!("pause {node} for {duration:?}"),
            Fault::Corrupt { from, to, rate } => format!("corrupt frames {from} -> {to}: rate {rate}"),
            Fault::Runtime { node, hang, duration } => {
                format!("the runtime on {node} {} for {duration:?}", if *hang { "hangs" } else { "fails" })
            }
            Fault::LoseDataRoot { node } => format!("restart {node} with an empty data root"),
            Fault::Rejoin { node } => format!("{node} joins the swarm again as a worker"),
        }
    }
}
