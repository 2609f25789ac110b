//! The whole tokio driver under madsim: built with `--cfg madsim` (own target dir, see
//! `ci/madsim.sh`), `tokio` here is madsim's runtime, clock and network, and madsim also makes
//! the OS randomness TLS draws from deterministic. Three `Daemon`s (real core, real transport
//! with mutual TLS and the certificate bootstrap, real redb files) run as madsim nodes in one
//! process, with the in-memory container runtime.
//!
//! The leader's daemon is killed (madsim kill: its tasks and memory are gone, its redb file
//! stays) while a `service create` it received is in flight, then restarted from its data
//! root. Afterwards the service exists exactly once on every manager.
//!
//! Addresses are madsim's simulated ones (192.0.2.0/24, documentation range, inside this
//! process): nothing goes on a real network.
#![cfg(madsim)]

use madsim::runtime::Handle;
use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarm_core::api::Resources;
use swarm_core::cli;
use swarm_core::control::Reply;
use swarm_core::node::NodeConfig;
use swarmd::daemon::{Clock, Daemon, DaemonParts, Event};
use swarmd::runtime::MemoryRuntime;
use swarmd::storage::Storage;
use swarmd::transport::{Dialer, Security, TcpDialer, Transport};
use tokio::sync::{mpsc, oneshot};

const HOSTS: [&str; 3] = ["m0", "m1", "m2"];

type Registry = Arc<Mutex<HashMap<String, mpsc::Sender<Event>>>>;

fn ip_of(name: &str) -> Ipv4Addr {
    let i = HOSTS.iter().position(|h| *h == name).expect("known host") as u8;
    Ipv4Addr::new(192, 0, 2, 1 + i)
}

async fn host_main(
    name: &'static str,
    dir: PathBuf,
    registry: Registry,
    lives: Arc<Mutex<HashMap<&'static str, u64>>>,
    start: madsim::time::Instant,
) {
    let ip = ip_of(name);
    let life = {
        let mut l = lives.lock().unwrap();
        let n = l.entry(name).or_insert(0);
        *n += 1;
        *n
    };
    let (events_tx, events_rx) = mpsc::channel(64);
    let (inbound_tx, inbound_rx) = mpsc::channel(1024);
    let (cev_tx, cev_rx) = mpsc::unbounded_channel();
    let dialer: Arc<dyn Dialer> = Arc::new(TcpDialer);
    let transport = Transport::new(Arc::clone(&dialer), Security::mutual_tls(), format!("{ip}:2377"));
    let runtime = MemoryRuntime::new(cev_tx, vec!["nginx".into()]);
    transport.set_runtime(runtime.clone());
    // Simulated time since the test began, so a restarted daemon's clock goes on.
    let start_ms = madsim::time::Instant::now().duration_since(start).as_millis() as u64;
    let parts = DaemonParts {
        config: NodeConfig {
            hostname: name.to_string(),
            interfaces: vec![("eth0".into(), ip)],
            resources: Resources { nano_cpus: 2_000_000_000, memory_bytes: 1 << 31 },
            engine_version: "madsim".into(),
            engine_labels: BTreeMap::new(),
            docker_version: Default::default(),
        },
        seed: 2000 + 100 * life + ip.octets()[3] as u64,
        clock: Clock::new(start_ms),
        storage: Storage::open(&dir.join(format!("{name}.redb"))).expect("store"),
        certs_dir: dir.join(name).join("certificates"),
        transport: Arc::clone(&transport),
        dialer,
        runtime,
        mesh_ip: None,
        listen: Arc::new(|_, _| Box::pin(async { Err(io::Error::other("no published ports in this test")) })),
    };
    let daemon = Daemon::new(parts, events_tx.clone()).await;
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", 2377)).await.expect("cluster port");
    registry.lock().unwrap().insert(name.to_string(), events_tx);
    tokio::spawn(async move {
        while let Ok((s, peer)) = listener.accept().await {
            tokio::spawn(Arc::clone(&transport).serve(Box::new(s), peer.to_string(), inbound_tx.clone()));
        }
    });
    daemon.run(events_rx, inbound_rx, cev_rx).await;
}

async fn command(registry: &Registry, host: &str, line: &str) -> Option<Reply> {
    let tx = registry.lock().unwrap().get(host).cloned()?;
    let command = cli::parse(line).expect("valid command line").request;
    let (reply_tx, reply_rx) = oneshot::channel();
    tx.send(Event::Client { request: command, reply: reply_tx }).await.ok()?;
    reply_rx.await.ok()
}

async fn ok(registry: &Registry, host: &str, line: &str) -> String {
    let invocation = cli::parse(line).expect("valid command line");
    match command(registry, host, line).await {
        Some(reply @ Ok(_)) => cli::render(&invocation, &reply),
        other => panic!("`{line}` on {host}: {other:?}"),
    }
}

async fn raft_state(registry: &Registry, host: &str) -> (u64, bool) {
    let Some(tx) = registry.lock().unwrap().get(host).cloned() else { return (0, false) };
    let (reply_tx, reply_rx) = oneshot::channel();
    if tx.send(Event::Metrics(reply_tx)).await.is_err() {
        return (0, false);
    }
    let m = reply_rx.await.unwrap_or_default();
    let get = |k: &str| m.lines().find_map(|l| l.strip_prefix(k)).and_then(|v| v.trim().parse::<u64>().ok());
    (get("swarmd_raft_term ").unwrap_or(0), get("swarmd_raft_leader ") == Some(1))
}

async fn wait_for_one_leader(registry: &Registry, hosts: &[&'static str], newer_than: u64) -> (&'static str, u64) {
    for _ in 0..240 {
        let mut leaders = Vec::new();
        let mut terms = Vec::new();
        for h in hosts {
            let (term, leader) = raft_state(registry, h).await;
            terms.push(term);
            if leader {
                leaders.push((*h, term));
            }
        }
        if let [(leader, term)] = leaders[..] {
            if term > newer_than && terms.iter().all(|t| *t == term) {
                return (leader, term);
            }
        }
        madsim::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("no single leader among {hosts:?}");
}

async fn kill_leader_mid_create(crash_after_ms: u64) {
    let start = madsim::time::Instant::now();
    let handle = Handle::current();
    let dir = std::env::temp_dir().join(format!(
        "swarmd-madsim-{}-{crash_after_ms}-{}",
        std::process::id(),
        madsim::rand::random::<u64>()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let registry: Registry = Arc::default();
    let lives: Arc<Mutex<HashMap<&'static str, u64>>> = Arc::default();
    for name in HOSTS {
        let (registry, dir, lives) = (Arc::clone(&registry), dir.clone(), Arc::clone(&lives));
        handle
            .create_node()
            .name(name)
            .ip(IpAddr::V4(ip_of(name)))
            .init(move || host_main(name, dir.clone(), Arc::clone(&registry), Arc::clone(&lives), start))
            .build();
    }
    while registry.lock().unwrap().len() < HOSTS.len() {
        madsim::time::sleep(Duration::from_millis(10)).await;
    }
    let ip0 = ip_of("m0");
    ok(&registry, "m0", &format!("swarm init --advertise-addr {ip0}")).await;
    let token = ok(&registry, "m0", "swarm join-token -q manager").await.trim().to_string();
    for h in ["m1", "m2"] {
        let out =
            ok(&registry, h, &format!("swarm join --token {token} --advertise-addr {} {ip0}:2377", ip_of(h))).await;
        assert_eq!(out, "This node joined a swarm as a manager.\n");
    }
    let (leader, term) = wait_for_one_leader(&registry, &HOSTS, 0).await;

    // The create goes to the leader; the leader's daemon dies while it is in flight.
    let tx = registry.lock().unwrap().get(leader).cloned().unwrap();
    let (reply_tx, reply_rx) = oneshot::channel();
    let create = cli::parse("service create --replicas 1 --name web nginx").unwrap().request;
    tx.send(Event::Client { request: create, reply: reply_tx }).await.unwrap();
    madsim::time::sleep(Duration::from_millis(crash_after_ms)).await;
    registry.lock().unwrap().remove(leader);
    handle.kill(leader);
    // Answered before the kill (committed) or not at all: either way the outcome below holds.
    let _answered = reply_rx.await.is_ok();

    let others: Vec<&'static str> = HOSTS.iter().copied().filter(|h| *h != leader).collect();
    let (new_leader, _) = wait_for_one_leader(&registry, &others, term).await;
    let ls = ok(&registry, new_leader, "service ls").await;
    if !ls.contains(" web ") {
        match command(&registry, new_leader, "service create --replicas 1 --name web nginx").await {
            Some(Ok(_)) => {}
            Some(Err(e)) if e.message.contains("already exists") => {}
            other => panic!("retrying the create: {other:?}"),
        }
    }

    // The killed daemon restarts from its data root and rejoins.
    handle.restart(leader);
    while !registry.lock().unwrap().contains_key(leader) {
        madsim::time::sleep(Duration::from_millis(10)).await;
    }
    wait_for_one_leader(&registry, &HOSTS, term).await;
    for _ in 0..120 {
        let mut done = true;
        for h in HOSTS {
            // A follower forwards the read to the leader (swarmkit's raft proxy); the restarted
            // daemon's first call can time out while its connections come back: asked again.
            let ls = match command(&registry, h, "service ls").await {
                Some(reply @ Ok(_)) => cli::render(&cli::parse("service ls").unwrap(), &reply),
                _ => String::new(),
            };
            done &= ls.lines().filter(|l| l.contains(" web ")).count() == 1 && ls.lines().count() == 2;
        }
        if done {
            let _ = std::fs::remove_dir_all(&dir);
            return;
        }
        madsim::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("web is not exactly once on every manager");
}

#[madsim::test]
async fn leader_daemon_killed_at_once_after_service_create() {
    kill_leader_mid_create(0).await;
}

#[madsim::test]
async fn leader_daemon_killed_2ms_after_service_create() {
    kill_leader_mid_create(2).await;
}

#[madsim::test]
async fn leader_daemon_killed_20ms_after_service_create() {
    kill_leader_mid_create(20).await;
}
