//! What the node serves, carried out: listeners on published ports (the routing mesh), on
//! service VIPs and on remote tasks' addresses. Core says what to serve, as changes
//! (`Output::Serve`), and picks the task for each connection (`Node::route_ingress`,
//! `Node::route_vip`); the daemon keeps the listeners and moves the bytes.

use super::{Daemon, Event};
use crate::runtime::Runtime;
use crate::transport::{BoxIo, Transport};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::addr::Addr;
use swarm_core::api::NetAddr;
use swarm_core::message::CLUSTER_PORT;
use swarm_core::net::{Backend, Route};
use swarm_core::serve::ServeChange;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

/// How long a listener that could not bind waits before it tries again.
const LISTEN_RETRY: Duration = Duration::from_secs(5);

impl Daemon {
    pub(super) fn serve(&mut self, change: ServeChange) {
        debug!(?change, "serve");
        match change {
            ServeChange::PublishPort { port } => self.publish(port),
            ServeChange::UnpublishPort { port } => {
                if let Some(h) = self.mesh_listeners.remove(&port) {
                    h.abort();
                }
            }
            // A runtime that cannot put an address in the tasks' networks serves none.
            ServeChange::AddVip { vip, port } if self.runtime.serves_vips() => self.serve_addr(vip, port, None),
            ServeChange::AddRemoteAddr { addr, port, backend } if self.runtime.serves_vips() => {
                self.serve_addr(addr, port, Some(backend))
            }
            ServeChange::AddVip { .. } | ServeChange::AddRemoteAddr { .. } => {}
            ServeChange::RemoveVip { vip: addr, port } | ServeChange::RemoveRemoteAddr { addr, port } => {
                let Some(h) = self.addr_listeners.remove(&(addr, port)) else { return };
                h.abort();
                if !self.addr_listeners.keys().any(|(a, _)| *a == addr) {
                    self.runtime.release_vip(addr);
                }
            }
        }
    }

    /// The routing mesh's listener on a published port, on the node's address.
    fn publish(&mut self, port: u16) {
        let ip = self.mesh_ip.or_else(|| self.node.cluster_addr().map(|a| IpAddr::V4(a.ip)));
        let Some(ip) = ip else {
            warn!(port, "no address to publish a port on");
            return;
        };
        let (listen, tx) = (Arc::clone(&self.listen), self.events_tx.clone());
        let (runtime, transport) = (Arc::clone(&self.runtime), Arc::clone(&self.transport));
        let own = self.node.cluster_addr().copied();
        let handle = tokio::spawn(async move {
            let mut listener = loop {
                match listen(ip, port).await {
                    Ok(l) => break l,
                    Err(e) => warn!(%ip, port, %e, "cannot listen on a published port; trying again"),
                }
                tokio::time::sleep(LISTEN_RETRY).await;
            };
            info!(%ip, port, "routing mesh listening");
            while let Some(conn) = listener.0.recv().await {
                let (tx, runtime, transport) = (tx.clone(), Arc::clone(&runtime), Arc::clone(&transport));
                tokio::spawn(async move { mesh_forward(conn, port, tx, runtime, transport, own).await });
            }
        });
        if let Some(old) = self.mesh_listeners.insert(port, handle) {
            old.abort();
        }
    }

    /// A listener on a service VIP (`remote_task` `None`: core picks the task per connection)
    /// or on the address of a task on another node (every connection goes to that task).
    fn serve_addr(&mut self, addr: NetAddr, port: u16, remote_task: Option<Backend>) {
        let (tx, runtime, transport) = (self.events_tx.clone(), Arc::clone(&self.runtime), Arc::clone(&self.transport));
        let own = self.node.cluster_addr().copied();
        let ip = addr.ip;
        let handle = tokio::spawn(async move {
            let mut listener = loop {
                match runtime.listen_vip(addr, port).await {
                    Ok(l) => break l,
                    Err(e) => warn!(%ip, port, %e, "cannot serve an address; trying again"),
                }
                tokio::time::sleep(LISTEN_RETRY).await;
            };
            info!(%ip, port, remote_task = remote_task.is_some(), "serving an address");
            while let Some(conn) = listener.0.recv().await {
                let (tx, runtime, transport) = (tx.clone(), Arc::clone(&runtime), Arc::clone(&transport));
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
        if let Some(old) = self.addr_listeners.insert((addr, port), handle) {
            old.abort();
        }
    }

    /// Stops every listener (the daemon stops; its containers keep running).
    pub(super) fn stop_serving(&mut self) {
        for (_, h) in std::mem::take(&mut self.addr_listeners) {
            h.abort();
        }
        for (_, h) in self.mesh_listeners.drain() {
            h.abort();
        }
    }
}

/// One connection on a published port: core's routing mesh picks the backend (round-robin).
async fn mesh_forward(
    conn: BoxIo,
    port: u16,
    tx: mpsc::Sender<Event>,
    runtime: Arc<dyn Runtime>,
    transport: Arc<Transport>,
    own: Option<Addr>,
) {
    let (rtx, rrx) = oneshot::channel();
    if tx.send(Event::IngressRoute { port, reply: rtx }).await.is_err() {
        return;
    }
    match rrx.await {
        Ok(Ok(route)) => forward(conn, route, runtime, transport, own).await,
        Ok(Err(e)) => debug!(port, %e, "routing mesh: no backend"),
        Err(_) => {}
    }
}

/// Moves the bytes of one connection to the task core chose: directly when it runs here (`own`
/// is this node's cluster address), else through the owning node's cluster port (mutual TLS,
/// hello kind `T`).
async fn forward(
    mut conn: BoxIo,
    route: Route,
    runtime: Arc<dyn Runtime>,
    transport: Arc<Transport>,
    own: Option<Addr>,
) {
    let name = &route.backend.container_name;
    let backend = match swarm_core::addr::ip(&route.backend.node_addr) {
        Some(ip) if own.is_some_and(|own| own.ip == ip) => runtime.connect(name, route.target_port).await,
        Some(ip) => {
            let node = Addr::new(ip, own.map_or(CLUSTER_PORT, |own| own.port));
            transport.tunnel(&node.to_string(), name, route.target_port).await
        }
        None => Err(std::io::Error::other(format!("no IP in the task's node address {:?}", route.backend.node_addr))),
    };
    match backend {
        Ok(mut b) => {
            let _ = tokio::io::copy_bidirectional(&mut conn, &mut b).await;
        }
        Err(e) => debug!(container = %route.backend.container_name, %e, "backend unreachable"),
    }
}
