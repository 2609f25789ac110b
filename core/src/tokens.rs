//! Join tokens, `SWMTKN-1-<CA digest>-<secret>`, as swarmkit's `ca.GenerateJoinToken`.

use crate::ids::base36;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The CA digest: sha256 of the root CA certificate, in base 36, zero-padded to 50.
/// The simulator's CA "certificate" is random bytes from the seed; swarmd hashes a real one.
pub fn ca_digest(ca_cert_der: &[u8]) -> String {
    let hash = Sha256::digest(ca_cert_der);
    base36(&hash, 50)
}

pub fn new_join_token(ca_digest: &str, rng: &mut impl RngCore) -> String {
    let mut secret = [0u8; 16];
    rng.fill_bytes(&mut secret);
    format!("SWMTKN-1-{}-{}", ca_digest, base36(&secret, 25))
}

/// Splits a token into (CA digest, secret), or says it is malformed.
pub fn parse_join_token(token: &str) -> Result<(&str, &str), String> {
    let rest = token.strip_prefix("SWMTKN-1-").ok_or_else(|| "invalid join token".to_string())?;
    let (digest, secret) = rest.split_once('-').ok_or_else(|| "invalid join token".to_string())?;
    if digest.len() != 50 || secret.len() != 25 {
        return Err("invalid join token".into());
    }
    Ok((digest, secret))
}

/// Constant-time comparison, as swarmkit compares tokens (no early exit on the first mismatch).
pub fn tokens_equal(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The role a join token stands for in `cluster`, or the error a manager answers (docker's
/// words): the one rule behind both a join and a certificate request.
pub fn join_role(cluster: &crate::api::Cluster, token: &str) -> Result<crate::api::NodeRole, String> {
    if let Err(e) = parse_join_token(token) {
        return Err(format!("rpc error: code = InvalidArgument desc = {e}"));
    }
    if tokens_equal(token, &cluster.manager_token) {
        Ok(crate::api::NodeRole::Manager)
    } else if tokens_equal(token, &cluster.worker_token) {
        Ok(crate::api::NodeRole::Worker)
    } else {
        Err(INVALID_JOIN_TOKEN.into())
    }
}

pub const INVALID_JOIN_TOKEN: &str =
    "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster";

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn join_token_has_swarm_shape_and_parses_back() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let digest = ca_digest(b"root ca");
        assert_eq!(digest.len(), 50);
        let token = new_join_token(&digest, &mut rng);
        assert!(token.starts_with("SWMTKN-1-"));
        let (d, s) = parse_join_token(&token).unwrap();
        assert_eq!(d, digest);
        assert_eq!(s.len(), 25);
        assert!(parse_join_token("SWMTKN-1-abc").is_err());
        assert!(tokens_equal(&token, &token.clone()));
        assert!(!tokens_equal(&token, &new_join_token(&digest, &mut rng)));
    }
}
