//! `docker secret|config ls` and `inspect` as docker 20.10 prints them (docker/cli
//! `cli/command/secret/formatter.go` and `config/formatter.go`; checked against a real 20.10
//! swarm). A secret's bytes are never in what a read answers, so never here either.

use super::super::humanize::{human_duration, natural_cmp};
use super::super::tables::{table_with, Layout};
use super::{docker_json, go_time_string, rfc3339, VersionJson};
use crate::api::secret::base64;
use crate::api::{DataKind, DataObject, DataReference};
use crate::time::Instant;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// `secret ls`: `ID NAME DRIVER CREATED UPDATED`, `config ls`: `ID NAME CREATED UPDATED`;
/// full IDs, sorted naturally by name, ages as `Less than a second ago`.
pub fn data_ls(kind: DataKind, objects: &[DataObject], as_of: Instant, quiet: bool) -> String {
    let mut sorted: Vec<&DataObject> = objects.iter().collect();
    sorted.sort_by(|a, b| natural_cmp(&a.spec.name, &b.spec.name).then_with(|| a.id.cmp(&b.id)));
    if quiet {
        return sorted.iter().map(|d| format!("{}\n", d.id)).collect();
    }
    let ago = |at: Instant| format!("{} ago", human_duration(as_of.saturating_since(at)));
    let rows: Vec<Vec<String>> = sorted
        .iter()
        .map(|d| {
            let mut row = vec![d.id.to_string(), d.spec.name.clone()];
            if kind == DataKind::Secret {
                row.push(String::new()); // DRIVER: no secret driver is modelled
            }
            row.push(ago(d.created_at));
            row.push(ago(d.updated_at));
            row
        })
        .collect();
    let header: &[&str] = match kind {
        DataKind::Secret => &["ID", "NAME", "DRIVER", "CREATED", "UPDATED"],
        DataKind::Config => &["ID", "NAME", "CREATED", "UPDATED"],
    };
    table_with(Layout::FORMATTER_20_10, header, &rows)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DataJson {
    #[serde(rename = "ID")]
    id: String,
    version: VersionJson,
    created_at: String,
    updated_at: String,
    spec: DataSpecJson,
}

/// A secret's `Data` is never shown (swarm does not answer it); a config's is, in base64 as
/// Go marshals a `[]byte`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DataSpecJson {
    name: String,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<String>,
}

pub fn data_inspect(objects: &[DataObject]) -> String {
    let json: Vec<DataJson> = objects
        .iter()
        .map(|d| DataJson {
            id: d.id.to_string(),
            version: VersionJson { index: d.version },
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
            spec: DataSpecJson {
                name: d.spec.name.clone(),
                labels: d.spec.labels.clone(),
                data: (d.kind == DataKind::Config).then(|| base64(d.spec.data.as_slice())),
            },
        })
        .collect();
    docker_json(&json)
}

/// `inspect --pretty`: docker/cli's templates, their uneven spacing included; times as Go's
/// `time.Time.String()`, which the pretty formatter lowercases (`+0000 utc`).
pub fn data_inspect_pretty(objects: &[DataObject]) -> String {
    let time = |at: Instant| go_time_string(at).replace(" UTC", " utc");
    let mut out = String::new();
    for d in objects {
        let labels: String = d
            .spec
            .labels
            .iter()
            .map(|(k, v)| if v.is_empty() { format!(" - {k}\n") } else { format!(" - {k}={v}\n") })
            .collect();
        let labels = if labels.is_empty() { labels } else { format!("Labels:\n{labels}") };
        match d.kind {
            DataKind::Secret => {
                let _ = writeln!(out, "ID:              {}", d.id);
                let _ = writeln!(out, "Name:              {}", d.spec.name);
                out.push_str(&labels);
                out.push_str("Driver:            \n");
                let _ = writeln!(out, "Created at:        {}", time(d.created_at));
                let _ = writeln!(out, "Updated at:        {}", time(d.updated_at));
            }
            DataKind::Config => {
                let _ = writeln!(out, "ID:\t\t\t{}", d.id);
                let _ = writeln!(out, "Name:\t\t\t{}", d.spec.name);
                out.push_str(&labels);
                let _ = writeln!(out, "Created at:            \t{}", time(d.created_at));
                let _ = writeln!(out, "Updated at:            \t{}", time(d.updated_at));
                let _ = writeln!(out, "Data:\n{}", String::from_utf8_lossy(d.spec.data.as_slice()));
            }
        }
    }
    out
}

/// A service's `ContainerSpec.Secrets`/`Configs` entry: docker's `SecretReference` and
/// `ConfigReference` with a file target.
#[derive(Serialize)]
pub(super) struct ReferenceJson {
    #[serde(rename = "File")]
    file: FileJson,
    #[serde(rename = "SecretID", skip_serializing_if = "Option::is_none")]
    secret_id: Option<String>,
    #[serde(rename = "SecretName", skip_serializing_if = "Option::is_none")]
    secret_name: Option<String>,
    #[serde(rename = "ConfigID", skip_serializing_if = "Option::is_none")]
    config_id: Option<String>,
    #[serde(rename = "ConfigName", skip_serializing_if = "Option::is_none")]
    config_name: Option<String>,
}

#[derive(Serialize)]
struct FileJson {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "UID")]
    uid: String,
    #[serde(rename = "GID")]
    gid: String,
    #[serde(rename = "Mode")]
    mode: u32,
}

pub(super) fn references_json(kind: DataKind, refs: &[DataReference]) -> Vec<ReferenceJson> {
    refs.iter()
        .map(|r| {
            let (id, name) = (Some(r.id.to_string()), Some(r.name.clone()));
            let file = FileJson { name: r.target.clone(), uid: r.uid.clone(), gid: r.gid.clone(), mode: r.mode };
            match kind {
                DataKind::Secret => {
                    ReferenceJson { file, secret_id: id, secret_name: name, config_id: None, config_name: None }
                }
                DataKind::Config => {
                    ReferenceJson { file, secret_id: None, secret_name: None, config_id: id, config_name: name }
                }
            }
        })
        .collect()
}

/// `service inspect --pretty`'s `Configs:` and `Secrets:` sections (docker/cli's template
/// prints configs first).
pub(super) fn write_references_pretty(out: &mut String, configs: &[DataReference], secrets: &[DataReference]) {
    for (title, refs) in [("Configs", configs), ("Secrets", secrets)] {
        if refs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{title}:");
        for r in refs {
            let _ = writeln!(out, " Target:\t{}\n  Source:\t{}", r.target, r.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{DataBytes, DataSpec};
    use crate::ids::DataId;
    use std::time::Duration;

    fn object(kind: DataKind, name: &str, data: &[u8]) -> DataObject {
        let labels = BTreeMap::from([("env".to_string(), "prod".to_string()), ("team".to_string(), String::new())]);
        DataObject {
            kind,
            id: DataId(format!("{name:0>25}")),
            spec: DataSpec { name: name.into(), labels, data: DataBytes(data.to_vec()) },
            version: 11,
            created_at: Instant::ZERO,
            updated_at: Instant::ZERO,
        }
    }

    #[test]
    fn secret_ls_is_docker_20_10s_table_sorted_by_name() {
        let objects = vec![object(DataKind::Secret, "db_pass", b""), object(DataKind::Secret, "api_key", b"")];
        let text = data_ls(DataKind::Secret, &objects, Instant::ZERO + Duration::from_secs(11), false);
        assert_eq!(
            text,
            "ID                          NAME      DRIVER    CREATED          UPDATED\n\
             000000000000000000api_key   api_key             11 seconds ago   11 seconds ago\n\
             000000000000000000db_pass   db_pass             11 seconds ago   11 seconds ago\n"
        );
        assert_eq!(data_ls(DataKind::Config, &[], Instant::ZERO, false), "ID        NAME      CREATED   UPDATED\n");
    }

    #[test]
    fn a_config_shows_its_data_in_base64_and_a_secret_none() {
        let config = data_inspect(&[object(DataKind::Config, "app_conf", b"listen 80\n")]);
        assert!(config.contains("\"Data\": \"bGlzdGVuIDgwCg==\""), "{config}");
        let secret = data_inspect(&[object(DataKind::Secret, "db_pass", b"s3cret")]);
        assert!(!secret.contains("Data"), "{secret}");
    }

    #[test]
    fn secret_pretty_is_docker_20_10s_template() {
        let text = data_inspect_pretty(&[object(DataKind::Secret, "api_key", b"x")]);
        assert_eq!(
            text,
            "ID:              000000000000000000api_key\nName:              api_key\nLabels:\n - env=prod\n - team\n\
             Driver:            \nCreated at:        2016-08-01 00:00:00 +0000 utc\nUpdated at:        2016-08-01 00:00:00 +0000 utc\n"
        );
    }
}
