use crate::api::Subnet;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The swarm itself: its CA and join tokens (swarmkit `api.Cluster`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    pub id: String,
    /// sha256 of the root CA certificate, in base 36, zero-padded to 50 characters.
    pub ca_digest: String,
    pub worker_token: String,
    pub manager_token: String,
    /// Tasks kept per slot, the running one included (`--task-history-limit`, default 5).
    pub task_history_limit: usize,
    /// `swarm init --default-addr-pool`: where network subnets come from. `None`: docker 1.12's
    /// ranges (ingress 10.255.0.0/16, overlays 10.0.N.0/24), which the simulator keeps.
    pub default_addr_pool: Option<AddrPool>,
    /// `--dispatcher-heartbeat`: the period agents are told to heartbeat at (default 5 s); a
    /// node is Down after period × 3 without one.
    pub dispatcher_heartbeat: Duration,
    /// `--cert-expiry`: how long node certificates are valid (default 90 days, swarmkit's
    /// `DefaultNodeCertExpiration`); shown by `docker info` and `swarm inspect`.
    pub node_cert_expiry: Duration,
}

/// swarmkit's defaults for a new cluster's spec.
pub const DEFAULT_DISPATCHER_HEARTBEAT: Duration = Duration::from_secs(5);
pub const DEFAULT_NODE_CERT_EXPIRY: Duration = Duration::from_secs(90 * 24 * 3600);
/// swarmkit `ca.MinNodeCertExpiration`.
pub const MIN_NODE_CERT_EXPIRY: Duration = Duration::from_secs(3600);

/// The address pools of `--default-addr-pool` cut into subnets of `--default-addr-pool-mask-length`
/// (swarmkit `DefaultAddrPool` and `SubnetSize`): the ingress network takes the first subnet,
/// overlays created without `--subnet` the next free ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrPool {
    pub pools: Vec<Subnet>,
    pub subnet_size: u32,
}

/// `--default-addr-pool-mask-length` when not given, as docker's.
pub const DEFAULT_SUBNET_SIZE: u32 = 24;

impl AddrPool {
    /// dockerd's checks (`validateDefaultAddrPool`), with its wording.
    pub fn validate(&self) -> Result<(), String> {
        if self.subnet_size > 29 {
            return Err(format!("subnet size is out of range: {}", self.subnet_size));
        }
        for pool in &self.pools {
            if self.subnet_size < u32::from(pool.prefix_len) {
                return Err(format!(
                    "invalid CIDR: {:?}. Subnet size is too small for pool: {}",
                    pool.to_string(),
                    self.subnet_size
                ));
            }
        }
        Ok(())
    }

    /// The pools' subnets, in order: pool by pool, each cut into `subnet_size` blocks.
    pub fn subnets(&self) -> impl Iterator<Item = Subnet> + '_ {
        debug_assert!(self.validate().is_ok());
        self.pools.iter().flat_map(move |pool| {
            let count = 1u32 << (self.subnet_size - u32::from(pool.prefix_len));
            let step = 1u32 << (32 - self.subnet_size);
            let base = u32::from(pool.base);
            (0..count).map(move |i| Subnet::new((base + i * step).into(), self.subnet_size as u8))
        })
    }

    /// The first subnet that overlaps none of `used`.
    pub fn first_free(&self, used: &[Subnet]) -> Option<Subnet> {
        self.subnets().find(|c| !used.iter().any(|u| u.overlaps(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(cidrs: &[&str], size: u32) -> AddrPool {
        AddrPool { pools: cidrs.iter().map(|c| Subnet::parse(c).unwrap()).collect(), subnet_size: size }
    }

    #[test]
    fn a_pool_is_cut_into_subnets_of_the_mask_length_in_order() {
        let p = pool(&["198.18.0.0/16", "10.20.0.0/23"], 24);
        let all: Vec<String> = p.subnets().map(|s| s.to_string()).collect();
        assert_eq!(all.len(), 256 + 2);
        assert_eq!(all[0], "198.18.0.0/24");
        assert_eq!(all[255], "198.18.255.0/24");
        assert_eq!(all[256..], ["10.20.0.0/24", "10.20.1.0/24"]);
        let used = [Subnet::parse("198.18.0.0/24").unwrap(), Subnet::parse("198.18.1.0/25").unwrap()];
        assert_eq!(p.first_free(&used).unwrap().to_string(), "198.18.2.0/24");
        assert_eq!(pool(&["198.18.0.0/24"], 24).first_free(&used[..1]), None);
    }

    #[test]
    fn pools_are_checked_with_dockerds_wording() {
        assert_eq!(pool(&["10.0.0.0/8"], 30).validate().unwrap_err(), "subnet size is out of range: 30");
        assert_eq!(
            pool(&["10.20.0.0/16"], 12).validate().unwrap_err(),
            "invalid CIDR: \"10.20.0.0/16\". Subnet size is too small for pool: 12"
        );
        assert!(pool(&["10.20.0.0/16"], 16).validate().is_ok());
    }
}
