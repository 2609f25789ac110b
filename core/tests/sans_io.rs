//! swarm-core is sans-IO: no async runtime, clock, OS randomness, file, socket, thread or
//! environment. Inside core's sources clippy holds that line (`core/clippy.toml`'s
//! disallowed methods and types, `-D warnings` in ci/test.sh); this test holds the other half:
//! core's manifest names no runtime or I/O crate, so no such path can come in through a
//! dependency either.
// The test itself reads core's manifest from disk: the one file in core's tree allowed to.
#![allow(clippy::disallowed_methods)]

use std::path::Path;

/// Runtimes and I/O crates core must never depend on directly.
const FORBIDDEN_DEPENDENCIES: &[&str] =
    &["tokio", "async-std", "smol", "mio", "futures", "tonic", "hyper", "getrandom", "chrono", "redb"];

#[test]
fn core_depends_on_no_async_runtime_or_io_crate() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).expect("manifest");
    let deps = manifest.split("[dependencies]").nth(1).expect("a [dependencies] table");
    let deps = deps.split("\n[").next().unwrap_or(deps);
    assert!(deps.contains("raft"), "read core's [dependencies] table (raft-rs is one of them)");
    for line in deps.lines() {
        let name = line.split(['=', '.']).next().unwrap_or("").trim();
        assert!(
            !FORBIDDEN_DEPENDENCIES.contains(&name),
            "swarm-core depends on {name}, which does I/O or brings a runtime"
        );
    }
}
