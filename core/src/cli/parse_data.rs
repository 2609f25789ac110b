//! `docker secret …` and `docker config …`: create, ls, inspect, rm (docker/cli
//! `cli/command/secret` and `cli/command/config`), and the `--secret`/`--config` values of
//! `service create/update`.

use super::*;
use std::collections::BTreeMap;

pub(super) fn parse_data_command(kind: DataKind, sub: &str, cmd: &str, rest: &[String]) -> Result<Command, String> {
    match sub {
        "create" => parse_create(kind, cmd, rest),
        "ls" | "list" => parse_filtered_listing(cmd, rest, |quiet, filter| Command::DataLs { kind, quiet, filter }),
        "inspect" => {
            const FLAGS: &[Flag] = &[boolean("pretty", None)];
            let p = parse_flags(rest, FLAGS, Interspersed::Yes)?;
            at_least(cmd, &p.args, 1)?;
            Ok(Command::DataInspect { kind, pretty: p.is_set("pretty"), names: p.args })
        }
        "rm" | "remove" => parse_names(cmd, rest, |names| Command::DataRm { kind, names }),
        _ => Err(format!("docker: '{} {sub}' is not a docker command.", kind.as_str())),
    }
}

/// `secret create [-l KEY=VALUE]... NAME FILE|-`: the FILE's bytes (or stdin's, for `-`) are
/// read by the driver, which hands them to the invocation (`Invocation::supply_data`).
fn parse_create(kind: DataKind, cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[value("label", Some('l'))];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    exactly(cmd, &p.args, 2)?;
    Ok(Command::DataCreate {
        kind,
        name: p.args[0].clone(),
        labels: labels(&p.strings("label")),
        file: p.args[1].clone(),
    })
}

/// docker's `ConvertKVStringsToMap`: `key=value`, or `key` alone with an empty value.
pub(super) fn labels(given: &[String]) -> BTreeMap<String, String> {
    given
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (l.clone(), String::new()),
        })
        .collect()
}

/// `--secret`/`--config` (and their `-add` forms): each value parsed as docker/cli's
/// `SecretOpt`/`ConfigOpt`, a refusal worded as pflag words an invalid flag value.
pub(super) fn references(p: &Parsed, long: &str) -> Result<Vec<DataReferenceArg>, String> {
    p.values(long)
        .into_iter()
        .map(|(flag, v)| DataReferenceArg::parse(v).map_err(|reason| invalid_argument(flag, v, &reason)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::parse_invocation;
    use super::*;

    fn parse(line: &str) -> Command {
        parse_invocation(line).unwrap_or_else(|e| panic!("{line}: {e}")).command
    }

    #[test]
    fn secret_create_takes_a_name_a_file_and_labels() {
        let labels = BTreeMap::from([("env".to_string(), "prod".to_string()), ("team".to_string(), String::new())]);
        assert_eq!(
            parse("docker secret create --label env=prod -l team db_pass -"),
            Command::DataCreate { kind: DataKind::Secret, name: "db_pass".into(), labels, file: "-".into() }
        );
        assert_eq!(
            parse_invocation("docker config create app_conf").unwrap_err(),
            "\"docker config create\" requires exactly 2 arguments."
        );
    }

    #[test]
    fn ls_inspect_and_rm_of_both_kinds() {
        assert_eq!(
            parse("docker config ls -q"),
            Command::DataLs { kind: DataKind::Config, quiet: true, filter: Filters::default() }
        );
        assert_eq!(
            parse("docker secret inspect --pretty a b"),
            Command::DataInspect { kind: DataKind::Secret, names: vec!["a".into(), "b".into()], pretty: true }
        );
        assert_eq!(parse("docker secret rm a"), Command::DataRm { kind: DataKind::Secret, names: vec!["a".into()] });
    }

    #[test]
    fn service_flags_carry_secret_and_config_references() {
        let Command::ServiceCreate(args) =
            parse("docker service create --secret db_pass --config src=app,target=/etc/app.conf,mode=0440 nginx")
        else {
            panic!("not a service create")
        };
        let refs = &args.references;
        assert_eq!(refs.secret_add[0].target, "db_pass");
        assert_eq!((refs.config_add[0].target.as_str(), refs.config_add[0].mode), ("/etc/app.conf", 0o440));
        let Command::ServiceUpdate(u) =
            parse("docker service update --secret-rm db_pass --secret-add src=k,target=key web")
        else {
            panic!("not a service update")
        };
        let refs = &u.references;
        assert_eq!(
            (refs.secret_rm.as_slice(), refs.secret_add[0].target.as_str()),
            (&["db_pass".to_string()][..], "key")
        );
    }
}
