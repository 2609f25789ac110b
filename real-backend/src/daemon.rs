//! The driver loop: one tokio task owns the `Node`, waits for the next input (a peer's message,
//! a container event, a client command, or the node's own deadline), hands it in with the
//! current time, and carries out the outputs in order: `Persist`/`SaveIdentity` are fsynced
//! before anything after them (sends, replies) leaves the process.
//!
//! Around the node, and without any swarm rule: the certificate bootstrap of `swarm init` and
//! `swarm join` (see `tls`), the routing mesh's listeners on published ports (the node picks
//! the backend; the daemon only moves bytes), and metrics.

use crate::runtime::Runtime;
use crate::storage::Storage;
use crate::tls::{self, NodeCerts};
use crate::transport::{BoxIo, Dialer, Inbound, SignResponse, Transport};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::api::{NodeRole, PublishMode, Resources, TaskState};
use swarm_core::control::Request;
use swarm_core::control::Response;
use swarm_core::manager::tokens;
use swarm_core::net::Route;
use swarm_core::node::{Node, NodeConfig, Output, Reply};
use swarm_core::runtime::ContainerEvent;
use swarm_core::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

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

    pub fn wall() -> Clock {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Clock::new(ms)
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
        command: Request,
        reply: oneshot::Sender<Reply>,
    },
    Metrics(oneshot::Sender<String>),
    /// The certificate bootstrap of a join finished; the join itself goes to core now.
    JoinBootstrapped {
        result: Result<NodeCerts, String>,
        command: Request,
        reply: oneshot::Sender<Reply>,
    },
    /// A task connected to a service VIP: core picks the task (see `reconcile_vips`).
    VipRoute {
        vip: std::net::Ipv4Addr,
        port: u16,
        reply: oneshot::Sender<Result<Route, String>>,
    },
    /// A task's DNS question: core's directory answers it (see `dns`).
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
    mesh_listeners: HashMap<u16, tokio::task::JoinHandle<()>>,
    /// Served VIPs and remote tasks' addresses: `((address, prefix length), port)` → its
    /// listener, and for a remote task the container it stands for.
    vip_listeners:
        std::collections::BTreeMap<((std::net::Ipv4Addr, u8), u16), (tokio::task::JoinHandle<()>, Option<String>)>,
    listen: Arc<dyn Fn(IpAddr, u16) -> crate::transport::BoxFuture<std::io::Result<MeshListener>> + Send + Sync>,
    seed: u64,
}

impl Daemon {
    /// Builds the node: restarted from the disk when it holds an identity (re-adopting the
    /// containers the runtime still has), fresh otherwise.
    pub async fn new(parts: DaemonParts, events_tx: mpsc::Sender<Event>) -> Daemon {
        let disk = parts.storage.load().expect("reading the node's disk");
        let certs = NodeCerts::load(&parts.certs_dir).expect("reading the node's certificates");
        let now = parts.clock.now();
        let node = if disk.identity.is_some() {
            let containers = parts.runtime.existing().await;
            info!(containers = containers.len(), "restarting from the data root");
            if let Some(certs) = certs {
                parts.transport.security.install(certs).expect("installing the node's certificates");
            }
            Node::restart(parts.config, parts.seed, &disk, containers, now)
        } else {
            Node::new(parts.config, parts.seed)
        };
        if let Some(addr) = node.cluster_addr() {
            parts.transport.set_local_addr(addr.clone());
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
            vip_listeners: Default::default(),
            listen: parts.listen,
            seed: parts.seed,
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
        // Orphans: containers of ours that the node does not know (it left, or never joined).
        self.reconcile_mesh();
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
            self.reconcile_mesh();
            self.reconcile_vips();
        }
        info!("shutting down: containers keep running (live-restore)");
        for (_, (h, _)) in std::mem::take(&mut self.vip_listeners) {
            h.abort();
        }
        for (_, h) in self.mesh_listeners.drain() {
            h.abort();
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Client { command, reply } => self.on_client(command, reply),
            Event::Metrics(tx) => {
                let _ = tx.send(self.metrics());
            }
            Event::JoinBootstrapped { result, command, reply } => match result {
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
                Ok(certs) => {
                    if let Err(e) = self.install_certs(certs) {
                        let _ = reply.send(Err(e.into()));
                        return;
                    }
                    self.submit(command, reply);
                }
            },
            Event::VipRoute { vip, port, reply } => {
                let _ = reply.send(self.node.route_vip(vip, port));
            }
            Event::Resolve { container, name, reply } => {
                let ips = self
                    .node
                    .agent()
                    .map(|a| a.directory.resolve(&name, &a.container_networks(&container).unwrap_or_default()))
                    .unwrap_or_default();
                let _ = reply.send(ips);
            }
            Event::Shutdown => {}
        }
    }

    fn install_certs(&mut self, certs: NodeCerts) -> Result<(), String> {
        certs.save(&self.certs_dir).map_err(|e| format!("saving certificates: {e}"))?;
        self.transport.security.install(certs).map_err(|e| e.to_string())?;
        self.transport.reset_peers();
        Ok(())
    }

    fn submit(&mut self, command: Request, reply: oneshot::Sender<Reply>) {
        let req_id = self.next_req;
        self.next_req += 1;
        self.pending.insert(req_id, reply);
        let now = self.clock.now();
        self.node.handle(now, swarm_core::node::Input::Client { req_id, request: command });
    }

    /// The address this node would advertise, as core will choose it (for its certificate).
    fn advertise_ip(&self, given: &Option<String>) -> Option<IpAddr> {
        match given {
            Some(g) => {
                let host = g.rsplit_once(':').map(|(h, _)| h).unwrap_or(g);
                host.parse::<Ipv4Addr>()
                    .ok()
                    .or_else(|| self.node.config.interfaces.iter().find(|(n, _)| n == host).map(|(_, ip)| *ip))
                    .map(IpAddr::V4)
            }
            None => match self.node.config.interfaces.as_slice() {
                [(_, ip)] => Some(IpAddr::V4(*ip)),
                _ => None,
            },
        }
    }

    fn on_client(&mut self, command: Request, reply: oneshot::Sender<Reply>) {
        let needs_certs = self.transport.security.required
            && self.transport.security.current().is_none()
            && self.node.member().is_none();
        match &command {
            Request::InitSwarm { advertise_addr, .. } if needs_certs => {
                // Without an address core answers with the tutorial's error; no CA is made.
                if let Some(ip) = self.advertise_ip(advertise_addr) {
                    match NodeCerts::new_cluster(ip) {
                        Ok(certs) => {
                            // Core puts the real CA's digest in the cluster record and tokens.
                            self.node.set_root_ca_digest(tls::ca_digest(&certs.ca_cert_der));
                            if let Err(e) = self.install_certs(certs) {
                                let _ = reply.send(Err(e.into()));
                                return;
                            }
                            info!(%ip, "created the cluster's root CA");
                        }
                        Err(e) => {
                            let _ = reply.send(Err(e.to_string().into()));
                            return;
                        }
                    }
                }
                self.submit(command, reply);
            }
            Request::JoinSwarm { token, remote_addr, advertise_addr } if needs_certs => {
                let (Ok((digest, _)), Some(ip)) = (tokens::parse_join_token(token), self.advertise_ip(advertise_addr))
                else {
                    // Malformed token or no address: core gives docker's error.
                    return self.submit(command, reply);
                };
                let remote =
                    if remote_addr.contains(':') { remote_addr.clone() } else { format!("{remote_addr}:2377") };
                let (digest, token) = (digest.to_string(), token.clone());
                let dialer = Arc::clone(&self.dialer);
                let tx = self.events_tx.clone();
                tokio::spawn(async move {
                    let result =
                        crate::transport::bootstrap_certificate(dialer.as_ref(), &remote, &token, &digest, ip).await;
                    let _ = tx.send(Event::JoinBootstrapped { result, command, reply }).await;
                });
            }
            _ => self.submit(command, reply),
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

    /// A manager signs a joining node's certificate when its token is one of the cluster's.
    fn sign(&self, token: &str, csr_der: &[u8]) -> Result<SignResponse, String> {
        // Core's wording, so a refusal reads the same at the certificate step and at the join.
        const REFUSED: &str =
            "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster";
        let Some(cluster) = self.node.manager().and_then(|m| m.store.cluster.as_ref()) else {
            return Err("rpc error: code = Unavailable desc = this node is not a swarm manager".into());
        };
        let Some(state) = self.transport.security.current() else { return Err(REFUSED.into()) };
        let Some(ca_key) = state.certs.ca_key_pkcs8.as_ref() else { return Err("this manager holds no CA key".into()) };
        let role = if tokens::tokens_equal(token, &cluster.manager_token) {
            NodeRole::Manager
        } else if tokens::tokens_equal(token, &cluster.worker_token) {
            NodeRole::Worker
        } else {
            warn!("refused a certificate request: invalid join token");
            return Err(REFUSED.into());
        };
        let cert_der = tls::sign_csr(&state.certs.ca_cert_der, ca_key, csr_der).map_err(|e| e.to_string())?;
        info!(role = role.as_str(), "signed a node certificate");
        Ok(SignResponse { cert_der, ca_key_pkcs8: (role == NodeRole::Manager).then(|| ca_key.clone()) })
    }

    fn carry_out(&mut self) {
        for output in self.node.drain_outputs() {
            match output {
                Output::Persist(write) => {
                    if let Err(e) = self.storage.persist(&write) {
                        // Nothing after this write may leave the process: stop here.
                        error!(%e, "cannot persist the Raft log");
                        std::process::exit(70);
                    }
                }
                Output::SaveIdentity(identity) => {
                    if let Err(e) = self.storage.save_identity(identity.as_ref()) {
                        error!(%e, "cannot persist the node's identity");
                        std::process::exit(70);
                    }
                    match &identity {
                        Some(id) => self.transport.set_local_addr(id.advertise_addr.clone()),
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
            }
        }
    }

    /// Opens a listener for every ingress-published port the node's directory lists, closes
    /// the others.
    fn reconcile_mesh(&mut self) {
        let mut wanted: Vec<u16> = Vec::new();
        if let Some(agent) = self.node.agent() {
            for s in agent.directory.services.values() {
                for p in &s.ports {
                    if p.mode == PublishMode::Ingress && p.published_port != 0 {
                        wanted.push(p.published_port);
                    }
                }
            }
        }
        self.mesh_listeners.retain(|port, h| {
            let keep = wanted.contains(port) && !h.is_finished();
            if !keep {
                h.abort();
            }
            keep
        });
        let ip = self.mesh_ip.or_else(|| {
            self.node.cluster_addr().and_then(|a| a.rsplit_once(':')).and_then(|(h, _)| h.parse::<IpAddr>().ok())
        });
        let Some(ip) = ip else { return };
        for port in wanted {
            if self.mesh_listeners.contains_key(&port) {
                continue;
            }
            let listen = Arc::clone(&self.listen);
            let tx = self.events_tx.clone();
            let runtime = Arc::clone(&self.runtime);
            let transport = Arc::clone(&self.transport);
            let own = self.node.cluster_addr().cloned().unwrap_or_default();
            let handle = tokio::spawn(async move {
                let mut listener = match listen(ip, port).await {
                    Ok(l) => l,
                    Err(e) => {
                        warn!(%ip, port, %e, "cannot listen on a published port");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        return;
                    }
                };
                info!(%ip, port, "routing mesh listening");
                while let Some(conn) = listener.0.recv().await {
                    let (tx, runtime, transport, own) =
                        (tx.clone(), Arc::clone(&runtime), Arc::clone(&transport), own.clone());
                    tokio::spawn(async move { mesh_forward(conn, port, tx, runtime, transport, own).await });
                }
            });
            self.mesh_listeners.insert(port, handle);
        }
    }

    /// Serves the VIPs of services on networks other than ingress (a userspace stand-in for
    /// IPVS): on the ports the service's published ports target and its local containers
    /// expose, since a listener cannot take every port as IPVS does. Core picks the task for
    /// each connection (`Node::route_vip`); the bytes go as the routing mesh's do.
    fn reconcile_vips(&mut self) {
        if !self.runtime.serves_vips() {
            return;
        }
        // Key → `None` for a VIP, the remote task's backend for a task address.
        let mut wanted: std::collections::BTreeMap<((std::net::Ipv4Addr, u8), u16), Option<swarm_core::net::Backend>> =
            Default::default();
        let own = self.node.cluster_addr().cloned().unwrap_or_default();
        if let Some(agent) = self.node.agent() {
            let ingress = agent.directory.ingress_network.as_ref();
            // Networks with a task here: only their bridges can carry a local task's traffic.
            let local_networks: std::collections::BTreeSet<&swarm_core::ids::NetworkId> = agent
                .directory
                .services
                .values()
                .flat_map(|s| s.backends.iter())
                .filter(|b| ip_of(&b.node_addr) == ip_of(&own))
                .flat_map(|b| b.addresses.iter().map(|(n, _)| n))
                .collect();
            for s in agent.directory.services.values() {
                let mut ports: std::collections::BTreeSet<u16> = s.ports.iter().map(|p| p.target_port).collect();
                let prefix = format!("{}.", s.name);
                for c in agent.containers.values().filter(|c| c.name.starts_with(&prefix)) {
                    ports.extend(c.exposed_ports.iter().filter_map(|p| p.strip_suffix("/tcp")?.parse::<u16>().ok()));
                }
                for (_, vip) in s.vips.iter().filter(|(n, _)| Some(n) != ingress) {
                    wanted.extend(ports.iter().map(|port| (((vip.ip, vip.prefix_len), *port), None)));
                }
                // Tasks on other nodes: their addresses are served here too, each connection
                // going to that very task through its node's cluster port (the node namespaces
                // of different nodes are not linked).
                for b in s.backends.iter().filter(|b| ip_of(&b.node_addr) != ip_of(&own)) {
                    for (_, a) in b.addresses.iter().filter(|(n, _)| Some(n) != ingress && local_networks.contains(n)) {
                        wanted.extend(ports.iter().map(|port| (((a.ip, a.prefix_len), *port), Some(b.clone()))));
                    }
                }
            }
        }
        let mut released: Vec<(std::net::Ipv4Addr, u8)> = Vec::new();
        self.vip_listeners.retain(|key, (h, stands_for)| {
            let same =
                wanted.get(key).map(|b| b.as_ref().map(|b| &b.container_name) == stands_for.as_ref()).unwrap_or(false);
            let keep = same && !h.is_finished();
            if !keep {
                h.abort();
                released.push(key.0);
            }
            keep
        });
        for vip in released {
            if !wanted.keys().any(|(v, _)| *v == vip) {
                self.runtime.release_vip(swarm_core::api::NetAddr { ip: vip.0, prefix_len: vip.1 });
            }
        }
        for (key, remote_task) in wanted {
            if self.vip_listeners.contains_key(&key) {
                continue;
            }
            let stands_for = remote_task.as_ref().map(|b| b.container_name.clone());
            let ((ip, prefix_len), port) = key;
            let (tx, runtime, transport) =
                (self.events_tx.clone(), Arc::clone(&self.runtime), Arc::clone(&self.transport));
            let own = self.node.cluster_addr().cloned().unwrap_or_default();
            let handle = tokio::spawn(async move {
                let mut listener = match runtime.listen_vip(swarm_core::api::NetAddr { ip, prefix_len }, port).await {
                    Ok(l) => l,
                    Err(e) => {
                        warn!(%ip, port, %e, "cannot serve a VIP");
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        return;
                    }
                };
                info!(%ip, port, "serving a VIP");
                while let Some(conn) = listener.0.recv().await {
                    let (tx, runtime, transport, own) =
                        (tx.clone(), Arc::clone(&runtime), Arc::clone(&transport), own.clone());
                    let remote_task = remote_task.clone();
                    tokio::spawn(async move {
                        if let Some(backend) = remote_task {
                            let route = Route { service: String::new(), vip: None, backend, target_port: port };
                            return forward(conn, route, runtime, transport, own).await;
                        }
                        let (rtx, rrx) = oneshot::channel();
                        if tx.send(Event::VipRoute { vip: ip, port, reply: rtx }).await.is_err() {
                            return;
                        }
                        match rrx.await {
                            Ok(Ok(route)) => forward(conn, route, runtime, transport, own).await,
                            Ok(Err(e)) => debug!(%ip, port, %e, "VIP: no backend"),
                            Err(_) => {}
                        }
                    });
                }
            });
            self.vip_listeners.insert(key, (handle, stands_for));
        }
    }

    pub fn metrics(&self) -> String {
        let mut out = String::new();
        if let Some(mgr) = self.node.manager() {
            let mut nodes: std::collections::BTreeMap<&str, u64> = Default::default();
            for n in mgr.store.nodes.values() {
                *nodes.entry(n.status.state.as_str()).or_default() += 1;
            }
            out.push_str(
                "# HELP swarmd_nodes Nodes in the swarm by status (this manager's store).\n# TYPE swarmd_nodes gauge\n",
            );
            for (s, n) in nodes {
                let _ = writeln!(out, "swarmd_nodes{{status=\"{}\"}} {n}", s.to_lowercase());
            }
            let mut tasks: std::collections::BTreeMap<TaskState, u64> = Default::default();
            for t in mgr.store.tasks.values() {
                *tasks.entry(t.status.state).or_default() += 1;
            }
            out.push_str("# HELP swarmd_tasks Tasks by observed state.\n# TYPE swarmd_tasks gauge\n");
            for (s, n) in tasks {
                let _ = writeln!(out, "swarmd_tasks{{state=\"{}\"}} {n}", s.as_str().to_lowercase());
            }
            out.push_str("# HELP swarmd_raft_term Current Raft term.\n# TYPE swarmd_raft_term gauge\n");
            let _ = writeln!(out, "swarmd_raft_term {}", mgr.raft.term());
            out.push_str("# HELP swarmd_raft_commit_index Raft commit index.\n# TYPE swarmd_raft_commit_index gauge\n");
            let _ = writeln!(out, "swarmd_raft_commit_index {}", mgr.raft.commit_index());
            out.push_str(
                "# HELP swarmd_raft_leader Whether this manager is the Raft leader.\n# TYPE swarmd_raft_leader gauge\n",
            );
            let _ = writeln!(out, "swarmd_raft_leader {}", mgr.is_leader() as u8);
        }
        let s = &self.transport.stats;
        out.push_str("# HELP swarmd_frames_dropped_total Frames dropped on the cluster port.\n# TYPE swarmd_frames_dropped_total counter\n");
        let _ = writeln!(
            out,
            "swarmd_frames_dropped_total{{reason=\"malformed\"}} {}",
            s.frames_malformed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "swarmd_frames_dropped_total{{reason=\"queue\"}} {}",
            s.frames_dropped.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "swarmd_frames_dropped_total{{reason=\"core\"}} {}", self.node.stats.messages_dropped);
        out.push_str("# TYPE swarmd_frames_sent_total counter\n");
        let _ = writeln!(out, "swarmd_frames_sent_total {}", s.frames_sent.load(Ordering::Relaxed));
        out.push_str("# TYPE swarmd_frames_received_total counter\n");
        let _ = writeln!(out, "swarmd_frames_received_total {}", s.frames_received.load(Ordering::Relaxed));
        out.push_str("# HELP swarmd_connections_refused_total Cluster-port connections refused (TLS, certificate, hello).\n# TYPE swarmd_connections_refused_total counter\n");
        let _ = writeln!(out, "swarmd_connections_refused_total {}", s.connections_refused.load(Ordering::Relaxed));
        out.push_str("# TYPE swarmd_containers gauge\n");
        let _ = writeln!(out, "swarmd_containers {}", self.node.agent().map(|a| a.containers.len()).unwrap_or(0));
        let _ = self.seed;
        out
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

/// One connection on a published port: core's routing mesh picks the backend (round-robin);
/// the bytes go to the task directly when it runs here, else through the owning node's cluster
/// port (mutual TLS, hello kind `T`).
async fn mesh_forward(
    conn: BoxIo,
    port: u16,
    tx: mpsc::Sender<Event>,
    runtime: Arc<dyn Runtime>,
    transport: Arc<Transport>,
    own: String,
) {
    let (rtx, rrx) = oneshot::channel();
    if tx.send(Event::Client { command: Request::RouteIngress { port }, reply: rtx }).await.is_err() {
        return;
    }
    let route = match rrx.await {
        Ok(Ok(Response::Route(r))) => r,
        Ok(other) => {
            debug!(?other, "routing mesh: no backend");
            return;
        }
        Err(_) => return,
    };
    forward(conn, route, runtime, transport, own).await
}

/// Moves the bytes of one connection to the task core chose: directly when it runs here, else
/// through the owning node's cluster port (mutual TLS, hello kind `T`).
async fn forward(mut conn: BoxIo, route: Route, runtime: Arc<dyn Runtime>, transport: Arc<Transport>, own: String) {
    let backend = if ip_of(&route.backend.node_addr) == ip_of(&own) {
        runtime.connect(&route.backend.container_name, route.target_port).await
    } else {
        let node =
            format!("{}:{}", ip_of(&route.backend.node_addr), own.rsplit_once(':').map(|(_, p)| p).unwrap_or("2377"));
        transport.tunnel(&node, &route.backend.container_name, route.target_port).await
    };
    match backend {
        Ok(mut b) => {
            let _ = tokio::io::copy_bidirectional(&mut conn, &mut b).await;
        }
        Err(e) => debug!(container = %route.backend.container_name, %e, "backend unreachable"),
    }
}

/// Core names a node by `IP` or `IP:2377`: the IP.
fn ip_of(addr: &str) -> &str {
    addr.rsplit_once(':').map(|(h, _)| h).unwrap_or(addr)
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
