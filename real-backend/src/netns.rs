//! One network namespace per task, created by the daemon: only a loopback interface, brought
//! up, bind-mounted under the data root so containerd's runc joins it. The routing mesh reaches
//! a task by opening a socket inside its namespace and connecting to `127.0.0.1:PORT`, so task
//! traffic never leaves namespaces the daemon made (and never uses a routable address).

use std::ffi::CString;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
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
        unsafe {
            check(libc::mount(src.as_ptr(), target.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null()))
        }
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
    std::thread::spawn(move || -> io::Result<TcpStream> {
        let ns = std::fs::File::open(&path)?;
        // SAFETY: setns on this short-lived thread only; the socket keeps its namespace.
        unsafe { check(libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET))? };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        TcpStream::connect_timeout(&addr, timeout)
    })
    .join()
    .map_err(|_| io::Error::other("netns thread panicked"))?
}
