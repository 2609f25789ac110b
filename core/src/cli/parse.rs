//! Command lines as a user types them (`sudo docker service create --replicas 2 ...`), parsed
//! into a [`CommandLine`] with docker's flag rules (pflag) and docker's one-line errors.

use super::command::*;
use crate::api::*;
use crate::control::{
    DataReferenceFlags, HealthFlags, NodeUpdateArgs, PlacementFlags, ServiceCreateArgs, ServiceUpdateArgs,
};
use std::iter::Peekable;
use std::str::Chars;
use std::time::Duration;

#[path = "parse_data.rs"]
mod data;

/// Parses one command line, possibly spread over several lines with `\` continuations.
pub fn parse_invocation(line: &str) -> Result<CommandLine, String> {
    let tokens = tokenize(line)?;
    let mut words: &[String] = &tokens;
    if words.first().map(String::as_str) == Some("sudo") {
        words = &words[1..];
    }
    let Some(first) = words.first() else {
        return Err("empty command line".to_string());
    };
    if first == "curl" {
        return Ok(CommandLine { host: None, command: parse_curl(&words[1..])? });
    }
    if first == "docker" {
        words = &words[1..];
    }
    let global = parse_flags(words, GLOBAL_FLAGS, Interspersed::No)?;
    let host = global.last("host").map(str::to_string);
    let command = parse_command(&global.args)?;
    Ok(CommandLine { host, command })
}

// ---------------------------------------------------------------------------------------------
// Tokenizing: a small POSIX-shell subset.

/// A line split into words as [`parse_invocation`] splits it (a compose file's `command: LINE`).
pub(crate) fn split_words(line: &str) -> Result<Vec<String>, String> {
    tokenize(line)
}

/// Splits a line into words: single quotes keep everything, double quotes honour `\"`, `\\`,
/// `\$`, `` \` ``; a backslash outside quotes escapes the next character, and a
/// backslash-newline joins lines (the tutorial's multi-line `docker swarm join \`).
fn tokenize(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word can be empty (`''`), so track whether one was started rather than its length.
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                read_single_quoted(&mut chars, &mut word)?;
            }
            '"' => {
                in_word = true;
                read_double_quoted(&mut chars, &mut word)?;
            }
            '\\' => {
                if let Some(escaped) = read_escape(&mut chars) {
                    in_word = true;
                    word.push(escaped);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// After a backslash outside quotes: the escaped character, or `None` for a line continuation
/// (or a backslash ending the input, which a shell would wait on).
fn read_escape(chars: &mut Peekable<Chars>) -> Option<char> {
    match chars.next()? {
        '\n' => None,
        '\r' if chars.peek() == Some(&'\n') => {
            chars.next();
            None
        }
        other => Some(other),
    }
}

fn read_single_quoted(chars: &mut Peekable<Chars>, word: &mut String) -> Result<(), String> {
    for c in chars.by_ref() {
        if c == '\'' {
            return Ok(());
        }
        word.push(c);
    }
    Err("unexpected EOF while looking for matching `''".to_string())
}

fn read_double_quoted(chars: &mut Peekable<Chars>, word: &mut String) -> Result<(), String> {
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(()),
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                Some(other) => {
                    word.push('\\');
                    word.push(other);
                }
                None => break,
            },
            c => word.push(c),
        }
    }
    Err("unexpected EOF while looking for matching `\"'".to_string())
}

// ---------------------------------------------------------------------------------------------
// Flags, the pflag way: `--flag value`, `--flag=value`, `-f value`, `-fvalue`, `-aq`.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Value,
}

#[derive(Clone, Copy)]
struct Flag {
    long: &'static str,
    short: Option<char>,
    kind: Kind,
}

impl Flag {
    /// How docker names the flag in errors: `-p, --publish` or `--name`.
    fn display(&self) -> String {
        match self.short {
            Some(s) => format!("-{s}, --{}", self.long),
            None => format!("--{}", self.long),
        }
    }
}

const fn boolean(long: &'static str, short: Option<char>) -> Flag {
    Flag { long, short, kind: Kind::Bool }
}

const fn value(long: &'static str, short: Option<char>) -> Flag {
    Flag { long, short, kind: Kind::Value }
}

/// Whether flags may follow positional arguments. `service create` and `exec` stop at the first
/// positional, so options after the image belong to the container's command (as in docker).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Interspersed {
    Yes,
    No,
}

/// Flags in the order given (with their spec, for error messages) and the positional arguments.
struct Parsed {
    flags: Vec<(Flag, String)>,
    args: Vec<String>,
}

impl Parsed {
    fn values(&self, long: &str) -> Vec<(&Flag, &str)> {
        self.flags.iter().filter(|(f, _)| f.long == long).map(|(f, v)| (f, v.as_str())).collect()
    }
    fn last(&self, long: &str) -> Option<&str> {
        self.values(long).pop().map(|(_, v)| v)
    }
    fn last_with_flag(&self, long: &str) -> Option<(&Flag, &str)> {
        self.values(long).pop()
    }
    /// A boolean flag: values were checked while parsing, so only `true` counts.
    fn is_set(&self, long: &str) -> bool {
        self.last(long) == Some("true")
    }
    fn strings(&self, long: &str) -> Vec<String> {
        self.values(long).into_iter().map(|(_, v)| v.to_string()).collect()
    }
    /// The long names of the flags given, as pflag's `Changed`.
    fn changed(&self) -> impl Iterator<Item = &str> {
        self.flags.iter().map(|(f, _)| f.long)
    }
}

fn parse_flags(tokens: &[String], specs: &[Flag], interspersed: Interspersed) -> Result<Parsed, String> {
    let mut parsed = Parsed { flags: Vec::new(), args: Vec::new() };
    let mut rest = tokens.iter();
    while let Some(token) = rest.next() {
        let flags_ended = interspersed == Interspersed::No && !parsed.args.is_empty();
        if flags_ended {
            parsed.args.push(token.clone());
            parsed.args.extend(rest.by_ref().cloned());
            break;
        }
        if token == "--" {
            parsed.args.extend(rest.by_ref().cloned());
            break;
        }
        if let Some(long) = token.strip_prefix("--") {
            parse_long_flag(long, specs, &mut rest, &mut parsed)?;
        } else if token.len() > 1 && token.starts_with('-') {
            parse_short_flags(token, specs, &mut rest, &mut parsed)?;
        } else {
            parsed.args.push(token.clone());
        }
    }
    Ok(parsed)
}

fn parse_long_flag<'a>(
    body: &str,
    specs: &[Flag],
    rest: &mut impl Iterator<Item = &'a String>,
    parsed: &mut Parsed,
) -> Result<(), String> {
    let (name, inline) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    let Some(flag) = specs.iter().find(|f| f.long == name) else {
        return Err(format!("unknown flag: --{name}"));
    };
    let value = match (flag.kind, inline) {
        (Kind::Bool, Some(v)) => parse_bool(flag, v)?,
        (Kind::Bool, None) => "true".to_string(),
        (Kind::Value, Some(v)) => v.to_string(),
        (Kind::Value, None) => rest.next().cloned().ok_or_else(|| format!("flag needs an argument: --{name}"))?,
    };
    parsed.flags.push((*flag, value));
    Ok(())
}

/// `-a`, `-aq`, `-p 8000:80`, `-p8000:80`, `-p=8000:80`, `-f=true`.
fn parse_short_flags<'a>(
    token: &str,
    specs: &[Flag],
    rest: &mut impl Iterator<Item = &'a String>,
    parsed: &mut Parsed,
) -> Result<(), String> {
    let shorts = &token[1..];
    for (i, c) in shorts.char_indices() {
        let Some(flag) = specs.iter().find(|f| f.short == Some(c)) else {
            return Err(format!("unknown shorthand flag: '{c}' in {token}"));
        };
        let after = &shorts[i + c.len_utf8()..];
        match flag.kind {
            Kind::Bool => {
                if let Some(v) = after.strip_prefix('=') {
                    parsed.flags.push((*flag, parse_bool(flag, v)?));
                    return Ok(());
                }
                parsed.flags.push((*flag, "true".to_string()));
            }
            Kind::Value => {
                let inline = after.strip_prefix('=').unwrap_or(after);
                let value = if !inline.is_empty() {
                    inline.to_string()
                } else {
                    rest.next().cloned().ok_or_else(|| format!("flag needs an argument: '{c}' in {token}"))?
                };
                parsed.flags.push((*flag, value));
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Go's `strconv.ParseBool`, normalised to `true`/`false`.
fn parse_bool(flag: &Flag, v: &str) -> Result<String, String> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok("true".to_string()),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok("false".to_string()),
        _ => Err(invalid_argument(flag, v, &format!("strconv.ParseBool: parsing \"{v}\": invalid syntax"))),
    }
}

fn invalid_argument(flag: &Flag, v: &str, reason: &str) -> String {
    format!("invalid argument \"{v}\" for \"{}\" flag: {reason}", flag.display())
}

// ---------------------------------------------------------------------------------------------
// Argument counts, with docker's wording.

fn no_args(cmd: &str, args: &[String]) -> Result<(), String> {
    if args.is_empty() {
        Ok(())
    } else {
        Err(format!("\"{cmd}\" accepts no arguments."))
    }
}

fn exactly(cmd: &str, args: &[String], n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!("\"{cmd}\" requires exactly {n} {}.", plural_arguments(n)))
    }
}

fn at_least(cmd: &str, args: &[String], n: usize) -> Result<(), String> {
    if args.len() >= n {
        Ok(())
    } else {
        Err(format!("\"{cmd}\" requires at least {n} {}.", plural_arguments(n)))
    }
}

fn plural_arguments(n: usize) -> &'static str {
    if n == 1 {
        "argument"
    } else {
        "arguments"
    }
}

// ---------------------------------------------------------------------------------------------
// Verbs.

const GLOBAL_FLAGS: &[Flag] = &[value("host", Some('H'))];

fn parse_command(words: &[String]) -> Result<Command, String> {
    let Some((verb, args)) = words.split_first() else {
        return Err("Usage:  docker [OPTIONS] COMMAND".to_string());
    };
    match verb.as_str() {
        "swarm" | "node" | "network" | "service" | "secret" | "config" => parse_management(verb, args),
        "ps" => parse_ps(args),
        "kill" => parse_kill(args),
        "exec" => parse_exec(args),
        other => Err(format!("docker: '{other}' is not a docker command.")),
    }
}

/// `docker swarm|node|network|service SUBCOMMAND ...`.
fn parse_management(group: &str, args: &[String]) -> Result<Command, String> {
    let Some((sub, rest)) = args.split_first() else {
        return Err(format!("Usage:  docker {group} COMMAND"));
    };
    let cmd = format!("docker {group} {sub}");
    match (group, sub.as_str()) {
        ("swarm", "init") => parse_swarm_init(&cmd, rest),
        ("swarm", "join") => parse_swarm_join(&cmd, rest),
        ("swarm", "join-token") => parse_swarm_join_token(&cmd, rest),
        ("swarm", "leave") => parse_swarm_leave(&cmd, rest),
        ("swarm", "update") => parse_swarm_update(&cmd, rest),
        ("node", "ps") => parse_node_ps(rest),
        ("node", "ls" | "list") => {
            parse_formatted_listing(&cmd, rest, &super::listing::NODES, |quiet, format, filter| Command::NodeLs {
                quiet,
                format,
                filter,
            })
        }
        ("node", "inspect") => parse_node_inspect(&cmd, rest),
        ("node", "update") => parse_node_update(&cmd, rest),
        ("node", "promote") => parse_names(&cmd, rest, |nodes| Command::NodePromote { nodes }),
        ("node", "demote") => parse_names(&cmd, rest, |nodes| Command::NodeDemote { nodes }),
        ("node", "rm" | "remove") => parse_node_rm(&cmd, rest),
        ("network", "create") => parse_network_create(&cmd, rest),
        ("network", "ls" | "list") => parse_quiet_listing(&cmd, rest, |quiet| Command::NetworkLs { quiet }),
        ("network", "inspect") => parse_names(&cmd, rest, |networks| Command::NetworkInspect { networks }),
        ("network", "rm" | "remove") => parse_names(&cmd, rest, |networks| Command::NetworkRm { networks }),
        ("service", "create") => parse_service_create(&cmd, rest),
        ("service", "ls" | "list") => {
            parse_formatted_listing(&cmd, rest, &super::listing::SERVICES, |quiet, format, filter| Command::ServiceLs {
                quiet,
                format,
                filter,
            })
        }
        ("service", "ps") => parse_service_ps(&cmd, rest),
        ("service", "inspect") => parse_service_inspect(&cmd, rest),
        ("service", "scale") => parse_service_scale(&cmd, rest),
        ("service", "update") => parse_service_update(&cmd, rest),
        ("service", "rollback") => parse_service_rollback(&cmd, rest),
        ("service", "rm" | "remove") => parse_names(&cmd, rest, |services| Command::ServiceRm { services }),
        ("secret", sub) => data::parse_data_command(DataKind::Secret, sub, &cmd, rest),
        ("config", sub) => data::parse_data_command(DataKind::Config, sub, &cmd, rest),
        _ => Err(format!("docker: '{group} {sub}' is not a docker command.")),
    }
}

fn parse_swarm_init(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[
        value("advertise-addr", None),
        value("listen-addr", None),
        boolean("force-new-cluster", None),
        value("default-addr-pool", None),
        value("default-addr-pool-mask-length", None),
    ];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    no_args(cmd, &p.args)?;
    let (advertise_addr, listen_addr) =
        (p.last("advertise-addr").map(str::to_string), p.last("listen-addr").map(str::to_string));
    let force_new_cluster = p.is_set("force-new-cluster");
    Ok(match parse_addr_pool(&p)? {
        None => Command::SwarmInit { advertise_addr, listen_addr, force_new_cluster },
        Some(default_addr_pool) => {
            Command::SwarmInitWithPool { advertise_addr, listen_addr, force_new_cluster, default_addr_pool }
        }
    })
}

/// `--default-addr-pool` (an ipNetSlice: repeatable, comma-separated) and its mask length; the
/// length alone is ignored, as dockerd does. Range checks are the daemon's (`AddrPool::validate`).
fn parse_addr_pool(p: &Parsed) -> Result<Option<AddrPool>, String> {
    let mut pools = Vec::new();
    for (flag, v) in p.values("default-addr-pool") {
        for cidr in v.split(',').map(str::trim) {
            let subnet = Subnet::parse(cidr)
                .ok_or_else(|| invalid_argument(flag, v, &format!("invalid CIDR address: {cidr}")))?;
            pools.push(subnet);
        }
    }
    let subnet_size = match p.last_with_flag("default-addr-pool-mask-length") {
        None => DEFAULT_SUBNET_SIZE,
        Some((flag, v)) => v
            .parse::<u32>()
            .map_err(|_| invalid_argument(flag, v, &format!("strconv.ParseUint: parsing \"{v}\": invalid syntax")))?,
    };
    Ok((!pools.is_empty()).then_some(AddrPool { pools, subnet_size }))
}

fn parse_swarm_join(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[value("token", None), value("advertise-addr", None)];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    exactly(cmd, &p.args, 1)?;
    let token = p.last("token").ok_or_else(|| "required flag(s) \"token\" not set".to_string())?;
    Ok(Command::SwarmJoin {
        token: token.to_string(),
        remote_addr: p.args[0].clone(),
        advertise_addr: p.last("advertise-addr").map(str::to_string),
    })
}

fn parse_swarm_join_token(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("quiet", Some('q')), boolean("rotate", None)];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    exactly(cmd, &p.args, 1)?;
    let role = match p.args[0].as_str() {
        "worker" => NodeRole::Worker,
        "manager" => NodeRole::Manager,
        other => return Err(format!("unknown role {other}")),
    };
    Ok(Command::SwarmJoinToken { role, quiet: p.is_set("quiet"), rotate: p.is_set("rotate") })
}

/// `docker swarm update`: only the flags given change the cluster (docker/cli `swarm/update.go`
/// sends the current spec with those changed).
fn parse_swarm_update(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[
        value("task-history-limit", None),
        value("dispatcher-heartbeat", None),
        value("cert-expiry", None),
        boolean("autolock", None),
    ];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    no_args(cmd, &p.args)?;
    let duration = |name: &str| {
        p.last_with_flag(name)
            .map(|(flag, v)| parse_go_duration(v).map_err(|reason| invalid_argument(flag, v, &reason)))
            .transpose()
    };
    let task_history_limit = p
        .last_with_flag("task-history-limit")
        .map(|(flag, v)| {
            v.parse::<u64>()
                .map_err(|_| invalid_argument(flag, v, &format!("strconv.ParseInt: parsing \"{v}\": invalid syntax")))
        })
        .transpose()?;
    Ok(Command::SwarmUpdate(crate::control::SwarmUpdateArgs {
        task_history_limit,
        dispatcher_heartbeat: duration("dispatcher-heartbeat")?,
        node_cert_expiry: duration("cert-expiry")?,
        autolock: p.last("autolock").map(|v| v == "true"),
    }))
}

fn parse_swarm_leave(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("force", Some('f'))];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    no_args(cmd, &p.args)?;
    Ok(Command::SwarmLeave { force: p.is_set("force") })
}

/// `ls [-q]` of nodes, networks and services.
fn parse_quiet_listing(cmd: &str, tokens: &[String], make: impl FnOnce(bool) -> Command) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("quiet", Some('q'))];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    no_args(cmd, &p.args)?;
    Ok(make(p.is_set("quiet")))
}

/// `secret ls`, `config ls`: `-q` and `-f/--filter KEY=VALUE`.
fn parse_filtered_listing(
    cmd: &str,
    tokens: &[String],
    make: impl FnOnce(bool, Filters) -> Command,
) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("quiet", Some('q')), FILTER];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    no_args(cmd, &p.args)?;
    Ok(make(p.is_set("quiet"), filters(&p)?))
}

/// `node ls`, `service ls`: `-q`, `--format TEMPLATE` (the template checked against the
/// listing's fields) and `-f/--filter KEY=VALUE`.
fn parse_formatted_listing(
    cmd: &str,
    tokens: &[String],
    kind: &super::format::Kind,
    make: impl FnOnce(bool, Option<String>, Filters) -> Command,
) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("quiet", Some('q')), value("format", None), FILTER];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    no_args(cmd, &p.args)?;
    let filter = filters(&p)?;
    let format = checked_format(&p, kind)?;
    Ok(make(p.is_set("quiet"), format, filter))
}

/// `-f, --filter KEY=VALUE`, as many as given (docker/cli `opts.FilterOpt`).
const FILTER: Flag = value("filter", Some('f'));

/// The `--filter` values: a value without `=` is refused as pflag refuses it.
fn filters(p: &Parsed) -> Result<Filters, String> {
    let mut out = Filters::default();
    for (flag, v) in p.values("filter") {
        out.add_flag(v).map_err(|reason| invalid_argument(flag, v, reason))?;
    }
    Ok(out)
}

fn checked_format(p: &Parsed, kind: &super::format::Kind) -> Result<Option<String>, String> {
    let Some(format) = p.last("format").filter(|f| !f.is_empty()) else { return Ok(None) };
    super::listing::check(format, kind)?;
    Ok(Some(format.to_string()))
}

/// Verbs that take one or more names and no flags.
fn parse_names(cmd: &str, tokens: &[String], make: impl FnOnce(Vec<String>) -> Command) -> Result<Command, String> {
    let p = parse_flags(tokens, &[], Interspersed::Yes)?;
    at_least(cmd, &p.args, 1)?;
    Ok(make(p.args))
}

fn parse_node_inspect(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("pretty", None)];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    at_least(cmd, &p.args, 1)?;
    Ok(Command::NodeInspect { pretty: p.is_set("pretty"), nodes: p.args })
}

fn parse_node_update(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] =
        &[value("availability", None), value("role", None), value("label-add", None), value("label-rm", None)];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    exactly(cmd, &p.args, 1)?;
    let availability = match p.last("availability") {
        None => None,
        Some(v) => Some(
            Availability::parse(&v.to_lowercase())
                .ok_or_else(|| format!("invalid availability {v:?}, only active, pause and drain are supported"))?,
        ),
    };
    let role = p.last("role").map(parse_role).transpose()?;
    let label_add = p
        .strings("label-add")
        .into_iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (kv, String::new()),
        })
        .collect();
    Ok(Command::NodeUpdate(NodeUpdateArgs {
        node: p.args[0].clone(),
        availability,
        role,
        label_add,
        label_rm: p.strings("label-rm"),
    }))
}

fn parse_role(v: &str) -> Result<NodeRole, String> {
    match v.to_lowercase().as_str() {
        "worker" => Ok(NodeRole::Worker),
        "manager" => Ok(NodeRole::Manager),
        _ => Err(format!("invalid role {v:?}, only worker and manager are supported")),
    }
}

fn parse_node_rm(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("force", Some('f'))];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    at_least(cmd, &p.args, 1)?;
    Ok(Command::NodeRm { force: p.is_set("force"), nodes: p.args })
}

fn parse_network_create(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[value("driver", Some('d')), value("subnet", None)];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    exactly(cmd, &p.args, 1)?;
    // Docker's default driver is bridge; the manager refuses it in swarm scope, as dockerd does.
    let driver = match p.last("driver") {
        None => NetworkDriver::Bridge,
        Some(d) => NetworkDriver::parse(d).ok_or_else(|| format!("plugin {d:?} not found"))?,
    };
    let subnet = match p.last("subnet") {
        None => None,
        Some(s) => Some(Subnet::parse(s).ok_or_else(|| format!("invalid CIDR address: {s}"))?),
    };
    Ok(Command::NetworkCreate { name: p.args[0].clone(), driver, subnet })
}

/// `-d, --detach` (docker 17.05+): the client returns at once instead of following the
/// service until it converges. Accepted and changes nothing here: this CLI never follows a
/// service (docker 1.12's did not either; 20.10's does without the flag, a known difference).
const DETACH: Flag = boolean("detach", Some('d'));

const SERVICE_CREATE_FLAGS: &[Flag] = &[
    DETACH,
    value("secret", None),
    value("config", None),
    value("name", None),
    // `-l, --label KEY[=VALUE]`: the service's labels (what `service ls --filter label=` reads).
    value("label", Some('l')),
    value("replicas", None),
    value("mode", None),
    value("max-concurrent", None),
    value("publish", Some('p')),
    value("network", None),
    value("constraint", None),
    value("env", Some('e')),
    value("reserve-cpu", None),
    value("reserve-memory", None),
    value("restart-condition", None),
    value("restart-delay", None),
    value("restart-max-attempts", None),
    value("restart-window", None),
    HEALTH_FLAGS[0],
    HEALTH_FLAGS[1],
    HEALTH_FLAGS[2],
    HEALTH_FLAGS[3],
    HEALTH_FLAGS[4],
    HEALTH_FLAGS[5],
    value("placement-pref", None),
    value("replicas-max-per-node", None),
    value("update-parallelism", None),
    value("update-delay", None),
    value("update-failure-action", None),
    value("update-monitor", None),
    value("update-max-failure-ratio", None),
    value("update-order", None),
    value("rollback-parallelism", None),
    value("rollback-delay", None),
    value("rollback-failure-action", None),
    value("rollback-monitor", None),
    value("rollback-max-failure-ratio", None),
    value("rollback-order", None),
];

fn parse_service_create(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    let p = parse_flags(tokens, SERVICE_CREATE_FLAGS, Interspersed::No)?;
    at_least(cmd, &p.args, 1)?;
    let (global, job) = match p.last("mode") {
        None | Some("replicated") => (false, false),
        Some("global") => (true, false),
        Some("replicated-job") => (false, true),
        Some("global-job") => (true, true),
        Some(other) => return Err(format!("invalid mode {other:?}, only replicated and global are supported")),
    };
    let replicas = optional_u64(&p, "replicas")?;
    let max_concurrent = optional_u64(&p, "max-concurrent")?;
    let placement = placement_flags(&p, "placement-pref", None)?;
    if job {
        // docker 20.10's CLI (service/opts.go ToServiceMode, then ToService).
        check_job_flags(global, replicas, max_concurrent, &placement)?;
    } else {
        if global && replicas.is_some() {
            return Err("replicas can only be used with replicated mode".to_string());
        }
        if global && placement.max_replicas.is_some_and(|n| n > 0) {
            return Err("replicas-max-per-node can only be used with replicated mode".to_string());
        }
        if max_concurrent.is_some() {
            return Err("max-concurrent can only be used with replicated-job mode".to_string());
        }
    }
    Ok(Command::ServiceCreate(ServiceCreateArgs {
        labels: data::labels(&p.strings("label")),
        name: p.last("name").map(str::to_string),
        image: p.args[0].clone(),
        command: p.args[1..].to_vec(),
        replicas,
        global,
        publish: port_configs(&p, "publish")?,
        networks: p.strings("network"),
        constraints: constraints(&p, "constraint")?,
        env: p.strings("env"),
        reservations: Resources {
            nano_cpus: optional_cpus(&p)?.unwrap_or(0),
            memory_bytes: optional_memory(&p)?.unwrap_or(0),
        },
        restart_condition: optional_restart_condition(&p)?,
        restart_delay: optional_duration(&p, "restart-delay")?,
        restart_max_attempts: optional_u64(&p, "restart-max-attempts")?,
        restart_window: optional_duration(&p, "restart-window")?,
        health: Box::new(health_flags(&p)?),
        placement: Box::new(placement),
        update: Box::new(update_config_flags(&p, "update")?),
        rollback: Box::new(update_config_flags(&p, "rollback")?),
        job,
        max_concurrent,
        references: Box::new(DataReferenceFlags {
            secret_add: data::references(&p, "secret")?,
            config_add: data::references(&p, "config")?,
            ..Default::default()
        }),
    }))
}

/// `--mode replicated-job|global-job`'s flag rules, with docker 20.10's words.
fn check_job_flags(
    global: bool,
    replicas: Option<u64>,
    max_concurrent: Option<u64>,
    placement: &PlacementFlags,
) -> Result<(), String> {
    if global {
        if placement.max_replicas.is_some_and(|n| n > 0) {
            return Err("replicas-max-per-node can only be used with replicated or replicated-job mode".to_string());
        }
        if max_concurrent.is_some() {
            return Err("max-concurrent can only be used with replicated-job mode".to_string());
        }
        if replicas.is_some() {
            return Err("replicas can only be used with replicated or replicated-job mode".to_string());
        }
    }
    Ok(())
}

/// `node ps [NODE...]`: the local node's tasks without a name.
fn parse_node_ps(tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("quiet", Some('q')), boolean("no-trunc", None), value("format", None), FILTER];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    let filter = filters(&p)?;
    let format = checked_format(&p, &super::listing::TASKS)?;
    let (quiet, no_trunc) = (p.is_set("quiet"), p.is_set("no-trunc"));
    let nodes = if p.args.is_empty() { vec!["self".to_string()] } else { p.args };
    Ok(Command::NodePs { nodes, quiet, no_trunc, format, filter })
}

fn parse_service_ps(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("quiet", Some('q')), boolean("no-trunc", None), value("format", None), FILTER];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    let filter = filters(&p)?;
    at_least(cmd, &p.args, 1)?;
    let format = checked_format(&p, &super::listing::TASKS)?;
    let (quiet, no_trunc) = (p.is_set("quiet"), p.is_set("no-trunc"));
    Ok(Command::ServicePs { quiet, no_trunc, services: p.args, format, filter })
}

fn parse_service_inspect(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("pretty", None)];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    at_least(cmd, &p.args, 1)?;
    Ok(Command::ServiceInspect { pretty: p.is_set("pretty"), services: p.args })
}

/// `service scale mynginx=3 web=2`.
fn parse_service_scale(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    let p = parse_flags(tokens, &[DETACH], Interspersed::Yes)?;
    at_least(cmd, &p.args, 1)?;
    let scales = p.args.iter().map(|arg| parse_scale(arg)).collect::<Result<Vec<_>, _>>()?;
    Ok(Command::ServiceScale { scales })
}

fn parse_scale(arg: &str) -> Result<(String, u64), String> {
    match arg.split_once('=') {
        Some((name, n)) if !name.is_empty() && !n.is_empty() => {
            let replicas = n.parse::<u64>().map_err(|_| format!("invalid replicas value {arg}: invalid syntax"))?;
            Ok((name.to_string(), replicas))
        }
        _ => Err(format!("Invalid scale specifier '{arg}'.")),
    }
}

fn parse_service_update(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[
        DETACH,
        value("replicas", None),
        value("image", None),
        boolean("force", None),
        value("constraint-add", None),
        value("constraint-rm", None),
        value("env-add", None),
        value("env-rm", None),
        value("publish-add", None),
        value("publish-rm", None),
        value("network-add", None),
        value("network-rm", None),
        value("reserve-cpu", None),
        value("reserve-memory", None),
        value("restart-condition", None),
        value("restart-delay", None),
        value("restart-max-attempts", None),
        HEALTH_FLAGS[0],
        HEALTH_FLAGS[1],
        HEALTH_FLAGS[2],
        HEALTH_FLAGS[3],
        HEALTH_FLAGS[4],
        HEALTH_FLAGS[5],
        value("placement-pref-add", None),
        value("placement-pref-rm", None),
        value("replicas-max-per-node", None),
        value("restart-window", None),
        boolean("rollback", None),
        value("update-parallelism", None),
        value("update-delay", None),
        value("update-failure-action", None),
        value("update-monitor", None),
        value("update-max-failure-ratio", None),
        value("update-order", None),
        value("rollback-parallelism", None),
        value("rollback-delay", None),
        value("rollback-failure-action", None),
        value("rollback-monitor", None),
        value("rollback-max-failure-ratio", None),
        value("rollback-order", None),
        value("secret-add", None),
        value("secret-rm", None),
        value("config-add", None),
        value("config-rm", None),
    ];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    exactly(cmd, &p.args, 1)?;
    let rollback_to_previous = p.is_set("rollback");
    if rollback_to_previous && p.changed().any(|name| !matches!(name, "rollback" | "detach")) {
        return Err("other flags may not be combined with --rollback".to_string());
    }
    let (cpus, memory) = (optional_cpus(&p)?, optional_memory(&p)?);
    // `ServiceUpdateArgs` holds one reservation; a flag not given counts as 0 there.
    let reservations = (cpus.is_some() || memory.is_some())
        .then(|| Resources { nano_cpus: cpus.unwrap_or(0), memory_bytes: memory.unwrap_or(0) });
    let publish_rm = p
        .values("publish-rm")
        .into_iter()
        .map(|(flag, v)| parse_publish_rm(v).map_err(|reason| invalid_argument(flag, v, &reason)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Command::ServiceUpdate(ServiceUpdateArgs {
        replace: None,
        service: p.args[0].clone(),
        replicas: optional_u64(&p, "replicas")?,
        image: p.last("image").map(str::to_string),
        force: p.is_set("force"),
        constraint_add: constraints(&p, "constraint-add")?,
        constraint_rm: p.strings("constraint-rm"),
        env_add: p.strings("env-add"),
        env_rm: p.strings("env-rm"),
        publish_add: port_configs(&p, "publish-add")?,
        publish_rm,
        network_add: p.strings("network-add"),
        network_rm: p.strings("network-rm"),
        reservations,
        restart_condition: optional_restart_condition(&p)?,
        restart_delay: optional_duration(&p, "restart-delay")?,
        restart_max_attempts: optional_u64(&p, "restart-max-attempts")?,
        health: Box::new(health_flags(&p)?),
        placement: Box::new(placement_flags(&p, "placement-pref-add", Some("placement-pref-rm"))?),
        restart_window: optional_duration(&p, "restart-window")?,
        update: Box::new(update_config_flags(&p, "update")?),
        rollback: Box::new(update_config_flags(&p, "rollback")?),
        rollback_to_previous,
        references: Box::new(DataReferenceFlags {
            secret_add: data::references(&p, "secret-add")?,
            secret_rm: p.strings("secret-rm"),
            config_add: data::references(&p, "config-add")?,
            config_rm: p.strings("config-rm"),
        }),
    }))
}

// ---------------------------------------------------------------------------------------------
// Health-check and placement flags (`service create` and `service update` share them).

const HEALTH_FLAGS: [Flag; 6] = [
    value("health-cmd", None),
    value("health-interval", None),
    value("health-timeout", None),
    value("health-retries", None),
    value("health-start-period", None),
    boolean("no-healthcheck", None),
];

fn health_flags(p: &Parsed) -> Result<HealthFlags, String> {
    let flags = HealthFlags {
        cmd: p.last("health-cmd").map(str::to_string),
        interval: optional_duration(p, "health-interval")?,
        timeout: optional_duration(p, "health-timeout")?,
        retries: optional_u64(p, "health-retries")?,
        start_period: optional_duration(p, "health-start-period")?,
        no_healthcheck: p.is_set("no-healthcheck"),
    };
    flags.validate()?;
    Ok(flags)
}

/// `add` holds the preferences to add (`--placement-pref` on create), `rm` those to remove.
fn placement_flags(p: &Parsed, add: &str, rm: Option<&str>) -> Result<PlacementFlags, String> {
    let prefs = |long: &str| -> Result<Vec<SpreadOver>, String> {
        p.values(long)
            .into_iter()
            .map(|(flag, v)| SpreadOver::parse(v).map_err(|reason| invalid_argument(flag, v, &reason)))
            .collect()
    };
    Ok(PlacementFlags {
        pref_add: prefs(add)?,
        pref_rm: match rm {
            Some(rm) => prefs(rm)?,
            None => Vec::new(),
        },
        max_replicas: optional_u64(p, "replicas-max-per-node")?,
    })
}

/// `docker service rollback [-d] SERVICE`: the CLI sends an update with `Rollback: previous`.
fn parse_service_rollback(cmd: &str, tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[DETACH, boolean("quiet", Some('q'))];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    exactly(cmd, &p.args, 1)?;
    Ok(Command::ServiceUpdate(ServiceUpdateArgs {
        service: p.args[0].clone(),
        rollback_to_previous: true,
        ..Default::default()
    }))
}

/// The six `--update-*` (`prefix` "update") or `--rollback-*` flags.
fn update_config_flags(p: &Parsed, prefix: &str) -> Result<UpdateConfigFlags, String> {
    let name = |field: &str| format!("{prefix}-{field}");
    let failure_action = p
        .last(&name("failure-action"))
        .map(|v| match FailureAction::parse(v) {
            // `--rollback-failure-action rollback` means nothing: docker's daemon refuses it.
            Some(FailureAction::Rollback) if prefix == "rollback" => {
                Err(format!("unrecognized rollback failure action {v}"))
            }
            Some(a) => Ok(a),
            None => Err(format!("unrecognized {prefix} failure action {v}")),
        })
        .transpose()?;
    let order = p
        .last(&name("order"))
        .map(|v| UpdateOrder::parse(v).ok_or_else(|| format!("unrecognized {prefix} order {v}")))
        .transpose()?;
    let max_failure_ratio = p
        .last_with_flag(&name("max-failure-ratio"))
        .map(|(flag, v)| FailureRatio::parse(v).map_err(|reason| invalid_argument(flag, v, &reason)))
        .transpose()?;
    Ok(UpdateConfigFlags {
        parallelism: optional_u64(p, &name("parallelism"))?,
        delay: optional_duration(p, &name("delay"))?,
        failure_action,
        monitor: optional_duration(p, &name("monitor"))?,
        max_failure_ratio,
        order,
    })
}

fn parse_ps(tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("all", Some('a')), boolean("quiet", Some('q')), value("format", None), FILTER];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes)?;
    no_args("docker ps", &p.args)?;
    let filter = filters(&p)?;
    let format = checked_format(&p, &super::listing::CONTAINERS)?;
    Ok(Command::Ps { all: p.is_set("all"), quiet: p.is_set("quiet"), format, filter })
}

fn parse_kill(tokens: &[String]) -> Result<Command, String> {
    let p = parse_flags(tokens, &[], Interspersed::Yes)?;
    at_least("docker kill", &p.args, 1)?;
    Ok(Command::Kill { containers: p.args })
}

/// `docker exec [-i] [-t] NAME CMD...`: `-i`/`-t` are accepted and mean nothing here, since the
/// simulated commands neither read input nor need a terminal.
fn parse_exec(tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("interactive", Some('i')), boolean("tty", Some('t'))];
    let p = parse_flags(tokens, FLAGS, Interspersed::No)?;
    at_least("docker exec", &p.args, 2)?;
    Ok(Command::Exec { container: p.args[0].clone(), command: p.args[1..].to_vec() })
}

/// `curl [-s] URL`, with curl's own wording for errors.
fn parse_curl(tokens: &[String]) -> Result<Command, String> {
    const FLAGS: &[Flag] = &[boolean("silent", Some('s'))];
    let p = parse_flags(tokens, FLAGS, Interspersed::Yes).map_err(|e| format!("curl: {e}"))?;
    match p.args.as_slice() {
        [url] => Ok(Command::Curl { url: url.clone() }),
        [] => Err("curl: no URL specified!".to_string()),
        _ => Err("curl: only one URL at a time is supported".to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Flag values.

fn optional_u64(p: &Parsed, long: &str) -> Result<Option<u64>, String> {
    p.last_with_flag(long)
        .map(|(flag, v)| {
            v.parse::<u64>()
                .map_err(|_| invalid_argument(flag, v, &format!("strconv.ParseUint: parsing \"{v}\": invalid syntax")))
        })
        .transpose()
}

fn optional_duration(p: &Parsed, long: &str) -> Result<Option<Duration>, String> {
    p.last_with_flag(long)
        .map(|(flag, v)| parse_go_duration(v).map_err(|reason| invalid_argument(flag, v, &reason)))
        .transpose()
}

fn optional_cpus(p: &Parsed) -> Result<Option<u64>, String> {
    p.last_with_flag("reserve-cpu")
        .map(|(flag, v)| parse_nano_cpus(v).map_err(|reason| invalid_argument(flag, v, &reason)))
        .transpose()
}

fn optional_memory(p: &Parsed) -> Result<Option<u64>, String> {
    p.last_with_flag("reserve-memory")
        .map(|(flag, v)| parse_ram_bytes(v).map_err(|reason| invalid_argument(flag, v, &reason)))
        .transpose()
}

fn optional_restart_condition(p: &Parsed) -> Result<Option<RestartCondition>, String> {
    p.last("restart-condition")
        .map(|v| {
            RestartCondition::parse(v)
                .ok_or_else(|| format!("invalid restart condition {v:?}, only none, on-failure and any are supported"))
        })
        .transpose()
}

fn constraints(p: &Parsed, long: &str) -> Result<Vec<Constraint>, String> {
    p.values(long).into_iter().map(|(_, v)| Constraint::parse(v)).collect()
}

fn port_configs(p: &Parsed, long: &str) -> Result<Vec<PortConfig>, String> {
    p.values(long)
        .into_iter()
        .map(|(flag, v)| parse_port_config(v).map_err(|reason| invalid_argument(flag, v, &reason)))
        .collect()
}

/// `8000:80`, `8000:80/udp`, `80` (the allocator picks the published port), or the long form
/// `published=8000,target=80,mode=host,protocol=tcp`.
pub fn parse_port_config(spec: &str) -> Result<PortConfig, String> {
    if spec.contains('=') {
        parse_long_port_config(spec)
    } else {
        parse_short_port_config(spec)
    }
}

fn parse_short_port_config(spec: &str) -> Result<PortConfig, String> {
    let (ports, protocol) = match spec.split_once('/') {
        Some((ports, proto)) => (ports, parse_protocol(proto)?),
        None => (spec, Protocol::Tcp),
    };
    let (published, target) = match ports.split_once(':') {
        Some((published, target)) => (parse_port_number(published)?, parse_port_number(target)?),
        None => (0, parse_port_number(ports)?),
    };
    Ok(PortConfig { protocol, target_port: target, published_port: published, mode: PublishMode::Ingress })
}

fn parse_long_port_config(spec: &str) -> Result<PortConfig, String> {
    let mut port =
        PortConfig { protocol: Protocol::Tcp, target_port: 0, published_port: 0, mode: PublishMode::Ingress };
    for field in spec.split(',') {
        let (key, value) =
            field.split_once('=').ok_or_else(|| format!("invalid field {field:?} must be a key=value pair"))?;
        match key.to_lowercase().as_str() {
            "published" => port.published_port = parse_port_number(value)?,
            "target" => port.target_port = parse_port_number(value)?,
            "protocol" => port.protocol = parse_protocol(value)?,
            "mode" => {
                port.mode = match value.to_lowercase().as_str() {
                    "ingress" => PublishMode::Ingress,
                    "host" => PublishMode::Host,
                    _ => {
                        return Err(format!("invalid publish mode value ({value}): must be either 'ingress' or 'host'"))
                    }
                }
            }
            _ => return Err(format!("invalid field key {key}")),
        }
    }
    if port.target_port == 0 {
        return Err("missing mandatory field \"target\"".to_string());
    }
    Ok(port)
}

fn parse_protocol(proto: &str) -> Result<Protocol, String> {
    match proto.to_lowercase().as_str() {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        _ => Err(format!("invalid protocol value ({proto}): must be either 'tcp' or 'udp'")),
    }
}

fn parse_port_number(s: &str) -> Result<u16, String> {
    match s.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("invalid port: {s}")),
    }
}

/// `--publish-rm` names a port by its target: `80`, `80/tcp`, `8000:80` or `target=80`.
fn parse_publish_rm(v: &str) -> Result<u16, String> {
    if v.contains('=') {
        return parse_long_port_config(v).map(|p| p.target_port);
    }
    let without_protocol = v.split_once('/').map(|(ports, _)| ports).unwrap_or(v);
    let target = without_protocol.rsplit_once(':').map(|(_, t)| t).unwrap_or(without_protocol);
    parse_port_number(target)
}

/// Go's `time.ParseDuration` for non-negative values: `5s`, `1m30s`, `500ms`, `1.5h`, `0`.
pub fn parse_go_duration(s: &str) -> Result<Duration, String> {
    let invalid = || format!("time: invalid duration {s:?}");
    let body = s.strip_prefix('+').unwrap_or(s);
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    if body.is_empty() {
        return Err(invalid());
    }
    let mut rest = body;
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let (whole, fraction, after_number) = split_decimal(rest);
        if whole.is_empty() && fraction.is_empty() {
            return Err(invalid());
        }
        let unit_end = after_number.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after_number.len());
        let (unit, after_unit) = after_number.split_at(unit_end);
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {s:?}"));
        }
        let unit_nanos =
            duration_unit_nanos(unit).ok_or_else(|| format!("time: unknown unit {unit:?} in duration {s:?}"))?;
        // Checked: a long enough string of `555h` overflows even u128 (found by fuzzing);
        // Go answers "invalid duration" for any value past its int64 as well.
        total_nanos = decimal_times(whole, fraction, unit_nanos)
            .and_then(|nanos| total_nanos.checked_add(nanos))
            .ok_or_else(invalid)?;
        rest = after_unit;
    }
    let nanos = u64::try_from(total_nanos).map_err(|_| invalid())?;
    Ok(Duration::from_nanos(nanos))
}

fn duration_unit_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" | "μs" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// Splits `12.5rest` into (`12`, `5`, `rest`).
fn split_decimal(s: &str) -> (&str, &str, &str) {
    let whole_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (whole, rest) = s.split_at(whole_end);
    match rest.strip_prefix('.') {
        Some(after_dot) => {
            let frac_end = after_dot.find(|c: char| !c.is_ascii_digit()).unwrap_or(after_dot.len());
            let (fraction, rest) = after_dot.split_at(frac_end);
            (whole, fraction, rest)
        }
        None => (whole, "", rest),
    }
}

/// `whole.fraction × multiplier`, truncated, exactly (no floating point); `None` on overflow.
fn decimal_times(whole: &str, fraction: &str, multiplier: u128) -> Option<u128> {
    let whole_value: u128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut result = whole_value.checked_mul(multiplier)?;
    // Digits beyond 30 cannot change a result in nanoseconds or bytes of u64 range.
    let fraction = &fraction[..fraction.len().min(30)];
    if !fraction.is_empty() {
        let fraction_value: u128 = fraction.parse().ok()?;
        let scale = 10u128.checked_pow(fraction.len() as u32)?;
        result = result.checked_add(fraction_value.checked_mul(multiplier)? / scale)?;
    }
    Some(result)
}

/// docker's `NanoCPUs`: a decimal CPU count (`0.5`, `2`) in billionths.
pub(crate) fn parse_nano_cpus(v: &str) -> Result<u64, String> {
    let (whole, fraction, rest) = split_decimal(v);
    if !rest.is_empty() || (whole.is_empty() && fraction.is_empty()) {
        return Err(format!("failed to parse {v} as a rational number"));
    }
    if fraction.trim_end_matches('0').len() > 9 {
        return Err("value is too precise".to_string());
    }
    decimal_times(whole, fraction, 1_000_000_000)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| format!("failed to parse {v} as a rational number"))
}

/// go-units `RAMInBytes`: `64M`, `1G`, `1.5g`, `512k`, `1024`, `64MiB`, binary multiples.
pub(crate) fn parse_ram_bytes(v: &str) -> Result<u64, String> {
    let invalid = || format!("invalid size: '{v}'");
    let (whole, fraction, suffix) = split_decimal(v);
    if whole.is_empty() {
        return Err(invalid());
    }
    let multiplier = ram_suffix_multiplier(suffix.strip_prefix(' ').unwrap_or(suffix)).ok_or_else(invalid)?;
    decimal_times(whole, fraction, multiplier).and_then(|n| u64::try_from(n).ok()).ok_or_else(invalid)
}

/// `[kmgtp]?i?b?`, case-insensitive: the unit letter picks a power of 1024.
fn ram_suffix_multiplier(suffix: &str) -> Option<u128> {
    let lower = suffix.to_lowercase();
    let mut chars = lower.chars().peekable();
    let power = match chars.peek() {
        Some('k') => 1,
        Some('m') => 2,
        Some('g') => 3,
        Some('t') => 4,
        Some('p') => 5,
        _ => 0,
    };
    if power > 0 {
        chars.next();
    }
    if chars.peek() == Some(&'i') {
        chars.next();
    }
    if chars.peek() == Some(&'b') {
        chars.next();
    }
    if chars.next().is_some() {
        return None;
    }
    Some(1024u128.pow(power))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Command {
        match parse_invocation(line) {
            Ok(inv) => inv.command,
            Err(e) => panic!("{line:?} should parse: {e}"),
        }
    }

    fn error(line: &str) -> String {
        match parse_invocation(line) {
            Ok(inv) => panic!("{line:?} should fail, got {inv:?}"),
            Err(e) => e,
        }
    }

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn tokenizer_handles_quotes_escapes_and_continuations() {
        assert_eq!(tokenize("a 'b c' \"d \\\"e\\\"\" f\\ g").unwrap(), strings(&["a", "b c", "d \"e\"", "f g"]));
        assert_eq!(tokenize("x '' \"\"").unwrap(), strings(&["x", "", ""]));
        assert_eq!(tokenize("a \\\n  b\\\r\nc").unwrap(), strings(&["a", "bc"]));
        assert_eq!(tokenize("'node.role==worker'").unwrap(), strings(&["node.role==worker"]));
        assert_eq!(tokenize("\"a\\nb\"").unwrap(), strings(&["a\\nb"]));
        assert!(tokenize("echo 'open").unwrap_err().starts_with("unexpected EOF"));
        assert!(tokenize("echo \"open").unwrap_err().starts_with("unexpected EOF"));
    }

    #[test]
    fn sudo_docker_and_host_prefixes_are_optional() {
        for line in ["sudo docker node ls", "docker node ls", "node ls", "sudo node ls"] {
            assert_eq!(
                parse_invocation(line).unwrap(),
                CommandLine {
                    host: None,
                    command: Command::NodeLs { quiet: false, format: None, filter: Filters::default() }
                }
            );
        }
        for line in [
            "sudo docker -H 192.168.0.109:5555 node ls",
            "docker -H=192.168.0.109:5555 node ls",
            "docker --host 192.168.0.109:5555 node ls",
            "docker --host=192.168.0.109:5555 node ls",
            "docker -H192.168.0.109:5555 node ls",
        ] {
            let inv = parse_invocation(line).unwrap();
            assert_eq!(inv.host.as_deref(), Some("192.168.0.109:5555"), "{line}");
            assert_eq!(inv.command, Command::NodeLs { quiet: false, format: None, filter: Filters::default() });
        }
    }

    #[test]
    fn unknown_verbs_and_flags_fail_like_docker() {
        assert_eq!(error("docker frobnicate"), "docker: 'frobnicate' is not a docker command.");
        assert_eq!(error("docker service frob"), "docker: 'service frob' is not a docker command.");
        assert_eq!(error("docker service"), "Usage:  docker service COMMAND");
        assert_eq!(error("docker"), "Usage:  docker [OPTIONS] COMMAND");
        assert_eq!(error("   "), "empty command line");
        assert_eq!(error("docker --debug ps"), "unknown flag: --debug");
        assert_eq!(error("docker node ls --foo"), "unknown flag: --foo");
        assert_eq!(error("docker ps -x"), "unknown shorthand flag: 'x' in -x");
        assert_eq!(error("docker service create --name"), "flag needs an argument: --name");
        assert_eq!(error("docker service create -p"), "flag needs an argument: 'p' in -p");
        assert_eq!(
            error("docker swarm leave --force=maybe"),
            "invalid argument \"maybe\" for \"-f, --force\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
        );
    }

    #[test]
    fn swarm_init_as_in_the_tutorial() {
        assert_eq!(
            parse("sudo docker swarm init"),
            Command::SwarmInit { advertise_addr: None, listen_addr: None, force_new_cluster: false }
        );
        assert_eq!(
            parse("sudo docker swarm init --advertise-addr 192.168.0.109"),
            Command::SwarmInit {
                advertise_addr: Some("192.168.0.109".into()),
                listen_addr: None,
                force_new_cluster: false
            }
        );
        assert_eq!(
            parse("docker swarm init --listen-addr=0.0.0.0:2377 --force-new-cluster"),
            Command::SwarmInit {
                advertise_addr: None,
                listen_addr: Some("0.0.0.0:2377".into()),
                force_new_cluster: true
            }
        );
        assert_eq!(error("docker swarm init now"), "\"docker swarm init\" accepts no arguments.");
    }

    #[test]
    fn swarm_init_with_a_default_address_pool() {
        let pool = |line: &str| match parse(line) {
            Command::SwarmInit { .. } => None,
            Command::SwarmInitWithPool { default_addr_pool, .. } => Some(default_addr_pool),
            other => panic!("{other:?}"),
        };
        let subnets = |cidrs: &[&str]| cidrs.iter().map(|c| Subnet::parse(c).unwrap()).collect::<Vec<_>>();
        assert_eq!(pool("docker swarm init"), None);
        assert_eq!(pool("docker swarm init --default-addr-pool-mask-length 26"), None, "ignored without a pool");
        assert_eq!(
            pool("docker swarm init --default-addr-pool 198.18.0.0/16"),
            Some(AddrPool { pools: subnets(&["198.18.0.0/16"]), subnet_size: 24 })
        );
        assert_eq!(
            pool("docker swarm init --default-addr-pool 10.10.0.0/16,10.20.0.0/16 --default-addr-pool 10.30.0.0/16 --default-addr-pool-mask-length=26"),
            Some(AddrPool { pools: subnets(&["10.10.0.0/16", "10.20.0.0/16", "10.30.0.0/16"]), subnet_size: 26 })
        );
        assert_eq!(
            error("docker swarm init --default-addr-pool 10.10.0.0"),
            "invalid argument \"10.10.0.0\" for \"--default-addr-pool\" flag: invalid CIDR address: 10.10.0.0"
        );
        assert_eq!(
            error("docker swarm init --default-addr-pool 10.10.0.0/16 --default-addr-pool-mask-length x"),
            "invalid argument \"x\" for \"--default-addr-pool-mask-length\" flag: strconv.ParseUint: parsing \"x\": invalid syntax"
        );
    }

    #[test]
    fn multi_line_swarm_join_as_in_the_tutorial() {
        let line = "sudo docker swarm join \\\n  --token SWMTKN-1-0x11m2uk7ps9bh7nflkxwirgv0syvacl18rut3hilz4i9lgis3-d9m22hixt0b57hjj81im8bqdl \\\n  192.168.0.109:2377";
        assert_eq!(
            parse(line),
            Command::SwarmJoin {
                token: "SWMTKN-1-0x11m2uk7ps9bh7nflkxwirgv0syvacl18rut3hilz4i9lgis3-d9m22hixt0b57hjj81im8bqdl".into(),
                remote_addr: "192.168.0.109:2377".into(),
                advertise_addr: None,
            }
        );
        assert_eq!(
            parse("docker swarm join --token T --advertise-addr 192.168.0.192 192.168.0.109:2377"),
            Command::SwarmJoin {
                token: "T".into(),
                remote_addr: "192.168.0.109:2377".into(),
                advertise_addr: Some("192.168.0.192".into())
            }
        );
        assert_eq!(error("docker swarm join --token T"), "\"docker swarm join\" requires exactly 1 argument.");
        assert_eq!(error("docker swarm join 192.168.0.109:2377"), "required flag(s) \"token\" not set");
    }

    #[test]
    fn swarm_join_token_and_leave() {
        assert_eq!(
            parse("docker swarm join-token manager"),
            Command::SwarmJoinToken { role: NodeRole::Manager, quiet: false, rotate: false }
        );
        assert_eq!(
            parse("docker swarm join-token -q --rotate worker"),
            Command::SwarmJoinToken { role: NodeRole::Worker, quiet: true, rotate: true }
        );
        assert_eq!(error("docker swarm join-token boss"), "unknown role boss");
        assert_eq!(error("docker swarm join-token"), "\"docker swarm join-token\" requires exactly 1 argument.");
        assert_eq!(parse("docker swarm leave"), Command::SwarmLeave { force: false });
        assert_eq!(parse("docker swarm leave -f"), Command::SwarmLeave { force: true });
        assert_eq!(parse("docker swarm leave --force"), Command::SwarmLeave { force: true });
    }

    #[test]
    fn node_verbs() {
        assert_eq!(
            parse("docker node ls -q"),
            Command::NodeLs { quiet: true, format: None, filter: Filters::default() }
        );
        assert_eq!(
            parse("docker node list --quiet"),
            Command::NodeLs { quiet: true, format: None, filter: Filters::default() }
        );
        assert_eq!(
            parse("docker node inspect --pretty self bd1"),
            Command::NodeInspect { nodes: strings(&["self", "bd1"]), pretty: true }
        );
        assert_eq!(error("docker node inspect"), "\"docker node inspect\" requires at least 1 argument.");
        assert_eq!(parse("docker node promote bd1 bd2"), Command::NodePromote { nodes: strings(&["bd1", "bd2"]) });
        assert_eq!(parse("docker node demote bd1"), Command::NodeDemote { nodes: strings(&["bd1"]) });
        assert_eq!(parse("docker node rm -f bd2"), Command::NodeRm { nodes: strings(&["bd2"]), force: true });
        assert_eq!(parse("docker node rm bd2"), Command::NodeRm { nodes: strings(&["bd2"]), force: false });
    }

    #[test]
    fn node_update_flags() {
        assert_eq!(
            parse("docker node update --availability drain --role manager --label-add zone=a --label-add ssd --label-rm old bd1"),
            Command::NodeUpdate(NodeUpdateArgs {
                node: "bd1".into(),
                availability: Some(Availability::Drain),
                role: Some(NodeRole::Manager),
                label_add: vec![("zone".into(), "a".into()), ("ssd".into(), String::new())],
                label_rm: strings(&["old"]),
            })
        );
        assert_eq!(
            parse("docker node update --availability=pause bd1"),
            Command::NodeUpdate(NodeUpdateArgs {
                node: "bd1".into(),
                availability: Some(Availability::Pause),
                ..Default::default()
            })
        );
        assert!(error("docker node update --availability sleepy bd1").starts_with("invalid availability \"sleepy\""));
        assert!(error("docker node update --role boss bd1").starts_with("invalid role \"boss\""));
        assert_eq!(error("docker node update"), "\"docker node update\" requires exactly 1 argument.");
    }

    #[test]
    fn network_verbs_as_in_the_tutorial() {
        assert_eq!(
            parse("sudo docker network create --driver overlay myswarm"),
            Command::NetworkCreate { name: "myswarm".into(), driver: NetworkDriver::Overlay, subnet: None }
        );
        assert_eq!(
            parse("docker network create -d overlay --subnet 10.0.9.0/24 backend"),
            Command::NetworkCreate {
                name: "backend".into(),
                driver: NetworkDriver::Overlay,
                subnet: Subnet::parse("10.0.9.0/24")
            }
        );
        assert_eq!(
            parse("docker network create plain"),
            Command::NetworkCreate { name: "plain".into(), driver: NetworkDriver::Bridge, subnet: None }
        );
        assert_eq!(error("docker network create -d weave x"), "plugin \"weave\" not found");
        assert_eq!(error("docker network create --subnet 10.0.0.0 x"), "invalid CIDR address: 10.0.0.0");
        assert_eq!(error("docker network create"), "\"docker network create\" requires exactly 1 argument.");
        assert_eq!(parse("sudo docker network ls"), Command::NetworkLs { quiet: false });
        assert_eq!(parse("docker network ls -q"), Command::NetworkLs { quiet: true });
        assert_eq!(
            parse("docker network inspect myswarm ingress"),
            Command::NetworkInspect { networks: strings(&["myswarm", "ingress"]) }
        );
        assert_eq!(parse("docker network rm myswarm"), Command::NetworkRm { networks: strings(&["myswarm"]) });
    }

    fn create_args(line: &str) -> ServiceCreateArgs {
        match parse(line) {
            Command::ServiceCreate(args) => args,
            other => panic!("not a service create: {other:?}"),
        }
    }

    #[test]
    fn service_create_as_in_the_tutorial() {
        let args = create_args(
            "sudo docker service create --replicas 2 --name mynginx --publish 8000:80 --network=myswarm nginx",
        );
        assert_eq!(
            args,
            ServiceCreateArgs {
                labels: Default::default(),
                name: Some("mynginx".into()),
                image: "nginx".into(),
                command: vec![],
                replicas: Some(2),
                global: false,
                publish: vec![PortConfig {
                    protocol: Protocol::Tcp,
                    target_port: 80,
                    published_port: 8000,
                    mode: PublishMode::Ingress
                }],
                networks: strings(&["myswarm"]),
                constraints: vec![],
                env: vec![],
                reservations: Resources::default(),
                restart_condition: None,
                restart_delay: None,
                restart_max_attempts: None,
                restart_window: None,
                health: Box::default(),
                placement: Box::default(),
                update: Box::default(),
                rollback: Box::default(),
                job: false,
                max_concurrent: None,
                references: Box::default(),
            }
        );
    }

    #[test]
    fn service_health_and_placement_flags() {
        let args = create_args(
            "docker service create --health-cmd 'test -e /tmp/ok' --health-interval 2s --health-retries 1 \
             --placement-pref spread=node.labels.zone --replicas-max-per-node 1 web",
        );
        assert_eq!(args.health.cmd.as_deref(), Some("test -e /tmp/ok"));
        assert_eq!(args.health.interval, Some(Duration::from_secs(2)));
        assert_eq!(args.health.retries, Some(1));
        assert_eq!(args.placement.pref_add, [SpreadOver::parse("spread=node.labels.zone").unwrap()]);
        assert_eq!(args.placement.max_replicas, Some(1));
        assert_eq!(
            error("docker service create --no-healthcheck --health-retries 2 web"),
            "--no-healthcheck conflicts with --health-* options"
        );
        assert_eq!(
            error("docker service create --mode global --replicas-max-per-node 1 web"),
            "replicas-max-per-node can only be used with replicated mode"
        );
        let Command::ServiceUpdate(update) =
            parse("docker service update --placement-pref-rm spread=node.labels.zone --no-healthcheck web")
        else {
            panic!("not an update")
        };
        assert_eq!(update.placement.pref_rm.len(), 1);
        assert!(update.health.no_healthcheck);
    }

    #[test]
    fn service_create_every_flag() {
        let args = create_args(
            "docker service create --name web --mode global -p 53:53/udp \
             --publish published=8080,target=80,mode=host,protocol=tcp --constraint 'node.role==worker' \
             -e A=1 --env B=2 --reserve-cpu 0.5 --reserve-memory 64M --restart-condition on-failure \
             --restart-delay 1m30s --restart-max-attempts 3 --restart-window=2h nginx nginx -g 'daemon off;'",
        );
        assert!(args.global);
        assert_eq!(args.replicas, None);
        assert_eq!(args.image, "nginx");
        assert_eq!(args.command, strings(&["nginx", "-g", "daemon off;"]));
        assert_eq!(
            args.publish,
            vec![
                PortConfig { protocol: Protocol::Udp, target_port: 53, published_port: 53, mode: PublishMode::Ingress },
                PortConfig { protocol: Protocol::Tcp, target_port: 80, published_port: 8080, mode: PublishMode::Host },
            ]
        );
        assert_eq!(args.constraints, vec![Constraint { key: "node.role".into(), equal: true, value: "worker".into() }]);
        assert_eq!(args.env, strings(&["A=1", "B=2"]));
        assert_eq!(args.reservations, Resources { nano_cpus: 500_000_000, memory_bytes: 64 * 1024 * 1024 });
        assert_eq!(args.restart_condition, Some(RestartCondition::OnFailure));
        assert_eq!(args.restart_delay, Some(Duration::from_secs(90)));
        assert_eq!(args.restart_max_attempts, Some(3));
        assert_eq!(args.restart_window, Some(Duration::from_secs(7200)));
    }

    #[test]
    fn service_create_options_after_the_image_belong_to_the_command() {
        let args = create_args("docker service create busybox ping --replicas 3 -c 1 x");
        assert_eq!(args.replicas, None);
        assert_eq!(args.command, strings(&["ping", "--replicas", "3", "-c", "1", "x"]));
        assert_eq!(create_args("docker service create -p 80 nginx").publish[0].published_port, 0);
    }

    #[test]
    fn service_create_errors() {
        assert_eq!(
            error("docker service create --replicas 2"),
            "\"docker service create\" requires at least 1 argument."
        );
        assert_eq!(
            error("docker service create --mode global --replicas 2 nginx"),
            "replicas can only be used with replicated mode"
        );
        assert_eq!(
            error("docker service create --replicas 2 --mode=global nginx"),
            "replicas can only be used with replicated mode"
        );
        assert_eq!(
            error("docker service create --replicas two nginx"),
            "invalid argument \"two\" for \"--replicas\" flag: strconv.ParseUint: parsing \"two\": invalid syntax"
        );
        assert_eq!(
            error("docker service create --restart-delay 5x nginx"),
            "invalid argument \"5x\" for \"--restart-delay\" flag: time: unknown unit \"x\" in duration \"5x\""
        );
        assert_eq!(
            error("docker service create --reserve-memory lots nginx"),
            "invalid argument \"lots\" for \"--reserve-memory\" flag: invalid size: 'lots'"
        );
        assert_eq!(
            error("docker service create --reserve-cpu half nginx"),
            "invalid argument \"half\" for \"--reserve-cpu\" flag: failed to parse half as a rational number"
        );
        assert_eq!(
            error("docker service create -p 8000:http nginx"),
            "invalid argument \"8000:http\" for \"-p, --publish\" flag: invalid port: http"
        );
        assert!(error("docker service create --constraint node.role=worker nginx").contains("=="));
        assert!(error("docker service create --mode both nginx").starts_with("invalid mode"));
        assert!(
            error("docker service create --restart-condition sometimes nginx").starts_with("invalid restart condition")
        );
    }

    #[test]
    fn service_listing_verbs() {
        assert_eq!(
            parse("sudo docker service ls"),
            Command::ServiceLs { quiet: false, format: None, filter: Filters::default() }
        );
        assert_eq!(
            parse("docker service ls -q"),
            Command::ServiceLs { quiet: true, format: None, filter: Filters::default() }
        );
        assert_eq!(
            parse("sudo docker service ps mynginx"),
            Command::ServicePs {
                services: strings(&["mynginx"]),
                quiet: false,
                no_trunc: false,
                format: None,
                filter: Filters::default()
            }
        );
        assert_eq!(
            parse("docker service ps --no-trunc mynginx -q web"),
            Command::ServicePs {
                services: strings(&["mynginx", "web"]),
                quiet: true,
                no_trunc: true,
                format: None,
                filter: Filters::default()
            }
        );
        assert_eq!(
            parse("sudo docker service inspect mynginx"),
            Command::ServiceInspect { services: strings(&["mynginx"]), pretty: false }
        );
        assert_eq!(
            parse("docker service inspect --pretty mynginx"),
            Command::ServiceInspect { services: strings(&["mynginx"]), pretty: true }
        );
        assert_eq!(parse("sudo docker service rm mynginx"), Command::ServiceRm { services: strings(&["mynginx"]) });
        assert_eq!(error("docker service ps"), "\"docker service ps\" requires at least 1 argument.");
    }

    #[test]
    fn detach_is_accepted_where_docker_takes_it() {
        for line in [
            "docker service create -d --name web nginx",
            "docker service create --detach --name web nginx",
            "docker service scale -d web=2",
            "docker service update --detach --force web",
        ] {
            parse(line);
        }
        assert!(error("docker service ls --detach").contains("unknown flag: --detach"));
    }

    #[test]
    fn service_scale_as_in_the_tutorial() {
        assert_eq!(
            parse("sudo docker service scale mynginx=3"),
            Command::ServiceScale { scales: vec![("mynginx".into(), 3)] }
        );
        assert_eq!(
            parse("docker service scale mynginx=2 web=0"),
            Command::ServiceScale { scales: vec![("mynginx".into(), 2), ("web".into(), 0)] }
        );
        assert_eq!(error("docker service scale"), "\"docker service scale\" requires at least 1 argument.");
        assert_eq!(error("docker service scale mynginx=x"), "invalid replicas value mynginx=x: invalid syntax");
        assert_eq!(error("docker service scale mynginx"), "Invalid scale specifier 'mynginx'.");
    }

    #[test]
    fn service_update_flags() {
        let cmd = parse(
            "docker service update --replicas 5 --image nginx:1.11 --force --constraint-add node.labels.zone==a \
             --constraint-rm node.role==worker --env-add A=1 --env-rm B --publish-add 9000:90 --publish-rm 80 \
             --publish-rm 8443:443/tcp --network-add front --network-rm back --reserve-cpu 2 \
             --restart-condition none --restart-delay 500ms --restart-max-attempts 4 mynginx",
        );
        assert_eq!(
            cmd,
            Command::ServiceUpdate(ServiceUpdateArgs {
                service: "mynginx".into(),
                replicas: Some(5),
                image: Some("nginx:1.11".into()),
                force: true,
                constraint_add: vec![Constraint { key: "node.labels.zone".into(), equal: true, value: "a".into() }],
                constraint_rm: strings(&["node.role==worker"]),
                env_add: strings(&["A=1"]),
                env_rm: strings(&["B"]),
                publish_add: vec![PortConfig {
                    protocol: Protocol::Tcp,
                    target_port: 90,
                    published_port: 9000,
                    mode: PublishMode::Ingress
                }],
                publish_rm: vec![80, 443],
                network_add: strings(&["front"]),
                network_rm: strings(&["back"]),
                reservations: Some(Resources { nano_cpus: 2_000_000_000, memory_bytes: 0 }),
                restart_condition: Some(RestartCondition::None),
                restart_delay: Some(Duration::from_millis(500)),
                restart_max_attempts: Some(4),
                health: Box::default(),
                placement: Box::default(),
                ..Default::default()
            })
        );
        assert_eq!(
            parse("docker service update --force mynginx"),
            Command::ServiceUpdate(ServiceUpdateArgs { service: "mynginx".into(), force: true, ..Default::default() })
        );
        assert_eq!(error("docker service update --force"), "\"docker service update\" requires exactly 1 argument.");
        assert_eq!(
            parse("docker service update --restart-window 1m web"),
            Command::ServiceUpdate(ServiceUpdateArgs {
                service: "web".into(),
                restart_window: Some(Duration::from_secs(60)),
                ..Default::default()
            })
        );
    }

    #[test]
    fn update_and_rollback_settings_on_create_and_update() {
        let args = create_args(
            "docker service create --update-parallelism 2 --update-delay 10s --update-failure-action rollback \
             --update-monitor 20s --update-max-failure-ratio 0.25 --update-order start-first \
             --rollback-parallelism 0 --rollback-failure-action continue nginx",
        );
        assert_eq!(
            *args.update,
            UpdateConfigFlags {
                parallelism: Some(2),
                delay: Some(Duration::from_secs(10)),
                failure_action: Some(FailureAction::Rollback),
                monitor: Some(Duration::from_secs(20)),
                max_failure_ratio: Some(FailureRatio(250_000)),
                order: Some(UpdateOrder::StartFirst),
            }
        );
        assert_eq!(
            *args.rollback,
            UpdateConfigFlags {
                parallelism: Some(0),
                failure_action: Some(FailureAction::Continue),
                ..Default::default()
            }
        );
        let Command::ServiceUpdate(u) = parse("docker service update --update-order stop-first web") else {
            panic!("not an update")
        };
        assert_eq!(u.update.order, Some(UpdateOrder::StopFirst));
        assert_eq!(
            error("docker service create --update-max-failure-ratio lots nginx"),
            "invalid argument \"lots\" for \"--update-max-failure-ratio\" flag: strconv.ParseFloat: parsing \"lots\": invalid syntax"
        );
        assert_eq!(
            error("docker service create --update-failure-action explode nginx"),
            "unrecognized update failure action explode"
        );
        assert_eq!(
            error("docker service create --rollback-failure-action rollback nginx"),
            "unrecognized rollback failure action rollback"
        );
    }

    #[test]
    fn rollback_as_a_verb_and_as_a_flag_alone() {
        let rollback = Command::ServiceUpdate(ServiceUpdateArgs {
            service: "web".into(),
            rollback_to_previous: true,
            ..Default::default()
        });
        assert_eq!(parse("docker service rollback web"), rollback);
        assert_eq!(parse("docker service rollback -d web"), rollback);
        assert_eq!(parse("docker service update --rollback --detach web"), rollback);
        assert_eq!(
            error("docker service update --rollback --image nginx:1.25 web"),
            "other flags may not be combined with --rollback"
        );
        assert_eq!(error("docker service rollback"), "\"docker service rollback\" requires exactly 1 argument.");
    }

    #[test]
    fn filters_are_key_value_pairs_and_one_without_equals_is_refused_as_pflag_words_it() {
        let Command::ServiceLs { filter, .. } = parse("docker service ls -f name=web --filter NAME=api -f mode=global")
        else {
            panic!("service ls")
        };
        assert_eq!(filter.values("name").collect::<Vec<_>>(), ["api", "web"]);
        assert_eq!(filter.values("mode").collect::<Vec<_>>(), ["global"]);
        assert_eq!(
            parse_invocation("docker node ls --filter role").unwrap_err(),
            "invalid argument \"role\" for \"-f, --filter\" flag: bad format of filter (expected name=value)"
        );
        let Command::Ps { filter, all: false, format: Some(format), .. } =
            parse("docker ps --filter status=exited --format '{{.Label \"com.docker.swarm.task.id\"}}'")
        else {
            panic!("ps")
        };
        assert!(filter.lists_all());
        assert_eq!(format, "{{.Label \"com.docker.swarm.task.id\"}}");
        // The request asks for stopped containers too, as dockerd's status filter does.
        let inv = crate::cli::parse("docker ps --filter status=exited").unwrap();
        assert_eq!(inv.request, crate::control::Request::ListContainers { all: true });
        assert!(parse_invocation("docker ps --format '{{.Nope}}'")
            .unwrap_err()
            .contains("can't evaluate field Nope in type *formatter.ContainerContext"));
    }

    #[test]
    fn container_verbs_and_curl() {
        assert_eq!(
            parse("sudo docker ps"),
            Command::Ps { all: false, quiet: false, format: None, filter: Filters::default() }
        );
        assert_eq!(
            parse("docker ps -aq"),
            Command::Ps { all: true, quiet: true, format: None, filter: Filters::default() }
        );
        assert_eq!(
            parse("docker ps -a --quiet"),
            Command::Ps { all: true, quiet: true, format: None, filter: Filters::default() }
        );
        assert_eq!(
            parse("sudo docker kill mynginx.2.divhrq89xhxka8bvb8r9zqqhz"),
            Command::Kill { containers: strings(&["mynginx.2.divhrq89xhxka8bvb8r9zqqhz"]) }
        );
        assert_eq!(error("docker kill"), "\"docker kill\" requires at least 1 argument.");
        assert_eq!(
            parse("docker exec -it mynginx.1.abc nslookup -type=a tasks.mynginx"),
            Command::Exec {
                container: "mynginx.1.abc".into(),
                command: strings(&["nslookup", "-type=a", "tasks.mynginx"])
            }
        );
        assert_eq!(error("docker exec box"), "\"docker exec\" requires at least 2 arguments.");
        assert_eq!(parse("curl http://bd0:8000/"), Command::Curl { url: "http://bd0:8000/".into() });
        assert_eq!(parse("curl -s http://bd0:8000/"), Command::Curl { url: "http://bd0:8000/".into() });
        assert_eq!(error("curl"), "curl: no URL specified!");
        assert_eq!(error("docker curl x"), "docker: 'curl' is not a docker command.");
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_go_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_go_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_go_duration("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_go_duration("5"), Err("time: missing unit in duration \"5\"".into()));
        assert_eq!(parse_go_duration(""), Err("time: invalid duration \"\"".into()));
        assert_eq!(parse_go_duration("-5s"), Err("time: invalid duration \"-5s\"".into()));
        assert_eq!(parse_go_duration(".s"), Err("time: invalid duration \".s\"".into()));
    }

    /// Found by fuzz/'s `docker_command`: terms whose sum passes u128 panicked in debug builds.
    #[test]
    fn a_duration_too_long_for_any_integer_is_invalid_not_a_panic() {
        let huge = "5555555555555555555555555h".repeat(200);
        assert_eq!(parse_go_duration(&huge), Err(format!("time: invalid duration {huge:?}")));
    }

    #[test]
    fn memory_and_cpu_values() {
        assert_eq!(parse_ram_bytes("64M"), Ok(64 << 20));
        assert_eq!(parse_ram_bytes("1G"), Ok(1 << 30));
        assert_eq!(parse_ram_bytes("1.5g"), Ok(3 << 29));
        assert_eq!(parse_ram_bytes("512"), Ok(512));
        assert_eq!(parse_ram_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_ram_bytes("10 kb"), Ok(10 << 10));
        assert!(parse_ram_bytes("64X").is_err());
        assert!(parse_ram_bytes("M").is_err());
        assert_eq!(parse_nano_cpus("0.5"), Ok(500_000_000));
        assert_eq!(parse_nano_cpus("2"), Ok(2_000_000_000));
        assert_eq!(parse_nano_cpus(".25"), Ok(250_000_000));
        assert_eq!(parse_nano_cpus("0.0000000001"), Err("value is too precise".into()));
    }

    #[test]
    fn publish_specs() {
        let host = parse_port_config("mode=host,target=80").unwrap();
        assert_eq!(
            host,
            PortConfig { protocol: Protocol::Tcp, target_port: 80, published_port: 0, mode: PublishMode::Host }
        );
        assert_eq!(parse_port_config("published=80"), Err("missing mandatory field \"target\"".into()));
        assert_eq!(
            parse_port_config("8000:80/sctp"),
            Err("invalid protocol value (sctp): must be either 'tcp' or 'udp'".into())
        );
        assert_eq!(parse_port_config("target=80,colour=red"), Err("invalid field key colour".into()));
        assert_eq!(parse_publish_rm("target=443"), Ok(443));
        assert_eq!(parse_publish_rm("80/udp"), Ok(80));
    }

    #[test]
    fn job_modes_take_the_replicas_as_completions_and_docker_20_10s_flag_rules() {
        let args = create_args("docker service create --mode replicated-job --replicas 3 --max-concurrent 2 worker");
        assert!(args.job && !args.global);
        assert_eq!((args.replicas, args.max_concurrent), (Some(3), Some(2)));
        let args = create_args("docker service create --mode global-job worker");
        assert!(args.job && args.global);
        assert_eq!(
            error("docker service create --mode global-job --replicas 2 worker"),
            "replicas can only be used with replicated or replicated-job mode"
        );
        assert_eq!(
            error("docker service create --max-concurrent 2 worker"),
            "max-concurrent can only be used with replicated-job mode"
        );
    }

    #[test]
    fn a_listing_format_is_checked_against_the_listings_fields() {
        assert_eq!(
            parse("docker service ls --format '{{.Name}}'"),
            Command::ServiceLs { quiet: false, format: Some("{{.Name}}".into()), filter: Filters::default() }
        );
        assert_eq!(
            error("docker node ls --format '{{.Foo}}'"),
            "template parsing error: template: :1:2: executing \"\" at <.Foo>: can't evaluate field Foo in type *node.nodeContext"
        );
        assert_eq!(
            error("docker service ps --format '{{.Name}} {{.Foo}}' web"),
            "template parsing error: template: :1:12: executing \"\" at <.Foo>: can't evaluate field Foo in type *task.taskContext"
        );
    }
}

#[path = "parse_stack.rs"]
mod stack;
pub use stack::parse_stack_line;
