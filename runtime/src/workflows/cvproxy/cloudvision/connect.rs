//! TCP + TLS to CloudVision under one timeout, with the failure reasons
//! of spec 3 (`connection refused`, `name resolution failed`, `timed out`,
//! `TLS handshake failed: <detail>`, `connection reset`, or the I/O text).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::pure::server::CvServer;

/// Why a connection could not be made. Its text is the D1 reason.
#[derive(Clone, Debug, thiserror::Error)]
#[error("Failed to connect to {authority}: {reason}")]
pub(crate) struct ConnectFailure {
    pub authority: String,
    pub reason: String,
}

/// Host names answered without DNS (like curl's `--resolve`; for tests).
#[derive(Clone, Debug, Default)]
pub(crate) struct HostOverrides(Arc<Vec<(String, IpAddr)>>);

impl HostOverrides {
    pub(crate) fn with(&self, host: &str, ip: IpAddr) -> Self {
        let mut entries: Vec<(String, IpAddr)> = self
            .0
            .iter()
            .filter(|(h, _)| !h.eq_ignore_ascii_case(host))
            .cloned()
            .collect();
        entries.push((host.to_owned(), ip));
        Self(Arc::new(entries))
    }

    fn lookup(&self, host: &str) -> Option<IpAddr> {
        self.0
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map(|(_, ip)| *ip)
    }
}

/// Connect and complete the TLS handshake within `timeout`.
pub(crate) async fn connect_tls(
    server: &CvServer,
    config: Arc<ClientConfig>,
    timeout: Duration,
    overrides: &HostOverrides,
) -> Result<TlsStream<TcpStream>, ConnectFailure> {
    let fail = |reason: String| ConnectFailure {
        authority: server.authority(),
        reason,
    };
    match tokio::time::timeout(timeout, connect(server, config, overrides)).await {
        Ok(result) => result.map_err(fail),
        Err(_) => Err(fail("timed out".to_owned())),
    }
}

async fn connect(
    server: &CvServer,
    config: Arc<ClientConfig>,
    overrides: &HostOverrides,
) -> Result<TlsStream<TcpStream>, String> {
    let server_name = ServerName::try_from(server.host.clone())
        .map_err(|_| "TLS handshake failed: invalid server name".to_owned())?;
    let addrs: Vec<SocketAddr> = match overrides.lookup(&server.host) {
        Some(ip) => vec![SocketAddr::new(ip, server.port)],
        None => tokio::net::lookup_host((server.host.as_str(), server.port))
            .await
            .map_err(|_| "name resolution failed".to_owned())?
            .collect(),
    };
    if addrs.is_empty() {
        return Err("name resolution failed".to_owned());
    }
    let mut last_error = None;
    let mut tcp = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let tcp = match (tcp, last_error) {
        (Some(tcp), _) => tcp,
        (None, Some(e)) => return Err(io_reason(&e)),
        (None, None) => return Err("name resolution failed".to_owned()),
    };
    let _ = tcp.set_nodelay(true);
    TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(|e| tls_reason(&e))
}

/// The reason text for an I/O error.
pub(crate) fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::TimedOut => "timed out".to_owned(),
        _ => e.to_string(),
    }
}

fn tls_reason(e: &io::Error) -> String {
    if let Some(tls) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return format!("TLS handshake failed: {tls}");
    }
    match e.kind() {
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::TimedOut => "timed out".to_owned(),
        _ => format!("TLS handshake failed: {e}"),
    }
}
