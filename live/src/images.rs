//! The scenario's `[[image]]`s as real images: a busybox-static root filesystem whose command
//! behaves as the image is declared to (serve `http_body`, exit after a while, fail to start),
//! packed once per run as a tar for `docker import` on every node.

use crate::lab::tool;
use std::path::{Path, PathBuf};
use swarmsim::scenario::ImageDef;

/// Where busybox-static installs its one binary (Debian's busybox-static).
const BUSYBOX: &str = "/bin/busybox";

/// The applets a container may be asked to run (`docker exec … nslookup`, the image commands).
const APPLETS: &[&str] =
    &["sh", "httpd", "sleep", "nslookup", "wget", "cat", "ls", "echo", "ps", "hostname", "ip", "touch", "rm", "test"];

/// The file a health-checked image's entrypoint creates once its health command should pass
/// (`healthy_after`) and removes once it should fail (`unhealthy_after`): a scenario's
/// `healthcheck = "test -e /tmp/healthy"` then behaves on real daemons as in the simulator.
pub const HEALTHY_FILE: &str = "/tmp/healthy";

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
    /// Dockerfile instructions: `CMD [...]`, `EXPOSE 80/tcp`, `HEALTHCHECK …`.
    pub changes: Vec<String>,
    /// The image's own health check, for the OCI config (containerd has no `--change`).
    pub healthcheck: Option<swarm_core::api::HealthConfig>,
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
    if let Some(health) = &image.healthcheck {
        changes.push(healthcheck_change(health));
    }
    Ok(BuiltImage {
        reference: reference(&image.name),
        name: image.name.clone(),
        tar,
        changes,
        healthcheck: image.healthcheck.clone(),
    })
}

/// The command as a JSON array. The main program runs under `sh` with a TERM trap because PID 1
/// of a container ignores signals it has no handler for: without it every stop would wait out
/// docker's 10 s grace period, where the images this stands for stop at once.
fn command_json(image: &ImageDef) -> String {
    if image.start_error.is_some() {
        return serde_json::to_string(&[MISSING_ENTRYPOINT]).expect("strings serialize");
    }
    let stop_code = if image.stop_exit_code != 0 { image.stop_exit_code } else { 143 };
    let script = if let Some(exit) = image.exits {
        format!("trap 'exit {stop_code}' TERM; sleep {} & wait $!; exit {}", exit.after.as_secs_f64(), exit.code)
    } else if image.http_body.is_some() {
        let port = image.exposed_ports.first().and_then(|p| p.split('/').next()).unwrap_or("80");
        format!("trap 'exit {stop_code}' TERM; httpd -f -p {port} -h /www & wait $!")
    } else {
        format!("trap 'exit {stop_code}' TERM; while :; do sleep 3600 & wait $!; done")
    };
    let script = match health_prelude(image) {
        // The prelude ends in `&`, which already separates it from the next command.
        Some(prelude) => format!("{prelude} {script}"),
        None => script,
    };
    serde_json::to_string(&["/bin/sh", "-c", &script]).expect("strings serialize")
}

/// For an image that declares health behaviour: a background job that creates `HEALTHY_FILE`
/// at `healthy_after` and removes it at `unhealthy_after`.
fn health_prelude(image: &ImageDef) -> Option<String> {
    let declared = image.healthcheck.is_some() || !image.healthy_after.is_zero() || image.unhealthy_after.is_some();
    if !declared {
        return None;
    }
    let healthy = image.healthy_after.as_secs_f64();
    let mut job = format!("sleep {healthy}; touch {HEALTHY_FILE}");
    if let Some(until) = image.unhealthy_after {
        job.push_str(&format!("; sleep {}; rm -f {HEALTHY_FILE}", (until - image.healthy_after).as_secs_f64()));
    }
    Some(format!("({job}) &"))
}

/// `HEALTHCHECK --interval=2s … CMD cmd`, for `docker import --change` (zero options left out,
/// so dockerd's defaults apply as they do in the simulator).
fn healthcheck_change(health: &swarm_core::api::HealthConfig) -> String {
    use swarm_core::cli::humanize::go_duration_string;
    let mut change = String::from("HEALTHCHECK");
    for (flag, d) in [("interval", health.interval), ("timeout", health.timeout), ("start-period", health.start_period)]
    {
        if !d.is_zero() {
            change.push_str(&format!(" --{flag}={}", go_duration_string(d)));
        }
    }
    if health.retries > 0 {
        change.push_str(&format!(" --retries={}", health.retries));
    }
    change.push_str(&format!(" CMD {}", health.command_line().unwrap_or_default()));
    change
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
        let broken = ImageDef { start_error: Some("boom".into()), ..nginx.clone() };
        assert_eq!(command_json(&broken), "[\"/no-such-entrypoint\"]");
        let flaky = ImageDef {
            healthcheck: Some(swarm_core::api::HealthConfig {
                interval: std::time::Duration::from_secs(2),
                retries: 2,
                ..swarm_core::api::HealthConfig::shell("test -e /tmp/healthy")
            }),
            healthy_after: std::time::Duration::from_secs(5),
            unhealthy_after: Some(std::time::Duration::from_secs(30)),
            ..nginx
        };
        let json = command_json(&flaky);
        assert!(json.contains("(sleep 5; touch /tmp/healthy; sleep 25; rm -f /tmp/healthy) &"), "{json}");
        assert_eq!(
            healthcheck_change(flaky.healthcheck.as_ref().unwrap()),
            "HEALTHCHECK --interval=2s --retries=2 CMD test -e /tmp/healthy"
        );
    }
}
