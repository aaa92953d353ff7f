//! TLS client configuration (spec 15.1): verification on by default against
//! the platform trust store (Mozilla's roots when the platform has none),
//! an optional CA file trusted in addition, or no verification at all.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The two client configurations: ALPN `h2` for gRPC, `http/1.1` for the
/// REST pre-flight.
#[derive(Clone, Debug)]
pub(crate) struct TlsConfigs {
    pub grpc: Arc<ClientConfig>,
    pub rest: Arc<ClientConfig>,
}

impl TlsConfigs {
    /// Load the trust roots now: a bad CA file is a start-up error.
    pub(crate) fn new(ca_file: Option<&Path>, insecure: bool) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?;
        let base = if insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification {
                    algorithms: provider.signature_verification_algorithms,
                }))
                .with_no_client_auth()
        } else {
            builder
                .with_root_certificates(root_store(ca_file)?)
                .with_no_client_auth()
        };
        let with_alpn = |alpn: &[u8]| {
            let mut config = base.clone();
            config.alpn_protocols = vec![alpn.to_vec()];
            Arc::new(config)
        };
        Ok(Self {
            grpc: with_alpn(b"h2"),
            rest: with_alpn(b"http/1.1"),
        })
    }
}

/// Platform roots (Mozilla's when the platform yields none) plus the CA file.
fn root_store(ca_file: Option<&Path>) -> anyhow::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::debug!(%error, "cvproxy: while loading the platform trust store");
    }
    let (added, _) = store.add_parsable_certificates(native.certs);
    if added == 0 {
        tracing::info!("cvproxy: no platform trust store; using the bundled Mozilla roots");
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("reading the CloudVision CA file {}", path.display()))?;
        let mut count = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.with_context(|| format!("parsing the CA file {}", path.display()))?;
            store
                .add(cert)
                .with_context(|| format!("adding a CA certificate from {}", path.display()))?;
            count += 1;
        }
        if count == 0 {
            bail!("the CA file {} holds no PEM certificate", path.display());
        }
    }
    Ok(store)
}

/// `insecure`: accept any certificate and host name, but still check that
/// the handshake is signed by the certificate's key.
#[derive(Debug)]
struct NoVerification {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for NoVerification {
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
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
