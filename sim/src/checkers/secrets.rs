//! A secret's bytes never appear in what a run shows: no trace line (requests, replies,
//! messages, container commands and events), and no command's output except a `cat` of the
//! secret's own file inside a task's container (the one place swarm hands it out).
//!
//! The world registers each secret a client creates (`docker secret create`) and the trace
//! scans every line it records; the runner scans each command's output. A leak is a safety
//! violation, reported without the bytes.

/// Secrets shorter than this are not watched: they would be found by chance (`1`, `abc`).
pub const MIN_WATCHED_LEN: usize = 6;

#[derive(Default)]
pub struct SecretWatch {
    /// (secret name, its bytes), in the order created.
    secrets: Vec<(String, Vec<u8>)>,
    /// The first leak found, described without the bytes.
    leak: Option<String>,
}

impl SecretWatch {
    pub fn watch(&mut self, name: &str, bytes: &[u8]) {
        if bytes.len() >= MIN_WATCHED_LEN && !self.secrets.iter().any(|(_, b)| b == bytes) {
            self.secrets.push((name.to_string(), bytes.to_vec()));
        }
    }

    pub fn is_watching(&self) -> bool {
        !self.secrets.is_empty()
    }

    /// The name of a watched secret whose bytes `text` holds.
    pub fn found_in(&self, text: &str) -> Option<&str> {
        let text = text.as_bytes();
        self.secrets
            .iter()
            .find(|(_, bytes)| text.windows(bytes.len()).any(|w| w == bytes.as_slice()))
            .map(|(name, _)| name.as_str())
    }

    /// Scans one piece of output; the first leak is kept, `where_` says what leaked it.
    pub fn scan(&mut self, text: &str, where_: impl FnOnce() -> String) {
        if self.leak.is_some() || self.secrets.is_empty() {
            return;
        }
        if let Some(name) = self.found_in(text) {
            self.leak = Some(format!("invariant violated: the bytes of secret {name} appear in {}", where_()));
        }
    }

    pub fn leak(&self) -> Option<&String> {
        self.leak.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watched_secret_is_found_and_named_without_its_bytes() {
        let mut watch = SecretWatch::default();
        watch.watch("db_pass", b"s3cret-pw");
        watch.watch("short", b"abc");
        watch.scan("12.000s bd0 reply#3 ok secret created x", || "a trace line".into());
        assert_eq!(watch.leak(), None);
        watch.scan("bd0 abc", || "a trace line".into());
        assert_eq!(watch.leak(), None, "too short to watch");
        watch.scan("exec \"s3cret-pw\"", || "the trace line at 13s".into());
        let leak = watch.leak().expect("found");
        assert!(leak.contains("secret db_pass") && !leak.contains("s3cret"), "{leak}");
    }
}
