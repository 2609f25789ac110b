//! `docker stack deploy|ls|services|ps|rm`: parsed with the same flag rules as every other verb,
//! but not lowered to one `Request`: a stack command is several, run by [`crate::stack::StackRun`].

use super::*;
use crate::stack::StackCommand;

/// `Some` when `line` is a `docker stack` command: its `-H` host and the command, or docker's
/// error; `None` for any other line.
pub fn parse_stack_line(line: &str) -> Option<Result<(Option<String>, StackCommand), String>> {
    let tokens = match tokenize(line) {
        Ok(t) => t,
        Err(e) => return Some(Err(e)),
    };
    let mut words: &[String] = &tokens;
    if words.first().map(String::as_str) == Some("sudo") {
        words = &words[1..];
    }
    if words.first().map(String::as_str) == Some("docker") {
        words = &words[1..];
    }
    let global = match parse_flags(words, GLOBAL_FLAGS, Interspersed::No) {
        Ok(g) => g,
        Err(e) => return Some(Err(e)),
    };
    let (verb, args) = global.args.split_first()?;
    if verb != "stack" {
        return None;
    }
    let host = global.last("host").map(str::to_string);
    Some(parse_stack(args).map(|command| (host, command)))
}

fn parse_stack(args: &[String]) -> Result<StackCommand, String> {
    let Some((sub, rest)) = args.split_first() else {
        return Err("Usage:  docker stack [OPTIONS] COMMAND".to_string());
    };
    let cmd = format!("docker stack {sub}");
    match sub.as_str() {
        "deploy" | "up" => {
            const FLAGS: &[Flag] = &[
                value("compose-file", Some('c')),
                boolean("prune", None),
                value("resolve-image", None),
                boolean("with-registry-auth", None),
                value("orchestrator", None),
            ];
            let p = parse_flags(rest, FLAGS, Interspersed::Yes)?;
            exactly(&cmd, &p.args, 1)?;
            let Some(compose_file) = p.last("compose-file") else {
                return Err("Please specify only one compose file (with --compose-file).".to_string());
            };
            Ok(StackCommand::Deploy {
                compose_file: compose_file.to_string(),
                name: p.args[0].clone(),
                prune: p.is_set("prune"),
            })
        }
        "ls" | "list" => {
            const FLAGS: &[Flag] = &[value("orchestrator", None)];
            let p = parse_flags(rest, FLAGS, Interspersed::Yes)?;
            no_args(&cmd, &p.args)?;
            Ok(StackCommand::Ls)
        }
        "services" => {
            const FLAGS: &[Flag] = &[boolean("quiet", Some('q')), value("orchestrator", None)];
            let p = parse_flags(rest, FLAGS, Interspersed::Yes)?;
            exactly(&cmd, &p.args, 1)?;
            Ok(StackCommand::Services { name: p.args[0].clone(), quiet: p.is_set("quiet") })
        }
        "ps" => {
            const FLAGS: &[Flag] =
                &[boolean("quiet", Some('q')), boolean("no-trunc", None), value("orchestrator", None)];
            let p = parse_flags(rest, FLAGS, Interspersed::Yes)?;
            exactly(&cmd, &p.args, 1)?;
            Ok(StackCommand::Ps { name: p.args[0].clone(), quiet: p.is_set("quiet"), no_trunc: p.is_set("no-trunc") })
        }
        "rm" | "remove" | "down" => {
            const FLAGS: &[Flag] = &[value("orchestrator", None)];
            let p = parse_flags(rest, FLAGS, Interspersed::Yes)?;
            at_least(&cmd, &p.args, 1)?;
            Ok(StackCommand::Rm { names: p.args })
        }
        _ => Err(format!("docker: 'stack {sub}' is not a docker command.")),
    }
}
