//! A task's secret and config files, as dockerd gives them: written on a tmpfs of the task's
//! own (`DATA_ROOT/task-files/<container>`, never on disk) and bind-mounted read-only at their
//! paths in the container (`/run/secrets/NAME`, a config's target). The tmpfs is unmounted and
//! its directory removed when the container is.

use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use swarm_core::api::secret::ContainerFile;

/// Where each container's files live: `DATA_ROOT/task-files`.
pub fn root(netns_dir: &Path) -> PathBuf {
    netns_dir.parent().unwrap_or(netns_dir).join("task-files")
}

/// Mounts a tmpfs for `container` and writes its files there; returns the OCI mounts that put
/// them at their paths (after `/run`'s tmpfs in the spec, so `/run/secrets/…` lands on it).
pub fn prepare(root: &Path, container: &str, files: &[ContainerFile]) -> Result<Vec<Value>, String> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let dir = root.join(container);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    mount_tmpfs(&dir)?;
    let mut mounts = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let source = dir.join(i.to_string());
        std::fs::write(&source, file.data.as_slice()).map_err(|e| format!("{}: {e}", source.display()))?;
        std::fs::set_permissions(&source, std::fs::Permissions::from_mode(file.mode))
            .map_err(|e| format!("{}: {e}", source.display()))?;
        let (uid, gid) = (file.uid.parse::<u32>().unwrap_or(0), file.gid.parse::<u32>().unwrap_or(0));
        std::os::unix::fs::chown(&source, Some(uid), Some(gid)).map_err(|e| format!("{}: {e}", source.display()))?;
        mounts.push(json!({
            "destination": file.path,
            "type": "bind",
            "source": source.to_string_lossy(),
            "options": ["rbind", "ro"]
        }));
    }
    Ok(mounts)
}

/// Unmounts the container's tmpfs (if any) and removes its directory.
pub fn release(root: &Path, container: &str) {
    let dir = root.join(container);
    if !dir.exists() {
        return;
    }
    if let Ok(path) = std::ffi::CString::new(dir.to_string_lossy().as_bytes()) {
        // SAFETY: a NUL-terminated path; a failure (not mounted) leaves nothing to undo.
        unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn mount_tmpfs(dir: &Path) -> Result<(), String> {
    let c = |s: &str| std::ffi::CString::new(s).map_err(|e| e.to_string());
    let (source, target, fstype, data) =
        (c("tmpfs")?, c(&dir.to_string_lossy())?, c("tmpfs")?, c("mode=0700,size=1m")?);
    // SAFETY: NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::mount(
            source.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            data.as_ptr().cast(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(format!("mounting a tmpfs on {}: {}", dir.display(), std::io::Error::last_os_error()))
    }
}
