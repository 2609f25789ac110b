//! The `expect` sentences: a small English-like language for conditions on the cluster.
//!
//! ```text
//! [within DURATION] SERVICE has N running task(s) [on distinct nodes]
//! [within DURATION] SERVICE has N running task(s) on NODE
//! [within DURATION] SERVICE has N completed task(s)
//! [within DURATION] task of SERVICE on NODE is healthy|unhealthy
//! [within DURATION] SERVICE slot N is running on another node than before
//! [within DURATION] SERVICE slot N previous task failed with "TEXT"
//! [within DURATION] SERVICE is gone
//! [within DURATION] no container of SERVICE runs on NODE
//! [within DURATION] node NODE is ready|down|unknown|disconnected
//! [within DURATION] node NODE is active|pause|drain
//! [within DURATION] a leader is elected
//! [within DURATION] NODE is the leader
//! [within DURATION] SERVICE runs image IMAGE on N task(s)
//! [within DURATION] update of SERVICE is updating|paused|completed|rolling back|rollback paused|rolled back
//! ```
//! Errors carry a byte range inside the sentence so the file position can point at the word.

use super::units::parse_duration;
use std::fmt;
use std::ops::Range;
use std::time::Duration;
use swarm_core::api::{Availability, NodeState, UpdateState};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `SERVICE has N running task(s) [on distinct nodes]`: exactly N of the service's tasks are
    /// running (observed state), and with `on distinct nodes` no two of them on one node.
    RunningTasks { service: String, count: u64, on_distinct_nodes: bool },
    /// `SERVICE slot N is running on another node than before`: the slot's newest task runs, and
    /// the task before it in that slot ran on a different node.
    SlotMovedNode { service: String, slot: u64 },
    /// `SERVICE slot N previous task failed with "TEXT"`: the task before the slot's newest one
    /// is in state failed, its error containing TEXT.
    SlotPreviousTaskFailed { service: String, slot: u64, error: String },
    /// `SERVICE is gone`: no service, no tasks, and no container of it on any node.
    ServiceGone { service: String },
    /// `no container of SERVICE runs on NODE`.
    NoContainerOn { service: String, node: String },
    /// `node NODE is ready|down|unknown|disconnected` (the status `node ls` shows).
    NodeState { node: String, state: NodeState },
    /// `node NODE is active|pause|drain` (the availability `node ls` shows).
    NodeAvailability { node: String, availability: Availability },
    /// `a leader is elected`: some manager is the Raft leader.
    LeaderElected,
    /// `NODE is the leader`.
    IsLeader { node: String },
    /// `SERVICE has N running task(s) on NODE`: exactly N of the service's tasks run there.
    RunningTasksOn { service: String, count: u64, node: String },
    /// `task of SERVICE on NODE is healthy|unhealthy`: healthy, a container of the service
    /// runs on NODE with a passing health check; unhealthy, one there was found unhealthy (it
    /// runs unhealthy, or its task failed with swarm's `dockerexec: unhealthy container`).
    TaskHealth { service: String, node: String, healthy: bool },
    /// `SERVICE runs image IMAGE on N task(s)`: exactly N of its running tasks (as
    /// `RunningTasks` counts them) run IMAGE (`nginx:1.25`, read as docker reads a reference);
    /// others may run another image.
    RunsImage { service: String, image: String, count: u64 },
    /// `update of SERVICE is paused`: the service's `UpdateStatus.State`.
    UpdateIs { service: String, state: UpdateState },
    /// `SERVICE has N completed task(s)`: exactly N of the service's tasks (a job's, in any
    /// iteration still in its history) are in state COMPLETE, as `service ps` shows them.
    CompletedTasks { service: String, count: u64 },
}

/// The words `update of SERVICE is ...` takes for each `UpdateStatus.State`.
pub const UPDATE_STATE_WORDS: [(&str, UpdateState); 6] = [
    ("updating", UpdateState::Updating),
    ("paused", UpdateState::Paused),
    ("completed", UpdateState::Completed),
    ("rolling back", UpdateState::RollbackStarted),
    ("rollback paused", UpdateState::RollbackPaused),
    ("rolled back", UpdateState::RollbackCompleted),
];

fn update_state_words(state: UpdateState) -> &'static str {
    UPDATE_STATE_WORDS.iter().find(|(_, s)| *s == state).map(|(w, _)| *w).expect("every state has words")
}

impl fmt::Display for Condition {
    /// The canonical sentence, which `parse_expectation` reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::RunningTasks { service, count, on_distinct_nodes } => {
                let tasks = if *count == 1 { "task" } else { "tasks" };
                let distinct = if *on_distinct_nodes { " on distinct nodes" } else { "" };
                write!(f, "{service} has {count} running {tasks}{distinct}")
            }
            Condition::SlotMovedNode { service, slot } => {
                write!(f, "{service} slot {slot} is running on another node than before")
            }
            Condition::SlotPreviousTaskFailed { service, slot, error } => {
                write!(f, "{service} slot {slot} previous task failed with \"{error}\"")
            }
            Condition::ServiceGone { service } => write!(f, "{service} is gone"),
            Condition::NoContainerOn { service, node } => write!(f, "no container of {service} runs on {node}"),
            Condition::NodeState { node, state } => write!(f, "node {node} is {}", state.as_str().to_lowercase()),
            Condition::NodeAvailability { node, availability } => {
                write!(f, "node {node} is {}", availability.as_str().to_lowercase())
            }
            Condition::LeaderElected => write!(f, "a leader is elected"),
            Condition::IsLeader { node } => write!(f, "{node} is the leader"),
            Condition::RunningTasksOn { service, count, node } => {
                let tasks = if *count == 1 { "task" } else { "tasks" };
                write!(f, "{service} has {count} running {tasks} on {node}")
            }
            Condition::TaskHealth { service, node, healthy } => {
                let health = if *healthy { "healthy" } else { "unhealthy" };
                write!(f, "task of {service} on {node} is {health}")
            }
            Condition::RunsImage { service, image, count } => {
                let tasks = if *count == 1 { "task" } else { "tasks" };
                write!(f, "{service} runs image {image} on {count} {tasks}")
            }
            Condition::UpdateIs { service, state } => {
                write!(f, "update of {service} is {}", update_state_words(*state))
            }
            Condition::CompletedTasks { service, count } => {
                let tasks = if *count == 1 { "task" } else { "tasks" };
                write!(f, "{service} has {count} completed {tasks}")
            }
        }
    }
}

/// An `expect` sentence, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedExpectation {
    pub within: Option<Duration>,
    pub condition: Condition,
    /// Every word that must name a `[[node]]`, with its byte range in the sentence.
    pub node_names: Vec<(String, Range<usize>)>,
}

/// What is wrong and where: `span` is a byte range in the sentence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectError {
    pub span: Range<usize>,
    pub message: String,
}

const FORMS: &str = "`SERVICE has N running tasks [on distinct nodes|on NODE]`, \
`SERVICE has N completed tasks`, \
`task of SERVICE on NODE is healthy|unhealthy`, \
`SERVICE slot N is running on another node than before`, \
`SERVICE slot N previous task failed with \"TEXT\"`, `SERVICE is gone`, \
`no container of SERVICE runs on NODE`, `node NODE is ready|down|unknown|disconnected|active|pause|drain`, \
`a leader is elected`, `NODE is the leader`, `SERVICE runs image IMAGE on N tasks`, \
`update of SERVICE is updating|paused|completed|rolling back|rollback paused|rolled back`, \
each optionally after `within DURATION`";

pub fn parse_expectation(text: &str) -> Result<ParsedExpectation, ExpectError> {
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(ExpectError { span: 0..text.len(), message: format!("empty expectation; write one of {FORMS}") });
    }
    let mut parser = Parser { tokens, next: 0, end: text.len(), node_names: Vec::new() };
    let within = parser.within()?;
    let condition = parser.condition()?;
    parser.finish(&condition)?;
    Ok(ParsedExpectation { within, condition, node_names: parser.node_names })
}

/// A word, or a `"double-quoted text"` (whose `text` excludes the quotes).
#[derive(Clone, Debug)]
struct Token<'t> {
    text: &'t str,
    span: Range<usize>,
    quoted: bool,
}

fn tokenize(text: &str) -> Result<Vec<Token<'_>>, ExpectError> {
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let c = rest.chars().next().expect("at < len");
        if c.is_whitespace() {
            at += c.len_utf8();
        } else if c == '"' {
            let Some(close) = rest[1..].find('"') else {
                return Err(ExpectError {
                    span: at..text.len(),
                    message: "unterminated quote: end the text with `\"`".into(),
                });
            };
            tokens.push(Token { text: &rest[1..1 + close], span: at..at + close + 2, quoted: true });
            at += close + 2;
        } else {
            let len = rest.find(|c: char| c.is_whitespace() || c == '"').unwrap_or(rest.len());
            tokens.push(Token { text: &rest[..len], span: at..at + len, quoted: false });
            at += len;
        }
    }
    Ok(tokens)
}

struct Parser<'t> {
    tokens: Vec<Token<'t>>,
    next: usize,
    /// Length of the sentence: where "found the end of the sentence" points.
    end: usize,
    node_names: Vec<(String, Range<usize>)>,
}

impl<'t> Parser<'t> {
    fn word_at(&self, index: usize) -> Option<&'t str> {
        self.tokens.get(index).filter(|t| !t.quoted).map(|t| t.text)
    }

    fn error_here(&self, message: String) -> ExpectError {
        let span = self.tokens.get(self.next).map_or(self.end..self.end, |t| t.span.clone());
        ExpectError { span, message }
    }

    /// How the next token reads in "expected X, found Y".
    fn found(&self) -> String {
        match self.tokens.get(self.next) {
            None => "the end of the sentence".into(),
            Some(t) if t.quoted => format!("the quoted text \"{}\"", t.text),
            Some(t) => format!("`{}`", t.text),
        }
    }

    /// Any unquoted word, e.g. a name; `what` describes it for the error.
    fn word(&mut self, what: &str) -> Result<Token<'t>, ExpectError> {
        match self.tokens.get(self.next) {
            Some(t) if !t.quoted => {
                self.next += 1;
                Ok(t.clone())
            }
            _ => Err(self.error_here(format!("expected {what}, found {}", self.found()))),
        }
    }

    /// The fixed words of a form, in order; `form` is quoted in the error.
    fn keywords(&mut self, words: &str, form: &str) -> Result<(), ExpectError> {
        for word in words.split(' ') {
            if self.word_at(self.next) != Some(word) {
                return Err(self.error_here(format!("expected `{word}`, found {} (in `{form}`)", self.found())));
            }
            self.next += 1;
        }
        Ok(())
    }

    fn number(&mut self, what: &str) -> Result<(u64, Range<usize>), ExpectError> {
        let token = self.word(what)?;
        match token.text.parse::<u64>() {
            Ok(n) => Ok((n, token.span)),
            Err(_) => {
                Err(ExpectError { span: token.span, message: format!("expected {what}, found `{}`", token.text) })
            }
        }
    }

    fn node_name(&mut self, token: &Token<'t>) -> String {
        self.node_names.push((token.text.to_string(), token.span.clone()));
        token.text.to_string()
    }

    fn within(&mut self) -> Result<Option<Duration>, ExpectError> {
        if self.word_at(self.next) != Some("within") {
            return Ok(None);
        }
        self.next += 1;
        let token = self.word("a duration after `within`, e.g. `within 30s`")?;
        let within = parse_duration(token.text).map_err(|message| ExpectError { span: token.span.clone(), message })?;
        if self.next == self.tokens.len() {
            return Err(
                self.error_here(format!("expected a condition after `within {}`; write one of {FORMS}", token.text))
            );
        }
        Ok(Some(within))
    }

    fn condition(&mut self) -> Result<Condition, ExpectError> {
        let first = self.next;
        // The fixed openings are recognised by their second word too, so a service or node
        // called `a`, `no` or `node` still reads as a subject.
        match (self.word_at(first), self.word_at(first + 1), self.word_at(first + 2)) {
            (Some("a"), Some("leader"), _) => {
                self.keywords("a leader is elected", "a leader is elected")?;
                Ok(Condition::LeaderElected)
            }
            (Some("no"), Some("container"), _) => self.no_container(),
            (Some("task"), Some("of"), _) => self.task_health(),
            (Some("update"), Some("of"), _) => self.update_of(),
            (Some("node"), Some(_), Some("is")) => self.node_condition(),
            _ => self.subject_condition(),
        }
    }

    fn no_container(&mut self) -> Result<Condition, ExpectError> {
        const FORM: &str = "no container of SERVICE runs on NODE";
        self.keywords("no container of", FORM)?;
        let service = self.word("a service name (in `no container of SERVICE runs on NODE`)")?.text.to_string();
        self.keywords("runs on", FORM)?;
        let node = self.word("a node name (in `no container of SERVICE runs on NODE`)")?;
        Ok(Condition::NoContainerOn { service, node: self.node_name(&node) })
    }

    /// The rest of `SERVICE has N running tasks on NODE`, from `on`.
    fn running_tasks_on(&mut self, service: String, count: u64) -> Result<Condition, ExpectError> {
        self.next += 1; // `on`
        let node = self.word("a node name (in `SERVICE has N running tasks on NODE`)")?;
        Ok(Condition::RunningTasksOn { service, count, node: self.node_name(&node) })
    }

    fn task_health(&mut self) -> Result<Condition, ExpectError> {
        const FORM: &str = "task of SERVICE on NODE is healthy|unhealthy";
        self.keywords("task of", FORM)?;
        let service = self.word("a service name (in `task of SERVICE on NODE is healthy`)")?.text.to_string();
        self.keywords("on", FORM)?;
        let node = self.word("a node name (in `task of SERVICE on NODE is healthy`)")?;
        let node = self.node_name(&node);
        self.keywords("is", FORM)?;
        let health = self.word("`healthy` or `unhealthy`")?;
        let healthy = match health.text {
            "healthy" => true,
            "unhealthy" => false,
            other => {
                return Err(ExpectError {
                    span: health.span,
                    message: format!("expected `healthy` or `unhealthy`, found `{other}`"),
                })
            }
        };
        Ok(Condition::TaskHealth { service, node, healthy })
    }

    fn update_of(&mut self) -> Result<Condition, ExpectError> {
        const FORM: &str = "update of SERVICE is STATE";
        self.keywords("update of", FORM)?;
        let service = self.word("a service name (in `update of SERVICE is STATE`)")?.text.to_string();
        self.keywords("is", FORM)?;
        for (words, state) in UPDATE_STATE_WORDS {
            let n = words.split(' ').count();
            let given: Vec<Option<&str>> = (0..n).map(|i| self.word_at(self.next + i)).collect();
            if given.iter().zip(words.split(' ')).all(|(g, w)| *g == Some(w)) {
                self.next += n;
                return Ok(Condition::UpdateIs { service, state });
            }
        }
        Err(self.error_here(format!(
            "expected an update state (updating, paused, completed, rolling back, rollback paused, rolled back), found {}",
            self.found()
        )))
    }

    fn node_condition(&mut self) -> Result<Condition, ExpectError> {
        self.next += 1; // `node`
        let name = self.word("a node name")?;
        let node = self.node_name(&name);
        self.next += 1; // `is`, checked by the caller's look-ahead
        let what = "a node status (ready, down, unknown, disconnected) or availability (active, pause, drain)";
        let state = self.word(what)?;
        let condition = match state.text {
            "ready" => Condition::NodeState { node, state: NodeState::Ready },
            "down" => Condition::NodeState { node, state: NodeState::Down },
            "unknown" => Condition::NodeState { node, state: NodeState::Unknown },
            "disconnected" => Condition::NodeState { node, state: NodeState::Disconnected },
            other => match Availability::parse(other) {
                Some(availability) => Condition::NodeAvailability { node, availability },
                None => {
                    return Err(ExpectError { span: state.span, message: format!("expected {what}, found `{other}`") })
                }
            },
        };
        Ok(condition)
    }

    /// Sentences that start with a service or node name.
    fn subject_condition(&mut self) -> Result<Condition, ExpectError> {
        let subject = self.word("a condition")?;
        let service = subject.text.to_string();
        match self.word_at(self.next) {
            Some("has") => {
                self.next += 1;
                let (count, _) = self.number("a number of tasks (in `SERVICE has N running tasks`)")?;
                if self.word_at(self.next) == Some("completed") {
                    self.next += 1;
                    match self.word_at(self.next) {
                        Some("task" | "tasks") => self.next += 1,
                        _ => {
                            return Err(self.error_here(format!(
                                "expected `tasks`, found {} (in `SERVICE has N completed tasks`)",
                                self.found()
                            )))
                        }
                    }
                    return Ok(Condition::CompletedTasks { service, count });
                }
                self.keywords("running", "SERVICE has N running tasks")?;
                match self.word_at(self.next) {
                    Some("task" | "tasks") => self.next += 1,
                    _ => {
                        return Err(self.error_here(format!(
                            "expected `tasks`, found {} (in `SERVICE has N running tasks`)",
                            self.found()
                        )))
                    }
                }
                let on = self.word_at(self.next) == Some("on");
                let on_distinct_nodes = on && self.word_at(self.next + 1) == Some("distinct");
                if on_distinct_nodes {
                    self.keywords("on distinct nodes", "SERVICE has N running tasks on distinct nodes")?;
                } else if on {
                    return self.running_tasks_on(service, count);
                }
                Ok(Condition::RunningTasks { service, count, on_distinct_nodes })
            }
            Some("runs") => {
                const FORM: &str = "SERVICE runs image IMAGE on N tasks";
                self.keywords("runs image", FORM)?;
                let image = self.word("an image (in `SERVICE runs image IMAGE on N tasks`)")?.text.to_string();
                self.keywords("on", FORM)?;
                let (count, _) = self.number("a number of tasks (in `SERVICE runs image IMAGE on N tasks`)")?;
                match self.word_at(self.next) {
                    Some("task" | "tasks") => self.next += 1,
                    _ => return Err(self.error_here(format!("expected `tasks`, found {} (in `{FORM}`)", self.found()))),
                }
                Ok(Condition::RunsImage { service, image, count })
            }
            Some("slot") => {
                self.next += 1;
                let (slot, span) = self.number("a slot number (in `SERVICE slot N ...`)")?;
                if slot == 0 {
                    return Err(ExpectError { span, message: "slots are numbered from 1".into() });
                }
                self.slot_condition(service, slot)
            }
            Some("is") => {
                self.next += 1;
                match self.word_at(self.next) {
                    Some("gone") => {
                        self.next += 1;
                        Ok(Condition::ServiceGone { service })
                    }
                    Some("the") => {
                        self.keywords("the leader", "NODE is the leader")?;
                        Ok(Condition::IsLeader { node: self.node_name(&subject) })
                    }
                    _ => Err(self.error_here(format!(
                        "expected `gone` (`SERVICE is gone`) or `the leader` (`NODE is the leader`) after `{} is`, found {}",
                        subject.text,
                        self.found()
                    ))),
                }
            }
            _ => Err(self.error_here(format!(
                "expected `has`, `runs`, `slot` or `is` after `{}`, found {}; an expectation is one of {FORMS}",
                subject.text,
                self.found()
            ))),
        }
    }

    fn slot_condition(&mut self, service: String, slot: u64) -> Result<Condition, ExpectError> {
        match self.word_at(self.next) {
            Some("is") => {
                self.keywords("is running on another node than before", "SERVICE slot N is running on another node than before")?;
                Ok(Condition::SlotMovedNode { service, slot })
            }
            Some("previous") => {
                self.keywords("previous task failed with", "SERVICE slot N previous task failed with \"TEXT\"")?;
                match self.tokens.get(self.next) {
                    Some(t) if t.quoted => {
                        self.next += 1;
                        Ok(Condition::SlotPreviousTaskFailed { service, slot, error: t.text.to_string() })
                    }
                    _ => Err(self.error_here(format!(
                        "expected the error text in double quotes, e.g. \"task: non-zero exit (137)\", found {}",
                        self.found()
                    ))),
                }
            }
            _ => Err(self.error_here(format!(
                "expected `is running on another node than before` or `previous task failed with \"TEXT\"` after `slot {slot}`, found {}",
                self.found()
            ))),
        }
    }

    fn finish(&self, condition: &Condition) -> Result<(), ExpectError> {
        match self.tokens.get(self.next) {
            None => Ok(()),
            Some(extra) => Err(ExpectError {
                span: extra.span.start..self.tokens.last().expect("non-empty").span.end,
                message: format!("unexpected {} after the complete condition `{condition}`", self.found()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ParsedExpectation {
        parse_expectation(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    fn error(text: &str) -> (String, String) {
        let e = parse_expectation(text).expect_err(text);
        (text[e.span].to_string(), e.message)
    }

    #[test]
    fn every_form_parses_and_prints_back() {
        let cases = [
            ("within 30s mynginx has 2 running tasks on distinct nodes", Some(30)),
            ("mynginx has 1 running task", None),
            ("mynginx slot 2 is running on another node than before", None),
            ("within 1m mynginx slot 2 previous task failed with \"task: non-zero exit (137)\"", Some(60)),
            ("mynginx is gone", None),
            ("no container of mynginx runs on bd2", None),
            ("node bd1 is ready", None),
            ("node bd1 is disconnected", None),
            ("node bd2 is drain", None),
            ("within 10s a leader is elected", Some(10)),
            ("bd0 is the leader", None),
            ("web has 1 running task on bd1", None),
            ("within 30s web has 0 running tasks on bd2", Some(30)),
            ("within 1m task of web on bd1 is healthy", Some(60)),
            ("task of web on bd1 is unhealthy", None),
        ];
        for (text, within) in cases {
            let parsed = parse(text);
            assert_eq!(parsed.within, within.map(Duration::from_secs), "{text}");
            let sentence = text
                .trim_start_matches("within 30s ")
                .trim_start_matches("within 1m ")
                .trim_start_matches("within 10s ");
            assert_eq!(parsed.condition.to_string(), sentence);
        }
    }

    #[test]
    fn conditions_carry_their_parts() {
        assert_eq!(
            parse("mynginx has 2 running tasks on distinct nodes").condition,
            Condition::RunningTasks { service: "mynginx".into(), count: 2, on_distinct_nodes: true }
        );
        assert_eq!(
            parse("node bd1 is pause").condition,
            Condition::NodeAvailability { node: "bd1".into(), availability: Availability::Pause }
        );
        let parsed = parse("no container of web runs on bd2");
        assert_eq!(parsed.condition, Condition::NoContainerOn { service: "web".into(), node: "bd2".into() });
        assert_eq!(parsed.node_names, vec![("bd2".to_string(), 28..31)]);
        assert_eq!(parse("bd0 is the leader").node_names, vec![("bd0".to_string(), 0..3)]);
        // A service named like an opening word is still a subject.
        assert_eq!(
            parse("node has 1 running task").condition,
            Condition::RunningTasks { service: "node".into(), count: 1, on_distinct_nodes: false }
        );
        assert_eq!(parse("a is gone").condition, Condition::ServiceGone { service: "a".into() });
    }

    #[test]
    fn placement_and_health_sentences_name_their_node() {
        let parsed = parse("web has 2 running tasks on bd1");
        assert_eq!(parsed.condition, Condition::RunningTasksOn { service: "web".into(), count: 2, node: "bd1".into() });
        assert_eq!(parsed.node_names, vec![("bd1".to_string(), 27..30)]);
        let parsed = parse("task of web on bd2 is unhealthy");
        assert_eq!(
            parsed.condition,
            Condition::TaskHealth { service: "web".into(), node: "bd2".into(), healthy: false }
        );
        assert_eq!(parsed.node_names, vec![("bd2".to_string(), 15..18)]);
        let (at, message) = error("task of web on bd2 is sick");
        assert_eq!((at.as_str(), message.as_str()), ("sick", "expected `healthy` or `unhealthy`, found `sick`"));
    }

    #[test]
    fn errors_point_at_the_wrong_word() {
        let (at, message) = error("within 30x mynginx is gone");
        assert_eq!(at, "30x");
        assert!(message.contains("unknown unit"), "{message}");

        let (at, message) = error("mynginx has two running tasks");
        assert_eq!(at, "two");
        assert!(message.starts_with("expected a number of tasks"), "{message}");

        let (at, message) = error("mynginx has 2 runing tasks");
        assert_eq!(at, "runing");
        assert_eq!(message, "expected `running`, found `runing` (in `SERVICE has N running tasks`)");

        let (at, message) = error("mynginx hs 2 running tasks");
        assert_eq!(at, "hs");
        assert!(message.starts_with("expected `has`, `runs`, `slot` or `is` after `mynginx`, found `hs`"), "{message}");

        let (at, message) = error("update of web is stuck");
        assert_eq!(at, "stuck");
        assert!(message.starts_with("expected an update state (updating, paused, completed"), "{message}");

        let (at, message) = error("web runs image nginx:1.25 on three tasks");
        assert_eq!(at, "three");
        assert!(message.starts_with("expected a number of tasks"), "{message}");

        let (at, message) = error("node bd1 is sleeping");
        assert_eq!(at, "sleeping");
        assert!(message.contains("ready, down, unknown, disconnected"), "{message}");

        let (at, message) = error("mynginx slot 0 is running on another node than before");
        assert_eq!((at.as_str(), message.as_str()), ("0", "slots are numbered from 1"));

        let (at, message) = error("mynginx slot 2 previous task failed with task: non-zero");
        assert_eq!(at, "task:");
        assert!(message.starts_with("expected the error text in double quotes"), "{message}");

        let (at, message) = error("mynginx slot 2 previous task failed with \"oops");
        assert_eq!(at, "\"oops");
        assert!(message.contains("unterminated quote"), "{message}");

        let (at, message) = error("mynginx is gone now really");
        assert_eq!(at, "now really");
        assert_eq!(message, "unexpected `now` after the complete condition `mynginx is gone`");

        let (at, message) = error("within 5s");
        assert_eq!(at, "");
        assert!(message.starts_with("expected a condition after `within 5s`"), "{message}");

        let (at, message) = error("a leader is");
        assert_eq!(at, "");
        assert_eq!(message, "expected `elected`, found the end of the sentence (in `a leader is elected`)");

        let (_, message) = error("   ");
        assert!(message.starts_with("empty expectation"), "{message}");
    }

    #[test]
    fn update_sentences_read_back_as_written() {
        for (text, condition) in [
            (
                "within 2m mynginx runs image nginx:1.25 on 3 tasks",
                Condition::RunsImage { service: "mynginx".into(), image: "nginx:1.25".into(), count: 3 },
            ),
            (
                "update of mynginx is paused",
                Condition::UpdateIs { service: "mynginx".into(), state: UpdateState::Paused },
            ),
            (
                "update of mynginx is rolled back",
                Condition::UpdateIs { service: "mynginx".into(), state: UpdateState::RollbackCompleted },
            ),
            (
                "update of mynginx is rollback paused",
                Condition::UpdateIs { service: "mynginx".into(), state: UpdateState::RollbackPaused },
            ),
        ] {
            let parsed = parse_expectation(text).unwrap_or_else(|e| panic!("{text}: {}", e.message));
            assert_eq!(parsed.condition, condition, "{text}");
            assert_eq!(parse_expectation(&condition.to_string()).unwrap().condition, condition);
        }
    }
}
