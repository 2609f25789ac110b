//! The lab: everything a run makes on this machine, named after the run's ID so it can be found
//! and removed — a bridge, one network namespace per `[[node]]` with its interfaces and
//! addresses, an nftables table for link faults, a directory for data roots and sockets — and
//! the cleanup registry that removes it all at the end, on failure, on a panic and on Ctrl-C.
//!
//! Names: run ID `ssl` + 6 hex digits (e.g. `ssl1a2b3c`); netns `ssl1a2b3c-bd0`; bridge
//! `ssl1a2b3cbr`; host-side veth `ssl1a2b3cv0` (interface names are at most 15 bytes); nft table
//! `swarmsim_ssl1a2b3c` in the `bridge` family; directory `/tmp/ssl1a2b3c`. Traffic stays inside:
//! the bridge has no address on the host, so the nodes reach only each other.

use crate::procs;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarmsim::scenario::NodeDef;

/// Every node address gets this prefix on its interface: the scenarios' addresses of one lab
/// share a /24, as the tutorial's LAN does.
const PREFIX_LEN: u8 = 24;

/// One thing the run made, recorded before it is made, so an interrupted creation is cleaned
/// up too (removing what does not exist is harmless).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Made {
    Dir(PathBuf),
    Bridge(String),
    Netns(String),
    Veth(String),
    NftTable(String),
    /// A process we started (a daemon): killed with its descendants.
    Process(i32),
    /// A top-level cgroup name that runc makes in every hierarchy for a daemon's containers
    /// (swarmd's `/NAMESPACE/CONTAINER`): a killed container's cgroup outlives it.
    Cgroup(String),
}

/// What to undo. Shared with the signal thread; `closed` once cleaned, so a creation that races
/// a Ctrl-C is undone at once instead of leaking.
#[derive(Debug, Default)]
pub struct Registry {
    made: Vec<Made>,
    closed: bool,
}

pub type SharedRegistry = Arc<Mutex<Registry>>;

/// Removes everything in the registry. Idempotent; safe from any thread. The lock is held
/// until everything is gone, so a second caller (the main thread racing the signal thread)
/// returns only once the lab is removed.
pub fn clean_up(registry: &SharedRegistry) {
    let mut guard = registry.lock().unwrap_or_else(|e| e.into_inner());
    guard.closed = true;
    let made = std::mem::take(&mut guard.made);
    undo(&made);
}

fn undo(made: &[Made]) {
    // From now on orphans of the daemons stay ours, so the kills below find them (see the loop).
    // Not before: during the run nobody reaps an adopted orphan, and a zombie with the PID in
    // a killed dockerd's `containerd.pid` made the restarted dockerd wait for that containerd
    // until it gave up ("timeout waiting for containerd to start").
    if let Err(e) = procs::become_subreaper() {
        eprintln!("swarmsim-live: {e}");
    }
    // Processes, then mounts, until no process of ours is alive and no mount is left under the
    // run's directories. A daemon interrupted mid-work can leave work in flight that mounts
    // after a first pass: dockerd makes a sandbox's namespace through a re-exec'd child
    // (`dockerd netns-create PATH`) which, orphaned by the kill, still starts — slowly, on a
    // loaded machine — and bind-mounts the namespace under the run directory. Seen in CI with
    // the fuzzers running beside: the mount came more than a second after the kill. We are a
    // child subreaper from here on, so such an orphan stays our descendant and is killed here;
    // the loop gives anything already in a mount syscall time to finish and be undone.
    for _ in 0..50 {
        kill_processes(made);
        // The daemons mount their data roots and containers' namespaces under the run directory.
        for item in made {
            if let Made::Dir(dir) = item {
                unmount_under(dir);
            }
        }
        std::thread::sleep(Duration::from_millis(200));
        let mounts_left = made.iter().any(|item| matches!(item, Made::Dir(dir) if !mounts_under(dir).is_empty()));
        if !mounts_left && procs::own_descendants().is_empty() {
            break;
        }
    }
    remove_the_rest(made);
}

/// SIGKILLs every process the run made, every process in its namespaces and every descendant
/// of ours (orphans included: we are their subreaper), and waits for them. Nothing may keep a
/// mount, a namespace or a socket busy, nor make a mount after we looked.
fn kill_processes(made: &[Made]) {
    // Twice, because a containerd killed mid-start may have forked a shim between the scan and
    // the kill.
    for _ in 0..2 {
        let mut pids = procs::own_descendants();
        for item in made {
            match item {
                Made::Process(pid) => pids.extend(procs::with_descendants(*pid)),
                Made::Netns(name) => {
                    if let Some(inode) = procs::netns_inode(&netns_path(name)) {
                        pids.extend(procs::in_netns_with_descendants(inode));
                    }
                }
                _ => {}
            }
        }
        if pids.is_empty() {
            break;
        }
        procs::kill_all(&pids, Duration::from_secs(10));
    }
}

/// Rules, links, namespaces, directories and cgroups, in the reverse order they were made.
fn remove_the_rest(made: &[Made]) {
    for item in made.iter().rev() {
        match item {
            Made::NftTable(table) => quiet(&["nft", "delete", "table", "bridge", table]),
            Made::Veth(name) | Made::Bridge(name) => {
                if link_exists(name) {
                    quiet(&["ip", "link", "del", name]);
                }
            }
            Made::Netns(name) => {
                if netns_path(name).exists() {
                    quiet(&["ip", "netns", "del", name]);
                }
            }
            Made::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Made::Cgroup(name) => remove_cgroup(name),
            Made::Process(_) => {}
        }
    }
}

/// Removes a cgroup and the cgroups below it from every hierarchy, deepest first (a cgroup
/// goes with rmdir once no process is in it; its control files go with it).
fn remove_cgroup(name: &str) {
    fn remove_tree(dir: &Path) {
        if let Ok(children) = std::fs::read_dir(dir) {
            for child in children.flatten().filter(|c| c.file_type().is_ok_and(|t| t.is_dir())) {
                remove_tree(&child.path());
            }
        }
        let _ = std::fs::remove_dir(dir);
    }
    let Ok(hierarchies) = std::fs::read_dir("/sys/fs/cgroup") else { return };
    for hierarchy in hierarchies.flatten() {
        let top = hierarchy.path().join(name);
        if top.is_dir() {
            remove_tree(&top);
        }
    }
}

/// The mount points at or below `dir`.
fn mounts_under(dir: &Path) -> Vec<String> {
    let Ok(mountinfo) = std::fs::read_to_string("/proc/self/mountinfo") else { return Vec::new() };
    mountinfo
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .filter(|point| Path::new(point).starts_with(dir))
        .map(str::to_string)
        .collect()
}

/// Detaches every mount at or below `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let mut points = mounts_under(dir);
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let Ok(c_point) = std::ffi::CString::new(point.as_str()) else { continue };
        // SAFETY: a valid C string; MNT_DETACH never blocks on busy mounts.
        unsafe {
            libc::umount2(c_point.as_ptr(), libc::MNT_DETACH);
        }
    }
}

fn netns_path(name: &str) -> PathBuf {
    Path::new("/run/netns").join(name)
}

fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Runs a tool, ignoring its failure (cleanup of what may already be gone).
fn quiet(argv: &[&str]) {
    let _ = Command::new(argv[0]).args(&argv[1..]).output();
}

/// Runs a tool; its stderr is the error.
pub fn tool(argv: &[&str]) -> Result<String, String> {
    let out = Command::new(argv[0]).args(&argv[1..]).output().map_err(|e| format!("{}: {e}", argv[0]))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{}` failed: {}", argv.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// One node's place in the lab.
#[derive(Clone, Debug)]
pub struct LabNode {
    pub name: String,
    pub netns: String,
    /// The host side of the node's first interface (link faults set it down).
    pub veth: String,
    /// The node's first address: the one on the bridge, that nft rules match.
    pub addr: Ipv4Addr,
    /// Every address the node answers on, for host-name lookups (`curl http://bd0:8000`).
    pub addrs: Vec<Ipv4Addr>,
    /// The node's own directory: data root, exec root, sockets, log.
    pub dir: PathBuf,
}

impl LabNode {
    pub fn netns_path(&self) -> PathBuf {
        netns_path(&self.netns)
    }
}

pub struct Lab {
    pub id: String,
    pub dir: PathBuf,
    pub bridge: String,
    pub nft_table: String,
    pub nodes: Vec<LabNode>,
    registry: SharedRegistry,
}

impl Lab {
    /// A fresh run ID whose names are all unused.
    pub fn new_id() -> String {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let mut seed = (nanos as u64) ^ ((std::process::id() as u64) << 24);
        loop {
            // splitmix64: spreads the clock and PID over the 24 bits we keep.
            seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            let id = format!("ssl{:06x}", (z ^ (z >> 31)) & 0xff_ffff);
            if !link_exists(&format!("{id}br")) && !Path::new("/tmp").join(&id).exists() {
                return id;
            }
        }
    }

    /// Makes the lab for these nodes: directory, bridge, namespaces, interfaces, nft table.
    pub fn create(id: &str, nodes: &[NodeDef], registry: SharedRegistry) -> Result<Lab, String> {
        let dir = Path::new("/tmp").join(id);
        let mut lab = Lab {
            id: id.to_string(),
            dir: dir.clone(),
            bridge: format!("{id}br"),
            nft_table: format!("swarmsim_{id}"),
            nodes: Vec::new(),
            registry,
        };
        lab.record(Made::Dir(dir.clone()))?;
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // The clients' working directory exists before any client runs: the daemons' start
        // already queries them (`docker version`), long before the scenario's files are written.
        let files = lab.files_dir();
        std::fs::create_dir_all(&files).map_err(|e| format!("{}: {e}", files.display()))?;
        lab.record(Made::Bridge(lab.bridge.clone()))?;
        tool(&["ip", "link", "add", &lab.bridge, "type", "bridge"])?;
        tool(&["ip", "link", "set", &lab.bridge, "up"])?;
        lab.record(Made::NftTable(lab.nft_table.clone()))?;
        tool(&["nft", "add", "table", "bridge", &lab.nft_table])?;
        let chain = format!(
            "add chain bridge {} forward {{ type filter hook forward priority 0 ; policy accept ; }}",
            lab.nft_table
        );
        tool(&["nft", &chain])?;
        for (index, node) in nodes.iter().enumerate() {
            let made = lab.add_node(index, node)?;
            lab.nodes.push(made);
        }
        Ok(lab)
    }

    /// Where the scenario's `[[file]]`s are written: the clients' working directory.
    pub fn files_dir(&self) -> PathBuf {
        self.dir.join("files")
    }

    fn add_node(&self, index: usize, node: &NodeDef) -> Result<LabNode, String> {
        let netns = format!("{}-{}", self.id, node.name);
        let veth = format!("{}v{index}", self.id);
        let dir = self.dir.join(&node.name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        self.record(Made::Netns(netns.clone()))?;
        tool(&["ip", "netns", "add", &netns])?;
        tool(&["ip", "-n", &netns, "link", "set", "lo", "up"])?;
        let first = node.interfaces.first().ok_or_else(|| format!("node {} has no interface", node.name))?;
        self.record(Made::Veth(veth.clone()))?;
        tool(&["ip", "link", "add", &veth, "type", "veth", "peer", "name", &first.name, "netns", &netns])?;
        tool(&["ip", "link", "set", &veth, "master", &self.bridge, "up"])?;
        for (position, interface) in node.interfaces.iter().enumerate() {
            if position > 0 {
                // This kernel has no `dummy` driver; an empty bridge is an interface with an
                // address all the same (and libvirt's virbr0 is a bridge).
                tool(&["ip", "-n", &netns, "link", "add", &interface.name, "type", "bridge"])?;
            }
            let cidr = format!("{}/{PREFIX_LEN}", interface.addr);
            tool(&["ip", "-n", &netns, "addr", "add", &cidr, "dev", &interface.name])?;
            tool(&["ip", "-n", &netns, "link", "set", &interface.name, "up"])?;
        }
        Ok(LabNode {
            name: node.name.clone(),
            netns,
            veth,
            addr: first.addr,
            addrs: node.interfaces.iter().map(|i| i.addr).collect(),
            dir,
        })
    }

    fn record(&self, made: Made) -> Result<(), String> {
        let mut guard = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if guard.closed {
            return Err("the run is being cleaned up".into());
        }
        guard.made.push(made);
        Ok(())
    }

    /// Records a process we started, so cleanup kills it and its descendants.
    pub fn record_process(&self, pid: i32) -> Result<(), String> {
        self.record(Made::Process(pid))
    }

    /// Records a top-level cgroup name a daemon's runtime makes, so cleanup removes it.
    pub fn record_cgroup(&self, name: &str) -> Result<(), String> {
        self.record(Made::Cgroup(name.to_string()))
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The node that owns an address or a host name (`192.168.0.109`, `bd0`).
    pub fn node_by_host(&self, host: &str) -> Option<usize> {
        match host.parse::<Ipv4Addr>() {
            Ok(ip) => self.nodes.iter().position(|n| n.addrs.contains(&ip)),
            Err(_) => self.node_index(host),
        }
    }

    /// SIGKILLs every process of a node: its daemon, containerd, shims and container
    /// processes (all found in the node's network namespace and below).
    pub fn kill_node_processes(&self, node: usize) {
        let Some(inode) = procs::netns_inode(&self.nodes[node].netns_path()) else { return };
        let pids = procs::in_netns_with_descendants(inode);
        procs::kill_all(&pids, Duration::from_secs(10));
    }

    /// Cuts or restores every link of a node (`isolate`, `heal`).
    pub fn set_link(&self, node: usize, up: bool) -> Result<(), String> {
        tool(&["ip", "link", "set", &self.nodes[node].veth, if up { "up" } else { "down" }]).map(|_| ())
    }

    /// Drops frames from `from` to `to` on the bridge; with `probability` < 1, only that share.
    pub fn drop_traffic(&self, from: usize, to: usize, probability: f64) -> Result<(), String> {
        let (src, dst) = (self.nodes[from].addr, self.nodes[to].addr);
        let mut rule = format!("add rule bridge {} forward ip saddr {src} ip daddr {dst}", self.nft_table);
        if probability < 1.0 {
            let per_mille = (probability * 1000.0).round() as u32;
            rule.push_str(&format!(" numgen random mod 1000 < {per_mille}"));
        }
        rule.push_str(" drop");
        tool(&["nft", &rule]).map(|_| ())
    }

    /// Lifts every link fault: all rules gone, every link up.
    pub fn heal(&self) -> Result<(), String> {
        tool(&["nft", "flush", "chain", "bridge", &self.nft_table, "forward"])?;
        for node in 0..self.nodes.len() {
            self.set_link(node, true)?;
        }
        Ok(())
    }
}
