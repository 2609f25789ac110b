//! The daemon's own networking code — framing, the versioned encoding, reconnects with
//! backoff, timeouts, mutual TLS and the certificate bootstrap — run on turmoil's simulated
//! network with the real core and the real driver loop (`swarmd::daemon::Daemon`). Only the
//! container runtime is the in-memory one (containerd cannot run inside a simulation).
//!
//! The story: three managers form a cluster through `swarm init` / `swarm join` (certificates
//! issued over the cluster port), elect a leader; the leader is cut off from the others; a
//! new leader is elected and takes a write; the partition heals and all three converge on one
//! leader, one term and the same services. A peer with a certificate of this cluster then
//! sends garbage frames: they are dropped and counted, the node goes on. The same seed gives
//! the same story, observation by observation.
//!
//! Addresses are turmoil's simulated ones (192.168.0.0/16, inside this process): no packet
//! leaves it.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use swarm_core::api::Resources;
use swarm_core::cli::parse::parse_invocation;
use swarm_core::node::{NodeConfig, Reply};
use swarmd::daemon::{Clock, Daemon, DaemonParts, Event};
use swarmd::runtime::MemoryRuntime;
use swarmd::storage::Storage;
use swarmd::transport::{BoxFuture, BoxIo, Dialer, Security, Transport};
use tokio::sync::{mpsc, oneshot};

const HOSTS: [&str; 3] = ["m0", "m1", "m2"];

struct TurmoilDialer;

impl Dialer for TurmoilDialer {
    fn dial(&self, addr: String) -> BoxFuture<io::Result<BoxIo>> {
        Box::pin(async move { Ok(Box::new(turmoil::net::TcpStream::connect(addr).await?) as BoxIo) })
    }
}

type Registry = Arc<Mutex<HashMap<String, mpsc::Sender<Event>>>>;

fn ipv4(name: &str) -> Ipv4Addr {
    match turmoil::lookup(name) {
        IpAddr::V4(ip) => ip,
        other => panic!("{name} has no IPv4 address: {other}"),
    }
}

async fn host_main(name: &'static str, index: u64, dir: PathBuf, registry: Registry) -> turmoil::Result {
    let ip = ipv4(name);
    let (events_tx, events_rx) = mpsc::channel(64);
    let (inbound_tx, inbound_rx) = mpsc::channel(1024);
    let (cev_tx, cev_rx) = mpsc::unbounded_channel();
    let dialer: Arc<dyn Dialer> = Arc::new(TurmoilDialer);
    let transport = Transport::new(Arc::clone(&dialer), Security::mutual_tls(), format!("{ip}:2377"));
    let runtime = MemoryRuntime::new(cev_tx, vec!["nginx".into()]);
    transport.set_runtime(runtime.clone());
    let parts = DaemonParts {
        config: NodeConfig {
            hostname: name.to_string(),
            interfaces: vec![("eth0".into(), ip)],
            resources: Resources { nano_cpus: 2_000_000_000, memory_bytes: 1 << 31 },
            engine_version: "turmoil".into(),
            engine_labels: BTreeMap::new(),
        },
        seed: 1000 + index,
        clock: Clock::new(0),
        storage: Storage::open(&dir.join(format!("{name}.redb"))).expect("store"),
        certs_dir: dir.join(name).join("certificates"),
        transport: Arc::clone(&transport),
        dialer,
        runtime,
        mesh_ip: None,
        listen: Arc::new(|_, _| Box::pin(async { Err(io::Error::other("no published ports in this test")) })),
    };
    let daemon = Daemon::new(parts, events_tx.clone()).await;
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", 2377)).await?;
    registry.lock().unwrap().insert(name.to_string(), events_tx);
    tokio::spawn(async move {
        while let Ok((s, peer)) = listener.accept().await {
            tokio::spawn(Arc::clone(&transport).serve(Box::new(s), peer.to_string(), inbound_tx.clone()));
        }
    });
    daemon.run(events_rx, inbound_rx, cev_rx).await;
    Ok(())
}

async fn command(registry: &Registry, host: &str, line: &str) -> Reply {
    let tx = registry.lock().unwrap().get(host).cloned().expect("host registered");
    let command = parse_invocation(line).expect("valid command line").command;
    let (reply_tx, reply_rx) = oneshot::channel();
    tx.send(Event::Client { command, reply: reply_tx }).await.expect("daemon running");
    reply_rx.await.expect("daemon answers")
}

async fn ok(registry: &Registry, host: &str, line: &str) -> String {
    match command(registry, host, line).await {
        Reply::Text(t) => t,
        other => panic!("`{line}` on {host}: {other:?}"),
    }
}

/// (term, is leader) as the host's metrics say.
async fn raft_state(registry: &Registry, host: &str) -> (u64, bool) {
    let tx = registry.lock().unwrap().get(host).cloned().expect("host registered");
    let (reply_tx, reply_rx) = oneshot::channel();
    tx.send(Event::Metrics(reply_tx)).await.expect("daemon running");
    let m = reply_rx.await.expect("metrics");
    let get = |k: &str| m.lines().find_map(|l| l.strip_prefix(k)).and_then(|v| v.trim().parse::<u64>().ok());
    (get("swarmd_raft_term ").unwrap_or(0), get("swarmd_raft_leader ") == Some(1))
}

async fn metric(registry: &Registry, host: &str, key: &str) -> u64 {
    let tx = registry.lock().unwrap().get(host).cloned().expect("host registered");
    let (reply_tx, reply_rx) = oneshot::channel();
    tx.send(Event::Metrics(reply_tx)).await.expect("daemon running");
    let m = reply_rx.await.expect("metrics");
    m.lines().find_map(|l| l.strip_prefix(key)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// Polls every 500 ms until exactly one of `hosts` leads and all of them agree on its term.
async fn wait_for_one_leader(registry: &Registry, hosts: &[&'static str], newer_than: u64, limit: Duration) -> (&'static str, u64) {
    let start = tokio::time::Instant::now();
    loop {
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
        assert!(start.elapsed() < limit, "no single leader among {hosts:?} after {limit:?}: terms {terms:?}, leaders {leaders:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn run(seed: u64) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("swarmd-turmoil-{}-{seed}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let registry: Registry = Arc::default();
    let trace: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut sim = turmoil::Builder::new()
        .rng_seed(seed)
        .simulation_duration(Duration::from_secs(400))
        .tick_duration(Duration::from_millis(5))
        .build();
    for (i, name) in HOSTS.iter().enumerate() {
        let (registry, dir) = (Arc::clone(&registry), dir.clone());
        sim.host(*name, move || host_main(name, i as u64, dir.clone(), Arc::clone(&registry)));
    }
    let (reg, tr, dir2) = (Arc::clone(&registry), Arc::clone(&trace), dir.clone());
    sim.client("ctl", async move {
        let note = |s: String| tr.lock().unwrap().push(format!("{:>7}ms {s}", turmoil::elapsed().as_millis()));
        while reg.lock().unwrap().len() < HOSTS.len() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let ip0 = ipv4("m0");
        let out = ok(&reg, "m0", &format!("swarm init --advertise-addr {ip0}")).await;
        assert!(out.starts_with("Swarm initialized"), "{out}");
        let token = ok(&reg, "m0", "swarm join-token -q manager").await.trim().to_string();
        // A wrong token is refused at the certificate step.
        let bad = format!("{}zzzzz", &token[..token.len() - 5]);
        let refused = command(&reg, "m1", &format!("swarm join --token {bad} --advertise-addr {} {ip0}:2377", ipv4("m1"))).await;
        assert_eq!(refused, Reply::Error("A valid join token is necessary to join this cluster".into()));
        for h in ["m1", "m2"] {
            let out = ok(&reg, h, &format!("swarm join --token {token} --advertise-addr {} {ip0}:2377", ipv4(h))).await;
            assert_eq!(out, "This node joined a swarm as a manager.\n");
            note(format!("{h} joined"));
        }
        let (leader, term) = wait_for_one_leader(&reg, &HOSTS, 0, Duration::from_secs(60)).await;
        note(format!("leader {leader} term {term}"));

        // Cut the leader off; the other two elect a new one and take a write.
        let others: Vec<&'static str> = HOSTS.iter().copied().filter(|h| *h != leader).collect();
        for o in &others {
            turmoil::partition(leader, *o);
        }
        note(format!("partitioned {leader}"));
        let (new_leader, new_term) = wait_for_one_leader(&reg, &others, term, Duration::from_secs(90)).await;
        note(format!("leader {new_leader} term {new_term}"));
        let id = ok(&reg, new_leader, "service create --replicas 1 --name web nginx").await;
        assert_eq!(id.trim().len(), 25);
        note("service created during the partition".into());

        // Heal: everyone converges on one leader, one term, the same services.
        for o in &others {
            turmoil::repair(leader, *o);
        }
        note("repaired".into());
        let (final_leader, final_term) = wait_for_one_leader(&reg, &HOSTS, term, Duration::from_secs(90)).await;
        note(format!("converged: leader {final_leader} term {final_term}"));
        let start = tokio::time::Instant::now();
        loop {
            let ls = ok(&reg, leader, "service ls").await;
            if ls.contains("web") && ls.contains("1/1") {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "the old leader never caught up: {ls}");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        note(format!("{leader} sees web 1/1"));

        // Garbage from a peer holding a valid certificate: dropped and counted, no panic.
        let certs = swarmd::tls::NodeCerts::load(&dir2.join("m0").join("certificates")).unwrap().expect("m0 certificates");
        let (csr, key) = swarmd::tls::new_csr(IpAddr::V4(ipv4("ctl"))).unwrap();
        let cert = swarmd::tls::sign_csr(&certs.ca_cert_der, certs.ca_key_pkcs8.as_ref().unwrap(), &csr).unwrap();
        let mine = swarmd::tls::NodeCerts { ca_cert_der: certs.ca_cert_der.clone(), ca_key_pkcs8: None, cert_der: cert, key_pkcs8: key };
        let before = metric(&reg, final_leader, "swarmd_frames_dropped_total{reason=\"malformed\"} ").await;
        let mut s = swarmd::transport::connect(&TurmoilDialer, &format!("{}:2377", ipv4(final_leader)), Some(mine.client_config().unwrap()))
            .await
            .expect("a certified peer connects");
        swarmd::frame::write_frame(&mut s, &[swarmd::wire::WIRE_VERSION, b'N', b'x']).await.unwrap();
        for garbage in [vec![], vec![99, 1, 2, 3], vec![swarmd::wire::WIRE_VERSION, 0xff, 0xff, 0xff, 0xff]] {
            swarmd::frame::write_frame(&mut s, &garbage).await.unwrap();
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = metric(&reg, final_leader, "swarmd_frames_dropped_total{reason=\"malformed\"} ").await;
        assert_eq!(after, before + 3, "three malformed frames counted");
        let (_, still_leader) = raft_state(&reg, final_leader).await;
        assert!(still_leader, "the node goes on after garbage");
        note(format!("malformed frames counted: {}", after - before));
        Ok(())
    });
    sim.run().expect("simulation");
    let _ = std::fs::remove_dir_all(&dir);
    let t = trace.lock().unwrap().clone();
    t
}

fn rand_suffix() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[test]
fn three_managers_survive_the_leaders_partition_and_replay_per_seed() {
    let first = run(7);
    for line in &first {
        println!("{line}");
    }
    let second = run(7);
    assert_eq!(first, second, "the same seed gives the same run");
}
