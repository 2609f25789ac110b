//! The scheduler alone (issue #5, item 4): tasks placed per second by `Scheduler::schedule` on a
//! store of N ready nodes and M PENDING tasks, at 100, 1,000 and 10,000 nodes.
//!
//! Run: `cargo bench -p swarm-core --bench scheduler`. Quick mode (CI):
//! `SWARM_BENCH_QUICK=1 cargo bench -p swarm-core --bench scheduler -- --sample-count 1`
//! (10,000 tasks instead of 100,000, so building the stores takes a fraction of a second).
//!
//! divan rather than criterion: a dozen dependencies instead of ~40 (no plotters, rayon,
//! serde_json, regex), one table for every size and case with a throughput column
//! (`ItemsCount` → tasks/s), and sample count and filters from the command line, which is all
//! the quick mode needs. criterion's HTML reports and saved baselines are not used here.
//!
//! Each iteration is one full scheduling round on an unchanged store (`schedule` takes the
//! store by reference and returns the `AssignTask` actions without applying them), so every
//! iteration places all M tasks from scratch: the per-round tally of the store, the filter
//! pipeline over every node, the spread heap and the actions. Building the store is outside the
//! timing.
//!
//! Cases:
//! - `plain`: one replicated service, no constraints, no reservations (swarmkit's benchmark:
//!   100,000 tasks on 1,000 nodes).
//! - `constrained`: `node.labels.zone==a` (half the nodes carry zone=a) and `node.role==worker`
//!   (a few nodes are managers), so every node goes through the constraint filter.
//! - `reserved`: each task reserves 0.01 CPU and 16 MiB; the resource filter checks and
//!   accounts for every placement (nodes have room for all of them).
//! - `services`: 100 services sharing the M tasks (the per-service ranking is rebuilt 100 times).

use divan::counter::ItemsCount;
use divan::Bencher;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use swarm_core::api::*;
use swarm_core::ids::{new_id, NodeId, ServiceId, TaskId};
use swarm_core::manager::scheduler::Scheduler;
use swarm_core::store::{Store, StoreAction, Touched};
use swarm_core::time::Instant;

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [100, 1_000, 10_000];

fn task_count() -> usize {
    // A benchmark may read its environment (core's clippy.toml forbids it in the library).
    #[allow(clippy::disallowed_methods)]
    let quick = std::env::var_os("SWARM_BENCH_QUICK").is_some();
    if quick {
        10_000
    } else {
        100_000
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Case {
    Plain,
    Constrained,
    Reserved,
    Services,
}

fn apply(store: &mut Store, actions: impl IntoIterator<Item = StoreAction>) {
    let mut touched = Touched::default();
    for action in actions {
        store.apply(action, &mut touched);
    }
}

fn node(id: String, i: usize, role: NodeRole) -> Node {
    let mut labels = BTreeMap::new();
    labels.insert("zone".to_string(), if i.is_multiple_of(2) { "a" } else { "b" }.to_string());
    Node {
        id: NodeId(id),
        spec: NodeSpec { role, availability: Availability::Active, labels },
        description: NodeDescription {
            hostname: format!("node-{i}"),
            platform_os: "linux".into(),
            platform_arch: "x86_64".into(),
            resources: Resources { nano_cpus: 64_000_000_000, memory_bytes: 256 << 30 },
            engine_version: "17.06".into(),
            engine_labels: BTreeMap::new(),
        },
        status: NodeStatus {
            state: NodeState::Ready,
            message: String::new(),
            addr: format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255),
        },
        manager_status: None,
        created_at: Instant::ZERO,
    }
}

fn template(case: Case) -> TaskTemplate {
    let mut t = TaskTemplate::for_image("nginx:alpine");
    match case {
        Case::Constrained => {
            t.constraints = vec![
                Constraint::parse("node.labels.zone==a").unwrap(),
                Constraint::parse("node.role==worker").unwrap(),
            ];
        }
        Case::Reserved => t.reservations = Resources { nano_cpus: 10_000_000, memory_bytes: 16 << 20 },
        Case::Plain | Case::Services => {}
    }
    t
}

/// N ready nodes (IDs random like swarm's; 3 of them managers) and M PENDING tasks.
fn build_store(nodes: usize, tasks: usize, case: Case) -> Store {
    let mut rng = ChaCha8Rng::seed_from_u64(nodes as u64);
    let mut store = Store::new();
    apply(
        &mut store,
        (0..nodes).map(|i| {
            let role = if i < 3 { NodeRole::Manager } else { NodeRole::Worker };
            StoreAction::CreateNode(node(new_id(&mut rng), i, role))
        }),
    );
    let services = if case == Case::Services { 100 } else { 1 };
    let spec = template(case);
    let mut service_ids = Vec::new();
    for s in 0..services {
        let id = ServiceId(new_id(&mut rng));
        let name = format!("web{s}");
        let svc = Service {
            id: id.clone(),
            spec: ServiceSpec {
                labels: Default::default(),
                name: name.clone(),
                mode: ServiceMode::Replicated { replicas: (tasks / services) as u64 },
                task: spec.clone(),
                ports: vec![],
                update: None,
                rollback: None,
            },
            spec_version: 1,
            endpoint: Some(Endpoint::default()),
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
            update_status: None,
            previous_spec: None,
            job_status: None,
        };
        apply(&mut store, [StoreAction::CreateService(svc)]);
        service_ids.push((id, name));
    }
    for t in 0..tasks {
        let (service_id, service_name) = &service_ids[t % services];
        let id = TaskId(new_id(&mut rng));
        let task = Task {
            id: id.clone(),
            service_id: service_id.clone(),
            service_name: service_name.clone(),
            slot: (t / services + 1) as u64,
            node_id: None,
            spec: spec.clone(),
            spec_version: 1,
            host_ports: vec![],
            desired_state: TaskState::Running,
            status: TaskStatus::new(TaskState::New, Instant::ZERO, "created"),
            networks: vec![],
            created_at: Instant::ZERO,
            job_iteration: None,
        };
        // The allocator's action moves it NEW → PENDING.
        apply(
            &mut store,
            [
                StoreAction::CreateTask(task),
                StoreAction::AllocateTask { id, networks: vec![], host_ports: vec![], at: Instant::ZERO },
            ],
        );
    }
    std::hint::black_box(rng.next_u32());
    store
}

fn bench_case(bencher: Bencher, nodes: usize, case: Case) {
    let tasks = task_count();
    let store = build_store(nodes, tasks, case);
    // Every task must be placed, or the figure would count explanations as placements.
    let placed =
        |actions: &[StoreAction]| actions.iter().filter(|a| matches!(a, StoreAction::AssignTask { .. })).count();
    assert_eq!(placed(&Scheduler::new().schedule(&store, Instant(1))), tasks);
    bencher.counter(ItemsCount::new(tasks)).bench_local(|| Scheduler::new().schedule(&store, Instant(1)));
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn plain(bencher: Bencher, nodes: usize) {
    bench_case(bencher, nodes, Case::Plain);
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn constrained(bencher: Bencher, nodes: usize) {
    bench_case(bencher, nodes, Case::Constrained);
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn reserved(bencher: Bencher, nodes: usize) {
    bench_case(bencher, nodes, Case::Reserved);
}

#[divan::bench(args = SIZES, sample_count = 10)]
fn services(bencher: Bencher, nodes: usize) {
    bench_case(bencher, nodes, Case::Services);
}
