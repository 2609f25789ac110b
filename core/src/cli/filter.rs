//! `--filter`/`-f` on the listings, as the daemon and swarmkit apply them: which keys each
//! listing accepts (moby `daemon/cluster/filters.go`, `daemon/list.go`), the refusals in their
//! words, and how each key matches (swarmkit `manager/controlapi`, moby `api/types/filters`).
//!
//! One value set per key: several values of one key are alternatives (OR), different keys must
//! all hold (AND). Two keys differ from that, as upstream: `label` (every `KEY` or `KEY=VALUE`
//! given must hold) and, for secrets and configs, `names`/`name`/`id` (swarmkit's
//! `ListSecrets` looks an object up by any of them: one matching value of any of the three is
//! enough).
//!
//! Matching rules, per listing:
//! - services: `id` and `name` are prefixes (of the ID, of the name), `mode` is exact
//!   (`replicated`, `global`, `replicated-job`, `global-job`), `label` the service's labels.
//! - nodes: `id` prefix, `name` a prefix of the hostname, `label` the engine labels,
//!   `node.label` the node's own labels, `role` and `membership` exact (any case).
//! - tasks (`service ps`, `node ps`): `id` prefix, `name` a prefix of the task's full name
//!   (`web.1.<task id>`), `label` the service's labels, `node` a node's ID, hostname or ID
//!   prefix (the daemon resolves it to the node), `desired-state` any task state (any case),
//!   `service` the service's ID or name.
//! - containers (`docker ps`): `id` and `name` Go regular expressions, unanchored (`name` is
//!   tried with and without docker's leading `/`), `label` the container's labels, `status` its
//!   state word (and a `status` filter lists stopped containers too, as `-a`), `exited` the
//!   exit code, `health` (`starting`, `healthy`, `unhealthy`, `none`), `is-task`.
//! - secrets and configs: `names` exact, `name` a prefix of the name in any case, `id` a
//!   prefix, `label`.

use crate::api::{DataObject, NodeRole, TaskState};
use crate::control::{ApiError, NodeView, Reply, Request, Response, ServiceView, TaskView};
use crate::runtime::{ContainerInfo, ContainerState};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The filters of one request: key → the values given for it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filters(BTreeMap<String, BTreeSet<String>>);

/// What a listing is, for the keys it accepts and how they match.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listing {
    Services,
    Nodes,
    Tasks,
    Containers,
    /// Secrets and configs.
    Data,
}

/// docker/cli's `opts.FilterOpt` refusal of a value without `=` (pflag puts the flag before it).
pub const BAD_FORMAT: &str = "bad format of filter (expected name=value)";

/// The reply as the daemon answers the filtered listing: its refusal of a bad filter (after
/// any refusal of its own, e.g. not a manager), else only the objects that match. A reply to
/// anything but a listing, or without filters, is as it was.
pub fn apply<'a>(filters: &Filters, request: &Request, reply: &'a Reply) -> Cow<'a, Reply> {
    let (Some(listing), Ok(response)) = (Listing::of(request), reply) else { return Cow::Borrowed(reply) };
    if filters.is_empty() {
        return Cow::Borrowed(reply);
    }
    if let Err(refusal) = filters.check(listing) {
        return Cow::Owned(Err(ApiError::new(refusal)));
    }
    let keep = |mut out: Response| -> Cow<'a, Reply> {
        match &mut out {
            Response::Services(views) => views.retain(|v| filters.service(v)),
            Response::Nodes(views) => views.retain(|v| filters.node(v)),
            Response::Tasks { tasks, .. } => tasks.retain(|v| filters.task(v)),
            Response::Containers { containers, .. } => containers.retain(|c| filters.container(c)),
            Response::DataObjects { objects, .. } => objects.retain(|d| filters.data(d)),
            _ => {}
        }
        Cow::Owned(Ok(out))
    };
    keep(response.clone())
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn add(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.entry(key.into()).or_default().insert(value.into());
    }

    /// docker's `filters.ParseFlag`: `KEY=VALUE`, the key trimmed and lowercased, the value
    /// trimmed; an empty argument adds nothing.
    pub fn add_flag(&mut self, arg: &str) -> Result<(), &'static str> {
        if arg.is_empty() {
            return Ok(());
        }
        let (key, value) = arg.split_once('=').ok_or(BAD_FORMAT)?;
        self.add(key.trim().to_lowercase(), value.trim());
        Ok(())
    }

    /// The values given for `key` (none: the key is not filtered on).
    pub fn values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.0.get(key).into_iter().flatten().map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// Refuses a key the listing does not accept, or a value its key cannot take, in the
    /// daemon's words (before anything is listed: `Error response from daemon: …`).
    pub fn check(&self, listing: Listing) -> Result<(), String> {
        // dockerd's `Validate` walks a Go map: with several unknown keys it names any one of
        // them; the first in order here.
        if let Some(bad) = self.keys().find(|k| !listing.accepted().contains(k)) {
            return Err(format!("Invalid filter '{bad}'"));
        }
        match listing {
            Listing::Nodes => {
                if let Some(r) = self.values("role").find(|r| !r.is_empty() && role(r).is_none()) {
                    return Err(format!("Invalid role filter: '{r}'"));
                }
                if let Some(m) = self.values("membership").find(|m| !m.is_empty() && !is_membership(m)) {
                    return Err(format!("Invalid membership filter: '{m}'"));
                }
            }
            Listing::Tasks => {
                if let Some(s) = self.values("desired-state").find(|s| !s.is_empty() && task_state(s).is_none()) {
                    return Err(format!("Invalid desired-state filter: '{s}'"));
                }
            }
            Listing::Containers => {
                if let Some(s) = self.values("status").find(|s| !CONTAINER_STATES.contains(s)) {
                    return Err(format!("Invalid filter 'status={s}'"));
                }
                if let Some(h) = self.values("health").find(|h| !HEALTH_WORDS.contains(h)) {
                    return Err(format!("Unrecognised filter value for health: {h}"));
                }
                if let Some(e) = self.values("exited").find(|e| e.parse::<i32>().is_err()) {
                    return Err(format!("strconv.Atoi: parsing \"{e}\": invalid syntax"));
                }
                if let Some(b) = self.values("is-task").find(|b| parse_go_bool(b).is_none()) {
                    return Err(format!("Invalid filter 'is-task={b}'"));
                }
                if let Some(k) = UNMODELLED_CONTAINER_KEYS.iter().find(|k| self.contains(k)) {
                    return Err(format!("swarmsim does not model docker ps's '{k}' filter"));
                }
            }
            Listing::Services | Listing::Data => {}
        }
        Ok(())
    }

    /// `service ls`: is this service listed?
    pub fn service(&self, v: &ServiceView) -> bool {
        let svc = &v.service;
        self.any_or_none("id", |p| svc.id.as_str().starts_with(p))
            && self.any_or_none("name", |p| svc.spec.name.starts_with(p))
            && self.any_or_none("mode", |m| m == svc.spec.mode.as_str())
            && self.labels_hold("label", &svc.spec.labels)
    }

    /// `node ls`: is this node listed?
    pub fn node(&self, v: &NodeView) -> bool {
        let n = &v.node;
        self.any_or_none("id", |p| n.id.as_str().starts_with(p))
            && self.any_or_none("name", |p| n.description.hostname.starts_with(p))
            && self.labels_hold("label", &n.description.engine_labels)
            && self.labels_hold("node.label", &n.spec.labels)
            && self.any_or_none("role", |r| role(r) == Some(n.spec.role))
            // Every node in the store was accepted (a pending one is not modelled).
            && self.any_or_none("membership", |m| m.eq_ignore_ascii_case("accepted"))
    }

    /// `service ps`, `node ps`: is this task listed?
    pub fn task(&self, v: &TaskView) -> bool {
        let t = &v.task;
        let full_name = format!("{}.{}", t.name(), t.id);
        let node_id = t.node_id.as_ref().map(|n| n.as_str()).unwrap_or("");
        self.any_or_none("id", |p| t.id.as_str().starts_with(p))
            && self.any_or_none("name", |p| full_name.starts_with(p))
            && self.labels_hold("label", &v.service_labels)
            && self
                .any_or_none("node", |n| !node_id.is_empty() && (n == node_id || n == v.node || node_id.starts_with(n)))
            && self.any_or_none("service", |s| s == t.service_id.as_str() || s == t.service_name)
            && self.any_or_none("desired-state", |s| task_state(s) == Some(t.desired_state))
            && self.any_or_none("runtime", |r| r == "container")
    }

    /// `docker ps`: is this container listed? (`status` lists stopped ones too: `lists_all`.)
    pub fn container(&self, c: &ContainerInfo) -> bool {
        let (state, exit) = match &c.state {
            ContainerState::Created => ("created", None),
            ContainerState::Running { .. } => ("running", None),
            ContainerState::Exited { exit_code, .. } => ("exited", Some(*exit_code)),
        };
        let health = c.health.map_or("none", |h| match h {
            crate::api::HealthStatus::Starting => "starting",
            crate::api::HealthStatus::Healthy => "healthy",
            crate::api::HealthStatus::Unhealthy => "unhealthy",
        });
        let is_task = c.labels.contains_key("com.docker.swarm.task.id");
        self.any_or_none("id", |re| go_match(re, &c.id))
            && self.any_or_none("name", |re| go_match(re, &c.name) || go_match(re, &format!("/{}", c.name)))
            && self.kv_list_holds("label", &c.labels)
            && self.any_or_none("status", |s| s == state)
            && self.any_or_none("exited", |e| exit.is_some() && e.parse::<i32>().ok() == exit)
            && self.any_or_none("health", |h| h == health)
            && self.any_or_none("is-task", |b| parse_go_bool(b) == Some(is_task))
    }

    /// A `status` filter makes `docker ps` list every container, as `-a` (dockerd's `foldFilter`).
    pub fn lists_all(&self) -> bool {
        self.contains("status")
    }

    /// `secret ls`, `config ls`: is this object listed?
    pub fn data(&self, d: &DataObject) -> bool {
        let name = d.spec.name.to_lowercase();
        let looked_up = ["names", "name", "id"].iter().any(|k| self.contains(k));
        let found = !looked_up
            || self.values("names").any(|n| n.eq_ignore_ascii_case(&d.spec.name))
            || self.values("name").any(|p| name.starts_with(&p.to_lowercase()))
            || self.values("id").any(|p| d.id.as_str().starts_with(&p.to_lowercase()));
        found && self.labels_hold("label", &d.spec.labels)
    }

    /// No values for `key`, or one of them holds.
    fn any_or_none(&self, key: &str, holds: impl Fn(&str) -> bool) -> bool {
        !self.contains(key) || self.values(key).any(holds)
    }

    /// swarmkit's `filterMatchLabels` over the values as a map (`KEY` or `KEY=VALUE`; an empty
    /// value, `KEY=`, asks only for the key; a key given twice keeps its last value).
    fn labels_hold(&self, key: &str, labels: &BTreeMap<String, String>) -> bool {
        let wanted: BTreeMap<&str, &str> = self.values(key).map(|v| v.split_once('=').unwrap_or((v, ""))).collect();
        wanted.iter().all(|(k, v)| labels.get(*k).is_some_and(|have| v.is_empty() || have == v))
    }

    /// moby's `Args.MatchKVList` (`docker ps --filter label=…`): `KEY=VALUE` wants that value,
    /// even an empty one.
    fn kv_list_holds(&self, key: &str, labels: &BTreeMap<String, String>) -> bool {
        if !self.contains(key) {
            return true;
        }
        self.values(key).all(|v| match v.split_once('=') {
            Some((k, want)) => labels.get(k).is_some_and(|have| have == want),
            None => labels.contains_key(v),
        })
    }
}

impl Listing {
    /// The listing a request asks for, if it is one that takes `--filter`.
    pub fn of(request: &Request) -> Option<Listing> {
        match request {
            Request::ListServices => Some(Listing::Services),
            Request::ListNodes => Some(Listing::Nodes),
            Request::ListTasks { .. } | Request::ListNodeTasks { .. } => Some(Listing::Tasks),
            Request::ListContainers { .. } => Some(Listing::Containers),
            Request::ListData { .. } => Some(Listing::Data),
            _ => None,
        }
    }

    /// The keys the daemon accepts for the listing (the CLI-internal `_up-to-date` included).
    pub fn accepted(self) -> &'static [&'static str] {
        match self {
            Listing::Services => &["id", "label", "mode", "name", "runtime"],
            Listing::Nodes => &["id", "label", "membership", "name", "node.label", "role"],
            Listing::Tasks => &["_up-to-date", "desired-state", "id", "label", "name", "node", "runtime", "service"],
            Listing::Containers => &[
                "ancestor",
                "before",
                "exited",
                "expose",
                "health",
                "id",
                "is-task",
                "isolation",
                "label",
                "name",
                "network",
                "publish",
                "since",
                "status",
                "volume",
            ],
            Listing::Data => &["id", "label", "name", "names"],
        }
    }
}

/// dockerd's container states (`IsValidStateString`).
const CONTAINER_STATES: &[&str] = &["created", "dead", "exited", "paused", "removing", "restarting", "running"];
const HEALTH_WORDS: &[&str] = &["healthy", "none", "starting", "unhealthy"];
/// Accepted by dockerd but about things the simulated runtime does not keep (image IDs,
/// creation order across daemons, volumes, port bindings, isolation).
const UNMODELLED_CONTAINER_KEYS: &[&str] =
    &["ancestor", "before", "expose", "isolation", "network", "publish", "since", "volume"];

/// swarmkit's `NodeRole_value[strings.ToUpper(r)]`.
fn role(r: &str) -> Option<NodeRole> {
    match r.to_uppercase().as_str() {
        "WORKER" => Some(NodeRole::Worker),
        "MANAGER" => Some(NodeRole::Manager),
        _ => None,
    }
}

/// swarmkit's `NodeSpec_Membership_value`: `PENDING`, `ACCEPTED`.
fn is_membership(m: &str) -> bool {
    matches!(m.to_uppercase().as_str(), "PENDING" | "ACCEPTED")
}

/// swarmkit's `TaskState_value[strings.ToUpper(s)]`.
fn task_state(s: &str) -> Option<TaskState> {
    use TaskState::*;
    const ALL: [TaskState; 14] = [
        New, Pending, Assigned, Accepted, Preparing, Ready, Starting, Running, Complete, Shutdown, Failed, Rejected,
        Remove, Orphaned,
    ];
    ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s))
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(b: &str) -> Option<bool> {
    match b {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// moby's `Args.Match`: the value itself, else the value as an unanchored Go regular
/// expression (RE2, as Rust's `regex`); one that does not compile matches nothing.
fn go_match(pattern: &str, source: &str) -> bool {
    pattern == source || regex::Regex::new(pattern).is_ok_and(|re| re.is_match(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(args: &[&str]) -> Filters {
        let mut f = Filters::default();
        for a in args {
            f.add_flag(a).expect("KEY=VALUE");
        }
        f
    }

    #[test]
    fn a_flag_without_an_equals_sign_is_refused_and_keys_are_lowercased() {
        assert_eq!(Filters::default().add_flag("name"), Err(BAD_FORMAT));
        let f = filters(&[" NAME = web "]);
        assert_eq!(f.values("name").collect::<Vec<_>>(), vec!["web"]);
    }

    #[test]
    fn an_unknown_key_is_refused_in_the_daemons_words() {
        assert_eq!(filters(&["bogus=1"]).check(Listing::Services), Err("Invalid filter 'bogus'".into()));
        assert_eq!(filters(&["node=w1"]).check(Listing::Services), Err("Invalid filter 'node'".into()));
        assert!(filters(&["node.label=a=b", "role=MANAGER"]).check(Listing::Nodes).is_ok());
        assert_eq!(filters(&["role=boss"]).check(Listing::Nodes), Err("Invalid role filter: 'boss'".into()));
        assert_eq!(
            filters(&["membership=maybe"]).check(Listing::Nodes),
            Err("Invalid membership filter: 'maybe'".into())
        );
        assert!(filters(&["desired-state=Complete"]).check(Listing::Tasks).is_ok());
        assert_eq!(
            filters(&["desired-state=up"]).check(Listing::Tasks),
            Err("Invalid desired-state filter: 'up'".into())
        );
        assert_eq!(filters(&["status=up"]).check(Listing::Containers), Err("Invalid filter 'status=up'".into()));
        assert_eq!(filters(&["mode=x"]).check(Listing::Data), Err("Invalid filter 'mode'".into()));
    }

    #[test]
    fn labels_need_every_key_and_value_given() {
        let labels: BTreeMap<String, String> =
            [("tier".to_string(), "web".to_string()), ("env".to_string(), "prod".to_string())].into();
        assert!(filters(&["label=tier"]).labels_hold("label", &labels));
        assert!(filters(&["label=tier=web", "label=env"]).labels_hold("label", &labels));
        assert!(!filters(&["label=tier=web", "label=owner"]).labels_hold("label", &labels));
        assert!(!filters(&["label=tier=db"]).labels_hold("label", &labels));
        // swarmkit reads `KEY=` as the key alone; dockerd's container filter wants the value "".
        assert!(filters(&["label=tier="]).labels_hold("label", &labels));
        assert!(!filters(&["label=tier="]).kv_list_holds("label", &labels));
    }

    #[test]
    fn container_names_and_ids_match_as_unanchored_regular_expressions() {
        assert!(go_match("web", "web.1.abc"));
        assert!(go_match("^/web", "/web.1.abc"));
        assert!(!go_match("^web$", "web.1.abc"));
        assert!(!go_match("(", "web("));
        assert!(go_match("(", "("));
    }
}
