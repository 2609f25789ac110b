//! What a node serves for the routing mesh and the overlay networks, told to the driver as
//! changes (`Output::Serve`), so a driver with real sockets opens and closes listeners without
//! knowing why.
//!
//! Swarm's rule, as docker's IPVS and the ingress sandbox apply it:
//! - every node listens on every ingress-published port (the routing mesh);
//! - a service's VIP on a network other than ingress is served on every node;
//! - a task on another node is served at its address on the networks that have a task here
//!   (only their bridges can carry a local task's traffic), each connection going to that task.
//!
//! A listener cannot take every port as IPVS does, so VIPs and task addresses are served on the
//! ports the service's published ports target and its local containers expose.
//!
//! Kept incrementally: a directory update is diffed against the one looked at before (imbl's
//! `diff` skips the structure both share), only the services that changed are looked at again,
//! and only the served keys whose meaning changed are reported. The whole directory is looked
//! at again only when the node's address, the ingress network or the set of networks with a
//! task here changes.

use crate::api::{NetAddr, PublishMode};
use crate::ids::NetworkId;
use crate::net::{Backend, Directory, ServiceEntry};
use crate::runtime::ContainerInfo;
use std::collections::{BTreeMap, BTreeSet};

/// One change in what the node serves. Removals come before additions in one batch, so a
/// driver frees a port or an address before it is taken again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServeChange {
    /// Listen on this ingress-published port on the node's address (the routing mesh:
    /// `Node::route_ingress` picks the task per connection).
    PublishPort {
        port: u16,
    },
    UnpublishPort {
        port: u16,
    },
    /// Serve a service's VIP on `port` (`Node::route_vip` picks the task per connection).
    AddVip {
        vip: NetAddr,
        port: u16,
    },
    RemoveVip {
        vip: NetAddr,
        port: u16,
    },
    /// Serve the address of `backend`, a task on another node, on `port`: every connection
    /// goes to that very task.
    AddRemoteAddr {
        addr: NetAddr,
        port: u16,
        backend: Backend,
    },
    RemoveRemoteAddr {
        addr: NetAddr,
        port: u16,
    },
}

/// What the rule reads from a member node.
pub struct ServeView<'a> {
    pub directory: &'a Directory,
    /// The node's own address as backends name it (`Backend::node_addr`): a bare IP.
    pub own_ip: &'a str,
    pub containers: &'a BTreeMap<String, ContainerInfo>,
}

/// One served key; a remote address carries the task it stands for as its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Served {
    Port(u16),
    Vip(NetAddr, u16),
    RemoteAddr(NetAddr, u16),
}

#[derive(Clone, Debug, Default)]
struct Contribution {
    served: BTreeMap<Served, Option<Backend>>,
    /// Networks this service has a task on here.
    local_networks: BTreeSet<NetworkId>,
}

/// The node's serving state: what it last looked at, and what it serves.
#[derive(Clone, Debug, Default)]
pub struct Serving {
    /// Off until a driver with listeners asks (`Node::report_serving`): a directory update
    /// costs a comparison of the services that changed, which a simulated cluster of
    /// thousands of nodes, with no listener to open, need not pay on every push.
    enabled: bool,
    directory: Directory,
    own_ip: Option<String>,
    /// Container name → TCP ports its image exposes.
    exposed: BTreeMap<String, Vec<u16>>,
    by_service: BTreeMap<String, Contribution>,
    /// Network other than ingress → how many services have a task on it here.
    local_networks: BTreeMap<NetworkId, usize>,
    /// Served key → the services asking for it, with the value each gives; the first one is
    /// what is served (two services asking for one key is a transient of reallocation).
    served: BTreeMap<Served, BTreeMap<String, Option<Backend>>>,
}

impl Serving {
    pub fn enable(&mut self) {
        self.enabled = true;
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Brings the serving state up to `view` (`None`: the node is in no swarm, so it serves
    /// nothing) and appends what changed to `out`.
    pub fn update(&mut self, view: Option<ServeView<'_>>, out: &mut Vec<ServeChange>) {
        let empty_directory = Directory::default();
        let empty_containers = BTreeMap::new();
        let (directory, own_ip, containers) = match &view {
            Some(v) => (v.directory, Some(v.own_ip), v.containers),
            None => (&empty_directory, None, &empty_containers),
        };
        let mut affected: BTreeSet<String> = BTreeSet::new();
        let full = own_ip != self.own_ip.as_deref() || directory.ingress_network != self.directory.ingress_network;
        if !full {
            for item in self.directory.services.diff(&directory.services) {
                let name = match item {
                    imbl::ordmap::DiffItem::Add(k, _) | imbl::ordmap::DiffItem::Remove(k, _) => k,
                    imbl::ordmap::DiffItem::Update { new: (k, _), .. } => k,
                };
                affected.insert(name.clone());
            }
        }
        if !exposed_ports_equal(&self.exposed, containers) {
            let exposed: BTreeMap<String, Vec<u16>> =
                containers.values().map(|c| (c.name.clone(), tcp_ports(&c.exposed_ports).collect())).collect();
            let changed: Vec<&String> = self
                .exposed
                .keys()
                .filter(|name| exposed.get(*name) != self.exposed.get(*name))
                .chain(exposed.keys().filter(|name| !self.exposed.contains_key(*name)))
                .collect();
            for name in changed {
                affected.extend(services_of_container(directory, name));
                affected.extend(services_of_container(&self.directory, name));
            }
            self.exposed = exposed;
        }
        if !full && affected.is_empty() {
            self.directory = directory.clone();
            return;
        }
        self.own_ip = own_ip.map(str::to_string);
        self.directory = directory.clone();
        if full {
            affected = self.all_service_names();
        }
        // Networks with a task here depend on this service's own backends only; when that set
        // changes, every service's remote addresses may.
        let before: BTreeSet<NetworkId> = self.local_networks.keys().cloned().collect();
        let mut local_by_service: BTreeMap<String, BTreeSet<NetworkId>> = BTreeMap::new();
        for name in &affected {
            let old = self.by_service.get(name).map(|c| c.local_networks.clone()).unwrap_or_default();
            let ingress = self.directory.ingress_network.as_ref();
            let new = self.directory.services.get(name).map(|s| networks_here(s, own_ip, ingress)).unwrap_or_default();
            for n in old.difference(&new) {
                let count = self.local_networks.get_mut(n).expect("counted when added");
                *count -= 1;
                if *count == 0 {
                    self.local_networks.remove(n);
                }
            }
            for n in new.difference(&old) {
                *self.local_networks.entry(n.clone()).or_default() += 1;
            }
            local_by_service.insert(name.clone(), new);
        }
        if self.local_networks.keys().ne(before.iter()) {
            affected = self.all_service_names();
        }
        // What each affected key served before the update, taken at its first touch.
        let mut before_served: BTreeMap<Served, Option<Option<Backend>>> = BTreeMap::new();
        for name in &affected {
            let new = match self.directory.services.get(name) {
                Some(entry) => {
                    let local = local_by_service
                        .remove(name)
                        .or_else(|| self.by_service.get(name).map(|c| c.local_networks.clone()))
                        .unwrap_or_default();
                    Some(self.contribution(entry, own_ip.unwrap_or_default(), local))
                }
                None => None,
            };
            let old = self.by_service.remove(name).unwrap_or_default();
            let new_served = new.as_ref().map(|c| &c.served);
            for (key, value) in &old.served {
                if new_served.and_then(|s| s.get(key)) == Some(value) {
                    continue;
                }
                before_served.entry(*key).or_insert_with(|| effective(&self.served, key));
                let askers = self.served.get_mut(key).expect("asked for");
                askers.remove(name);
                if askers.is_empty() {
                    self.served.remove(key);
                }
            }
            if let Some(new) = new {
                for (key, value) in &new.served {
                    if old.served.get(key) == Some(value) {
                        continue;
                    }
                    before_served.entry(*key).or_insert_with(|| effective(&self.served, key));
                    self.served.entry(*key).or_default().insert(name.clone(), value.clone());
                }
                self.by_service.insert(name.clone(), new);
            }
        }
        let mut added = Vec::new();
        for (key, was) in before_served {
            let now = effective(&self.served, &key);
            if was == now {
                continue;
            }
            if was.is_some() {
                out.push(removal(key));
            }
            if let Some(backend) = now {
                added.push(addition(key, backend));
            }
        }
        out.extend(added);
    }

    fn all_service_names(&self) -> BTreeSet<String> {
        self.by_service.keys().chain(self.directory.services.keys()).cloned().collect()
    }

    /// What one service asks this node to serve.
    fn contribution(&self, entry: &ServiceEntry, own_ip: &str, local_networks: BTreeSet<NetworkId>) -> Contribution {
        let ingress = self.directory.ingress_network.as_ref();
        let mut served = BTreeMap::new();
        for p in &entry.ports {
            if p.mode == PublishMode::Ingress && p.published_port != 0 {
                served.insert(Served::Port(p.published_port), None);
            }
        }
        let mut ports: BTreeSet<u16> = entry.ports.iter().map(|p| p.target_port).collect();
        let prefix = format!("{}.", entry.name);
        for (_, exposed) in self.exposed.range(prefix.clone()..).take_while(|(name, _)| name.starts_with(&prefix)) {
            ports.extend(exposed.iter().copied());
        }
        for (_, vip) in entry.vips.iter().filter(|(n, _)| Some(n) != ingress) {
            served.extend(ports.iter().map(|port| (Served::Vip(*vip, *port), None)));
        }
        for b in entry.backends.iter().filter(|b| b.node_addr != own_ip) {
            let here = |n: &NetworkId| Some(n) != ingress && self.local_networks.contains_key(n);
            for (_, addr) in b.addresses.iter().filter(|(n, _)| here(n)) {
                served.extend(ports.iter().map(|port| (Served::RemoteAddr(*addr, *port), Some(b.clone()))));
            }
        }
        Contribution { served, local_networks }
    }
}

/// What a key serves now: absent, or present with its backend (for a remote address).
fn effective(served: &BTreeMap<Served, BTreeMap<String, Option<Backend>>>, key: &Served) -> Option<Option<Backend>> {
    served.get(key).and_then(|askers| askers.values().next().cloned())
}

fn removal(key: Served) -> ServeChange {
    match key {
        Served::Port(port) => ServeChange::UnpublishPort { port },
        Served::Vip(vip, port) => ServeChange::RemoveVip { vip, port },
        Served::RemoteAddr(addr, port) => ServeChange::RemoveRemoteAddr { addr, port },
    }
}

fn addition(key: Served, backend: Option<Backend>) -> ServeChange {
    match (key, backend) {
        (Served::Port(port), _) => ServeChange::PublishPort { port },
        (Served::Vip(vip, port), _) => ServeChange::AddVip { vip, port },
        (Served::RemoteAddr(addr, port), Some(backend)) => ServeChange::AddRemoteAddr { addr, port, backend },
        (Served::RemoteAddr(..), None) => unreachable!("a remote address is served for a task"),
    }
}

/// The networks other than ingress that `entry` has a running task on at this node.
fn networks_here(entry: &ServiceEntry, own_ip: Option<&str>, ingress: Option<&NetworkId>) -> BTreeSet<NetworkId> {
    entry
        .backends
        .iter()
        .filter(|b| Some(b.node_addr.as_str()) == own_ip)
        .flat_map(|b| b.addresses.iter().map(|(n, _)| n).filter(|n| Some(*n) != ingress).cloned())
        .collect()
}

/// `["80/tcp", "53/udp"]` → `[80]`: a listener proxies TCP only.
fn tcp_ports(exposed: &[String]) -> impl Iterator<Item = u16> + '_ {
    exposed.iter().filter_map(|p| p.strip_suffix("/tcp")?.parse::<u16>().ok())
}

/// Whether `containers` expose what `exposed` says, without building a map (this runs after
/// every input).
fn exposed_ports_equal(exposed: &BTreeMap<String, Vec<u16>>, containers: &BTreeMap<String, ContainerInfo>) -> bool {
    exposed.len() == containers.len()
        && exposed
            .iter()
            .zip(containers.values())
            .all(|((name, ports), c)| *name == c.name && ports.iter().copied().eq(tcp_ports(&c.exposed_ports)))
}

/// The services a container named `svc.slot.id` may belong to: every dotted prefix that names a
/// service (a service name may hold dots).
fn services_of_container<'a>(directory: &'a Directory, container: &'a str) -> impl Iterator<Item = String> + 'a {
    container
        .match_indices('.')
        .map(move |(i, _)| &container[..i])
        .filter(|name| directory.services.contains_key(*name))
        .map(str::to_string)
}

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;
