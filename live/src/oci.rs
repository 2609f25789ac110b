//! A scenario's image as an OCI image archive, for swarmd: swarmd does not pull, it runs what
//! its containerd namespace holds, and `ctr images import` takes an OCI layout in a tar (the
//! layout `ci/busybox-image.sh` writes). The one layer is the busybox root filesystem
//! `images.rs` packs for the docker backend; CMD and EXPOSE become the config's `Cmd` and
//! `ExposedPorts`, so both backends run the same program.

use crate::images::BuiltImage;
use crate::lab::tool;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Uncompressed: the layer is small and containerd unpacks a plain tar as well.
const LAYER_MEDIA_TYPE: &str = "application/vnd.oci.image.layer.v1.tar";
/// The annotation `ctr images import --base-name B` joins to `B:` to name the image.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An archive ready for `ctr images import --base-name BASE_NAME ARCHIVE`.
#[derive(Clone, Debug)]
pub struct OciArchive {
    pub archive: PathBuf,
    /// The repository as containerd's store names it (`docker.io/library/nginx`): swarmd asks
    /// containerd for `docker.io/library/nginx:latest` when a service names `nginx`.
    pub base_name: String,
}

/// The repository and tag containerd's store uses for a name a user types: `nginx` →
/// (`docker.io/library/nginx`, `latest`), `localhost:5000/app:v1` → (`localhost:5000/app`, `v1`).
pub fn store_name(image: &str) -> (String, String) {
    let qualified = swarm_core::image::fully_qualified(image);
    let repository = swarm_core::image::repository(&qualified).to_string();
    let tag = qualified[repository.len()..].trim_start_matches(':').to_string();
    (repository, tag)
}

/// Writes `dir/oci.tar` for the image: index → manifest → config and the one layer.
pub fn write_archive(image: &BuiltImage, dir: &Path) -> Result<OciArchive, String> {
    let layout = dir.join("oci-layout");
    let blobs = layout.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).map_err(|e| format!("{}: {e}", blobs.display()))?;
    let layer = std::fs::read(&image.tar).map_err(|e| format!("{}: {e}", image.tar.display()))?;
    let layer_digest = put_blob(&blobs, &layer)?;
    let config = config_json(&image.changes, image.healthcheck.as_ref(), &layer_digest)?;
    let config_digest = put_blob(&blobs, config.as_bytes())?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": { "mediaType": CONFIG_MEDIA_TYPE, "digest": config_digest, "size": config.len() },
        "layers": [ { "mediaType": LAYER_MEDIA_TYPE, "digest": layer_digest, "size": layer.len() } ],
    })
    .to_string();
    let manifest_digest = put_blob(&blobs, manifest.as_bytes())?;
    let (base_name, tag) = store_name(&image.reference);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [ {
            "mediaType": MANIFEST_MEDIA_TYPE,
            "digest": manifest_digest,
            "size": manifest.len(),
            "annotations": { REF_NAME: tag },
        } ],
    })
    .to_string();
    write(&layout.join("index.json"), index.as_bytes())?;
    write(&layout.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let archive = dir.join("oci.tar");
    tool(&["tar", "-C", &layout.to_string_lossy(), "-cf", &archive.to_string_lossy(), "."])?;
    Ok(OciArchive { archive, base_name })
}

/// The image config: the program from `CMD [...]`, the ports from `EXPOSE`, the one layer's
/// diff ID (the digest of the uncompressed layer, which here is the layer itself).
fn config_json(
    changes: &[String],
    healthcheck: Option<&swarm_core::api::HealthConfig>,
    layer_digest: &str,
) -> Result<String, String> {
    let mut cmd: Vec<String> = Vec::new();
    let mut exposed = serde_json::Map::new();
    for change in changes {
        if let Some(json) = change.strip_prefix("CMD ") {
            cmd = serde_json::from_str(json).map_err(|e| format!("image change {change:?}: {e}"))?;
        } else if let Some(port) = change.strip_prefix("EXPOSE ") {
            exposed.insert(port.trim().to_string(), serde_json::json!({}));
        } else if change.starts_with("HEALTHCHECK ") {
            // Written from `healthcheck` below, in docker's config shape.
        } else {
            return Err(format!("image change {change:?} has no OCI counterpart here"));
        }
    }
    let mut config =
        serde_json::json!({ "Env": ["PATH=/bin"], "Cmd": cmd, "ExposedPorts": exposed, "WorkingDir": "/" });
    if let Some(h) = healthcheck {
        // docker's image config `Healthcheck`, durations in nanoseconds (swarmd reads it).
        config["Healthcheck"] = serde_json::json!({
            "Test": h.test,
            "Interval": h.interval.as_nanos() as u64,
            "Timeout": h.timeout.as_nanos() as u64,
            "StartPeriod": h.start_period.as_nanos() as u64,
            "Retries": h.retries,
        });
    }
    Ok(serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": { "type": "layers", "diff_ids": [layer_digest] },
        "history": [ { "created_by": "swarmsim-live" } ],
    })
    .to_string())
}

/// Stores `bytes` as a content-addressed blob; returns its `sha256:HEX` digest.
fn put_blob(blobs: &Path, bytes: &[u8]) -> Result<String, String> {
    let hex = sha256_hex(bytes);
    write(&blobs.join(&hex), bytes)?;
    Ok(format!("sha256:{hex}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// A directory of the test's own, removed however the test ends.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Reads a blob named by a descriptor and checks that its digest and size are its own.
    fn blob(layout: &Path, descriptor: &Value) -> Vec<u8> {
        let digest = descriptor["digest"].as_str().expect("a digest");
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        let bytes = std::fs::read(layout.join("blobs/sha256").join(hex)).expect("the blob is in the archive");
        assert_eq!(sha256_hex(&bytes), hex, "the blob's content hashes to its name");
        assert_eq!(descriptor["size"].as_u64(), Some(bytes.len() as u64), "the descriptor's size is the blob's");
        bytes
    }

    #[test]
    fn the_archive_index_manifest_config_and_layer_digests_check_out() {
        let scratch = Scratch(std::env::temp_dir().join(format!("swarmsim-oci-test-{}", std::process::id())));
        let rootfs = scratch.0.join("rootfs");
        std::fs::create_dir_all(rootfs.join("www")).unwrap();
        std::fs::write(rootfs.join("www/index.html"), "hello\n").unwrap();
        let layer = scratch.0.join("layer.tar");
        tool(&["tar", "-C", &rootfs.to_string_lossy(), "-cf", &layer.to_string_lossy(), "."]).unwrap();
        let image = BuiltImage {
            reference: "nginx:latest".into(),
            name: "nginx".into(),
            tar: layer.clone(),
            changes: vec![r#"CMD ["/bin/sh","-c","httpd -f -p 80 -h /www"]"#.into(), "EXPOSE 80/tcp".into()],
            healthcheck: None,
        };

        let written = write_archive(&image, &scratch.0.join("out")).unwrap();
        assert_eq!(written.base_name, "docker.io/library/nginx");
        let unpacked = scratch.0.join("unpacked");
        std::fs::create_dir_all(&unpacked).unwrap();
        tool(&["tar", "-C", &unpacked.to_string_lossy(), "-xf", &written.archive.to_string_lossy()]).unwrap();

        let index: Value = serde_json::from_slice(&std::fs::read(unpacked.join("index.json")).unwrap()).unwrap();
        let entry = &index["manifests"][0];
        assert_eq!(entry["annotations"][REF_NAME], "latest");
        let manifest: Value = serde_json::from_slice(&blob(&unpacked, entry)).unwrap();
        let config: Value = serde_json::from_slice(&blob(&unpacked, &manifest["config"])).unwrap();
        let layer_bytes = blob(&unpacked, &manifest["layers"][0]);
        assert_eq!(layer_bytes, std::fs::read(&layer).unwrap());
        assert_eq!(config["rootfs"]["diff_ids"][0], manifest["layers"][0]["digest"]);
        assert_eq!(config["config"]["Cmd"][2], "httpd -f -p 80 -h /www");
        assert!(config["config"]["ExposedPorts"].get("80/tcp").is_some());
    }

    #[test]
    fn store_names_are_containerds() {
        assert_eq!(store_name("nginx"), ("docker.io/library/nginx".into(), "latest".into()));
        assert_eq!(store_name("crasher:v2"), ("docker.io/library/crasher".into(), "v2".into()));
        assert_eq!(store_name("localhost:5000/app"), ("localhost:5000/app".into(), "latest".into()));
    }
}
