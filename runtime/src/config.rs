//! Postern's TOML configuration and the embedded default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::engine::registry::RegistrySettings;
use crate::engine::{EngineSettings, GuestLimits, ModuleOptions};
use crate::policy::ChainSpec;
use crate::signing::PublicKey;
use crate::workflows::cvproxy::CvproxyConfig;
use crate::workflows::spiro::SpiroConfig;
use crate::workflows::vspc::VspcConfig;

/// The configuration `postern serve` uses when given none.
pub const EMBEDDED_DEFAULT: &str = include_str!("default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where Postern keeps its state (AOT cache, workflow data).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub admin: AdminConfig,
    #[serde(default)]
    pub engine: EngineConfig,
    /// Per-module overrides: limits, settings, or a component file
    /// replacing a built-in.
    #[serde(default)]
    pub modules: BTreeMap<String, ModuleConfig>,
    /// The live module registry: upload limit, trusted signing keys.
    #[serde(default)]
    pub registry: RegistryConfig,
    /// Per workflow, its ordered policy chain:
    /// `cvproxy = [{ module = "forbid-line", mode = "protect" }]`.
    #[serde(default)]
    pub policies: BTreeMap<String, Vec<ChainSpec>>,
    /// The vSPC telnet workflow; absent = not served.
    pub vspc: Option<VspcConfig>,
    /// The cvproxy HTTP → CloudVision workflow; absent = not served.
    pub cvproxy: Option<CvproxyConfig>,
    /// The SpiroFS deploy server; absent = not served.
    pub spiro: Option<SpiroConfig>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./postern-data")
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    #[serde(default = "default_admin_listen")]
    pub listen: SocketAddr,
    /// The admin API's bearer token; without one, a token is generated at
    /// first start into `<data_dir>/admin.token` (mode 0600).
    pub token: Option<String>,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: default_admin_listen(),
            token: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// Largest module upload accepted.
    pub max_upload_mib: usize,
    /// `ed25519:<base64>` public keys; when any is listed, uploads must be
    /// signed by one of them.
    pub trusted_keys: Vec<String>,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            max_upload_mib: RegistrySettings::default().max_upload_bytes >> 20,
            trusted_keys: Vec::new(),
        }
    }
}

fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9090))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    pub pooling: bool,
    /// Where compiled artifacts are cached; default `<data_dir>/aot`.
    pub cache_dir: Option<PathBuf>,
    pub max_concurrent_instances: u32,
    pub max_memory_mib: usize,
    pub fuel: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        let settings = EngineSettings::default();
        Self {
            pooling: settings.pooling,
            cache_dir: None,
            max_concurrent_instances: settings.max_concurrent_instances,
            max_memory_mib: settings.max_memory_bytes >> 20,
            fuel: settings.fuel,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleConfig {
    /// A component file to use instead of the built-in guest of that name.
    pub path: Option<PathBuf>,
    #[serde(default, with = "duration_opt")]
    pub deadline: Option<Duration>,
    pub memory_mib: Option<usize>,
    pub fuel: Option<u64>,
    /// Key/value settings the module reads through its `settings` import.
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// A configuration problem, reported by `postern check` and at start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    pub fn embedded_default() -> Self {
        Self::parse(EMBEDDED_DEFAULT, "embedded default")
            .expect("the embedded default configuration is valid")
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (name, module) in &self.modules {
            if let Some(mib) = module.memory_mib
                && mib > self.engine.max_memory_mib
            {
                return Err(ConfigError::Invalid(format!(
                    "modules.{name}.memory_mib = {mib} exceeds engine.max_memory_mib = {}",
                    self.engine.max_memory_mib
                )));
            }
            if module.fuel.is_some() && !self.engine.fuel {
                return Err(ConfigError::Invalid(format!(
                    "modules.{name}.fuel needs engine.fuel = true"
                )));
            }
        }
        self.registry_settings()?;
        if let Some(token) = &self.admin.token
            && token.trim().len() < 16
        {
            return Err(ConfigError::Invalid(
                "admin.token must be at least 16 characters".into(),
            ));
        }
        for workflow in self.policies.keys() {
            if !self.serves(workflow) {
                return Err(ConfigError::Invalid(format!(
                    "policies.{workflow}: no workflow `{workflow}` is configured"
                )));
            }
        }
        if let Some(spiro) = &self.spiro {
            spiro.validate().map_err(ConfigError::Invalid)?;
        }
        if let Some(vspc) = &self.vspc {
            vspc.validate().map_err(ConfigError::Invalid)?;
        }
        if let Some(cvproxy) = &self.cvproxy {
            cvproxy.validate().map_err(ConfigError::Invalid)?;
        }
        Ok(())
    }

    /// Whether workflow `name` is configured (served).
    pub fn serves(&self, name: &str) -> bool {
        match name {
            "vspc" => self.vspc.is_some(),
            "cvproxy" => self.cvproxy.is_some(),
            _ => false,
        }
    }

    pub fn registry_settings(&self) -> Result<RegistrySettings, ConfigError> {
        let trusted_keys = self
            .registry
            .trusted_keys
            .iter()
            .map(|key| {
                PublicKey::parse(key)
                    .map_err(|e| ConfigError::Invalid(format!("registry.trusted_keys: {e}")))
            })
            .collect::<Result<_, _>>()?;
        if self.registry.max_upload_mib == 0 {
            return Err(ConfigError::Invalid(
                "registry.max_upload_mib must be at least 1".into(),
            ));
        }
        Ok(RegistrySettings {
            max_upload_bytes: self.registry.max_upload_mib << 20,
            trusted_keys,
        })
    }

    /// The limits and settings of module `name`.
    pub fn module_options(&self, name: &str) -> ModuleOptions {
        ModuleOptions {
            limits: self.module_limits(name),
            settings: std::sync::Arc::new(
                self.modules
                    .get(name)
                    .map(|m| m.settings.clone())
                    .unwrap_or_default(),
            ),
        }
    }

    pub fn aot_cache_dir(&self) -> PathBuf {
        self.engine
            .cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("aot"))
    }

    pub fn engine_settings(&self) -> EngineSettings {
        EngineSettings {
            pooling: self.engine.pooling,
            max_concurrent_instances: self.engine.max_concurrent_instances,
            max_memory_bytes: self.engine.max_memory_mib << 20,
            fuel: self.engine.fuel,
        }
    }

    /// The limits of module `name`: defaults overridden by `[modules.<name>]`.
    pub fn module_limits(&self, name: &str) -> GuestLimits {
        let mut limits = GuestLimits::default();
        if let Some(module) = self.modules.get(name) {
            if let Some(deadline) = module.deadline {
                limits.deadline = deadline;
            }
            if let Some(mib) = module.memory_mib {
                limits.memory_bytes = mib << 20;
            }
            limits.fuel = module.fuel;
        }
        limits
    }
}

/// Durations are written as `"30s"`, `"500ms"`, `"5m"` or a number of seconds.
pub mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Seconds(u64),
        Text(String),
    }

    pub fn parse(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let value: u64 = number
            .parse()
            .map_err(|_| format!("invalid duration `{text}`"))?;
        match unit.trim() {
            "ms" => Ok(Duration::from_millis(value)),
            "s" | "" => Ok(Duration::from_secs(value)),
            "m" => Ok(Duration::from_secs(value * 60)),
            _ => Err(format!("invalid duration `{text}` (use ms, s or m)")),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        match Raw::deserialize(d)? {
            Raw::Seconds(s) => Ok(Duration::from_secs(s)),
            Raw::Text(t) => parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

mod duration_opt {
    use std::time::Duration;

    use serde::Deserializer;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        super::duration::deserialize(d).map(Some)
    }
}
