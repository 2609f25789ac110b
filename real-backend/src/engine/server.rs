//! The Engine API's listeners: HTTP/1.1 (hyper 1's connection-level server, the version tonic
//! already brings) on unix sockets and TCP, TCP optionally behind TLS as dockerd's
//! `--tlsverify --tlscacert --tlscert --tlskey` (rustls, the version the cluster port uses): a
//! client without a certificate signed by that CA fails the handshake.

use super::{Daemon, Engine};
use crate::daemon::Event;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use std::convert::Infallible;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use swarm_core::control::{Reply, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

/// A request body larger than this is refused (a service spec is a few KiB).
pub const MAX_BODY_BYTES: usize = 4 << 20;
/// A client that has not sent its headers by then is dropped.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The daemon behind its event channel: each request is one `Event::Client`.
pub struct EventDaemon(pub mpsc::Sender<Event>);

impl Daemon for EventDaemon {
    fn call(&self, request: Request) -> super::BoxFuture<Reply> {
        let events = self.0.clone();
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            if events.send(Event::Client { request, reply: tx }).await.is_err() {
                return Err("the daemon is shutting down".into());
            }
            match tokio::time::timeout(crate::api::CLIENT_TIMEOUT, rx).await {
                Ok(Ok(reply)) => reply,
                Ok(Err(_)) => Err("the daemon is shutting down".into()),
                Err(_) => Err("the daemon did not answer in time".into()),
            }
        })
    }

    fn metrics(&self) -> super::BoxFuture<Option<String>> {
        let events = self.0.clone();
        Box::pin(async move {
            let (tx, rx) = oneshot::channel();
            events.send(Event::Metrics(tx)).await.ok()?;
            rx.await.ok()
        })
    }
}

/// dockerd's TLS flags.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn read_pem(path: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The server side of `--tlsverify`: the daemon's certificate, and client certificates
/// required and verified against the CA.
pub fn tls_config(files: &TlsFiles) -> io::Result<Arc<ServerConfig>> {
    let bad = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidData, format!("{what} {}: {e}", path.display()))
    };
    let mut roots = RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut read_pem(&files.ca)?.as_slice()) {
        let cert = cert.map_err(|e| bad("CA certificate", &files.ca, &e))?;
        roots.add(cert).map_err(|e| bad("CA certificate", &files.ca, &e))?;
    }
    if roots.is_empty() {
        return Err(bad("CA certificate", &files.ca, &"no certificate in the file"));
    }
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut read_pem(&files.cert)?.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| bad("certificate", &files.cert, &e))?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut read_pem(&files.key)?.as_slice())
        .map_err(|e| bad("key", &files.key, &e))?
        .ok_or_else(|| bad("key", &files.key, &"no private key in the file"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| bad("CA certificate", &files.ca, &e))?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|e| bad("certificate", &files.cert, &e))?;
    Ok(Arc::new(config))
}

/// Serves HTTP/1.1 on one connection until the client closes it.
pub async fn serve_connection<S>(engine: Arc<Engine>, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |mut req: hyper::Request<Incoming>| {
        let engine = Arc::clone(&engine);
        async move {
            // `docker exec` asks to hijack the connection for its output (`Upgrade: tcp`).
            let upgrade = req.headers().contains_key(hyper::header::UPGRADE).then(|| hyper::upgrade::on(&mut req));
            let (parts, body) = req.into_parts();
            let path = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
            let response = match Limited::new(body, MAX_BODY_BYTES).collect().await {
                Ok(collected) => {
                    engine.handle_upgradable(&parts.method, &path, &collected.to_bytes(), upgrade.is_some()).await
                }
                Err(e) => {
                    engine.counters.malformed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let err = super::ApiErr::bad_request(format!("cannot read the request body: {e}"));
                    super::error_response(&err)
                }
            };
            debug!(method = %parts.method, %path, status = %response.status(), "engine API");
            if let (Some(on_upgrade), Some(raw)) = (upgrade, response.extensions().get::<super::RawStream>().cloned()) {
                tokio::spawn(async move {
                    use tokio::io::AsyncWriteExt;
                    match on_upgrade.await {
                        Ok(upgraded) => {
                            let mut io = TokioIo::new(upgraded);
                            if io.write_all(&raw.0).await.is_ok() {
                                let _ = io.shutdown().await;
                            }
                        }
                        Err(e) => debug!(%e, "engine API: the upgrade failed"),
                    }
                });
            }
            Ok::<_, Infallible>(response)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    if let Err(e) = conn.await {
        debug!(%e, "engine API connection ended");
    }
}

pub async fn serve_unix(path: &Path, engine: Arc<Engine>) -> io::Result<tokio::task::JoinHandle<()>> {
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((s, _)) => {
                    tokio::spawn(serve_connection(Arc::clone(&engine), s));
                }
                Err(e) => {
                    warn!(%e, "engine API (unix): accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }))
}

/// TCP, with TLS when `tls` is given (a failed handshake drops the connection, as dockerd's).
pub async fn serve_tcp(
    addr: &str,
    engine: Arc<Engine>,
    tls: Option<Arc<ServerConfig>>,
) -> io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((s, peer)) => {
                    let engine = Arc::clone(&engine);
                    match acceptor.clone() {
                        None => {
                            tokio::spawn(serve_connection(engine, s));
                        }
                        Some(acceptor) => {
                            tokio::spawn(async move {
                                match tokio::time::timeout(HEADER_READ_TIMEOUT, acceptor.accept(s)).await {
                                    Ok(Ok(tls)) => serve_connection(engine, tls).await,
                                    Ok(Err(e)) => warn!(%peer, %e, "engine API: TLS handshake refused"),
                                    Err(_) => warn!(%peer, "engine API: TLS handshake timed out"),
                                }
                            });
                        }
                    }
                }
                Err(e) => {
                    warn!(%e, "engine API (tcp): accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }))
}

/// Body bytes of a response, for clients in this crate (swarmctl) and the tests.
pub async fn body_bytes(body: Incoming) -> io::Result<Bytes> {
    Ok(body.collect().await.map_err(io::Error::other)?.to_bytes())
}
