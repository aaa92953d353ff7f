//! `[spiro]` in the configuration (specs/spiro.md 15).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::bundle::BundleLimits;
use super::guest::Limits as GuestLimits;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpiroConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// PEM certificate chain and key: both set → HTTPS, neither → plain
    /// HTTP. A missing file refuses the start (spec 14), never a downgrade.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Default `<data_dir>/spiro/deployments`: `<project>/<deployment>/`.
    pub deploy_root: Option<PathBuf>,
    /// Default `<data_dir>/spiro/staging`: uploads being spooled, trees
    /// being extracted and retired trees; same filesystem as `deploy_root`.
    pub staging_root: Option<PathBuf>,
    /// Default `<data_dir>/spiro/macaroon-key`.
    pub key_file: Option<PathBuf>,
    /// Default `<data_dir>/spiro/revoked-identifiers`.
    pub revoked_file: Option<PathBuf>,
    /// The topfile a deployment's `spirotop.sls` is rendered into.
    #[serde(default = "default_state_top")]
    pub state_top: String,
    #[serde(default)]
    pub limits: SpiroLimits,
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// The longest a client may pause while sending its body (the real
    /// client has no timeouts; a stalled upload must not hold a task).
    #[serde(
        default = "default_body_idle_timeout",
        with = "crate::config::duration"
    )]
    pub body_idle_timeout: Duration,
}

/// `[spiro.limits]` (spec 13.1).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpiroLimits {
    #[serde(default = "default_max_members")]
    pub max_members: u64,
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    #[serde(default = "default_max_total_bytes")]
    pub max_total_bytes: u64,
    #[serde(default = "default_max_path_bytes")]
    pub max_path_bytes: u32,
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
}

impl Default for SpiroLimits {
    fn default() -> Self {
        Self {
            max_members: default_max_members(),
            max_file_bytes: default_max_file_bytes(),
            max_total_bytes: default_max_total_bytes(),
            max_path_bytes: default_max_path_bytes(),
            max_body_bytes: default_max_body_bytes(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 4510))
}
fn default_state_top() -> String {
    "top.sls".into()
}
fn default_max_connections() -> usize {
    256
}
fn default_body_idle_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_max_members() -> u64 {
    100_000
}
fn default_max_file_bytes() -> u64 {
    1 << 30
}
fn default_max_total_bytes() -> u64 {
    2 << 30
}
fn default_max_path_bytes() -> u32 {
    1024
}
fn default_max_body_bytes() -> u64 {
    1 << 30
}

/// Where the workflow keeps its files, resolved against the data directory.
#[derive(Debug, Clone)]
pub struct SpiroPaths {
    pub deploy_root: PathBuf,
    pub staging_root: PathBuf,
    pub key_file: PathBuf,
    pub revoked_file: PathBuf,
}

impl SpiroPaths {
    /// The defaults of spec 15 under `data_dir`.
    pub fn defaults(data_dir: &Path) -> Self {
        let spiro = data_dir.join("spiro");
        Self {
            deploy_root: spiro.join("deployments"),
            staging_root: spiro.join("staging"),
            key_file: spiro.join("macaroon-key"),
            revoked_file: spiro.join("revoked-identifiers"),
        }
    }
}

impl SpiroLimits {
    /// The limits the tar scan and extraction enforce.
    pub fn bundle(&self) -> BundleLimits {
        BundleLimits {
            max_members: self.max_members,
            max_file_bytes: self.max_file_bytes,
            max_total_bytes: self.max_total_bytes,
            max_path_bytes: self.max_path_bytes as usize,
        }
    }

    /// The same limits as the guest's bundle policy is told them.
    pub fn guest(&self) -> GuestLimits {
        GuestLimits {
            max_members: self.max_members,
            max_file_bytes: self.max_file_bytes,
            max_total_bytes: self.max_total_bytes,
            max_path_bytes: self.max_path_bytes,
        }
    }
}

impl SpiroConfig {
    pub fn validate(&self) -> Result<(), String> {
        let top = &self.state_top;
        if top.is_empty() || top == "." || top == ".." || top.contains('/') || top.contains('\0') {
            return Err(format!(
                "spiro.state_top = {top:?} must be a plain file name"
            ));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("spiro.tls_cert and spiro.tls_key must be set together".into());
        }
        if self.max_connections == 0 {
            return Err("spiro.max_connections must be at least 1".into());
        }
        let limits = &self.limits;
        for (name, value) in [
            ("max_members", limits.max_members),
            ("max_file_bytes", limits.max_file_bytes),
            ("max_total_bytes", limits.max_total_bytes),
            ("max_path_bytes", u64::from(limits.max_path_bytes)),
            ("max_body_bytes", limits.max_body_bytes),
        ] {
            if value == 0 {
                return Err(format!("spiro.limits.{name} must be at least 1"));
            }
        }
        Ok(())
    }

    pub fn paths(&self, data_dir: &Path) -> SpiroPaths {
        let defaults = SpiroPaths::defaults(data_dir);
        SpiroPaths {
            deploy_root: self.deploy_root.clone().unwrap_or(defaults.deploy_root),
            staging_root: self.staging_root.clone().unwrap_or(defaults.staging_root),
            key_file: self.key_file.clone().unwrap_or(defaults.key_file),
            revoked_file: self.revoked_file.clone().unwrap_or(defaults.revoked_file),
        }
    }
}
