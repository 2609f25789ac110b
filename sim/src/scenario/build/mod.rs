//! Turns the raw TOML shape into a validated `Scenario`, every mistake reported at its span.
//!
//! Sections are checked in file-reading order (header, network, images, nodes, steps) and the
//! first mistake is reported, so fixing errors top to bottom converges.

mod faults;
mod images;
mod nodes;
mod regexes;
mod steps;
mod workload;

use super::error::{ScenarioError, SourceFile};
use super::model::{NetworkDef, Scenario};
use super::raw::{RawNetwork, RawScenario};
use std::ops::Range;
use std::time::Duration;
use swarm_core::cli::DockerVersion;
use toml::Spanned;

/// One hour: long enough for any walkthrough, short enough that a hung run ends.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(3600);

pub(crate) fn build(file: SourceFile<'_>, raw: RawScenario) -> Result<Scenario, ScenarioError> {
    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        return Err(file.error(raw.name.span(), "`name` must not be empty"));
    }
    let seed = match &raw.seed {
        None => 0,
        Some(seed) => u64::try_from(*seed.get_ref())
            .map_err(|_| file.error(seed.span(), format!("`seed` must not be negative, found {}", seed.get_ref())))?,
    };
    let max_duration = match &raw.max_duration {
        None => DEFAULT_MAX_DURATION,
        Some(d) if d.get_ref().0.is_zero() => return Err(file.error(d.span(), "`max_duration` must be more than zero")),
        Some(d) => d.get_ref().0,
    };
    let docker_version = match &raw.docker_version {
        None => DockerVersion::default(),
        Some(v) => DockerVersion::parse(v.get_ref()).ok_or_else(|| {
            let known: Vec<String> = DockerVersion::ALL.iter().map(|v| format!("\"{v}\"")).collect();
            file.error(v.span(), format!("unknown `docker_version` {:?}: expected {}", v.get_ref(), known.join(" or ")))
        })?,
    };
    let network = match raw.network {
        None => NetworkDef::default(),
        Some(network) => build_network(file, network)?,
    };
    let images = images::build_images(file, raw.images)?;
    if raw.nodes.is_empty() {
        return Err(file.error(0..0, "a scenario needs at least one [[node]]: the hosts its commands run on"));
    }
    let nodes = nodes::build_nodes(file, raw.nodes, &images)?;
    let steps = steps::build_steps(file, raw.steps, &nodes, max_duration)?;
    let workload = match raw.workload {
        None => crate::workload::WorkloadConfig::default(),
        Some(w) => workload::build_workload(file, w)?,
    };
    let mut files = std::collections::BTreeMap::new();
    for entry in raw.files {
        let entry = entry.into_inner();
        let name = entry.name.get_ref().clone();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(file.error(entry.name.span(), "a [[file]]'s `name` is a path as a command names it: no blanks"));
        }
        if files.insert(name.clone(), entry.text.into_inner()).is_some() {
            return Err(file.error(entry.name.span(), format!("a second [[file]] named {name:?}")));
        }
    }
    Ok(Scenario {
        workload,
        files,
        path: file.path.to_path_buf(),
        source: file.text.to_string(),
        name,
        description: raw.description.map(Spanned::into_inner),
        seed,
        max_duration,
        docker_version,
        network,
        images,
        nodes,
        steps,
    })
}

fn build_network(file: SourceFile<'_>, network: Spanned<RawNetwork>) -> Result<NetworkDef, ScenarioError> {
    let network = network.into_inner();
    let defaults = NetworkDef::default();
    let loss = match network.loss {
        None => defaults.loss,
        Some(loss) => {
            let p = *loss.get_ref();
            if !(0.0..=1.0).contains(&p) {
                return Err(file.error(loss.span(), format!("`loss` is a probability between 0.0 and 1.0, found {p}")));
            }
            p
        }
    };
    Ok(NetworkDef {
        latency: network.latency.map_or(defaults.latency, |d| d.into_inner().0),
        jitter: network.jitter.map_or(defaults.jitter, |d| d.into_inner().0),
        loss,
    })
}

/// "the nodes are bd0, bd1, bd2": the valid choices, for unknown-name errors.
fn listing(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    names.into_iter().map(|n| format!("`{}`", n.as_ref())).collect::<Vec<_>>().join(", ")
}

/// An integer field that must lie in `range`; `what` names it in the error.
fn integer_in(
    file: SourceFile<'_>,
    value: &Spanned<i64>,
    range: std::ops::RangeInclusive<i64>,
    what: &str,
) -> Result<i64, ScenarioError> {
    let n = *value.get_ref();
    if range.contains(&n) {
        return Ok(n);
    }
    let why = if n < 0 && *range.start() >= 0 { "must not be negative" } else { "is out of range" };
    Err(file.error(value.span(), format!("{what} {why}: found {n}, expected {} to {}", range.start(), range.end())))
}

/// Line (1-based) where a span starts.
fn line_of(file: SourceFile<'_>, span: Range<usize>) -> usize {
    file.line_column(span.start).0
}
