//! Processes found through /proc: everything a node runs, so a crash or the final cleanup can
//! SIGKILL it by PID.
//!
//! A node's daemon, its containerd and the shims live in the node's network namespace (they are
//! started inside it); container processes have namespaces of their own but are descendants of
//! a shim. So "the node's processes" = every process in the node's network namespace plus all
//! their descendants, which also catches shims that daemonized away from the daemon.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every live process: PID → parent PID.
fn parents() -> BTreeMap<i32, i32> {
    let mut map = BTreeMap::new();
    let Ok(entries) = fs::read_dir("/proc") else { return map };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else { continue };
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so read after the last `)`.
        let Some(after_comm) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        if let Some(ppid) = after_comm.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
            map.insert(pid, ppid);
        }
    }
    map
}

/// The inode that identifies the network namespace bound at `netns_path` (/run/netns/NAME).
pub fn netns_inode(netns_path: &Path) -> Option<u64> {
    fs::metadata(netns_path).ok().map(|m| m.ino())
}

/// Processes in the network namespace with this inode, and all their descendants.
pub fn in_netns_with_descendants(inode: u64) -> BTreeSet<i32> {
    let own = std::process::id() as i32;
    let parents = parents();
    let mut found: BTreeSet<i32> = parents
        .keys()
        .copied()
        .filter(|pid| *pid != own)
        .filter(|pid| fs::metadata(format!("/proc/{pid}/ns/net")).map(|m| m.ino() == inode).unwrap_or(false))
        .collect();
    descendants_into(&parents, &mut found);
    found.remove(&own);
    found
}

/// Adds every descendant of the PIDs in `found` (a fixpoint over the parent map).
fn descendants_into(parents: &BTreeMap<i32, i32>, found: &mut BTreeSet<i32>) {
    loop {
        let before = found.len();
        for (pid, ppid) in parents {
            if found.contains(ppid) {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            return;
        }
    }
}

/// `pid` and its descendants.
pub fn with_descendants(pid: i32) -> BTreeSet<i32> {
    let mut found = BTreeSet::from([pid]);
    descendants_into(&parents(), &mut found);
    found
}

/// Every live (not zombie) descendant of this process. With `become_subreaper`, that includes
/// the orphans of the processes we started.
pub fn own_descendants() -> BTreeSet<i32> {
    let own = std::process::id() as i32;
    let mut found = with_descendants(own);
    found.remove(&own);
    found.retain(|pid| alive(*pid));
    found
}

/// Makes this process the reaper of its orphaned descendants (prctl PR_SET_CHILD_SUBREAPER):
/// a process a daemon forked stays in our tree when the daemon dies, so the cleanup finds it.
pub fn become_subreaper() -> Result<(), String> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("prctl(PR_SET_CHILD_SUBREAPER): {}", std::io::Error::last_os_error()))
    }
}

/// When the process started (field 22 of /proc/PID/stat, in clock ticks since boot): with the
/// PID, it names one process even after the PID is reused.
fn start_time(pid: i32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // After `)`: state is field 3, so starttime (field 22) is the 20th word.
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// SIGSTOPs the process now and SIGCONTs it `duration` later (from a thread of its own, so the
/// run goes on meanwhile) — unless it died in between: a reused PID is left alone.
pub fn pause_for(pid: i32, duration: Duration) -> Result<(), String> {
    let started = start_time(pid).ok_or_else(|| format!("process {pid} is gone"))?;
    signal(pid, libc::SIGSTOP);
    std::thread::spawn(move || {
        std::thread::sleep(duration);
        if start_time(pid) == Some(started) {
            signal(pid, libc::SIGCONT);
        }
    });
    Ok(())
}

pub fn alive(pid: i32) -> bool {
    // A zombie still has a /proc entry; it is dead for our purposes (its parent reaps it).
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

pub fn signal(pid: i32, signal: i32) {
    // SAFETY: kill(2) takes plain integers; a stale PID only yields ESRCH.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// SIGKILLs every PID and waits (up to `timeout`) until none is alive.
pub fn kill_all(pids: &BTreeSet<i32>, timeout: Duration) -> bool {
    for pid in pids {
        signal(*pid, libc::SIGKILL);
    }
    wait_gone(pids, timeout)
}

pub fn wait_gone(pids: &BTreeSet<i32>, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    loop {
        if pids.iter().all(|pid| !alive(*pid)) {
            return true;
        }
        if Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
