//! The container runtime seen by the daemon: it carries out core's `ContainerCommand`s and
//! reports `ContainerEvent`s on a channel. `containerd::Containerd` is the real one;
//! [`MemoryRuntime`] answers at once with no processes, for the deterministic tests of the
//! driver (turmoil), where containerd cannot run.

use crate::transport::{BoxFuture, BoxIo};
use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};
use swarm_core::runtime::{ContainerCommand, ContainerEvent, ContainerInfo};
use tokio::sync::mpsc;

pub trait Runtime: Send + Sync + 'static {
    /// Starts carrying out `cmd`; commands for one container run in the order given.
    fn execute(&self, cmd: ContainerCommand);
    /// A byte stream to `port` inside a running task (the routing mesh's last hop).
    fn connect(&self, container_name: &str, port: u16) -> BoxFuture<io::Result<BoxIo>>;
    /// Containers this daemon created earlier and that still exist (live-restore after a
    /// restart): what `Node::restart` gets to re-adopt.
    fn existing(&self) -> BoxFuture<Vec<ContainerInfo>>;
    /// How many containers the runtime holds for this daemon (metrics, tests).
    fn count(&self) -> usize;
    /// Where the runtime's per-task DNS servers send questions (the daemon loop). Runtimes
    /// without task networking ignore it.
    fn set_resolver(&self, _resolve: crate::dns::Resolve) {}
    /// Whether the runtime can serve service VIPs (`listen_vip`); the daemon asks nothing
    /// otherwise.
    fn serves_vips(&self) -> bool {
        false
    }
    /// A listener on `vip:port` where the tasks of the VIP's network reach it (containerd: the
    /// node namespace, the VIP on the network's bridge).
    fn listen_vip(
        &self,
        _vip: swarm_core::api::NetAddr,
        _port: u16,
    ) -> BoxFuture<io::Result<crate::daemon::MeshListener>> {
        Box::pin(async { Err(io::Error::new(io::ErrorKind::Unsupported, "this runtime serves no VIPs")) })
    }
    /// No listener is left on `vip`: take its address away.
    fn release_vip(&self, _vip: swarm_core::api::NetAddr) {}
}

/// A runtime without processes: create/start/stop/kill/remove answer at once; kill exits 137.
pub struct MemoryRuntime {
    events: mpsc::UnboundedSender<ContainerEvent>,
    containers: Mutex<HashMap<String, bool>>,
    next_id: Mutex<u64>,
    /// Images the runtime "has"; others fail as containerd does without the image.
    pub images: Vec<String>,
}

impl MemoryRuntime {
    pub fn new(events: mpsc::UnboundedSender<ContainerEvent>, images: Vec<String>) -> Arc<MemoryRuntime> {
        Arc::new(MemoryRuntime { events, containers: Mutex::default(), next_id: Mutex::new(1), images })
    }
}

impl Runtime for MemoryRuntime {
    fn execute(&self, cmd: ContainerCommand) {
        let mut containers = self.containers.lock().expect("lock");
        let event = match cmd {
            ContainerCommand::Create(spec) => {
                let base = swarm_core::image::repository(&spec.image).to_string();
                if !self.images.iter().any(|i| i == &base) {
                    ContainerEvent::CreateFailed {
                        name: spec.name,
                        error: format!("No such image: {}", swarm_core::image::with_tag(&spec.image)),
                    }
                } else {
                    let mut next = self.next_id.lock().expect("lock");
                    let id = format!("{:064x}", *next);
                    *next += 1;
                    containers.insert(spec.name.clone(), false);
                    ContainerEvent::Created {
                        name: spec.name,
                        id,
                        command: "httpd -f -p 80 -h /www".into(),
                        exposed_ports: vec!["80/tcp".into()],
                    }
                }
            }
            ContainerCommand::Start { name } => match containers.get_mut(&name) {
                Some(running) => {
                    *running = true;
                    ContainerEvent::Started { name }
                }
                None => ContainerEvent::NotFound { name },
            },
            ContainerCommand::Stop { name, .. } => match containers.get_mut(&name) {
                Some(running) => {
                    *running = false;
                    ContainerEvent::Exited { name, exit_code: 0 }
                }
                None => ContainerEvent::NotFound { name },
            },
            ContainerCommand::Kill { name } => match containers.get_mut(&name) {
                Some(running) => {
                    *running = false;
                    ContainerEvent::Exited { name, exit_code: 137 }
                }
                None => ContainerEvent::NotFound { name },
            },
            ContainerCommand::Remove { name } => match containers.remove(&name) {
                Some(_) => ContainerEvent::Removed { name },
                None => ContainerEvent::NotFound { name },
            },
        };
        let _ = self.events.send(event);
    }

    fn connect(&self, container_name: &str, _port: u16) -> BoxFuture<io::Result<BoxIo>> {
        let name = container_name.to_string();
        Box::pin(async move {
            Err(io::Error::new(io::ErrorKind::Unsupported, format!("{name}: no processes in the memory runtime")))
        })
    }

    fn existing(&self) -> BoxFuture<Vec<ContainerInfo>> {
        Box::pin(async { Vec::new() })
    }

    fn count(&self) -> usize {
        self.containers.lock().expect("lock").len()
    }
}
