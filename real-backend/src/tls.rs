//! The cluster's certificate authority and mutual TLS between nodes, as swarm mode does it.
//!
//! `swarm init` creates a root CA (a self-signed ECDSA P-256 certificate) and a node
//! certificate signed by it. A joining node fetches the root CA over an unauthenticated TLS
//! connection, checks its digest against the one in its join token, then sends a certificate
//! signing request with the token over a connection that verifies the manager against that CA,
//! and gets its node certificate. From then on every node-to-node connection is mutual TLS with
//! the cluster CA as the only root: a peer without a certificate may only ask for the CA and a
//! certificate; a peer with another cluster's certificate fails the handshake.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{
    CertificateDer, CertificateSigningRequestDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What a node keeps of the cluster's PKI, as files under the data root (`certificates/`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeCerts {
    pub ca_cert_der: Vec<u8>,
    /// Only managers hold the CA key (they sign joining nodes' certificates).
    pub ca_key_pkcs8: Option<Vec<u8>>,
    pub cert_der: Vec<u8>,
    pub key_pkcs8: Vec<u8>,
}

#[derive(Debug)]
pub struct TlsError(pub String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn e(x: impl std::fmt::Display) -> TlsError {
    TlsError(x.to_string())
}

/// A new root CA: (certificate DER, key PKCS#8).
pub fn new_root_ca() -> Result<(Vec<u8>, Vec<u8>), TlsError> {
    let key = KeyPair::generate().map_err(e)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "swarm-ca");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let cert = params.self_signed(&key).map_err(e)?;
    Ok((cert.der().to_vec(), key.serialize_der()))
}

/// A key and a certificate signing request for a node reached at `ip`.
pub fn new_csr(ip: IpAddr) -> Result<(Vec<u8>, Vec<u8>), TlsError> {
    let key = KeyPair::generate().map_err(e)?;
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    params.subject_alt_names = vec![SanType::IpAddress(ip)];
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "swarm-node");
    params.distinguished_name = dn;
    let csr = params.serialize_request(&key).map_err(e)?;
    Ok((csr.der().to_vec(), key.serialize_der()))
}

/// The CA signs a node's request (its IP SAN is kept, the rest is the CA's choice).
pub fn sign_csr(ca_cert_der: &[u8], ca_key_pkcs8: &[u8], csr_der: &[u8]) -> Result<Vec<u8>, TlsError> {
    let ca_key = KeyPair::try_from(ca_key_pkcs8).map_err(e)?;
    let issuer = Issuer::from_ca_cert_der(&CertificateDer::from(ca_cert_der.to_vec()), ca_key).map_err(e)?;
    let csr_der = CertificateSigningRequestDer::from(csr_der.to_vec());
    let mut csr = CertificateSigningRequestParams::from_der(&csr_der).map_err(e)?;
    csr.params.is_ca = IsCa::ExplicitNoCa;
    csr.params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    csr.params.extended_key_usages =
        vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth, rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let cert = csr.signed_by(&issuer).map_err(e)?;
    Ok(cert.der().to_vec())
}

impl NodeCerts {
    /// A fresh cluster: a root CA and this node's certificate for `ip`.
    pub fn new_cluster(ip: IpAddr) -> Result<NodeCerts, TlsError> {
        let (ca_cert_der, ca_key) = new_root_ca()?;
        let (csr, key_pkcs8) = new_csr(ip)?;
        let cert_der = sign_csr(&ca_cert_der, &ca_key, &csr)?;
        Ok(NodeCerts { ca_cert_der, ca_key_pkcs8: Some(ca_key), cert_der, key_pkcs8 })
    }

    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join("node.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self).expect("certs serialize"))?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, dir.join("node.json"))?;
        std::fs::File::open(dir)?.sync_all()
    }

    pub fn load(dir: &Path) -> std::io::Result<Option<NodeCerts>> {
        match std::fs::read(dir.join("node.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(std::io::Error::other),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn roots(&self) -> Result<RootCertStore, TlsError> {
        let mut roots = RootCertStore::empty();
        roots.add(CertificateDer::from(self.ca_cert_der.clone())).map_err(e)?;
        Ok(roots)
    }

    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }

    /// Server side of the cluster port: presents the node certificate; a client certificate
    /// is verified against the cluster CA when given, and may be absent (certificate bootstrap).
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(self.roots()?), provider())
            .allow_unauthenticated()
            .build()
            .map_err(e)?;
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(e)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![CertificateDer::from(self.cert_der.clone())], self.key())
            .map_err(e)?;
        Ok(Arc::new(config))
    }

    /// Client side: verifies the peer against the cluster CA and presents the node certificate.
    pub fn client_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(e)?
            .with_root_certificates(self.roots()?)
            .with_client_auth_cert(vec![CertificateDer::from(self.cert_der.clone())], self.key())
            .map_err(e)?;
        Ok(Arc::new(config))
    }
}

/// A client that trusts the given CA and presents no certificate (the CSR step of a join).
pub fn anonymous_client_config(ca_cert_der: &[u8]) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(ca_cert_der.to_vec())).map_err(e)?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(e)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A client that accepts any server certificate: used once, to fetch the root CA, whose digest
/// is then checked against the join token before anything is trusted.
pub fn fetch_ca_client_config() -> Result<Arc<ClientConfig>, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(e)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider())))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[derive(Debug)]
struct AcceptAnyServer(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The digest a join token carries: sha256 of the root CA certificate in base 36 (core's).
pub fn ca_digest(ca_cert_der: &[u8]) -> String {
    swarm_core::tokens::ca_digest(ca_cert_der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_certificate_chains_to_its_cluster_ca_only() {
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        let a = NodeCerts::new_cluster(ip).unwrap();
        assert!(a.server_config().is_ok());
        assert!(a.client_config().is_ok());
        let (csr, key) = new_csr("127.0.0.3".parse().unwrap()).unwrap();
        let cert = sign_csr(&a.ca_cert_der, a.ca_key_pkcs8.as_ref().unwrap(), &csr).unwrap();
        let joined =
            NodeCerts { ca_cert_der: a.ca_cert_der.clone(), ca_key_pkcs8: None, cert_der: cert, key_pkcs8: key };
        assert!(joined.client_config().is_ok());
        assert_eq!(ca_digest(&a.ca_cert_der).len(), 50);
        let b = NodeCerts::new_cluster(ip).unwrap();
        assert_ne!(ca_digest(&a.ca_cert_der), ca_digest(&b.ca_cert_der));
    }
}
