//! The scenario's `[[image]]`s as real images: a busybox-static root filesystem whose command
//! behaves as the image is declared to (serve `http_body`, exit after a while, fail to start),
//! packed once per run as a tar for `docker import` on every node.

use crate::lab::tool;
use std::path::{Path, PathBuf};
use swarmsim::scenario::ImageDef;

/// Where busybox-static installs its one binary (Debian's busybox-static).
const BUSYBOX: &str = "/bin/busybox";

/// The applets a container may be asked to run (`docker exec … nslookup`, the image commands).
const APPLETS: &[&str] = &["sh", "httpd", "sleep", "nslookup", "wget", "cat", "ls", "echo", "ps", "hostname", "ip"];

/// Containers look for this entrypoint, which the image lacks: every start fails at the runtime,
/// as a `start_error` image declares.
const MISSING_ENTRYPOINT: &str = "/no-such-entrypoint";

/// An image ready to import: its reference, its tar, and the `docker import --change` lines.
#[derive(Clone, Debug)]
pub struct BuiltImage {
    /// `nginx:latest`: a name without a tag gets `latest`, as docker reads it.
    pub reference: String,
    /// The name the scenario uses (`missing_images` lists these).
    pub name: String,
    pub tar: PathBuf,
    /// Dockerfile instructions: `CMD [...]`, `EXPOSE 80/tcp`.
    pub changes: Vec<String>,
}

pub fn build_all(images: &[ImageDef], dir: &Path) -> Result<Vec<BuiltImage>, String> {
    images.iter().enumerate().map(|(index, image)| build(image, &dir.join(format!("image{index}")))).collect()
}

fn build(image: &ImageDef, dir: &Path) -> Result<BuiltImage, String> {
    let rootfs = dir.join("rootfs");
    let bin = rootfs.join("bin");
    std::fs::create_dir_all(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    std::fs::copy(BUSYBOX, bin.join("busybox")).map_err(|e| format!("{BUSYBOX}: {e} (install busybox-static)"))?;
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", bin.join(applet)).map_err(|e| format!("{applet}: {e}"))?;
    }
    for dir in ["www", "tmp", "etc"] {
        std::fs::create_dir_all(rootfs.join(dir)).map_err(|e| format!("{dir}: {e}"))?;
    }
    if let Some(body) = &image.http_body {
        std::fs::write(rootfs.join("www/index.html"), format!("{body}\n")).map_err(|e| format!("index.html: {e}"))?;
    }
    let tar = dir.join("image.tar");
    tool(&["tar", "-C", &rootfs.to_string_lossy(), "-cf", &tar.to_string_lossy(), "."])?;
    let mut changes = vec![format!("CMD {}", command_json(image))];
    for port in &image.exposed_ports {
        changes.push(format!("EXPOSE {port}"));
    }
    Ok(BuiltImage { reference: reference(&image.name), name: image.name.clone(), tar, changes })
}

/// The command as a JSON array. The main program runs under `sh` with a TERM trap because PID 1
/// of a container ignores signals it has no handler for: without it every stop would wait out
/// docker's 10 s grace period, where the images this stands for stop at once.
fn command_json(image: &ImageDef) -> String {
    if image.start_error.is_some() {
        return serde_json::to_string(&[MISSING_ENTRYPOINT]).expect("strings serialize");
    }
    let script = if let Some(exit) = image.exits {
        format!("trap 'exit 143' TERM; sleep {} & wait $!; exit {}", exit.after.as_secs_f64(), exit.code)
    } else if image.http_body.is_some() {
        let port = image.exposed_ports.first().and_then(|p| p.split('/').next()).unwrap_or("80");
        format!("trap 'exit 143' TERM; httpd -f -p {port} -h /www & wait $!")
    } else {
        "trap 'exit 143' TERM; while :; do sleep 3600 & wait $!; done".to_string()
    };
    serde_json::to_string(&["/bin/sh", "-c", &script]).expect("strings serialize")
}

/// `nginx` → `nginx:latest`; `registry:5000/app` → `registry:5000/app:latest`.
pub fn reference(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || last.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_without_a_tag_reads_as_latest() {
        assert_eq!(reference("nginx"), "nginx:latest");
        assert_eq!(reference("nginx:1.25"), "nginx:1.25");
        assert_eq!(reference("registry:5000/app"), "registry:5000/app:latest");
    }

    #[test]
    fn commands_follow_the_declared_behaviour() {
        let nginx = swarmsim::scenario::default_images().remove(0);
        assert!(command_json(&nginx).contains("httpd -f -p 80 -h /www"));
        let crasher = ImageDef {
            exits: Some(swarmsim::scenario::ImageExit { after: std::time::Duration::from_millis(1500), code: 3 }),
            ..nginx.clone()
        };
        assert!(command_json(&crasher).contains("sleep 1.5 & wait $!; exit 3"));
        let broken = ImageDef { start_error: Some("boom".into()), ..nginx };
        assert_eq!(command_json(&broken), "[\"/no-such-entrypoint\"]");
    }
}
