//! Node-to-node transport on the cluster port: one outgoing TCP (+TLS) connection per peer
//! address, fed by a bounded queue, reconnecting with exponential backoff; incoming connections
//! are read frame by frame and handed to the daemon loop.
//!
//! Every connection starts with a hello frame: `[WIRE_VERSION, kind, body]`. Kind `N` is a node
//! (body: its cluster address) and needs a client certificate when TLS is on; kinds `C` (get
//! the root CA) and `S` (sign a CSR with a join token) are the certificate bootstrap a joining
//! node does before it has a certificate, and are all such a connection may do.
//!
//! Limits: queues hold [`PEER_QUEUE_FRAMES`] frames (a full queue drops and counts; Raft and
//! the dispatcher retransmit), connects time out after [`CONNECT_TIMEOUT`], writes after
//! [`WRITE_TIMEOUT`], backoff grows from 100 ms to [`MAX_BACKOFF`].

use crate::frame::{read_frame, write_frame};
use crate::tls::NodeCerts;
use crate::wire::{self, WIRE_VERSION};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use swarm_core::message::{Addr, Message};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tracing::{debug, info, warn};

pub const PEER_QUEUE_FRAMES: usize = 1024;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(100);

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
pub type BoxIo = Box<dyn Io>;
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Opens a byte stream to `IP:PORT`: real TCP in swarmd, turmoil's TCP in the tests.
pub trait Dialer: Send + Sync + 'static {
    fn dial(&self, addr: String) -> BoxFuture<io::Result<BoxIo>>;
}

pub struct TcpDialer;

impl Dialer for TcpDialer {
    fn dial(&self, addr: String) -> BoxFuture<io::Result<BoxIo>> {
        Box::pin(async move {
            let s = tokio::net::TcpStream::connect(&addr).await?;
            s.set_nodelay(true)?;
            Ok(Box::new(s) as BoxIo)
        })
    }
}

#[derive(Debug, Default)]
pub struct TransportStats {
    pub frames_sent: AtomicU64,
    pub frames_received: AtomicU64,
    /// Payloads that did not decode: dropped, the connection goes on.
    pub frames_malformed: AtomicU64,
    /// Frames dropped because a peer's queue was full or its connection broke mid-write.
    pub frames_dropped: AtomicU64,
    /// Incoming connections refused: TLS handshake failed, no certificate, bad hello.
    pub connections_refused: AtomicU64,
    pub connect_failures: AtomicU64,
}

/// What arrives from the network for the daemon loop.
// Nearly everything inbound is a `Message`: boxing it to shrink the rare `SignRequest` would
// cost an allocation per message received.
#[allow(clippy::large_enum_variant)]
pub enum Inbound {
    Message {
        from: Addr,
        msg: Message,
    },
    /// A joining node asks for a certificate; the daemon checks the token against the store.
    SignRequest {
        token: String,
        csr_der: Vec<u8>,
        reply: oneshot::Sender<Result<SignResponse, String>>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignRequestBody {
    pub token: String,
    pub csr_der: Vec<u8>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignResponse {
    pub cert_der: Vec<u8>,
    /// Given to managers only (manager token).
    pub ca_key_pkcs8: Option<Vec<u8>>,
}

/// TLS state shared by the dialer and the acceptor; `None` until the node has a certificate.
#[derive(Clone, Default)]
pub struct Security {
    pub required: bool,
    state: Arc<RwLock<Option<TlsState>>>,
}

#[derive(Clone)]
pub struct TlsState {
    pub certs: NodeCerts,
    client: Arc<rustls::ClientConfig>,
    server: Arc<rustls::ServerConfig>,
}

impl Security {
    pub fn plaintext() -> Security {
        Security { required: false, state: Default::default() }
    }

    pub fn mutual_tls() -> Security {
        Security { required: true, state: Default::default() }
    }

    pub fn install(&self, certs: NodeCerts) -> Result<(), crate::tls::TlsError> {
        let state = TlsState { client: certs.client_config()?, server: certs.server_config()?, certs };
        *self.state.write().expect("tls lock") = Some(state);
        Ok(())
    }

    pub fn clear(&self) {
        *self.state.write().expect("tls lock") = None;
    }

    pub fn current(&self) -> Option<TlsState> {
        self.state.read().expect("tls lock").clone()
    }
}

fn server_name(addr: &str) -> io::Result<rustls::pki_types::ServerName<'static>> {
    let host = swarm_core::addr::host(addr);
    let ip: std::net::IpAddr =
        host.parse().map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("not an IP address: {addr}")))?;
    Ok(rustls::pki_types::ServerName::IpAddress(ip.into()))
}

/// Connects to `addr` with the given client config (or plaintext when `None`).
pub async fn connect(dialer: &dyn Dialer, addr: &str, tls: Option<Arc<rustls::ClientConfig>>) -> io::Result<BoxIo> {
    let io = tokio::time::timeout(CONNECT_TIMEOUT, dialer.dial(addr.to_string()))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    match tls {
        None => Ok(io),
        Some(config) => {
            let name = server_name(addr)?;
            let s = tokio::time::timeout(CONNECT_TIMEOUT, TlsConnector::from(config).connect(name, io))
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
            Ok(Box::new(s))
        }
    }
}

fn hello(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![WIRE_VERSION, kind];
    v.extend_from_slice(body);
    v
}

pub struct Transport {
    dialer: Arc<dyn Dialer>,
    pub security: Security,
    /// What this node's hello announces: its advertise address once known.
    local_addr: Arc<RwLock<String>>,
    peers: Mutex<HashMap<Addr, mpsc::Sender<Vec<u8>>>>,
    pub stats: Arc<TransportStats>,
    /// Where tunnelled routing-mesh connections (hello `T`) end: this node's tasks.
    runtime: RwLock<Option<Arc<dyn crate::runtime::Runtime>>>,
}

impl Transport {
    pub fn new(dialer: Arc<dyn Dialer>, security: Security, local_addr: String) -> Arc<Transport> {
        Arc::new(Transport {
            dialer,
            security,
            local_addr: Arc::new(RwLock::new(local_addr)),
            peers: Mutex::new(HashMap::new()),
            stats: Arc::default(),
            runtime: RwLock::new(None),
        })
    }

    pub fn set_runtime(&self, runtime: Arc<dyn crate::runtime::Runtime>) {
        *self.runtime.write().expect("runtime lock") = Some(runtime);
    }

    /// A byte stream to `port` of a task on another node, through that node's cluster port.
    pub async fn tunnel(&self, node_addr: &str, container: &str, port: u16) -> io::Result<BoxIo> {
        let tls = match self.security.current() {
            Some(s) => Some(s.client),
            None if self.security.required => return Err(io::Error::other("no certificate")),
            None => None,
        };
        let mut io = connect(self.dialer.as_ref(), node_addr, tls).await?;
        write_frame(&mut io, &hello(b'T', format!("{port} {container}").as_bytes())).await?;
        Ok(io)
    }

    /// The address this node announces in its hello (its advertise address once known).
    pub fn set_local_addr(&self, addr: Addr) {
        *self.local_addr.write().expect("addr lock") = addr.to_string();
    }

    /// Queues `msg` for `to`; never blocks. A full queue drops the frame (counted).
    pub fn send(self: &Arc<Self>, to: &Addr, msg: &Message) {
        let payload = wire::encode(msg);
        let mut peers = self.peers.lock().expect("peers lock");
        let tx = peers.entry(*to).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(PEER_QUEUE_FRAMES);
            let me = Arc::clone(self);
            let addr = *to;
            tokio::spawn(async move { me.peer_loop(addr, rx).await });
            tx
        });
        if tx.try_send(payload).is_err() {
            self.stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
            debug!(peer = %to, "queue full or closed: frame dropped");
        }
    }

    /// Forgets every peer connection (after leaving a swarm or changing certificates).
    pub fn reset_peers(&self) {
        self.peers.lock().expect("peers lock").clear();
    }

    async fn peer_loop(self: Arc<Self>, addr: Addr, mut rx: mpsc::Receiver<Vec<u8>>) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let tls = match self.security.current() {
                Some(s) => Some(s.client),
                None if self.security.required => {
                    // No certificate yet: nothing may be sent; drop what is queued.
                    while rx.try_recv().is_ok() {
                        self.stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                    if rx.is_closed() {
                        return;
                    }
                    tokio::time::sleep(MAX_BACKOFF).await;
                    continue;
                }
                None => None,
            };
            let mut io = match connect(self.dialer.as_ref(), &addr.to_string(), tls).await {
                Ok(io) => io,
                Err(err) => {
                    self.stats.connect_failures.fetch_add(1, Ordering::Relaxed);
                    debug!(peer = %addr, %err, ?backoff, "connect failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            let local = self.local_addr.read().expect("addr lock").clone();
            if write_frame(&mut io, &hello(b'N', local.as_bytes())).await.is_err() {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
            backoff = MIN_BACKOFF;
            debug!(peer = %addr, "connected");
            loop {
                let Some(frame) = rx.recv().await else { return };
                match tokio::time::timeout(WRITE_TIMEOUT, write_frame(&mut io, &frame)).await {
                    Ok(Ok(())) => {
                        self.stats.frames_sent.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        self.stats.frames_dropped.fetch_add(1, Ordering::Relaxed);
                        debug!(peer = %addr, "write failed: reconnecting");
                        break;
                    }
                }
            }
        }
    }

    /// Serves one accepted connection until it closes. `peer` is for logs.
    pub async fn serve(self: Arc<Self>, io: BoxIo, peer: String, inbox: mpsc::Sender<Inbound>) {
        let (mut io, authenticated): (BoxIo, bool) = match self.security.current() {
            Some(state) => {
                let accept = TlsAcceptor::from(state.server.clone()).accept(io);
                match tokio::time::timeout(CONNECT_TIMEOUT, accept).await {
                    Ok(Ok(s)) => {
                        let has_cert = s.get_ref().1.peer_certificates().map(|c| !c.is_empty()).unwrap_or(false);
                        (Box::new(s), has_cert)
                    }
                    Ok(Err(err)) => {
                        self.stats.connections_refused.fetch_add(1, Ordering::Relaxed);
                        warn!(%peer, %err, "refused a connection on the cluster port: TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        self.stats.connections_refused.fetch_add(1, Ordering::Relaxed);
                        warn!(%peer, "refused a connection on the cluster port: TLS handshake timed out");
                        return;
                    }
                }
            }
            None if self.security.required => {
                self.stats.connections_refused.fetch_add(1, Ordering::Relaxed);
                info!(%peer, "refused a connection: this node has no certificate yet (not in a swarm)");
                return;
            }
            None => (io, true),
        };
        let first = match tokio::time::timeout(CONNECT_TIMEOUT, read_frame(&mut io)).await {
            Ok(Ok(Some(f))) => f,
            _ => {
                self.stats.connections_refused.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        if first.len() < 2 || first[0] != WIRE_VERSION {
            self.stats.connections_refused.fetch_add(1, Ordering::Relaxed);
            warn!(%peer, "refused a connection: bad hello");
            return;
        }
        match first[1] {
            b'N' if authenticated => {
                let Some(from) = std::str::from_utf8(&first[2..]).ok().and_then(|text| text.parse::<Addr>().ok())
                else {
                    self.stats.connections_refused.fetch_add(1, Ordering::Relaxed);
                    warn!(%peer, "refused a node connection: its hello names no IP:PORT");
                    return;
                };
                self.read_messages(io, from, inbox).await;
            }
            b'N' => {
                self.stats.connections_refused.fetch_add(1, Ordering::Relaxed);
                warn!(%peer, "refused a node connection without a certificate");
            }
            b'T' if authenticated => {
                let body = String::from_utf8_lossy(&first[2..]).to_string();
                let Some((port, container)) =
                    body.split_once(' ').and_then(|(p, c)| Some((p.parse::<u16>().ok()?, c.to_string())))
                else {
                    self.stats.frames_malformed.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let runtime = self.runtime.read().expect("runtime lock").clone();
                let Some(runtime) = runtime else { return };
                match runtime.connect(&container, port).await {
                    Ok(mut backend) => {
                        let _ = tokio::io::copy_bidirectional(&mut io, &mut backend).await;
                    }
                    Err(err) => debug!(%container, %err, "tunnel: task unreachable"),
                }
            }
            b'C' => {
                let ca = self.security.current().map(|s| s.certs.ca_cert_der).unwrap_or_default();
                let _ = write_frame(&mut io, &ca).await;
            }
            b'S' => {
                let Ok(body) = serde_json::from_slice::<SignRequestBody>(&first[2..]) else {
                    self.stats.frames_malformed.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let (tx, rx) = oneshot::channel();
                let req = Inbound::SignRequest { token: body.token, csr_der: body.csr_der, reply: tx };
                if inbox.send(req).await.is_err() {
                    return;
                }
                let answer = rx.await.unwrap_or_else(|_| Err("daemon shutting down".into()));
                let _ = write_frame(&mut io, &serde_json::to_vec(&answer).expect("serializes")).await;
            }
            other => {
                self.stats.connections_refused.fetch_add(1, Ordering::Relaxed);
                warn!(%peer, kind = other, "refused a connection: unknown hello");
            }
        }
    }

    async fn read_messages(&self, mut io: BoxIo, from: Addr, inbox: mpsc::Sender<Inbound>) {
        loop {
            let frame = match read_frame(&mut io).await {
                Ok(Some(f)) => f,
                Ok(None) => return,
                Err(err) => {
                    debug!(peer = %from, %err, "connection closed");
                    return;
                }
            };
            self.stats.frames_received.fetch_add(1, Ordering::Relaxed);
            match wire::decode(&frame) {
                Ok(msg) => {
                    if inbox.send(Inbound::Message { from, msg }).await.is_err() {
                        return;
                    }
                }
                Err(err) => {
                    self.stats.frames_malformed.fetch_add(1, Ordering::Relaxed);
                    warn!(peer = %from, %err, "malformed frame dropped");
                }
            }
        }
    }
}

/// The joining side of the certificate bootstrap: fetch the root CA without trusting it, check
/// its digest against the token's, then send a CSR over a connection verified against it.
pub async fn bootstrap_certificate(
    dialer: &dyn Dialer,
    remote: &str,
    token: &str,
    expected_digest: &str,
    advertise_ip: std::net::IpAddr,
) -> Result<NodeCerts, String> {
    let fetch = crate::tls::fetch_ca_client_config().map_err(|e| e.to_string())?;
    let mut io =
        connect(dialer, remote, Some(fetch)).await.map_err(|e| format!("could not connect to {remote}: {e}"))?;
    write_frame(&mut io, &hello(b'C', b"")).await.map_err(|e| e.to_string())?;
    let ca = read_frame(&mut io).await.map_err(|e| e.to_string())?.ok_or("connection closed")?;
    let digest = crate::tls::ca_digest(&ca);
    if digest != expected_digest {
        // Docker's words (seen on 20.10): the token's digest printed back as 64 hex digits.
        let expected = swarm_core::tokens::digest_hex(expected_digest).unwrap_or_else(|| expected_digest.to_string());
        return Err(format!("remote CA does not match fingerprint. Expected: {expected}"));
    }
    let (csr_der, key_pkcs8) = crate::tls::new_csr(advertise_ip).map_err(|e| e.to_string())?;
    let anon = crate::tls::anonymous_client_config(&ca).map_err(|e| e.to_string())?;
    let mut io =
        connect(dialer, remote, Some(anon)).await.map_err(|e| format!("could not connect to {remote}: {e}"))?;
    let body = serde_json::to_vec(&SignRequestBody { token: token.to_string(), csr_der }).expect("serializes");
    write_frame(&mut io, &hello(b'S', &body)).await.map_err(|e| e.to_string())?;
    let answer = read_frame(&mut io).await.map_err(|e| e.to_string())?.ok_or("connection closed")?;
    let answer: Result<SignResponse, String> = serde_json::from_slice(&answer).map_err(|e| e.to_string())?;
    let signed = answer?;
    let certs = NodeCerts { ca_cert_der: ca, ca_key_pkcs8: signed.ca_key_pkcs8, cert_der: signed.cert_der, key_pkcs8 };
    Ok(certs)
}
