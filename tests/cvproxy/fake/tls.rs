//! Certificates made at test time with rcgen: a CA and a server certificate
//! it signed for `localhost` and `127.0.0.1`, or a self-signed server
//! certificate; and the TLS configurations of the server and of a client
//! that trusts it.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// How the fake's server certificate is issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Signed by a CA generated for the test; the CA's PEM is written to a
    /// file for `cvproxy.tls.ca_file`.
    CaSigned,
    /// Self-signed, no CA: verification fails unless it is turned off.
    SelfSigned,
}

pub(super) struct Certificates {
    /// PEM of the CA (CaSigned only).
    pub ca_pem: Option<String>,
    ca_der: Option<CertificateDer<'static>>,
    /// PEM of the server certificate.
    pub server_pem: String,
    pub server_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

pub(super) fn generate(mode: TlsMode) -> Certificates {
    let key = KeyPair::generate().expect("generate the server key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .expect("server certificate parameters");
    params
        .distinguished_name
        .push(DnType::CommonName, "fake CloudVision");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let (ca, server) = match mode {
        TlsMode::CaSigned => {
            let mut ca_params =
                CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
            ca_params
                .distinguished_name
                .push(DnType::CommonName, "Postern test CA");
            ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            ca_params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            let ca_key = KeyPair::generate().expect("generate the CA key");
            let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("self-sign the CA");
            let server = params
                .signed_by(&key, &ca)
                .expect("sign the server certificate");
            (Some((ca.pem(), ca.der().clone())), server)
        }
        TlsMode::SelfSigned => (None, params.self_signed(&key).expect("self-sign")),
    };
    let (ca_pem, ca_der) = ca.unzip();
    Certificates {
        ca_pem,
        ca_der,
        server_pem: server.pem(),
        server_der: server.der().clone(),
        key_der: key.serialize_der(),
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Offers ALPN `h2` and `http/1.1`, like CloudVision on 443.
pub(super) fn server_config(certs: &Certificates) -> Arc<rustls::ServerConfig> {
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certs.key_der.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![certs.server_der.clone()], key)
        .expect("server certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A client that trusts the CA (or, self-signed, the certificate itself),
/// offering the given ALPN protocols.
pub(super) fn client_config(certs: &Certificates, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    let anchor = certs
        .ca_der
        .clone()
        .unwrap_or_else(|| certs.server_der.clone());
    roots.add(anchor).expect("trust anchor");
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}
