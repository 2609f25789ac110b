//! What the node serves for the routing mesh: listeners on published ports, service VIPs and
//! remote tasks' addresses; the node picks the task, the daemon only moves the bytes.

use super::{Daemon, Event};
use crate::runtime::Runtime;
use crate::transport::{BoxIo, Transport};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::api::PublishMode;
use swarm_core::cli::Command;
use swarm_core::net::Route;
use swarm_core::node::Reply;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

impl Daemon {
    /// Opens a listener for every ingress-published port the node's directory lists, closes
    /// the others.
    pub(super) fn reconcile_mesh(&mut self) {
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
                    tokio::spawn(async move { mesh_forward(conn, ip, port, tx, runtime, transport, own).await });
                }
            });
            self.mesh_listeners.insert(port, handle);
        }
    }

    /// Serves the VIPs of services on networks other than ingress (a userspace stand-in for
    /// IPVS): on the ports the service's published ports target and its local containers
    /// expose, since a listener cannot take every port as IPVS does. Core picks the task for
    /// each connection (`Node::route_vip`); the bytes go as the routing mesh's do.
    pub(super) fn reconcile_vips(&mut self) {
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
}

/// One connection on a published port: core's routing mesh picks the backend (round-robin);
/// the bytes go to the task directly when it runs here, else through the owning node's cluster
/// port (mutual TLS, hello kind `T`).
async fn mesh_forward(
    conn: BoxIo,
    ip: IpAddr,
    port: u16,
    tx: mpsc::Sender<Event>,
    runtime: Arc<dyn Runtime>,
    transport: Arc<Transport>,
    own: String,
) {
    let (rtx, rrx) = oneshot::channel();
    let url = format!("http://{ip}:{port}/");
    if tx.send(Event::Client { command: Command::Curl { url }, reply: rtx }).await.is_err() {
        return;
    }
    let route = match rrx.await {
        Ok(Reply::Route(r)) => r,
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
