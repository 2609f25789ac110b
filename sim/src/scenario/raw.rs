//! The scenario file exactly as TOML gives it: every key the format knows, each value with its
//! span so validation can point at it. `deny_unknown_fields` everywhere turns a typo into an
//! error naming the valid keys instead of a silently ignored line.

use super::units::parse_duration;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: Spanned<String>,
    pub description: Option<Spanned<String>>,
    pub seed: Option<Spanned<i64>>,
    pub max_duration: Option<Spanned<DurationValue>>,
    /// `"1.12"` or `"20.10"`: whose CLI prints the tables and which swarm behaves.
    pub docker_version: Option<Spanned<String>>,
    pub network: Option<Spanned<RawNetwork>>,
    #[serde(default, rename = "image")]
    pub images: Vec<Spanned<RawImage>>,
    #[serde(default, rename = "node")]
    pub nodes: Vec<Spanned<RawNode>>,
    #[serde(default, rename = "step")]
    pub steps: Vec<Spanned<RawStep>>,
    /// Clients during chaos (`--workload`): how many, how often, which operations.
    pub workload: Option<Spanned<RawWorkload>>,
    /// Files a command names (a stack's compose file), given inline.
    #[serde(default, rename = "file")]
    pub files: Vec<Spanned<RawFile>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub clients: Option<Spanned<i64>>,
    pub think: Option<Spanned<DurationValue>>,
    pub ops_per_client: Option<Spanned<i64>>,
    pub mix: Option<Spanned<BTreeMap<String, Spanned<i64>>>>,
}

/// `[[file]] name = "web.yml"  text = """..."""`: what a command reads as `web.yml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub name: Spanned<String>,
    pub text: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub latency: Option<Spanned<DurationValue>>,
    pub jitter: Option<Spanned<DurationValue>>,
    pub loss: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImage {
    pub name: Spanned<String>,
    pub command: Spanned<String>,
    pub exposed_ports: Option<Vec<Spanned<String>>>,
    pub http_body: Option<Spanned<String>>,
    pub pull: Option<Spanned<DurationValue>>,
    pub exit_after: Option<Spanned<DurationValue>>,
    pub exit_code: Option<Spanned<i64>>,
    pub start_error: Option<Spanned<String>>,
    pub healthcheck: Option<Spanned<String>>,
    pub health_interval: Option<Spanned<DurationValue>>,
    pub health_timeout: Option<Spanned<DurationValue>>,
    pub health_retries: Option<Spanned<i64>>,
    pub health_start_period: Option<Spanned<DurationValue>>,
    pub healthy_after: Option<Spanned<DurationValue>>,
    pub unhealthy_after: Option<Spanned<DurationValue>>,
    pub stop_exit_code: Option<Spanned<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNode {
    pub name: Spanned<String>,
    /// Shorthand for `interfaces = [{ name = "eth0", addr = ... }]`.
    pub addr: Option<Spanned<String>>,
    pub interfaces: Option<Spanned<Vec<Spanned<RawInterface>>>>,
    pub daemon_hosts: Option<Vec<Spanned<String>>>,
    pub cpus: Option<Spanned<i64>>,
    pub memory: Option<Spanned<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    pub missing_images: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInterface {
    pub name: Spanned<String>,
    pub addr: Spanned<String>,
}

/// Every key any step may have; which ones fit together is checked when building the `Step`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub on: Option<Spanned<String>>,
    pub at: Option<Spanned<DurationValue>>,
    pub after: Option<Spanned<DurationValue>>,
    // Actions: exactly one per step.
    pub run: Option<Spanned<String>>,
    pub kill: Option<Spanned<String>>,
    pub sleep: Option<Spanned<DurationValue>>,
    pub expect: Option<Spanned<String>>,
    // Fault actions (see `build/faults.rs`).
    pub crash: Option<Spanned<String>>,
    pub restart: Option<Spanned<String>>,
    pub stop_daemon: Option<Spanned<String>>,
    pub isolate: Option<Spanned<String>>,
    pub partition: Option<Spanned<Vec<Vec<Spanned<String>>>>>,
    /// With `partition`: a host in every group, reaching all of them.
    pub bridge: Option<Spanned<String>>,
    pub cut: Option<Spanned<Vec<Spanned<String>>>>,
    pub heal: Option<Spanned<bool>>,
    pub lose_leader: Option<Spanned<bool>>,
    pub link: Option<Spanned<RawLink>>,
    pub clock: Option<Spanned<RawClock>>,
    pub slow_disk: Option<Spanned<RawSlowDisk>>,
    pub fail_disk: Option<Spanned<String>>,
    pub disk_ok: Option<Spanned<String>>,
    pub pause: Option<Spanned<RawNodeFor>>,
    pub corrupt: Option<Spanned<RawCorrupt>>,
    pub runtime_fails: Option<Spanned<RawNodeFor>>,
    pub runtime_hangs: Option<Spanned<RawNodeFor>>,
    pub lose_data_root: Option<Spanned<String>>,
    pub rejoin: Option<Spanned<String>>,
    // Checks on a `run` step's result.
    pub exit: Option<Spanned<i64>>,
    pub output_contains: Option<Spanned<Vec<Spanned<String>>>>,
    pub output_matches: Option<Spanned<Vec<Spanned<String>>>>,
    pub output_lacks: Option<Spanned<Vec<Spanned<String>>>>,
    pub capture: Option<Spanned<OrderedTable<Spanned<String>>>>,
    pub snapshot: Option<Spanned<String>>,
    /// With `run`: what the command reads on its standard input (`docker secret create NAME -`).
    pub stdin: Option<Spanned<String>>,
}

/// A duration string, parsed while deserializing so a bad one is reported at its own span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration string such as \"5s\", \"200ms\" or \"1m30s\"")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<DurationValue, E> {
                parse_duration(text).map(DurationValue).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<DurationValue, E> {
                Err(E::custom(format!("a duration needs a unit: write \"{n}s\" or \"{n}ms\" (as a string)")))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<DurationValue, E> {
                Err(E::custom(format!("a duration needs a unit: write \"{n}s\" (as a string)")))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// A TOML table kept in the order it was written, keys with their spans (a `BTreeMap` would sort
/// the keys and forget where they were).
#[derive(Debug)]
pub struct OrderedTable<V>(pub Vec<(Spanned<String>, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for OrderedTable<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TableVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for TableVisitor<V> {
            type Value = OrderedTable<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table such as { name = 'regex' }")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedTable<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedTable(entries))
            }
        }
        deserializer.deserialize_map(TableVisitor(PhantomData))
    }
}

/// Rewords serde's Rust-flavoured type names into the words a TOML author uses.
pub fn friendly_serde_message(message: &str) -> String {
    let mut message = message.to_string();
    for (rust, toml) in [
        ("expected i64", "expected an integer"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("expected a string", "expected a string (in quotes)"),
    ] {
        message = message.replace(rust, toml);
    }
    if let Some(at) = message.find("expected struct Raw") {
        message.replace_range(at.., "expected a table");
    }
    if let Some(key) = misplaced_top_level_key(&message) {
        message.push_str(&format!(
            "; `{key}` is a top-level key, and TOML puts every key after a [[table]] header into that table: \
move it above the first table"
        ));
    }
    message
}

/// Keys only the top level has: reported unknown, they were written below a table header.
const TOP_LEVEL_ONLY_KEYS: [&str; 8] =
    ["description", "seed", "max_duration", "network", "image", "node", "step", "file"];

fn misplaced_top_level_key(message: &str) -> Option<&str> {
    let key = message.strip_prefix("unknown field `")?.split('`').next()?;
    TOP_LEVEL_ONLY_KEYS.contains(&key).then_some(key)
}

/// `link = { from = "bd0", to = "bd1", both = true, drop = 0.2, duplicate = 0.1, delay = "50ms", jitter = "20ms" }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    pub both: Option<bool>,
    pub drop: Option<Spanned<f64>>,
    pub duplicate: Option<Spanned<f64>>,
    pub delay: Option<Spanned<DurationValue>>,
    pub jitter: Option<Spanned<DurationValue>>,
}

/// `clock = { node = "bd1", offset = "-3s", drift_ppm = 200 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClock {
    pub node: Spanned<String>,
    /// A duration, `-` in front for a clock behind true time.
    pub offset: Option<Spanned<String>>,
    pub drift_ppm: Option<Spanned<i64>>,
}

/// `pause = { node = "bd1", for = "20s" }`, `runtime_fails = …`, `runtime_hangs = …`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNodeFor {
    pub node: Spanned<String>,
    #[serde(rename = "for")]
    pub duration: Spanned<DurationValue>,
}

/// `corrupt = { from = "bd0", to = "bd1", rate = 0.3 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorrupt {
    pub from: Spanned<String>,
    pub to: Spanned<String>,
    pub rate: Spanned<f64>,
}

/// `slow_disk = { node = "bd0", delay = "500ms" }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlowDisk {
    pub node: Spanned<String>,
    pub delay: Spanned<DurationValue>,
}
