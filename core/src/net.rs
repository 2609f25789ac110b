//! The overlay's service directory, as every node sees it: the routing mesh (ingress published
//! ports load-balanced over a service's running tasks) and the embedded DNS (`NAME` → the VIP on
//! a shared network, `tasks.NAME` → the task addresses).
//!
//! In swarm mode this information spreads by gossip (networkdb); here the leader's dispatcher
//! sends it to every node with its assignments. The decisions are made here, in core, so the
//! simulator and the real daemons route the same way.

use crate::api::{NetAddr, PortConfig, PublishMode};
use crate::ids::{NetworkId, ServiceId, TaskId};
use core::net::Ipv4Addr;
use std::collections::BTreeMap;

/// imbl's own `Deserialize` reserves as many entries as the input's length prefix claims, so a
/// 28-byte frame announcing 2^62 services aborted swarmd (found by `fuzz/`'s `wire_frame`).
/// These read through serde's std collections, which grow as entries actually arrive, then
/// convert: same values, no allocation the bytes do not pay for.
mod cautious {
    use serde::{Deserialize, Deserializer};
    use std::collections::BTreeMap;

    pub fn ord_map<'de, D, K, V>(d: D) -> Result<imbl::OrdMap<K, V>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Ord + Clone,
        V: Deserialize<'de> + Clone,
    {
        Ok(BTreeMap::<K, V>::deserialize(d)?.into_iter().collect())
    }

    pub fn vector<'de, D, T>(d: D) -> Result<imbl::Vector<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de> + Clone,
    {
        Ok(Vec::<T>::deserialize(d)?.into_iter().collect())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Directory {
    /// Persistent map: copies share structure (see `manager::directory`).
    #[serde(deserialize_with = "cautious::ord_map")]
    pub services: imbl::OrdMap<String, ServiceEntry>,
    /// The routing mesh's network, so a node can tell the ingress VIP from the others.
    pub ingress_network: Option<NetworkId>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceEntry {
    pub id: ServiceId,
    pub name: String,
    pub ports: Vec<PortConfig>,
    pub vips: Vec<(NetworkId, NetAddr)>,
    /// Running tasks only, ordered by container name (task name, then ID); a persistent
    /// vector, so an update is O(log n) and copies share structure.
    #[serde(deserialize_with = "cautious::vector")]
    pub backends: imbl::Vector<Backend>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Backend {
    pub task_id: TaskId,
    pub container_name: String,
    /// The node running it: its address as the node record holds it (`Node.status.addr`), a
    /// bare IP such as `192.168.0.109`, without the cluster port.
    pub node_addr: String,
    pub addresses: Vec<(NetworkId, NetAddr)>,
}

/// Where the routing mesh sent a request.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Route {
    pub service: String,
    pub vip: Option<NetAddr>,
    pub backend: Backend,
    pub target_port: u16,
}

impl Directory {
    /// The service publishing `port` in ingress mode, if any.
    pub fn ingress_service(&self, port: u16) -> Option<&ServiceEntry> {
        self.services
            .values()
            .find(|s| s.ports.iter().any(|p| p.mode == PublishMode::Ingress && p.published_port == port))
    }

    /// DNS inside a task attached to `networks`: `NAME` → its VIP on a shared network,
    /// `tasks.NAME` → the addresses of its running tasks there.
    pub fn resolve(&self, name: &str, networks: &[NetworkId]) -> Vec<Ipv4Addr> {
        let (service_name, want_tasks) = match name.strip_prefix("tasks.") {
            Some(rest) => (rest, true),
            None => (name, false),
        };
        let Some(entry) = self.services.get(service_name) else { return Vec::new() };
        // The ingress network carries the routing mesh only: its embedded DNS answers nothing.
        let shared: Vec<&NetworkId> = networks
            .iter()
            .filter(|n| Some(*n) != self.ingress_network.as_ref())
            .filter(|n| entry.vips.iter().any(|(vn, _)| vn == *n))
            .collect();
        let mut out = Vec::new();
        for net in shared {
            if want_tasks {
                for b in &entry.backends {
                    out.extend(b.addresses.iter().filter(|(n, _)| n == net).map(|(_, a)| a.ip));
                }
            } else {
                out.extend(entry.vips.iter().filter(|(n, _)| n == net).map(|(_, a)| a.ip));
            }
        }
        out
    }
}

/// Round-robin state of one node's routing mesh, one counter per published port (and one per
/// VIP, for drivers that serve VIPs).
#[derive(Clone, Debug, Default)]
pub struct RoutingMesh {
    next_backend: BTreeMap<u16, usize>,
    next_by_vip: BTreeMap<Ipv4Addr, usize>,
}

impl RoutingMesh {
    /// Picks the backend for a request arriving at this node's published `port`, round-robin
    /// over the service's running tasks (IPVS's default scheduler), or says why there is none.
    pub fn route(&mut self, directory: &Directory, port: u16, ingress: Option<&NetworkId>) -> Result<Route, String> {
        let Some(entry) = directory.ingress_service(port) else {
            return Err(format!("connection refused: nothing published on port {port}"));
        };
        if entry.backends.is_empty() {
            return Err(format!("connection refused: service {} has no running task", entry.name));
        }
        let counter = self.next_backend.entry(port).or_insert(0);
        let backend = entry.backends[*counter % entry.backends.len()].clone();
        *counter = counter.wrapping_add(1);
        let vip = ingress.and_then(|net| entry.vips.iter().find(|(n, _)| n == net).map(|(_, a)| *a));
        let target_port = entry
            .ports
            .iter()
            .find(|p| p.published_port == port)
            .map(|p| p.target_port)
            .expect("ingress_service matched this port");
        Ok(Route { service: entry.name.clone(), vip, backend, target_port })
    }

    /// Picks the backend for a connection a task opened to `vip:port`, a service's VIP on a
    /// network other than ingress: round-robin over the service's running tasks, as IPVS
    /// spreads a VIP's connections; the port is kept.
    pub fn route_vip(&mut self, directory: &Directory, vip: Ipv4Addr, port: u16) -> Result<Route, String> {
        let ingress = directory.ingress_network.as_ref();
        let found = directory
            .services
            .values()
            .find_map(|s| s.vips.iter().find(|(n, a)| a.ip == vip && Some(n) != ingress).map(|(_, a)| (s, *a)));
        let Some((entry, addr)) = found else {
            return Err(format!("connection refused: {vip} is no service's virtual IP"));
        };
        if entry.backends.is_empty() {
            return Err(format!("connection refused: service {} has no running task", entry.name));
        }
        let counter = self.next_by_vip.entry(vip).or_insert(0);
        let backend = entry.backends[*counter % entry.backends.len()].clone();
        *counter = counter.wrapping_add(1);
        Ok(Route { service: entry.name.clone(), vip: Some(addr), backend, target_port: port })
    }
}

#[cfg(test)]
#[path = "net_tests.rs"]
mod tests;
