//! `HOST:PORT` text, as the cluster's messages carry addresses (`192.168.0.109:2377`) and as
//! users type them (`swarm join 192.168.0.108`, `-H 192.168.0.109:5555`, `--advertise-addr
//! eth0`): the one place that splits or completes them, for core and both drivers.
//! IPv4 only, as the rest of the project: the host is everything before the last `:`.

use crate::message::{Addr, CLUSTER_PORT};
use core::net::Ipv4Addr;

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

/// A node's address on the cluster port.
pub fn on_cluster_port(ip: Ipv4Addr) -> Addr {
    format!("{ip}:{CLUSTER_PORT}")
}

/// `192.168.0.108` → `192.168.0.108:2377`: `swarm join` without a port means the cluster port.
pub fn with_cluster_port(remote: &str) -> Addr {
    if remote.contains(':') {
        remote.to_string()
    } else {
        format!("{remote}:{CLUSTER_PORT}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_splits_into_host_and_port() {
        assert_eq!(host("192.168.0.109:2377"), "192.168.0.109");
        assert_eq!(host("eth0"), "eth0");
        assert_eq!(port("192.168.0.109:2377"), Some(2377));
        assert_eq!(port("192.168.0.109"), None);
        assert_eq!(port("bd0:http"), None);
        assert_eq!(ip("192.168.0.109:2377"), Some(Ipv4Addr::new(192, 168, 0, 109)));
        assert_eq!(ip("bd0:5555"), None);
    }

    #[test]
    fn a_join_without_a_port_means_the_cluster_port() {
        assert_eq!(with_cluster_port("192.168.0.108"), "192.168.0.108:2377");
        assert_eq!(with_cluster_port("192.168.0.108:4000"), "192.168.0.108:4000");
        assert_eq!(on_cluster_port(Ipv4Addr::new(10, 0, 0, 1)), "10.0.0.1:2377");
    }
}
