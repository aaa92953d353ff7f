//! TLS for listeners that offer it (rustls, certificate and key from PEM files).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha1::{Digest, Sha1};
use tokio_rustls::TlsAcceptor;

/// A TLS acceptor and the SHA-1 thumbprint of its leaf certificate (what
/// VMware's `telnets://…#thumbprint=` and similar pinning clients want).
pub struct TlsIdentity {
    pub acceptor: TlsAcceptor,
    pub thumbprint_sha1: String,
}

pub fn load_identity(cert_path: &Path, key_path: &Path) -> anyhow::Result<TlsIdentity> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| anyhow::anyhow!("reading certificate {}: {e}", cert_path.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| anyhow::anyhow!("parsing certificate {}: {e}", cert_path.display()))?;
    let leaf = certs
        .first()
        .ok_or_else(|| anyhow::anyhow!("{}: no certificate found", cert_path.display()))?;
    let thumbprint_sha1 = Sha1::digest(leaf.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let key = PrivateKeyDer::from_pem_file(key_path)
        .map_err(|e| anyhow::anyhow!("reading private key {}: {e}", key_path.display()))?;
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| anyhow::anyhow!("TLS protocol versions: {e}"))?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| anyhow::anyhow!("TLS certificate/key pair: {e}"))?;
    Ok(TlsIdentity {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        thumbprint_sha1,
    })
}
