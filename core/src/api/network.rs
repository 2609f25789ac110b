use crate::ids::NetworkId;
use crate::time::Instant;
use core::net::Ipv4Addr;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NetworkDriver {
    Overlay,
    Bridge,
    Host,
    Null,
}

impl NetworkDriver {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkDriver::Overlay => "overlay",
            NetworkDriver::Bridge => "bridge",
            NetworkDriver::Host => "host",
            NetworkDriver::Null => "null",
        }
    }
    pub fn parse(s: &str) -> Option<NetworkDriver> {
        match s {
            "overlay" => Some(NetworkDriver::Overlay),
            "bridge" => Some(NetworkDriver::Bridge),
            "host" => Some(NetworkDriver::Host),
            "null" => Some(NetworkDriver::Null),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NetworkScope {
    Local,
    Swarm,
}

impl NetworkScope {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkScope::Local => "local",
            NetworkScope::Swarm => "swarm",
        }
    }
}

/// An IPv4 subnet in CIDR form, e.g. `10.0.0.0/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix_len: u8,
}

impl Subnet {
    pub fn new(base: Ipv4Addr, prefix_len: u8) -> Subnet {
        assert!(prefix_len <= 30, "a subnet needs room for a gateway and hosts");
        let mask = u32::MAX << (32 - prefix_len as u32);
        Subnet { base: Ipv4Addr::from(u32::from(base) & mask), prefix_len }
    }
    /// `10.0.0.0/24`; host bits are dropped (`10.0.0.5/24` is `10.0.0.0/24`). Prefixes from /8
    /// to /30 only: a smaller one is no overlay's, a larger one leaves no host beside the gateway.
    pub fn parse(s: &str) -> Option<Subnet> {
        let net: ipnet::Ipv4Net = s.parse().ok()?;
        (8..=30).contains(&net.prefix_len()).then(|| Subnet::new(net.network(), net.prefix_len()))
    }
    /// Number of host addresses, the network and broadcast addresses excluded.
    pub fn host_count(&self) -> u32 {
        (1u32 << (32 - self.prefix_len as u32)) - 2
    }
    /// The `n`-th host address (1-based: host 1 is the gateway).
    pub fn host(&self, n: u32) -> Ipv4Addr {
        assert!(n >= 1 && n <= self.host_count(), "host {n} outside {self}");
        Ipv4Addr::from(u32::from(self.base) + n)
    }
    pub fn gateway(&self) -> Ipv4Addr {
        self.host(1)
    }
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        let mask = u32::MAX << (32 - self.prefix_len as u32);
        u32::from(ip) & mask == u32::from(self.base)
    }
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.base) || other.contains(self.base)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix_len)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub id: NetworkId,
    pub name: String,
    pub driver: NetworkDriver,
    pub scope: NetworkScope,
    /// Overlays only; local networks carry none in the store.
    pub subnet: Option<Subnet>,
    /// The routing mesh's network (`ingress`).
    pub ingress: bool,
    pub created_at: Instant,
    /// `--label`; a stack's networks carry `com.docker.stack.namespace`.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// `--attachable`: standalone containers may join (kept and shown; nothing here runs one).
    #[serde(default)]
    pub attachable: bool,
}

/// An address on a network: a task's or a service VIP, `10.0.0.3/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NetAddr {
    pub ip: Ipv4Addr,
    pub prefix_len: u8,
}

impl NetAddr {
    /// `10.0.0.3/24`, as `Display` prints it.
    pub fn parse(s: &str) -> Option<NetAddr> {
        let net: ipnet::Ipv4Net = s.parse().ok()?;
        Some(NetAddr { ip: net.addr(), prefix_len: net.prefix_len() })
    }
}

impl fmt::Display for NetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.ip, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnet_hosts_skip_network_address() {
        let s = Subnet::parse("10.0.0.0/24").unwrap();
        assert_eq!(s.gateway(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(s.host(2), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(s.host_count(), 254);
        assert!(s.contains(Ipv4Addr::new(10, 0, 0, 200)));
        assert!(!s.contains(Ipv4Addr::new(10, 0, 1, 1)));
        assert!(Subnet::parse("10.255.0.0/16").unwrap().overlaps(&Subnet::parse("10.255.3.0/24").unwrap()));
        assert_eq!(Subnet::parse("10.0.0.5/24"), Subnet::parse("10.0.0.0/24"));
        for bad in ["10.0.0.0", "10.0.0.0/7", "10.0.0.0/31", "10.0.0.0/33", "10.0.0/24", "x/24", "10.0.0.0/"] {
            assert_eq!(Subnet::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn an_address_reads_back_what_it_prints() {
        let a = NetAddr { ip: Ipv4Addr::new(10, 0, 0, 3), prefix_len: 24 };
        assert_eq!(NetAddr::parse(&a.to_string()), Some(a));
        assert_eq!(NetAddr::parse("10.0.0.3"), None);
    }
}
