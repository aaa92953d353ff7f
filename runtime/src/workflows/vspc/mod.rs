//! The `vspc` workflow: cloud-init NoCloud data for VMware VMs over their
//! serial ports, as a VMware virtual serial port concentrator (telnet with
//! VMware's extension). Replaces vmw-cloudinit-metadata; see specs/vspc.md.
//!
//! The host speaks telnet and the extension, tracks identity and vMotion,
//! frames packets and reads the VM's file; the `vspc` guest validates the
//! file and renders the answer.

mod driver;
mod guest;
mod metrics;
mod packet;
pub mod policy_subject;
mod session;
mod vmotion;
pub mod vmware;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Deserialize;

pub use packet::RequestCode;

use crate::engine::registry::Live;
use crate::listeners::tcp::{Handler, TcpServe};
use crate::metrics::Metrics;
use crate::policy::PolicyChain;
use crate::shutdown::Shutdown;
use driver::FileDriver;
use metrics::VspcMetrics;
use vmotion::VmotionRegistry;

pub use guest::{GuestAnswer, MODULE_NAME, VmIdentity, VspcGuest, VspcWorld, WORLD};

/// `[vspc]` in the configuration (spec 14).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VspcConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// The serviceURI accepted in DO-PROXY (exact bytes).
    #[serde(default = "default_uri")]
    pub uri: String,
    /// Accepted DO-PROXY directions: `C` (VM is the client), `S`.
    #[serde(default = "default_directions", deserialize_with = "directions")]
    pub proxy_directions: Vec<u8>,
    /// VM files `<name>.yaml`; default `<data_dir>/vspc`.
    pub directory: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    #[serde(default = "default_identify_timeout", with = "crate::config::duration")]
    pub identify_timeout: Duration,
    #[serde(default = "default_vmotion_timeout", with = "crate::config::duration")]
    pub vmotion_timeout: Duration,
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

/// The line bound is fixed by product decision; it may only be lowered.
pub const MAX_LINE_BYTES: usize = 65536;

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 13370))
}
fn default_uri() -> String {
    "postern".to_string()
}
fn default_directions() -> Vec<u8> {
    vec![b'C']
}
fn default_max_file_bytes() -> u64 {
    1 << 20
}
fn default_max_line_bytes() -> usize {
    MAX_LINE_BYTES
}
fn default_identify_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_vmotion_timeout() -> Duration {
    Duration::from_secs(300)
}
fn default_max_connections() -> usize {
    20_000
}

fn directions<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    list.iter()
        .map(|s| match s.as_str() {
            "C" => Ok(b'C'),
            "S" => Ok(b'S'),
            other => Err(serde::de::Error::custom(format!(
                "proxy direction `{other}` is neither \"C\" nor \"S\""
            ))),
        })
        .collect()
}

impl VspcConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("vspc: tls_cert and tls_key must be set together".into());
        }
        if self.max_line_bytes == 0 || self.max_line_bytes > MAX_LINE_BYTES {
            return Err(format!(
                "vspc.max_line_bytes must be between 1 and {MAX_LINE_BYTES}"
            ));
        }
        Ok(())
    }

    pub fn directory(&self, data_dir: &Path) -> PathBuf {
        self.directory
            .clone()
            .unwrap_or_else(|| data_dir.join("vspc"))
    }
}

/// The running workflow's shared state.
pub struct Vspc {
    config: VspcConfig,
    driver: FileDriver,
    guest: Live<VspcGuest>,
    policies: Arc<PolicyChain>,
    vmotions: VmotionRegistry,
    metrics: VspcMetrics,
    connection_ids: AtomicU64,
}

impl Vspc {
    fn next_connection_id(&self) -> u64 {
        self.connection_ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// A started vSPC listener.
pub struct Started {
    pub local_addr: SocketAddr,
    pub tls_thumbprint: Option<String>,
}

/// Binds the listener and starts accepting, with the registry's live guest
/// and the workflow's policy chain.
pub async fn start(
    config: &VspcConfig,
    data_dir: &Path,
    guest: Live<VspcGuest>,
    policies: Arc<PolicyChain>,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> anyhow::Result<Started> {
    let directory = config.directory(data_dir);
    std::fs::create_dir_all(&directory).map_err(|e| {
        anyhow::anyhow!(
            "vspc: creating the VM file directory {}: {e}",
            directory.display()
        )
    })?;
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(crate::listeners::tls::load_identity(cert, key)?),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("vspc: binding {}: {e}", config.listen))?;
    let local_addr = listener.local_addr()?;
    let tls_thumbprint = tls.as_ref().map(|t| t.thumbprint_sha1.clone());
    tracing::info!(
        listen = %local_addr,
        tls = tls.is_some(),
        uri = %config.uri,
        directory = %directory.display(),
        module_digest = %guest.current().module().digest,
        "vspc: listening"
    );
    if let Some(thumbprint) = &tls_thumbprint {
        tracing::info!(%thumbprint, "vspc: TLS certificate SHA-1 thumbprint (for telnets://…#thumbprint=)");
    }
    let vspc = Arc::new(Vspc {
        config: config.clone(),
        driver: FileDriver::new(directory, config.max_file_bytes),
        guest,
        policies,
        vmotions: VmotionRegistry::new(config.vmotion_timeout),
        metrics: VspcMetrics::new(metrics),
        connection_ids: AtomicU64::new(1),
    });
    let handler: Handler = Arc::new(move |accepted, shutdown| {
        Box::pin(session::serve(Arc::clone(&vspc), accepted, shutdown))
    });
    let serve = TcpServe {
        protocol: "vspc",
        listener,
        tls: tls.map(|t| t.acceptor),
        handshake_timeout: config.identify_timeout,
        max_connections: config.max_connections,
        handler,
    };
    shutdown.spawn(serve.run(shutdown.clone()));
    Ok(Started {
        local_addr,
        tls_thumbprint,
    })
}
