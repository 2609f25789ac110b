//! swarmctl's control route: core's typed `Request` as JSON, `POST /swarmd/control` on the
//! daemon's Engine API (`crate::engine`): `{"version":2,"request":...}` →
//! `{"version":2,"response":...}`. The request is built with `swarm_core::cli::parse`, the
//! grammar the simulator uses; the answer is core's `Reply`, objects or docker's error, which
//! swarmctl renders (`swarm_core::cli::render`) or prints as JSON. It stays beside docker's
//! routes for what the docker CLI has no verb for (`metrics`, the mesh's `curl`) and for the
//! tests and the conformance runner, which print core's own tables through it.
//! Version 1 carried the CLI's `Command` and pre-rendered text; until the Engine API it was a
//! length-delimited framing on its own socket.

use serde::{Deserialize, Serialize};
use std::io;
use std::time::Duration;
use swarm_core::control::{ApiError, Reply, Request};

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

/// One request to a daemon (`POST /swarmd/control` on its Engine API), with [`CLIENT_TIMEOUT`].
/// Plain HTTP: swarmctl talks to a unix socket or a `-H tcp://` address without `--tlsverify`.
pub async fn call(host: &str, request: ApiRequest) -> io::Result<ApiResponse> {
    let body = serde_json::to_vec(&RequestEnvelope { version: API_VERSION, request }).expect("serializes");
    let exchange = async {
        let (status, bytes) = match parse_host(host) {
            Host::Unix(path) => post(tokio::net::UnixStream::connect(path).await?, body).await?,
            Host::Tcp(addr) => post(tokio::net::TcpStream::connect(addr).await?, body).await?,
        };
        if !status.is_success() {
            // A refusal of the route itself (a 400 for a bad envelope): docker's error shape.
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
                .unwrap_or_else(|| format!("HTTP {status}"));
            return Ok(ApiResponse::Control(Err(ApiError::new(message))));
        }
        let env: ResponseEnvelope = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
        Ok(env.response)
    };
    tokio::time::timeout(CLIENT_TIMEOUT, exchange)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer from the daemon"))?
}

async fn post<S>(stream: S, body: Vec<u8>) -> io::Result<(hyper::StatusCode, bytes::Bytes)>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.map_err(io::Error::other)?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = hyper::Request::post("/swarmd/control")
        .header("Host", "swarmd")
        .header("Content-Type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .map_err(io::Error::other)?;
    let resp = sender.send_request(req).await.map_err(io::Error::other)?;
    let status = resp.status();
    let bytes = crate::engine::server::body_bytes(resp.into_body()).await?;
    Ok((status, bytes))
}
