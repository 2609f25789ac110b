//! `[[node]]` tables: names, interfaces and addresses (unique across the whole file), daemon
//! listen addresses, resources, labels and images the node cannot pull.

use super::{integer_in, line_of, listing};
use crate::scenario::error::{ScenarioError, SourceFile};
use crate::scenario::model::{ImageDef, InterfaceDef, NodeDef};
use crate::scenario::raw::{RawInterface, RawNode};
use crate::scenario::units::parse_byte_size;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use toml::Spanned;

pub const DEFAULT_DAEMON_HOST: &str = "unix:///var/run/docker.sock";
const DEFAULT_CPUS: u32 = 2;
const DEFAULT_MEMORY_BYTES: u64 = 4 << 30;
/// Interface name the `addr = "..."` shorthand creates.
const SHORTHAND_INTERFACE: &str = "eth0";

/// Names and addresses seen so far, with where, to report duplicates against the first use.
#[derive(Default)]
struct Seen {
    node_lines: BTreeMap<String, usize>,
    /// address → "bd0 eth0 (line 12)"
    addresses: BTreeMap<Ipv4Addr, String>,
}

pub fn build_nodes(
    file: SourceFile<'_>,
    raw: Vec<Spanned<RawNode>>,
    images: &[ImageDef],
) -> Result<Vec<NodeDef>, ScenarioError> {
    let mut seen = Seen::default();
    raw.into_iter().map(|node| build_node(file, node, images, &mut seen)).collect()
}

fn build_node(
    file: SourceFile<'_>,
    node: Spanned<RawNode>,
    images: &[ImageDef],
    seen: &mut Seen,
) -> Result<NodeDef, ScenarioError> {
    let line = line_of(file, node.span());
    let node = node.into_inner();
    let name = node.name.get_ref().clone();
    if !is_hostname(&name) {
        return Err(file.error(
            node.name.span(),
            format!(
                "invalid node name `{name}`: use letters, digits, `-`, `_` and `.`, starting with a letter or digit"
            ),
        ));
    }
    if let Some(first) = seen.node_lines.insert(name.clone(), line_of(file, node.name.span())) {
        return Err(file.error(node.name.span(), format!("node `{name}` is declared twice (first at line {first})")));
    }

    let interfaces = build_interfaces(file, &name, &node, seen)?;
    let daemon_hosts = match &node.daemon_hosts {
        None => vec![DEFAULT_DAEMON_HOST.to_string()],
        Some(hosts) => hosts
            .iter()
            .map(|host| normalize_daemon_host(host.get_ref(), &interfaces).map_err(|m| file.error(host.span(), m)))
            .collect::<Result<_, _>>()?,
    };
    let cpus = match &node.cpus {
        None => DEFAULT_CPUS,
        Some(cpus) => integer_in(file, cpus, 1..=1024, "`cpus`")? as u32,
    };
    let memory_bytes = match &node.memory {
        None => DEFAULT_MEMORY_BYTES,
        Some(memory) => match parse_byte_size(memory.get_ref()) {
            Ok(0) => return Err(file.error(memory.span(), "`memory` must be more than zero")),
            Ok(bytes) => bytes,
            Err(message) => return Err(file.error(memory.span(), message)),
        },
    };
    let mut missing_images = Vec::new();
    for image in node.missing_images.iter().flatten() {
        let image_name = image.get_ref();
        if !images.iter().any(|known| &known.name == image_name) {
            return Err(file.error(
                image.span(),
                format!(
                    "unknown image `{image_name}`; the known images are {} (declare others with [[image]])",
                    listing(images.iter().map(|i| &i.name))
                ),
            ));
        }
        missing_images.push(image_name.clone());
    }
    Ok(NodeDef {
        name,
        interfaces,
        daemon_hosts,
        cpus,
        memory_bytes,
        labels: node.labels.unwrap_or_default(),
        missing_images,
        line,
    })
}

fn build_interfaces(
    file: SourceFile<'_>,
    node_name: &str,
    node: &RawNode,
    seen: &mut Seen,
) -> Result<Vec<InterfaceDef>, ScenarioError> {
    let written: Vec<(Spanned<String>, &Spanned<String>)> = match (&node.addr, &node.interfaces) {
        (Some(addr), Some(_)) => {
            return Err(file.error(addr.span(), "give either `addr` (one interface, eth0) or `interfaces`, not both"))
        }
        (None, None) => {
            return Err(file.error(
                node.name.span(),
                format!("node `{node_name}` needs an address: `addr = \"192.168.0.10\"` or `interfaces = [{{ name = \"eth0\", addr = \"...\" }}]`"),
            ))
        }
        (Some(addr), None) => vec![(Spanned::new(addr.span(), SHORTHAND_INTERFACE.to_string()), addr)],
        (None, Some(list)) if list.get_ref().is_empty() => {
            return Err(file.error(list.span(), "`interfaces` must list at least one interface"))
        }
        (None, Some(list)) => list
            .get_ref()
            .iter()
            .map(|i| {
                let RawInterface { name, addr } = i.get_ref();
                (name.clone(), addr)
            })
            .collect(),
    };
    let mut interfaces: Vec<InterfaceDef> = Vec::new();
    for (name, addr_text) in written {
        if name.get_ref().is_empty() || name.get_ref().contains(char::is_whitespace) {
            return Err(file.error(name.span(), "an interface name must be one word, e.g. \"eth0\""));
        }
        if interfaces.iter().any(|i| &i.name == name.get_ref()) {
            return Err(
                file.error(name.span(), format!("node `{node_name}` has two interfaces named `{}`", name.get_ref()))
            );
        }
        let addr = parse_host_address(addr_text.get_ref()).map_err(|m| file.error(addr_text.span(), m))?;
        let place = format!("{node_name} {} (line {})", name.get_ref(), line_of(file, addr_text.span()));
        if let Some(first) = seen.addresses.insert(addr, place) {
            return Err(file.error(addr_text.span(), format!("address {addr} is already used by {first}")));
        }
        interfaces.push(InterfaceDef { name: name.into_inner(), addr });
    }
    Ok(interfaces)
}

/// An IPv4 address a host interface can have (not 0.0.0.0, loopback, multicast or broadcast).
fn parse_host_address(text: &str) -> Result<Ipv4Addr, String> {
    let addr: Ipv4Addr = text
        .parse()
        .map_err(|_| format!("`{text}` is not an IPv4 address (expected four numbers 0-255, e.g. 192.168.0.10)"))?;
    if addr.is_unspecified() || addr.is_loopback() || addr.is_multicast() || addr.is_broadcast() {
        return Err(format!("{addr} cannot be a host interface address"));
    }
    Ok(addr)
}

/// `unix:///path`, `tcp://ADDR:PORT` or `ADDR:PORT` (as `dockerd -H` takes them), normalized to a
/// scheme-qualified form. ADDR must be 0.0.0.0 or one of the node's own addresses.
fn normalize_daemon_host(text: &str, interfaces: &[InterfaceDef]) -> Result<String, String> {
    if let Some(path) = text.strip_prefix("unix://") {
        if !path.starts_with('/') {
            return Err(format!(
                "invalid daemon host `{text}`: a unix socket needs an absolute path, e.g. unix:///var/run/docker.sock"
            ));
        }
        return Ok(text.to_string());
    }
    let address = text.strip_prefix("tcp://").unwrap_or(text);
    let invalid = || format!("invalid daemon host `{text}`: expected `unix:///PATH`, `tcp://ADDR:PORT` or `ADDR:PORT`");
    let (ip, port) = address.rsplit_once(':').ok_or_else(invalid)?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| invalid())?;
    let port = match port.parse::<u16>() {
        Ok(p) if p > 0 => p,
        _ => return Err(format!("invalid port `{port}` in daemon host `{text}`: expected 1 to 65535")),
    };
    if !ip.is_unspecified() && !interfaces.iter().any(|i| i.addr == ip) {
        return Err(format!(
            "daemon host `{text}` listens on {ip}, which is not one of this node's addresses (or 0.0.0.0)"
        ));
    }
    Ok(format!("tcp://{ip}:{port}"))
}

fn is_hostname(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}
