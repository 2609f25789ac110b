//! swarm-core is sans-IO: no async runtime, clock, OS randomness, file, socket, thread or
//! environment. This test reads core's sources and manifest and fails on any of them, so the
//! boundary cannot erode by accident.

use std::path::{Path, PathBuf};

const FORBIDDEN_IN_SOURCE: &[&str] = &[
    "Instant::now",
    "SystemTime",
    "thread_rng",
    "OsRng",
    "from_entropy",
    "getrandom",
    "std::fs",
    "std::net::TcpStream",
    "std::net::TcpListener",
    "std::net::UdpSocket",
    "ToSocketAddrs",
    "std::thread",
    "std::env",
    "std::process",
    "tokio",
    "async fn",
    ".await",
    // A std HashMap seeds its hasher from the OS: only maps with an explicit fixed hasher
    // (`BuildHasherDefault<…>`) are allowed, and they must never be iterated into output.
    "RandomState",
    "HashMap::new",
    "HashSet::new",
    "HashMap::with_capacity(",
    "HashSet::with_capacity(",
];

/// Runtimes and I/O crates core must never depend on directly.
const FORBIDDEN_DEPENDENCIES: &[&str] =
    &["tokio", "async-std", "smol", "mio", "futures", "tonic", "hyper", "getrandom", "chrono", "redb"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().map(|e| e == "rs").unwrap_or(false) {
            out.push(path);
        }
    }
}

#[test]
fn core_sources_use_no_clock_randomness_files_sockets_or_runtime() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "found core's sources");
    let mut hits = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN_IN_SOURCE {
                if code.contains(word) {
                    hits.push(format!("{}:{}: {word}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(hits.is_empty(), "swarm-core must stay sans-IO:\n{}", hits.join("\n"));
}

#[test]
fn core_depends_on_no_async_runtime_or_io_crate() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).expect("manifest");
    let deps = manifest.split("[dependencies]").nth(1).expect("a [dependencies] table");
    let deps = deps.split("\n[").next().unwrap_or(deps);
    for line in deps.lines() {
        let name = line.split(['=', '.']).next().unwrap_or("").trim();
        assert!(
            !FORBIDDEN_DEPENDENCIES.contains(&name),
            "swarm-core depends on {name}, which does I/O or brings a runtime"
        );
    }
}
