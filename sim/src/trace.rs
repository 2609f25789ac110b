//! The run's trace: one line per event, simulated time first, folded into a SHA-256 hash.
//! Two runs of one seed must give the same hash; `--trace` keeps the lines to read or diff.

use sha2::{Digest, Sha256};
use std::collections::VecDeque;

/// Lines kept for a failure report even when the full trace is off.
const TAIL_LINES: usize = 40;

pub struct Trace {
    hasher: Sha256,
    keep_all: bool,
    lines: Vec<String>,
    tail: VecDeque<String>,
    count: u64,
    /// The secrets no line may hold (`checkers::secrets`).
    pub secrets: crate::checkers::secrets::SecretWatch,
}

impl Trace {
    pub fn new(keep_all: bool) -> Trace {
        Trace {
            hasher: Sha256::new(),
            keep_all,
            lines: Vec::new(),
            tail: VecDeque::new(),
            count: 0,
            secrets: Default::default(),
        }
    }

    pub fn keeps_lines(&self) -> bool {
        self.keep_all
    }

    pub fn hashing(&self) -> bool {
        true
    }

    pub fn record(&mut self, line: &str) {
        if self.secrets.is_watching() {
            let count = self.count;
            self.secrets.scan(line, || format!("trace line {}", count + 1));
        }
        self.hasher.update(line.as_bytes());
        self.hasher.update(b"\n");
        self.count += 1;
        if self.keep_all {
            self.lines.push(line.to_string());
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_string());
    }

    pub fn hash_hex(&self) -> String {
        let digest = self.hasher.clone().finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn tail(&self) -> impl Iterator<Item = &String> {
        self.tail.iter()
    }

    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}
