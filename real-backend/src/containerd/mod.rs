//! Tasks as containerd containers, through containerd's gRPC API (generated code in `gen/`).
//!
//! Create: the image must already be in containerd's store (`ctr images import`): its manifest
//! and config are read from the content store, the snapshot of its layers (chain ID) gets a
//! writable child under a lease, and the container record holds an OCI runtime spec that puts
//! the process in a network namespace the daemon made (see `netns`). Start creates and starts
//! the task and waits for its exit in the background; kill is SIGKILL (exit 137); stop is
//! SIGTERM then SIGKILL after the grace period; remove deletes task, container, snapshot and
//! namespace. Labels on every container (`swarmd.*` beside core's task labels) let a restarted
//! daemon find what it made, its network addresses included (`swarmd.addresses`).
//!
//! Task networking (namespaces, addresses, DNS, VIPs) is `network::TaskNet`'s: this module
//! only asks it to wire a task before its container is created and unwire it on removal.

mod files;
#[allow(clippy::all)]
pub mod gen;
mod health;
mod network;

use network::TaskNet;

use crate::dns::Resolve;
use crate::runtime::Runtime;
use crate::transport::{BoxFuture, BoxIo};
use gen::services_containers_v1::{self as containers, containers_client::ContainersClient};
use gen::services_content_v1::{content_client::ContentClient, ReadContentRequest};
use gen::services_images_v1::{images_client::ImagesClient, GetImageRequest};
use gen::services_leases_v1::{
    leases_client::LeasesClient, CreateRequest as LeaseCreate, DeleteRequest as LeaseDelete,
};
use gen::services_snapshots_v1::{
    snapshots_client::SnapshotsClient, MountsRequest, PrepareSnapshotRequest, RemoveSnapshotRequest,
};
use gen::services_tasks_v1::{tasks_client::TasksClient, *};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarm_core::image;
use swarm_core::runtime::{ContainerCommand, ContainerEvent, ContainerInfo, ContainerSpec, ContainerState};
use swarm_core::time::Instant;
use tokio::sync::mpsc;
use tonic::transport::{Channel, Endpoint};
use tonic::Code;
use tracing::{debug, info, warn};

const LABEL_ID: &str = "swarmd.id";
const LABEL_CREATED: &str = "swarmd.created-ms";
const LABEL_IMAGE: &str = "swarmd.image";
const LABEL_COMMAND: &str = "swarmd.command";
const LABEL_PORTS: &str = "swarmd.exposed-ports";
const LABEL_ADDRS: &str = "swarmd.addresses";
const SPEC_TYPE_URL: &str = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

pub struct Containerd {
    channel: Channel,
    namespace: String,
    snapshotter: String,
    net: TaskNet,
    events: mpsc::UnboundedSender<ContainerEvent>,
    workers: Mutex<HashMap<String, mpsc::UnboundedSender<ContainerCommand>>>,
    now: Arc<dyn Fn() -> Instant + Send + Sync>,
    counter: Mutex<u64>,
    /// Containers with an active health check, by name (`health.rs`).
    probes: Mutex<HashMap<String, health::Probe>>,
    /// Where each container's secret and config files are (`files.rs`).
    files_root: PathBuf,
}

pub async fn connect_channel(socket: PathBuf) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_static("http://[::]:50051")
        .connect_with_connector(tower::service_fn(move |_| {
            let socket = socket.clone();
            async move { Ok::<_, io::Error>(hyper_util::rt::TokioIo::new(tokio::net::UnixStream::connect(socket).await?)) }
        }))
        .await
}

#[derive(Debug)]
struct Failed(String);

impl From<tonic::Status> for Failed {
    fn from(s: tonic::Status) -> Failed {
        Failed(format!("containerd: {}", s.message()))
    }
}

struct ImageConfig {
    chain_id: String,
    args: Vec<String>,
    env: Vec<String>,
    cwd: String,
    exposed_ports: Vec<String>,
    /// The image's own `HEALTHCHECK`.
    healthcheck: Option<swarm_core::api::HealthConfig>,
}

impl Containerd {
    pub async fn connect(
        socket: PathBuf,
        namespace: String,
        netns_dir: PathBuf,
        events: mpsc::UnboundedSender<ContainerEvent>,
        now: Arc<dyn Fn() -> Instant + Send + Sync>,
    ) -> Result<Arc<Containerd>, String> {
        let channel =
            connect_channel(socket.clone()).await.map_err(|e| format!("containerd at {}: {e}", socket.display()))?;
        let files_root = files::root(&netns_dir);
        let net = TaskNet::open(netns_dir)?;
        let c = Containerd {
            channel,
            namespace,
            snapshotter: "overlayfs".into(),
            net,
            events,
            workers: Mutex::default(),
            now,
            counter: Mutex::new(0),
            probes: Mutex::default(),
            files_root,
        };
        let version = gen::services_version_v1::version_client::VersionClient::new(c.channel.clone())
            .version(c.req(()))
            .await
            .map_err(|e| format!("containerd at {}: {}", socket.display(), e.message()))?;
        info!(version = %version.into_inner().version, namespace = %c.namespace, "connected to containerd");
        Ok(Arc::new(c))
    }

    fn req<T>(&self, t: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(t);
        r.metadata_mut().insert("containerd-namespace", self.namespace.parse().expect("namespace is ASCII"));
        r
    }

    fn leased<T>(&self, t: T, lease: &str) -> tonic::Request<T> {
        let mut r = self.req(t);
        r.metadata_mut().insert("containerd-lease", lease.parse().expect("lease is ASCII"));
        r
    }

    async fn read_blob(&self, digest: &str) -> Result<Vec<u8>, Failed> {
        let mut stream = ContentClient::new(self.channel.clone())
            .read(self.req(ReadContentRequest { digest: digest.into(), offset: 0, size: 0 }))
            .await?
            .into_inner();
        let mut data = Vec::new();
        while let Some(chunk) = stream.message().await? {
            data.extend(chunk.data);
        }
        Ok(data)
    }

    async fn image_config(&self, image: &str) -> Result<ImageConfig, Failed> {
        let reference = image::fully_qualified(image);
        let got =
            ImagesClient::new(self.channel.clone()).get(self.req(GetImageRequest { name: reference.clone() })).await;
        let target = match got {
            Ok(r) => {
                r.into_inner().image.and_then(|i| i.target).ok_or_else(|| Failed("image without target".into()))?
            }
            Err(s) if s.code() == Code::NotFound => {
                return Err(Failed(format!("No such image: {}", image::with_tag(image))))
            }
            Err(s) => return Err(s.into()),
        };
        let mut manifest_digest = target.digest.clone();
        if target.media_type.contains("index") || target.media_type.contains("manifest.list") {
            let index: Value =
                serde_json::from_slice(&self.read_blob(&target.digest).await?).map_err(|e| Failed(e.to_string()))?;
            let chosen = index["manifests"]
                .as_array()
                .and_then(|ms| {
                    ms.iter()
                        .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == "amd64")
                        .or_else(|| ms.first())
                })
                .ok_or_else(|| Failed("image index without manifests".into()))?;
            manifest_digest = chosen["digest"].as_str().unwrap_or_default().to_string();
        }
        let manifest: Value =
            serde_json::from_slice(&self.read_blob(&manifest_digest).await?).map_err(|e| Failed(e.to_string()))?;
        let config_digest =
            manifest["config"]["digest"].as_str().ok_or_else(|| Failed("manifest without config".into()))?;
        let config: Value =
            serde_json::from_slice(&self.read_blob(config_digest).await?).map_err(|e| Failed(e.to_string()))?;
        let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_str().map(String::from)).collect())
            .unwrap_or_default();
        let strings = |v: &Value| -> Vec<String> {
            v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
        };
        let mut args = strings(&config["config"]["Entrypoint"]);
        args.extend(strings(&config["config"]["Cmd"]));
        let exposed_ports =
            config["config"]["ExposedPorts"].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        Ok(ImageConfig {
            chain_id: chain_id(&diff_ids),
            args,
            env: strings(&config["config"]["Env"]),
            cwd: config["config"]["WorkingDir"].as_str().filter(|s| !s.is_empty()).unwrap_or("/").to_string(),
            exposed_ports,
            healthcheck: health::image_healthcheck(&config),
        })
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<ContainerEvent, Failed> {
        let image = self.image_config(&spec.image).await?;
        let args = if spec.command.is_empty() { image.args.clone() } else { spec.command.clone() };
        let mut env = image.env.clone();
        env.extend(spec.env.iter().cloned());
        let id = {
            let mut c = self.counter.lock().expect("lock");
            *c += 1;
            let mut h = Sha256::new();
            h.update(spec.name.as_bytes());
            h.update(self.namespace.as_bytes());
            h.update(c.to_be_bytes());
            h.update((self.now)().as_millis().to_be_bytes());
            format!("{:x}", h.finalize())
        };
        let (ns_path, addresses_label) = self.net.wire(&spec.name, &spec.networks).await.map_err(Failed)?;
        // The hostname is the short container ID, as docker's: a name with dots would make the
        // resolver's search domain out of the task's slot and ID.
        let mut oci = oci_spec(&args, &env, &image.cwd, &id[..12], &ns_path, &self.namespace, self.net.resolv_conf());
        let file_mounts = files::prepare(&self.files_root, &spec.name, &spec.files).map_err(Failed)?;
        if let Some(mounts) = oci["mounts"].as_array_mut() {
            mounts.extend(file_mounts);
        }
        let lease = format!("swarmd-{}", spec.name);
        LeasesClient::new(self.channel.clone())
            .create(self.req(LeaseCreate { id: lease.clone(), labels: HashMap::new() }))
            .await?;
        let result = async {
            SnapshotsClient::new(self.channel.clone())
                .prepare(self.leased(
                    PrepareSnapshotRequest {
                        snapshotter: self.snapshotter.clone(),
                        key: spec.name.clone(),
                        parent: image.chain_id.clone(),
                        labels: HashMap::new(),
                    },
                    &lease,
                ))
                .await?;
            let mut labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
            labels.insert(LABEL_ID.into(), id.clone());
            labels.insert(LABEL_CREATED.into(), (self.now)().as_millis().to_string());
            labels.insert(LABEL_IMAGE.into(), spec.image.clone());
            labels.insert(LABEL_COMMAND.into(), args.join(" "));
            labels.insert(LABEL_PORTS.into(), image.exposed_ports.join(","));
            labels.insert(LABEL_ADDRS.into(), addresses_label.clone());
            let container = containers::Container {
                id: spec.name.clone(),
                labels,
                image: image::fully_qualified(&spec.image),
                runtime: Some(containers::container::Runtime { name: "io.containerd.runc.v2".into(), options: None }),
                spec: Some(prost_types::Any {
                    type_url: SPEC_TYPE_URL.into(),
                    value: serde_json::to_vec(&oci).expect("json"),
                }),
                snapshotter: self.snapshotter.clone(),
                snapshot_key: spec.name.clone(),
                ..Default::default()
            };
            ContainersClient::new(self.channel.clone())
                .create(self.leased(containers::CreateContainerRequest { container: Some(container) }, &lease))
                .await?;
            Ok::<(), Failed>(())
        }
        .await;
        let _ = LeasesClient::new(self.channel.clone()).delete(self.req(LeaseDelete { id: lease, sync: false })).await;
        if let Err(e) = result {
            let _ = SnapshotsClient::new(self.channel.clone())
                .remove(
                    self.req(RemoveSnapshotRequest { snapshotter: self.snapshotter.clone(), key: spec.name.clone() }),
                )
                .await;
            self.net.unwire(&spec.name).await;
            self.net.remove_namespace(&spec.name);
            if e.0.contains("already exists") {
                return Err(Failed(format!("Conflict. The container name \"/{}\" is already in use", spec.name)));
            }
            return Err(e);
        }
        let merged = match &spec.healthcheck {
            Some(own) => Some(own.merged_over(image.healthcheck.as_ref())),
            None => image.healthcheck.clone(),
        };
        if let Some(config) = merged.filter(swarm_core::api::HealthConfig::is_active) {
            self.probes.lock().expect("lock").insert(spec.name.clone(), health::Probe { config, env: env.clone() });
        }
        Ok(ContainerEvent::Created {
            name: spec.name.clone(),
            id,
            command: args.join(" "),
            exposed_ports: image.exposed_ports,
        })
    }

    async fn start(self: &Arc<Self>, name: &str) -> Result<ContainerEvent, Failed> {
        let mounts = SnapshotsClient::new(self.channel.clone())
            .mounts(self.req(MountsRequest { snapshotter: self.snapshotter.clone(), key: name.into() }))
            .await?
            .into_inner()
            .mounts;
        let mut tasks = TasksClient::new(self.channel.clone());
        // A task left from an earlier run of this container (it exited): delete it first.
        let _ = tasks.delete(self.req(DeleteTaskRequest { container_id: name.into() })).await;
        tasks
            .create(self.req(CreateTaskRequest { container_id: name.into(), rootfs: mounts, ..Default::default() }))
            .await?;
        self.spawn_waiter(name.to_string());
        tasks.start(self.req(StartRequest { container_id: name.into(), exec_id: String::new() })).await?;
        // Reports `Health { Starting }` first when the container has a health check.
        self.start_health_monitor(name);
        Ok(ContainerEvent::Started { name: name.into() })
    }

    /// Reports the task's exit as `Exited`; containerd gives 128+signal for a signalled
    /// process (137 after SIGKILL).
    fn spawn_waiter(self: &Arc<Self>, name: String) {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            let waited = TasksClient::new(me.channel.clone())
                .wait(me.req(WaitRequest { container_id: name.clone(), exec_id: String::new() }))
                .await;
            match waited {
                Ok(r) => {
                    let code = r.into_inner().exit_status as i32;
                    debug!(container = %name, code, "task exited");
                    let _ = me.events.send(ContainerEvent::Exited { name, exit_code: code });
                }
                Err(s) => warn!(container = %name, err = %s.message(), "wait failed"),
            }
        });
    }

    async fn signal(&self, name: &str, signal: u32) -> Result<bool, Failed> {
        match TasksClient::new(self.channel.clone())
            .kill(self.req(KillRequest { container_id: name.into(), exec_id: String::new(), signal, all: true }))
            .await
        {
            Ok(_) => Ok(true),
            Err(s)
                if s.code() == Code::NotFound
                    || s.message().contains("not found")
                    || s.message().contains("not running") =>
            {
                Ok(false)
            }
            Err(s) => Err(s.into()),
        }
    }

    async fn is_running(&self, name: &str) -> bool {
        match TasksClient::new(self.channel.clone())
            .get(self.req(GetRequest { container_id: name.into(), exec_id: String::new() }))
            .await
        {
            Ok(r) => r.into_inner().process.map(|p| p.status == gen::v1_types::Status::Running as i32).unwrap_or(false),
            Err(_) => false,
        }
    }

    async fn container_exists(&self, name: &str) -> bool {
        ContainersClient::new(self.channel.clone())
            .get(self.req(containers::GetContainerRequest { id: name.into() }))
            .await
            .is_ok()
    }

    async fn stop(&self, name: &str, grace: Duration) -> Result<Option<ContainerEvent>, Failed> {
        if !self.is_running(name).await {
            return Ok(if self.container_exists(name).await {
                None
            } else {
                Some(ContainerEvent::NotFound { name: name.into() })
            });
        }
        self.signal(name, libc::SIGTERM as u32).await?;
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            if !self.is_running(name).await {
                return Ok(None);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.signal(name, libc::SIGKILL as u32).await?;
        Ok(None)
    }

    async fn remove(&self, name: &str) -> Result<ContainerEvent, Failed> {
        if !self.container_exists(name).await {
            return Ok(ContainerEvent::NotFound { name: name.into() });
        }
        let mut tasks = TasksClient::new(self.channel.clone());
        if self.is_running(name).await {
            self.signal(name, libc::SIGKILL as u32).await?;
            for _ in 0..50 {
                if !self.is_running(name).await {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let _ = tasks.delete(self.req(DeleteTaskRequest { container_id: name.into() })).await;
        self.probes.lock().expect("lock").remove(name);
        // Unwired before the container record goes: once containerd lists no container,
        // nothing of it is left in the node namespace.
        self.net.unwire(name).await;
        ContainersClient::new(self.channel.clone())
            .delete(self.req(containers::DeleteContainerRequest { id: name.into() }))
            .await?;
        let _ = SnapshotsClient::new(self.channel.clone())
            .remove(self.req(RemoveSnapshotRequest { snapshotter: self.snapshotter.clone(), key: name.into() }))
            .await;
        self.net.remove_namespace(name);
        files::release(&self.files_root, name);
        Ok(ContainerEvent::Removed { name: name.into() })
    }

    async fn run(self: &Arc<Self>, cmd: ContainerCommand) {
        let name = cmd.name().to_string();
        let event = match cmd {
            ContainerCommand::Create(spec) => match self.create(&spec).await {
                Ok(e) => Some(e),
                Err(Failed(error)) => {
                    // Nothing will remove a container that was never made: its files go now.
                    files::release(&self.files_root, &name);
                    Some(ContainerEvent::CreateFailed { name, error })
                }
            },
            ContainerCommand::Start { .. } => match self.start(&name).await {
                Ok(e) => Some(e),
                Err(Failed(error)) => Some(ContainerEvent::StartFailed { name, error }),
            },
            ContainerCommand::Stop { grace, .. } => match self.stop(&name, grace).await {
                Ok(e) => e,
                Err(Failed(e)) => {
                    warn!(container = %name, err = %e, "stop failed");
                    None
                }
            },
            ContainerCommand::Kill { .. } => match self.signal(&name, libc::SIGKILL as u32).await {
                Ok(true) => None, // the waiter reports the exit (137)
                Ok(false) => Some(ContainerEvent::NotFound { name }),
                Err(Failed(e)) => {
                    warn!(container = %name, err = %e, "kill failed");
                    None
                }
            },
            ContainerCommand::Remove { .. } => match self.remove(&name).await {
                Ok(e) => Some(e),
                Err(Failed(e)) => {
                    warn!(container = %name, err = %e, "remove failed");
                    Some(ContainerEvent::NotFound { name })
                }
            },
        };
        if let Some(e) = event {
            let _ = self.events.send(e);
        }
    }

    /// The per-container worker: commands for one container run one after the other.
    fn worker(self: &Arc<Self>, name: &str) -> mpsc::UnboundedSender<ContainerCommand> {
        let mut workers = self.workers.lock().expect("lock");
        workers.retain(|_, tx| !tx.is_closed());
        workers
            .entry(name.to_string())
            .or_insert_with(|| {
                let (tx, mut rx) = mpsc::unbounded_channel::<ContainerCommand>();
                let me = Arc::clone(self);
                tokio::spawn(async move {
                    while let Some(cmd) = rx.recv().await {
                        let removing = matches!(cmd, ContainerCommand::Remove { .. });
                        me.run(cmd).await;
                        if removing && rx.is_empty() {
                            return;
                        }
                    }
                });
                tx
            })
            .clone()
    }
}

pub struct ContainerdRuntime(pub Arc<Containerd>);

impl Runtime for ContainerdRuntime {
    fn execute(&self, cmd: ContainerCommand) {
        let name = cmd.name().to_string();
        if let Err(mpsc::error::SendError(cmd)) = self.0.worker(&name).send(cmd) {
            // The worker just ended (after a remove): start a fresh one.
            self.0.workers.lock().expect("lock").remove(&name);
            let _ = self.0.worker(&name).send(cmd);
        }
    }

    fn connect(&self, container_name: &str, port: u16) -> BoxFuture<io::Result<BoxIo>> {
        self.0.net.connect(container_name, port)
    }

    fn existing(&self) -> BoxFuture<Vec<ContainerInfo>> {
        let me = Arc::clone(&self.0);
        Box::pin(async move {
            let list = match ContainersClient::new(me.channel.clone())
                .list(me.req(containers::ListContainersRequest { filters: vec![] }))
                .await
            {
                Ok(l) => l.into_inner().containers,
                Err(e) => {
                    warn!(err = %e.message(), "could not list containers");
                    return Vec::new();
                }
            };
            let mut out = Vec::new();
            for c in list {
                let Some(id) = c.labels.get(LABEL_ID) else { continue };
                if let Some(addrs) = c.labels.get(LABEL_ADDRS) {
                    me.net.readopt(&c.id, addrs);
                }
                let created_at = Instant(c.labels.get(LABEL_CREATED).and_then(|s| s.parse().ok()).unwrap_or(0));
                let process = TasksClient::new(me.channel.clone())
                    .get(me.req(GetRequest { container_id: c.id.clone(), exec_id: String::new() }))
                    .await
                    .ok()
                    .and_then(|r| r.into_inner().process);
                let state = match process {
                    Some(p) if p.status == gen::v1_types::Status::Running as i32 => {
                        me.spawn_waiter(c.id.clone());
                        ContainerState::Running { since: created_at }
                    }
                    Some(p) if p.status == gen::v1_types::Status::Stopped as i32 => {
                        ContainerState::Exited { exit_code: p.exit_status as i32, at: (me.now)() }
                    }
                    _ => ContainerState::Created,
                };
                out.push(ContainerInfo {
                    id: id.clone(),
                    name: c.id.clone(),
                    image: c.labels.get(LABEL_IMAGE).cloned().unwrap_or_default(),
                    command: c.labels.get(LABEL_COMMAND).cloned().unwrap_or_default(),
                    created_at,
                    state,
                    exposed_ports: c
                        .labels
                        .get(LABEL_PORTS)
                        .map(|p| p.split(',').filter(|s| !s.is_empty()).map(String::from).collect())
                        .unwrap_or_default(),
                    // Not probed again after a daemon restart (health.rs starts on a start).
                    health: None,
                    labels: c
                        .labels
                        .iter()
                        .filter(|(k, _)| !k.starts_with("swarmd."))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                });
            }
            out.sort_by(|a, b| a.name.cmp(&b.name));
            out
        })
    }

    fn set_resolver(&self, resolve: Resolve) {
        self.0.net.set_resolver(resolve);
    }

    fn serves_vips(&self) -> bool {
        true
    }

    fn listen_vip(
        &self,
        vip: swarm_core::api::NetAddr,
        port: u16,
    ) -> BoxFuture<io::Result<crate::daemon::MeshListener>> {
        self.0.net.listen_vip(vip, port)
    }

    fn release_vip(&self, vip: swarm_core::api::NetAddr) {
        self.0.net.release_vip(vip);
    }
}

/// The chain ID of a layer stack, as the OCI image spec defines it.
pub fn chain_id(diff_ids: &[String]) -> String {
    let mut chain = String::new();
    for (i, d) in diff_ids.iter().enumerate() {
        if i == 0 {
            chain = d.clone();
        } else {
            chain = format!("sha256:{:x}", Sha256::digest(format!("{chain} {d}").as_bytes()));
        }
    }
    chain
}

/// A runtime spec like containerd's defaults, with the network namespace the daemon made.
fn oci_spec(
    args: &[String],
    env: &[String],
    cwd: &str,
    hostname: &str,
    netns: &std::path::Path,
    namespace: &str,
    resolv_conf: &std::path::Path,
) -> Value {
    let caps = json!([
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE"
    ]);
    let host = hostname.chars().take(63).collect::<String>();
    json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": false,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": env,
            "cwd": cwd,
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": false},
        "hostname": host,
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/etc/resolv.conf", "type": "bind", "source": resolv_conf.to_string_lossy(), "options": ["rbind", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "cgroupsPath": format!("/{namespace}/{hostname}"),
            "namespaces": [
                {"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                {"type": "network", "path": netns.to_string_lossy()}
            ],
            "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
            "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_id_follows_the_oci_definition() {
        assert_eq!(chain_id(&["sha256:a".into()]), "sha256:a");
        let two = chain_id(&["sha256:a".into(), "sha256:b".into()]);
        assert_eq!(two, format!("sha256:{:x}", Sha256::digest(b"sha256:a sha256:b")));
    }
}
