//! What a node answers, as objects: each carries everything the CLI shows of it (a service's
//! running count, a task's node name, which manager leads), so the edge renders a reply without
//! the store, and `swarmctl --format json` serializes the objects themselves.

use crate::api::{DataKind, DataObject, Network, Node, NodeRole, Service, ServiceMode, Task, TaskState};
use crate::ids::{DataId, NetworkId, NodeId, ServiceId};
use crate::message::Addr;
use crate::net::Route;
use crate::runtime::ContainerInfo;
use crate::store::Store;
use crate::time::Instant;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    SwarmInitialized {
        node_id: NodeId,
        worker_token: String,
        /// The new manager's address on the cluster port.
        advertise_addr: Addr,
    },
    SwarmJoined {
        role: NodeRole,
    },
    SwarmLeft,
    SwarmUpdated,
    JoinToken {
        role: NodeRole,
        token: String,
        /// The answering manager's address, where a new node joins.
        manager_addr: Addr,
    },
    /// The rotated role's new token, and where to join: the docker CLI prints the join
    /// command after the rotation, with the address of the node it asked.
    JoinTokenRotated {
        role: NodeRole,
        token: String,
        manager_addr: Addr,
    },
    Nodes(Vec<NodeView>),
    /// Promotions and demotions, in the order asked.
    RolesChanged(Vec<RoleChange>),
    NodeUpdated {
        node: String,
    },
    NetworkCreated {
        id: NetworkId,
    },
    Networks(Vec<Network>),
    ServiceCreated {
        id: ServiceId,
    },
    Services(Vec<ServiceView>),
    Tasks {
        tasks: Vec<TaskView>,
        /// When the daemon answered (task ages count from here).
        as_of: Instant,
    },
    ServicesScaled {
        scales: Vec<(String, u64)>,
    },
    ServiceUpdated {
        service: String,
    },
    /// Nodes, networks or services removed, named as the request named them.
    Removed {
        names: Vec<String>,
    },
    Containers {
        containers: Vec<ContainerInfo>,
        /// When the daemon answered (container ages count from here).
        as_of: Instant,
    },
    /// Containers killed, named as the request named them.
    Killed {
        containers: Vec<String>,
    },
    /// What the command run by `Exec` wrote on its stdout.
    ExecOutput {
        stdout: String,
    },
    /// What `cat FILE` wrote for a secret's or config's file in a container: the bytes, which
    /// `summary()` (and so the simulator's trace) never shows.
    FileContent {
        kind: DataKind,
        data: crate::api::DataBytes,
    },
    /// Where the routing mesh sends a connection; the driver delivers it to the task.
    Route(Route),
    // ----- secrets and configs -----
    DataCreated {
        kind: DataKind,
        id: DataId,
    },
    /// `secret rm`/`config rm`: the names removed, and each refusal in the daemon's words
    /// (or the client's, marked), in the order asked.
    DataRemoved {
        kind: DataKind,
        removed: Vec<String>,
        refused: Vec<String>,
    },
    /// Secrets (their bytes left out, as swarm answers) or configs, for `ls` and `inspect`.
    DataObjects {
        kind: DataKind,
        objects: Vec<DataObject>,
        /// When the daemon answered (`ls`'s CREATED and UPDATED count from here).
        as_of: Instant,
    },
    // ----- the Docker Engine API's (swarmd's HTTP API) -----
    /// Boxed: it is large beside the other answers.
    SystemInfo(Box<SwarmInfoView>),
}

/// The answering node's swarm as `docker info` shows it (docker's `swarm.Info`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwarmInfoView {
    /// Empty outside a swarm.
    pub node_id: String,
    /// The node's advertise address (no port); empty outside a swarm.
    pub node_addr: String,
    pub local_state: LocalNodeState,
    /// A manager: `docker info`'s "Is Manager".
    pub control_available: bool,
    /// Why the manager cannot answer for the cluster (no leader); empty otherwise.
    pub error: String,
    /// Managers only: the cluster as this manager's store has it.
    pub cluster: Option<crate::api::Cluster>,
    pub managers: u64,
    pub nodes: u64,
    /// The managers' node IDs and cluster addresses, as this node knows them.
    pub remote_managers: Vec<(NodeId, Addr)>,
}

/// docker's `LocalNodeState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LocalNodeState {
    Inactive,
    Pending,
    Active,
}

impl LocalNodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            LocalNodeState::Inactive => "inactive",
            LocalNodeState::Pending => "pending",
            LocalNodeState::Active => "active",
        }
    }
}

/// A node as the managers' store holds it, with what this manager knows of its Raft status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    pub node: Node,
    /// `Leader`, `Reachable` or `Unreachable` for managers, as `node ls` shows it.
    pub manager_status: Option<String>,
    /// The node that answered the request.
    pub is_self: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleChange {
    pub node_id: NodeId,
    pub role: NodeRole,
    /// False when the node already had the role.
    pub changed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    pub service: Service,
    /// As docker 1.12 counts: running tasks meant to run, on nodes not Down (a Down node's last
    /// report is stale).
    pub running: u64,
    /// The replica count, or for a global service the tasks meant to run. A job: as swarmkit's
    /// `ServiceStatus` counts (`jobs::JobProgress`).
    pub desired: u64,
    /// A job: the tasks of its current iteration that completed.
    #[serde(default)]
    pub completed: u64,
    /// When the daemon answered (`inspect --pretty`'s `Started: 2 minutes ago` counts from here).
    pub as_of: Instant,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskView {
    pub task: Task,
    /// The hostname of the task's node; its ID if the node left the store; empty if unassigned.
    pub node: String,
    /// Its service's labels (swarmkit's `Task.ServiceAnnotations`), for `--filter label=…`.
    /// Always written: a field skipped when empty would throw postcard's decoding of a
    /// forwarded reply off by one field (postcard is not self-describing).
    #[serde(default)]
    pub service_labels: BTreeMap<String, String>,
}

impl NodeView {
    pub fn of(node: &Node, manager_statuses: &BTreeMap<NodeId, String>, answering: Option<&NodeId>) -> NodeView {
        NodeView {
            node: node.clone(),
            manager_status: manager_statuses.get(&node.id).cloned(),
            is_self: Some(&node.id) == answering,
        }
    }

    /// Every node of the store.
    pub fn all(
        store: &Store,
        manager_statuses: &BTreeMap<NodeId, String>,
        answering: Option<&NodeId>,
    ) -> Vec<NodeView> {
        store.nodes.values().map(|n| NodeView::of(n, manager_statuses, answering)).collect()
    }
}

impl ServiceView {
    pub fn of(store: &Store, service: &Service, as_of: Instant) -> ServiceView {
        if let Some(job) = crate::manager::jobs::progress(store, service) {
            let (running, desired, completed) = (job.running, job.desired, job.completed);
            return ServiceView { service: service.clone(), running, desired, completed, as_of };
        }
        let running = store.running_tasks_of_service(&service.id).count() as u64;
        let desired = match service.spec.mode {
            ServiceMode::Replicated { replicas } => replicas,
            ServiceMode::Global | ServiceMode::ReplicatedJob { .. } | ServiceMode::GlobalJob => {
                store.tasks_of_service(&service.id).filter(|t| t.desired_state == TaskState::Running).count() as u64
            }
        };
        ServiceView { service: service.clone(), running, desired, completed: 0, as_of }
    }

    /// Every service of the store.
    pub fn all(store: &Store, as_of: Instant) -> Vec<ServiceView> {
        store.services.values().map(|s| ServiceView::of(store, s, as_of)).collect()
    }
}

impl TaskView {
    pub fn of(store: &Store, task: &Task) -> TaskView {
        let node = match &task.node_id {
            None => String::new(),
            Some(id) => store.nodes.get(id).map(|n| n.description.hostname.clone()).unwrap_or_else(|| id.to_string()),
        };
        let service_labels = store.services.get(&task.service_id).map(|s| s.spec.labels.clone()).unwrap_or_default();
        TaskView { task: task.clone(), node, service_labels }
    }

    /// Every task of these services.
    pub fn of_services(store: &Store, services: &[&Service]) -> Vec<TaskView> {
        services.iter().flat_map(|s| store.tasks_of_service(&s.id)).map(|t| TaskView::of(store, t)).collect()
    }
}

impl Response {
    /// One stable line for the simulator's trace: what kind of answer and how much of it.
    pub fn summary(&self) -> String {
        match self {
            Response::SwarmInitialized { node_id, .. } => format!("swarm initialized node={node_id}"),
            Response::SwarmJoined { role } => format!("swarm joined as {}", role.as_str()),
            Response::SwarmLeft => "swarm left".into(),
            Response::SwarmUpdated => "swarm updated".into(),
            Response::JoinToken { role, .. } => format!("join token {}", role.as_str()),
            Response::JoinTokenRotated { role, .. } => format!("join token rotated {}", role.as_str()),
            Response::Nodes(nodes) => format!("nodes {}", nodes.len()),
            Response::RolesChanged(changes) => {
                let parts: Vec<String> = changes
                    .iter()
                    .map(|c| format!("{}={}{}", c.node_id, c.role.as_str(), if c.changed { "" } else { "(already)" }))
                    .collect();
                format!("roles {}", parts.join(" "))
            }
            Response::NodeUpdated { node } => format!("node updated {node}"),
            Response::NetworkCreated { id } => format!("network created {id}"),
            Response::Networks(networks) => format!("networks {}", networks.len()),
            Response::ServiceCreated { id } => format!("service created {id}"),
            Response::Services(services) => format!("services {}", services.len()),
            Response::Tasks { tasks, .. } => format!("tasks {}", tasks.len()),
            Response::ServicesScaled { scales } => {
                let parts: Vec<String> = scales.iter().map(|(n, r)| format!("{n}={r}")).collect();
                format!("scaled {}", parts.join(" "))
            }
            Response::ServiceUpdated { service } => format!("service updated {service}"),
            Response::Removed { names } => format!("removed {}", names.join(" ")),
            Response::Containers { containers, .. } => format!("containers {}", containers.len()),
            Response::Killed { containers } => format!("killed {}", containers.join(" ")),
            Response::ExecOutput { stdout } => format!("exec {:?}", stdout),
            Response::FileContent { kind, data } => format!("exec {} file {data:?}", kind.as_str()),
            Response::Route(r) => format!("route {} -> {}", r.service, r.backend.container_name),
            Response::SystemInfo(i) => format!("info {} {}", i.local_state.as_str(), i.node_id),
            Response::DataCreated { kind, id } => format!("{} created {id}", kind.as_str()),
            Response::DataRemoved { kind, removed, refused } => {
                format!("{} removed [{}] refused {}", kind.as_str(), removed.join(" "), refused.len())
            }
            Response::DataObjects { kind, objects, .. } => format!("{}s {}", kind.as_str(), objects.len()),
        }
    }
}
