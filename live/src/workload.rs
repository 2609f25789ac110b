//! Clients writing while a live run's steps play (`swarmsim-live run FILE --backend swarmd
//! --workload`): the simulator's workload on real daemons, judged by the simulator's history
//! checker (`swarmsim::history`).
//!
//! The plan is the simulator's (`swarmsim::workload::plan_for_seed`: the same seed and
//! `[workload]` table give the same operations, on the same hosts, with the same unique names
//! and values); only the timing is real. Each client is a thread that issues its operations one
//! after another, each a think time after the last answer, through the node's control API: the
//! request is the docker command parsed by core's grammar (`swarm_core::cli::parse`), sent as
//! swarmctl sends it (`POST /swarmd/control` on the node's unix socket, core's `Request` in,
//! core's `Reply` out). Each call is recorded with its invoke and completion times (milliseconds
//! of the wall clock since the clients started) and its outcome, classified as the simulator's:
//!
//! - **failed**: the daemon refused with a definite error, or the client could not connect (the
//!   daemon is down: nothing was sent, as the simulator's "Cannot connect" for a host down);
//! - **unknown**: the connection broke after the request was written (the daemon was killed
//!   while it held the call), no answer within `CLIENT_TIMEOUT`, or an error after which the
//!   write may still land (`Outcome::of_reply`: "lost leader status", `DeadlineExceeded`);
//! - **ok**: the reply, kept for the checker (reads' objects, the final state's projection).
//!
//! The clients start after the last step that makes a swarm member (`swarm init`/`swarm join`:
//! before it there is no swarm to write to) and stop when the steps end. Then the network is
//! healed, the run waits until a leader is elected and every member is Ready, reads the final
//! state through a manager (`service ls`, `network ls`, `node ls`, answered from the leader's
//! store) and checks the history against it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use swarm_core::control::{ApiError, Reply, Request, Response};
use swarmsim::history::FinalState;
use swarmsim::scenario::{Scenario, StepAction};
use swarmsim::workload::{HistoryEntry, Op, Outcome, PlannedOp, WorkloadPlan, CLIENT_TIMEOUT};

/// swarmd's control route (`real-backend/src/api.rs`, version 2), as swarmctl speaks it.
const CONTROL_PATH: &str = "/swarmd/control";
const CONTROL_API_VERSION: u32 = 2;
/// How long the end of a run waits for a leader and every member Ready after the heal.
pub const CONVERGE_TIMEOUT: Duration = Duration::from_secs(120);
/// A think time is slept in slices this long, so a stop is seen soon.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The index of the step after which the clients start: the last `swarm init` or `swarm join`
/// (`None`: the scenario makes no swarm, there is nothing to write to).
pub fn start_after_step(scenario: &Scenario) -> Option<usize> {
    scenario.steps.iter().enumerate().rev().find_map(|(index, step)| {
        let StepAction::Run(run) = &step.action else { return None };
        let request = swarm_core::cli::parse(run.command.text()).ok()?.request;
        matches!(request, Request::InitSwarm { .. } | Request::JoinSwarm { .. }).then_some(index)
    })
}

/// The clients while they run.
pub struct Clients {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    history: Arc<Mutex<Vec<HistoryEntry>>>,
    /// Answers that were not the control route's envelope: a harness fault, never a verdict.
    unreadable: Arc<AtomicUsize>,
    started: Instant,
}

/// Each host's control socket, by host name.
pub type Sockets = BTreeMap<String, PathBuf>;

impl Clients {
    /// Starts one thread per client of the plan, now.
    pub fn start(plan: &WorkloadPlan, sockets: &Sockets) -> Clients {
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let history = Arc::new(Mutex::new(Vec::new()));
        let unreadable = Arc::new(AtomicUsize::new(0));
        let threads = plan
            .per_client()
            .into_iter()
            .map(|ops| {
                let (stop, history, unreadable, sockets) =
                    (stop.clone(), history.clone(), unreadable.clone(), sockets.clone());
                std::thread::spawn(move || client(ops, &sockets, started, &stop, &history, &unreadable))
            })
            .collect();
        Clients { stop, threads, history, unreadable, started }
    }

    /// No client starts another operation; waits for the calls in flight to end (each within
    /// its timeout). The history, in completion order, and how many answers were unreadable.
    pub fn stop(self) -> (Vec<HistoryEntry>, usize, Instant) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        let mut history = std::mem::take(&mut *self.history.lock().expect("no client panicked"));
        history.sort_by_key(|e| (e.completed, e.id));
        (history, self.unreadable.load(Ordering::SeqCst), self.started)
    }
}

fn since(started: Instant) -> swarm_core::time::Instant {
    swarm_core::time::Instant(started.elapsed().as_millis() as u64)
}

/// One client: its operations in order, each after its think time, until told to stop.
fn client(
    ops: Vec<PlannedOp>,
    sockets: &Sockets,
    started: Instant,
    stop: &AtomicBool,
    history: &Mutex<Vec<HistoryEntry>>,
    unreadable: &AtomicUsize,
) {
    for planned in ops {
        let think_until = Instant::now() + planned.think;
        while Instant::now() < think_until && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(STOP_POLL.min(think_until.saturating_duration_since(Instant::now())));
        }
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let command = planned.op.command();
        let request = match swarm_core::cli::parse(&command) {
            Ok(invocation) => invocation.request,
            Err(e) => panic!("the workload's own command does not parse: {command}: {e}"),
        };
        let socket = sockets.get(&planned.host).unwrap_or_else(|| panic!("no socket for host {}", planned.host));
        let invoked = since(started);
        let call = control_call(socket, &request, CLIENT_TIMEOUT);
        let completed = since(started);
        let outcome = match call {
            Ok(reply) => Outcome::of_reply(&reply),
            Err(CallError::NotSent(why)) => Outcome::Failed(why),
            Err(CallError::Unknown(why)) => Outcome::Unknown(why),
            Err(CallError::Unreadable(why)) => {
                unreadable.fetch_add(1, Ordering::SeqCst);
                Outcome::Unknown(why)
            }
        };
        let entry = HistoryEntry {
            id: planned.id,
            client: planned.client,
            host: planned.host.clone(),
            op: planned.op.clone(),
            invoked,
            completed,
            outcome,
        };
        history.lock().expect("no client panicked").push(entry);
    }
}

/// Why a call has no reply.
#[derive(Debug, PartialEq, Eq)]
pub enum CallError {
    /// Nothing reached the daemon (no socket, connection refused): a definite failure.
    NotSent(String),
    /// The request was written; whether the daemon acted on it cannot be known.
    Unknown(String),
    /// An answer came that is not the control route's: the harness and swarmd disagree.
    Unreadable(String),
}

/// One request on a node's control route, as swarmctl sends it (HTTP/1.1, `Connection: close`).
pub fn control_call(socket: &Path, request: &Request, timeout: Duration) -> Result<Reply, CallError> {
    let deadline = Instant::now() + timeout;
    let mut stream = UnixStream::connect(socket).map_err(|_| {
        CallError::NotSent(format!(
            "Cannot connect to the Docker daemon at unix://{}. Is the docker daemon running?",
            socket.display()
        ))
    })?;
    let body = serde_json::json!({ "version": CONTROL_API_VERSION, "request": { "Control": request } }).to_string();
    let head = format!(
        "POST {CONTROL_PATH} HTTP/1.1\r\nHost: swarmd\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let broke = |e: std::io::Error| CallError::Unknown(format!("the connection broke during the call: {e}"));
    stream.set_write_timeout(Some(timeout)).map_err(broke)?;
    stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body.as_bytes())).map_err(broke)?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(CallError::Unknown(format!("no answer within {}s", timeout.as_secs())));
        }
        stream.set_read_timeout(Some(left)).map_err(broke)?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(CallError::Unknown(format!("no answer within {}s", timeout.as_secs())));
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(broke(e)),
        }
    }
    if answer.is_empty() {
        return Err(CallError::Unknown("the daemon closed the connection without an answer".into()));
    }
    parse_answer(&answer)
}

/// The HTTP answer of the control route: core's `Reply`, or a refusal of the route itself.
fn parse_answer(answer: &[u8]) -> Result<Reply, CallError> {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        // Cut off inside the head: the daemon died while it answered.
        return Err(CallError::Unknown("the answer was cut off".into()));
    };
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| CallError::Unreadable(format!("not an HTTP status line: {:?}", head.lines().next())))?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(body).ok_or_else(|| CallError::Unknown("the chunked answer was cut off".into()))?
    } else {
        let length: Option<usize> = header("content-length").and_then(|v| v.parse().ok());
        match length {
            Some(n) if body.len() < n => return Err(CallError::Unknown("the answer was cut off".into())),
            Some(n) => body[..n].to_string(),
            None => body.to_string(),
        }
    };
    if !(200..300).contains(&status) {
        // A refusal of the route itself, in docker's error shape: as swarmctl reads it.
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
            .unwrap_or_else(|| format!("HTTP {status}"));
        return Ok(Err(ApiError::new(message)));
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        version: u32,
        response: ApiResponse,
    }
    #[derive(serde::Deserialize)]
    enum ApiResponse {
        Control(Reply),
        Metrics(#[allow(dead_code)] String),
    }
    let envelope: Envelope =
        serde_json::from_str(&body).map_err(|e| CallError::Unreadable(format!("unreadable control answer: {e}")))?;
    if envelope.version != CONTROL_API_VERSION {
        return Err(CallError::Unreadable(format!("control route version {}", envelope.version)));
    }
    match envelope.response {
        ApiResponse::Control(reply) => Ok(reply),
        ApiResponse::Metrics(_) => Err(CallError::Unreadable("metrics text for a control request".into())),
    }
}

/// An HTTP/1.1 chunked body, or `None` when it is cut off.
fn dechunk(mut rest: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(after.get(..size)?);
        rest = after.get(size..)?.strip_prefix("\r\n")?;
    }
}

/// The final state, read through the first member that answers all three listings.
pub fn read_final_state(
    sockets: &Sockets,
    members: &[String],
    at: impl Fn() -> swarm_core::time::Instant,
) -> Result<FinalState, String> {
    let ask = |socket: &Path, line: &str| -> Result<Response, String> {
        let request = swarm_core::cli::parse(line).map_err(|e| format!("{line}: {e}"))?.request;
        match control_call(socket, &request, CLIENT_TIMEOUT) {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(e)) => Err(format!("{line}: {}", e.message)),
            Err(e) => Err(format!("{line}: {e:?}")),
        }
    };
    let mut last_error = "no member".to_string();
    for member in members {
        let Some(socket) = sockets.get(member) else { continue };
        let read = (|| {
            let services = ask(socket, "docker service ls")?;
            let networks = ask(socket, "docker network ls")?;
            let nodes = ask(socket, "docker node ls")?;
            match (services, networks, nodes) {
                (Response::Services(s), Response::Networks(n), Response::Nodes(d)) => {
                    Ok(FinalState::of_objects(at(), s.iter().map(|v| &v.service), n.iter(), d.iter().map(|v| &v.node)))
                }
                other => Err(format!("unexpected listings: {other:?}")),
            }
        })();
        match read {
            Ok(state) => return Ok(state),
            Err(e) => last_error = format!("{member}: {e}"),
        }
    }
    Err(last_error)
}

/// What the workload did, in figures: calls by outcome, writes acknowledged.
pub fn summary(history: &[HistoryEntry]) -> String {
    let count = |f: &dyn Fn(&HistoryEntry) -> bool| history.iter().filter(|e| f(e)).count();
    let ok = count(&|e| e.outcome.is_ok());
    let unknown = count(&|e| e.outcome.is_unknown());
    let writes = count(&|e| e.op.is_write());
    let writes_ok = count(&|e| e.op.is_write() && e.outcome.is_ok());
    let writes_unknown = count(&|e| e.op.is_write() && e.outcome.is_unknown());
    let creates_ok =
        count(&|e| matches!(e.op, Op::CreateService { .. } | Op::CreateNetwork { .. }) && e.outcome.is_ok());
    format!(
        "{} calls: {ok} ok, {} failed, {unknown} unknown; {writes} writes: {writes_ok} acknowledged ({creates_ok} \
         creates), {writes_unknown} unknown",
        history.len(),
        history.len() - ok - unknown,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(head: &str, body: &str) -> Vec<u8> {
        format!("{head}\r\n\r\n{body}").into_bytes()
    }

    #[test]
    fn a_control_reply_is_read_from_its_envelope() {
        let body = r#"{"version":2,"response":{"Control":{"Ok":"SwarmLeft"}}}"#;
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}", body.len());
        assert_eq!(parse_answer(&answer(&head, body)), Ok(Ok(Response::SwarmLeft)));
        let refused = r#"{"version":2,"response":{"Control":{"Err":{"message":"service wl-svc-3 not found"}}}}"#;
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}", refused.len());
        assert_eq!(parse_answer(&answer(&head, refused)), Ok(Err(ApiError::new("service wl-svc-3 not found"))));
    }

    #[test]
    fn an_answer_cut_off_by_a_killed_daemon_leaves_the_call_unknown() {
        let body = r#"{"version":2,"response":{"Control":{"Ok":"SwarmLeft"}}}"#;
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}", body.len());
        assert!(matches!(parse_answer(&answer(&head, &body[..10])), Err(CallError::Unknown(_))));
        assert!(matches!(parse_answer(b"HTTP/1.1 200 OK\r\ncontent-le"), Err(CallError::Unknown(_))));
    }

    #[test]
    fn a_refusal_of_the_route_is_a_daemon_error_and_a_foreign_answer_is_unreadable() {
        let body = r#"{"message":"page not found"}"#;
        let head = format!("HTTP/1.1 404 Not Found\r\ncontent-length: {}", body.len());
        assert_eq!(parse_answer(&answer(&head, body)), Ok(Err(ApiError::new("page not found"))));
        let foreign = r#"{"version":1,"response":"text"}"#;
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}", foreign.len());
        assert!(matches!(parse_answer(&answer(&head, foreign)), Err(CallError::Unreadable(_))));
    }

    #[test]
    fn a_chunked_answer_is_joined() {
        assert_eq!(dechunk("3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").as_deref(), Some("abcde"));
        assert_eq!(dechunk("3\r\nab"), None);
    }

    #[test]
    fn no_daemon_at_the_socket_is_a_definite_failure() {
        let missing = std::env::temp_dir().join(format!("swarmsim-live-no-daemon-{}.sock", std::process::id()));
        let request = swarm_core::cli::parse("docker service ls").expect("parses").request;
        match control_call(&missing, &request, Duration::from_secs(1)) {
            Err(CallError::NotSent(why)) => assert!(why.starts_with("Cannot connect to the Docker daemon"), "{why}"),
            other => panic!("expected a definite failure, got {other:?}"),
        }
    }

    #[test]
    fn a_daemon_that_closes_after_the_request_leaves_the_call_unknown() {
        let dir = std::env::temp_dir().join(format!("swarmsim-live-closing-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("d.sock");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("binds");
        // The daemon reads the request, then dies without a word: SIGKILL mid-call.
        let daemon = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accepts");
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
        });
        let request = swarm_core::cli::parse("docker service create --name a busybox").expect("parses").request;
        let got = control_call(&path, &request, Duration::from_secs(5));
        daemon.join().expect("the daemon thread ends");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(matches!(got, Err(CallError::Unknown(_))), "{got:?}");
    }

    #[test]
    fn the_clients_start_after_the_last_member_joins() {
        let text = r#"
name = "t"
[[node]]
name = "bd0"
addr = "192.168.0.109"
[[node]]
name = "bd1"
addr = "192.168.0.192"
[[step]]
on = "bd0"
run = "docker swarm init --advertise-addr 192.168.0.109"
[[step]]
on = "bd0"
run = "docker swarm join-token -q manager"
capture = { manager_token = 'SWMTKN-1-\S+' }
[[step]]
on = "bd1"
run = "docker swarm join --token ${manager_token} 192.168.0.109:2377"
[[step]]
sleep = "1s"
"#;
        let scenario = swarmsim::scenario::parse(Path::new("t.toml"), text).expect("parses");
        assert_eq!(start_after_step(&scenario), Some(2));
    }

    #[test]
    fn the_leader_kill_scenario_plans_a_stream_over_its_three_managers() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios/leader-killed-during-writes.toml");
        let scenario = swarmsim::scenario::load(&path).expect("loads");
        assert_eq!(start_after_step(&scenario), Some(3), "after bd2 joins");
        let facts = swarmsim::chaos::facts::ScenarioFacts::of(&scenario);
        assert_eq!(facts.members, ["bd0", "bd1", "bd2"]);
        let plan = swarmsim::workload::plan_for_seed(scenario.seed, &facts, &scenario.workload);
        assert_eq!(plan.clients, 3);
        assert!(plan.ops.iter().filter(|o| o.op.is_write()).count() > 1_000, "a stream of writes");
    }
}
