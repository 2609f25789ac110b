//! The driver loop: one tokio task owns the `Node`, waits for the next input (a peer's message,
//! a container event, a client request, or the node's own deadline), hands it in with the
//! current time, and carries out the outputs in order: `Persist`/`SaveIdentity` are fsynced
//! before anything after them (sends, replies) leaves the process.
//!
//! Around the node, and without any swarm rule: `bootstrap` (certificates around `swarm init`
//! and `swarm join`, see `tls`), `mesh` (listeners on published ports, VIPs and remote tasks'
//! addresses; the node picks the backend, the daemon only moves bytes) and `metrics`.

mod bootstrap;
mod mesh;
mod metrics;

use crate::runtime::Runtime;
use crate::storage::Storage;
use crate::tls::NodeCerts;
use crate::transport::{BoxIo, Dialer, Inbound, Transport};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::api::{NetAddr, Resources};
use swarm_core::control::Request;
use swarm_core::net::Route;
use swarm_core::node::{Node, NodeConfig, Output, Reply};
use swarm_core::persist::DiskWrite;
use swarm_core::runtime::ContainerEvent;
use swarm_core::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info};

/// Milliseconds handed to core: a wall-clock epoch taken at start plus a monotonic clock, so
/// time never goes backwards within a process and `23 seconds ago` agrees between daemons.
#[derive(Clone)]
pub struct Clock {
    start: tokio::time::Instant,
    base_ms: u64,
}

impl Clock {
    pub fn new(base_ms: u64) -> Clock {
        Clock { start: tokio::time::Instant::now(), base_ms }
    }

    /// The wall clock as core counts time: from core's display epoch (2016-08-01, where the
    /// simulator's runs start), which `inspect`'s `CreatedAt` adds back; counted from the Unix
    /// epoch, swarmd's timestamps printed 46 years late (2073).
    pub fn wall() -> Clock {
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Clock::new(unix_ms.saturating_sub(swarm_core::cli::inspect::DISPLAY_EPOCH_UNIX_SECS * 1000))
    }

    pub fn now(&self) -> Instant {
        Instant(self.base_ms + self.start.elapsed().as_millis() as u64)
    }

    fn tokio_at(&self, at: Instant) -> tokio::time::Instant {
        self.start + Duration::from_millis(at.0.saturating_sub(self.base_ms))
    }
}

pub enum Event {
    Client {
        request: Request,
        reply: oneshot::Sender<Reply>,
    },
    Metrics(oneshot::Sender<String>),
    /// The certificate bootstrap of a join finished; the join itself goes to core now.
    JoinBootstrapped {
        result: Result<NodeCerts, String>,
        request: Request,
        reply: oneshot::Sender<Reply>,
    },
    /// A connection on a published port: core's routing mesh picks the task (see `mesh`).
    IngressRoute {
        port: u16,
        reply: oneshot::Sender<Result<Route, String>>,
    },
    /// A task connected to a service VIP: core picks the task (see `mesh`).
    VipRoute {
        vip: std::net::Ipv4Addr,
        port: u16,
        reply: oneshot::Sender<Result<Route, String>>,
    },
    /// A task's DNS question: `Node::resolve` answers it (see `dns`).
    Resolve {
        container: String,
        name: String,
        reply: oneshot::Sender<Vec<std::net::Ipv4Addr>>,
    },
    Shutdown,
}

pub struct DaemonParts {
    pub config: NodeConfig,
    pub seed: u64,
    pub clock: Clock,
    pub storage: Storage,
    pub certs_dir: PathBuf,
    pub transport: Arc<Transport>,
    pub dialer: Arc<dyn Dialer>,
    pub runtime: Arc<dyn Runtime>,
    /// Where published ports listen; `None`: the node's advertise IP.
    pub mesh_ip: Option<IpAddr>,
    /// Binds a published port's listener: real TCP in swarmd; tests may pass their own.
    pub listen: Arc<dyn Fn(IpAddr, u16) -> crate::transport::BoxFuture<std::io::Result<MeshListener>> + Send + Sync>,
}

/// A published port's listener: yields accepted streams.
pub struct MeshListener(pub mpsc::Receiver<BoxIo>);

pub struct Daemon {
    node: Node,
    clock: Clock,
    storage: Storage,
    certs_dir: PathBuf,
    transport: Arc<Transport>,
    dialer: Arc<dyn Dialer>,
    runtime: Arc<dyn Runtime>,
    pending: HashMap<u64, oneshot::Sender<Reply>>,
    next_req: u64,
    events_tx: mpsc::Sender<Event>,
    mesh_ip: Option<IpAddr>,
    /// The routing mesh's listeners, by published port (core's `ServeChange`s open and close
    /// them).
    mesh_listeners: HashMap<u16, tokio::task::JoinHandle<()>>,
    /// Listeners on served VIPs and remote tasks' addresses, by (address, port).
    addr_listeners: BTreeMap<(NetAddr, u16), tokio::task::JoinHandle<()>>,
    listen: Arc<dyn Fn(IpAddr, u16) -> crate::transport::BoxFuture<std::io::Result<MeshListener>> + Send + Sync>,
}

impl Daemon {
    /// Builds the node: restarted from the disk when it holds an identity (re-adopting the
    /// containers the runtime still has), fresh otherwise.
    pub async fn new(parts: DaemonParts, events_tx: mpsc::Sender<Event>) -> Daemon {
        let disk = parts.storage.load().expect("reading the node's disk");
        let certs = NodeCerts::load(&parts.certs_dir).expect("reading the node's certificates");
        let now = parts.clock.now();
        let mut node = if disk.identity.is_some() {
            let containers = parts.runtime.existing().await;
            info!(containers = containers.len(), "restarting from the data root");
            if let Some(certs) = certs {
                parts.transport.security.install(certs).expect("installing the node's certificates");
            }
            Node::restart(parts.config, parts.seed, &disk, containers, now)
        } else {
            Node::new(parts.config, parts.seed)
        };
        // Listeners on published ports, VIPs and remote tasks' addresses follow core's word.
        node.report_serving();
        if let Some(addr) = node.cluster_addr() {
            parts.transport.set_local_addr(*addr);
        }
        Daemon {
            node,
            clock: parts.clock,
            storage: parts.storage,
            certs_dir: parts.certs_dir,
            transport: parts.transport,
            dialer: parts.dialer,
            runtime: parts.runtime,
            pending: HashMap::new(),
            next_req: 1,
            events_tx,
            mesh_ip: parts.mesh_ip,
            mesh_listeners: HashMap::new(),
            addr_listeners: BTreeMap::new(),
            listen: parts.listen,
        }
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Runs until `Event::Shutdown` (or every sender is gone). Containers keep running.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<Event>,
        mut inbound: mpsc::Receiver<Inbound>,
        mut container_events: mpsc::UnboundedReceiver<ContainerEvent>,
    ) {
        loop {
            let deadline = self.node.next_deadline();
            let sleep_until = deadline
                .map(|d| self.clock.tokio_at(d))
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(3600));
            // `biased`: a fixed branch order, so a simulated run (turmoil) replays per seed.
            tokio::select! {
                biased;
                ev = events.recv() => match ev {
                    None | Some(Event::Shutdown) => break,
                    Some(ev) => self.on_event(ev),
                },
                Some(inb) = inbound.recv() => self.on_inbound(inb),
                Some(ce) = container_events.recv() => {
                    debug!(event = ?ce, "container event");
                    let now = self.clock.now();
                    self.node.handle(now, swarm_core::node::Input::Container(ce));
                }
                _ = tokio::time::sleep_until(sleep_until) => {
                    let now = self.clock.now();
                    if deadline.map(|d| d <= now).unwrap_or(false) {
                        self.node.handle(now, swarm_core::node::Input::Timer);
                    }
                }
            }
            self.carry_out();
        }
        info!("shutting down: containers keep running (live-restore)");
        self.stop_serving();
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Client { request, reply } => self.on_client(request, reply),
            Event::Metrics(tx) => {
                let _ = tx.send(self.metrics());
            }
            Event::JoinBootstrapped { result, request, reply } => match result {
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
                Ok(certs) => {
                    if let Err(e) = self.install_certs(certs) {
                        let _ = reply.send(Err(e.into()));
                        return;
                    }
                    self.submit(request, reply);
                }
            },
            Event::IngressRoute { port, reply } => {
                let _ = reply.send(self.node.route_ingress(port));
            }
            Event::VipRoute { vip, port, reply } => {
                let _ = reply.send(self.node.route_vip(vip, port));
            }
            Event::Resolve { container, name, reply } => {
                let _ = reply.send(self.node.resolve(&container, &name));
            }
            Event::Shutdown => {}
        }
    }

    pub(super) fn install_certs(&mut self, certs: NodeCerts) -> Result<(), String> {
        certs.save(&self.certs_dir).map_err(|e| format!("saving certificates: {e}"))?;
        self.transport.security.install(certs).map_err(|e| e.to_string())?;
        self.transport.reset_peers();
        Ok(())
    }

    pub(super) fn submit(&mut self, request: Request, reply: oneshot::Sender<Reply>) {
        let req_id = self.next_req;
        self.next_req += 1;
        self.pending.insert(req_id, reply);
        let now = self.clock.now();
        self.node.handle(now, swarm_core::node::Input::Client { req_id, request });
    }

    fn on_client(&mut self, request: Request, reply: oneshot::Sender<Reply>) {
        let needs_certs = self.transport.security.required
            && self.transport.security.current().is_none()
            && self.node.cluster_addr().is_none();
        match &request {
            Request::InitSwarm { advertise_addr, .. } if needs_certs => {
                let advertise = advertise_addr.clone();
                self.init_with_new_ca(advertise.as_deref(), request, reply)
            }
            Request::JoinSwarm { token, remote_addr, advertise_addr } if needs_certs => {
                let (token, remote, advertise) = (token.clone(), remote_addr.clone(), advertise_addr.clone());
                self.join_after_certificate(&token, &remote, advertise.as_deref(), request, reply)
            }
            _ => self.submit(request, reply),
        }
    }

    fn on_inbound(&mut self, inb: Inbound) {
        match inb {
            Inbound::Message { from, msg } => {
                let now = self.clock.now();
                self.node.handle(now, swarm_core::node::Input::Message { from, msg });
            }
            Inbound::SignRequest { token, csr_der, reply } => {
                let _ = reply.send(self.sign(&token, &csr_der));
            }
        }
    }

    fn carry_out(&mut self) {
        for output in self.node.drain_outputs() {
            match output {
                Output::Persist(write) => self.make_durable(DiskWrite::Raft(write)),
                Output::SaveIdentity(identity) => {
                    self.make_durable(DiskWrite::Identity(identity.clone()));
                    match &identity {
                        Some(id) => self.transport.set_local_addr(id.advertise_addr),
                        None => {
                            let _ = std::fs::remove_file(self.certs_dir.join("node.json"));
                            self.transport.security.clear();
                            self.transport.reset_peers();
                        }
                    }
                }
                Output::Send { to, msg } => self.transport.send(&to, &msg),
                Output::Container(cmd) => {
                    debug!(command = ?cmd, "container command");
                    self.runtime.execute(cmd);
                }
                Output::Reply { req_id, reply } => {
                    if let Some(tx) = self.pending.remove(&req_id) {
                        let _ = tx.send(reply);
                    }
                }
                Output::Serve(change) => self.serve(change),
            }
        }
    }
}

impl Daemon {
    /// One write of core's disk contract, fsynced; if it fails nothing after it may leave the
    /// process, so the daemon stops.
    fn make_durable(&self, write: DiskWrite) {
        if let Err(e) = self.storage.apply(&write) {
            error!(%e, "cannot persist the node's state");
            std::process::exit(70);
        }
    }
}

/// The resolver the runtime's DNS servers use: a question becomes an `Event::Resolve` for the
/// daemon loop (no answer, e.g. while the daemon stops: no addresses).
pub fn resolver(events: mpsc::Sender<Event>) -> crate::dns::Resolve {
    Arc::new(move |container: String, name: String| -> crate::transport::BoxFuture<Vec<std::net::Ipv4Addr>> {
        let events = events.clone();
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            if events.send(Event::Resolve { container, name, reply }).await.is_err() {
                return Vec::new();
            }
            answer.await.unwrap_or_default()
        })
    })
}

/// Default `Resources` of a node: what the host has.
pub fn host_resources() -> Resources {
    let cpus = std::thread::available_parallelism().map(|n| n.get() as u64).unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(1 << 30);
    Resources { nano_cpus: cpus * 1_000_000_000, memory_bytes: mem }
}
