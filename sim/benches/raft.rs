//! Raft under simulation (issue #5, item 6): committed proposals per wall second through 3 and
//! 5 managers, in the simulated world (network with 1 ms latency, persist-before-send, the
//! safety checkers after every event, the trace hash).
//!
//! Run: `cargo bench -p swarmsim --bench raft`. Quick mode (CI): `SWARMSIM_BENCH_QUICK=1`
//! (500 proposals, one run each). `SWARMSIM_BENCH_PROPOSALS=N` sets the writes per run.
//!
//! A proposal is one client write, `docker node update --label-add bench=N node0`, typed on
//! the leader: the leader plans it into one store action, proposes it as one Raft entry, and
//! answers the client when the entry has committed on a quorum and applied. The write touches
//! no task, so no controller round follows it: what is measured is Raft plus the manager's
//! write path (plan, encode, propose, persist, replicate, apply, reply) and the simulator's
//! cost per event.
//!
//! - unbatched: one write at a time, the next typed when the previous one is answered (one
//!   round trip of simulated network per proposal).
//! - batch B: B writes typed at the same simulated instant, then the world runs until all B
//!   are answered. Each write is still its own entry; they are in flight together, so followers
//!   acknowledge several per message and commits advance over many entries at once.
//!
//! Each configuration is measured `SWARMSIM_BENCH_RUNS` times (default 3) after a warm-up;
//! the best run and the spread are printed.
//!
//! This reads the wall clock only to time itself, outside the world.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant as WallClock};
use swarm_core::api::Resources;
use swarm_core::cli;
use swarm_core::node::NodeConfig;
use swarmsim::trace::TraceMode;
use swarmsim::world::{HostSpec, NetworkModel, World};

fn addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(192, 168, 0, (i + 1) as u8)
}

fn hosts(n: usize) -> Vec<HostSpec> {
    (0..n)
        .map(|i| HostSpec {
            name: format!("node{i}"),
            config: NodeConfig {
                hostname: format!("node{i}"),
                interfaces: vec![("eth0".into(), addr(i))],
                resources: Resources { nano_cpus: 4_000_000_000, memory_bytes: 8 << 30 },
                engine_version: "17.06".into(),
                engine_labels: BTreeMap::new(),
                docker_version: Default::default(),
            },
            daemon_tcp: false,
            missing_images: Vec::new(),
        })
        .collect()
}

/// Types `line` on `host` and runs the world until the daemon answers.
fn command(world: &mut World, host: usize, line: &str) -> String {
    let invocation = cli::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    let req = world.submit(host, invocation.request.clone());
    let until = world.now + Duration::from_secs(60);
    loop {
        if let Some(reply) = world.take_reply(host, req) {
            match &reply {
                Ok(_) => return cli::render(&invocation, &reply),
                Err(e) => panic!("{line}: {e}"),
            }
        }
        assert!(world.step_until(until), "{line}: no answer within 60 simulated seconds");
    }
}

/// A swarm of `managers` managers, node0 the leader, every manager a voter and caught up.
fn swarm(managers: usize) -> World {
    let network = NetworkModel { latency: Duration::from_millis(1), jitter: Duration::ZERO, loss: 0.0 };
    let mut world = World::new(7, hosts(managers), BTreeMap::new(), network, TraceMode::HashOnly);
    command(&mut world, 0, &format!("docker swarm init --advertise-addr {}", addr(0)));
    let token = command(&mut world, 0, "docker swarm join-token -q manager").trim().to_string();
    for i in 1..managers {
        command(&mut world, i, &format!("docker swarm join --token {token} {}:2377", addr(0)));
    }
    let until = world.now + Duration::from_secs(60);
    let settled = world.run_until_condition(until, |w| {
        let Some(leader) = w.hosts[0].node.observe().manager() else { return false };
        leader.is_leader()
            && leader.voters().len() == managers
            && w.hosts
                .iter()
                .all(|h| h.node.observe().manager().is_some_and(|m| m.applied_index() == leader.applied_index()))
    });
    assert!(settled, "{managers} managers did not settle");
    // A few quiet seconds, so joins' follow-up writes (reachability, node state) are done.
    let quiet = world.now + Duration::from_secs(3);
    world.run_until(quiet);
    assert!(world.violation.is_none(), "{:?}", world.violation);
    world
}

struct Measured {
    wall: Duration,
    sim: Duration,
    events: u64,
}

/// `total` writes on the leader, `batch` at a time (1 = unbatched).
fn measure(world: &mut World, total: usize, batch: usize, counter: &mut u64) -> Measured {
    let leader = 0;
    let started = WallClock::now();
    let sim_start = world.now;
    let events_start = world.stats.events;
    let mut done = 0;
    while done < total {
        let n = batch.min(total - done);
        let mut reqs = Vec::with_capacity(n);
        for _ in 0..n {
            *counter += 1;
            let line = format!("docker node update --label-add bench={counter} node0");
            let invocation = cli::parse(&line).expect("node update parses");
            reqs.push(world.submit(leader, invocation.request));
        }
        let until = world.now + Duration::from_secs(60);
        // Entries commit in proposal order, so the replies are awaited in that order (looking
        // at every outstanding request after each event would cost O(batch) per event).
        for r in reqs {
            let reply = loop {
                if let Some(reply) = world.take_reply(leader, r) {
                    break reply;
                }
                assert!(world.step_until(until), "writes not answered within 60 simulated seconds");
            };
            assert!(reply.is_ok(), "write refused: {reply:?}");
        }
        done += n;
    }
    assert!(world.violation.is_none(), "{:?}", world.violation);
    Measured {
        wall: started.elapsed(),
        sim: world.now.saturating_since(sim_start),
        events: world.stats.events - events_start,
    }
}

fn main() {
    let quick = std::env::var_os("SWARMSIM_BENCH_QUICK").is_some();
    let runs: usize =
        std::env::var("SWARMSIM_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(if quick { 1 } else { 3 });
    let total: usize = std::env::var("SWARMSIM_BENCH_PROPOSALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 500 } else { 20_000 });
    let batches: &[usize] = &[1, 10, 100, 1000];
    println!("raft: {total} committed writes per run, best of {runs} run(s) (spread: worst/best wall time)");
    println!("| managers | batch | proposals/s | µs/proposal | spread | simulated ms/proposal | events/proposal |");
    println!("|---|---|---|---|---|---|---|");
    for managers in [3usize, 5] {
        let mut world = swarm(managers);
        let leader_store = |w: &World| w.hosts[0].node.observe().manager().map(|m| m.applied_index()).unwrap_or(0);
        let mut counter = 0u64;
        for &batch in batches {
            // Warm-up: a tenth of a run.
            measure(&mut world, (total / 10).max(batch), batch, &mut counter);
            let mut results: Vec<Measured> =
                (0..runs).map(|_| measure(&mut world, total, batch, &mut counter)).collect();
            results.sort_by_key(|m| m.wall);
            let best = &results[0];
            let worst = &results[results.len() - 1];
            let per_s = total as f64 / best.wall.as_secs_f64();
            println!(
                "| {managers} | {} | {:.0} | {:.2} | {:.2}× | {:.3} | {:.1} |",
                if batch == 1 { "1 (unbatched)".to_string() } else { batch.to_string() },
                per_s,
                best.wall.as_secs_f64() * 1e6 / total as f64,
                worst.wall.as_secs_f64() / best.wall.as_secs_f64(),
                best.sim.as_secs_f64() * 1e3 / total as f64,
                best.events as f64 / total as f64,
            );
        }
        assert!(leader_store(&world) > counter, "every write applied on the leader");
    }
}
