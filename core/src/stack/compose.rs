//! A compose file (version 3) as `docker stack deploy` reads it: the keys a swarm stack uses,
//! each value checked while it is read so an error names the file, line and column. Unknown
//! keys are refused (docker validates against its schema and refuses them too), so a typo
//! never passes silently.

use crate::api::{PortConfig, Protocol, PublishMode};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compose {
    pub version: Option<Scalar>,
    #[serde(default)]
    pub services: BTreeMap<String, ServiceConfig>,
    #[serde(default)]
    pub networks: BTreeMap<String, Option<NetworkConfig>>,
    #[serde(default)]
    pub secrets: BTreeMap<String, FileObject>,
    #[serde(default)]
    pub configs: BTreeMap<String, FileObject>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub image: Option<String>,
    pub command: Option<ShellWords>,
    pub entrypoint: Option<ShellWords>,
    pub environment: Option<Mapping>,
    #[serde(default)]
    pub ports: Vec<PortEntry>,
    pub networks: Option<ServiceNetworks>,
    #[serde(default)]
    pub secrets: Vec<FileReference>,
    #[serde(default)]
    pub configs: Vec<FileReference>,
    pub healthcheck: Option<Healthcheck>,
    pub labels: Option<Mapping>,
    #[serde(default)]
    pub deploy: Deploy,
}

/// A number or a string, kept as text (`version: 3.8` and `version: "3.8"` alike).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::Text(s) => s.clone(),
            Scalar::Integer(n) => n.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

/// `command: nginx -g "daemon off;"` (split as a shell would) or `command: [nginx, -g, ...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShellWords(pub Vec<String>);

impl<'de> Deserialize<'de> for ShellWords {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Line(String),
            Words(Vec<Scalar>),
        }
        match Form::deserialize(deserializer)? {
            Form::Line(line) => crate::cli::parse::split_words(&line).map(ShellWords).map_err(de::Error::custom),
            Form::Words(words) => Ok(ShellWords(words.iter().map(Scalar::text).collect())),
        }
    }
}

/// `environment`/`labels`: a list of `KEY=VALUE` or a map; sorted by key either way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mapping(pub BTreeMap<String, Option<String>>);

impl<'de> Deserialize<'de> for Mapping {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            List(Vec<String>),
            Map(BTreeMap<String, Option<Scalar>>),
        }
        let form = Form::deserialize(deserializer)
            .map_err(|_| de::Error::custom("expected a list of KEY=VALUE strings or a mapping of KEY: VALUE"))?;
        Ok(Mapping(match form {
            Form::List(items) => items
                .into_iter()
                .map(|item| match item.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (item, None),
                })
                .collect(),
            Form::Map(map) => map.into_iter().map(|(k, v)| (k, v.map(|v| v.text()))).collect(),
        }))
    }
}

impl Mapping {
    /// `KEY=VALUE` lines, sorted (docker's `convertEnvironment`); a key with no value stays bare.
    pub fn to_env(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k.clone(),
            })
            .collect()
    }

    pub fn to_labels(&self) -> BTreeMap<String, String> {
        self.0.iter().map(|(k, v)| (k.clone(), v.clone().unwrap_or_default())).collect()
    }
}

/// `- "8080:80"` or `- { target: 80, published: 8080, protocol: tcp, mode: host }`.
#[derive(Clone, Debug, PartialEq)]
pub struct PortEntry(pub PortConfig);

impl<'de> Deserialize<'de> for PortEntry {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            target: u16,
            published: Option<u16>,
            protocol: Option<String>,
            mode: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Short(Scalar),
            Long(Long),
        }
        let form = Form::deserialize(deserializer).map_err(|_| {
            de::Error::custom("expected a port such as \"8080:80\" or a mapping with target, published, protocol, mode")
        })?;
        match form {
            Form::Short(text) => {
                let text = text.text();
                if !text.contains(':') {
                    return Err(de::Error::custom(format!(
                        "port \"{text}\" publishes no port: write \"PUBLISHED:TARGET\" (a random published port is not supported)"
                    )));
                }
                crate::cli::parse::parse_port_config(&text).map(PortEntry).map_err(de::Error::custom)
            }
            Form::Long(long) => {
                let protocol = match long.protocol.as_deref() {
                    None | Some("tcp") => Protocol::Tcp,
                    Some("udp") => Protocol::Udp,
                    Some(other) => return Err(de::Error::custom(format!("unknown protocol \"{other}\""))),
                };
                let mode = match long.mode.as_deref() {
                    None | Some("ingress") => PublishMode::Ingress,
                    Some("host") => PublishMode::Host,
                    Some(other) => return Err(de::Error::custom(format!("unknown port mode \"{other}\""))),
                };
                let Some(published_port) = long.published else {
                    return Err(de::Error::custom("a port without `published` is not supported"));
                };
                Ok(PortEntry(PortConfig { protocol, target_port: long.target, published_port, mode }))
            }
        }
    }
}

/// `networks: [front, back]` or `networks: { front: { aliases: [...] } }`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ServiceNetworks {
    List(Vec<String>),
    Map(BTreeMap<String, Option<ServiceNetwork>>),
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNetwork {
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl ServiceNetworks {
    pub fn names(&self) -> Vec<String> {
        match self {
            ServiceNetworks::List(names) => names.clone(),
            ServiceNetworks::Map(map) => map.keys().cloned().collect(),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    pub driver: Option<String>,
    #[serde(default)]
    pub attachable: bool,
    pub external: Option<External>,
    pub name: Option<String>,
    pub labels: Option<Mapping>,
}

/// `external: true` or the old `external: { name: NAME }`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum External {
    Flag(bool),
    Named { name: String },
}

/// A top-level `secrets:`/`configs:` entry.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileObject {
    pub file: Option<String>,
    pub external: Option<External>,
    pub name: Option<String>,
    pub labels: Option<Mapping>,
}

/// A service's `secrets:`/`configs:` entry: a name or `{ source, target, uid, gid, mode }`.
#[derive(Clone, Debug, PartialEq)]
pub struct FileReference {
    pub source: String,
    pub target: Option<String>,
    pub uid: Option<String>,
    pub gid: Option<String>,
    pub mode: Option<u32>,
}

impl<'de> Deserialize<'de> for FileReference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Long {
            source: String,
            target: Option<String>,
            uid: Option<String>,
            gid: Option<String>,
            mode: Option<u32>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Short(String),
            Long(Long),
        }
        match Form::deserialize(deserializer)
            .map_err(|_| de::Error::custom("expected a name or a mapping with source, target, uid, gid, mode"))?
        {
            Form::Short(source) => Ok(FileReference { source, target: None, uid: None, gid: None, mode: None }),
            Form::Long(l) => {
                Ok(FileReference { source: l.source, target: l.target, uid: l.uid, gid: l.gid, mode: l.mode })
            }
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    pub test: Option<HealthTest>,
    pub interval: Option<GoDuration>,
    pub timeout: Option<GoDuration>,
    pub retries: Option<u64>,
    pub start_period: Option<GoDuration>,
    #[serde(default)]
    pub disable: bool,
}

/// `test: ["CMD-SHELL", "curl -f localhost"]`, `["CMD", "curl", ...]`, `["NONE"]` or a string
/// (run by the shell).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum HealthTest {
    Shell(String),
    Words(Vec<String>),
}

/// A Go duration (`10s`, `1m30s`), read with docker's parser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GoDuration(pub Duration);

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        crate::cli::parse::parse_go_duration(&text).map(GoDuration).map_err(de::Error::custom)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    pub mode: Option<DeployMode>,
    pub replicas: Option<u64>,
    pub labels: Option<Mapping>,
    #[serde(default)]
    pub placement: Placement,
    pub update_config: Option<UpdateConfig>,
    pub rollback_config: Option<UpdateConfig>,
    pub restart_policy: Option<RestartPolicy>,
    pub resources: Option<Resources>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployMode {
    Replicated,
    Global,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    #[serde(default)]
    pub constraints: Vec<ConstraintText>,
    #[serde(default)]
    pub preferences: Vec<Preference>,
    pub max_replicas_per_node: Option<u64>,
}

/// `node.role == manager`, checked while read.
#[derive(Clone, Debug, PartialEq)]
pub struct ConstraintText(pub crate::api::Constraint);

impl<'de> Deserialize<'de> for ConstraintText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        crate::api::Constraint::parse(&text).map(ConstraintText).map_err(de::Error::custom)
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preference {
    pub spread: String,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateConfig {
    pub parallelism: Option<u64>,
    pub delay: Option<GoDuration>,
    pub failure_action: Option<String>,
    pub monitor: Option<GoDuration>,
    pub max_failure_ratio: Option<Scalar>,
    pub order: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestartPolicy {
    pub condition: Option<String>,
    pub delay: Option<GoDuration>,
    pub max_attempts: Option<u64>,
    pub window: Option<GoDuration>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    pub limits: Option<ResourceAmounts>,
    pub reservations: Option<ResourceAmounts>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceAmounts {
    pub cpus: Option<Scalar>,
    pub memory: Option<String>,
}

/// Reads a compose file's text; errors read `FILE:LINE:COLUMN: message`.
pub fn parse(file: &str, text: &str) -> Result<Compose, String> {
    if let Some((line, column)) = interpolation_at(text) {
        return Err(format!(
            "{file}:{line}:{column}: variable interpolation (${{VAR}}) is not supported here: write the value itself (`$$` for a literal `$`)"
        ));
    }
    // `$$` is a literal `$`; nothing else was found above, so this is the only escape left.
    let text = text.replace("$$", "$");
    let compose: Compose = serde_norway::from_str(&text).map_err(|e| {
        let message = strip_location(&e.to_string());
        match e.location() {
            Some(at) => format!("{file}:{}:{}: {message}", at.line(), at.column()),
            None => format!("{file}: {message}"),
        }
    })?;
    if let Some(version) = &compose.version {
        let version = version.text();
        if !version.starts_with('3') {
            return Err(format!("{file}: unsupported Compose file version: {version}"));
        }
    }
    Ok(compose)
}

/// serde_norway appends ` at line N column M`; the position is printed in front instead.
fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_string(),
        _ => message.to_string(),
    }
}

/// Where the first `${VAR}` or `$VAR` is (1-based line and column), `$$` being a literal `$`.
fn interpolation_at(text: &str) -> Option<(usize, usize)> {
    for (n, line) in text.lines().enumerate() {
        let body = line.split(" #").next().unwrap_or(line);
        if body.trim_start().starts_with('#') {
            continue;
        }
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$' {
                match bytes.get(i + 1) {
                    Some(b'$') => i += 1,
                    Some(b'{') => return Some((n + 1, i + 1)),
                    Some(c) if c.is_ascii_alphabetic() || *c == b'_' => return Some((n + 1, i + 1)),
                    _ => {}
                }
            }
            i += 1;
        }
    }
    None
}
