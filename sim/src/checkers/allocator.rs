//! Addresses and ports: no address or VIP handed out twice in a network, no host port bound
//! twice on a node, and every address a live task holds counted as taken by the allocator.

use std::collections::BTreeSet;
use swarm_core::ids::{NetworkId, NodeId};
use swarm_core::observe::AllocatorView;
use swarm_core::store::Store;

/// No address or VIP handed out twice in a network.
pub fn addresses_unique(store: &Store) -> Result<(), String> {
    let mut addresses: BTreeSet<(&NetworkId, std::net::Ipv4Addr)> = BTreeSet::new();
    for svc in store.services.values() {
        for vip in svc.endpoint.iter().flat_map(|e| e.virtual_ips.iter()) {
            if !addresses.insert((&vip.network_id, vip.addr.ip)) {
                return Err(format!("VIP {} on network {} handed out twice", vip.addr, vip.network_id));
            }
        }
    }
    for t in store.tasks.values().filter(|t| !t.status.state.is_terminal()) {
        for att in &t.networks {
            for a in &att.addresses {
                if !addresses.insert((&att.network_id, a.ip)) {
                    return Err(format!(
                        "address {} on network {} handed out twice (task {})",
                        a, att.network_id, t.id
                    ));
                }
            }
        }
    }
    Ok(())
}

/// No host port bound twice on a node.
pub fn host_ports_unique(store: &Store) -> Result<(), String> {
    let mut host_ports: BTreeSet<(&NodeId, u16)> = BTreeSet::new();
    for t in store.tasks.values().filter(|t| t.is_runnable()) {
        let Some(node) = &t.node_id else { continue };
        for p in &t.host_ports {
            if !host_ports.insert((node, p.published_port)) {
                return Err(format!("host port {} bound twice on node {}", p.published_port, node));
            }
        }
    }
    Ok(())
}

/// Every address a live task holds is one the allocator counts as taken: otherwise it could
/// hand it out again while the task's container still uses it.
pub fn live_addresses_taken(store: &Store, allocator: AllocatorView<'_>) -> Result<(), String> {
    for t in store.tasks.values().filter(|t| !t.status.state.is_terminal()) {
        for att in &t.networks {
            for a in &att.addresses {
                if !allocator.is_address_taken(&att.network_id, a.ip) {
                    return Err(format!(
                        "address {} of live task {} on network {} is free for the allocator",
                        a, t.id, att.network_id
                    ));
                }
            }
        }
    }
    Ok(())
}
