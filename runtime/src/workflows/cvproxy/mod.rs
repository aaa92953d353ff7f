//! The `cvproxy` workflow: HTTP JSON posts deployed to Arista CloudVision
//! over gRPC; replaces cvproxy 1.6.4 (specs/cloudvision.md).
//!
//! The host serves `POST /` ([`front_door`]), asks the `cvproxy` guest to
//! validate the body into a [`DeployPlan`] ([`guest`]), runs the deploy
//! sequence against CloudVision ([`cloudvision`]) and writes cvproxy's JSON
//! reply ([`reply`]).

pub mod cloudvision;
mod front_door;
pub mod guest;
mod metrics;
pub mod plan;
pub mod policy_subject;
pub mod proto;
pub mod reply;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::engine::registry::Live;
use crate::listeners::http::{HttpServe, PathMatch, Route, Router};
use crate::metrics::Metrics;
use crate::policy::PolicyChain;
use crate::shutdown::Shutdown;
use cloudvision::{ClientSettings, CloudVision};
use metrics::CvproxyMetrics;

pub use guest::{CvproxyGuest, CvproxyWorld, MODULE_NAME, WORLD};
pub use plan::{DeployPlan, DeployReport, DeviceSpec, WorkspaceOutcome};

/// `[cvproxy]` in the configuration (spec 17).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvproxyConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Log the `X-Forwarded-For` address as the client (cvproxy's `-xff`).
    #[serde(default)]
    pub xff: bool,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// How long a client may take to send the body it announced.
    #[serde(default = "default_body_timeout", with = "crate::config::duration")]
    pub body_timeout: Duration,
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    #[serde(default)]
    pub tls: CvproxyTls,
    #[serde(
        default = "default_preflight_timeout",
        with = "crate::config::duration"
    )]
    pub preflight_timeout: Duration,
    #[serde(default = "default_connect_timeout", with = "crate::config::duration")]
    pub connect_timeout: Duration,
    /// The first UNAVAILABLE / stream-reset backoff (then doubled).
    #[serde(default = "default_retry_base_delay", with = "crate::config::duration")]
    pub retry_base_delay: Duration,
}

/// `[cvproxy.tls]`: how Postern trusts CloudVision (spec 15.1).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CvproxyTls {
    /// PEM CA certificates trusted in addition to the default roots.
    pub ca_file: Option<PathBuf>,
    /// No certificate or host-name verification (cvproxy's behaviour).
    #[serde(default)]
    pub insecure: bool,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_max_body_bytes() -> u64 {
    64 << 20
}
fn default_body_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_max_connections() -> usize {
    1024
}
fn default_preflight_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_retry_base_delay() -> Duration {
    Duration::from_secs(1)
}

impl CvproxyConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_body_bytes == 0 {
            return Err("cvproxy.max_body_bytes must be at least 1".into());
        }
        if self.max_connections == 0 {
            return Err("cvproxy.max_connections must be at least 1".into());
        }
        Ok(())
    }

    fn client_settings(&self) -> ClientSettings {
        ClientSettings {
            ca_file: self.tls.ca_file.clone(),
            insecure: self.tls.insecure,
            preflight_timeout: self.preflight_timeout,
            connect_timeout: self.connect_timeout,
            retry_base_delay: self.retry_base_delay,
        }
    }
}

/// The running workflow's shared state.
pub struct Cvproxy {
    config: CvproxyConfig,
    guest: Live<CvproxyGuest>,
    policies: Arc<PolicyChain>,
    cloudvision: CloudVision,
    metrics: CvproxyMetrics,
    shutdown: Shutdown,
}

/// Binds the listener and starts serving with the registry's live guest
/// and the workflow's policy chain.
pub async fn start(
    config: &CvproxyConfig,
    guest: Live<CvproxyGuest>,
    policies: Arc<PolicyChain>,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> anyhow::Result<SocketAddr> {
    let cloudvision = CloudVision::new(config.client_settings())
        .map_err(|e| anyhow::anyhow!("cvproxy: {e:#}"))?;
    if config.tls.insecure {
        tracing::warn!(
            "cvproxy: tls.insecure is set: CloudVision certificates and host names are NOT verified"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cvproxy: binding {}: {e}", config.listen))?;
    let local_addr = listener.local_addr()?;
    tracing::info!(
        listen = %local_addr,
        module_digest = %guest.current().module().digest,
        "cvproxy: listening (POST /)"
    );
    let cvproxy = Arc::new(Cvproxy {
        config: config.clone(),
        guest,
        policies,
        cloudvision,
        metrics: CvproxyMetrics::new(metrics),
        shutdown: shutdown.clone(),
    });
    let router = Router::new().route(Route {
        method: None,
        path: PathMatch::Any,
        max_body_bytes: config.max_body_bytes,
        handler: front_door::handler(cvproxy),
    });
    shutdown.spawn(
        HttpServe {
            name: "cvproxy",
            listener,
            tls: None,
            max_connections: config.max_connections,
            router,
        }
        .run(shutdown.clone()),
    );
    Ok(local_addr)
}
