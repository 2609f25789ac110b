//! The run's trace: one line per event, simulated time first, folded into a SHA-256 hash.
//! Two runs of one seed must give the same hash; `--trace` keeps the lines to read or diff.
//!
//! What a run keeps of it is its `TraceMode`: every line, the last lines (for a failure
//! report), or the hash only (sweeps and benches, which print no line). The hash is the same in
//! every mode: each line is formatted into one reused buffer, scanned for secrets and hashed;
//! only the modes that keep lines copy it.

use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::fmt;

/// Lines kept for a failure report even when the full trace is off.
const TAIL_LINES: usize = 40;

/// What a run keeps of its trace besides the hash (which every mode computes alike).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TraceMode {
    /// The hash only: no line is copied or kept (sweeps, benches).
    HashOnly,
    /// The hash and the last lines, printed if the run fails.
    #[default]
    Tail,
    /// Every line (`--trace`, the determinism check).
    Full,
}

pub struct Trace {
    hasher: Sha256,
    mode: TraceMode,
    lines: Vec<String>,
    tail: VecDeque<String>,
    count: u64,
    /// The line being recorded: reused, so recording allocates nothing once it has grown.
    buf: String,
    /// The secrets no line may hold (`checkers::secrets`).
    pub secrets: crate::checkers::secrets::SecretWatch,
}

impl Trace {
    pub fn new(mode: TraceMode) -> Trace {
        Trace {
            hasher: Sha256::new(),
            mode,
            lines: Vec::new(),
            tail: VecDeque::new(),
            count: 0,
            buf: String::new(),
            secrets: Default::default(),
        }
    }

    pub fn mode(&self) -> TraceMode {
        self.mode
    }

    pub fn keeps_lines(&self) -> bool {
        self.mode == TraceMode::Full
    }

    pub fn hashing(&self) -> bool {
        true
    }

    /// Records a line given as format arguments (`format_args!`): it is written into the
    /// trace's own buffer, never into a new string.
    pub fn record_fmt(&mut self, args: fmt::Arguments<'_>) {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        fmt::Write::write_fmt(&mut buf, args).expect("formatting a trace line into a String cannot fail");
        self.record(&buf);
        self.buf = buf;
    }

    pub fn record(&mut self, line: &str) {
        debug_assert!(!line.contains('\n'), "a trace line is one line: {line:?}");
        if self.secrets.is_watching() {
            let count = self.count;
            self.secrets.scan(line, || format!("trace line {}", count + 1));
        }
        self.hasher.update(line.as_bytes());
        self.hasher.update(b"\n");
        self.count += 1;
        match self.mode {
            TraceMode::HashOnly => {}
            TraceMode::Tail | TraceMode::Full => {
                if self.mode == TraceMode::Full {
                    self.lines.push(line.to_string());
                }
                // The oldest line's string is reused for the newest once the tail is full.
                let mut slot = if self.tail.len() == TAIL_LINES {
                    self.tail.pop_front().expect("a full tail has a first line")
                } else {
                    String::new()
                };
                slot.clear();
                slot.push_str(line);
                self.tail.push_back(slot);
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record_all(mode: TraceMode, lines: &[&str]) -> Trace {
        let mut trace = Trace::new(mode);
        for (i, line) in lines.iter().enumerate() {
            if i % 2 == 0 {
                trace.record(line);
            } else {
                trace.record_fmt(format_args!("{line}"));
            }
        }
        trace
    }

    #[test]
    fn every_mode_gives_the_hash_of_the_lines_as_text() {
        let lines: Vec<String> = (0..100).map(|i| format!("{i}.000s node{i} event {i}")).collect();
        let lines: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        let mut text = lines.join("\n");
        text.push('\n');
        let expected: String = Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        for mode in [TraceMode::HashOnly, TraceMode::Tail, TraceMode::Full] {
            let trace = record_all(mode, &lines);
            assert_eq!(trace.hash_hex(), expected, "{mode:?}");
            assert_eq!(trace.len(), 100);
        }
    }

    #[test]
    fn only_full_keeps_every_line_and_hash_only_keeps_no_tail() {
        let lines: Vec<String> = (0..50).map(|i| format!("line {i}")).collect();
        let lines: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        let full = record_all(TraceMode::Full, &lines);
        assert_eq!(full.lines(), lines.as_slice());
        let tail = record_all(TraceMode::Tail, &lines);
        assert!(tail.lines().is_empty());
        let kept: Vec<&String> = tail.tail().collect();
        assert_eq!(kept.len(), TAIL_LINES);
        assert_eq!(kept.first().map(|s| s.as_str()), Some("line 10"));
        assert_eq!(kept.last().map(|s| s.as_str()), Some("line 49"));
        let hash_only = record_all(TraceMode::HashOnly, &lines);
        assert!(hash_only.lines().is_empty() && hash_only.tail().next().is_none());
    }

    #[test]
    fn a_secret_is_found_in_hash_only_mode_too() {
        let mut trace = Trace::new(TraceMode::HashOnly);
        trace.secrets.watch("db_pass", b"s3cret-pw");
        trace.record_fmt(format_args!("1.000s node0 runtime create {}", "s3cret-pw"));
        assert!(trace.secrets.leak().is_some_and(|l| l.contains("db_pass")));
    }
}
