//! swarmd asks core only through the node's door (`swarm_core::node::Node`'s queries and
//! outputs, `core/src/node/door.rs`). The compiler holds most of that line: the manager, the
//! agent and `Node::manager/agent/member` are private to core. What it cannot hold is public
//! for the simulator's sake: the replicated store's type and the observers' read-only window
//! (`Node::observe`), through which a daemon could read the store and re-decide a rule. This
//! test refuses both in swarmd's sources. Core's message, API and runtime types, and the join
//! token's format (`swarm_core::tokens`: the CA digest a joining node checks), are data.

use std::path::{Path, PathBuf};

/// A text that reaches past the door, and what to ask instead.
const PAST_THE_DOOR: &[(&str, &str)] = &[
    ("swarm_core::store", "the replicated store: a door query"),
    ("swarm_core::observe", "the simulator's read-only window: a door query, or Node::gauges"),
    (".observe()", "the simulator's read-only window: a door query, or Node::gauges"),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable source dir") {
        let path = entry.expect("dir entry").path();
        // containerd's generated gRPC code knows nothing of core.
        if path.is_dir() && !path.ends_with("gen") {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn swarmd_asks_core_only_through_the_nodes_door() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "found the daemon's sources: {files:?}");
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        for (n, line) in text.lines().enumerate() {
            for (needle, instead) in PAST_THE_DOOR {
                if line.contains(needle) {
                    found.push(format!("{}:{}: `{needle}`: ask {instead}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "swarmd reaches past the node's door:\n{}", found.join("\n"));
}
