//! Whole-cluster workloads at scale, built in code rather than in a scenario file (a file with
//! 10,000 `[[node]]` tables and 10,000 join steps says nothing a reader needs): `swarmsim bench`
//! runs them and prints what BENCHMARKS.md records.
//!
//! Each workload is an ordinary simulated run — the same `World`, nodes, checkers and trace
//! hash as a scenario — driven through the same CLI commands a user types: `swarm init` on the
//! first host, `swarm join` on every other, `service create` for each service, then waits for
//! every task to be RUNNING. The wall clock is read only here, around phases, to report how
//! long they took; it never reaches the simulation.

use crate::faults::Fault;
use crate::runtime::ImageBehaviour;
use crate::trace::TraceMode;
use crate::world::{HostSpec, NetworkModel, World};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant as WallClock};
use swarm_core::api::{NodeState, Resources};
use swarm_core::cli;
use swarm_core::node::NodeConfig;
use swarm_core::observe::desired_running;

/// One cluster-at-scale workload.
#[derive(Clone, Debug)]
pub struct ScaleSpec {
    /// Hosts, the first of which is the single manager (docker's scale test has 1 manager).
    pub nodes: usize,
    /// Services created, each with `replicas_per_service` replicas.
    pub services: usize,
    pub replicas_per_service: u64,
    /// After every task runs, crash this share of the workers at once (0 = no failure phase).
    pub crash_fraction: f64,
    pub seed: u64,
    /// Print, to stderr, every simulated second of the deploy and recovery phases: tasks
    /// running, wall time and resident memory so far (for runs too long to wait out).
    pub progress: bool,
}

impl ScaleSpec {
    pub fn tasks(&self) -> u64 {
        self.services as u64 * self.replicas_per_service
    }
}

/// What one phase cost: simulated time, wall time and events.
#[derive(Clone, Copy, Debug, Default)]
pub struct Phase {
    pub simulated: Duration,
    pub wall: Duration,
    pub events: u64,
}

#[derive(Clone, Debug, Default)]
pub struct ScaleReport {
    /// `swarm init` and every join, until the manager sees every node Ready.
    pub join: Phase,
    /// From the first `service create` until every task is RUNNING.
    pub deploy: Phase,
    /// From the crash of `crash_fraction` of the workers until every service has its replica
    /// count running again (on the survivors).
    pub recover: Option<Phase>,
    pub crashed_nodes: usize,
    /// Peak resident memory of this process (Linux `VmHWM`), if known.
    pub peak_rss_bytes: Option<u64>,
    /// Summed over the managers: inputs after which a manager stopped at its pass limit.
    pub process_pass_limit_hits: u64,
    pub trace_hash: String,
}

/// How long each phase may take in simulated time before the run is declared stuck.
const PHASE_BOUND: Duration = Duration::from_secs(3600);
/// Granularity of the "every task running" check: the condition scans the store, so it is
/// looked at every this much simulated time, not after every event.
const POLL_EVERY: Duration = Duration::from_millis(100);

fn host_addr(i: usize) -> Ipv4Addr {
    // 10,000 hosts fit in 192.168.0.0/16 with room to spare; .0 and .255 are skipped.
    let i = i as u32;
    Ipv4Addr::new(192, 168, (i / 250) as u8, (i % 250 + 1) as u8)
}

fn hosts(nodes: usize) -> Vec<HostSpec> {
    (0..nodes)
        .map(|i| {
            let name = format!("node{i}");
            HostSpec {
                config: NodeConfig {
                    hostname: name.clone(),
                    interfaces: vec![("eth0".into(), host_addr(i))],
                    // Big enough that resources never limit placement: the workload measures
                    // the control plane, not bin packing.
                    resources: Resources { nano_cpus: 64_000_000_000, memory_bytes: 256 << 30 },
                    engine_version: "1.12.1".into(),
                    engine_labels: BTreeMap::new(),
                    docker_version: Default::default(),
                },
                name,
                daemon_tcp: false,
                missing_images: Vec::new(),
            }
        })
        .collect()
}

fn images() -> BTreeMap<String, ImageBehaviour> {
    crate::runner::image_behaviours(&crate::scenario::default_images())
}

/// Types `line` on `host` and runs the world until the daemon answers.
fn command(world: &mut World, host: usize, line: &str) -> Result<String, String> {
    let invocation = cli::parse(line).map_err(|e| format!("{line}: {e}"))?;
    let req = world.submit(host, invocation.request.clone());
    let until = world.now + Duration::from_secs(60);
    loop {
        if let Some(reply) = world.take_reply(host, req) {
            return match &reply {
                Ok(_) => Ok(cli::render(&invocation, &reply)),
                Err(e) => Err(format!("{line}: {e}")),
            };
        }
        if world.now > until || !world.step_until(until) {
            return Err(format!("{line}: no answer within 60 simulated seconds"));
        }
    }
}

/// Runs until `done` holds, looking every `POLL_EVERY` of simulated time.
fn run_until(world: &mut World, what: &str, mut done: impl FnMut(&World) -> bool) -> Result<(), String> {
    let until = world.now + PHASE_BOUND;
    while !done(world) {
        if let Some(v) = &world.violation {
            return Err(v.clone());
        }
        if world.now >= until {
            return Err(format!("{what}: not reached within {} simulated", sim_text(PHASE_BOUND)));
        }
        let next = world.now + POLL_EVERY;
        world.run_until(next);
    }
    Ok(())
}

fn leader_store(world: &World) -> Option<&swarm_core::store::Store> {
    world.authoritative_store()
}

fn all_nodes_ready(world: &World, expected: usize) -> bool {
    let Some(store) = leader_store(world) else { return false };
    store.nodes.len() == expected && store.nodes.values().all(|n| n.status.state == NodeState::Ready)
}

/// Every service has its replica count of running tasks (the rule `service ls` uses).
fn all_services_running(world: &World, services: usize) -> bool {
    let Some(store) = leader_store(world) else { return false };
    store.services.len() == services
        && store
            .services
            .values()
            .all(|svc| store.running_tasks_of_service(&svc.id).count() as u64 == desired_running(store, svc))
}

fn phase<T>(world: &mut World, body: impl FnOnce(&mut World) -> Result<T, String>) -> Result<(T, Phase), String> {
    let sim_start = world.now;
    let events_start = world.stats.events;
    let wall_start = WallClock::now();
    let value = body(world)?;
    let phase = Phase {
        simulated: Duration::from_millis(world.now.as_millis() - sim_start.as_millis()),
        wall: wall_start.elapsed(),
        events: world.stats.events - events_start,
    };
    Ok((value, phase))
}

/// Runs the workload; an error names the phase that did not complete (or the invariant broken).
pub fn run_scale(spec: &ScaleSpec) -> Result<ScaleReport, String> {
    assert!(spec.nodes >= 1, "a cluster has at least its manager");
    let network = NetworkModel { latency: Duration::from_millis(1), jitter: Duration::from_micros(200), loss: 0.0 };
    let mut world = World::new(spec.seed, hosts(spec.nodes), images(), network, TraceMode::HashOnly);
    let mut report = ScaleReport::default();

    let ((), join) = phase(&mut world, |world| {
        let manager_addr = host_addr(0);
        let init = command(world, 0, &format!("docker swarm init --advertise-addr {manager_addr}"))?;
        let token = init
            .split_whitespace()
            .find(|w| w.starts_with("SWMTKN-1-"))
            .ok_or_else(|| format!("no worker token in the init output: {init}"))?
            .to_string();
        // Every worker types its join at the same moment, as a fleet brought up by a script.
        let mut pending = Vec::new();
        for host in 1..spec.nodes {
            let line = format!("docker swarm join --token {token} {manager_addr}:2377");
            let invocation = cli::parse(&line).map_err(|e| e.to_string())?;
            pending.push((host, world.submit(host, invocation.request)));
        }
        run_until(world, "every join answered", |w| pending.iter().all(|(h, r)| w.has_reply(*h, *r)))?;
        for (host, req) in pending {
            if let Some(Err(e)) = world.take_reply(host, req) {
                return Err(format!("node{host} could not join: {e}"));
            }
        }
        run_until(world, "every node Ready", |w| all_nodes_ready(w, spec.nodes))
    })?;
    report.join = join;

    let ((), deploy) = phase(&mut world, |world| {
        for s in 0..spec.services {
            command(
                world,
                0,
                &format!("docker service create --replicas {} --name svc{s} nginx", spec.replicas_per_service),
            )?;
        }
        let wall_start = WallClock::now();
        let mut next_report = world.now;
        run_until(world, "every task running", |w| {
            if spec.progress && w.now >= next_report {
                next_report = w.now + Duration::from_secs(1);
                let running: usize = leader_store(w)
                    .map(|st| st.services.keys().map(|id| st.running_tasks_of_service(id).count()).sum())
                    .unwrap_or(0);
                eprintln!(
                    "  progress: simulated {}  running {running}/{}  wall {}  rss {} MiB",
                    w.now,
                    spec.tasks(),
                    wall_text(wall_start.elapsed()),
                    current_rss_bytes().unwrap_or(0) >> 20
                );
            }
            all_services_running(w, spec.services)
        })
    })?;
    report.deploy = deploy;

    if spec.crash_fraction > 0.0 && spec.nodes > 1 {
        let mut workers: Vec<usize> = (1..spec.nodes).collect();
        workers.shuffle(&mut ChaCha8Rng::seed_from_u64(spec.seed));
        let count = ((spec.nodes - 1) as f64 * spec.crash_fraction).round() as usize;
        let victims: Vec<String> = workers[..count].iter().map(|i| world.hosts[*i].name.clone()).collect();
        report.crashed_nodes = count;
        let ((), recover) = phase(&mut world, |world| {
            for node in &victims {
                world.apply_fault(&Fault::Crash { node: node.clone() })?;
            }
            run_until(world, "every task replaced", |w| {
                all_services_running(w, spec.services) && crashed_nodes_down(w, &victims)
            })
        })?;
        report.recover = Some(recover);
    }
    report.peak_rss_bytes = peak_rss_bytes();
    report.process_pass_limit_hits =
        world.hosts.iter().filter_map(|h| h.node.observe().manager()).map(|m| m.process_pass_limit_hits()).sum();
    report.trace_hash = world.trace.hash_hex();
    Ok(report)
}

/// The manager marked every crashed node Down (so its tasks were replaced, not merely still
/// counted as running).
fn crashed_nodes_down(world: &World, victims: &[String]) -> bool {
    let Some(store) = leader_store(world) else { return false };
    victims.iter().all(|v| store.node_by_hostname(v).map(|n| n.status.state == NodeState::Down).unwrap_or(false))
}

/// Peak resident set size of this process, from `/proc/self/status` (Linux); `None` elsewhere.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resident set size now, from `/proc/self/status` (Linux); `None` elsewhere.
fn current_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Wall time of `d` for tables: ms below 10 s.
pub fn wall_text(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{:.0} ms", d.as_secs_f64() * 1000.0)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Simulated time, to 0.1 s.
pub fn sim_text(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

impl Phase {
    pub fn microseconds_per_event(&self) -> f64 {
        if self.events == 0 {
            0.0
        } else {
            self.wall.as_secs_f64() * 1e6 / self.events as f64
        }
    }
}
