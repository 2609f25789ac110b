//! The control API: what `swarmctl` (or any client) sends a daemon, on its unix socket and on
//! every `-H tcp://` address. One connection carries any number of request/response pairs,
//! each a length-delimited JSON frame: `{"version":2,"request":...}` → `{"version":2,"response":...}`.
//! The request is core's control-API `Request` (a client builds it with `swarm_core::cli::parse`,
//! the grammar the simulator uses); the answer is core's `Reply`, objects or docker's error,
//! which the client renders (`swarm_core::cli::render`) or prints as JSON.
//! Version 1 carried the CLI's `Command` and pre-rendered text.

use crate::daemon::Event;
use crate::frame::{read_frame, write_frame};
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;
use std::time::Duration;
use swarm_core::control::{ApiError, Reply, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, warn};

pub const API_VERSION: u32 = 2;
/// Joins answer within 20 s (docker's timeout); leave room for a forwarded write on top.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ApiRequest {
    /// Boxed: a request is large beside `Metrics` (serde encodes the box as its content).
    Control(Box<Request>),
    /// Prometheus text format.
    Metrics,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ApiResponse {
    Control(Reply),
    Metrics(String),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestEnvelope {
    pub version: u32,
    pub request: ApiRequest,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ResponseEnvelope {
    pub version: u32,
    pub response: ApiResponse,
}

async fn serve_conn<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, events: mpsc::Sender<Event>) {
    loop {
        let frame = match read_frame(&mut s).await {
            Ok(Some(f)) => f,
            _ => return,
        };
        let response = match serde_json::from_slice::<RequestEnvelope>(&frame) {
            Err(e) => ApiResponse::Control(Err(ApiError::new(format!("bad request: {e}")))),
            Ok(env) if env.version != API_VERSION => ApiResponse::Control(Err(ApiError::new(format!(
                "client API version {} is not supported (server: {API_VERSION})",
                env.version
            )))),
            Ok(env) => match env.request {
                ApiRequest::Control(request) => {
                    let (tx, rx) = oneshot::channel();
                    if events.send(Event::Client { request: *request, reply: tx }).await.is_err() {
                        return;
                    }
                    ApiResponse::Control(rx.await.unwrap_or_else(|_| Err("the daemon is shutting down".into())))
                }
                ApiRequest::Metrics => {
                    let (tx, rx) = oneshot::channel();
                    if events.send(Event::Metrics(tx)).await.is_err() {
                        return;
                    }
                    ApiResponse::Metrics(rx.await.unwrap_or_default())
                }
            },
        };
        let out = serde_json::to_vec(&ResponseEnvelope { version: API_VERSION, response }).expect("serializes");
        if write_frame(&mut s, &out).await.is_err() {
            return;
        }
    }
}

pub async fn serve_unix(path: &Path, events: mpsc::Sender<Event>) -> io::Result<tokio::task::JoinHandle<()>> {
    let _ = std::fs::remove_file(path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((s, _)) => {
                    tokio::spawn(serve_conn(s, events.clone()));
                }
                Err(e) => {
                    warn!(%e, "control API (unix): accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }))
}

pub async fn serve_tcp(addr: &str, events: mpsc::Sender<Event>) -> io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    Ok(tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((s, peer)) => {
                    debug!(%peer, "control API connection");
                    tokio::spawn(serve_conn(s, events.clone()));
                }
                Err(e) => {
                    warn!(%e, "control API (tcp): accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }))
}

/// `unix:///run/swarmd.sock`, `tcp://127.0.0.2:5555`, `127.0.0.2:5555`, `127.0.0.2` (port 5555).
pub enum Host {
    Unix(String),
    Tcp(String),
}

pub fn parse_host(host: &str) -> Host {
    if let Some(p) = host.strip_prefix("unix://") {
        return Host::Unix(p.to_string());
    }
    let addr = host.strip_prefix("tcp://").unwrap_or(host);
    if addr.contains(':') {
        Host::Tcp(addr.to_string())
    } else {
        Host::Tcp(format!("{addr}:5555"))
    }
}

/// One request to a daemon, with [`CLIENT_TIMEOUT`].
pub async fn call(host: &str, request: ApiRequest) -> io::Result<ApiResponse> {
    let body = serde_json::to_vec(&RequestEnvelope { version: API_VERSION, request }).expect("serializes");
    let exchange = async {
        let bytes = match parse_host(host) {
            Host::Unix(path) => {
                let mut s = tokio::net::UnixStream::connect(path).await?;
                write_frame(&mut s, &body).await?;
                read_frame(&mut s).await?
            }
            Host::Tcp(addr) => {
                let mut s = tokio::net::TcpStream::connect(addr).await?;
                write_frame(&mut s, &body).await?;
                read_frame(&mut s).await?
            }
        };
        let bytes =
            bytes.ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "the daemon closed the connection"))?;
        let env: ResponseEnvelope = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
        Ok(env.response)
    };
    tokio::time::timeout(CLIENT_TIMEOUT, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer from the daemon"))?
}
