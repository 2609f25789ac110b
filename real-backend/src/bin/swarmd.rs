//! `swarmd`: one swarm node on this host, with docker's daemon flags where docker has one.
//!
//! ```text
//! swarmd --data-root DIR --listen-addr IP:2377 -H unix://DIR/swarmd.sock \
//!        -H tcp://IP:2376 --tlsverify --tlscacert ca.pem --tlscert cert.pem --tlskey key.pem \
//!        --containerd-socket PATH --containerd-namespace NAME [--hostname NAME] [--log-level info]
//! ```
//!
//! Every `-H` serves the Docker Engine API (`docker -H ...` drives the node). A `tcp://` address
//! needs `--tlsverify` with its three files, or `--unauthenticated-tcp` to serve it in plain
//! HTTP to anyone who can reach the port.

// Built with `--cfg madsim` this binary is a stub: the simulation builds the library only.
#[cfg(madsim)]
fn main() {
    eprintln!("built for madsim: not runnable");
}

#[cfg(not(madsim))]
fn main() {
    real::main()
}

#[cfg(not(madsim))]
mod real {
    use clap::Parser;
    use std::net::IpAddr;
    use std::path::PathBuf;
    use std::sync::Arc;
    use swarm_core::node::NodeConfig;
    use swarmd::api;
    use swarmd::containerd::{Containerd, ContainerdRuntime};
    use swarmd::daemon::{Clock, Daemon, DaemonParts, Event, MeshListener};
    use swarmd::engine;
    use swarmd::storage::Storage;
    use swarmd::transport::{BoxIo, Security, TcpDialer, Transport};
    use tokio::sync::mpsc;
    use tracing::{error, info, warn};

    #[derive(Parser, Debug)]
    #[command(name = "swarmd", about = "A swarm-mode node on containerd, driving swarm-core")]
    struct Args {
        /// Where the node keeps its Raft log, identity, certificates and task namespaces.
        #[arg(long, default_value = "/var/lib/swarmd")]
        data_root: PathBuf,
        /// The cluster port (node-to-node, mutual TLS).
        #[arg(long, default_value = "0.0.0.0:2377")]
        listen_addr: String,
        /// Engine API addresses: `unix://PATH` or `tcp://IP:PORT` (repeatable).
        #[arg(short = 'H', long = "host")]
        hosts: Vec<String>,
        /// Serve `tcp://` addresses over TLS and accept only clients whose certificate is signed
        /// by `--tlscacert` (dockerd's flag).
        #[arg(long)]
        tlsverify: bool,
        /// The CA that signs the clients' certificates.
        #[arg(long)]
        tlscacert: Option<PathBuf>,
        /// The daemon's certificate (PEM).
        #[arg(long)]
        tlscert: Option<PathBuf>,
        /// The daemon's private key (PEM).
        #[arg(long)]
        tlskey: Option<PathBuf>,
        /// Serve `tcp://` addresses without TLS: anyone who can reach the port controls the
        /// cluster. Without it (or `--tlsverify`) swarmd refuses to listen on TCP.
        #[arg(long)]
        unauthenticated_tcp: bool,
        #[arg(long, default_value = "/run/containerd/containerd.sock")]
        containerd_socket: PathBuf,
        #[arg(long, default_value = "swarmd")]
        containerd_namespace: String,
        /// The name `node ls` shows (default: the host's).
        #[arg(long)]
        hostname: Option<String>,
        /// error, warn, info, debug, trace.
        #[arg(long, default_value = "info")]
        log_level: String,
        /// The docker whose behaviour the node imitates where versions differ (address ranges,
        /// scale-down): 1.12 or 20.10.
        #[arg(long, default_value = "1.12", value_parser = parse_docker_version)]
        docker_version: swarm_core::cli::DockerVersion,
        /// An engine label, `KEY=VALUE` (repeatable): `node inspect` shows it, and constraints
        /// and placement preferences on `engine.labels.KEY` read it (dockerd's `--label`).
        #[arg(long = "label", value_parser = parse_engine_label)]
        labels: Vec<(String, String)>,
    }

    /// `KEY=VALUE`, or `KEY` alone for an empty value, as dockerd reads `--label`.
    fn parse_engine_label(text: &str) -> Result<(String, String), String> {
        let (key, value) = text.split_once('=').unwrap_or((text, ""));
        if key.is_empty() {
            return Err(format!("{text:?}: a label needs a key"));
        }
        Ok((key.to_string(), value.to_string()))
    }

    fn parse_docker_version(text: &str) -> Result<swarm_core::cli::DockerVersion, String> {
        swarm_core::cli::DockerVersion::parse(text).ok_or_else(|| format!("{text:?} is not 1.12 or 20.10"))
    }

    pub fn main() {
        let args = Args::parse();
        let level: tracing::Level = args.log_level.parse().unwrap_or(tracing::Level::INFO);
        tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).with_ansi(false).init();
        let rt =
            tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
        let code = rt.block_on(run(args));
        // Containers keep running; open connections are dropped with the runtime.
        rt.shutdown_timeout(std::time::Duration::from_millis(500));
        std::process::exit(code);
    }

    async fn run(args: Args) -> i32 {
        // Engine API.
        let hosts = if args.hosts.is_empty() {
            vec![format!("unix://{}", args.data_root.join("swarmd.sock").display())]
        } else {
            args.hosts.clone()
        };
        let tls = if args.tlsverify {
            let (Some(ca), Some(cert), Some(key)) = (args.tlscacert.clone(), args.tlscert.clone(), args.tlskey.clone())
            else {
                error!("--tlsverify needs --tlscacert, --tlscert and --tlskey");
                return 1;
            };
            match engine::server::tls_config(&engine::server::TlsFiles { ca, cert, key }) {
                Ok(c) => Some(c),
                Err(e) => {
                    error!(%e, "cannot load the Engine API's TLS files");
                    return 1;
                }
            }
        } else {
            None
        };
        // Refuse a plain-text TCP address before touching anything.
        for h in &hosts {
            if matches!(api::parse_host(h), api::Host::Tcp(_)) && tls.is_none() && !args.unauthenticated_tcp {
                error!(host = %h, "refusing to serve the Engine API on TCP without TLS: give --tlsverify --tlscacert --tlscert --tlskey, or --unauthenticated-tcp");
                return 1;
            }
        }
        if let Err(e) = std::fs::create_dir_all(&args.data_root) {
            error!(%e, dir = %args.data_root.display(), "cannot create the data root");
            return 1;
        }
        let storage = match Storage::open(&args.data_root.join("raft.redb")) {
            Ok(s) => s,
            Err(e) => {
                error!(%e, "cannot open the store");
                return 1;
            }
        };
        let clock = Clock::wall();
        let (events_tx, events_rx) = mpsc::channel::<Event>(1024);
        let (inbound_tx, inbound_rx) = mpsc::channel(4096);
        let (cev_tx, cev_rx) = mpsc::unbounded_channel();
        let now_clock = clock.clone();
        let containerd = match Containerd::connect(
            args.containerd_socket.clone(),
            args.containerd_namespace.clone(),
            args.data_root.join("netns"),
            cev_tx,
            Arc::new(move || now_clock.now()),
        )
        .await
        {
            Ok(c) => c,
            Err(e) => {
                error!(%e, "cannot reach containerd");
                return 1;
            }
        };
        let runtime: Arc<dyn swarmd::runtime::Runtime> = Arc::new(ContainerdRuntime(containerd));
        // Before `Daemon::new`: re-adopted containers get their DNS server back at once.
        runtime.set_resolver(swarmd::daemon::resolver(events_tx.clone()));
        let dialer = Arc::new(TcpDialer);
        let transport = Transport::new(dialer.clone(), Security::mutual_tls(), args.listen_addr.clone());
        transport.set_runtime(Arc::clone(&runtime));
        let hostname = args.hostname.clone().unwrap_or_else(swarmd::host::hostname);
        let config = NodeConfig {
            hostname: hostname.clone(),
            interfaces: swarmd::host::interfaces(),
            resources: swarmd::daemon::host_resources(),
            engine_version: env!("CARGO_PKG_VERSION").to_string(),
            engine_labels: args.labels.iter().cloned().collect(),
            docker_version: args.docker_version,
        };
        let listen = Arc::new(|ip: IpAddr, port: u16| -> swarmd::transport::BoxFuture<std::io::Result<MeshListener>> {
            Box::pin(async move {
                let l = tokio::net::TcpListener::bind((ip, port)).await?;
                let (tx, rx) = mpsc::channel::<BoxIo>(64);
                tokio::spawn(async move {
                    while let Ok((s, _)) = l.accept().await {
                        if tx.send(Box::new(s)).await.is_err() {
                            return;
                        }
                    }
                });
                Ok(MeshListener(rx))
            })
        });
        let parts = DaemonParts {
            config,
            seed: swarmd::host::random_seed(),
            clock,
            storage,
            certs_dir: args.data_root.join("certificates"),
            transport: Arc::clone(&transport),
            dialer,
            runtime,
            mesh_ip: None,
            listen,
        };
        let daemon = Daemon::new(parts, events_tx.clone()).await;

        // Cluster port.
        let cluster = match tokio::net::TcpListener::bind(&args.listen_addr).await {
            Ok(l) => l,
            Err(e) => {
                error!(%e, addr = %args.listen_addr, "cannot listen on the cluster port");
                return 1;
            }
        };
        info!(addr = %args.listen_addr, "cluster port listening");
        let t = Arc::clone(&transport);
        tokio::spawn(async move {
            loop {
                match cluster.accept().await {
                    Ok((s, peer)) => {
                        let _ = s.set_nodelay(true);
                        tokio::spawn(Arc::clone(&t).serve(Box::new(s), peer.to_string(), inbound_tx.clone()));
                    }
                    Err(e) => {
                        warn!(%e, "cluster port: accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            }
        });

        let engine = Arc::new(engine::Engine::new(
            Arc::new(engine::server::EventDaemon(events_tx.clone())),
            engine::HostFacts::of_this_host(hostname.clone(), args.data_root.display().to_string()),
        ));
        for h in &hosts {
            let served = match api::parse_host(h) {
                api::Host::Unix(p) => engine::server::serve_unix(std::path::Path::new(&p), Arc::clone(&engine)).await,
                api::Host::Tcp(a) => {
                    if tls.is_none() {
                        warn!(host = %h, "serving the Engine API on TCP without TLS (--unauthenticated-tcp): anyone who can reach this port controls the cluster");
                    }
                    engine::server::serve_tcp(&a, Arc::clone(&engine), tls.clone()).await
                }
            };
            match served {
                Ok(_) => info!(host = %h, tls = tls.is_some(), "Engine API listening"),
                Err(e) => {
                    error!(%e, host = %h, "cannot serve the Engine API");
                    return 1;
                }
            }
        }

        // SIGTERM / SIGINT: stop the loop; tasks keep running (live-restore).
        let stop = events_tx.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
            let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            info!("signal received: shutting down");
            let _ = stop.send(Event::Shutdown).await;
        });
        drop(events_tx);
        daemon.run(events_rx, inbound_rx, cev_rx).await;
        for h in &hosts {
            if let api::Host::Unix(p) = api::parse_host(h) {
                let _ = std::fs::remove_file(p);
            }
        }
        0
    }
}
