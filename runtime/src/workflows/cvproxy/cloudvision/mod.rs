//! The host's CloudVision client: the REST pre-flight, the gRPC calls and
//! the deploy sequence pyavd 6.4.0 runs for cvproxy 1.6.4
//! (specs/cloudvision.md, sections 3–12, with Postern's departures of 14
//! and the product decisions of 15).
//!
//! Layout: `pure` holds the I/O-free pieces (reprs, JSON, versions,
//! topology/tag/container computations); `tls` and `connect` make
//! connections; `preflight` asks for the version; `client` and `call` are
//! the gRPC channel and pyavd's request handler; `api` builds the messages
//! of each call; `workflow` runs the sequence.

mod api;
mod call;
mod client;
mod connect;
mod errors;
mod preflight;
pub mod pure;
mod tls;
mod workflow;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::plan::{DeployPlan, DeployReport};
use tls::TlsConfigs;

/// How the client connects (configuration keys `cvproxy.tls.*`,
/// `cvproxy.preflight_timeout`, `cvproxy.connect_timeout`,
/// `cvproxy.retry_base_delay`; spec 17).
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// PEM file of CA certificates trusted in addition to the default roots.
    pub ca_file: Option<PathBuf>,
    /// No certificate or host-name verification (cvproxy's behaviour).
    pub insecure: bool,
    /// Connect + response of each REST pre-flight.
    pub preflight_timeout: Duration,
    /// TCP + TLS of the gRPC connection.
    pub connect_timeout: Duration,
    /// First backoff after UNAVAILABLE or a reset (then doubled each retry).
    pub retry_base_delay: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            ca_file: None,
            insecure: false,
            preflight_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(30),
            retry_base_delay: Duration::from_secs(1),
        }
    }
}

/// What every deployment shares.
pub(crate) struct Shared {
    settings: ClientSettings,
    tls: TlsConfigs,
    host_overrides: connect::HostOverrides,
}

/// The CloudVision client, built once at start-up; cheap to clone.
#[derive(Clone)]
pub struct CloudVision {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CloudVision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudVision")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl CloudVision {
    /// Load the trust roots now: an unreadable or empty CA file is a
    /// start-up error.
    pub fn new(settings: ClientSettings) -> anyhow::Result<Self> {
        let tls = TlsConfigs::new(settings.ca_file.as_deref(), settings.insecure)?;
        Ok(Self {
            shared: Arc::new(Shared {
                settings,
                tls,
                host_overrides: connect::HostOverrides::default(),
            }),
        })
    }

    /// Connect to `ip` whenever `cv_server`'s host is `host`, without DNS
    /// (like curl's `--resolve`). For tests of host-name behaviour, e.g. the
    /// CVaaS hints of spec 4.3 against a local fake.
    #[must_use]
    pub fn with_host_override(self, host: &str, ip: std::net::IpAddr) -> Self {
        Self {
            shared: Arc::new(Shared {
                settings: self.shared.settings.clone(),
                tls: self.shared.tls.clone(),
                host_overrides: self.shared.host_overrides.with(host, ip),
            }),
        }
    }

    /// Run one deployment to the end. Never panics: every failure becomes
    /// an error text of the report.
    pub async fn deploy(&self, plan: &DeployPlan) -> DeployReport {
        let workspace_id = pure::naming::new_workspace_id();
        let span = tracing::info_span!(
            "cvproxy_deploy",
            workspace_id = %workspace_id,
            cv_server = %plan.cv_server,
            devices = plan.devices.len(),
        );
        async {
            let report = workflow::run(&self.shared, plan, &workspace_id).await;
            if report.errors.is_empty() {
                tracing::info!(
                    outcome = report.workspace.as_str(),
                    change_control = ?report.change_control,
                    "cvproxy: deployment succeeded"
                );
            } else {
                tracing::info!(
                    outcome = report.workspace.as_str(),
                    errors = ?report.errors,
                    "cvproxy: deployment failed"
                );
            }
            report
        }
        .instrument(span)
        .await
    }
}
