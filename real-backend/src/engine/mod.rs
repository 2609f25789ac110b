//! The Docker Engine API (v1.41, docker 20.10's) over HTTP: what the `docker` CLI and docker's
//! SDKs call, on every `-H unix://` and `-H tcp://` address (`server`), each route turned into
//! core's typed `Request`s and the `Reply` objects into docker's JSON (`models`, `specs`).
//!
//! Paths are taken with or without a `/vX.YY` prefix; a version newer than 1.41 is refused with
//! dockerd's words. A refusal is a status code and `{"message": ...}` carrying core's
//! `ApiError` text, which the CLI prints after `Error response from daemon: `. A route swarmd
//! does not serve answers as dockerd does for an unknown route: 404 `{"message":"page not
//! found"}`. Malformed bodies are a 400, counted, never a panic.
//!
//! Beside docker's routes: `POST /swarmd/control` carries core's `Request` as JSON and answers
//! its `Reply` (swarmctl, and the framing the control socket used to have), `GET /metrics`
//! Prometheus text. Why those crates: see ARCHITECTURE.md (real-backend).

pub mod models;
mod secrets;
pub mod server;
pub mod specs;

use crate::api::{ApiRequest, ApiResponse, RequestEnvelope, ResponseEnvelope, API_VERSION as CONTROL_VERSION};
use bollard_stubs::models as m;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Response, StatusCode};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use swarm_core::api::{NetworkDriver, NodeRole, Subnet};
use swarm_core::cli::filter::{Filters, Listing};
use swarm_core::control::errors::{NOT_A_MANAGER_WORKER, NOT_IN_SWARM};
use swarm_core::control::ServiceUpdateArgs;
use swarm_core::control::{Reply, Request, Response as CoreResponse, ServiceView, SwarmInfoView, TaskView};
use swarm_core::runtime::ContainerInfo;

/// What the docker CLI adds to dockerd's "could not choose an IP address" refusal of `swarm init`.
const ADVERTISE_HINT: &str = " - specify one with --advertise-addr";

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What the API needs of the daemon: core's requests answered, and the metrics text.
pub trait Daemon: Send + Sync + 'static {
    fn call(&self, request: Request) -> BoxFuture<Reply>;
    fn metrics(&self) -> BoxFuture<Option<String>>;
}

/// What `docker version` and `docker info` show of the host.
#[derive(Clone, Debug)]
pub struct HostFacts {
    pub hostname: String,
    pub version: String,
    pub kernel_version: String,
    pub ncpu: i64,
    pub mem_total: i64,
    pub data_root: String,
}

impl HostFacts {
    pub fn of_this_host(hostname: String, data_root: String) -> HostFacts {
        let resources = crate::daemon::host_resources();
        HostFacts {
            hostname,
            version: env!("CARGO_PKG_VERSION").to_string(),
            kernel_version: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            ncpu: (resources.nano_cpus / 1_000_000_000) as i64,
            mem_total: resources.memory_bytes as i64,
            data_root,
        }
    }
}

/// Counters `/metrics` could show; read by the tests.
#[derive(Debug, Default)]
pub struct Counters {
    pub requests: AtomicU64,
    /// Bodies or queries that did not parse (400s).
    pub malformed: AtomicU64,
}

pub struct Engine {
    daemon: Arc<dyn Daemon>,
    host: HostFacts,
    pub counters: Counters,
    /// `docker exec`'s instances: created, then started once (bounded: the oldest go first).
    execs: std::sync::Mutex<BTreeMap<String, Exec>>,
    next_exec: AtomicU64,
}

/// One `docker exec`: what to run where, and how it ended.
#[derive(Clone, Debug)]
struct Exec {
    container: String,
    command: Vec<String>,
    exit_code: Option<i64>,
}

/// Execs kept for `GET /exec/{id}/json` after they ran.
const MAX_EXECS: usize = 256;

/// The bytes to write on a connection after a `101 UPGRADED` (docker's hijacked stream), put
/// in the response's extensions for the server.
#[derive(Clone, Debug)]
pub struct RawStream(pub Bytes);

/// docker's multiplexed stream (no TTY): a frame per write, `[stream, 0, 0, 0, len u32 BE]`.
fn frame(stream: u8, data: &[u8]) -> Vec<u8> {
    let mut out = vec![stream, 0, 0, 0];
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// A refusal: dockerd's status code and message.
#[derive(Debug)]
pub struct ApiErr {
    pub status: StatusCode,
    pub message: String,
}

impl ApiErr {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiErr {
        ApiErr { status, message: message.into() }
    }
    fn bad_request(message: impl Into<String>) -> ApiErr {
        ApiErr::new(StatusCode::BAD_REQUEST, message)
    }
    fn not_found(message: impl Into<String>) -> ApiErr {
        ApiErr::new(StatusCode::NOT_FOUND, message)
    }
    fn page_not_found() -> ApiErr {
        ApiErr::not_found("page not found")
    }
    fn not_implemented(message: impl Into<String>) -> ApiErr {
        ApiErr::new(StatusCode::NOT_IMPLEMENTED, message)
    }

    /// A refusal from core: its words, and the status dockerd gives that kind of error (core's
    /// `ApiError` carries no kind, so it is read from docker's own phrasing).
    fn from_core(message: String) -> ApiErr {
        let status = status_of(&message);
        ApiErr { status, message }
    }
}

/// dockerd's errdefs → HTTP status: not found 404, not a manager / no leader 503, conflicts 409,
/// invalid arguments 400, anything else 500.
pub fn status_of(message: &str) -> StatusCode {
    let lower = message.to_lowercase();
    if lower.contains("not found") || lower.starts_with("no such") {
        StatusCode::NOT_FOUND
    } else if message == NOT_IN_SWARM
        || message == NOT_A_MANAGER_WORKER
        || lower.contains("not a swarm manager")
        || lower.contains("does not have a leader")
        || lower.contains("already part of a swarm")
        || lower.contains("lost leader")
    {
        StatusCode::SERVICE_UNAVAILABLE
    } else if lower.contains("already exists") || lower.contains("in use") || lower.contains("conflict") {
        StatusCode::CONFLICT
    } else if lower.contains("invalid") || lower.contains("must") || lower.contains("not allowed") {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

type Res = Result<Response<Full<Bytes>>, ApiErr>;

fn base(status: StatusCode) -> hyper::http::response::Builder {
    Response::builder()
        .status(status)
        .header("Api-Version", models::API_VERSION)
        .header("Docker-Experimental", "false")
        .header("Ostype", "linux")
        .header("Server", format!("swarmd/{} (linux)", env!("CARGO_PKG_VERSION")))
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response<Full<Bytes>> {
    let mut body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    body.push(b'\n');
    base(status).header("Content-Type", "application/json").body(Full::new(Bytes::from(body))).expect("valid response")
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    base(status).body(Full::new(Bytes::new())).expect("valid response")
}

pub fn error_response(e: &ApiErr) -> Response<Full<Bytes>> {
    json(e.status, &m::ErrorResponse { message: e.message.clone() })
}

/// `a=b&c=d`, percent-decoded, `+` as a space.
pub fn parse_query(query: &str) -> Result<HashMap<String, String>, ApiErr> {
    fn decode(s: &str) -> Result<String, ApiErr> {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'%' => {
                    let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                    let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
                    let Some(byte) = byte else {
                        return Err(ApiErr::bad_request(format!("invalid URL escape in query {s:?}")));
                    };
                    out.push(byte);
                    i += 3;
                }
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| ApiErr::bad_request("query is not UTF-8"))
    }
    let mut out = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.insert(decode(k)?, decode(v)?);
    }
    Ok(out)
}

/// docker's `filters` query: `{"name":{"web":true}}`, or the pre-1.22 `{"name":["web"]}`.
pub fn parse_filters(query: &HashMap<String, String>) -> Result<BTreeMap<String, Vec<String>>, ApiErr> {
    let Some(text) = query.get("filters").filter(|t| !t.is_empty()) else { return Ok(BTreeMap::new()) };
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| ApiErr::bad_request(format!("invalid filter: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(ApiErr::bad_request("invalid filter: not an object"));
    };
    let mut out = BTreeMap::new();
    for (key, values) in map {
        let list: Vec<String> = match values {
            // moby's `Args` keeps every key of a value's map, whatever its bool says.
            serde_json::Value::Object(set) => set.into_iter().map(|(k, _)| k).collect(),
            serde_json::Value::Array(items) => {
                items.into_iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
            }
            _ => return Err(ApiErr::bad_request(format!("invalid filter: {key}"))),
        };
        out.insert(key, list);
    }
    Ok(out)
}

/// The `filters` query as core's [`Filters`], checked against what the listing accepts: a bad
/// key or value is a 400 with dockerd's words (`Invalid filter 'x'`).
pub fn checked_filters(query: &HashMap<String, String>, listing: Listing) -> Result<Filters, ApiErr> {
    let mut filters = Filters::default();
    for (key, values) in parse_filters(query)? {
        for v in values {
            filters.add(key.clone(), v);
        }
    }
    filters.check(listing).map_err(ApiErr::bad_request)?;
    Ok(filters)
}

fn body_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiErr> {
    if body.is_empty() {
        return Err(ApiErr::bad_request("bad parameter: request body is empty"));
    }
    serde_json::from_slice(body).map_err(|e| ApiErr::bad_request(format!("invalid JSON: {e}")))
}

/// A service spec as dockerd reads one. Go's `encoding/json` matches a key to a field without
/// regard to case, and clients rely on it: docker-py sends `"Mode": {"replicated": {...}}`
/// (`docker.types.ServiceMode`), which dockerd takes as `Replicated`. serde matches exactly, so
/// the mode's keys are put in the API's case first; nothing else in a spec needs it so far.
fn service_spec_json(body: &[u8]) -> Result<m::ServiceSpec, ApiErr> {
    let mut value: serde_json::Value = body_json(body)?;
    if let Some(mode) = value.get_mut("Mode").and_then(|m| m.as_object_mut()) {
        for canonical in ["Replicated", "Global", "ReplicatedJob", "GlobalJob"] {
            let other_case: Vec<String> =
                mode.keys().filter(|k| k.as_str() != canonical && k.eq_ignore_ascii_case(canonical)).cloned().collect();
            for key in other_case {
                if let Some(v) = mode.remove(&key) {
                    mode.entry(canonical.to_string()).or_insert(v);
                }
            }
        }
    }
    serde_json::from_value(value).map_err(|e| ApiErr::bad_request(format!("invalid JSON: {e}")))
}

fn flag(query: &HashMap<String, String>, key: &str) -> bool {
    matches!(query.get(key).map(String::as_str), Some("1" | "true" | "True" | "TRUE"))
}

/// `/v1.41/info` → (`Some("1.41")`, `/info`).
fn split_version(path: &str) -> (Option<&str>, &str) {
    if let Some(rest) = path.strip_prefix("/v") {
        if let Some(i) = rest.find('/') {
            let v = &rest[..i];
            if !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return (Some(v), &rest[i..]);
            }
        }
    }
    (None, path)
}

fn version_number(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// docker's `label` filter: every `KEY` must be there, every `KEY=VALUE` have that value
/// (`docker stack`'s `com.docker.stack.namespace=NAME`).
fn labels_match(filter: Option<&Vec<String>>, labels: &BTreeMap<String, String>) -> bool {
    filter.is_none_or(|f| {
        f.iter().all(|want| match want.split_once('=') {
            Some((k, v)) => labels.get(k).map(String::as_str) == Some(v),
            None => labels.contains_key(want.as_str()),
        })
    })
}

/// Matches a filter value against an ID (prefix) or a name (exact).
fn id_or_name(values: &[String], id: &str, name: &str) -> bool {
    values.iter().any(|v| id.starts_with(v.as_str()) || name == v)
}

impl Engine {
    pub fn new(daemon: Arc<dyn Daemon>, host: HostFacts) -> Engine {
        Engine {
            daemon,
            host,
            counters: Counters::default(),
            execs: std::sync::Mutex::new(BTreeMap::new()),
            next_exec: AtomicU64::new(1),
        }
    }

    async fn ask(&self, request: Request) -> Result<CoreResponse, ApiErr> {
        self.daemon.call(request).await.map_err(|e| ApiErr::from_core(e.message))
    }

    /// One HTTP request: method, path (with its query) and the whole body.
    pub async fn handle(&self, method: &Method, path_and_query: &str, body: &[u8]) -> Response<Full<Bytes>> {
        self.handle_upgradable(method, path_and_query, body, false).await
    }

    /// As `handle`; `upgrade`: the client asked to hijack the connection (`docker exec`'s
    /// start), which is then answered `101` with a [`RawStream`] to write after it.
    pub async fn handle_upgradable(
        &self,
        method: &Method,
        path_and_query: &str,
        body: &[u8],
        upgrade: bool,
    ) -> Response<Full<Bytes>> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let result = self.route(method, path_and_query, body, upgrade).await;
        match result {
            Ok(r) => r,
            Err(e) => {
                if e.status == StatusCode::BAD_REQUEST {
                    self.counters.malformed.fetch_add(1, Ordering::Relaxed);
                }
                error_response(&e)
            }
        }
    }

    async fn route(&self, method: &Method, path_and_query: &str, body: &[u8], upgrade: bool) -> Res {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let (version, path) = split_version(path);
        if let Some(v) = version {
            match version_number(v) {
                Some(n) if n > (1, 41) => {
                    return Err(ApiErr::bad_request(format!(
                        "client version {v} is too new. Maximum supported API version is {}",
                        models::API_VERSION
                    )))
                }
                Some(n) if n < (1, 12) => {
                    return Err(ApiErr::bad_request(format!(
                        "client version {v} is too old. Minimum supported API version is {}, please upgrade your client to a newer version",
                        models::MIN_API_VERSION
                    )))
                }
                Some(_) => {}
                None => return Err(ApiErr::page_not_found()),
            }
        }
        let q = parse_query(query)?;
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        use Method as M;
        match (method, segments.as_slice()) {
            (&M::GET | &M::HEAD, ["_ping"]) => self.ping(method).await,
            (&M::GET, ["version"]) => Ok(json(StatusCode::OK, &self.version())),
            (&M::GET, ["info"]) => self.info().await,
            (&M::GET, ["metrics"]) => self.metrics().await,
            (&M::POST, ["swarmd", "control"]) => self.control(body).await,

            (&M::GET, ["swarm"]) => self.swarm_inspect().await,
            (&M::POST, ["swarm", "init"]) => self.swarm_init(body).await,
            (&M::POST, ["swarm", "join"]) => self.swarm_join(body).await,
            (&M::POST, ["swarm", "leave"]) => {
                self.ask(Request::LeaveSwarm { force: flag(&q, "force") }).await?;
                Ok(empty(StatusCode::OK))
            }
            (&M::POST, ["swarm", "update"]) => self.swarm_update(&q, body).await,

            (&M::GET, ["nodes"]) => self.node_list(&q).await,
            (&M::GET, ["nodes", id]) => Ok(json(StatusCode::OK, &models::node(&self.node(id).await?))),
            (&M::POST, ["nodes", id, "update"]) => self.node_update(id, body).await,
            (&M::DELETE, ["nodes", id]) => {
                self.ask(Request::RemoveNodes { nodes: vec![id.to_string()], force: flag(&q, "force") }).await?;
                Ok(empty(StatusCode::OK))
            }

            (&M::GET, ["networks"]) => self.network_list(&q).await,
            (&M::GET, ["networks", id]) => Ok(json(StatusCode::OK, &models::network(&self.network(id).await?))),
            (&M::POST, ["networks", "create"]) => self.network_create(body).await,
            (&M::DELETE, ["networks", id]) => {
                self.ask(Request::RemoveNetworks { networks: vec![id.to_string()] }).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }

            (&M::GET, ["services"]) => self.service_list(&q).await,
            (&M::GET, ["services", id]) => Ok(json(StatusCode::OK, &models::service(&self.service(id).await?))),
            (&M::POST, ["services", "create"]) => self.service_create(body).await,
            (&M::POST, ["services", id, "update"]) => self.service_update(id, &q, body).await,
            (&M::DELETE, ["services", id]) => {
                self.ask(Request::RemoveServices { services: vec![id.to_string()] }).await?;
                Ok(empty(StatusCode::OK))
            }
            (&M::GET, ["services", _, "logs"]) | (&M::GET, ["containers", _, "logs"]) => Err(ApiErr::not_implemented(
                "swarmd keeps no container logs: a task's output is not captured (containerd tasks run without stdio)",
            )),

            (&M::GET, ["tasks"]) => self.task_list(&q).await,
            (&M::GET, ["tasks", id]) => self.task_inspect(id).await,

            (&M::GET, ["containers", "json"]) => self.container_list(&q).await,
            (&M::GET, ["containers", id, "json"]) => {
                let (c, _) = self.container(id).await?;
                Ok(json(StatusCode::OK, &models::container_inspect(&c)))
            }
            (&M::POST, ["containers", id, "kill"]) => {
                let signal = q.get("signal").map(String::as_str).unwrap_or("");
                if !matches!(signal, "" | "KILL" | "SIGKILL" | "9") {
                    return Err(ApiErr::bad_request(format!("swarmd kills with SIGKILL only, not {signal}")));
                }
                self.ask(Request::KillContainers { containers: vec![id.to_string()] }).await?;
                Ok(empty(StatusCode::NO_CONTENT))
            }
            (_, ["secrets", rest @ ..]) => {
                self.data_route(swarm_core::api::DataKind::Secret, method, rest, &q, body).await
            }
            (_, ["configs", rest @ ..]) => {
                self.data_route(swarm_core::api::DataKind::Config, method, rest, &q, body).await
            }
            (&M::POST, ["containers", id, "exec"]) => self.exec_create(id, body).await,
            (&M::POST, ["exec", id, "start"]) => self.exec_start(id, body, upgrade).await,
            (&M::GET, ["exec", id, "json"]) => self.exec_inspect(id),
            _ => Err(ApiErr::page_not_found()),
        }
    }

    // ----- exec -----

    async fn exec_create(&self, container: &str, body: &[u8]) -> Res {
        #[derive(serde::Deserialize)]
        struct ExecConfig {
            #[serde(rename = "Cmd", default)]
            cmd: Vec<String>,
            #[serde(rename = "Tty", default)]
            tty: bool,
        }
        let config: ExecConfig = body_json(body)?;
        if config.cmd.is_empty() {
            return Err(ApiErr::bad_request("No exec command specified"));
        }
        if config.tty {
            return Err(ApiErr::bad_request("swarmd's exec has no TTY: run it without -t"));
        }
        let (found, _) = self.container(container).await?;
        let n = self.next_exec.fetch_add(1, Ordering::Relaxed);
        let id = {
            use sha2::Digest;
            let seed = format!("{}/{}/{n}", found.id, std::process::id());
            sha2::Sha256::digest(seed.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let mut execs = self.execs.lock().unwrap_or_else(|p| p.into_inner());
        while execs.len() >= MAX_EXECS {
            execs.pop_first();
        }
        execs.insert(id.clone(), Exec { container: found.name, command: config.cmd, exit_code: None });
        Ok(json(StatusCode::CREATED, &serde_json::json!({ "Id": id })))
    }

    /// Runs the exec: its output as docker's multiplexed stream, on the hijacked connection
    /// when the client asked for one (the CLI does), else as the body. Core answers `nslookup`
    /// from the node's DNS; a refusal is the command's stderr and exit code 1.
    async fn exec_start(&self, id: &str, body: &[u8], upgrade: bool) -> Res {
        if !body.is_empty() {
            let _: serde_json::Value = body_json(body)?;
        }
        let exec = {
            let execs = self.execs.lock().unwrap_or_else(|p| p.into_inner());
            execs.get(id).cloned().ok_or_else(|| ApiErr::not_found(format!("No such exec instance: {id}")))?
        };
        if exec.exit_code.is_some() {
            return Err(ApiErr::new(StatusCode::CONFLICT, format!("Error: Exec command {id} has already run")));
        }
        let reply = self.daemon.call(Request::Exec { container: exec.container.clone(), command: exec.command }).await;
        let (stream, exit_code) = match reply {
            Ok(CoreResponse::ExecOutput { stdout }) => (frame(1, stdout.as_bytes()), 0),
            Ok(other) => return Err(unexpected(&other)),
            Err(e) if e.message.starts_with("No such container") => return Err(ApiErr::from_core(e.message)),
            Err(e) => (frame(2, format!("{}\n", e.message.trim_end()).as_bytes()), 1),
        };
        if let Some(e) = self.execs.lock().unwrap_or_else(|p| p.into_inner()).get_mut(id) {
            e.exit_code = Some(exit_code);
        }
        let raw = Bytes::from(stream);
        if upgrade {
            let mut r = base(StatusCode::SWITCHING_PROTOCOLS)
                .header("Content-Type", "application/vnd.docker.raw-stream")
                .header("Connection", "Upgrade")
                .header("Upgrade", "tcp")
                .body(Full::new(Bytes::new()))
                .expect("valid response");
            r.extensions_mut().insert(RawStream(raw));
            Ok(r)
        } else {
            Ok(base(StatusCode::OK)
                .header("Content-Type", "application/vnd.docker.raw-stream")
                .body(Full::new(raw))
                .expect("valid response"))
        }
    }

    fn exec_inspect(&self, id: &str) -> Res {
        let execs = self.execs.lock().unwrap_or_else(|p| p.into_inner());
        let exec = execs.get(id).ok_or_else(|| ApiErr::not_found(format!("No such exec instance: {id}")))?;
        Ok(json(
            StatusCode::OK,
            &serde_json::json!({
                "ID": id,
                "Running": false,
                "ExitCode": exec.exit_code.unwrap_or(0),
                "ProcessConfig": {
                    "tty": false,
                    "entrypoint": exec.command.first(),
                    "arguments": exec.command.get(1..).unwrap_or_default(),
                    "privileged": false,
                },
                "OpenStdin": false,
                "OpenStderr": true,
                "OpenStdout": true,
                "CanRemove": false,
                "ContainerID": exec.container,
                "DetachKeys": "",
                "Pid": 0,
            }),
        ))
    }

    async fn swarm_info(&self) -> Result<SwarmInfoView, ApiErr> {
        match self.ask(Request::SystemInfo).await? {
            CoreResponse::SystemInfo(info) => Ok(*info),
            other => Err(unexpected(&other)),
        }
    }

    async fn ping(&self, method: &Method) -> Res {
        let swarm = self.swarm_info().await.map(|i| models::swarm_header(&i)).ok();
        let mut r = base(StatusCode::OK)
            .header("Content-Type", "text/plain; charset=utf-8")
            .header("Cache-Control", "no-cache, no-store, must-revalidate")
            .header("Pragma", "no-cache");
        if let Some(s) = swarm {
            r = r.header("Swarm", s);
        }
        let body = if method == Method::HEAD { Bytes::new() } else { Bytes::from_static(b"OK") };
        Ok(r.body(Full::new(body)).expect("valid response"))
    }

    /// `GET /version`. By hand rather than bollard's `SystemVersion`: its component `Details`
    /// is typed as an empty map, and the CLI prints the engine's API version, Go version, OS and
    /// architecture from there.
    fn version(&self) -> serde_json::Value {
        let arch = go_arch();
        serde_json::json!({
            "Platform": {"Name": "swarmd"},
            "Components": [{
                "Name": "Engine",
                "Version": self.host.version,
                "Details": {
                    "ApiVersion": models::API_VERSION,
                    "MinAPIVersion": models::MIN_API_VERSION,
                    "GitCommit": "",
                    "GoVersion": "rust",
                    "Os": "linux",
                    "Arch": arch,
                    "KernelVersion": self.host.kernel_version,
                    "Experimental": "false",
                },
            }],
            "Version": self.host.version,
            "ApiVersion": models::API_VERSION,
            "MinAPIVersion": models::MIN_API_VERSION,
            "GitCommit": "",
            "GoVersion": "rust",
            "Os": "linux",
            "Arch": arch,
            "KernelVersion": self.host.kernel_version,
            "Experimental": false,
        })
    }

    async fn info(&self) -> Res {
        let swarm = self.swarm_info().await?;
        let containers = match self.ask(Request::ListContainers { all: true }).await? {
            CoreResponse::Containers { containers, .. } => containers,
            other => return Err(unexpected(&other)),
        };
        let running = containers
            .iter()
            .filter(|c| matches!(c.state, swarm_core::runtime::ContainerState::Running { .. }))
            .count();
        let info = m::SystemInfo {
            id: Some(swarm.node_id.clone()),
            containers: Some(containers.len() as i64),
            containers_running: Some(running as i64),
            containers_paused: Some(0),
            containers_stopped: Some((containers.len() - running) as i64),
            images: Some(0),
            driver: Some("overlayfs".into()),
            docker_root_dir: Some(self.host.data_root.clone()),
            name: Some(self.host.hostname.clone()),
            server_version: Some(self.host.version.clone()),
            operating_system: Some("swarmd on containerd".into()),
            os_type: Some("linux".into()),
            architecture: Some(std::env::consts::ARCH.into()),
            kernel_version: Some(self.host.kernel_version.clone()),
            ncpu: Some(self.host.ncpu),
            mem_total: Some(self.host.mem_total),
            logging_driver: Some("none".into()),
            cgroup_driver: None,
            default_runtime: Some("runc".into()),
            experimental_build: Some(false),
            live_restore_enabled: Some(true),
            swarm: Some(models::swarm_info(&swarm)),
            ..Default::default()
        };
        Ok(json(StatusCode::OK, &info))
    }

    async fn metrics(&self) -> Res {
        let text =
            self.daemon.metrics().await.ok_or_else(|| ApiErr::from_core("the daemon is shutting down".into()))?;
        Ok(base(StatusCode::OK)
            .header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            .body(Full::new(Bytes::from(text)))
            .expect("valid response"))
    }

    /// swarmctl's route: core's request as JSON in, its reply as JSON out.
    async fn control(&self, body: &[u8]) -> Res {
        let env: RequestEnvelope = body_json(body)?;
        if env.version != CONTROL_VERSION {
            return Err(ApiErr::bad_request(format!(
                "client API version {} is not supported (server: {CONTROL_VERSION})",
                env.version
            )));
        }
        let response = match env.request {
            ApiRequest::Control(request) => ApiResponse::Control(self.daemon.call(*request).await),
            ApiRequest::Metrics => ApiResponse::Metrics(self.daemon.metrics().await.unwrap_or_default()),
        };
        Ok(json(StatusCode::OK, &ResponseEnvelope { version: CONTROL_VERSION, response }))
    }

    // ----- swarm -----

    async fn swarm_inspect(&self) -> Res {
        let info = self.swarm_info().await?;
        if !info.control_available {
            let message = if info.node_id.is_empty() { NOT_IN_SWARM } else { NOT_A_MANAGER_WORKER };
            return Err(ApiErr::new(StatusCode::SERVICE_UNAVAILABLE, message));
        }
        let Some(cluster) = info.cluster else {
            return Err(ApiErr::from_core(info.error));
        };
        let mut tokens = Vec::new();
        for role in [NodeRole::Worker, NodeRole::Manager] {
            match self.ask(Request::GetJoinToken { role }).await? {
                CoreResponse::JoinToken { token, .. } => tokens.push(token),
                other => return Err(unexpected(&other)),
            }
        }
        let manager = tokens.pop().unwrap_or_default();
        let worker = tokens.pop().unwrap_or_default();
        Ok(json(StatusCode::OK, &models::swarm(&cluster, worker, manager)))
    }

    async fn swarm_init(&self, body: &[u8]) -> Res {
        let req: m::SwarmInitRequest = body_json(body)?;
        let pools = req.default_addr_pool.unwrap_or_default();
        let default_addr_pool = if pools.is_empty() {
            None
        } else {
            let pools = pools
                .iter()
                .map(|p| Subnet::parse(p).ok_or_else(|| ApiErr::bad_request(format!("invalid CIDR address: {p}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let subnet_size = match req.subnet_size {
                Some(0) | None => swarm_core::api::DEFAULT_SUBNET_SIZE,
                Some(n) => n,
            };
            Some(swarm_core::api::AddrPool { pools, subnet_size })
        };
        let request = Request::InitSwarm {
            advertise_addr: req.advertise_addr.filter(|a| !a.is_empty()),
            listen_addr: req.listen_addr.filter(|a| !a.is_empty()),
            force_new_cluster: req.force_new_cluster.unwrap_or(false),
            default_addr_pool,
        };
        let reply = self.daemon.call(request).await.map_err(|e| {
            // Core words the refusal as the CLI prints it; dockerd's error stops before the hint
            // the docker CLI appends itself (docker/cli `swarm/init.go`).
            let message = e.message.strip_suffix(ADVERTISE_HINT).unwrap_or(&e.message).to_string();
            ApiErr::from_core(message)
        })?;
        match reply {
            CoreResponse::SwarmInitialized { node_id, .. } => Ok(json(StatusCode::OK, &node_id.to_string())),
            other => Err(unexpected(&other)),
        }
    }

    async fn swarm_join(&self, body: &[u8]) -> Res {
        let req: m::SwarmJoinRequest = body_json(body)?;
        let Some(remote_addr) = req.remote_addrs.unwrap_or_default().into_iter().next() else {
            return Err(ApiErr::bad_request("at least 1 RemoteAddr is required to join"));
        };
        let token = req.join_token.unwrap_or_default();
        self.ask(Request::JoinSwarm {
            token,
            remote_addr,
            advertise_addr: req.advertise_addr.filter(|a| !a.is_empty()),
        })
        .await?;
        Ok(empty(StatusCode::OK))
    }

    /// `swarm update` and `swarm join-token --rotate`: docker's CLI sends the whole spec with
    /// its changes (and the rotations as query flags); the settings swarm-core keeps that
    /// differ from the cluster's become one `UpdateSwarm`, the rest of the spec is as
    /// `swarm inspect` shows it.
    async fn swarm_update(&self, q: &HashMap<String, String>, body: &[u8]) -> Res {
        let roles: Vec<NodeRole> = [("rotateWorkerToken", NodeRole::Worker), ("rotateManagerToken", NodeRole::Manager)]
            .into_iter()
            .filter(|(key, _)| flag(q, key))
            .map(|(_, role)| role)
            .collect();
        if !body.is_empty() {
            let spec: m::SwarmSpec = body_json(body)?;
            let cluster = self.swarm_info().await?.cluster.ok_or_else(|| ApiErr::from_core(NOT_IN_SWARM.into()))?;
            let args = specs::swarm_update(&cluster, &spec);
            if args != swarm_core::control::SwarmUpdateArgs::default() {
                self.ask(Request::UpdateSwarm(args)).await?;
            }
        }
        for role in roles {
            self.ask(Request::RotateJoinToken { role }).await?;
        }
        Ok(empty(StatusCode::OK))
    }

    // ----- nodes -----

    async fn nodes(&self, request: Request) -> Result<Vec<swarm_core::control::NodeView>, ApiErr> {
        match self.ask(request).await? {
            CoreResponse::Nodes(nodes) => Ok(nodes),
            other => Err(unexpected(&other)),
        }
    }

    async fn node(&self, id: &str) -> Result<swarm_core::control::NodeView, ApiErr> {
        let nodes = self.nodes(Request::InspectNodes { nodes: vec![id.to_string()] }).await?;
        nodes.into_iter().next().ok_or_else(|| ApiErr::not_found(format!("node {id} not found")))
    }

    async fn node_list(&self, q: &HashMap<String, String>) -> Res {
        let filters = checked_filters(q, Listing::Nodes)?;
        let nodes = self.nodes(Request::ListNodes).await?;
        let shown: Vec<m::Node> = nodes.iter().filter(|v| filters.node(v)).map(models::node).collect();
        Ok(json(StatusCode::OK, &shown))
    }

    async fn node_update(&self, id: &str, body: &[u8]) -> Res {
        let spec: m::NodeSpec = body_json(body)?;
        let current = self.node(id).await?;
        let change = specs::node_update(&current, &spec).map_err(ApiErr::bad_request)?;
        let node = current.node.id.to_string();
        if let Some(u) = change.update {
            self.ask(Request::UpdateNode(u)).await?;
        }
        match change.role {
            Some(NodeRole::Manager) => {
                self.ask(Request::PromoteNodes { nodes: vec![node] }).await?;
            }
            Some(NodeRole::Worker) => {
                self.ask(Request::DemoteNodes { nodes: vec![node] }).await?;
            }
            None => {}
        }
        Ok(empty(StatusCode::OK))
    }

    // ----- networks -----

    async fn networks(&self, request: Request) -> Result<Vec<swarm_core::api::Network>, ApiErr> {
        match self.ask(request).await? {
            CoreResponse::Networks(n) => Ok(n),
            other => Err(unexpected(&other)),
        }
    }

    /// A swarm network through the managers, else one of the daemon's own (`bridge`, `host`),
    /// by name, ID or ID prefix.
    async fn network(&self, id: &str) -> Result<swarm_core::api::Network, ApiErr> {
        let swarm = self.networks(Request::InspectNetworks { networks: vec![id.to_string()] }).await;
        if let Ok(Some(n)) = swarm.as_ref().map(|n| n.first()) {
            return Ok(n.clone());
        }
        let all = self.networks(Request::ListNetworks).await?;
        let found = all.iter().find(|n| n.name == id || n.id.as_str() == id).or_else(|| {
            let by_prefix: Vec<_> = all.iter().filter(|n| n.id.as_str().starts_with(id)).collect();
            (by_prefix.len() == 1).then(|| by_prefix[0])
        });
        match (found, swarm) {
            (Some(n), _) => Ok(n.clone()),
            (None, Err(e)) if e.status != StatusCode::SERVICE_UNAVAILABLE => Err(e),
            (None, _) => Err(ApiErr::not_found(format!("network {id} not found"))),
        }
    }

    async fn network_list(&self, q: &HashMap<String, String>) -> Res {
        let filters = parse_filters(q)?;
        let networks = self.networks(Request::ListNetworks).await?;
        let shown: Vec<m::Network> = networks
            .iter()
            .filter(|n| filters.get("id").is_none_or(|f| id_or_name(f, n.id.as_str(), "")))
            .filter(|n| filters.get("name").is_none_or(|f| f.iter().any(|x| n.name.contains(x.as_str()))))
            .filter(|n| filters.get("driver").is_none_or(|f| f.iter().any(|d| d == n.driver.as_str())))
            .filter(|n| filters.get("scope").is_none_or(|f| f.iter().any(|s| s == n.scope.as_str())))
            .filter(|n| labels_match(filters.get("label"), &n.labels))
            .map(models::network)
            .collect();
        Ok(json(StatusCode::OK, &shown))
    }

    async fn network_create(&self, body: &[u8]) -> Res {
        let req: m::NetworkCreateRequest = body_json(body)?;
        let driver_name = req.driver.as_deref().filter(|d| !d.is_empty()).unwrap_or("bridge");
        let driver = NetworkDriver::parse(driver_name)
            .ok_or_else(|| ApiErr::not_found(format!("plugin \"{driver_name}\" not found")))?;
        let subnets: Vec<String> =
            req.ipam.and_then(|i| i.config).unwrap_or_default().into_iter().filter_map(|c| c.subnet).collect();
        let subnet = match subnets.as_slice() {
            [] => None,
            [one] => {
                Some(Subnet::parse(one).ok_or_else(|| ApiErr::bad_request(format!("invalid CIDR address: {one}")))?)
            }
            _ => return Err(ApiErr::bad_request("swarmd gives a network one subnet")),
        };
        let labels = req.labels.unwrap_or_default().into_iter().collect();
        let attachable = req.attachable.unwrap_or(false);
        match self.ask(Request::CreateNetwork { name: req.name, driver, subnet, labels, attachable }).await? {
            CoreResponse::NetworkCreated { id } => Ok(json(
                StatusCode::CREATED,
                &m::NetworkCreateResponse { id: Some(id.to_string()), warning: Some(String::new()) },
            )),
            other => Err(unexpected(&other)),
        }
    }

    // ----- services -----

    async fn services(&self, request: Request) -> Result<Vec<ServiceView>, ApiErr> {
        match self.ask(request).await? {
            CoreResponse::Services(s) => Ok(s),
            other => Err(unexpected(&other)),
        }
    }

    async fn service(&self, id: &str) -> Result<ServiceView, ApiErr> {
        let found = self.services(Request::InspectServices { services: vec![id.to_string()] }).await?;
        found.into_iter().next().ok_or_else(|| ApiErr::not_found(format!("service {id} not found")))
    }

    async fn service_list(&self, q: &HashMap<String, String>) -> Res {
        let filters = checked_filters(q, Listing::Services)?;
        let services = self.services(Request::ListServices).await?;
        let shown: Vec<m::Service> = services.iter().filter(|v| filters.service(v)).map(models::service).collect();
        Ok(json(StatusCode::OK, &shown))
    }

    async fn service_create(&self, body: &[u8]) -> Res {
        let spec = service_spec_json(body)?;
        let args = specs::service_create(&spec).map_err(ApiErr::bad_request)?;
        match self.ask(Request::CreateService(args)).await? {
            CoreResponse::ServiceCreated { id } => {
                Ok(json(StatusCode::CREATED, &m::ServiceCreateResponse { id: Some(id.to_string()), warnings: None }))
            }
            other => Err(unexpected(&other)),
        }
    }

    async fn service_update(&self, id: &str, q: &HashMap<String, String>, body: &[u8]) -> Res {
        let spec = service_spec_json(body)?;
        let current = self.service(id).await?;
        // `docker service rollback` and `update --rollback` send `?rollback=previous` (and the
        // spec as it is): back to the previous spec, nothing else.
        if q.get("rollback").map(String::as_str) == Some("previous") {
            let service = current.service.id.to_string();
            self.ask(Request::UpdateService(ServiceUpdateArgs {
                service,
                rollback_to_previous: true,
                ..Default::default()
            }))
            .await?;
            return Ok(json(StatusCode::OK, &m::ServiceUpdateResponse { warnings: None }));
        }
        match specs::service_update(&current.service, &spec).map_err(ApiErr::bad_request)? {
            specs::ServiceChange::Nothing => {}
            specs::ServiceChange::Scale(n) => {
                let name = current.service.spec.name.clone();
                self.ask(Request::ScaleServices { scales: vec![(name, n)] }).await?;
            }
            specs::ServiceChange::Update(u) => {
                self.ask(Request::UpdateService(*u)).await?;
            }
        }
        Ok(json(StatusCode::OK, &m::ServiceUpdateResponse { warnings: None }))
    }

    // ----- tasks -----

    /// The tasks of the services the filter names (all services without one), then the other
    /// filters as core matches them (`cli::filter`: node, desired-state, id, name, label), and
    /// the CLI's `_up-to-date` (the task runs the service's current template, as swarmkit's
    /// `IsTaskDirty` reads it).
    async fn tasks(&self, filters: &Filters) -> Result<Vec<TaskView>, ApiErr> {
        let services = self.services(Request::ListServices).await?;
        let named: Vec<String> = match filters.contains("service") {
            true => filters.values("service").map(str::to_string).collect(),
            false => services.iter().map(|s| s.service.id.to_string()).collect(),
        };
        if named.is_empty() {
            return Ok(Vec::new());
        }
        let tasks = match self.ask(Request::ListTasks { services: named }).await? {
            CoreResponse::Tasks { tasks, .. } => tasks,
            other => return Err(unexpected(&other)),
        };
        let up_to_date = filters.values("_up-to-date").any(|x| x == "true" || x == "1");
        let shown = tasks
            .into_iter()
            .filter(|t| filters.task(t))
            .filter(|t| {
                !up_to_date
                    || services.iter().find(|s| s.service.id == t.task.service_id).is_some_and(|s| {
                        // core's rule, so the CLI's progress waits for exactly the tasks
                        // the orchestrator will replace (not for a placement-only change).
                        !swarm_core::api::placement::task_is_dirty(
                            &s.service.spec.task,
                            &t.task.spec,
                            t.task.node_id.is_some(),
                        )
                    })
            })
            .collect();
        Ok(shown)
    }

    async fn task_list(&self, q: &HashMap<String, String>) -> Res {
        let filters = checked_filters(q, Listing::Tasks)?;
        let tasks = self.tasks(&filters).await?;
        Ok(json(StatusCode::OK, &tasks.iter().map(models::task).collect::<Vec<_>>()))
    }

    async fn task_inspect(&self, id: &str) -> Res {
        let tasks = self.tasks(&Filters::default()).await?;
        let exact = tasks.iter().find(|t| t.task.id.as_str() == id);
        let prefixed: Vec<&TaskView> = tasks.iter().filter(|t| t.task.id.as_str().starts_with(id)).collect();
        match exact.or_else(|| prefixed.first().copied().filter(|_| prefixed.len() == 1)) {
            Some(t) => Ok(json(StatusCode::OK, &models::task(t))),
            None => Err(ApiErr::not_found(format!("task {id} not found"))),
        }
    }

    // ----- containers -----

    async fn containers(&self, all: bool) -> Result<(Vec<ContainerInfo>, swarm_core::time::Instant), ApiErr> {
        match self.ask(Request::ListContainers { all }).await? {
            CoreResponse::Containers { containers, as_of } => Ok((containers, as_of)),
            other => Err(unexpected(&other)),
        }
    }

    /// A container of this node by ID, ID prefix or name (with or without docker's `/`).
    async fn container(&self, id: &str) -> Result<(ContainerInfo, swarm_core::time::Instant), ApiErr> {
        let (all, as_of) = self.containers(true).await?;
        let name = id.trim_start_matches('/');
        let exact = all.iter().find(|c| c.id == id || c.name == name);
        let prefixed: Vec<&ContainerInfo> = all.iter().filter(|c| c.id.starts_with(id)).collect();
        match exact.or_else(|| prefixed.first().copied().filter(|_| prefixed.len() == 1)) {
            Some(c) => Ok((c.clone(), as_of)),
            None => Err(ApiErr::not_found(format!("No such container: {id}"))),
        }
    }

    async fn container_list(&self, q: &HashMap<String, String>) -> Res {
        let filters = checked_filters(q, Listing::Containers)?;
        let all = flag(q, "all") || filters.lists_all();
        let (mut containers, as_of) = self.containers(all).await?;
        containers.sort_by(|a, b| b.created_at.cmp(&a.created_at).then_with(|| a.name.cmp(&b.name)));
        let shown: Vec<m::ContainerSummary> =
            containers.iter().filter(|c| filters.container(c)).map(|c| models::container_summary(c, as_of)).collect();
        Ok(json(StatusCode::OK, &shown))
    }
}

fn unexpected(response: &CoreResponse) -> ApiErr {
    ApiErr::new(StatusCode::INTERNAL_SERVER_ERROR, format!("unexpected answer from the node: {}", response.summary()))
}

/// Go's name for this machine's architecture, as `docker version` prints `OS/Arch`.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docker-py's `ServiceMode("replicated", replicas=2)` sends the mode's key in lower case,
    /// which dockerd (Go's case-insensitive JSON) accepts.
    #[test]
    fn a_service_mode_key_in_another_case_is_read_as_dockerd_reads_it() {
        let body = br#"{"Name":"web","Mode":{"replicated":{"Replicas":2}},"TaskTemplate":{"ContainerSpec":{"Image":"nginx"}}}"#;
        let spec = service_spec_json(body).unwrap();
        assert_eq!(spec.mode.and_then(|m| m.replicated).and_then(|r| r.replicas), Some(2));
    }
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An engine in front of a daemon that has stopped (its event channel closed): every
    /// route that reaches the daemon is refused, the parsing in front of it is what is tested.
    fn engine() -> Arc<Engine> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        drop(rx);
        let host = HostFacts {
            hostname: "bd0".into(),
            version: "0.1.0".into(),
            kernel_version: "6.1".into(),
            ncpu: 2,
            mem_total: 1 << 30,
            data_root: "/var/lib/swarmd".into(),
        };
        Arc::new(Engine::new(Arc::new(server::EventDaemon(tx)), host))
    }

    async fn call(engine: &Engine, method: Method, path: &str, body: &str) -> (StatusCode, serde_json::Value) {
        use http_body_util::BodyExt;
        let response = engine.handle(&method, path, body.as_bytes()).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn an_unknown_route_is_dockers_page_not_found() {
        rt().block_on(async {
            let e = engine();
            for (method, path) in [
                (Method::GET, "/v1.41/images/json"),
                (Method::GET, "/plugins"),
                (Method::POST, "/v1.41/containers/create"),
                (Method::PUT, "/v1.41/services"),
                (Method::GET, "/vbanana/info"),
            ] {
                let (status, body) = call(&e, method.clone(), path, "").await;
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
                assert_eq!(body, serde_json::json!({"message": "page not found"}), "{method} {path}");
            }
        });
    }

    #[test]
    fn a_malformed_json_body_is_a_400_with_dockers_error_shape_and_is_counted() {
        rt().block_on(async {
            let e = engine();
            for (path, body) in [
                ("/v1.41/services/create", "{bad"),
                ("/v1.41/services/create", ""),
                ("/v1.41/services/create", "[1,2]"),
                ("/v1.41/services/create", "{\"Mode\": {\"Replicated\": {\"Replicas\": \"two\"}}}"),
                ("/v1.41/swarm/init", "\u{0}\u{1}"),
                ("/v1.41/swarm/join", "{\"RemoteAddrs\": 5}"),
                ("/v1.41/networks/create", "{\"Driver\": \"overlay\"}"),
                ("/v1.41/nodes/x/update?version=1", "null"),
                ("/swarmd/control", "{\"version\": 2, \"request\": \"Nope\"}"),
            ] {
                let (status, reply) = call(&e, Method::POST, path, body).await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body:?}: {reply}");
                let message = reply["message"].as_str().unwrap_or_default();
                assert!(!message.is_empty(), "{path} {body:?}: {reply}");
            }
            assert_eq!(e.counters.malformed.load(Ordering::Relaxed), 9);
        });
    }

    #[test]
    fn a_service_spec_without_an_image_is_refused_before_the_daemon() {
        rt().block_on(async {
            let (status, reply) =
                call(&engine(), Method::POST, "/v1.41/services/create", "{\"Name\":\"web\",\"TaskTemplate\":{}}").await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(reply["message"], "ContainerSpec: image reference must be provided");
        });
    }

    #[test]
    fn malformed_queries_and_filters_are_400s() {
        rt().block_on(async {
            let e = engine();
            for path in ["/v1.41/services?filters=%7Bnot-json", "/v1.41/tasks?filters=%5B1%5D", "/v1.41/nodes?x=%zz"] {
                let (status, reply) = call(&e, Method::GET, path, "").await;
                assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {reply}");
            }
        });
    }

    #[test]
    fn a_client_newer_than_1_41_is_refused_with_dockerds_words() {
        rt().block_on(async {
            let (status, reply) = call(&engine(), Method::GET, "/v1.44/info", "").await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert_eq!(reply["message"], "client version 1.44 is too new. Maximum supported API version is 1.41");
            let (status, reply) = call(&engine(), Method::GET, "/v1.11/info", "").await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(reply["message"].as_str().unwrap().starts_with("client version 1.11 is too old."), "{reply}");
        });
    }

    #[test]
    fn version_answers_without_the_daemon_and_a_stopped_daemon_is_an_error_not_a_hang() {
        rt().block_on(async {
            let e = engine();
            let (status, reply) = call(&e, Method::GET, "/v1.41/version", "").await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(reply["ApiVersion"], "1.41");
            assert_eq!(reply["MinAPIVersion"], "1.12");
            let (status, reply) = call(&e, Method::GET, "/v1.41/services", "").await;
            assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(reply["message"], "the daemon is shutting down");
        });
    }

    #[test]
    fn filters_take_both_of_dockers_encodings() {
        // moby's `Args` keeps a value whatever its bool says.
        let q = parse_query("filters=%7B%22name%22%3A%7B%22web%22%3Atrue%2C%22x%22%3Afalse%7D%7D").unwrap();
        assert_eq!(parse_filters(&q).unwrap()["name"], ["web", "x"]);
        let q = parse_query("filters=%7B%22name%22%3A%5B%22web%22%5D%7D").unwrap();
        assert_eq!(parse_filters(&q).unwrap()["name"], ["web"]);
    }

    #[test]
    fn a_filter_the_listing_does_not_take_is_a_400_in_dockerds_words() {
        let q = parse_query("filters=%7B%22node%22%3A%7B%22w1%22%3Atrue%7D%7D").unwrap();
        let refused = checked_filters(&q, Listing::Services).unwrap_err();
        assert_eq!((refused.status, refused.message.as_str()), (StatusCode::BAD_REQUEST, "Invalid filter 'node'"));
        let q = parse_query("filters=%7B%22desired-state%22%3A%5B%22up%22%5D%7D").unwrap();
        let refused = checked_filters(&q, Listing::Tasks).unwrap_err();
        assert_eq!(refused.message, "Invalid desired-state filter: 'up'");
        assert!(checked_filters(&q, Listing::Containers).is_err());
        let q = parse_query("filters=%7B%22desired-state%22%3A%5B%22shutdown%22%5D%7D").unwrap();
        assert!(checked_filters(&q, Listing::Tasks).unwrap().contains("desired-state"));
    }

    #[test]
    fn core_refusals_get_dockerds_status_codes() {
        assert_eq!(status_of("service web not found"), StatusCode::NOT_FOUND);
        assert_eq!(status_of("No such container: abc"), StatusCode::NOT_FOUND);
        assert_eq!(status_of(NOT_IN_SWARM), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(status_of(swarm_core::control::errors::NO_LEADER_ERROR), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            status_of("rpc error: code = InvalidArgument desc = name conflicts with an existing object"),
            StatusCode::CONFLICT
        );
    }

    #[test]
    fn malformed_http_is_answered_400_and_the_connection_closed_never_a_panic() {
        rt().block_on(async {
            for garbage in [
                &b"NOT HTTP AT ALL\r\n\r\n"[..],
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: zz\r\n\r\n",
                b"\x16\x03\x01\x00\xff\r\n\r\n",
            ] {
                let (client, server_side) = tokio::io::duplex(4096);
                let serving = tokio::spawn(server::serve_connection(engine(), server_side));
                let (mut read, mut write) = tokio::io::split(client);
                write.write_all(garbage).await.unwrap();
                let mut answer = Vec::new();
                tokio::time::timeout(std::time::Duration::from_secs(5), read.read_to_end(&mut answer))
                    .await
                    .expect("an answer, not a hang")
                    .unwrap();
                let text = String::from_utf8_lossy(&answer);
                assert!(text.starts_with("HTTP/1.1 400"), "{garbage:?} → {text:?}");
                serving.await.expect("the connection task ends without a panic");
            }
        });
    }

    #[test]
    fn ping_and_unversioned_paths_are_served_and_carry_dockers_headers() {
        rt().block_on(async {
            let e = engine();
            for method in [Method::GET, Method::HEAD] {
                let response = e.handle(&method, "/_ping", b"").await;
                assert_eq!(response.status(), StatusCode::OK);
                assert_eq!(response.headers()["Api-Version"], "1.41");
                assert_eq!(response.headers()["Ostype"], "linux");
                assert_eq!(response.headers()["Docker-Experimental"], "false");
            }
        });
    }
}
