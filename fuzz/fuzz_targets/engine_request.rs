//! swarmd's Docker Engine API (real-backend/src/engine): any method, path, query and body get
//! an HTTP answer — a route's reply or docker's JSON error with a 4xx/5xx status — never a
//! panic or a hang. The daemon behind it refuses every call, so what is exercised is what
//! comes from the network: routing, version prefixes, queries, filters and request bodies.
//! Input: `METHOD PATH?QUERY\nBODY`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use swarm_core::control::{ApiError, Reply, Request};
use swarmd::engine::{BoxFuture, Daemon, Engine, HostFacts};

struct Refusing;

impl Daemon for Refusing {
    fn call(&self, _request: Request) -> BoxFuture<Reply> {
        Box::pin(async { Err(ApiError::new("This node is not a swarm manager.")) })
    }
    fn metrics(&self) -> BoxFuture<Option<String>> {
        Box::pin(async { None })
    }
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let host = HostFacts {
            hostname: "fuzz".into(),
            version: "0.0.0".into(),
            kernel_version: "6.1.0".into(),
            ncpu: 2,
            mem_total: 1 << 30,
            data_root: "/var/lib/swarmd".into(),
        };
        Engine::new(Arc::new(Refusing), host)
    })
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else { return };
    let Some((method, path)) = head.split_once(' ') else { return };
    let Ok(method) = hyper::Method::from_bytes(method.as_bytes()) else { return };
    // Every call the daemon gets is answered at once, so one poll finishes the request: a
    // future still pending here would be a hang on a real connection.
    let mut request = std::pin::pin!(engine().handle(&method, path, body));
    let mut cx = Context::from_waker(Waker::noop());
    match request.as_mut().poll(&mut cx) {
        Poll::Ready(response) => {
            let status = response.status();
            assert!(status.as_u16() >= 100 && status.as_u16() < 600);
        }
        Poll::Pending => panic!("{method} {path} did not answer"),
    }
});
