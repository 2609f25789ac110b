//! The leader's copy of the routing-mesh directory (see `net`), kept current from what each
//! applied batch touched instead of rebuilt from every task in the store.
//!
//! Rebuilding cost O(tasks) per applied batch and every node received its own copy: at 1,000
//! nodes and 30,000 tasks that is most of the simulator's time and memory. The directory is now
//! made of persistent maps and vectors (`imbl`): an update costs O(log n), a copy sent to a node
//! costs O(1) and shares everything unchanged. `build` is the reference: in debug builds every
//! incremental update is checked against it.

use crate::api::{Task, TaskState};
use crate::ids::{ServiceId, TaskId};
use crate::net::{Backend, Directory, ServiceEntry};
use crate::store::{Store, Touched};
use std::collections::{BTreeMap, BTreeSet};

/// The routing-mesh and DNS view: services with their VIPs and running tasks, from scratch.
pub fn build(store: &Store) -> Directory {
    let mut dir = Directory { ingress_network: store.ingress_network().map(|n| n.id.clone()), ..Default::default() };
    for svc in store.services.values() {
        if let Some(entry) = service_entry(store, &svc.id) {
            dir.services.insert(svc.spec.name.clone(), entry);
        }
    }
    dir
}

/// A service's entry with every backend it has now, or `None` for a service without endpoint.
fn service_entry(store: &Store, id: &ServiceId) -> Option<ServiceEntry> {
    let svc = store.services.get(id)?;
    let endpoint = svc.endpoint.as_ref()?;
    let mut backends: Vec<Backend> = store.tasks_of_service(id).filter_map(|t| backend(store, t)).collect();
    backends.sort_by(|a, b| a.container_name.cmp(&b.container_name));
    Some(ServiceEntry {
        id: svc.id.clone(),
        name: svc.spec.name.clone(),
        ports: endpoint.ports.clone(),
        vips: endpoint.virtual_ips.iter().map(|v| (v.network_id.clone(), v.addr)).collect(),
        backends: backends.into_iter().collect(),
    })
}

/// The task as a backend of its service, if it runs, is meant to, and its node is known.
fn backend(store: &Store, t: &Task) -> Option<Backend> {
    if t.status.state != TaskState::Running || t.desired_state != TaskState::Running {
        return None;
    }
    let node = store.nodes.get(t.node_id.as_ref()?)?;
    Some(Backend {
        task_id: t.id.clone(),
        container_name: t.container_name(),
        node_addr: node.status.addr.clone(),
        addresses: t.networks.iter().flat_map(|n| n.addresses.iter().map(|a| (n.network_id.clone(), *a))).collect(),
    })
}

#[derive(Clone, Debug, Default)]
pub struct DirectoryKeeper {
    directory: Directory,
    /// Service ID → the name its entry is filed under.
    entry_names: BTreeMap<ServiceId, String>,
    /// Task → the name of the service entry holding it as a backend.
    backend_entries: BTreeMap<TaskId, String>,
}

impl DirectoryKeeper {
    pub fn rebuild(store: &Store) -> DirectoryKeeper {
        let directory = build(store);
        let mut keeper = DirectoryKeeper { directory, ..Default::default() };
        for (name, entry) in keeper.directory.services.iter() {
            keeper.entry_names.insert(entry.id.clone(), name.clone());
            for b in entry.backends.iter() {
                keeper.backend_entries.insert(b.task_id.clone(), name.clone());
            }
        }
        keeper
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// Brings the directory up to date with a batch that touched `touched`; true if it changed.
    pub fn apply(&mut self, store: &Store, touched: &Touched) -> bool {
        if touched.networks {
            // The ingress network changed (rare): start again.
            let before = std::mem::take(&mut self.directory);
            *self = DirectoryKeeper::rebuild(store);
            return before != self.directory;
        }
        let mut changed = false;
        for id in &touched.services {
            changed |= self.refresh_service(store, id);
        }
        // A task's backend depends on the task and on its node's address.
        let mut tasks: BTreeSet<&TaskId> = touched.tasks.iter().collect();
        for node in &touched.nodes {
            tasks.extend(store.tasks_on_node(node).map(|t| &t.id));
        }
        for id in tasks {
            changed |= self.refresh_task(store, id);
        }
        debug_assert_eq!(self.directory, build(store), "the incremental directory matches a rebuild");
        changed
    }

    /// A service's entry header (name, ports, VIPs), its creation or its removal.
    fn refresh_service(&mut self, store: &Store, id: &ServiceId) -> bool {
        let filed_as = self.entry_names.get(id).cloned();
        let wanted = store.services.get(id).filter(|s| s.endpoint.is_some());
        match (filed_as, wanted) {
            (None, None) => false,
            (Some(name), None) => {
                self.remove_entry(&name);
                self.entry_names.remove(id);
                true
            }
            (Some(name), Some(svc)) if name == svc.spec.name => {
                let endpoint = svc.endpoint.as_ref().expect("filtered above");
                let vips: Vec<_> = endpoint.virtual_ips.iter().map(|v| (v.network_id.clone(), v.addr)).collect();
                let entry = self.directory.services.get_mut(&name).expect("filed entries exist");
                if entry.ports == endpoint.ports && entry.vips == vips {
                    return false;
                }
                entry.ports = endpoint.ports.clone();
                entry.vips = vips;
                true
            }
            (filed_as, Some(svc)) => {
                // New, or renamed: file the whole entry (with its backends) under its name.
                if let Some(old) = filed_as {
                    self.remove_entry(&old);
                }
                let entry = service_entry(store, id).expect("a service with an endpoint has an entry");
                for b in entry.backends.iter() {
                    self.backend_entries.insert(b.task_id.clone(), svc.spec.name.clone());
                }
                self.entry_names.insert(id.clone(), svc.spec.name.clone());
                self.directory.services.insert(svc.spec.name.clone(), entry);
                true
            }
        }
    }

    fn remove_entry(&mut self, name: &str) {
        if let Some(entry) = self.directory.services.remove(name) {
            for b in entry.backends.iter() {
                self.backend_entries.remove(&b.task_id);
            }
        }
    }

    /// Adds, updates or removes the task's backend.
    fn refresh_task(&mut self, store: &Store, id: &TaskId) -> bool {
        let task = store.tasks.get(id);
        let wanted = task.and_then(|t| {
            let name = self.entry_names.get(&t.service_id)?;
            Some((name.clone(), backend(store, t)?))
        });
        let filed_in = self.backend_entries.get(id).cloned();
        match (filed_in, wanted) {
            (None, None) => false,
            (Some(entry_name), None) => {
                self.backend_entries.remove(id);
                let entry = self.directory.services.get_mut(&entry_name).expect("filed entries exist");
                let key = task.map(|t| t.container_name());
                let at = match key {
                    Some(name) => entry.backends.binary_search_by(|b| b.container_name.cmp(&name)).ok(),
                    None => entry.backends.iter().position(|b| &b.task_id == id),
                }
                .expect("a filed backend is in its entry");
                entry.backends.remove(at);
                true
            }
            (filed_in, Some((entry_name, backend))) => {
                if let Some(old) = filed_in.filter(|old| *old != entry_name) {
                    // Its service was renamed meanwhile: refresh_service moved the entry already.
                    debug_assert!(!self.directory.services.contains_key(&old));
                }
                self.backend_entries.insert(id.clone(), entry_name.clone());
                let entry = self.directory.services.get_mut(&entry_name).expect("filed entries exist");
                match entry.backends.binary_search_by(|b| b.container_name.cmp(&backend.container_name)) {
                    Ok(at) if entry.backends[at] == backend => false,
                    Ok(at) => {
                        entry.backends.set(at, backend);
                        true
                    }
                    Err(at) => {
                        entry.backends.insert(at, backend);
                        true
                    }
                }
            }
        }
    }
}
