//! `telnets://`: the listener speaks TLS with the configured certificate, and
//! the emulator pins its SHA-1 thumbprint as ESXi does with `#thumbprint=`.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha1::{Digest, Sha1};

use super::esxi::*;
use crate::support::TestServer;

#[derive(Debug)]
struct ThumbprintPin {
    thumbprint: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for ThumbprintPin {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = Sha1::digest(end_entity.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        if seen == self.thumbprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "thumbprint {seen} is not the pinned {}",
                self.thumbprint
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

async fn connect_pinned(server: &TestServer, thumbprint: &str) -> Result<Esxi, std::io::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ThumbprintPin {
            thumbprint: thumbprint.to_string(),
            provider,
        }))
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(server.vspc).await?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("postern.test").unwrap(), tcp)
        .await?;
    Ok(Esxi::over(Box::new(tls)))
}

#[tokio::test]
async fn telnets_serves_over_tls_with_the_logged_thumbprint() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["postern.test".to_string()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let server = TestServer::start(
        &format!(
            "tls_cert = {:?}\ntls_key = {:?}",
            cert.display().to_string(),
            key.display().to_string()
        ),
        "",
    )
    .await;
    server.write_vm("tls-vm", super::MINIMAL);
    let thumbprint = server
        .thumbprint
        .clone()
        .expect("TLS listener reports its thumbprint");

    let mut esxi = connect_pinned(&server, &thumbprint)
        .await
        .expect("TLS handshake with the pinned thumbprint");
    esxi.handshake("postern", "tls-vm").await;
    assert!(
        esxi.request("REQUEST_USERDATA")
            .await
            .starts_with(b"!!RESPONSE_USERDATA#")
    );

    let wrong = "00:".repeat(19) + "00";
    assert!(
        connect_pinned(&server, &wrong).await.is_err(),
        "a wrong thumbprint must fail the handshake"
    );
    // Plain telnet to a TLS listener gets nowhere: no telnet answer, closed.
    let mut plain = Esxi::connect(server.vspc).await;
    plain.send(&[0xFF, 0xFB, 0x25]).await;
    plain.expect_closed().await;
    assert!(!plain.take_pending().starts_with(&[0xFF, 0xFE, 0x25]));
}
