//! The managers' replicated store: every manager applies the same committed actions in the same
//! order and so holds the same objects (an invariant the simulator checks by hashing stores).
//!
//! Writes are fine-grained actions rather than whole-object replacements, so two controllers
//! touching different fields of one task (the orchestrator its desired state, the dispatcher
//! its observed status) never lose each other's write. `apply` validates each action against the
//! state it meets: an action that no longer fits (a task already deleted, a state that would move
//! backwards) is skipped, the same way on every manager.

use crate::api::*;
use crate::ids::{DataId, NetworkId, NodeId, ServiceId, TaskId};
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreAction {
    SetCluster(Cluster),
    CreateNode(Node),
    SetNodeState {
        id: NodeId,
        state: NodeState,
        message: String,
        addr: Option<String>,
    },
    SetNodeAvailability {
        id: NodeId,
        availability: Availability,
    },
    SetNodeRole {
        id: NodeId,
        role: NodeRole,
    },
    SetManagerStatus {
        id: NodeId,
        manager_status: Option<ManagerStatus>,
    },
    SetNodeLabel {
        id: NodeId,
        key: String,
        value: Option<String>,
    },
    RemoveNode {
        id: NodeId,
    },
    CreateNetwork(Network),
    RemoveNetwork {
        id: NetworkId,
    },
    CreateService(Service),
    UpdateServiceSpec {
        id: ServiceId,
        spec: ServiceSpec,
        at: Instant,
    },
    SetServiceEndpoint {
        id: ServiceId,
        endpoint: Endpoint,
    },
    /// The updater: where the service's update stands.
    SetServiceUpdateStatus {
        id: ServiceId,
        status: UpdateStatus,
    },
    /// A rollback: the previous spec becomes the spec again. A manually requested one
    /// (`service rollback`) keeps the spec it leaves as the previous one, as swarmkit's control
    /// API swaps them; the updater's automatic one clears it.
    RollbackServiceSpec {
        id: ServiceId,
        status: UpdateStatus,
        keep_previous: bool,
        at: Instant,
    },
    RemoveService {
        id: ServiceId,
    },
    CreateTask(Task),
    /// Allocator: addresses given, NEW → PENDING.
    AllocateTask {
        id: TaskId,
        networks: Vec<NetworkAttachment>,
        host_ports: Vec<PortConfig>,
        at: Instant,
    },
    /// Scheduler: PENDING → ASSIGNED on `node`.
    AssignTask {
        id: TaskId,
        node: NodeId,
        at: Instant,
    },
    /// Scheduler: still PENDING, with the reason (`no suitable node (...)`).
    SetTaskPendingMessage {
        id: TaskId,
        message: String,
    },
    SetTaskDesired {
        id: TaskId,
        desired: TaskState,
    },
    /// Dispatcher, on the agent's behalf.
    SetTaskStatus {
        id: TaskId,
        status: TaskStatus,
    },
    RemoveTask {
        id: TaskId,
    },
    // ----- secrets and configs -----
    /// `secret create` / `config create`; refused if the name is taken by one of its kind.
    CreateData(DataObject),
    /// `secret rm` / `config rm`.
    RemoveData {
        kind: DataKind,
        id: DataId,
    },
}

/// What applying one action did, for the leader to answer a waiting client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    Applied,
    Skipped(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    pub cluster: Option<Cluster>,
    pub nodes: BTreeMap<NodeId, Node>,
    pub services: BTreeMap<ServiceId, Service>,
    pub tasks: BTreeMap<TaskId, Task>,
    pub networks: BTreeMap<NetworkId, Network>,
    #[serde(default)]
    pub secrets: BTreeMap<DataId, DataObject>,
    #[serde(default)]
    pub configs: BTreeMap<DataId, DataObject>,
    /// Index: tasks per service. Derived; rebuilt on restore.
    #[serde(skip)]
    tasks_by_service: BTreeMap<ServiceId, BTreeSet<TaskId>>,
    /// Index: tasks per node. Derived; rebuilt on restore.
    #[serde(skip)]
    tasks_by_node: BTreeMap<NodeId, BTreeSet<TaskId>>,
    /// Index: tasks per replicated slot (slot > 0). Derived; rebuilt on restore.
    #[serde(skip)]
    tasks_by_slot: BTreeMap<(ServiceId, u64), BTreeSet<TaskId>>,
    /// Raft index of the last applied entry.
    pub applied_index: u64,
    /// A running digest of every entry applied (index, term, bytes): two managers at the same
    /// applied index must hold the same digest, or a committed entry changed.
    pub applied_digest: u64,
}

/// Which objects an applied batch touched: the dispatcher resends assignments to these nodes,
/// and the routing mesh is republished when services or task states changed.
#[derive(Clone, Debug, Default)]
pub struct Touched {
    pub nodes: BTreeSet<NodeId>,
    pub services: BTreeSet<ServiceId>,
    pub tasks: BTreeSet<TaskId>,
    pub networks: bool,
    pub cluster: bool,
    /// Services whose own record changed (created, spec, endpoint, removed), as opposed to
    /// `services`, which also names the services of touched tasks.
    pub service_records: BTreeSet<ServiceId>,
    /// Nodes whose own record changed (state, availability, role, labels, removal), as opposed
    /// to `nodes`, which also names the nodes of touched tasks.
    pub node_records: BTreeSet<NodeId>,
}

impl Touched {
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.services.is_empty() && self.tasks.is_empty() && !self.networks && !self.cluster
    }
}

impl Store {
    pub fn new() -> Store {
        Store::default()
    }

    /// Folds one applied entry into `applied_digest` (FNV-1a over index, term and data).
    pub fn fold_entry_digest(&mut self, index: u64, term: u64, data: &[u8]) {
        let mut h = self.applied_digest ^ 0xcbf2_9ce4_8422_2325;
        for b in index.to_le_bytes().iter().chain(term.to_le_bytes().iter()).chain(data.iter()) {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.applied_digest = h;
    }

    /// Rebuilds the derived indexes after a snapshot was decoded.
    pub fn rebuild_indexes(&mut self) {
        self.tasks_by_service.clear();
        self.tasks_by_node.clear();
        self.tasks_by_slot.clear();
        let ids: Vec<TaskId> = self.tasks.keys().cloned().collect();
        for id in ids {
            self.index_task(&id);
        }
    }

    fn index_task(&mut self, id: &TaskId) {
        let task = &self.tasks[id];
        self.tasks_by_service.entry(task.service_id.clone()).or_default().insert(id.clone());
        if let Some(node) = &task.node_id {
            self.tasks_by_node.entry(node.clone()).or_default().insert(id.clone());
        }
        if task.slot > 0 {
            self.tasks_by_slot.entry((task.service_id.clone(), task.slot)).or_default().insert(id.clone());
        }
    }

    fn unindex_task(&mut self, id: &TaskId) {
        let task = &self.tasks[id];
        if let Some(set) = self.tasks_by_service.get_mut(&task.service_id) {
            set.remove(id);
            if set.is_empty() {
                self.tasks_by_service.remove(&task.service_id);
            }
        }
        if let Some(node) = &task.node_id {
            if let Some(set) = self.tasks_by_node.get_mut(node) {
                set.remove(id);
                if set.is_empty() {
                    self.tasks_by_node.remove(node);
                }
            }
        }
        if task.slot > 0 {
            let key = (task.service_id.clone(), task.slot);
            if let Some(set) = self.tasks_by_slot.get_mut(&key) {
                set.remove(id);
                if set.is_empty() {
                    self.tasks_by_slot.remove(&key);
                }
            }
        }
    }

    /// The tasks of a replicated service's slot (slot > 0), old and new.
    pub fn tasks_in_slot<'a>(&'a self, service: &ServiceId, slot: u64) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks_by_slot.get(&(service.clone(), slot)).into_iter().flatten().map(move |id| &self.tasks[id])
    }

    pub fn tasks_of_service<'a>(&'a self, service: &ServiceId) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks_by_service.get(service).into_iter().flatten().map(move |id| &self.tasks[id])
    }

    /// Services that have tasks in the store, deleted services included (their tasks linger
    /// until the reaper removes them).
    pub fn services_with_tasks(&self) -> impl Iterator<Item = &ServiceId> {
        self.tasks_by_service.keys()
    }

    /// The service's tasks that run and are meant to, on nodes not Down (a Down node's last
    /// report is stale): what `service ls` counts in REPLICAS, and what the simulator's
    /// conditions and liveness check count.
    pub fn running_tasks_of_service<'a>(&'a self, service: &ServiceId) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks_of_service(service).filter(move |t| {
            // A job's task runs desired COMPLETE.
            (t.desired_state == TaskState::Running || t.desired_state == TaskState::Complete)
                && t.status.state == TaskState::Running
                && t.node_id
                    .as_ref()
                    .and_then(|n| self.nodes.get(n))
                    .map(|n| n.status.state != NodeState::Down)
                    .unwrap_or(false)
        })
    }

    pub fn tasks_on_node<'a>(&'a self, node: &NodeId) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks_by_node.get(node).into_iter().flatten().map(move |id| &self.tasks[id])
    }

    pub fn service_by_name(&self, name: &str) -> Option<&Service> {
        self.services.values().find(|s| s.spec.name == name)
    }

    pub fn network_by_name(&self, name: &str) -> Option<&Network> {
        self.networks.values().find(|n| n.name == name)
    }

    pub fn ingress_network(&self) -> Option<&Network> {
        self.networks.values().find(|n| n.ingress)
    }

    pub fn node_by_hostname(&self, hostname: &str) -> Option<&Node> {
        self.nodes.values().find(|n| n.description.hostname == hostname)
    }

    /// A node named by full ID, unique ID prefix, or hostname (as `docker node` accepts).
    pub fn lookup_node(&self, name: &str) -> Result<&Node, String> {
        if let Some(n) = self.nodes.get(&NodeId(name.to_string())) {
            return Ok(n);
        }
        if let Some(n) = self.node_by_hostname(name) {
            return Ok(n);
        }
        let matches: Vec<&Node> = self.nodes.values().filter(|n| n.id.0.starts_with(name)).collect();
        match matches.len() {
            1 => Ok(matches[0]),
            0 => Err(format!("node {name} not found")),
            _ => Err(format!("node {name} is ambiguous ({} matches found)", matches.len())),
        }
    }

    /// A service named by name, full ID or unique ID prefix.
    pub fn lookup_service(&self, name: &str) -> Result<&Service, String> {
        if let Some(s) = self.service_by_name(name) {
            return Ok(s);
        }
        if let Some(s) = self.services.get(&ServiceId(name.to_string())) {
            return Ok(s);
        }
        let matches: Vec<&Service> = self.services.values().filter(|s| s.id.0.starts_with(name)).collect();
        match matches.len() {
            1 => Ok(matches[0]),
            0 => Err(format!("service {name} not found")),
            _ => Err(format!("service {name} is ambiguous ({} matches found)", matches.len())),
        }
    }

    /// A network named by name, full ID or unique ID prefix.
    pub fn lookup_network(&self, name: &str) -> Result<&Network, String> {
        if let Some(n) = self.network_by_name(name) {
            return Ok(n);
        }
        let matches: Vec<&Network> = self.networks.values().filter(|n| n.id.0.starts_with(name)).collect();
        match matches.len() {
            1 => Ok(matches[0]),
            0 => Err(format!("network {name} not found")),
            _ => Err(format!("network {name} is ambiguous ({} matches found)", matches.len())),
        }
    }

    /// The secrets or the configs.
    pub fn data_objects(&self, kind: DataKind) -> &BTreeMap<DataId, DataObject> {
        match kind {
            DataKind::Secret => &self.secrets,
            DataKind::Config => &self.configs,
        }
    }

    fn data_objects_mut(&mut self, kind: DataKind) -> &mut BTreeMap<DataId, DataObject> {
        match kind {
            DataKind::Secret => &mut self.secrets,
            DataKind::Config => &mut self.configs,
        }
    }

    /// A secret or config named by full ID, name or unique ID prefix (as dockerd's
    /// `getSecret`/`getConfig` look one up); `None` when none or several match.
    pub fn lookup_data(&self, kind: DataKind, name: &str) -> Option<&DataObject> {
        let objects = self.data_objects(kind);
        if let Some(d) = objects.get(&DataId(name.to_string())) {
            return Some(d);
        }
        if let Some(d) = objects.values().find(|d| d.spec.name == name) {
            return Some(d);
        }
        let mut matches = objects.values().filter(|d| d.id.0.starts_with(name));
        match (matches.next(), matches.next()) {
            (Some(d), None) => Some(d),
            _ => None,
        }
    }

    /// The services whose spec uses this secret or config, by name.
    pub fn services_using(&self, kind: DataKind, id: &DataId) -> Vec<&Service> {
        self.services
            .values()
            .filter(|s| {
                let refs = match kind {
                    DataKind::Secret => &s.spec.task.secrets,
                    DataKind::Config => &s.spec.task.configs,
                };
                refs.iter().any(|r| &r.id == id)
            })
            .collect()
    }

    /// Applies one committed action. Deterministic: every manager gets the same outcome.
    pub fn apply(&mut self, action: StoreAction, touched: &mut Touched) -> ApplyOutcome {
        use StoreAction::*;
        match action {
            SetCluster(c) => {
                self.cluster = Some(c);
                touched.cluster = true;
            }
            CreateNode(node) => {
                if self.nodes.contains_key(&node.id) {
                    return ApplyOutcome::Skipped(format!("node {} exists", node.id));
                }
                touched.nodes.insert(node.id.clone());
                touched.node_records.insert(node.id.clone());
                self.nodes.insert(node.id.clone(), node);
            }
            SetNodeState { id, state, message, addr } => {
                let Some(node) = self.nodes.get_mut(&id) else { return skipped_missing("node", &id.0) };
                node.status.state = state;
                node.status.message = message;
                if let Some(addr) = addr {
                    node.status.addr = addr;
                }
                touched.node_records.insert(id.clone());
                touched.nodes.insert(id);
            }
            SetNodeAvailability { id, availability } => {
                let Some(node) = self.nodes.get_mut(&id) else { return skipped_missing("node", &id.0) };
                node.spec.availability = availability;
                touched.node_records.insert(id.clone());
                touched.nodes.insert(id);
            }
            SetNodeRole { id, role } => {
                let Some(node) = self.nodes.get_mut(&id) else { return skipped_missing("node", &id.0) };
                node.spec.role = role;
                touched.node_records.insert(id.clone());
                touched.nodes.insert(id);
            }
            SetManagerStatus { id, manager_status } => {
                let Some(node) = self.nodes.get_mut(&id) else { return skipped_missing("node", &id.0) };
                node.manager_status = manager_status;
                touched.node_records.insert(id.clone());
                touched.nodes.insert(id);
            }
            SetNodeLabel { id, key, value } => {
                let Some(node) = self.nodes.get_mut(&id) else { return skipped_missing("node", &id.0) };
                match value {
                    Some(v) => node.spec.labels.insert(key, v),
                    None => node.spec.labels.remove(&key),
                };
                touched.node_records.insert(id.clone());
                touched.nodes.insert(id);
            }
            RemoveNode { id } => {
                if self.nodes.remove(&id).is_none() {
                    return skipped_missing("node", &id.0);
                }
                touched.node_records.insert(id.clone());
                touched.nodes.insert(id);
            }
            CreateNetwork(net) => {
                if self.networks.values().any(|n| n.name == net.name) {
                    return ApplyOutcome::Skipped(format!("network with name {} already exists", net.name));
                }
                touched.networks = true;
                self.networks.insert(net.id.clone(), net);
            }
            RemoveNetwork { id } => {
                if self.networks.remove(&id).is_none() {
                    return skipped_missing("network", &id.0);
                }
                touched.networks = true;
            }
            CreateService(svc) => {
                if self.service_by_name(&svc.spec.name).is_some() {
                    return ApplyOutcome::Skipped(format!("rpc error: code = AlreadyExists desc = name conflicts with an existing object: service {} already exists", svc.spec.name));
                }
                touched.services.insert(svc.id.clone());
                touched.service_records.insert(svc.id.clone());
                self.services.insert(svc.id.clone(), svc);
            }
            UpdateServiceSpec { id, spec, at } => {
                let Some(svc) = self.services.get_mut(&id) else { return skipped_missing("service", &id.0) };
                // As swarmkit's UpdateService: the old spec is kept for a rollback and the
                // update status starts over.
                svc.previous_spec = Some(Box::new(std::mem::replace(&mut svc.spec, spec)));
                svc.update_status = None;
                svc.spec_version += 1;
                svc.updated_at = at;
                next_job_iteration(svc, at);
                touched.service_records.insert(id.clone());
                touched.services.insert(id);
            }
            SetServiceEndpoint { id, endpoint } => {
                let Some(svc) = self.services.get_mut(&id) else { return skipped_missing("service", &id.0) };
                svc.endpoint = Some(endpoint);
                touched.service_records.insert(id.clone());
                touched.services.insert(id);
            }
            SetServiceUpdateStatus { id, status } => {
                let Some(svc) = self.services.get_mut(&id) else { return skipped_missing("service", &id.0) };
                svc.update_status = Some(status);
                touched.service_records.insert(id.clone());
                touched.services.insert(id);
            }
            RollbackServiceSpec { id, status, keep_previous, at } => {
                let Some(svc) = self.services.get_mut(&id) else { return skipped_missing("service", &id.0) };
                let Some(previous) = svc.previous_spec.take() else {
                    return ApplyOutcome::Skipped(format!(
                        "rpc error: code = FailedPrecondition desc = service {id} does not have a previous spec"
                    ));
                };
                let left = std::mem::replace(&mut svc.spec, *previous);
                if keep_previous {
                    svc.previous_spec = Some(Box::new(left));
                }
                svc.update_status = Some(status);
                svc.spec_version += 1;
                svc.updated_at = at;
                next_job_iteration(svc, at);
                touched.service_records.insert(id.clone());
                touched.services.insert(id);
            }
            RemoveService { id } => {
                if self.services.remove(&id).is_none() {
                    return skipped_missing("service", &id.0);
                }
                touched.service_records.insert(id.clone());
                touched.services.insert(id);
            }
            CreateTask(task) => {
                if self.tasks.contains_key(&task.id) {
                    return ApplyOutcome::Skipped(format!("task {} exists", task.id));
                }
                if !self.services.contains_key(&task.service_id) {
                    return skipped_missing("service", &task.service_id.0);
                }
                let id = task.id.clone();
                touched.services.insert(task.service_id.clone());
                if let Some(n) = &task.node_id {
                    touched.nodes.insert(n.clone());
                }
                self.tasks.insert(id.clone(), task);
                self.index_task(&id);
                touched.tasks.insert(id);
            }
            AllocateTask { id, networks, host_ports, at } => {
                let Some(task) = self.tasks.get_mut(&id) else { return skipped_missing("task", &id.0) };
                if task.status.state != TaskState::New {
                    return ApplyOutcome::Skipped(format!("task {id} already allocated"));
                }
                task.networks = networks;
                task.host_ports = host_ports;
                task.status = TaskStatus::new(TaskState::Pending, at, "pending task scheduling");
                touched.services.insert(task.service_id.clone());
                touched.tasks.insert(id);
            }
            AssignTask { id, node, at } => {
                let Some(task) = self.tasks.get(&id) else { return skipped_missing("task", &id.0) };
                if task.status.state != TaskState::Pending {
                    return ApplyOutcome::Skipped(format!("task {id} is not pending"));
                }
                if !self.nodes.contains_key(&node) {
                    return skipped_missing("node", &node.0);
                }
                self.unindex_task(&id);
                let task = self.tasks.get_mut(&id).expect("checked above");
                task.node_id = Some(node.clone());
                task.status = TaskStatus::new(TaskState::Assigned, at, "scheduler assigned task to node");
                touched.services.insert(task.service_id.clone());
                self.index_task(&id);
                touched.nodes.insert(node);
                touched.tasks.insert(id);
            }
            SetTaskPendingMessage { id, message } => {
                let Some(task) = self.tasks.get_mut(&id) else { return skipped_missing("task", &id.0) };
                if task.status.state != TaskState::Pending {
                    return ApplyOutcome::Skipped(format!("task {id} is not pending"));
                }
                task.status.err = message;
                touched.tasks.insert(id);
            }
            SetTaskDesired { id, desired } => {
                let Some(task) = self.tasks.get_mut(&id) else { return skipped_missing("task", &id.0) };
                // Desired state moves forward too, except READY → RUNNING after a restart delay,
                // which is also forward.
                if desired < task.desired_state {
                    return ApplyOutcome::Skipped(format!(
                        "task {id}: desired state {:?} would move back from {:?}",
                        desired, task.desired_state
                    ));
                }
                task.desired_state = desired;
                touched.services.insert(task.service_id.clone());
                if let Some(n) = &task.node_id {
                    touched.nodes.insert(n.clone());
                }
                touched.tasks.insert(id);
            }
            SetTaskStatus { id, status } => {
                let Some(task) = self.tasks.get_mut(&id) else { return skipped_missing("task", &id.0) };
                // Observed state only moves forward: a late report of an older state is dropped.
                if status.state < task.status.state {
                    return ApplyOutcome::Skipped(format!(
                        "task {id}: state {:?} would move back from {:?}",
                        status.state, task.status.state
                    ));
                }
                if status == task.status {
                    return ApplyOutcome::Skipped(format!("task {id}: status unchanged"));
                }
                task.status = status;
                touched.services.insert(task.service_id.clone());
                touched.tasks.insert(id);
            }
            RemoveTask { id } => {
                if !self.tasks.contains_key(&id) {
                    return skipped_missing("task", &id.0);
                }
                self.unindex_task(&id);
                let task = self.tasks.remove(&id).expect("checked above");
                touched.services.insert(task.service_id);
                if let Some(n) = task.node_id {
                    touched.nodes.insert(n);
                }
                touched.tasks.insert(id);
            }
            CreateData(object) => {
                let kind = object.kind;
                if self.data_objects(kind).contains_key(&object.id) {
                    return ApplyOutcome::Skipped(format!("{} {} exists", kind.as_str(), object.id));
                }
                if self.data_objects(kind).values().any(|d| d.spec.name == object.spec.name) {
                    return ApplyOutcome::Skipped(format!(
                        "rpc error: code = AlreadyExists desc = {} {} already exists",
                        kind.as_str(),
                        object.spec.name
                    ));
                }
                self.data_objects_mut(kind).insert(object.id.clone(), object);
            }
            RemoveData { kind, id } => {
                if self.data_objects_mut(kind).remove(&id).is_none() {
                    return skipped_missing(kind.as_str(), &id.0);
                }
            }
        }
        ApplyOutcome::Applied
    }

    /// Checks the derived indexes against the objects: the simulator calls this as an invariant.
    pub fn check_indexes(&self) -> Result<(), String> {
        let mut by_service: BTreeMap<ServiceId, BTreeSet<TaskId>> = BTreeMap::new();
        let mut by_node: BTreeMap<NodeId, BTreeSet<TaskId>> = BTreeMap::new();
        let mut by_slot: BTreeMap<(ServiceId, u64), BTreeSet<TaskId>> = BTreeMap::new();
        for t in self.tasks.values() {
            by_service.entry(t.service_id.clone()).or_default().insert(t.id.clone());
            if t.slot > 0 {
                by_slot.entry((t.service_id.clone(), t.slot)).or_default().insert(t.id.clone());
            }
            if let Some(n) = &t.node_id {
                by_node.entry(n.clone()).or_default().insert(t.id.clone());
            }
        }
        if by_service != self.tasks_by_service {
            return Err("tasks_by_service index differs from the tasks".into());
        }
        if by_node != self.tasks_by_node {
            return Err("tasks_by_node index differs from the tasks".into());
        }
        if by_slot != self.tasks_by_slot {
            return Err("tasks_by_slot index differs from the tasks".into());
        }
        Ok(())
    }
}

/// As swarmkit's controlapi UpdateService: every update of a job (a rollback too) starts its
/// next iteration; the job orchestrator removes the tasks of the older ones.
fn next_job_iteration(svc: &mut Service, at: Instant) {
    if let Some(job) = svc.job_status.as_mut() {
        job.iteration += 1;
        job.last_execution = at;
    }
}

fn skipped_missing(kind: &str, id: &str) -> ApplyOutcome {
    ApplyOutcome::Skipped(format!("{kind} {id} not found"))
}
