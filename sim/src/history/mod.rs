//! The history checker: what the workload's clients were told, against what the cluster kept.
//! Run after the heal, once the cluster converged (`runner::run_chaos`). It checks:
//!
//! - (a) every acknowledged `service create` / `network create` is in the final state exactly
//!   once, unless a removal of it may have happened (no lost write, no write applied twice);
//! - (b) a write that failed with a definite error left no trace: its object or its value
//!   (every created name and every written image tag or label value is unique to one call) is
//!   seen by no read and is absent from the final state;
//! - (c) the calls on each object (a service's existence, replicas and image; a network's
//!   existence; one label of one node) are linearizable against a sequential model, the final
//!   state counting as a last read (`linear.rs`, checked object by object);
//! - (d) reads never go back in time on the host that answered them: a read invoked after
//!   another read on the same host completed shows no older `spec_version` of a service.
//!
//! The first violation found is reported with the calls around it.

pub mod linear;

use crate::workload::{HistoryEntry, Op, Outcome};
use linear::{Call, Model, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use swarm_core::api::{Network, Node, Service, ServiceMode};
use swarm_core::control::Response;
use swarm_core::store::Store;
use swarm_core::time::Instant;

/// The label keys the workload writes.
pub const LABEL_KEYS: [&str; 2] = ["wl-a", "wl-b"];

/// What the cluster kept, read from the leader's store after convergence.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FinalState {
    pub at: Instant,
    /// Every service by name (more than one: a name applied twice).
    pub services: BTreeMap<String, Vec<ServiceValue>>,
    /// How many networks carry each name.
    pub networks: BTreeMap<String, usize>,
    /// (hostname, key) → value of the workload's label keys.
    pub labels: BTreeMap<(String, String), String>,
}

/// A service as the model sees it: its replica count and its image's tag.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ServiceValue {
    pub replicas: u64,
    pub image: String,
}

impl FinalState {
    pub fn of(store: &Store, at: Instant) -> FinalState {
        FinalState::of_objects(at, store.services.values(), store.networks.values(), store.nodes.values())
    }

    /// The same from objects however they were read: a store, or a live cluster's answers to
    /// `service ls`, `network ls` and `node ls` (swarmsim-live reads a real swarmd so).
    pub fn of_objects<'a>(
        at: Instant,
        services: impl IntoIterator<Item = &'a Service>,
        networks: impl IntoIterator<Item = &'a Network>,
        nodes: impl IntoIterator<Item = &'a Node>,
    ) -> FinalState {
        let mut state = FinalState { at, ..Default::default() };
        for service in services {
            let replicas = match service.spec.mode {
                ServiceMode::Replicated { replicas } => replicas,
                _ => 0,
            };
            let value = ServiceValue { replicas, image: image_tag(&service.spec.task.image) };
            state.services.entry(service.spec.name.clone()).or_default().push(value);
        }
        for network in networks {
            *state.networks.entry(network.name.clone()).or_default() += 1;
        }
        for node in nodes {
            for key in LABEL_KEYS {
                if let Some(value) = node.spec.labels.get(key) {
                    state.labels.insert((node.description.hostname.clone(), key.to_string()), value.clone());
                }
            }
        }
        state
    }
}

/// The tag of an image reference (`busybox:wl-17@sha256:…` → `wl-17`): unique per call.
pub fn image_tag(image: &str) -> String {
    let without_digest = image.split('@').next().unwrap_or(image);
    match without_digest.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') => tag.to_string(),
        _ => "latest".to_string(),
    }
}

/// The objects calls act on; each is checked alone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Object {
    Service(String),
    Network(String),
    Label { node: String, key: String },
}

impl std::fmt::Display for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Object::Service(name) => write!(f, "service {name}"),
            Object::Network(name) => write!(f, "network {name}"),
            Object::Label { node, key } => write!(f, "label {key} of node {node}"),
        }
    }
}

/// What a call does to one object, or what it saw of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjOp {
    Create(ServiceValue),
    Remove,
    SetReplicas(u64),
    SetImage(String),
    /// A label (or a network's existence, as an empty value) written whatever was there.
    Set(String),
    /// A read: absent, or present with the fields the reply shows.
    Read(Seen),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Absent,
    Present { replicas: Option<u64>, image: Option<String>, value: Option<String> },
}

/// The sequential specification of every object: absent, or a value.
pub struct ObjectModel;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjState {
    Absent,
    Service(ServiceValue),
    Value(String),
}

impl Model for ObjectModel {
    type State = ObjState;
    type Op = ObjOp;

    fn init(&self) -> ObjState {
        ObjState::Absent
    }

    fn step(&self, state: &ObjState, op: &ObjOp) -> Option<ObjState> {
        match (op, state) {
            (ObjOp::Create(v), ObjState::Absent) => Some(ObjState::Service(v.clone())),
            (ObjOp::Create(_), _) => None,
            (ObjOp::Remove, ObjState::Absent) => None,
            (ObjOp::Remove, _) => Some(ObjState::Absent),
            (ObjOp::SetReplicas(r), ObjState::Service(v)) => {
                Some(ObjState::Service(ServiceValue { replicas: *r, image: v.image.clone() }))
            }
            (ObjOp::SetImage(i), ObjState::Service(v)) => {
                Some(ObjState::Service(ServiceValue { replicas: v.replicas, image: i.clone() }))
            }
            (ObjOp::SetReplicas(_) | ObjOp::SetImage(_), _) => None,
            (ObjOp::Set(value), _) => Some(ObjState::Value(value.clone())),
            (ObjOp::Read(Seen::Absent), ObjState::Absent) => Some(state.clone()),
            (ObjOp::Read(Seen::Absent), _) => None,
            (ObjOp::Read(Seen::Present { .. }), ObjState::Absent) => None,
            (ObjOp::Read(Seen::Present { replicas, image, value }), _) => {
                let fits = match state {
                    ObjState::Service(v) => {
                        replicas.is_none_or(|r| r == v.replicas) && image.as_ref().is_none_or(|i| *i == v.image)
                    }
                    ObjState::Value(current) => value.as_ref().is_none_or(|x| x == current),
                    ObjState::Absent => false,
                };
                fits.then(|| state.clone())
            }
        }
    }
}

/// A violation: what broke, and the calls that show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// One line: `history: ...`.
    pub summary: String,
    /// The calls involved, by entry id.
    pub calls: Vec<u64>,
    /// The object, when the violation is about one.
    pub object: Option<Object>,
}

impl Violation {
    /// The summary, then the calls on the object and the history around them.
    pub fn report(&self, history: &[HistoryEntry]) -> String {
        let mut out = self.summary.clone();
        let involved: BTreeSet<u64> = self.calls.iter().copied().collect();
        let on_object: Vec<&HistoryEntry> = history
            .iter()
            .filter(|e| involved.contains(&e.id) || self.object.as_ref().is_some_and(|o| touches(e, o)))
            .collect();
        let _ = writeln!(out, "\ncalls involved ({}):", on_object.len());
        for e in on_object.iter().take(40) {
            let mark = if involved.contains(&e.id) { "*" } else { " " };
            let _ = writeln!(out, " {mark} {}", e.describe());
        }
        if let (Some(first), Some(last)) =
            (on_object.iter().map(|e| e.invoked).min(), on_object.iter().map(|e| e.completed).max())
        {
            let around: Vec<&HistoryEntry> =
                history.iter().filter(|e| e.completed >= first && e.invoked <= last && e.op.is_write()).collect();
            let _ = writeln!(out, "writes of other calls in that time ({}, the first 20):", around.len());
            for e in around.iter().take(20) {
                let _ = writeln!(out, "   {}", e.describe());
            }
        }
        out
    }
}

fn touches(entry: &HistoryEntry, object: &Object) -> bool {
    objects_written(&entry.op).iter().any(|o| o == object)
        || match (&entry.op, object) {
            (Op::InspectService { name } | Op::PsService { name }, Object::Service(n)) => name == n,
            _ => false,
        }
}

/// The object a write acts on.
fn objects_written(op: &Op) -> Vec<Object> {
    match op {
        Op::CreateService { name, .. }
        | Op::UpdateImage { name, .. }
        | Op::Scale { name, .. }
        | Op::RemoveService { name } => vec![Object::Service(name.clone())],
        Op::LabelNode { node, key, .. } => vec![Object::Label { node: node.clone(), key: key.clone() }],
        Op::CreateNetwork { name } | Op::RemoveNetwork { name } => vec![Object::Network(name.clone())],
        _ => vec![],
    }
}

/// Searched states per object before it is reported unchecked.
const BUDGET: usize = linear::DEFAULT_BUDGET;

/// What the check found besides violations.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckStats {
    pub objects: usize,
    pub unchecked: Vec<String>,
}

/// Checks a history against the final state; the first violation, if any.
pub fn check(history: &[HistoryEntry], end: &FinalState) -> Result<CheckStats, Violation> {
    exactly_once(history, end)?;
    no_trace_of_failures(history, end)?;
    monotonic_reads(history)?;
    let per_object = calls_per_object(history, end);
    let mut stats = CheckStats { objects: per_object.len(), unchecked: Vec::new() };
    for (object, calls) in &per_object {
        match linear::check(&ObjectModel, calls, BUDGET) {
            Verdict::Linearizable => {}
            Verdict::Unchecked(why) => stats.unchecked.push(format!("{object}: {why}")),
            Verdict::Violation { until, calls } => {
                let until = if until == u64::MAX { "the end".to_string() } else { Instant(until).to_string() };
                return Err(Violation {
                    summary: format!(
                        "history: the calls on {object} are not linearizable; the shortest window that is not \
                         ends at {until} ({} calls)",
                        calls.len()
                    ),
                    calls: calls.into_iter().filter(|c| *c != FINAL_READ).collect(),
                    object: Some(object.clone()),
                });
            }
        }
    }
    Ok(stats)
}

/// The entry id the final state's read carries.
const FINAL_READ: u64 = u64::MAX;

/// (a): an acknowledged create is in the final state once, unless a removal may have run.
fn exactly_once(history: &[HistoryEntry], end: &FinalState) -> Result<(), Violation> {
    let removal_may_have_run = |object: &Object| {
        history.iter().any(|e| {
            !matches!(e.outcome, Outcome::Failed(_))
                && match (&e.op, object) {
                    (Op::RemoveService { name }, Object::Service(n))
                    | (Op::RemoveNetwork { name }, Object::Network(n)) => name == n,
                    _ => false,
                }
        })
    };
    for e in history {
        let (object, count) = match &e.op {
            Op::CreateService { name, .. } => {
                (Object::Service(name.clone()), end.services.get(name).map_or(0, |v| v.len()))
            }
            Op::CreateNetwork { name } => (Object::Network(name.clone()), end.networks.get(name).copied().unwrap_or(0)),
            _ => continue,
        };
        if count > 1 {
            return Err(Violation {
                summary: format!(
                    "history: {object} exists {count} times in the final state, made by one call: op#{}",
                    e.id
                ),
                calls: vec![e.id],
                object: Some(object),
            });
        }
        if e.outcome.is_ok() && count == 0 && !removal_may_have_run(&object) {
            return Err(Violation {
                summary: format!(
                    "history: acknowledged write lost: op#{} `{}` answered ok at {} on {}, but {object} is not in the \
                     final state and nothing removed it",
                    e.id,
                    e.op.command(),
                    e.completed,
                    e.host
                ),
                calls: vec![e.id],
                object: Some(object),
            });
        }
    }
    Ok(())
}

/// (b): a definitely failed write's unique name or value is seen nowhere.
fn no_trace_of_failures(history: &[HistoryEntry], end: &FinalState) -> Result<(), Violation> {
    let mut seen_tags: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen_names: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen_values: BTreeMap<String, u64> = BTreeMap::new();
    for e in history {
        match &e.outcome {
            Outcome::Ok(Response::Services(views)) => {
                for v in views {
                    seen_names.entry(v.service.spec.name.clone()).or_insert(e.id);
                    seen_tags.entry(image_tag(&v.service.spec.task.image)).or_insert(e.id);
                }
            }
            Outcome::Ok(Response::Nodes(views)) => {
                for v in views {
                    for key in LABEL_KEYS {
                        if let Some(value) = v.node.spec.labels.get(key) {
                            seen_values.entry(value.clone()).or_insert(e.id);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for (name, values) in &end.services {
        seen_names.entry(name.clone()).or_insert(FINAL_READ);
        for v in values {
            seen_tags.entry(v.image.clone()).or_insert(FINAL_READ);
        }
    }
    for name in end.networks.keys() {
        seen_names.entry(name.clone()).or_insert(FINAL_READ);
    }
    for value in end.labels.values() {
        seen_values.entry(value.clone()).or_insert(FINAL_READ);
    }
    for e in history.iter().filter(|e| matches!(e.outcome, Outcome::Failed(_))) {
        let trace = match &e.op {
            Op::CreateService { name, .. } | Op::CreateNetwork { name } => seen_names.get(name),
            Op::UpdateImage { image, .. } => seen_tags.get(&image_tag(image)),
            Op::LabelNode { value, .. } => seen_values.get(value),
            _ => None,
        };
        if let Some(by) = trace {
            let where_ = if *by == FINAL_READ { "the final state".to_string() } else { format!("read op#{by}") };
            return Err(Violation {
                summary: format!(
                    "history: a write that failed left a trace: op#{} `{}` failed at {} on {} ({}), but {where_} shows \
                     its effect",
                    e.id,
                    e.op.command(),
                    e.completed,
                    e.host,
                    e.outcome.summary()
                ),
                calls: [e.id].into_iter().chain((*by != FINAL_READ).then_some(*by)).collect(),
                object: objects_written(&e.op).into_iter().next(),
            });
        }
    }
    Ok(())
}

/// (d): on each host, a read never shows an older version of a service than a read that
/// completed there before it was invoked.
fn monotonic_reads(history: &[HistoryEntry]) -> Result<(), Violation> {
    // host → reads (invoked, completed, id, service id → (name, version)).
    type Versions = BTreeMap<String, (String, u64)>;
    let mut reads: BTreeMap<&str, Vec<(Instant, Instant, u64, Versions)>> = BTreeMap::new();
    for e in history {
        if let Outcome::Ok(Response::Services(views)) = &e.outcome {
            let versions = views
                .iter()
                .map(|v| (v.service.id.0.clone(), (v.service.spec.name.clone(), v.service.spec_version)))
                .collect();
            reads.entry(e.host.as_str()).or_default().push((e.invoked, e.completed, e.id, versions));
        }
    }
    for (host, reads) in &reads {
        for later in reads {
            for earlier in reads.iter().filter(|r| r.1 < later.0) {
                for (id, (name, version)) in &later.3 {
                    if let Some((_, before)) = earlier.3.get(id) {
                        if version < before {
                            return Err(Violation {
                                summary: format!(
                                    "history: a read went back in time on {host}: op#{} saw service {name} at version \
                                     {version} after op#{} had seen version {before} there",
                                    later.2, earlier.2
                                ),
                                calls: vec![earlier.2, later.2],
                                object: Some(Object::Service(name.clone())),
                            });
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Whether a failed call's error says its object does not exist (a read of its absence).
fn says_absent(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Failed(e) if e.contains("not found") || e.contains("No such"))
}

/// Every object's calls for the linearizability search, the final state as a last read.
fn calls_per_object(history: &[HistoryEntry], end: &FinalState) -> BTreeMap<Object, Vec<Call<ObjOp>>> {
    let mut per: BTreeMap<Object, Vec<Call<ObjOp>>> = BTreeMap::new();
    let mut push = |object: Object, e: &HistoryEntry, op: ObjOp| {
        let complete = if e.outcome.is_unknown() { None } else { Some(e.completed.as_millis()) };
        per.entry(object).or_default().push(Call { entry: e.id, invoke: e.invoked.as_millis(), complete, op });
    };
    // Services whose create was invoked before a time: a listing speaks for those only.
    let creates: Vec<(Instant, String)> = history
        .iter()
        .filter_map(|e| match &e.op {
            Op::CreateService { name, .. } => Some((e.invoked, name.clone())),
            _ => None,
        })
        .collect();
    let label_objects: BTreeSet<(String, String)> = history
        .iter()
        .filter_map(|e| match &e.op {
            Op::LabelNode { node, key, .. } => Some((node.clone(), key.clone())),
            _ => None,
        })
        .collect();
    for e in history {
        let counts = !matches!(e.outcome, Outcome::Failed(_));
        match &e.op {
            Op::CreateService { name, replicas, image } if counts => push(
                Object::Service(name.clone()),
                e,
                ObjOp::Create(ServiceValue { replicas: *replicas, image: image_tag(image) }),
            ),
            Op::UpdateImage { name, image } if counts => {
                push(Object::Service(name.clone()), e, ObjOp::SetImage(image_tag(image)))
            }
            Op::Scale { name, replicas } if counts => {
                push(Object::Service(name.clone()), e, ObjOp::SetReplicas(*replicas))
            }
            Op::RemoveService { name } if counts => push(Object::Service(name.clone()), e, ObjOp::Remove),
            Op::UpdateImage { name, .. } | Op::Scale { name, .. } | Op::RemoveService { name }
                if says_absent(&e.outcome) =>
            {
                push(Object::Service(name.clone()), e, ObjOp::Read(Seen::Absent))
            }
            Op::LabelNode { node, key, value } if counts => {
                push(Object::Label { node: node.clone(), key: key.clone() }, e, ObjOp::Set(value.clone()))
            }
            Op::CreateNetwork { name } if counts => push(Object::Network(name.clone()), e, ObjOp::Set(String::new())),
            Op::RemoveNetwork { name } if counts => push(Object::Network(name.clone()), e, ObjOp::Remove),
            Op::RemoveNetwork { name } if says_absent(&e.outcome) => {
                push(Object::Network(name.clone()), e, ObjOp::Read(Seen::Absent))
            }
            Op::InspectService { name } | Op::PsService { name } => match &e.outcome {
                Outcome::Ok(Response::Services(views)) => {
                    let seen = match views.iter().find(|v| &v.service.spec.name == name) {
                        Some(v) => seen_service(v),
                        None => Seen::Absent,
                    };
                    push(Object::Service(name.clone()), e, ObjOp::Read(seen));
                }
                Outcome::Ok(_) => push(
                    Object::Service(name.clone()),
                    e,
                    ObjOp::Read(Seen::Present { replicas: None, image: None, value: None }),
                ),
                o if says_absent(o) => push(Object::Service(name.clone()), e, ObjOp::Read(Seen::Absent)),
                _ => {}
            },
            Op::ListServices => {
                if let Outcome::Ok(Response::Services(views)) = &e.outcome {
                    for (_, name) in creates.iter().filter(|(at, _)| *at <= e.completed) {
                        let seen = match views.iter().find(|v| &v.service.spec.name == name) {
                            Some(v) => seen_service(v),
                            None => Seen::Absent,
                        };
                        push(Object::Service(name.clone()), e, ObjOp::Read(seen));
                    }
                }
            }
            Op::ListNodes => {
                if let Outcome::Ok(Response::Nodes(views)) = &e.outcome {
                    for (node, key) in &label_objects {
                        let Some(view) = views.iter().find(|v| &v.node.description.hostname == node) else { continue };
                        let seen = match view.node.spec.labels.get(key) {
                            Some(value) => Seen::Present { replicas: None, image: None, value: Some(value.clone()) },
                            None => Seen::Absent,
                        };
                        push(Object::Label { node: node.clone(), key: key.clone() }, e, ObjOp::Read(seen));
                    }
                }
            }
            _ => {}
        }
    }
    // The final state: a read after everything (unknown calls may still land before it).
    let at = end.at.as_millis();
    let objects: Vec<Object> = per.keys().cloned().collect();
    for object in objects {
        let seen = match &object {
            Object::Service(name) => match end.services.get(name).and_then(|v| v.first()) {
                Some(v) => Seen::Present { replicas: Some(v.replicas), image: Some(v.image.clone()), value: None },
                None => Seen::Absent,
            },
            Object::Network(name) => match end.networks.get(name) {
                Some(_) => Seen::Present { replicas: None, image: None, value: Some(String::new()) },
                None => Seen::Absent,
            },
            Object::Label { node, key } => match end.labels.get(&(node.clone(), key.clone())) {
                Some(value) => Seen::Present { replicas: None, image: None, value: Some(value.clone()) },
                None => Seen::Absent,
            },
        };
        per.get_mut(&object).expect("listed").push(Call {
            entry: FINAL_READ,
            invoke: at,
            complete: Some(at + 1),
            op: ObjOp::Read(seen),
        });
    }
    per
}

fn seen_service(view: &swarm_core::control::ServiceView) -> Seen {
    let replicas = match view.service.spec.mode {
        ServiceMode::Replicated { replicas } => Some(replicas),
        _ => None,
    };
    Seen::Present { replicas, image: Some(image_tag(&view.service.spec.task.image)), value: None }
}

#[cfg(test)]
mod tests;
