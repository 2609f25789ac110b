//! Task networking, all inside network namespaces the daemon creates (never on a host interface).
//!
//! - One namespace per task (pinned under `DATA_ROOT/netns/<container>`), bind-mounted so
//!   containerd's runc joins it: `lo`, plus one `ethN` per network the task is attached to,
//!   carrying the address core's allocator gave it (from the cluster's `--default-addr-pool`).
//! - One *node namespace* per daemon (`DATA_ROOT/netns/node`): a Linux bridge per network
//!   (`br-<subnet base in hex>`, holding the subnet's gateway `.1`), and the node ends of the
//!   tasks' veth pairs enslaved to it. Tasks of one network on one node reach each other through
//!   that bridge; the routing mesh connects from the node namespace to a task's ingress address.
//!
//! Interfaces are set up with iproute2 (`ip -batch`) run from a thread that entered the
//! namespace, so nothing is ever configured in the host's namespace.

use std::ffi::CString;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Brings `lo` up in the calling thread's network namespace.
fn loopback_up() -> io::Result<()> {
    // SAFETY: plain socket/ioctl calls with a zeroed, NUL-terminated ifreq.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        check(fd)?;
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo\0".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let r = libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req);
        if r < 0 {
            let e = io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        let r = libc::ioctl(fd, libc::SIOCSIFFLAGS, &req);
        libc::close(fd);
        check(r)
    }
}

/// Creates a namespace and pins it at `path` (an empty file is created for the bind mount).
pub fn create(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::File::create(path)?;
    let target = cstr(path)?;
    // unshare() changes the calling thread only: do it on a thread of our own, never on a
    // runtime worker.
    std::thread::spawn(move || -> io::Result<()> {
        // SAFETY: affects only this short-lived thread.
        unsafe { check(libc::unshare(libc::CLONE_NEWNET))? };
        loopback_up()?;
        let src = CString::new(format!("/proc/self/task/{}/ns/net", unsafe { libc::gettid() })).expect("no NUL");
        // SAFETY: bind mount of our own namespace file onto a file we created.
        unsafe { check(libc::mount(src.as_ptr(), target.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null())) }
    })
    .join()
    .map_err(|_| io::Error::other("netns thread panicked"))?
}

pub fn remove(path: &Path) -> io::Result<()> {
    let p = cstr(path)?;
    // SAFETY: unmounting a path we mounted; EINVAL/ENOENT mean it was not mounted.
    unsafe { libc::umount2(p.as_ptr(), libc::MNT_DETACH) };
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// A TCP connection to `127.0.0.1:port` inside the namespace pinned at `path`.
pub fn connect_in(path: PathBuf, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    connect_to_in(path, ([127, 0, 0, 1], port).into(), timeout)
}

/// A TCP connection to `addr`, opened inside the namespace pinned at `path`.
pub fn connect_to_in(path: PathBuf, addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    in_namespace(path, move || TcpStream::connect_timeout(&addr, timeout))
}

/// Runs `f` on a fresh thread that entered the network namespace pinned at `path`; what `f`
/// opens (sockets) stays in that namespace.
pub fn in_namespace<T: Send + 'static>(
    path: PathBuf,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    std::thread::spawn(move || -> io::Result<T> {
        let ns = std::fs::File::open(&path)?;
        // SAFETY: setns on this short-lived thread only.
        unsafe { check(libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET))? };
        f()
    })
    .join()
    .map_err(|_| io::Error::other("netns thread panicked"))?
}

/// Whether `path` is a pinned network namespace (a bind mount of an nsfs file).
pub fn is_namespace(path: &Path) -> bool {
    const NSFS_MAGIC: libc::c_long = 0x6e73_6673;
    let Ok(p) = cstr(path) else { return false };
    // SAFETY: statfs into a zeroed struct.
    unsafe {
        let mut st: libc::statfs = std::mem::zeroed();
        libc::statfs(p.as_ptr(), &mut st) == 0 && st.f_type as libc::c_long == NSFS_MAGIC
    }
}

/// Runs iproute2's `ip -batch -` with `script` inside the namespace at `ns`; the first failing
/// line fails the call with ip's message.
fn ip_batch(ns: &Path, script: String) -> io::Result<()> {
    in_namespace(ns.to_path_buf(), move || {
        let mut child = Command::new("ip")
            .args(["-batch", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("running ip (iproute2): {e}")))?;
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("piped");
            stdin.write_all(script.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!("ip: {}", String::from_utf8_lossy(&out.stderr).trim())))
        }
    })
}

/// One network attachment of a task: its address and the subnet's prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
}

impl Attachment {
    pub fn gateway(&self) -> Ipv4Addr {
        let mask = u32::MAX << (32 - u32::from(self.prefix_len));
        Ipv4Addr::from((u32::from(self.ip) & mask) + 1)
    }
    /// The node namespace's bridge for this attachment's subnet.
    pub fn bridge(&self) -> String {
        let mask = u32::MAX << (32 - u32::from(self.prefix_len));
        format!("br-{:08x}", u32::from(self.ip) & mask)
    }
}

/// The daemon's node namespace, its bridges, and the veth pairs into task namespaces.
pub struct NodeNet {
    node_ns: PathBuf,
    /// Set-up steps run one at a time: two tasks must not race to create one bridge.
    lock: Mutex<()>,
}

impl NodeNet {
    /// The node namespace pinned at `DIR/node`, created unless an earlier run left it.
    pub fn open(dir: &Path) -> io::Result<NodeNet> {
        let node_ns = dir.join("node");
        if !is_namespace(&node_ns) {
            create(&node_ns)?;
        }
        Ok(NodeNet { node_ns, lock: Mutex::new(()) })
    }

    pub fn node_namespace(&self) -> &Path {
        &self.node_ns
    }

    /// Gives the task namespace at `task_ns` an `ethN` per attachment, with its address, wired
    /// to the bridge of its subnet in the node namespace (created with the gateway address on
    /// first use).
    pub fn attach(&self, container: &str, task_ns: &Path, attachments: &[Attachment]) -> io::Result<()> {
        let _guard = self.lock.lock().expect("lock");
        let tag = short_tag(container);
        for (i, a) in attachments.iter().enumerate() {
            let bridge = self.ensure_bridge(a)?;
            let (node_end, task_end) = (format!("vs{tag}{i}"), format!("ts{tag}{i}"));
            // Left over from an earlier attempt for this container name.
            let _ = ip_batch(&self.node_ns, format!("link del {node_end}\n"));
            ip_batch(
                &self.node_ns,
                format!(
                    "link add {node_end} type veth peer name {task_end}\nlink set {task_end} netns {}\nlink set {node_end} master {bridge}\nlink set {node_end} up\n",
                    task_ns.display()
                ),
            )?;
            ip_batch(
                task_ns,
                format!(
                    "link set {task_end} name eth{i}\naddr add {}/{} dev eth{i}\nlink set eth{i} up\n",
                    a.ip, a.prefix_len
                ),
            )?;
        }
        Ok(())
    }

    /// The bridge of `a`'s subnet, made (with the gateway address) if missing. Call with the
    /// lock held.
    fn ensure_bridge(&self, a: &Attachment) -> io::Result<String> {
        let bridge = a.bridge();
        if ip_batch(&self.node_ns, format!("link show dev {bridge}\n")).is_err() {
            ip_batch(
                &self.node_ns,
                format!(
                    "link add {bridge} type bridge\naddr add {}/{} dev {bridge}\nlink set {bridge} up\n",
                    a.gateway(),
                    a.prefix_len
                ),
            )?;
        }
        Ok(bridge)
    }

    /// Serves a service VIP: the node namespace takes the address (a /32 on the network's
    /// bridge, so it answers the tasks' ARP) and listens on `vip:port` there.
    pub fn listen_vip(&self, vip: Attachment, port: u16) -> io::Result<std::net::TcpListener> {
        let _guard = self.lock.lock().expect("lock");
        let bridge = self.ensure_bridge(&vip)?;
        ip_batch(&self.node_ns, format!("addr replace {}/32 dev {bridge}\n", vip.ip))?;
        in_namespace(self.node_ns.clone(), move || {
            let l = std::net::TcpListener::bind((vip.ip, port))?;
            l.set_nonblocking(true)?;
            Ok(l)
        })
    }

    pub fn release_vip(&self, vip: Attachment) {
        let _guard = self.lock.lock().expect("lock");
        let _ = ip_batch(&self.node_ns, format!("addr del {}/32 dev {}\n", vip.ip, vip.bridge()));
    }

    /// Removes the node ends of a task's veth pairs (their peers go with them).
    pub fn detach(&self, container: &str, count: usize) {
        let _guard = self.lock.lock().expect("lock");
        let tag = short_tag(container);
        for i in 0..count {
            let _ = ip_batch(&self.node_ns, format!("link del vs{tag}{i}\n"));
        }
    }

    /// A TCP connection from the node namespace to a task's address.
    pub fn connect(&self, addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        connect_to_in(self.node_ns.clone(), addr, timeout)
    }
}

/// 8 hex characters naming a container's interfaces (IFNAMSIZ leaves 15).
fn short_tag(container: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(container.as_bytes());
    format!("{:02x}{:02x}{:02x}{:02x}", d[0], d[1], d[2], d[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_name_their_gateway_and_bridge() {
        let a = Attachment { ip: Ipv4Addr::new(198, 18, 1, 7), prefix_len: 24 };
        assert_eq!(a.gateway(), Ipv4Addr::new(198, 18, 1, 1));
        assert_eq!(a.bridge(), "br-c6120100");
        assert!(a.bridge().len() <= 15);
        assert_eq!(short_tag("web.1.abc").len(), 8);
    }
}
