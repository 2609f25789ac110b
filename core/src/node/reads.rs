//! The leader's answers to reads, from its store, as the asking node shows them (followers
//! forward their reads to the leader, as swarmkit's raft proxy does).

use crate::api::{Network, NodeRole, Service};
use crate::control::errors::NOT_IN_SWARM;
use crate::control::{NodeView, Request, Response, ServiceView, TaskView};
use crate::ids::NodeId;
use crate::manager::Manager;
use crate::message::Addr;
use crate::time::Instant;

pub(super) fn answer(
    mgr: &Manager,
    local: &NodeId,
    addr: &Addr,
    request: &Request,
    now: Instant,
) -> Result<Response, String> {
    let store = &mgr.store;
    match request {
        Request::ListNodes => Ok(Response::Nodes(NodeView::all(store, &mgr.manager_statuses(), Some(local)))),
        Request::InspectNodes { nodes } => {
            let statuses = mgr.manager_statuses();
            let found = nodes
                .iter()
                .map(|n| {
                    let node = if n == "self" {
                        store.nodes.get(local).ok_or_else(|| "node self not found".to_string())
                    } else {
                        store.lookup_node(n)
                    };
                    node.map(|node| NodeView::of(node, &statuses, Some(local)))
                })
                .collect::<Result<_, _>>()?;
            Ok(Response::Nodes(found))
        }
        Request::InspectNetworks { networks } => {
            let found: Vec<Network> =
                networks.iter().map(|n| store.lookup_network(n).cloned()).collect::<Result<_, _>>()?;
            Ok(Response::Networks(found))
        }
        Request::ListServices => Ok(Response::Services(ServiceView::all(store, now))),
        Request::ListTasks { services } => {
            let found: Vec<&Service> = services.iter().map(|s| store.lookup_service(s)).collect::<Result<_, _>>()?;
            Ok(Response::Tasks { tasks: TaskView::of_services(store, &found), as_of: now })
        }
        Request::ListNodeTasks { nodes } => {
            let mut tasks = Vec::new();
            for name in nodes {
                let node = if name == "self" {
                    store.nodes.get(local).ok_or_else(|| "node self not found".to_string())?
                } else {
                    store.lookup_node(name)?
                };
                tasks.extend(store.tasks_on_node(&node.id).map(|t| TaskView::of(store, t)));
            }
            Ok(Response::Tasks { tasks, as_of: now })
        }
        Request::InspectServices { services } => {
            let found: Vec<ServiceView> = services
                .iter()
                .map(|s| store.lookup_service(s).map(|s| ServiceView::of(store, s, now)))
                .collect::<Result<_, _>>()?;
            Ok(Response::Services(found))
        }
        Request::GetJoinToken { role } => {
            let cluster = store.cluster.as_ref().ok_or_else(|| NOT_IN_SWARM.to_string())?;
            let token = match role {
                NodeRole::Worker => &cluster.worker_token,
                NodeRole::Manager => &cluster.manager_token,
            };
            Ok(Response::JoinToken { role: *role, token: token.clone(), manager_addr: *addr })
        }
        // A secret's bytes never leave the store in an answer (`DataObject::redacted`).
        Request::ListData { kind } => {
            let objects = store.data_objects(*kind).values().map(|d| d.redacted()).collect();
            Ok(Response::DataObjects { kind: *kind, objects, as_of: now })
        }
        Request::InspectData { kind, names } => {
            let objects = names
                .iter()
                .map(|n| {
                    store
                        .lookup_data(*kind, n)
                        .map(|d| d.redacted())
                        .ok_or_else(|| crate::manager::control::not_found(*kind, n))
                })
                .collect::<Result<_, _>>()?;
            Ok(Response::DataObjects { kind: *kind, objects, as_of: now })
        }
        other => Err(format!("unsupported request on a manager: {}", other.summary())),
    }
}
