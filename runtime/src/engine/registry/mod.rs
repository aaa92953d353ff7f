//! The module registry: named modules, each with stored versions (sha256
//! digests, plus `builtin` for an embedded guest) and one active version,
//! persisted through a [`BlobStore`] with the compiled artifacts in the AOT
//! cache, so a restart activates the same versions without recompiling.
//!
//! A change is checked and compiled before anything moves; then the record
//! is persisted and the live guest swapped. Calls in flight keep the guest
//! they started with ([`Live`]).

mod record;
mod world;

pub use world::{Live, LoadFuture, ModuleWorld};

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use record::{ModuleRecord, VersionRecord};
use world::{ErasedWorld, Slot};

use super::{GuestEngine, LoadError, ModuleOptions, hex};
use crate::signing::{self, PublicKey, SignatureError};
use crate::store::BlobStore;

/// The version name of a module's embedded (or configured) source.
pub const BUILTIN: &str = "builtin";

/// Shortest digest prefix accepted as a version name.
const MIN_PREFIX: usize = 8;

/// Registry-wide rules (`[registry]` in the config).
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    pub max_upload_bytes: usize,
    /// When not empty, uploads must be signed by one of these keys.
    pub trusted_keys: Vec<PublicKey>,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        Self {
            max_upload_bytes: 32 << 20,
            trusted_keys: Vec::new(),
        }
    }
}

/// Why a registry operation was refused; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(
        "invalid module name `{0}`: use 1 to 64 lower-case letters, digits, `-` or `_`, starting with a letter"
    )]
    BadName(String),
    #[error("no module named `{0}`")]
    UnknownModule(String),
    #[error("module `{module}` has no version `{version}`")]
    UnknownVersion { module: String, version: String },
    #[error("module `{module}`: `{version}` matches several versions; give more digits")]
    AmbiguousVersion { module: String, version: String },
    #[error("the module is {size} bytes, over the upload limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("signature refused: {0}")]
    Signature(#[from] SignatureError),
    #[error("{0}")]
    Refused(#[from] LoadError),
    #[error("{0}")]
    Conflict(String),
    #[error("module `{0}` is new, and no world accepts new modules here")]
    NoWorldForNewModules(String),
    #[error("storage: {0}")]
    Storage(String),
}

/// One module as the admin API shows it.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub name: String,
    pub world: String,
    pub active: String,
    pub versions: Vec<VersionInfo>,
    /// Calls and failed calls of the active version in this process.
    pub calls: u64,
    pub errors: u64,
    /// Workflows whose policy chain uses the module.
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct VersionInfo {
    /// A digest, or `builtin`.
    pub version: String,
    pub digest: String,
    pub size: u64,
    pub compile_ms: Option<f64>,
    pub uploaded_at: Option<String>,
    pub signed_by: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct UploadOutcome {
    pub module: ModuleInfo,
    pub version: String,
    pub activated: bool,
    /// `None` when the artifact was already in the AOT cache.
    pub compile_ms: Option<f64>,
}

/// Which workflows use a module (set by the policy layer).
pub type UsageLookup = Arc<dyn Fn(&str) -> Vec<String> + Send + Sync>;

/// How the options (limits, settings) of a module are found (the config).
pub type OptionsLookup = Arc<dyn Fn(&str) -> ModuleOptions + Send + Sync>;

struct Entry {
    slot: Arc<dyn Slot>,
    record: ModuleRecord,
    builtin: Option<Arc<[u8]>>,
    /// Hashed once at open, not at every list or describe.
    builtin_digest: Option<String>,
}

impl Entry {
    fn resolve(&self, name: &str, version: &str) -> Result<String, RegistryError> {
        let unknown = || RegistryError::UnknownVersion {
            module: name.to_string(),
            version: version.to_string(),
        };
        if version == BUILTIN {
            return self
                .builtin
                .as_ref()
                .map(|_| BUILTIN.to_string())
                .ok_or_else(unknown);
        }
        if version.len() < MIN_PREFIX || !version.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(unknown());
        }
        let version = version.to_ascii_lowercase();
        let mut matches = self
            .record
            .versions
            .iter()
            .filter(|v| v.digest.starts_with(&version));
        match (matches.next(), matches.next()) {
            (Some(found), None) => Ok(found.digest.clone()),
            (Some(_), Some(_)) => Err(RegistryError::AmbiguousVersion {
                module: name.to_string(),
                version,
            }),
            (None, _) => Err(unknown()),
        }
    }
}

/// The registry of every module the server runs.
pub struct ModuleRegistry {
    engine: Arc<GuestEngine>,
    store: Arc<dyn BlobStore>,
    settings: RegistrySettings,
    options: OptionsLookup,
    /// One change at a time; requests never wait on this (they read [`Live`]).
    modules: tokio::sync::Mutex<BTreeMap<String, Entry>>,
    new_module_world: OnceLock<Arc<dyn ErasedWorld>>,
    /// Names that belong to a workflow's own module, even when that
    /// workflow is not served (an upload must not claim them for a policy).
    reserved: OnceLock<Vec<String>>,
    usage: OnceLock<UsageLookup>,
}

impl ModuleRegistry {
    pub fn new(
        engine: Arc<GuestEngine>,
        store: Arc<dyn BlobStore>,
        settings: RegistrySettings,
        options: OptionsLookup,
    ) -> Arc<Self> {
        Arc::new(Self {
            engine,
            store,
            settings,
            options,
            modules: tokio::sync::Mutex::new(BTreeMap::new()),
            new_module_world: OnceLock::new(),
            reserved: OnceLock::new(),
            usage: OnceLock::new(),
        })
    }

    pub fn settings(&self) -> &RegistrySettings {
        &self.settings
    }

    /// The world of modules uploaded under a name not seen before, except
    /// `reserved` names (the workflows' own modules).
    pub fn accept_new_modules<W: ModuleWorld>(&self, world: W, reserved: &[&str]) {
        let world: Arc<dyn ErasedWorld> = Arc::new(world);
        let _ = self.new_module_world.set(world);
        let _ = self
            .reserved
            .set(reserved.iter().map(|name| name.to_string()).collect());
    }

    /// Tells the registry who uses a module (refuses deleting it while used).
    pub fn set_usage_lookup(&self, usage: UsageLookup) {
        let _ = self.usage.set(usage);
    }

    /// Opens module `name` of `world` at start: its stored active version,
    /// else `builtin`. Returns the handle its users call through.
    pub async fn open<W: ModuleWorld>(
        &self,
        name: &str,
        world: W,
        builtin: Option<Arc<[u8]>>,
    ) -> Result<Live<W::Guest>, RegistryError> {
        let world: Arc<dyn ErasedWorld> = Arc::new(world);
        self.open_erased(name, world, builtin).await?;
        self.live::<W::Guest>(name)
            .await
            .ok_or_else(|| RegistryError::UnknownModule(name.to_string()))
    }

    /// Opens every stored module of `world` not opened yet (uploaded
    /// policies, at start).
    pub async fn open_stored<W: ModuleWorld + Clone>(
        &self,
        world: W,
    ) -> Result<Vec<String>, RegistryError> {
        let mut opened = Vec::new();
        for name in self.store.list("modules/").map_err(storage)? {
            if self.modules.lock().await.contains_key(&name) {
                continue;
            }
            match self.read_record(&name)? {
                Some(record) if record.world == world.contract().world => {
                    let erased: Arc<dyn ErasedWorld> = Arc::new(world.clone());
                    self.open_erased(&name, erased, None).await?;
                    opened.push(name);
                }
                _ => {}
            }
        }
        Ok(opened)
    }

    async fn open_erased(
        &self,
        name: &str,
        world: Arc<dyn ErasedWorld>,
        builtin: Option<Arc<[u8]>>,
    ) -> Result<(), RegistryError> {
        let contract = world.contract();
        let record = match self.read_record(name)? {
            Some(record) if record.world != contract.world => {
                return Err(RegistryError::Conflict(format!(
                    "module `{name}` is stored for world `{}`, but is opened as `{}`",
                    record.world, contract.world
                )));
            }
            Some(record) => record,
            None if builtin.is_some() => ModuleRecord::new(contract.world, BUILTIN),
            None => return Err(RegistryError::UnknownModule(name.to_string())),
        };
        let bytes = if record.active == BUILTIN {
            builtin.clone().ok_or_else(|| {
                RegistryError::Conflict(format!(
                    "module `{name}`: the stored record says `builtin` is active, but there is no built-in `{name}`"
                ))
            })?
        } else {
            self.read_version(name, &record.active)?
        };
        let loaded = world
            .load(&self.engine, name, bytes, (self.options)(name))
            .await
            .map_err(|e| {
                RegistryError::Conflict(format!(
                    "module `{name}`: its active version {} no longer loads ({e}); roll it back or remove modules/{name} from the data directory",
                    record.active
                ))
            })?;
        tracing::info!(module = name, world = contract.world, active = %record.active, "module opened");
        let slot = world.new_slot(loaded);
        self.modules.lock().await.insert(
            name.to_string(),
            Entry {
                slot,
                record,
                builtin_digest: builtin.as_ref().map(|b| hex(&Sha256::digest(b))),
                builtin,
            },
        );
        Ok(())
    }

    /// The live handle of module `name`, if it exists and its guest is `G`.
    pub async fn live<G: Send + Sync + 'static>(&self, name: &str) -> Option<Live<G>> {
        let modules = self.modules.lock().await;
        let entry = modules.get(name)?;
        entry.slot.live().downcast_ref::<Live<G>>().cloned()
    }

    /// The world of module `name`.
    pub async fn world_of(&self, name: &str) -> Option<&'static str> {
        let modules = self.modules.lock().await;
        modules.get(name).map(|e| e.slot.world().contract().world)
    }

    pub async fn list(&self) -> Vec<ModuleInfo> {
        let modules = self.modules.lock().await;
        modules
            .iter()
            .map(|(name, entry)| self.info(name, entry))
            .collect()
    }

    pub async fn describe(&self, name: &str) -> Result<ModuleInfo, RegistryError> {
        let modules = self.modules.lock().await;
        let entry = modules
            .get(name)
            .ok_or_else(|| RegistryError::UnknownModule(name.to_string()))?;
        Ok(self.info(name, entry))
    }

    /// Checks, compiles, stores and (with `activate`) swaps in `bytes` as a
    /// version of `name`. On any error nothing changed.
    pub async fn upload(
        &self,
        name: &str,
        bytes: Arc<[u8]>,
        signature: &str,
        activate: bool,
    ) -> Result<UploadOutcome, RegistryError> {
        check_name(name)?;
        if bytes.len() > self.settings.max_upload_bytes {
            return Err(RegistryError::TooLarge {
                size: bytes.len(),
                limit: self.settings.max_upload_bytes,
            });
        }
        let signed_by = signing::verify(&bytes, signature, &self.settings.trusted_keys)?;
        let digest = hex(&Sha256::digest(&bytes));
        let existing = {
            let modules = self.modules.lock().await;
            modules.get(name).map(|e| Arc::clone(e.slot.world()))
        };
        let world = match existing {
            Some(world) => world,
            None if self
                .reserved
                .get()
                .is_some_and(|names| names.iter().any(|n| n == name)) =>
            {
                return Err(RegistryError::Conflict(format!(
                    "`{name}` is the module of a workflow that is not served here"
                )));
            }
            None => self
                .new_module_world
                .get()
                .cloned()
                .ok_or_else(|| RegistryError::NoWorldForNewModules(name.to_string()))?,
        };
        // Compiled before the registry is locked: a large upload does not
        // hold up other changes, and requests never wait on it.
        let loaded = world
            .load(&self.engine, name, Arc::clone(&bytes), (self.options)(name))
            .await?;
        let compile_ms = loaded.compile_time.map(|d| d.as_secs_f64() * 1e3);

        let mut modules = self.modules.lock().await;
        if let Some(entry) = modules.get(name)
            && !Arc::ptr_eq(entry.slot.world(), &world)
        {
            return Err(RegistryError::Conflict(format!(
                "module `{name}` changed while the upload was compiled; upload again"
            )));
        }
        let version_key = format!("modules/{name}/{digest}.wasm");
        if self.store.read(&version_key).map_err(storage)?.is_none() {
            self.store.write(&version_key, &bytes).map_err(storage)?;
        }
        let mut record = match modules.get(name) {
            Some(entry) => entry.record.clone(),
            None => ModuleRecord::new(world.contract().world, &digest),
        };
        if record.version(&digest).is_none() {
            record.versions.push(VersionRecord {
                digest: digest.clone(),
                size: bytes.len() as u64,
                compile_ms,
                uploaded_at: now_rfc3339(),
                signed_by: signed_by.map(|k| k.to_string()),
            });
        }
        let activated = activate || !modules.contains_key(name);
        if activated {
            record.activate(&digest);
        }
        self.write_record(name, &record)?;
        match modules.get_mut(name) {
            Some(entry) => {
                entry.record = record;
                if activated {
                    entry.slot.install(loaded);
                }
            }
            None => {
                let slot = world.new_slot(loaded);
                modules.insert(
                    name.to_string(),
                    Entry {
                        slot,
                        record,
                        builtin: None,
                        builtin_digest: None,
                    },
                );
            }
        }
        tracing::info!(module = name, version = %digest, size = bytes.len(), activated, compile_ms, "module uploaded");
        let module = self.info(name, &modules[name]);
        Ok(UploadOutcome {
            module,
            version: digest,
            activated,
            compile_ms,
        })
    }

    /// Makes a stored version (a digest, a unique prefix, or `builtin`) active.
    pub async fn activate(&self, name: &str, version: &str) -> Result<ModuleInfo, RegistryError> {
        self.switch(name, |entry| entry.resolve(name, version), false)
            .await
    }

    /// Back to `version`, or without one to the version active before.
    pub async fn rollback(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<ModuleInfo, RegistryError> {
        match version {
            Some(version) => self.activate(name, version).await,
            None => {
                self.switch(
                    name,
                    |entry| {
                        entry
                            .record
                            .rollback_target(entry.builtin.is_some())
                            .ok_or_else(|| {
                                RegistryError::Conflict(format!(
                                    "module `{name}` has no earlier version to roll back to"
                                ))
                            })
                    },
                    true,
                )
                .await
            }
        }
    }

    async fn switch(
        &self,
        name: &str,
        target: impl FnOnce(&Entry) -> Result<String, RegistryError>,
        rolling_back: bool,
    ) -> Result<ModuleInfo, RegistryError> {
        let (version, world, bytes) = {
            let modules = self.modules.lock().await;
            let entry = modules
                .get(name)
                .ok_or_else(|| RegistryError::UnknownModule(name.to_string()))?;
            let version = target(entry)?;
            if version == entry.record.active {
                return Ok(self.info(name, entry));
            }
            let bytes = match (&entry.builtin, version.as_str()) {
                (Some(builtin), BUILTIN) => Arc::clone(builtin),
                _ => self.read_version(name, &version)?,
            };
            (version, Arc::clone(entry.slot.world()), bytes)
        };
        let loaded = world
            .load(&self.engine, name, bytes, (self.options)(name))
            .await?;
        let mut modules = self.modules.lock().await;
        let entry = modules
            .get_mut(name)
            .ok_or_else(|| RegistryError::UnknownModule(name.to_string()))?;
        if version != BUILTIN && entry.record.version(&version).is_none() {
            return Err(RegistryError::UnknownVersion {
                module: name.to_string(),
                version,
            });
        }
        let mut record = entry.record.clone();
        if rolling_back {
            record.roll_back_to(&version);
        } else {
            record.activate(&version);
        }
        self.write_record(name, &record)?;
        entry.record = record;
        entry.slot.install(loaded);
        tracing::info!(module = name, %version, rolling_back, "module version activated");
        Ok(self.info(name, entry))
    }

    /// Deletes a version that is not active; without a version, the whole
    /// module (only an uploaded one that no workflow uses).
    pub async fn delete(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<ModuleInfo>, RegistryError> {
        let mut modules = self.modules.lock().await;
        let entry = modules
            .get_mut(name)
            .ok_or_else(|| RegistryError::UnknownModule(name.to_string()))?;
        let Some(version) = version else {
            if entry.builtin.is_some() {
                return Err(RegistryError::Conflict(format!(
                    "`{name}` is a workflow's own module; delete its uploaded versions one by one"
                )));
            }
            let used_by = self.used_by(name);
            if !used_by.is_empty() {
                return Err(RegistryError::Conflict(format!(
                    "module `{name}` is in the policy chain of {}; take it out of the chain first",
                    used_by.join(", ")
                )));
            }
            self.store
                .remove(&format!("modules/{name}/module.json"))
                .map_err(storage)?;
            for version in &entry.record.versions {
                if let Err(e) = self
                    .store
                    .remove(&format!("modules/{name}/{}.wasm", version.digest))
                {
                    tracing::warn!(module = name, version = %version.digest, error = %e, "could not remove a deleted module's file");
                }
            }
            modules.remove(name);
            tracing::info!(module = name, "module deleted");
            return Ok(None);
        };
        let version = entry.resolve(name, version)?;
        if version == BUILTIN {
            return Err(RegistryError::Conflict(format!(
                "the built-in version of `{name}` cannot be deleted"
            )));
        }
        if version == entry.record.active {
            return Err(RegistryError::Conflict(format!(
                "version {version} of `{name}` is active; activate another version first"
            )));
        }
        let mut record = entry.record.clone();
        record.versions.retain(|v| v.digest != version);
        record.previous.retain(|v| *v != version);
        self.write_record(name, &record)?;
        entry.record = record;
        if let Err(e) = self.store.remove(&format!("modules/{name}/{version}.wasm")) {
            tracing::warn!(module = name, %version, error = %e, "could not remove a deleted version's file");
        }
        tracing::info!(module = name, %version, "module version deleted");
        Ok(Some(self.info(name, entry)))
    }

    fn used_by(&self, name: &str) -> Vec<String> {
        self.usage
            .get()
            .map(|usage| usage(name))
            .unwrap_or_default()
    }

    fn info(&self, name: &str, entry: &Entry) -> ModuleInfo {
        let record = &entry.record;
        let mut versions = Vec::new();
        if let Some(builtin) = &entry.builtin {
            versions.push(VersionInfo {
                version: BUILTIN.to_string(),
                digest: entry.builtin_digest.clone().unwrap_or_default(),
                size: builtin.len() as u64,
                compile_ms: None,
                uploaded_at: None,
                signed_by: None,
                active: record.active == BUILTIN,
            });
        }
        versions.extend(record.versions.iter().map(|v| VersionInfo {
            version: v.digest.clone(),
            digest: v.digest.clone(),
            size: v.size,
            compile_ms: v.compile_ms,
            uploaded_at: Some(v.uploaded_at.clone()),
            signed_by: v.signed_by.clone(),
            active: record.active == v.digest,
        }));
        let (calls, errors) = entry.slot.stats();
        ModuleInfo {
            name: name.to_string(),
            world: entry.slot.world().contract().world.to_string(),
            active: record.active.clone(),
            versions,
            calls,
            errors,
            used_by: self.used_by(name),
        }
    }

    fn read_record(&self, name: &str) -> Result<Option<ModuleRecord>, RegistryError> {
        let Some(bytes) = self
            .store
            .read(&format!("modules/{name}/module.json"))
            .map_err(storage)?
        else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| RegistryError::Storage(format!("modules/{name}/module.json: {e}")))
    }

    fn write_record(&self, name: &str, record: &ModuleRecord) -> Result<(), RegistryError> {
        let json = serde_json::to_vec_pretty(record).expect("a module record serializes");
        self.store
            .write(&format!("modules/{name}/module.json"), &json)
            .map_err(storage)
    }

    /// A stored version's bytes, checked against its digest (the file is on
    /// disk; what runs must be what was uploaded).
    fn read_version(&self, name: &str, digest: &str) -> Result<Arc<[u8]>, RegistryError> {
        let bytes = self
            .store
            .read(&format!("modules/{name}/{digest}.wasm"))
            .map_err(storage)?
            .ok_or_else(|| {
                RegistryError::Storage(format!("modules/{name}/{digest}.wasm is missing"))
            })?;
        if hex(&Sha256::digest(&bytes)) != digest {
            return Err(RegistryError::Storage(format!(
                "modules/{name}/{digest}.wasm does not match its digest"
            )));
        }
        Ok(bytes.into())
    }
}

fn check_name(name: &str) -> Result<(), RegistryError> {
    let valid = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(RegistryError::BadName(name.to_string()))
    }
}

fn storage(error: std::io::Error) -> RegistryError {
    RegistryError::Storage(error.to_string())
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
