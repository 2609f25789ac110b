//! Addresses on the cluster port, and the `HOST:PORT` text users type.
//!
//! [`Addr`] is the value every message, identity and peer table carries: an IPv4 address and a
//! port, parsed once at the edge (`swarm init/join`, a driver's hello), then compared and copied
//! without allocation. It prints as `192.168.0.109:2377`, and serde writes it as that same text,
//! so swarmd's wire and disk formats read as they did when addresses were strings.
//!
//! The free functions split text that is not yet an address (`--advertise-addr eth0`,
//! `-H 192.168.0.109:5555`, `http://bd0:8000/`): the one place that does, for core and both
//! drivers. IPv4 only, as the rest of the project: the host is everything before the last `:`.

use crate::message::CLUSTER_PORT;
use core::net::Ipv4Addr;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A node's address on the cluster port (or any IPv4 `ip:port`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr {
    pub ip: Ipv4Addr,
    pub port: u16,
}

impl Addr {
    pub const fn new(ip: Ipv4Addr, port: u16) -> Addr {
        Addr { ip, port }
    }

    /// The address on the cluster port (2377).
    pub const fn on_cluster_port(ip: Ipv4Addr) -> Addr {
        Addr { ip, port: CLUSTER_PORT }
    }

    /// `swarm join 192.168.0.108` means the cluster port; `192.168.0.108:4000` is kept.
    /// `None` for a host name: core resolves none (a driver may, before handing it in).
    pub fn with_cluster_port(remote: &str) -> Option<Addr> {
        match remote.parse() {
            Ok(addr) => Some(addr),
            Err(_) => remote.parse().ok().map(Addr::on_cluster_port),
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.ip, self.port)
    }
}

/// As a string's `Debug` (quoted): the simulator's trace prints messages with `{:?}`, and an
/// address reads there as it always did.
impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}:{}\"", self.ip, self.port)
    }
}

impl FromStr for Addr {
    type Err = String;

    /// `IP:PORT`, nothing else.
    fn from_str(text: &str) -> Result<Addr, String> {
        let invalid = || format!("invalid address {text:?}: want IPv4:PORT");
        let (ip, port) = text.rsplit_once(':').ok_or_else(invalid)?;
        Ok(Addr { ip: ip.parse().map_err(|_| invalid())?, port: port.parse().map_err(|_| invalid())? })
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Addr, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// `192.168.0.109:2377` → `192.168.0.109`; text without a port is all host.
pub fn host(addr: &str) -> &str {
    addr.rsplit_once(':').map(|(host, _)| host).unwrap_or(addr)
}

/// The port after the last `:`, if there is one and it is a number.
pub fn port(addr: &str) -> Option<u16> {
    addr.rsplit_once(':').and_then(|(_, port)| port.parse().ok())
}

/// The host as an IPv4 address, if it is one (not a name).
pub fn ip(addr: &str) -> Option<Ipv4Addr> {
    host(addr).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_splits_into_host_and_port() {
        assert_eq!(host("192.168.0.109:2377"), "192.168.0.109");
        assert_eq!(host("eth0"), "eth0");
        assert_eq!(port("192.168.0.109:2377"), Some(2377));
        assert_eq!(port("192.168.0.109"), None);
        assert_eq!(port("bd0:http"), None);
        assert_eq!(ip("192.168.0.109:2377"), Some(Ipv4Addr::new(192, 168, 0, 109)));
        assert_eq!(ip("bd0:5555"), None);
    }

    #[test]
    fn an_address_reads_back_what_it_prints() {
        let addr: Addr = "192.168.0.109:2377".parse().unwrap();
        assert_eq!(addr, Addr::on_cluster_port(Ipv4Addr::new(192, 168, 0, 109)));
        assert_eq!(addr.to_string(), "192.168.0.109:2377");
        assert_eq!(format!("{addr:?}"), format!("{:?}", "192.168.0.109:2377"));
        for bad in ["192.168.0.109", "bd0:2377", "192.168.0.109:port", "192.168.0.109:70000", ""] {
            assert!(bad.parse::<Addr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn an_address_is_written_as_its_text() {
        let addr: Addr = "10.0.0.1:2377".parse().unwrap();
        let as_text = postcard::to_stdvec(&"10.0.0.1:2377".to_string()).unwrap();
        assert_eq!(postcard::to_stdvec(&addr).unwrap(), as_text, "the wire and disk format of a string");
        assert_eq!(postcard::from_bytes::<Addr>(&as_text).unwrap(), addr);
        assert!(postcard::from_bytes::<Addr>(&postcard::to_stdvec(&"nonsense".to_string()).unwrap()).is_err());
    }

    #[test]
    fn a_join_without_a_port_means_the_cluster_port() {
        assert_eq!(Addr::with_cluster_port("192.168.0.108"), "192.168.0.108:2377".parse().ok());
        assert_eq!(Addr::with_cluster_port("192.168.0.108:4000"), "192.168.0.108:4000".parse().ok());
        assert_eq!(Addr::with_cluster_port("bd0"), None);
    }
}
