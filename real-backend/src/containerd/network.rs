//! Task networking beside containerd's client: each task's network namespace and its addresses
//! on the node namespace's bridges (`netns`), its DNS server at 127.0.0.11 (`dns`), the
//! addresses label a restarted daemon re-adopts them from, connections to a task, and the VIP
//! listeners in the node namespace. Containerd knows none of this: the OCI spec only names the
//! namespace and the `resolv.conf` kept here.

use crate::dns::{self, Resolve};
use crate::netns::{self, Attachment, NodeNet};
use crate::transport::{BoxFuture, BoxIo};
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarm_core::api::NetAddr;
use swarm_core::runtime::ContainerNetwork;
use tokio::sync::mpsc;
use tracing::warn;

/// How long a connection to a task may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

pub struct TaskNet {
    netns_dir: PathBuf,
    net: Arc<NodeNet>,
    /// Each container's network attachments, `(network ID, address)`, in `ethN` order.
    addresses: Mutex<HashMap<String, Vec<(String, Attachment)>>>,
    /// `DATA_ROOT/resolv.conf`, bind-mounted read-only at every task's `/etc/resolv.conf`.
    resolv_conf: PathBuf,
    resolver: Mutex<Option<Resolve>>,
    /// Each task's DNS server (a UDP socket at 127.0.0.11:53 in its namespace).
    dns_servers: Mutex<HashMap<String, tokio::task::JoinHandle<()>>>,
}

impl TaskNet {
    /// The node namespace pinned under `netns_dir` (made if missing) and the `resolv.conf` beside it.
    pub fn open(netns_dir: PathBuf) -> Result<TaskNet, String> {
        let net = Arc::new(
            NodeNet::open(&netns_dir)
                .map_err(|e| format!("node network namespace under {}: {e}", netns_dir.display()))?,
        );
        let resolv_conf = netns_dir.parent().unwrap_or(&netns_dir).join("resolv.conf");
        std::fs::write(&resolv_conf, dns::RESOLV_CONF).map_err(|e| format!("{}: {e}", resolv_conf.display()))?;
        Ok(TaskNet {
            netns_dir,
            net,
            addresses: Mutex::default(),
            resolv_conf,
            resolver: Mutex::default(),
            dns_servers: Mutex::default(),
        })
    }

    pub fn namespace_path(&self, name: &str) -> PathBuf {
        self.netns_dir.join(name)
    }

    pub fn resolv_conf(&self) -> &Path {
        &self.resolv_conf
    }

    pub fn set_resolver(&self, resolve: Resolve) {
        *self.resolver.lock().expect("lock") = Some(resolve);
    }

    /// A fresh namespace for the task with one `ethN` per network (the address core gave it),
    /// and its DNS server; returns the namespace and the addresses label. Nothing is left
    /// behind on failure.
    pub async fn wire(&self, name: &str, networks: &[ContainerNetwork]) -> Result<(PathBuf, String), String> {
        let ns_path = self.namespace_path(name);
        let _ = netns::remove(&ns_path);
        netns::create(&ns_path).map_err(|e| format!("network namespace: {e}"))?;
        let attachments: Vec<(String, Attachment)> = networks
            .iter()
            .map(|n| (n.network_name.clone(), Attachment { ip: n.addr.ip, prefix_len: n.addr.prefix_len }))
            .collect();
        let wired = {
            let (name, ns, list) =
                (name.to_string(), ns_path.clone(), attachments.iter().map(|(_, a)| *a).collect::<Vec<_>>());
            let net = Arc::clone(&self.net);
            tokio::task::spawn_blocking(move || net.attach(&name, &ns, &list)).await.map_err(|e| e.to_string())?
        };
        if let Err(e) = wired {
            let (net, name, count) = (Arc::clone(&self.net), name.to_string(), attachments.len());
            let _ = tokio::task::spawn_blocking(move || net.detach(&name, count)).await;
            let _ = netns::remove(&ns_path);
            return Err(format!("network attachment: {e}"));
        }
        let label = format_addresses(&attachments);
        self.addresses.lock().expect("lock").insert(name.to_string(), attachments);
        self.start_dns(name);
        Ok((ns_path, label))
    }

    /// Takes the task's interfaces off the bridges and stops its DNS server.
    pub async fn unwire(&self, name: &str) {
        if let Some(server) = self.dns_servers.lock().expect("lock").remove(name) {
            server.abort();
        }
        let count = self.addresses.lock().expect("lock").remove(name).map(|a| a.len()).unwrap_or(0);
        let (net, name) = (Arc::clone(&self.net), name.to_string());
        let _ = tokio::task::spawn_blocking(move || net.detach(&name, count)).await;
    }

    pub fn remove_namespace(&self, name: &str) {
        let _ = netns::remove(&self.namespace_path(name));
    }

    /// A container found after a restart: its addresses from its label, its DNS server again
    /// if its namespace is still there.
    pub fn readopt(&self, name: &str, addresses_label: &str) {
        self.addresses.lock().expect("lock").insert(name.to_string(), parse_addresses(addresses_label));
        if netns::is_namespace(&self.namespace_path(name)) {
            self.start_dns(name);
        }
    }

    /// Opens the task's DNS socket inside its namespace and serves it; without a resolver (the
    /// daemon did not set one) the task has no DNS server.
    fn start_dns(&self, name: &str) {
        let Some(resolve) = self.resolver.lock().expect("lock").clone() else { return };
        let bound = netns::in_namespace(self.namespace_path(name), || {
            let s = std::net::UdpSocket::bind((dns::SERVER, 53))?;
            s.set_nonblocking(true)?;
            Ok(s)
        })
        .and_then(tokio::net::UdpSocket::from_std);
        match bound {
            Ok(socket) => {
                let server = tokio::spawn(dns::serve(socket, name.to_string(), resolve));
                if let Some(old) = self.dns_servers.lock().expect("lock").insert(name.to_string(), server) {
                    old.abort();
                }
            }
            Err(e) => warn!(container = %name, %e, "no DNS server for the task"),
        }
    }

    /// Where the routing mesh reaches a task, from the node namespace: its first address, which
    /// is on the ingress network for a service that publishes ports (core attaches ingress first).
    fn mesh_address(&self, name: &str) -> Option<std::net::Ipv4Addr> {
        self.addresses.lock().expect("lock").get(name)?.first().map(|(_, a)| a.ip)
    }

    /// To the task's address through the node namespace's bridge; a task without an address
    /// (no network) is reached on its own loopback.
    pub fn connect(&self, name: &str, port: u16) -> BoxFuture<io::Result<BoxIo>> {
        let path = self.namespace_path(name);
        let via_bridge = self.mesh_address(name).map(|ip| (self.net.node_namespace().to_path_buf(), ip));
        Box::pin(async move {
            let std_stream = tokio::task::spawn_blocking(move || match via_bridge {
                Some((node_ns, ip)) => netns::connect_to_in(node_ns, (ip, port).into(), CONNECT_TIMEOUT),
                None => netns::connect_in(path, port, CONNECT_TIMEOUT),
            })
            .await
            .map_err(io::Error::other)??;
            std_stream.set_nonblocking(true)?;
            Ok(Box::new(tokio::net::TcpStream::from_std(std_stream)?) as BoxIo)
        })
    }

    /// A listener on `vip:port` in the node namespace, the VIP on its network's bridge.
    pub fn listen_vip(&self, vip: NetAddr, port: u16) -> BoxFuture<io::Result<crate::daemon::MeshListener>> {
        let net = Arc::clone(&self.net);
        Box::pin(async move {
            let at = Attachment { ip: vip.ip, prefix_len: vip.prefix_len };
            let std_listener =
                tokio::task::spawn_blocking(move || net.listen_vip(at, port)).await.map_err(io::Error::other)??;
            let listener = tokio::net::TcpListener::from_std(std_listener)?;
            let (tx, rx) = mpsc::channel::<BoxIo>(64);
            tokio::spawn(async move {
                while let Ok((s, _)) = listener.accept().await {
                    if tx.send(Box::new(s)).await.is_err() {
                        return;
                    }
                }
            });
            Ok(crate::daemon::MeshListener(rx))
        })
    }

    pub fn release_vip(&self, vip: NetAddr) {
        let net = Arc::clone(&self.net);
        tokio::task::spawn_blocking(move || net.release_vip(Attachment { ip: vip.ip, prefix_len: vip.prefix_len }));
    }
}

/// `<network ID>=198.18.0.3/24,<network ID>=198.18.1.3/24`: a container's attachments in a label.
fn format_addresses(list: &[(String, Attachment)]) -> String {
    list.iter().map(|(n, a)| format!("{n}={}/{}", a.ip, a.prefix_len)).collect::<Vec<_>>().join(",")
}

fn parse_addresses(label: &str) -> Vec<(String, Attachment)> {
    label
        .split(',')
        .filter_map(|item| {
            let (name, cidr) = item.split_once('=')?;
            let (ip, len) = cidr.split_once('/')?;
            Some((name.to_string(), Attachment { ip: ip.parse().ok()?, prefix_len: len.parse().ok()? }))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_their_label() {
        let list = vec![
            ("ingress".to_string(), Attachment { ip: "198.18.0.3".parse().unwrap(), prefix_len: 24 }),
            ("web".to_string(), Attachment { ip: "198.18.1.9".parse().unwrap(), prefix_len: 26 }),
        ];
        assert_eq!(format_addresses(&list), "ingress=198.18.0.3/24,web=198.18.1.9/26");
        assert_eq!(parse_addresses(&format_addresses(&list)), list);
        assert!(parse_addresses("").is_empty());
    }
}
