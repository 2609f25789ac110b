//! What differs between any two runs, even of the same backend, is taken out of the text before
//! comparing: IDs and join tokens become `ID1, ID2, …` in order of first appearance across the
//! whole run, and ages and dates become `<age>` (the state word before them stays:
//! `Running 23 seconds ago` → `Running <age>`).
//!
//! One `Normaliser` reads a whole run in order, so a task is the same `IDn` in every later step,
//! and a 12-character ID that begins a longer one already seen (docker truncates in tables) is
//! the same `IDn` as the long one.

use regex::Regex;
use std::sync::LazyLock;

/// Join tokens, then docker's IDs: 64 (containers, digests), 25 (swarm objects) or 12
/// characters (either, truncated). Leftmost-first: a token is taken whole before its parts.
static ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"SWMTKN-1-[0-9a-z]+-[0-9a-z]+|\b(?:[0-9a-z]{64}|[0-9a-z]{25}|[0-9a-z]{12})\b").expect("valid")
});

/// RFC 3339 (`inspect`'s `CreatedAt`) and Go's default time format (`ps --format {{.CreatedAt}}`).
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z| ?[+-]\d{2}:?\d{2})?(?: [A-Z]{2,5}\b)?")
        .expect("valid")
});

/// go-units' HumanDuration, as `ps`, `service ps` and `node ls` print it, with or without `ago`.
static AGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:less than a second|about a minute|about an hour|(?:an?|\d+) (?:second|minute|hour|day|week|month|year)s?)(?: ago)?\b",
    )
    .expect("valid")
});

/// Twelve lower-case letters that are words, not IDs (an ID of letters only is rarer than one
/// of these in an error message, but both happen).
const TWELVE_LETTER_WORDS: &[&str] = &["availability", "successfully", "unsuccessful", "experimental", "distribution"];

#[derive(Clone, Debug, Default)]
pub struct Normaliser {
    /// The longest form seen of each ID; `IDn` is `ids[n - 1]`.
    ids: Vec<String>,
}

impl Normaliser {
    pub fn new() -> Normaliser {
        Normaliser::default()
    }

    /// The text with IDs, tokens, dates and ages replaced; IDs numbered as they are met.
    pub fn text(&mut self, text: &str) -> String {
        let with_ids = ID.replace_all(text, |c: &regex::Captures| {
            let found = &c[0];
            match self.number(found) {
                Some(n) => format!("ID{n}"),
                None => found.to_string(),
            }
        });
        let with_dates = DATE.replace_all(&with_ids, "<age>");
        AGE.replace_all(&with_dates, "<age>").into_owned()
    }

    fn number(&mut self, found: &str) -> Option<usize> {
        let is_token = found.starts_with("SWMTKN-");
        if !is_token && (found.bytes().all(|b| b.is_ascii_digit()) || TWELVE_LETTER_WORDS.contains(&found)) {
            return None;
        }
        if let Some(i) = self.ids.iter().position(|id| id.starts_with(found) || found.starts_with(id.as_str())) {
            if found.len() > self.ids[i].len() {
                self.ids[i] = found.to_string();
            }
            return Some(i + 1);
        }
        self.ids.push(found.to_string());
        Some(self.ids.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_numbered_in_order_of_first_appearance() {
        let mut n = Normaliser::new();
        assert_eq!(
            n.text("Swarm initialized: current node (9ue0h5cd6dkaqx86lfuzdy5ie) is now a manager."),
            "Swarm initialized: current node (ID1) is now a manager."
        );
        assert_eq!(n.text("5q63kf1m1b5n8juj7w848nh4n"), "ID2");
        assert_eq!(n.text("9ue0h5cd6dkaqx86lfuzdy5ie *   bd0"), "ID1 *   bd0");
    }

    #[test]
    fn a_truncated_id_is_the_same_id_as_its_full_form_either_way_round() {
        let mut n = Normaliser::new();
        assert_eq!(n.text("5q63kf1m1b5n   myswarm"), "ID1   myswarm");
        assert_eq!(n.text("\"Target\": \"5q63kf1m1b5n8juj7w848nh4n\""), "\"Target\": \"ID1\"");
        assert_eq!(n.text("25a4ugsfq9526d309jblry438 then 25a4ugsfq952"), "ID2 then ID2");
    }

    #[test]
    fn container_ids_names_with_task_ids_and_ids_of_letters_only_are_ids() {
        let mut n = Normaliser::new();
        let row = "1e30197db253   nginx:latest   mynginx.1.2l927pmchg9nxy29mmd51p407";
        assert_eq!(n.text(row), "ID1   nginx:latest   mynginx.1.ID2");
        assert_eq!(n.text("auwpjhvcqrnf   ingress"), "ID3   ingress");
        let digest = "sha256:".to_string() + &"0123456789abcdef".repeat(4);
        assert_eq!(n.text(&digest), "sha256:ID4");
    }

    #[test]
    fn join_tokens_are_one_id_each() {
        let mut n = Normaliser::new();
        let token = "SWMTKN-1-1pz4n5m751m53m5n2am0qxi9j0d33aqmmslf5vsdfz2nexeyql-0o92ay2vqvgc3a8o2fxbtemxc";
        assert_eq!(n.text(&format!("    --token {token} \\")), "    --token ID1 \\");
        assert_eq!(
            n.text(&format!("docker swarm join --token {token} 192.168.0.109:2377")),
            "docker swarm join --token ID1 192.168.0.109:2377"
        );
    }

    #[test]
    fn words_numbers_and_addresses_are_left_alone() {
        let mut n = Normaliser::new();
        for text in [
            "--availability drain",
            "\"MemoryBytes\": 100000000000",
            "192.168.0.109:2377",
            "Address 1: 10.0.0.2",
            "mynginx scaled to 3",
        ] {
            assert_eq!(n.text(text), text);
        }
    }

    #[test]
    fn ages_keep_the_state_word_before_them() {
        let mut n = Normaliser::new();
        for (text, want) in [
            ("Running 23 seconds ago", "Running <age>"),
            ("Running about a minute ago", "Running <age>"),
            ("Preparing less than a second ago", "Preparing <age>"),
            ("Failed 2 hours ago", "Failed <age>"),
            ("Up 20 seconds", "Up <age>"),
            ("Up About a minute", "Up <age>"),
            ("Less than a second ago", "<age>"),
            ("Exited (0) 1 second ago", "Exited (0) <age>"),
        ] {
            assert_eq!(n.text(text), want, "{text}");
        }
    }

    #[test]
    fn dates_become_ages() {
        let mut n = Normaliser::new();
        assert_eq!(n.text("\"CreatedAt\": \"2016-08-01T00:00:00.007Z\","), "\"CreatedAt\": \"<age>\",");
        assert_eq!(n.text("\"UpdatedAt\": \"2024-03-05T10:11:12.123456789+01:00\""), "\"UpdatedAt\": \"<age>\"");
        assert_eq!(n.text("2016-08-01 00:00:00 +0000 UTC"), "<age>");
    }
}
