//! The certificate bootstrap around `swarm init` and `swarm join` (see `tls`): a new cluster CA
//! for the address core will advertise, a certificate fetched before a join, and a manager
//! signing a joining node's CSR with what core grants its token.

use super::{Daemon, Event};
use crate::tls::{self, NodeCerts};
use crate::transport::SignResponse;
use std::net::IpAddr;
use std::sync::Arc;
use swarm_core::addr::Addr;
use swarm_core::control::Request;
use swarm_core::node::Reply;
use swarm_core::tokens;
use tokio::sync::oneshot;
use tracing::{info, warn};

impl Daemon {
    /// `swarm init` on a node without certificates: a root CA and this node's certificate for
    /// the address core will advertise, then the request goes to core.
    pub(super) fn init_with_new_ca(
        &mut self,
        advertise: Option<&str>,
        request: Request,
        reply: oneshot::Sender<Reply>,
    ) {
        // Without an address core answers with docker's error; no CA is made.
        if let Ok(ip) = self.node.advertise_ip(advertise) {
            match NodeCerts::new_cluster(IpAddr::V4(ip)) {
                Ok(certs) => {
                    // Core puts the real CA's digest in the cluster record and tokens.
                    self.node.set_root_ca_digest(tls::ca_digest(&certs.ca_cert_der));
                    if let Err(e) = self.install_certs(certs) {
                        let _ = reply.send(Err(e.into()));
                        return;
                    }
                    info!(%ip, "created the cluster's root CA");
                }
                Err(e) => {
                    let _ = reply.send(Err(e.to_string().into()));
                    return;
                }
            }
        }
        self.submit(request, reply);
    }

    /// `swarm join` on a node without certificates: fetch the CA from `remote`, check it against
    /// the token's digest, have it sign a CSR for the address core will advertise; the join
    /// goes to core when that finished (`Event::JoinBootstrapped`).
    pub(super) fn join_after_certificate(
        &mut self,
        token: &str,
        remote: &str,
        advertise: Option<&str>,
        request: Request,
        reply: oneshot::Sender<Reply>,
    ) {
        let (Ok((digest, _)), Ok(ip), Some(remote)) =
            (tokens::parse_join_token(token), self.node.advertise_ip(advertise), Addr::with_cluster_port(remote))
        else {
            // Malformed token, no address, or a remote that is no IP: core gives docker's answer.
            return self.submit(request, reply);
        };
        let remote = remote.to_string();
        let (digest, token) = (digest.to_string(), token.to_string());
        let dialer = Arc::clone(&self.dialer);
        let tx = self.events_tx.clone();
        tokio::spawn(async move {
            let result =
                crate::transport::bootstrap_certificate(dialer.as_ref(), &remote, &token, &digest, IpAddr::V4(ip))
                    .await;
            let _ = tx.send(Event::JoinBootstrapped { result, request, reply }).await;
        });
    }

    /// A manager signs a joining node's certificate with what core grants its token (the role,
    /// and the CA key for a manager), in the words core would refuse the join with.
    pub(super) fn sign(&self, token: &str, csr_der: &[u8]) -> Result<SignResponse, String> {
        let grant = self.node.authorize_join(token).inspect_err(|e| warn!(%e, "refused a certificate request"))?;
        let Some(state) = self.transport.security.current() else {
            return Err("this manager holds no certificates".into());
        };
        let Some(ca_key) = state.certs.ca_key_pkcs8.as_ref() else { return Err("this manager holds no CA key".into()) };
        let cert_der = tls::sign_csr(&state.certs.ca_cert_der, ca_key, csr_der).map_err(|e| e.to_string())?;
        info!(role = grant.role.as_str(), "signed a node certificate");
        Ok(SignResponse { cert_der, ca_key_pkcs8: grant.ca_key.then(|| ca_key.clone()) })
    }
}
