//! `[workload]`: the clients `--workload` runs during chaos, checked like the other sections.

use super::super::error::{ScenarioError, SourceFile};
use super::super::raw::RawWorkload;
use super::{integer_in, listing};
use crate::workload::{OpKind, WorkloadConfig};
use toml::Spanned;

pub(super) fn build_workload(file: SourceFile<'_>, raw: Spanned<RawWorkload>) -> Result<WorkloadConfig, ScenarioError> {
    let raw = raw.into_inner();
    let mut config = WorkloadConfig::default();
    if let Some(clients) = &raw.clients {
        config.clients = integer_in(file, clients, 1..=64, "`clients`")? as usize;
    }
    if let Some(think) = raw.think {
        config.think = think.into_inner().0;
    }
    if let Some(ops) = &raw.ops_per_client {
        config.ops_per_client = integer_in(file, ops, 1..=10_000, "`ops_per_client`")? as usize;
    }
    if let Some(mix) = raw.mix {
        let span = mix.span();
        // Kinds the table does not name are not drawn.
        config.mix = OpKind::ALL.iter().map(|k| (*k, 0)).collect();
        for (name, weight) in mix.into_inner() {
            let kind = OpKind::parse(&name).ok_or_else(|| {
                let known: Vec<&str> = OpKind::ALL.iter().map(|k| k.name()).collect();
                file.error(
                    weight.span(),
                    format!("unknown operation `{name}` in `mix`: expected one of {}", listing(known)),
                )
            })?;
            config.mix.insert(kind, integer_in(file, &weight, 0..=1_000, "a `mix` weight")? as u32);
        }
        if config.mix.values().all(|w| *w == 0) {
            return Err(file.error(span, "`mix` must give some operation a weight above zero"));
        }
    }
    Ok(config)
}
