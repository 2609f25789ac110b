//! The certificate bootstrap around `swarm init` and `swarm join` (see `tls`): the address a
//! node's certificate names, and a manager signing a joining node's CSR.

use super::Daemon;
use crate::tls;
use crate::transport::SignResponse;
use std::net::{IpAddr, Ipv4Addr};
use swarm_core::api::NodeRole;
use swarm_core::manager::tokens;
use tracing::{info, warn};

impl Daemon {
    /// The address this node would advertise, as core will choose it (for its certificate).
    pub(super) fn advertise_ip(&self, given: &Option<String>) -> Option<IpAddr> {
        match given {
            Some(g) => {
                let host = g.rsplit_once(':').map(|(h, _)| h).unwrap_or(g);
                host.parse::<Ipv4Addr>()
                    .ok()
                    .or_else(|| self.node.config.interfaces.iter().find(|(n, _)| n == host).map(|(_, ip)| *ip))
                    .map(IpAddr::V4)
            }
            None => match self.node.config.interfaces.as_slice() {
                [(_, ip)] => Some(IpAddr::V4(*ip)),
                _ => None,
            },
        }
    }

    /// A manager signs a joining node's certificate when its token is one of the cluster's.
    pub(super) fn sign(&self, token: &str, csr_der: &[u8]) -> Result<SignResponse, String> {
        // Core's wording, so a refusal reads the same at the certificate step and at the join.
        const REFUSED: &str =
            "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster";
        let Some(cluster) = self.node.manager().and_then(|m| m.store.cluster.as_ref()) else {
            return Err("rpc error: code = Unavailable desc = this node is not a swarm manager".into());
        };
        let Some(state) = self.transport.security.current() else { return Err(REFUSED.into()) };
        let Some(ca_key) = state.certs.ca_key_pkcs8.as_ref() else { return Err("this manager holds no CA key".into()) };
        let role = if tokens::tokens_equal(token, &cluster.manager_token) {
            NodeRole::Manager
        } else if tokens::tokens_equal(token, &cluster.worker_token) {
            NodeRole::Worker
        } else {
            warn!("refused a certificate request: invalid join token");
            return Err(REFUSED.into());
        };
        let cert_der = tls::sign_csr(&state.certs.ca_cert_der, ca_key, csr_der).map_err(|e| e.to_string())?;
        info!(role = role.as_str(), "signed a node certificate");
        Ok(SignResponse { cert_der, ca_key_pkcs8: (role == NodeRole::Manager).then(|| ca_key.clone()) })
    }
}
