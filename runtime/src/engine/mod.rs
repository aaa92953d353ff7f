//! The WebAssembly engine: one wasmtime `Engine` for the process, the linker
//! every guest is instantiated against, the AOT cache, and the per-call
//! sandbox (fresh store, limits, error classification).
//!
//! Nothing here knows any workflow: a workflow describes its world with a
//! [`WorldContract`], loads its component with [`GuestEngine::load`], and runs
//! each call through [`GuestEngine::call`].

mod cache;
mod call;
mod contract;
mod guest_log;
mod guest_settings;
mod limits;
pub mod registry;
mod state;
mod ticker;
mod typed_guest;

pub use cache::AotCache;
pub use call::GuestError;
pub use contract::WorldContract;
pub use guest_log::bindings as log_bindings;
pub use guest_settings::bindings as settings_bindings;
pub use limits::{GuestLimits, ModuleOptions, ModuleSettings};
pub use state::GuestState;
pub use typed_guest::{TypedGuest, TypedPre, TypedWorld};

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{InstancePre, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::metrics::{CallRecorder, EngineMetrics};

/// How often the epoch advances. Deadlines are counted in these ticks, and a
/// running guest yields to the async runtime at every tick so that one busy
/// guest cannot starve the connections sharing its worker thread.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Linear memory per pooled slot reset in place rather than decommitted.
const KEEP_RESIDENT_BYTES: usize = 256 << 10;
/// Slots whose memory is returned to the OS together, in one batch.
const DECOMMIT_BATCH: usize = 32;

/// Engine-wide settings (`[engine]` in the config).
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Try the pooling allocator (it is used only if its address-space
    /// reservation succeeds).
    pub pooling: bool,
    /// Guest instances that may exist at once with the pooling allocator.
    pub max_concurrent_instances: u32,
    /// Largest memory cap any module may be given; sizes the pool's slots.
    pub max_memory_bytes: usize,
    /// Enable fuel metering (needed when any module sets `fuel`).
    pub fuel: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            pooling: true,
            max_concurrent_instances: 1000,
            max_memory_bytes: GuestLimits::default().memory_bytes,
            fuel: false,
        }
    }
}

/// A compiled, import-checked component, ready to instantiate.
pub struct LoadedModule {
    /// Shared with every call's store (for guest log lines).
    pub name: Arc<str>,
    /// Lower-case hex sha256 of the component bytes.
    pub digest: String,
    pub size: usize,
    pub limits: GuestLimits,
    pub settings: ModuleSettings,
    /// `None` when the artifact came from the AOT cache.
    pub compile_time: Option<Duration>,
    pub instance_pre: InstancePre<GuestState>,
    /// Calls of this loaded version (the registry's `describe`).
    pub stats: CallStats,
}

/// Calls and failed calls of one loaded module version.
#[derive(Debug, Default)]
pub struct CallStats {
    calls: AtomicU64,
    errors: AtomicU64,
}

impl CallStats {
    fn record(&self, failed: bool) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for LoadedModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModule")
            .field("name", &self.name)
            .field("digest", &self.digest)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Why a module could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("module {module}: not a WebAssembly component: {reason}")]
    NotAComponent { module: String, reason: String },
    #[error("module {module}: imports `{import}`, which the `{world}` world does not grant")]
    ForbiddenImport {
        module: String,
        world: String,
        import: String,
    },
    #[error("module {module}: does not export `{export}` required by the `{world}` world")]
    MissingExport {
        module: String,
        world: String,
        export: String,
    },
    #[error("module {module}: does not match the `{world}` world: {reason}")]
    WorldMismatch {
        module: String,
        world: String,
        reason: String,
    },
    #[error("module {module}: {reason}")]
    Other { module: String, reason: String },
}

/// The process-wide engine.
pub struct GuestEngine {
    engine: Engine,
    linker: Linker<GuestState>,
    cache: AotCache,
    pooling: bool,
    max_memory_bytes: usize,
    fuel: bool,
    metrics: EngineMetrics,
    _ticker: ticker::EpochTicker,
}

impl GuestEngine {
    /// Builds the engine (pooling when its probe succeeds), the shared linker
    /// and the AOT cache in `cache_dir`.
    pub fn new(
        settings: &EngineSettings,
        cache_dir: &Path,
        metrics: EngineMetrics,
    ) -> anyhow::Result<Arc<Self>> {
        let (engine, pooling) = build_engine(settings)?;
        let mut linker = Linker::new(&engine);
        state::add_to_linker(&mut linker)?;
        let cache = AotCache::open(&engine, cache_dir)?;
        let ticker = ticker::EpochTicker::start(engine.clone(), EPOCH_TICK);
        Ok(Arc::new(Self {
            engine,
            linker,
            cache,
            pooling,
            max_memory_bytes: settings.max_memory_bytes,
            fuel: settings.fuel,
            metrics,
            _ticker: ticker,
        }))
    }

    /// Where a workflow records the calls of `module`.
    pub fn call_recorder(&self, workflow: &str, module: &LoadedModule) -> CallRecorder {
        self.metrics.call_recorder(workflow, &module.name)
    }

    /// Checks `bytes` against `contract`, compiles it (or loads the artifact
    /// this host cached earlier) on a blocking thread, and pre-instantiates it.
    pub async fn load(
        self: &Arc<Self>,
        name: &str,
        bytes: Arc<[u8]>,
        contract: &WorldContract,
        options: ModuleOptions,
    ) -> Result<LoadedModule, LoadError> {
        let ModuleOptions { limits, settings } = options;
        let other = |reason: String| LoadError::Other {
            module: name.to_string(),
            reason,
        };
        if !is_component_binary(&bytes) {
            return Err(LoadError::NotAComponent {
                module: name.to_string(),
                reason:
                    "the bytes are not a component binary (a core module or not WebAssembly at all)"
                        .into(),
            });
        }
        if self.pooling && limits.memory_bytes > self.max_memory_bytes {
            return Err(other(format!(
                "memory cap {} bytes exceeds the engine's max_memory_mib",
                limits.memory_bytes
            )));
        }
        if limits.fuel.is_some() && !self.fuel {
            return Err(other(
                "fuel is set for this module but `engine.fuel` is off".into(),
            ));
        }
        let digest = hex(&Sha256::digest(&bytes));
        let this = Arc::clone(self);
        let module_name = name.to_string();
        let digest_for_compile = digest.clone();
        let bytes_for_compile = Arc::clone(&bytes);
        let (component, compile_time) = tokio::task::spawn_blocking(move || {
            this.cache.load_or_compile(
                &this.engine,
                &bytes_for_compile,
                &digest_for_compile,
                &this.metrics,
            )
        })
        .await
        .map_err(|e| other(format!("compilation task failed: {e}")))?
        .map_err(|e| LoadError::NotAComponent {
            module: module_name.clone(),
            reason: format!("{e:#}"),
        })?;

        contract.check(name, &self.engine, &component)?;
        let instance_pre =
            self.linker
                .instantiate_pre(&component)
                .map_err(|e| LoadError::WorldMismatch {
                    module: name.to_string(),
                    world: contract.world.to_string(),
                    reason: format!("{e:#}"),
                })?;
        tracing::info!(
            module = name,
            digest = %digest,
            size = bytes.len(),
            compiled_ms = compile_time.map(|d| d.as_secs_f64() * 1e3),
            "module loaded"
        );
        Ok(LoadedModule {
            name: Arc::from(name),
            digest,
            size: bytes.len(),
            limits,
            settings,
            compile_time,
            instance_pre,
            stats: CallStats::default(),
        })
    }

    /// [`load`](Self::load), then the world's typed pre-instance (a bindgen
    /// `…Pre::new`), so every workflow reports a mismatch the same way.
    pub async fn load_typed<P>(
        self: &Arc<Self>,
        name: &str,
        bytes: Arc<[u8]>,
        contract: &WorldContract,
        options: ModuleOptions,
        typed: impl FnOnce(InstancePre<GuestState>) -> wasmtime::Result<P>,
    ) -> Result<(LoadedModule, P), LoadError> {
        let module = self.load(name, bytes, contract, options).await?;
        let pre = typed(module.instance_pre.clone()).map_err(|e| LoadError::WorldMismatch {
            module: name.to_string(),
            world: contract.world.to_string(),
            reason: format!("{e:#}"),
        })?;
        Ok((module, pre))
    }

    /// Runs one guest call in a fresh store under the module's limits and
    /// records it with `recorder`. See [`call::run`].
    pub async fn call<R, F>(
        &self,
        recorder: &CallRecorder,
        module: &LoadedModule,
        f: F,
    ) -> Result<R, GuestError>
    where
        F: for<'a> FnOnce(&'a mut wasmtime::Store<GuestState>) -> call::CallFuture<'a, R>,
    {
        let started = Instant::now();
        let result = call::run(&self.engine, module, self.fuel, f).await;
        recorder.record(started.elapsed(), result.as_ref().err());
        module.stats.record(result.is_err());
        result
    }
}

fn build_engine(settings: &EngineSettings) -> anyhow::Result<(Engine, bool)> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.consume_fuel(settings.fuel);
    // Guests' data segments are a few KiB: copying them at instantiation is
    // cheaper than mapping a copy-on-write image whose first write faults
    // and whose reset remaps pages (a TLB shootdown per call).
    config.memory_init_cow(false);
    if settings.pooling {
        let mut pool = PoolingAllocationConfig::default();
        let instances = settings.max_concurrent_instances.max(1);
        pool.total_component_instances(instances);
        // A Rust wasip2 component is one main module plus a few adapter shims.
        pool.total_core_instances(instances.saturating_mul(8));
        pool.max_core_instances_per_component(16);
        pool.total_memories(instances.saturating_mul(2));
        pool.max_memories_per_component(2);
        pool.total_tables(instances.saturating_mul(8));
        pool.total_stacks(instances);
        pool.max_memory_size(settings.max_memory_bytes);
        // An instance lives for one call, so slots are recycled constantly.
        // Resetting the first pages of a slot by memset instead of madvise,
        // and decommitting the rest in batches, avoids a TLB shootdown on
        // every call (measured: the largest single cost of a call).
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
        pool.table_keep_resident(KEEP_RESIDENT_BYTES / 16);
        pool.decommit_batch_size(DECOMMIT_BATCH);
        let mut pooled = config.clone();
        pooled.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        match Engine::new(&pooled) {
            Ok(engine) => {
                tracing::info!(instances, "engine: pooling instance allocator");
                return Ok((engine, true));
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "engine: pooling allocator unavailable, using on-demand allocation");
            }
        }
    }
    let engine =
        Engine::new(&config).map_err(|e| anyhow::anyhow!("creating the wasmtime engine: {e:#}"))?;
    tracing::info!("engine: on-demand instance allocator");
    Ok((engine, false))
}

/// A component binary starts with the wasm magic and the component layer
/// version; a core module has version 1 and layer 0.
fn is_component_binary(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[0..4] == *b"\0asm" && bytes[6..8] == [0x01, 0x00]
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
