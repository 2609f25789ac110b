//! The scheduler: picks a node for every PENDING task (swarmkit `manager/scheduler`).
//!
//! Each round starts from the committed store, so it rebuilds the per-node load (active tasks,
//! reserved resources, bound host ports) once and then accounts for its own decisions as it
//! makes them. Nodes are checked through swarmkit's filter pipeline (ready, resources,
//! constraints, host port) and the ones that pass are ranked by spread: fewest active tasks of
//! the service, then fewest active tasks overall, then fewest recent failures of the service.
//! The candidates of a task group sit in a min-heap, so placing k tasks on n nodes costs
//! O(n + k·log n) instead of a rescan of every node per task.

use crate::api::{Constraint, Node, Protocol, PublishMode, Resources, SpreadOver, Task, TaskState};
use crate::ids::{NodeId, ServiceId};
use crate::store::{Store, StoreAction};
use crate::time::Instant;
use core::net::Ipv4Addr;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

/// How long a task failure counts against the node it happened on (swarmkit `monitorFailures`).
pub const FAILURE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// From this many recent failures of a service on a node, the node goes behind every node with
/// fewer failures, whatever their load (swarmkit `maxFailures`).
pub const FAILURES_TO_RANK_DOWN: u32 = 5;

#[derive(Clone, Debug, Default)]
pub struct Scheduler {
    /// Per service, per node: when its tasks failed there, oldest first, within the window.
    recent_failures: BTreeMap<ServiceId, BTreeMap<NodeId, VecDeque<Instant>>>,
    pub planted: crate::planted::Planted,
}

impl Scheduler {
    pub fn new() -> Scheduler {
        Scheduler::default()
    }

    /// A task of `service` failed on `node` at `now` (the manager calls this when it applies a
    /// FAILED/REJECTED status).
    pub fn note_failure(&mut self, node: &NodeId, service: &ServiceId, now: Instant) {
        let times = self.recent_failures.entry(service.clone()).or_default().entry(node.clone()).or_default();
        times.push_back(now);
        drop_expired(times, now);
    }

    /// How many failures of `service` on `node` fall within the window before `now`.
    pub fn recent_failure_count(&self, node: &NodeId, service: &ServiceId, now: Instant) -> u32 {
        self.recent_failures
            .get(service)
            .and_then(|per_node| per_node.get(node))
            .map_or(0, |times| count_recent(times, now))
    }

    /// Places every task whose observed state is PENDING: `AssignTask` for the placed ones, and
    /// `SetTaskPendingMessage` with the explanation for the ones that fit nowhere (only when it
    /// differs from the task's current `status.err`).
    pub fn schedule(&mut self, store: &Store, now: Instant) -> Vec<StoreAction> {
        self.forget_expired_failures(now);
        let work = PendingWork::collect(store);
        let mut actions = Vec::new();
        if work.is_empty() {
            return actions;
        }
        // One action per pending task (an assignment or an explanation, at most): reserving
        // them up front saves regrowing a vector of large enum values (a sixth of a round).
        actions.reserve(work.len());
        let mut round = Round::new(store, work.by_service.keys().copied());
        round.planted = self.planted;
        for task in &work.preassigned {
            round.schedule_preassigned(task, now, &mut actions);
        }
        for (slot, (service_id, tasks)) in work.by_service.iter().enumerate() {
            let mut ranking = ServiceRanking::new(&round, slot, service_id, self, now);
            for group in TaskGroup::split(tasks) {
                round.schedule_group(&group, &mut ranking, now, &mut actions);
            }
        }
        actions
    }

    fn forget_expired_failures(&mut self, now: Instant) {
        for per_node in self.recent_failures.values_mut() {
            for times in per_node.values_mut() {
                drop_expired(times, now);
            }
            per_node.retain(|_, times| !times.is_empty());
        }
        self.recent_failures.retain(|_, per_node| !per_node.is_empty());
    }
}

fn is_recent(at: Instant, now: Instant) -> bool {
    now.saturating_since(at) < FAILURE_WINDOW
}

fn drop_expired(times: &mut VecDeque<Instant>, now: Instant) {
    // Failures are noted in time order, so the expired ones are at the front.
    while times.front().is_some_and(|&at| !is_recent(at, now)) {
        times.pop_front();
    }
}

fn count_recent(times: &VecDeque<Instant>, now: Instant) -> u32 {
    times.iter().filter(|&&at| is_recent(at, now)).count() as u32
}

/// A task that holds (or is about to hold) a place on its node: desired to run, observed
/// between ASSIGNED and RUNNING. Only these count toward a node's load. (A job's task is
/// desired COMPLETE, as swarmkit compares with `TaskStateCompleted`.)
pub fn is_active_on_node(task: &Task) -> bool {
    task.desired_state <= TaskState::Complete
        && task.status.state >= TaskState::Assigned
        && task.status.state <= TaskState::Running
}

/// A PENDING task the scheduler should act on. One whose desired state is already past RUNNING
/// (scaled down or removed before it was placed) is left for the orchestrator and reaper.
fn wants_placement(task: &Task) -> bool {
    task.status.state == TaskState::Pending && task.desired_state <= TaskState::Complete
}

/// The PENDING tasks of one round: global ones (node already chosen) and the rest by service.
struct PendingWork<'s> {
    preassigned: Vec<&'s Task>,
    by_service: BTreeMap<&'s ServiceId, Vec<&'s Task>>,
}

impl<'s> PendingWork<'s> {
    fn collect(store: &'s Store) -> PendingWork<'s> {
        let mut work = PendingWork { preassigned: Vec::new(), by_service: BTreeMap::new() };
        for task in store.tasks.values().filter(|t| wants_placement(t)) {
            if task.node_id.is_some() {
                work.preassigned.push(task);
            } else {
                work.by_service.entry(&task.service_id).or_default().push(task);
            }
        }
        work
    }

    fn is_empty(&self) -> bool {
        self.preassigned.is_empty() && self.by_service.is_empty()
    }

    fn len(&self) -> usize {
        self.preassigned.len() + self.by_service.values().map(Vec::len).sum::<usize>()
    }
}

/// What a task asks of a node; tasks of one service with equal requirements are placed together.
#[derive(Clone, Debug, PartialEq)]
struct Requirements<'s> {
    constraints: &'s [Constraint],
    reservations: Resources,
    /// Host-mode published ports with a fixed number (port 0 lets the node pick one).
    host_ports: Vec<(Protocol, u16)>,
    /// `--replicas-max-per-node`; 0: no limit.
    max_replicas: u64,
    /// `--placement-pref spread=…`, in order.
    preferences: &'s [SpreadOver],
}

impl<'s> Requirements<'s> {
    fn of(task: &'s Task) -> Requirements<'s> {
        Requirements {
            constraints: &task.spec.constraints,
            reservations: task.spec.reservations,
            host_ports: fixed_host_ports(task).collect(),
            max_replicas: task.spec.placement.max_replicas,
            preferences: &task.spec.placement.preferences,
        }
    }
}

fn fixed_host_ports(task: &Task) -> impl Iterator<Item = (Protocol, u16)> + '_ {
    task.host_ports
        .iter()
        .filter(|p| p.mode == PublishMode::Host && p.published_port != 0)
        .map(|p| (p.protocol, p.published_port))
}

struct TaskGroup<'s> {
    requirements: Requirements<'s>,
    tasks: Vec<&'s Task>,
}

impl<'s> TaskGroup<'s> {
    /// Splits one service's pending tasks by requirements (several spec versions may be pending
    /// during an update). Few distinct groups exist per service, so a linear search is enough.
    fn split(tasks: &[&'s Task]) -> Vec<TaskGroup<'s>> {
        let mut groups: Vec<TaskGroup<'s>> = Vec::new();
        for &task in tasks {
            let requirements = Requirements::of(task);
            match groups.iter_mut().find(|g| g.requirements == requirements) {
                Some(group) => group.tasks.push(task),
                None => groups.push(TaskGroup { requirements, tasks: vec![task] }),
            }
        }
        groups
    }
}

/// swarmkit's filters, in pipeline order (plugin and platform are not modelled).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Filter {
    Ready,
    Resources,
    Constraints,
    HostPort,
    MaxReplicas,
}

impl Filter {
    const PIPELINE: [Filter; 5] =
        [Filter::Ready, Filter::Resources, Filter::Constraints, Filter::HostPort, Filter::MaxReplicas];

    fn explain(self, nodes: usize) -> String {
        let on_nodes = if nodes == 1 { "1 node".to_string() } else { format!("{nodes} nodes") };
        match self {
            Filter::Ready => format!("{on_nodes} not available for new tasks"),
            Filter::Resources => format!("insufficient resources on {on_nodes}"),
            Filter::Constraints => format!("scheduling constraints not satisfied on {on_nodes}"),
            Filter::HostPort => format!("host-mode port already in use on {on_nodes}"),
            // swarmkit's MaxReplicasFilter explains without a count.
            Filter::MaxReplicas => "max replicas per node limit exceed".to_string(),
        }
    }
}

/// The clauses of an explanation, `; `-joined: the filter that rejected most nodes first, ties
/// in pipeline order. Empty when no filter rejected anything.
fn explain_rejections(rejections: &BTreeMap<Filter, usize>) -> String {
    let mut failing: Vec<(Filter, usize)> = rejections.iter().map(|(&f, &n)| (f, n)).filter(|&(_, n)| n > 0).collect();
    // Stable sort: equal counts keep the pipeline order the map iterates in.
    failing.sort_by_key(|&(_, nodes)| Reverse(nodes));
    failing.iter().map(|&(filter, nodes)| filter.explain(nodes)).collect::<Vec<_>>().join("; ")
}

/// `no suitable node (…)`, the text a task that fits nowhere carries in `status.err`.
fn no_suitable_node(rejections: &BTreeMap<Filter, usize>) -> String {
    let clauses = explain_rejections(rejections);
    if clauses.is_empty() {
        "no suitable node".to_string()
    } else {
        format!("no suitable node ({clauses})")
    }
}

/// A node's load as this round sees it: the store's active tasks plus this round's placements.
#[derive(Clone, Debug, Default)]
struct NodeLoad {
    active_tasks: u32,
    reserved: Resources,
    host_ports: BTreeSet<(Protocol, u16)>,
}

impl NodeLoad {
    fn add(&mut self, reservations: Resources, host_ports: impl IntoIterator<Item = (Protocol, u16)>) {
        self.active_tasks += 1;
        self.reserved.nano_cpus = self.reserved.nano_cpus.saturating_add(reservations.nano_cpus);
        self.reserved.memory_bytes = self.reserved.memory_bytes.saturating_add(reservations.memory_bytes);
        self.host_ports.extend(host_ports);
    }
}

/// A reservation fits when, per resource, it is zero or the node's total covers it on top of
/// what is already reserved.
fn reservation_fits(reserved: Resources, capacity: Resources, wanted: Resources) -> bool {
    let fits = |reserved: u64, capacity: u64, wanted: u64| wanted == 0 || reserved.saturating_add(wanted) <= capacity;
    fits(reserved.nano_cpus, capacity.nano_cpus, wanted.nano_cpus)
        && fits(reserved.memory_bytes, capacity.memory_bytes, wanted.memory_bytes)
}

/// Node ID → index, looked up once per active task. A hash map: several times cheaper than a
/// BTreeMap's string comparisons at a million lookups per round; it is never iterated, and its
/// hasher has no random keys, so nothing depends on OS randomness or on hash order.
type NodeIndex<'s> = HashMap<&'s NodeId, usize, BuildHasherDefault<IdHasher>>;

/// Service ID → its place among the services with pending tasks, for the same reasons.
type ServiceSlots<'s> = HashMap<&'s ServiceId, usize, BuildHasherDefault<IdHasher>>;

/// A multiply-rotate hash (FxHash's) for IDs: random base-36 strings need no flood resistance,
/// and SipHash costs more than the rest of a lookup.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Tasks are tallied in batches of this many: first all their IDs are read, then looked up.
const TASK_BATCH: usize = 256;

/// Reads a byte of everything the tally needs from each task: its node and service ID and its
/// reservations. At a million tasks these are cache misses (the IDs are heap strings):
/// touching them in a tight loop lets the CPU overlap the misses, while a hash lookup right
/// after each read waits for every miss in turn (measured about 3× slower per round).
fn warm_task_fields(tasks: &[&Task]) {
    let first_byte = |s: &str| s.as_bytes().first().copied().unwrap_or(0);
    let touched = tasks.iter().fold(0u8, |acc, t| {
        acc ^ first_byte(&t.service_id.0)
            ^ t.node_id.as_ref().map_or(0, |n| first_byte(&n.0))
            ^ t.spec.reservations.memory_bytes as u8
    });
    std::hint::black_box(touched);
}

/// Nodes in ID order (a node's index is its rank in that order) and their loads.
struct Round<'s> {
    nodes: Vec<&'s Node>,
    index_of: NodeIndex<'s>,
    loads: Vec<NodeLoad>,
    /// Per service with pending tasks (in `PendingWork::by_service` order): the node index of
    /// each of its active tasks.
    service_placements: Vec<Vec<usize>>,
    planted: crate::planted::Planted,
}

impl<'s> Round<'s> {
    /// Tallies the active tasks in one sequential pass, in batches (see `warm_task_fields`).
    /// Going through the `tasks_on_node`/`tasks_of_service` indexes instead would cost a store
    /// lookup per task: about 8× slower at a million tasks.
    fn new(store: &'s Store, pending_services: impl Iterator<Item = &'s ServiceId>) -> Round<'s> {
        let nodes: Vec<&Node> = store.nodes.values().collect();
        let index_of: NodeIndex = nodes.iter().enumerate().map(|(i, n)| (&n.id, i)).collect();
        let slot_of: ServiceSlots = pending_services.enumerate().map(|(slot, id)| (id, slot)).collect();
        let mut loads = vec![NodeLoad::default(); nodes.len()];
        let mut service_placements = vec![Vec::new(); slot_of.len()];
        let mut batch: Vec<&Task> = Vec::with_capacity(TASK_BATCH);
        let mut active = store.tasks.values().filter(|t| is_active_on_node(t)).peekable();
        while active.peek().is_some() {
            batch.clear();
            batch.extend(active.by_ref().take(TASK_BATCH));
            warm_task_fields(&batch);
            for task in &batch {
                let Some(&i) = task.node_id.as_ref().and_then(|id| index_of.get(id)) else { continue };
                loads[i].add(task.spec.reservations, fixed_host_ports(task));
                if let Some(&slot) = slot_of.get(&task.service_id) {
                    service_placements[slot].push(i);
                }
            }
        }
        Round { nodes, index_of, loads, service_placements, planted: crate::planted::Planted::default() }
    }

    /// The first filter of the pipeline that rejects node `i`, if any. `service_tasks`: the
    /// service's active tasks per node (`None`: a global service's, at most one anyway).
    fn first_failing_filter(&self, i: usize, req: &Requirements, service_tasks: ServiceTasks) -> Option<Filter> {
        let node = self.nodes[i];
        let load = &self.loads[i];
        let ready = node.is_schedulable()
            || (self.planted.is(crate::planted::PlantedBug::SchedulerPlacesOnDownNode)
                && node.spec.availability == crate::api::Availability::Active);
        if !ready {
            Some(Filter::Ready)
        } else if !reservation_fits(load.reserved, node.description.resources, req.reservations) {
            Some(Filter::Resources)
        } else if !req.constraints.iter().all(|c| constraint_matches(c, node)) {
            Some(Filter::Constraints)
        } else if req.host_ports.iter().any(|p| load.host_ports.contains(p)) {
            Some(Filter::HostPort)
        } else if !self.below_max_replicas(req, service_tasks, i) {
            Some(Filter::MaxReplicas)
        } else {
            None
        }
    }

    fn below_max_replicas(&self, req: &Requirements, service_tasks: ServiceTasks, i: usize) -> bool {
        below_max_replicas(req, service_tasks, i)
            || self.planted.is(crate::planted::PlantedBug::SchedulerIgnoresMaxReplicas)
    }

    fn passes(&self, i: usize, req: &Requirements, service_tasks: ServiceTasks) -> bool {
        self.first_failing_filter(i, req, service_tasks).is_none()
    }

    /// For a node that passed every filter earlier in this round: whether it still passes after
    /// placements on it, i.e. the load-dependent filters (resources, host ports) still pass.
    fn still_fits(&self, i: usize, req: &Requirements, service_tasks: ServiceTasks) -> bool {
        let load = &self.loads[i];
        let fits = reservation_fits(load.reserved, self.nodes[i].description.resources, req.reservations)
            && !req.host_ports.iter().any(|p| load.host_ports.contains(p))
            && self.below_max_replicas(req, service_tasks, i);
        debug_assert_eq!(fits, self.passes(i, req, service_tasks));
        fits
    }

    /// How many nodes each filter rejected first, over the given nodes.
    fn rejections(
        &self,
        nodes: impl IntoIterator<Item = usize>,
        req: &Requirements,
        service_tasks: ServiceTasks,
    ) -> BTreeMap<Filter, usize> {
        let mut counts: BTreeMap<Filter, usize> = Filter::PIPELINE.iter().map(|&f| (f, 0)).collect();
        for i in nodes {
            if let Some(filter) = self.first_failing_filter(i, req, service_tasks) {
                *counts.entry(filter).or_default() += 1;
            }
        }
        counts
    }

    fn place(&mut self, i: usize, task: &'s Task, req: &Requirements, now: Instant, actions: &mut Vec<StoreAction>) {
        self.loads[i].add(req.reservations, req.host_ports.iter().copied());
        actions.push(StoreAction::AssignTask { id: task.id.clone(), node: self.nodes[i].id.clone(), at: now });
    }

    /// A global service's task: its node is fixed, so only that node goes through the filters.
    /// Like swarmkit, the explanation is the bare clause (`1 node not available for new tasks`).
    fn schedule_preassigned(&mut self, task: &'s Task, now: Instant, actions: &mut Vec<StoreAction>) {
        let Some(node_id) = &task.node_id else { return };
        // A node gone from the store: the global orchestrator will remove the task.
        let Some(&i) = self.index_of.get(node_id) else { return };
        let req = Requirements::of(task);
        if self.passes(i, &req, None) {
            self.place(i, task, &req, now, actions);
        } else {
            let message = explain_rejections(&self.rejections([i], &req, None));
            set_pending_message(task, &message, actions);
        }
    }

    /// Places a group's tasks one by one on the best-ranked node that still passes the filters.
    fn schedule_group(
        &mut self,
        group: &TaskGroup<'s>,
        ranking: &mut ServiceRanking,
        now: Instant,
        actions: &mut Vec<StoreAction>,
    ) {
        let req = &group.requirements;
        let mut tasks = group.tasks.iter().copied();
        if req.preferences.is_empty() {
            self.place_on_nodes(0..self.nodes.len(), &mut tasks, usize::MAX, ranking, req, now, actions);
        } else {
            let tree = PreferenceTree::build(self, req.preferences, &ranking.service_tasks);
            self.place_on_subtree(&tree, group.tasks.len(), &mut tasks, ranking, req, now, actions);
        }
        // What no node took: one explanation serves them all.
        let mut explanation: Option<String> = None;
        for task in tasks {
            let message = explanation.get_or_insert_with(|| {
                no_suitable_node(&self.rejections(0..self.nodes.len(), req, Some(&ranking.service_tasks)))
            });
            set_pending_message(task, message, actions);
        }
    }

    /// Places up to `n` of `tasks` on the best-ranked of `nodes` that still pass the filters,
    /// one by one; returns how many it placed (fewer when the nodes ran out of room).
    #[allow(clippy::too_many_arguments)]
    fn place_on_nodes(
        &mut self,
        nodes: impl IntoIterator<Item = usize>,
        tasks: &mut impl Iterator<Item = &'s Task>,
        n: usize,
        ranking: &mut ServiceRanking,
        req: &Requirements,
        now: Instant,
        actions: &mut Vec<StoreAction>,
    ) -> usize {
        let mut candidates: BinaryHeap<Reverse<Rank>> = nodes
            .into_iter()
            .filter(|&i| self.passes(i, req, Some(&ranking.service_tasks)))
            .map(|i| Reverse(ranking.rank(i, &self.loads[i])))
            .collect();
        let mut placed = 0;
        while placed < n {
            let Some(Reverse(best)) = candidates.peek().copied() else { break };
            let Some(task) = tasks.next() else { break };
            candidates.pop();
            let i = best.node;
            debug_assert!(self.passes(i, req, Some(&ranking.service_tasks)), "a heap candidate must pass the filters");
            self.place(i, task, req, now, actions);
            ranking.service_tasks[i] += 1;
            placed += 1;
            // Only this node's rank changed, so the rest of the heap stays valid. Readiness and
            // constraints do not change within a round, and the node passed them to be in the
            // heap: only the filters that read its load (and its count of the service's
            // tasks) need checking again.
            if self.still_fits(i, req, Some(&ranking.service_tasks)) {
                candidates.push(Reverse(ranking.rank(i, &self.loads[i])));
            }
        }
        placed
    }

    /// swarmkit's `scheduleNTasksOnSubtree`: `n` tasks split over the branches so that each
    /// ends with as many of the service's tasks as the others (the remainder to the first
    /// branches, in label-value order here where swarmkit walks a Go map); a branch with no
    /// room drops out and the rest share its part. Returns how many were placed.
    #[allow(clippy::too_many_arguments)]
    fn place_on_subtree(
        &mut self,
        tree: &PreferenceTree,
        n: usize,
        tasks: &mut impl Iterator<Item = &'s Task>,
        ranking: &mut ServiceRanking,
        req: &Requirements,
        now: Instant,
        actions: &mut Vec<StoreAction>,
    ) -> usize {
        if tree.branches.is_empty() {
            return self.place_on_nodes(tree.nodes.iter().copied(), tasks, n, ranking, req, now, actions);
        }
        let mut scheduled = 0;
        let mut in_usable_branches = tree.tasks;
        let mut no_room: BTreeSet<&str> = BTreeSet::new();
        while scheduled != n && no_room.len() != tree.branches.len() {
            let usable = tree.branches.len() - no_room.len();
            let total = in_usable_branches + n - scheduled;
            let desired = total / usable;
            let mut remainder = total % usable;
            let mut progressed = false;
            for (value, branch) in &tree.branches {
                if no_room.contains(value.as_str()) || scheduled == n {
                    continue;
                }
                if branch.tasks < desired || (branch.tasks == desired && remainder > 0) {
                    let mut wanted = desired - branch.tasks;
                    if remainder > 0 {
                        wanted += 1;
                    }
                    let wanted = wanted.min(n - scheduled);
                    let placed = self.place_on_subtree(branch, wanted, tasks, ranking, req, now, actions);
                    if placed < wanted {
                        no_room.insert(value);
                        in_usable_branches -= branch.tasks;
                    } else {
                        remainder = remainder.saturating_sub(1);
                    }
                    progressed |= placed > 0 || placed < wanted;
                    scheduled += placed;
                }
            }
            if !progressed {
                break; // bounded: a pass that neither placed nor closed a branch would repeat
            }
        }
        scheduled
    }
}

/// Per node index, how many active tasks the service being placed has there.
type ServiceTasks<'a> = Option<&'a [u32]>;

fn below_max_replicas(req: &Requirements, service_tasks: ServiceTasks, i: usize) -> bool {
    req.max_replicas == 0 || u64::from(service_tasks.map_or(0, |counts| counts[i])) < req.max_replicas
}

/// swarmkit's decision tree (`nodeset.go` `tree`): the nodes split by the value of the first
/// preference's label, each group by the next one's, and so on; a node without the label
/// goes with the empty value. `tasks` counts the service's active tasks under each branch.
#[derive(Debug, Default)]
struct PreferenceTree {
    tasks: usize,
    /// Leaves only: node indexes.
    nodes: Vec<usize>,
    /// By label value, in order (swarmkit's map order is random).
    branches: BTreeMap<String, PreferenceTree>,
}

impl PreferenceTree {
    fn build(round: &Round, preferences: &[SpreadOver], service_tasks: &[u32]) -> PreferenceTree {
        let mut root = PreferenceTree::default();
        for (i, node) in round.nodes.iter().enumerate() {
            let mut tree = &mut root;
            tree.tasks += service_tasks[i] as usize;
            for pref in preferences {
                tree = tree.branches.entry(spread_value(node, &pref.descriptor)).or_default();
                tree.tasks += service_tasks[i] as usize;
            }
            tree.nodes.push(i);
        }
        root
    }
}

/// The value a node has for `node.labels.KEY` / `engine.labels.KEY`; "" for anything else.
fn spread_value(node: &Node, descriptor: &str) -> String {
    const NODE_LABELS: &str = "node.labels.";
    const ENGINE_LABELS: &str = "engine.labels.";
    let label = |labels: &BTreeMap<String, String>, prefix: &str| {
        labels.get(&descriptor[prefix.len()..]).cloned().unwrap_or_default()
    };
    if descriptor.len() > NODE_LABELS.len() && has_prefix_fold(descriptor, NODE_LABELS) {
        label(&node.spec.labels, NODE_LABELS)
    } else if descriptor.len() > ENGINE_LABELS.len() && has_prefix_fold(descriptor, ENGINE_LABELS) {
        label(&node.description.engine_labels, ENGINE_LABELS)
    } else {
        String::new()
    }
}

fn set_pending_message(task: &Task, message: &str, actions: &mut Vec<StoreAction>) {
    if task.status.err != message {
        actions.push(StoreAction::SetTaskPendingMessage { id: task.id.clone(), message: message.to_string() });
    }
}

/// A node's place in the spread order: smaller is better. Field order is comparison order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    /// Recent failures once they reach `FAILURES_TO_RANK_DOWN`, else 0: such a node goes last.
    failing: u32,
    service_tasks: u32,
    active_tasks: u32,
    /// Fewer recent failures win among equally loaded nodes, so a killed task's replacement
    /// prefers another node.
    recent_failures: u32,
    /// Node ID order (IDs are random per seed).
    node: usize,
}

/// One service's view of the nodes, by node index: its active tasks and its recent failures.
struct ServiceRanking {
    service_tasks: Vec<u32>,
    recent_failures: Vec<u32>,
}

impl ServiceRanking {
    fn new(round: &Round, slot: usize, service: &ServiceId, scheduler: &Scheduler, now: Instant) -> ServiceRanking {
        let n = round.nodes.len();
        let mut service_tasks = vec![0u32; n];
        for &i in &round.service_placements[slot] {
            service_tasks[i] += 1;
        }
        let mut recent_failures = vec![0u32; n];
        for (node, times) in scheduler.recent_failures.get(service).into_iter().flatten() {
            if let Some(&i) = round.index_of.get(node) {
                recent_failures[i] = count_recent(times, now);
            }
        }
        ServiceRanking { service_tasks, recent_failures }
    }

    fn rank(&self, i: usize, load: &NodeLoad) -> Rank {
        let failures = self.recent_failures[i];
        Rank {
            failing: if failures >= FAILURES_TO_RANK_DOWN { failures } else { 0 },
            service_tasks: self.service_tasks[i],
            active_tasks: load.active_tasks,
            recent_failures: failures,
            node: i,
        }
    }
}

/// Whether `node` satisfies one placement constraint. As in swarmkit, keys and values compare
/// case-insensitively (label names after the prefix excepted), a missing label reads as the
/// empty string (so it fails `==` and passes `!=`), and an unknown key never matches.
pub fn constraint_matches(constraint: &Constraint, node: &Node) -> bool {
    const NODE_LABELS: &str = "node.labels.";
    const ENGINE_LABELS: &str = "engine.labels.";
    let key = constraint.key.as_str();
    let value_matches = |actual: &str| equal_fold(actual, &constraint.value) == constraint.equal;
    let label = |labels: &BTreeMap<String, String>, prefix: &str| {
        value_matches(labels.get(&key[prefix.len()..]).map_or("", String::as_str))
    };
    if equal_fold(key, "node.id") {
        value_matches(node.id.as_str())
    } else if equal_fold(key, "node.hostname") {
        value_matches(&node.description.hostname)
    } else if equal_fold(key, "node.ip") {
        node_ip_matches(constraint, &node.status.addr)
    } else if equal_fold(key, "node.role") {
        value_matches(node.spec.role.as_str())
    } else if equal_fold(key, "node.platform.os") {
        value_matches(&node.description.platform_os)
    } else if equal_fold(key, "node.platform.arch") {
        value_matches(&node.description.platform_arch)
    } else if has_prefix_fold(key, NODE_LABELS) {
        label(&node.spec.labels, NODE_LABELS)
    } else if has_prefix_fold(key, ENGINE_LABELS) {
        label(&node.description.engine_labels, ENGINE_LABELS)
    } else {
        false
    }
}

/// `node.ip` takes an address or a CIDR subnet; a malformed one never matches, either operator.
fn node_ip_matches(constraint: &Constraint, node_addr: &str) -> bool {
    let node_ip: Option<Ipv4Addr> = node_addr.parse().ok();
    let matched = if let Ok(ip) = constraint.value.parse::<Ipv4Addr>() {
        node_ip == Some(ip)
    } else if let Ok(net) = constraint.value.parse::<ipnet::Ipv4Net>() {
        node_ip.is_some_and(|ip| net.contains(&ip))
    } else {
        return false;
    };
    matched == constraint.equal
}

/// Go's `strings.EqualFold`: equal under Unicode case folding.
fn equal_fold(a: &str, b: &str) -> bool {
    // Two ASCII strings fold equal exactly when they are equal ignoring ASCII case: the quick
    // path for nearly every key and value (the Unicode walk cost a third of a constrained round).
    // One non-ASCII side (`K`, the Kelvin sign, folds to `k`) takes the Unicode walk.
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

fn has_prefix_fold(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::*;
    use crate::ids::TaskId;
    use crate::test_support::{apply_all, NodeFixture};

    const GB: u64 = 1 << 30;

    fn apply(store: &mut Store, actions: Vec<StoreAction>) {
        apply_all(store, actions);
    }

    fn node(id: &str, hostname: &str, role: NodeRole) -> Node {
        let resources = Resources { nano_cpus: 4_000_000_000, memory_bytes: 2 * GB };
        NodeFixture { hostname, role, addr: "192.168.99.100", resources, ..NodeFixture::worker(id) }.build()
    }

    fn add_workers(store: &mut Store, ids: &[&str]) {
        apply(store, ids.iter().map(|id| StoreAction::CreateNode(node(id, id, NodeRole::Worker))).collect());
    }

    fn template() -> TaskTemplate {
        TaskTemplate::for_image("redis:3.0.6")
    }

    fn add_service(store: &mut Store, id: &str, task: TaskTemplate) {
        let spec = ServiceSpec {
            labels: Default::default(),
            name: id.into(),
            mode: ServiceMode::Replicated { replicas: 1 },
            task,
            ports: vec![],
            update: None,
            rollback: None,
        };
        let svc = Service {
            id: ServiceId(id.into()),
            spec,
            spec_version: 1,
            endpoint: Some(Endpoint::default()),
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
            update_status: None,
            previous_spec: None,
            job_status: None,
        };
        apply(store, vec![StoreAction::CreateService(svc)]);
    }

    fn new_task(id: &str, service: &str, slot: u64, node: Option<&str>) -> Task {
        Task {
            id: TaskId(id.into()),
            service_id: ServiceId(service.into()),
            service_name: service.into(),
            slot,
            node_id: node.map(|n| NodeId(n.into())),
            spec: template(),
            spec_version: 1,
            host_ports: vec![],
            desired_state: TaskState::Running,
            status: TaskStatus::new(TaskState::New, Instant::ZERO, "created"),
            networks: vec![],
            created_at: Instant::ZERO,
            job_iteration: None,
        }
    }

    /// Creates the task and lets the allocator's action move it to PENDING.
    fn add_pending(store: &mut Store, mut task: Task, spec: &TaskTemplate, host_ports: Vec<PortConfig>) {
        task.spec = spec.clone();
        let id = task.id.clone();
        apply(
            store,
            vec![
                StoreAction::CreateTask(task),
                StoreAction::AllocateTask { id, networks: vec![], host_ports, at: Instant::ZERO },
            ],
        );
    }

    fn add_running(store: &mut Store, id: &str, service: &str, node: &str, spec: &TaskTemplate) {
        add_pending(store, new_task(id, service, 1, None), spec, vec![]);
        let status = TaskStatus::new(TaskState::Running, Instant::ZERO, "started");
        apply(
            store,
            vec![
                StoreAction::AssignTask { id: TaskId(id.into()), node: NodeId(node.into()), at: Instant::ZERO },
                StoreAction::SetTaskStatus { id: TaskId(id.into()), status },
            ],
        );
    }

    fn add_pending_replicas(store: &mut Store, service: &str, count: u64, spec: &TaskTemplate) {
        for slot in 1..=count {
            add_pending(store, new_task(&format!("{service}-t{slot}"), service, slot, None), spec, vec![]);
        }
    }

    fn assignments(actions: &[StoreAction]) -> Vec<(String, String)> {
        actions
            .iter()
            .filter_map(|a| match a {
                StoreAction::AssignTask { id, node, .. } => Some((id.0.clone(), node.0.clone())),
                _ => None,
            })
            .collect()
    }

    fn pending_messages(actions: &[StoreAction]) -> Vec<String> {
        actions
            .iter()
            .filter_map(|a| match a {
                StoreAction::SetTaskPendingMessage { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    }

    fn nodes_used(actions: &[StoreAction]) -> Vec<String> {
        assignments(actions).into_iter().map(|(_, node)| node).collect()
    }

    #[test]
    fn tasks_beyond_max_replicas_per_node_stay_pending_with_swarms_words() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        let mut spec = template();
        spec.placement.max_replicas = 1;
        add_service(&mut store, "web", spec.clone());
        add_pending_replicas(&mut store, "web", 3, &spec);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        let mut used = nodes_used(&actions);
        used.sort();
        assert_eq!(used, ["n1", "n2"], "one per node");
        assert_eq!(pending_messages(&actions), ["no suitable node (max replicas per node limit exceed)"]);
    }

    #[test]
    fn max_replicas_counts_the_services_running_tasks() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        let mut spec = template();
        spec.placement.max_replicas = 2;
        add_service(&mut store, "web", spec.clone());
        add_running(&mut store, "w1", "web", "n1", &spec);
        add_running(&mut store, "w2", "web", "n1", &spec);
        add_pending(&mut store, new_task("w3", "web", 3, None), &spec, vec![]);
        add_pending(&mut store, new_task("w4", "web", 4, None), &spec, vec![]);
        add_pending(&mut store, new_task("w5", "web", 5, None), &spec, vec![]);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        assert_eq!(nodes_used(&actions), ["n2", "n2"]);
        assert_eq!(pending_messages(&actions), ["no suitable node (max replicas per node limit exceed)"]);
    }

    fn label_nodes(store: &mut Store, labels: &[(&str, &str)]) {
        let actions = labels
            .iter()
            .map(|(id, zone)| StoreAction::SetNodeLabel {
                id: NodeId((*id).into()),
                key: "zone".into(),
                value: Some((*zone).into()),
            })
            .collect();
        apply(store, actions);
    }

    #[test]
    fn a_spread_preference_splits_tasks_evenly_over_label_values_not_nodes() {
        let mut store = Store::new();
        add_workers(&mut store, &["a1", "a2", "a3", "b1"]);
        label_nodes(&mut store, &[("a1", "a"), ("a2", "a"), ("a3", "a"), ("b1", "b")]);
        let mut spec = template();
        spec.placement.preferences = vec![SpreadOver::parse("spread=node.labels.zone").unwrap()];
        add_service(&mut store, "web", spec.clone());
        add_pending_replicas(&mut store, "web", 4, &spec);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        let used = nodes_used(&actions);
        let on = |n: &str| used.iter().filter(|u| *u == n).count();
        assert_eq!(on("b1"), 2, "zone b gets half the tasks: {used:?}");
        assert_eq!(on("a1") + on("a2") + on("a3"), 2);
    }

    #[test]
    fn a_spread_preference_fills_the_zone_with_fewer_tasks_first() {
        let mut store = Store::new();
        add_workers(&mut store, &["a1", "a2", "b1", "b2"]);
        label_nodes(&mut store, &[("a1", "a"), ("a2", "a"), ("b1", "b"), ("b2", "b")]);
        let mut spec = template();
        spec.placement.preferences = vec![SpreadOver::parse("spread=node.labels.zone").unwrap()];
        add_service(&mut store, "web", spec.clone());
        add_running(&mut store, "w1", "web", "a1", &spec);
        add_running(&mut store, "w2", "web", "a1", &spec);
        add_pending(&mut store, new_task("w3", "web", 3, None), &spec, vec![]);
        add_pending(&mut store, new_task("w4", "web", 4, None), &spec, vec![]);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        let mut used = nodes_used(&actions);
        used.sort();
        // Zone a holds 2 already (on one node): both new tasks go to zone b, one per node,
        // though a2 has none.
        assert_eq!(used, ["b1", "b2"]);
    }

    #[test]
    fn spread_puts_two_replicas_on_two_nodes() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        add_service(&mut store, "web", template());
        add_pending_replicas(&mut store, "web", 2, &template());
        let actions = Scheduler::new().schedule(&store, Instant(1));
        let mut used = nodes_used(&actions);
        used.sort();
        assert_eq!(used, ["n1", "n2"]);
    }

    #[test]
    fn spread_counts_placements_of_the_same_round_and_other_services() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2", "n3"]);
        add_service(&mut store, "db", template());
        add_service(&mut store, "web", template());
        add_running(&mut store, "db1", "db", "n1", &template());
        add_pending_replicas(&mut store, "web", 5, &template());
        let actions = Scheduler::new().schedule(&store, Instant(1));
        let used = nodes_used(&actions);
        let on = |n: &str| used.iter().filter(|u| *u == n).count();
        // 5 web tasks over 3 nodes: 2, 2, 1, and the single one goes where db already runs.
        assert_eq!((on("n1"), on("n2"), on("n3")), (1, 2, 2));
    }

    #[test]
    fn applied_assignments_are_not_made_again() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        add_service(&mut store, "web", template());
        add_pending_replicas(&mut store, "web", 3, &template());
        let mut scheduler = Scheduler::new();
        let actions = scheduler.schedule(&store, Instant(1));
        assert_eq!(assignments(&actions).len(), 3);
        apply(&mut store, actions);
        assert!(scheduler.schedule(&store, Instant(2)).is_empty());
        // Assigned tasks count toward the load in the next round: a 4th task goes to the node
        // with one task.
        add_pending(&mut store, new_task("web-t4", "web", 4, None), &template(), vec![]);
        let on_n1 = store.tasks_on_node(&NodeId("n1".into())).count();
        let emptier = if on_n1 == 1 { "n1" } else { "n2" };
        assert_eq!(nodes_used(&scheduler.schedule(&store, Instant(3))), [emptier]);
    }

    #[test]
    fn drained_and_down_nodes_get_nothing() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2", "n3"]);
        apply(
            &mut store,
            vec![
                StoreAction::SetNodeAvailability { id: NodeId("n1".into()), availability: Availability::Drain },
                StoreAction::SetNodeState {
                    id: NodeId("n2".into()),
                    state: NodeState::Down,
                    message: "heartbeat failure".into(),
                    addr: None,
                },
            ],
        );
        add_service(&mut store, "web", template());
        add_pending_replicas(&mut store, "web", 3, &template());
        let actions = Scheduler::new().schedule(&store, Instant(1));
        assert_eq!(nodes_used(&actions), ["n3", "n3", "n3"]);

        apply(
            &mut store,
            vec![StoreAction::SetNodeAvailability { id: NodeId("n3".into()), availability: Availability::Pause }],
        );
        let actions = Scheduler::new().schedule(&store, Instant(1));
        assert!(assignments(&actions).is_empty());
        assert_eq!(pending_messages(&actions), vec!["no suitable node (3 nodes not available for new tasks)"; 3]);
    }

    #[test]
    fn hostname_constraint_pins_tasks_to_one_node() {
        let mut store = Store::new();
        add_workers(&mut store, &["bd1", "bd2", "bd3"]);
        let mut spec = template();
        spec.constraints = vec![Constraint::parse("node.hostname==BD1").unwrap()];
        add_service(&mut store, "web", spec.clone());
        add_pending_replicas(&mut store, "web", 2, &spec);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        assert_eq!(nodes_used(&actions), ["bd1", "bd1"]);
    }

    #[test]
    fn role_constraint_keeps_tasks_off_managers() {
        let mut store = Store::new();
        apply(
            &mut store,
            vec![
                StoreAction::CreateNode(node("a-manager", "manager1", NodeRole::Manager)),
                StoreAction::CreateNode(node("b-worker", "worker1", NodeRole::Worker)),
            ],
        );
        let mut spec = template();
        spec.constraints = vec![Constraint::parse("node.role!=manager").unwrap()];
        add_service(&mut store, "web", spec.clone());
        add_pending_replicas(&mut store, "web", 2, &spec);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        assert_eq!(nodes_used(&actions), ["b-worker", "b-worker"]);
    }

    #[test]
    fn constraint_keys_follow_swarmkit() {
        let mut n = node("n1", "bd1", NodeRole::Worker);
        n.spec.labels.insert("zone".into(), "East".into());
        n.description.engine_labels.insert("disk".into(), "ssd".into());
        let holds = |c: &str| constraint_matches(&Constraint::parse(c).unwrap(), &n);
        assert!(holds("node.id==n1"));
        assert!(!holds("node.role==MANAGER"));
        assert!(holds("node.role==Worker"));
        assert!(holds("node.labels.zone==east"));
        assert!(!holds("node.labels.Zone==east"), "label names are case-sensitive");
        assert!(!holds("node.labels.rack==r1"), "a missing label fails ==");
        assert!(holds("node.labels.rack!=r1"), "a missing label passes !=");
        assert!(holds("engine.labels.disk==SSD"));
        assert!(holds("node.platform.os==linux"));
        assert!(holds("node.platform.arch!=arm64"));
        assert!(holds("node.ip==192.168.99.100"));
        assert!(holds("node.ip==192.168.99.0/24"));
        assert!(holds("node.ip!=10.0.0.0/8"));
        assert!(!holds("node.ip!=not-an-ip"), "a malformed address matches neither way");
        let unknown = Constraint { key: "node.colour".into(), equal: false, value: "red".into() };
        assert!(!constraint_matches(&unknown, &n));
    }

    #[test]
    fn host_port_in_use_keeps_a_second_task_off_the_node() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        add_service(&mut store, "web", template());
        let port =
            PortConfig { protocol: Protocol::Tcp, target_port: 80, published_port: 8080, mode: PublishMode::Host };
        for slot in 1..=3 {
            add_pending(&mut store, new_task(&format!("web-t{slot}"), "web", slot, None), &template(), vec![port]);
        }
        let actions = Scheduler::new().schedule(&store, Instant(1));
        let mut used = nodes_used(&actions);
        used.sort();
        assert_eq!(used, ["n1", "n2"]);
        assert_eq!(pending_messages(&actions), ["no suitable node (host-mode port already in use on 2 nodes)"]);

        // Another protocol on the same number does not conflict.
        let udp = PortConfig { protocol: Protocol::Udp, ..port };
        add_pending(&mut store, new_task("web-u1", "web", 4, None), &template(), vec![udp]);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        assert_eq!(assignments(&actions).iter().filter(|(t, _)| t == "web-u1").count(), 1);
    }

    #[test]
    fn reservations_beyond_a_node_resources_do_not_fit() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        let mut spec = template();
        spec.reservations.memory_bytes = GB;
        add_service(&mut store, "db", spec.clone());
        add_service(&mut store, "web", template());
        // n1 (2 GB) already holds one 1 GB task: room for one more there, two on n2.
        add_running(&mut store, "db0", "db", "n1", &spec);
        add_pending_replicas(&mut store, "db", 4, &spec);
        add_pending_replicas(&mut store, "web", 1, &template());
        let actions = Scheduler::new().schedule(&store, Instant(1));
        let used = nodes_used(&actions);
        let db_used: Vec<_> =
            assignments(&actions).into_iter().filter(|(t, _)| t.starts_with("db")).map(|(_, n)| n).collect();
        assert_eq!(db_used.iter().filter(|n| *n == "n1").count(), 1);
        assert_eq!(db_used.iter().filter(|n| *n == "n2").count(), 2);
        assert_eq!(pending_messages(&actions), ["no suitable node (insufficient resources on 2 nodes)"]);
        // A task reserving nothing still fits on a full node.
        assert_eq!(used.len(), 4);
    }

    #[test]
    fn explanation_orders_clauses_by_rejected_nodes() {
        let mut store = Store::new();
        add_workers(&mut store, &["c1", "c2", "c3", "down", "r1", "r2"]);
        apply(
            &mut store,
            vec![StoreAction::SetNodeState {
                id: NodeId("down".into()),
                state: NodeState::Down,
                message: String::new(),
                addr: None,
            }],
        );
        for r in ["r1", "r2"] {
            apply(
                &mut store,
                vec![StoreAction::SetNodeLabel { id: NodeId(r.into()), key: "tier".into(), value: Some("db".into()) }],
            );
        }
        let mut spec = template();
        spec.reservations.memory_bytes = 3 * GB;
        spec.constraints = vec![Constraint::parse("node.labels.tier==db").unwrap()];
        add_service(&mut store, "db", spec.clone());
        add_pending_replicas(&mut store, "db", 1, &spec);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        // Each node counts once, for the first filter it fails: down → ready; r1, r2 → resources
        // (the constraint would pass); c1..c3 → resources too, as resources come first.
        assert_eq!(
            pending_messages(&actions),
            ["no suitable node (insufficient resources on 5 nodes; 1 node not available for new tasks)"]
        );

        spec.reservations.memory_bytes = GB;
        add_service(&mut store, "db2", spec.clone());
        add_pending_replicas(&mut store, "db2", 3, &spec);
        apply(
            &mut store,
            vec![StoreAction::SetNodeState {
                id: NodeId("r2".into()),
                state: NodeState::Down,
                message: String::new(),
                addr: None,
            }],
        );
        let actions = Scheduler::new().schedule(&store, Instant(1));
        // r1 takes two 1 GB tasks; the third sees: 2 down, r1 full, c1..c3 unconstrained.
        assert_eq!(nodes_used(&actions), ["r1", "r1"]);
        assert_eq!(
            pending_messages(&actions),
            [
                // db's task again, now that r2 is down too.
                "no suitable node (insufficient resources on 4 nodes; 2 nodes not available for new tasks)",
                "no suitable node (scheduling constraints not satisfied on 3 nodes; 2 nodes not available for new tasks; insufficient resources on 1 node)",
            ]
        );
    }

    #[test]
    fn explanation_ties_follow_pipeline_order_and_no_nodes_is_bare() {
        let mut store = Store::new();
        add_service(&mut store, "web", template());
        add_pending_replicas(&mut store, "web", 1, &template());
        let mut scheduler = Scheduler::new();
        let actions = scheduler.schedule(&store, Instant(1));
        assert_eq!(pending_messages(&actions), ["no suitable node"]);
        apply(&mut store, actions);
        assert!(scheduler.schedule(&store, Instant(2)).is_empty(), "an unchanged explanation is not written again");

        add_workers(&mut store, &["n1", "n2"]);
        apply(
            &mut store,
            vec![StoreAction::SetNodeAvailability { id: NodeId("n1".into()), availability: Availability::Drain }],
        );
        let mut spec = template();
        spec.reservations.nano_cpus = 8_000_000_000;
        add_service(&mut store, "big", spec.clone());
        add_pending_replicas(&mut store, "big", 1, &spec);
        let actions = scheduler.schedule(&store, Instant(3));
        assert!(pending_messages(&actions).contains(
            &"no suitable node (1 node not available for new tasks; insufficient resources on 1 node)".to_string()
        ));
    }

    #[test]
    fn global_tasks_are_checked_only_against_their_node() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        apply(
            &mut store,
            vec![StoreAction::SetNodeAvailability { id: NodeId("n2".into()), availability: Availability::Drain }],
        );
        add_service(&mut store, "agent", template());
        add_running(&mut store, "busy", "agent", "n1", &template());
        add_pending(&mut store, new_task("g1", "agent", 0, Some("n1")), &template(), vec![]);
        add_pending(&mut store, new_task("g2", "agent", 0, Some("n2")), &template(), vec![]);
        let actions = Scheduler::new().schedule(&store, Instant(1));
        assert_eq!(assignments(&actions), [("g1".to_string(), "n1".to_string())]);
        assert_eq!(pending_messages(&actions), ["1 node not available for new tasks"]);
    }

    #[test]
    fn pending_tasks_no_longer_wanted_are_left_alone() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1"]);
        add_service(&mut store, "web", template());
        add_pending_replicas(&mut store, "web", 1, &template());
        apply(
            &mut store,
            vec![StoreAction::SetTaskDesired { id: TaskId("web-t1".into()), desired: TaskState::Remove }],
        );
        assert!(Scheduler::new().schedule(&store, Instant(1)).is_empty());
    }

    #[test]
    fn replacement_of_a_failed_task_prefers_a_node_without_recent_failures() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        add_service(&mut store, "web", template());
        add_running(&mut store, "old", "web", "n1", &template());
        let failed = TaskStatus::new(TaskState::Failed, Instant(1000), "task: non-zero exit (137)");
        apply(&mut store, vec![StoreAction::SetTaskStatus { id: TaskId("old".into()), status: failed }]);
        add_pending(&mut store, new_task("new", "web", 1, None), &template(), vec![]);

        // Without the failure, node ID order would pick n1.
        assert_eq!(nodes_used(&Scheduler::new().schedule(&store, Instant(1000))), ["n1"]);
        let mut scheduler = Scheduler::new();
        scheduler.note_failure(&NodeId("n1".into()), &ServiceId("web".into()), Instant(1000));
        assert_eq!(nodes_used(&scheduler.schedule(&store, Instant(1000))), ["n2"]);
        // Five minutes later the failure is forgotten.
        let later = Instant(1000) + FAILURE_WINDOW;
        assert_eq!(nodes_used(&scheduler.schedule(&store, later)), ["n1"]);
        assert_eq!(scheduler.recent_failure_count(&NodeId("n1".into()), &ServiceId("web".into()), later), 0);
    }

    #[test]
    fn five_recent_failures_outweigh_spread() {
        let mut store = Store::new();
        add_workers(&mut store, &["n1", "n2"]);
        add_service(&mut store, "web", template());
        add_running(&mut store, "r2", "web", "n2", &template());
        add_pending(&mut store, new_task("new", "web", 2, None), &template(), vec![]);
        let mut scheduler = Scheduler::new();
        for s in 0..4 {
            scheduler.note_failure(&NodeId("n1".into()), &ServiceId("web".into()), Instant(s * 1000));
        }
        assert_eq!(nodes_used(&scheduler.schedule(&store, Instant(5000))), ["n1"], "4 failures: spread still wins");
        scheduler.note_failure(&NodeId("n1".into()), &ServiceId("web".into()), Instant(5000));
        assert_eq!(nodes_used(&scheduler.schedule(&store, Instant(5000))), ["n2"], "5 failures: n1 goes last");
    }
}
