//! The control API's writes: a request becomes store actions, validated against the
//! leader's store first (so a user gets docker's error at once) and again by `Store::apply`.

use crate::api::*;
use crate::control::{NodeUpdateArgs, Request, Response, RoleChange, ServiceCreateArgs, ServiceUpdateArgs};
use crate::ids::{DataId, NetworkId, ServiceId};
use crate::manager::allocator::Allocator;
use crate::message::Addr;
use crate::store::{Store, StoreAction};
use crate::time::Instant;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// A write the leader will propose, and what to answer once it commits.
pub struct Write {
    pub actions: Vec<StoreAction>,
    pub response: Response,
    /// Raft membership changes that go with the write (demote/remove a manager).
    pub remove_raft_member: Option<u64>,
    /// Raft members to add with the write (promoted nodes): Raft ID and cluster address.
    pub add_raft_members: Vec<(u64, crate::addr::Addr)>,
}

impl Write {
    fn new(actions: Vec<StoreAction>, response: Response) -> Write {
        Write { actions, response, remove_raft_member: None, add_raft_members: Vec::new() }
    }
}

pub fn plan_write(store: &Store, request: &Request, now: Instant, rng: &mut ChaCha8Rng) -> Result<Write, String> {
    match request {
        Request::CreateNetwork { name, driver, subnet, labels, attachable } => {
            network_create(store, name, *driver, *subnet, (labels, *attachable), now, rng)
        }
        Request::RemoveNetworks { networks } => network_rm(store, networks),
        Request::CreateService(args) => service_create(store, args, now, rng),
        Request::ScaleServices { scales } => service_scale(store, scales, now),
        Request::UpdateService(args) => service_update(store, args, now),
        Request::RemoveServices { services } => service_rm(store, services),
        Request::UpdateNode(args) => node_update(store, args, rng),
        Request::PromoteNodes { nodes } => node_set_role(store, nodes, NodeRole::Manager, rng),
        Request::DemoteNodes { nodes } => node_set_role(store, nodes, NodeRole::Worker, rng),
        Request::RemoveNodes { nodes, force } => node_rm(store, nodes, *force),
        Request::RotateJoinToken { role } => rotate_token(store, *role, rng),
        Request::UpdateSwarm(args) => update_swarm(store, args),
        Request::CreateData { kind, spec } => data_create(store, *kind, spec, now, rng),
        Request::RemoveData { kind, names } => data_rm(store, *kind, names),
        other => Err(format!("not a write: {}", other.summary())),
    }
}

fn network_create(
    store: &Store,
    name: &str,
    driver: NetworkDriver,
    subnet: Option<Subnet>,
    (labels, attachable): (&BTreeMap<String, String>, bool),
    now: Instant,
    rng: &mut ChaCha8Rng,
) -> Result<Write, String> {
    if driver != NetworkDriver::Overlay {
        return Err(format!(
            "rpc error: code = InvalidArgument desc = network driver {} is not supported in swarm scope, use overlay",
            driver.as_str()
        ));
    }
    if store.network_by_name(name).is_some() || matches!(name, "bridge" | "host" | "none" | "docker_gwbridge") {
        return Err(format!("network with name {name} already exists"));
    }
    let subnet = match subnet {
        Some(s) => {
            if let Some(other) = store.networks.values().find(|n| n.subnet.map(|o| o.overlaps(&s)).unwrap_or(false)) {
                return Err(format!(
                    "invalid pool request: Pool overlaps with other one on this address space ({})",
                    other.name
                ));
            }
            s
        }
        None => Allocator::next_overlay_subnet(store)?,
    };
    let net = Network {
        labels: labels.clone(),
        attachable,
        id: NetworkId::generate(rng),
        name: name.to_string(),
        driver,
        scope: NetworkScope::Swarm,
        subnet: Some(subnet),
        ingress: false,
        created_at: now,
    };
    let response = Response::NetworkCreated { id: net.id.clone() };
    Ok(Write::new(vec![StoreAction::CreateNetwork(net)], response))
}

fn network_rm(store: &Store, names: &[String]) -> Result<Write, String> {
    let mut actions = Vec::new();
    for name in names {
        let net = store.lookup_network(name)?;
        if net.ingress {
            return Err("rpc error: code = PermissionDenied desc = ingress network cannot be removed".into());
        }
        if let Some(svc) = store.services.values().find(|s| s.spec.task.networks.contains(&net.id)) {
            return Err(format!(
                "rpc error: code = FailedPrecondition desc = network {} is in use by service {}",
                net.id, svc.id
            ));
        }
        actions.push(StoreAction::RemoveNetwork { id: net.id.clone() });
    }
    Ok(Write::new(actions, Response::Removed { names: names.to_vec() }))
}

fn resolve_networks(store: &Store, names: &[String]) -> Result<Vec<NetworkId>, String> {
    let mut ids = Vec::new();
    for name in names {
        let net = store.lookup_network(name).map_err(|_| format!("network {name} not found"))?;
        if net.scope != NetworkScope::Swarm {
            return Err(format!("network {name} is not a swarm-scoped network"));
        }
        if !ids.contains(&net.id) {
            ids.push(net.id.clone());
        }
    }
    Ok(ids)
}

fn check_ports_free(store: &Store, ports: &[PortConfig], except: Option<&ServiceId>) -> Result<(), String> {
    for p in ports.iter().filter(|p| p.mode == PublishMode::Ingress && p.published_port != 0) {
        for svc in store.services.values().filter(|s| Some(&s.id) != except) {
            let used = svc.spec.ports.iter().chain(svc.endpoint.iter().flat_map(|e| e.ports.iter()));
            if used.clone().any(|q| {
                q.mode == PublishMode::Ingress && q.published_port == p.published_port && q.protocol == p.protocol
            }) {
                return Err(format!(
                    "rpc error: code = InvalidArgument desc = port '{}' is already in use by service '{}' ({}) as an ingress port",
                    p.published_port, svc.spec.name, svc.id
                ));
            }
        }
    }
    Ok(())
}

fn service_create(
    store: &Store,
    args: &ServiceCreateArgs,
    now: Instant,
    rng: &mut ChaCha8Rng,
) -> Result<Write, String> {
    let id = ServiceId::generate(rng);
    let name = match &args.name {
        Some(n) => n.clone(),
        None => crate::names::random_service_name(rng),
    };
    if store.service_by_name(&name).is_some() {
        return Err(format!(
            "rpc error: code = AlreadyExists desc = name conflicts with an existing object: service {name} already exists"
        ));
    }
    let spec = spec_of(store, name, args)?;
    check_ports_free(store, &args.publish, None)?;
    let job_status = spec.mode.is_job().then_some(JobStatus { iteration: 0, last_execution: now });
    let svc = Service {
        id: id.clone(),
        spec,
        spec_version: 1,
        endpoint: None,
        created_at: now,
        updated_at: now,
        update_status: None,
        previous_spec: None,
        job_status,
    };
    Ok(Write::new(vec![StoreAction::CreateService(svc)], Response::ServiceCreated { id }))
}

/// The spec `service create` (or a stack deploy's whole-spec update) makes of its arguments.
fn spec_of(store: &Store, name: String, args: &ServiceCreateArgs) -> Result<ServiceSpec, String> {
    let networks = resolve_networks(store, &args.networks)?;
    let mut restart_policy = RestartPolicy::default();
    if let Some(c) = args.restart_condition {
        restart_policy.condition = c;
    }
    if let Some(d) = args.restart_delay {
        restart_policy.delay = d;
    }
    if let Some(m) = args.restart_max_attempts {
        restart_policy.max_attempts = m;
    }
    if let Some(w) = args.restart_window {
        restart_policy.window = w;
    }
    let mode = match (args.job, args.global) {
        (false, true) => ServiceMode::Global,
        (false, false) => ServiceMode::Replicated { replicas: args.replicas.unwrap_or(1) },
        (true, true) => ServiceMode::GlobalJob,
        (true, false) => {
            // docker's CLI: `--max-concurrent` defaults to `--replicas`; the API's defaults
            // for both unset are 1 (a total defaults to the concurrency, which defaults to 1).
            let total_completions = args.replicas.unwrap_or(1);
            ServiceMode::ReplicatedJob {
                max_concurrent: args.max_concurrent.unwrap_or(total_completions),
                total_completions,
            }
        }
    };
    if mode.is_job() && (!args.update.is_empty() || !args.rollback.is_empty()) {
        return Err("update and rollback configuration is not supported for jobs".into());
    }
    let mut spec = ServiceSpec {
        labels: args.labels.clone(),
        name,
        mode,
        task: TaskTemplate {
            image: args.image.clone(),
            command: args.command.clone(),
            env: args.env.clone(),
            constraints: args.constraints.clone(),
            reservations: args.reservations,
            restart_policy,
            networks,
            force_update: 0,
            healthcheck: args.health.to_config(),
            placement: Default::default(),
            secrets: resolve_references(store, DataKind::Secret, &args.references.secret_add)?,
            configs: resolve_references(store, DataKind::Config, &args.references.config_add)?,
        },
        ports: args.publish.clone(),
        update: args.update.apply(None),
        rollback: args.rollback.apply(None),
    };
    args.placement.apply(&mut spec.task);
    Ok(spec)
}

fn service_scale(store: &Store, scales: &[(String, u64)], now: Instant) -> Result<Write, String> {
    let mut actions = Vec::new();
    for (name, replicas) in scales {
        let svc = store.lookup_service(name)?;
        let mut spec = svc.spec.clone();
        spec.mode = match spec.mode {
            ServiceMode::Replicated { .. } => ServiceMode::Replicated { replicas: *replicas },
            // docker 20.10's CLI scales a replicated job's total of completions (a new
            // iteration of the job, as every update of one).
            ServiceMode::ReplicatedJob { max_concurrent, .. } => {
                ServiceMode::ReplicatedJob { max_concurrent, total_completions: *replicas }
            }
            ServiceMode::GlobalJob => {
                return Err(format!("{name}: scale can only be used with replicated or replicated-job mode"));
            }
            ServiceMode::Global => return Err(format!("{name}: scale can only be used with replicated mode")),
        };
        actions.push(StoreAction::UpdateServiceSpec { id: svc.id.clone(), spec, at: now });
    }
    Ok(Write::new(actions, Response::ServicesScaled { scales: scales.to_vec() }))
}

fn service_update(store: &Store, args: &ServiceUpdateArgs, now: Instant) -> Result<Write, String> {
    let svc = store.lookup_service(&args.service)?;
    if args.rollback_to_previous {
        return service_rollback(svc, args, now);
    }
    if let Some(replace) = &args.replace {
        return service_replace(store, svc, args, replace, now);
    }
    let mut spec = svc.spec.clone();
    if let Some(r) = args.replicas {
        if spec.replicas().is_none() {
            return Err("replicas can only be used with replicated mode".into());
        }
        spec.mode = ServiceMode::Replicated { replicas: r };
    }
    if let Some(image) = &args.image {
        spec.task.image = image.clone();
    }
    if args.force {
        spec.task.force_update += 1;
    }
    spec.task.constraints.retain(|c| !args.constraint_rm.iter().any(|r| *r == c.to_string()));
    spec.task.constraints.extend(args.constraint_add.iter().cloned());
    spec.task.env.retain(|e| !args.env_rm.iter().any(|k| e.split('=').next() == Some(k.as_str())));
    for e in &args.env_add {
        let key = e.split('=').next().unwrap_or("");
        spec.task.env.retain(|old| old.split('=').next() != Some(key));
        spec.task.env.push(e.clone());
    }
    spec.ports.retain(|p| !args.publish_rm.contains(&p.target_port));
    check_ports_free(store, &args.publish_add, Some(&svc.id))?;
    spec.ports.extend(args.publish_add.iter().copied());
    let removed = resolve_networks(store, &args.network_rm)?;
    spec.task.networks.retain(|n| !removed.contains(n));
    for n in resolve_networks(store, &args.network_add)? {
        if !spec.task.networks.contains(&n) {
            spec.task.networks.push(n);
        }
    }
    if let Some(r) = args.reservations {
        spec.task.reservations = r;
    }
    if let Some(c) = args.restart_condition {
        spec.task.restart_policy.condition = c;
    }
    if let Some(d) = args.restart_delay {
        spec.task.restart_policy.delay = d;
    }
    if let Some(m) = args.restart_max_attempts {
        spec.task.restart_policy.max_attempts = m;
    }
    args.health.update(&mut spec.task);
    args.placement.apply(&mut spec.task);
    if let Some(w) = args.restart_window {
        spec.task.restart_policy.window = w;
    }
    spec.update = args.update.apply(spec.update);
    spec.rollback = args.rollback.apply(spec.rollback);
    let refs = &args.references;
    update_references(store, DataKind::Secret, &mut spec.task.secrets, &refs.secret_rm, &refs.secret_add)?;
    update_references(store, DataKind::Config, &mut spec.task.configs, &refs.config_rm, &refs.config_add)?;
    let response = Response::ServiceUpdated { service: args.service.clone() };
    Ok(Write::new(vec![StoreAction::UpdateServiceSpec { id: svc.id.clone(), spec, at: now }], response))
}

/// A stack deploy's update: the whole spec made anew from the compose file, under the
/// service's own name, keeping `force_update` (docker's CLI keeps `ForceUpdate`) so a
/// redeploy of an unchanged file replaces no task.
fn service_replace(
    store: &Store,
    svc: &Service,
    args: &ServiceUpdateArgs,
    replace: &ServiceCreateArgs,
    now: Instant,
) -> Result<Write, String> {
    let mut spec = spec_of(store, svc.spec.name.clone(), replace)?;
    if spec.replicas().is_some() != svc.spec.replicas().is_some() {
        return Err("rpc error: code = Unimplemented desc = service mode change is not allowed".into());
    }
    check_ports_free(store, &replace.publish, Some(&svc.id))?;
    spec.task.force_update = svc.spec.task.force_update;
    let response = Response::ServiceUpdated { service: args.service.clone() };
    Ok(Write::new(vec![StoreAction::UpdateServiceSpec { id: svc.id.clone(), spec, at: now }], response))
}

/// `service rollback` / `service update --rollback`: the previous spec comes back and the
/// updater rolls the tasks to it with the rollback settings (swarmkit's controlapi
/// UpdateService with `Rollback: PREVIOUS`).
fn service_rollback(svc: &Service, args: &ServiceUpdateArgs, now: Instant) -> Result<Write, String> {
    if svc.previous_spec.is_none() {
        return Err(format!(
            "rpc error: code = FailedPrecondition desc = service {} does not have a previous spec",
            svc.id
        ));
    }
    let status = UpdateStatus {
        state: UpdateState::RollbackStarted,
        started_at: Some(now),
        completed_at: None,
        message: "manually requested rollback".into(),
    };
    let action = StoreAction::RollbackServiceSpec { id: svc.id.clone(), status, keep_previous: true, at: now };
    Ok(Write::new(vec![action], Response::ServiceUpdated { service: args.service.clone() }))
}

fn service_rm(store: &Store, names: &[String]) -> Result<Write, String> {
    let mut actions = Vec::new();
    for name in names {
        let svc = store.lookup_service(name)?;
        actions.push(StoreAction::RemoveService { id: svc.id.clone() });
    }
    Ok(Write::new(actions, Response::Removed { names: names.to_vec() }))
}

fn node_update(store: &Store, args: &NodeUpdateArgs, rng: &mut ChaCha8Rng) -> Result<Write, String> {
    let node = store.lookup_node(&args.node)?;
    let mut actions = Vec::new();
    if let Some(a) = args.availability {
        actions.push(StoreAction::SetNodeAvailability { id: node.id.clone(), availability: a });
    }
    for (k, v) in &args.label_add {
        actions.push(StoreAction::SetNodeLabel { id: node.id.clone(), key: k.clone(), value: Some(v.clone()) });
    }
    for k in &args.label_rm {
        actions.push(StoreAction::SetNodeLabel { id: node.id.clone(), key: k.clone(), value: None });
    }
    let mut write = Write::new(actions, Response::NodeUpdated { node: args.node.clone() });
    if let Some(role) = args.role {
        let role_write = node_set_role(store, std::slice::from_ref(&args.node), role, rng)?;
        write.actions.extend(role_write.actions);
        write.remove_raft_member = role_write.remove_raft_member;
        write.add_raft_members = role_write.add_raft_members;
    }
    Ok(write)
}

fn node_set_role(store: &Store, names: &[String], role: NodeRole, rng: &mut ChaCha8Rng) -> Result<Write, String> {
    let mut actions = Vec::new();
    let mut changes = Vec::new();
    let mut remove_raft_member = None;
    let mut add_raft_members = Vec::new();
    for name in names {
        let node = store.lookup_node(name)?;
        if node.spec.role == role {
            changes.push(RoleChange { node_id: node.id.clone(), role, changed: false });
            continue;
        }
        match role {
            NodeRole::Manager => {
                // A new Raft member: the node starts its manager when the leader's first Raft
                // message reaches it (see `Node::on_message`), as a joining manager does.
                let raft_id = loop {
                    let id: u64 = rand::Rng::gen(rng);
                    let taken = store.nodes.values().any(|n| n.manager_status.as_ref().map(|m| m.raft_id) == Some(id))
                        || add_raft_members.iter().any(|(a, _)| *a == id);
                    if id != 0 && !taken {
                        break id;
                    }
                };
                // Set from the node's join request when its record was made.
                let ip = node.status.addr.parse().map_err(|_| format!("node {name} has no address to reach it at"))?;
                let addr = crate::addr::Addr::on_cluster_port(ip);
                actions.push(StoreAction::SetManagerStatus {
                    id: node.id.clone(),
                    manager_status: Some(ManagerStatus { raft_id, addr, reachable: true }),
                });
                add_raft_members.push((raft_id, addr));
            }
            NodeRole::Worker => {
                let managers = store.nodes.values().filter(|n| n.spec.role == NodeRole::Manager).count();
                if managers <= 1 {
                    return Err("rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm".into());
                }
                let reachable = store
                    .nodes
                    .values()
                    .filter(|n| n.spec.role == NodeRole::Manager && n.status.state == NodeState::Ready)
                    .count();
                // Removing a voter shrinks the quorum: refuse when the rest could not form one.
                if reachable - usize::from(node.status.state == NodeState::Ready) <= (managers - 1) / 2 {
                    return Err("rpc error: code = FailedPrecondition desc = can't remove member from the raft: this would result in a loss of quorum".into());
                }
                remove_raft_member = node.manager_status.as_ref().map(|m| m.raft_id);
            }
        }
        changes.push(RoleChange { node_id: node.id.clone(), role, changed: true });
        actions.push(StoreAction::SetNodeRole { id: node.id.clone(), role });
    }
    let response = Response::RolesChanged(changes);
    Ok(Write { actions, response, remove_raft_member, add_raft_members })
}

fn node_rm(store: &Store, names: &[String], force: bool) -> Result<Write, String> {
    let mut actions = Vec::new();
    for name in names {
        let node = store.lookup_node(name)?;
        if node.spec.role == NodeRole::Manager {
            return Err(format!(
                "rpc error: code = FailedPrecondition desc = node {} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal",
                node.id
            ));
        }
        if node.status.state != NodeState::Down && !force {
            return Err(format!(
                "rpc error: code = FailedPrecondition desc = node {} is not down and can't be removed",
                node.id
            ));
        }
        actions.push(StoreAction::RemoveNode { id: node.id.clone() });
    }
    Ok(Write::new(actions, Response::Removed { names: names.to_vec() }))
}

/// `swarm update`: the cluster record with the given settings, checked as swarmkit's
/// `validateClusterSpec` does; replicated like every write, so a new leader keeps them.
fn update_swarm(store: &Store, args: &crate::control::SwarmUpdateArgs) -> Result<Write, String> {
    let mut cluster = store.cluster.clone().ok_or("This node is not a swarm manager.")?;
    if args.autolock == Some(true) {
        return Err("swarmsim does not support autolock: its Raft logs are not encrypted, so there is no unlock key to protect (`--autolock` is refused)".into());
    }
    if let Some(expiry) = args.node_cert_expiry {
        if expiry < MIN_NODE_CERT_EXPIRY {
            return Err("rpc error: code = InvalidArgument desc = minimum certificate expiry time is: 1h0m0s".into());
        }
        cluster.node_cert_expiry = expiry;
    }
    if let Some(limit) = args.task_history_limit {
        cluster.task_history_limit = limit as usize;
    }
    if let Some(period) = args.dispatcher_heartbeat {
        // A zero period is swarmkit's "use the default".
        cluster.dispatcher_heartbeat = if period.is_zero() { DEFAULT_DISPATCHER_HEARTBEAT } else { period };
    }
    Ok(Write::new(vec![StoreAction::SetCluster(cluster)], Response::SwarmUpdated))
}

fn rotate_token(store: &Store, role: NodeRole, rng: &mut ChaCha8Rng) -> Result<Write, String> {
    let mut cluster = store.cluster.clone().ok_or("This node is not a swarm manager.")?;
    let token = crate::tokens::new_join_token(&cluster.ca_digest, rng);
    match role {
        NodeRole::Worker => cluster.worker_token = token.clone(),
        NodeRole::Manager => cluster.manager_token = token.clone(),
    }
    // The address is the leader's own; the node the client asked puts its own in
    // (`Node::on_message`, a forwarded reply).
    let manager_addr = Addr::on_cluster_port(core::net::Ipv4Addr::UNSPECIFIED);
    Ok(Write::new(vec![StoreAction::SetCluster(cluster)], Response::JoinTokenRotated { role, token, manager_addr }))
}

#[cfg(test)]
#[path = "control_tests.rs"]
mod tests;

// ---------------------------------------------------------------------------------------------
// Secrets and configs (swarmkit's controlapi/secret.go and config.go).

/// swarmkit's `validateConfigOrSecretAnnotations`: 1 to 64 of `[a-zA-Z0-9-_.]`, starting and
/// ending with a letter or digit.
fn valid_data_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("rpc error: code = InvalidArgument desc = name must be provided".into());
    }
    let alnum = |c: char| c.is_ascii_alphanumeric();
    let ok = name.len() <= 64
        && name.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.'))
        && name.starts_with(alnum)
        && name.ends_with(alnum);
    if ok {
        Ok(())
    } else {
        Err("rpc error: code = InvalidArgument desc = invalid name, only 64 [a-zA-Z0-9-_.] characters allowed, and the start and end character must be [a-zA-Z0-9]".into())
    }
}

fn data_create(
    store: &Store,
    kind: DataKind,
    spec: &DataSpec,
    now: Instant,
    rng: &mut ChaCha8Rng,
) -> Result<Write, String> {
    valid_data_name(&spec.name)?;
    let size = spec.data.len();
    if size == 0 || size >= crate::api::secret::MAX_DATA_SIZE {
        return Err(format!(
            "rpc error: code = InvalidArgument desc = {} data must be larger than 0 and less than {} bytes",
            kind.as_str(),
            crate::api::secret::MAX_DATA_SIZE
        ));
    }
    if store.data_objects(kind).values().any(|d| d.spec.name == spec.name) {
        return Err(format!("rpc error: code = AlreadyExists desc = {} {} already exists", kind.as_str(), spec.name));
    }
    let object = DataObject {
        kind,
        id: DataId::generate(rng),
        spec: spec.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let response = Response::DataCreated { kind, id: object.id.clone() };
    Ok(Write::new(vec![StoreAction::CreateData(object)], response))
}

/// Each name on its own, as docker's CLI removes them one by one: dockerd looks it up (ID,
/// name, ID prefix) and swarmkit refuses one a service uses; the others go.
fn data_rm(store: &Store, kind: DataKind, names: &[String]) -> Result<Write, String> {
    let mut actions = Vec::new();
    let (mut removed, mut refused) = (Vec::new(), Vec::new());
    for name in names {
        let Some(object) = store.lookup_data(kind, name) else {
            refused.push(not_found(kind, name));
            continue;
        };
        let users = store.services_using(kind, &object.id);
        if !users.is_empty() {
            let names: Vec<&str> = users.iter().map(|s| s.spec.name.as_str()).collect();
            refused.push(format!(
                "rpc error: code = InvalidArgument desc = {} '{}' is in use by the following {}: {}",
                kind.as_str(),
                object.spec.name,
                if names.len() == 1 { "service" } else { "services" },
                names.join(", ")
            ));
            continue;
        }
        let action = StoreAction::RemoveData { kind, id: object.id.clone() };
        if !actions.contains(&action) {
            actions.push(action);
        }
        removed.push(name.clone());
    }
    Ok(Write::new(actions, Response::DataRemoved { kind, removed, refused }))
}

/// docker's client turns dockerd's 404 for a secret or config into `Error: No such secret:
/// NAME` (its `objectNotFoundError`).
pub fn not_found(kind: DataKind, name: &str) -> String {
    crate::control::errors::client_side(format!("Error: No such {}: {name}", kind.as_str()))
}

/// `--secret`/`--config` names resolved to IDs, as docker's CLI does before it sends the spec
/// (cli/command/service/parse.go: one target once, every name found).
fn resolve_references(store: &Store, kind: DataKind, args: &[DataReferenceArg]) -> Result<Vec<DataReference>, String> {
    let mut refs: Vec<DataReference> = Vec::new();
    for arg in args {
        if refs.iter().any(|r| r.target == arg.target) {
            return Err(crate::control::errors::client_side(format!(
                "duplicate {} target for {} not allowed",
                kind.as_str(),
                arg.source
            )));
        }
        let Some(object) = store.data_objects(kind).values().find(|d| d.spec.name == arg.source) else {
            return Err(crate::control::errors::client_side(format!("{} not found: {}", kind.as_str(), arg.source)));
        };
        refs.push(DataReference {
            id: object.id.clone(),
            name: arg.source.clone(),
            target: arg.target.clone(),
            uid: arg.uid.clone(),
            gid: arg.gid.clone(),
            mode: arg.mode,
        });
    }
    Ok(refs)
}

/// `--secret-rm NAME` then `--secret-add`, as docker/cli's `getUpdatedSecrets`: a removed name
/// drops every reference to that secret; added ones are appended, and swarmkit refuses two
/// references with one target (controlapi/service.go `validateSecretRefsSpec`).
fn update_references(
    store: &Store,
    kind: DataKind,
    refs: &mut Vec<DataReference>,
    rm: &[String],
    add: &[DataReferenceArg],
) -> Result<(), String> {
    refs.retain(|r| !rm.contains(&r.name));
    for new in resolve_references(store, kind, add)? {
        if let Some(old) = refs.iter().find(|r| r.target == new.target) {
            return Err(format!(
                "rpc error: code = InvalidArgument desc = {} references '{}' and '{}' have a conflicting target: '{}'",
                kind.as_str(),
                old.name,
                new.name,
                new.target
            ));
        }
        refs.push(new);
    }
    Ok(())
}
