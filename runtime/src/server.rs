//! Starting and stopping a whole Postern: engine, workflows, admin endpoint.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::admin::{self, Readiness};
use crate::config::Config;
use crate::engine::registry::{ModuleRegistry, ModuleWorld};
use crate::engine::{GuestEngine, ModuleOptions};
use crate::metrics::{EngineMetrics, Metrics};
use crate::policy::{POLICY_WORLD, PolicyChains};
use crate::shutdown::Shutdown;
use crate::store::{BlobStore, DirStore};
use crate::workflows;

/// How long shutdown waits for in-flight work.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running server and where it listens.
pub struct RunningServer {
    pub admin_addr: SocketAddr,
    pub vspc_addr: Option<SocketAddr>,
    pub vspc_tls_thumbprint: Option<String>,
    pub cvproxy_addr: Option<SocketAddr>,
    pub spiro_addr: Option<SocketAddr>,
    /// The admin API's bearer token.
    pub admin_token: String,
    pub registry: Arc<ModuleRegistry>,
    pub policies: Arc<PolicyChains>,
    shutdown: Shutdown,
    readiness: Readiness,
}

impl RunningServer {
    /// Stops accepting, lets in-flight work finish (up to the grace period).
    pub async fn shut_down(self) -> bool {
        self.readiness.set(false);
        self.shutdown.shut_down(SHUTDOWN_GRACE).await
    }
}

/// The component bytes and options of module `name`: a configured file, else
/// the built-in guest of that name. This is the module's `builtin` version.
pub fn module_source(config: &Config, name: &str) -> anyhow::Result<(Arc<[u8]>, ModuleOptions)> {
    let options = config.module_options(name);
    let bytes: Arc<[u8]> = match config.modules.get(name).and_then(|m| m.path.as_ref()) {
        Some(path) => std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("module {name}: reading {}: {e}", path.display()))?
            .into(),
        None => crate::guests::builtin(name)
            .ok_or_else(|| anyhow::anyhow!("no built-in module named `{name}`"))?
            .into(),
    };
    Ok((bytes, options))
}

/// Starts everything in `config`; returns once all listeners accept.
pub async fn start(config: &Config) -> anyhow::Result<RunningServer> {
    let started = Instant::now();
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        anyhow::anyhow!(
            "creating the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    let metrics = Metrics::default();
    let engine = GuestEngine::new(
        &config.engine_settings(),
        &config.aot_cache_dir(),
        EngineMetrics::new(&metrics),
    )?;
    let shutdown = Shutdown::new();
    let readiness = Readiness::default();

    let store: Arc<dyn BlobStore> =
        Arc::new(DirStore::open(&config.data_dir).map_err(|e| {
            anyhow::anyhow!("opening the store in {}: {e}", config.data_dir.display())
        })?);
    let options_config = config.clone();
    let registry = ModuleRegistry::new(
        Arc::clone(&engine),
        Arc::clone(&store),
        config.registry_settings()?,
        Arc::new(move |name| options_config.module_options(name)),
    );
    registry.accept_new_modules(POLICY_WORLD, &WORKFLOW_MODULES);
    let vspc_guest = match &config.vspc {
        Some(_) => Some(
            open_builtin(
                &registry,
                config,
                workflows::vspc::MODULE_NAME,
                workflows::vspc::WORLD,
            )
            .await?,
        ),
        None => None,
    };
    let cvproxy_guest = match &config.cvproxy {
        Some(_) => Some(
            open_builtin(
                &registry,
                config,
                workflows::cvproxy::MODULE_NAME,
                workflows::cvproxy::WORLD,
            )
            .await?,
        ),
        None => None,
    };
    let spiro_guest = match &config.spiro {
        Some(_) => Some(
            open_builtin(
                &registry,
                config,
                workflows::spiro::MODULE_NAME,
                workflows::spiro::WORLD,
            )
            .await?,
        ),
        None => None,
    };
    // A module file in the config under a name no workflow owns is a policy
    // whose `builtin` version is that file (policies without the admin API).
    for (name, module) in &config.modules {
        if module.path.is_some() && !is_workflow_module(name) {
            let (bytes, _) = module_source(config, name)?;
            registry.open(name, POLICY_WORLD, Some(bytes)).await?;
        }
    }
    let policy_modules = registry.open_stored(POLICY_WORLD).await?;
    if !policy_modules.is_empty() {
        tracing::info!(modules = %policy_modules.join(", "), "policy modules opened");
    }
    let served: Vec<&'static str> = WORKFLOW_MODULES
        .into_iter()
        .filter(|w| config.serves(w))
        .collect();
    let policies = PolicyChains::open(
        Arc::clone(&registry),
        Arc::clone(&store),
        &config.policies,
        &served,
        &metrics,
    )
    .await?;

    let admin_token =
        admin::token::load_or_create(config.admin.token.as_deref(), &config.data_dir)?;
    let admin_listener = tokio::net::TcpListener::bind(config.admin.listen)
        .await
        .map_err(|e| anyhow::anyhow!("admin: binding {}: {e}", config.admin.listen))?;
    let admin_addr = admin_listener.local_addr()?;
    shutdown.spawn(admin::serve(
        admin_listener,
        admin::AdminState {
            metrics: metrics.clone(),
            readiness: readiness.clone(),
            registry: Arc::clone(&registry),
            policies: Arc::clone(&policies),
            token: Arc::from(admin_token.as_str()),
        },
        shutdown.clone(),
    ));
    tracing::info!(listen = %admin_addr, "admin: listening (/healthz, /readyz, /metrics, /admin/v1, gRPC postern.v1.ModuleAdmin)");

    let mut vspc_addr = None;
    let mut vspc_tls_thumbprint = None;
    if let (Some(vspc), Some(guest)) = (&config.vspc, vspc_guest) {
        let chain = policies
            .chain(workflows::vspc::MODULE_NAME)
            .expect("a served workflow has a chain");
        let started =
            workflows::vspc::start(vspc, &config.data_dir, guest, chain, &metrics, &shutdown)
                .await?;
        vspc_addr = Some(started.local_addr);
        vspc_tls_thumbprint = started.tls_thumbprint;
    }

    let mut cvproxy_addr = None;
    if let (Some(cvproxy), Some(guest)) = (&config.cvproxy, cvproxy_guest) {
        let chain = policies
            .chain(workflows::cvproxy::MODULE_NAME)
            .expect("a served workflow has a chain");
        cvproxy_addr =
            Some(workflows::cvproxy::start(cvproxy, guest, chain, &metrics, &shutdown).await?);
    }

    let mut spiro_addr = None;
    if let (Some(spiro), Some(guest)) = (&config.spiro, spiro_guest) {
        spiro_addr = Some(
            workflows::spiro::start(spiro, &config.data_dir, guest, &metrics, &shutdown).await?,
        );
    }

    readiness.set(true);
    tracing::info!(elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "ready");
    Ok(RunningServer {
        admin_addr,
        vspc_addr,
        vspc_tls_thumbprint,
        cvproxy_addr,
        spiro_addr,
        admin_token,
        registry,
        policies,
        shutdown,
        readiness,
    })
}

/// The workflows' own modules (their names are the workflows').
const WORKFLOW_MODULES: [&str; 3] = [
    workflows::vspc::MODULE_NAME,
    workflows::cvproxy::MODULE_NAME,
    workflows::spiro::MODULE_NAME,
];

fn is_workflow_module(name: &str) -> bool {
    WORKFLOW_MODULES.contains(&name)
}

/// Opens a workflow's own module in the registry, `builtin` being the
/// embedded guest (or the configured file).
async fn open_builtin<W: ModuleWorld>(
    registry: &ModuleRegistry,
    config: &Config,
    name: &str,
    world: W,
) -> anyhow::Result<crate::engine::registry::Live<W::Guest>> {
    let (bytes, _) = module_source(config, name)?;
    Ok(registry.open(name, world, Some(bytes)).await?)
}

/// Loads every configured module without serving (`postern check`).
pub async fn check(config: &Config) -> anyhow::Result<Vec<String>> {
    let scratch = check_cache_dir(config)?;
    let metrics = Metrics::default();
    let engine = GuestEngine::new(
        &config.engine_settings(),
        &scratch,
        EngineMetrics::new(&metrics),
    )?;
    let mut report = Vec::new();
    if config.vspc.is_some() {
        report.push(
            check_module(
                &engine,
                config,
                workflows::vspc::MODULE_NAME,
                workflows::vspc::WORLD,
            )
            .await?,
        );
    }
    if config.cvproxy.is_some() {
        report.push(
            check_module(
                &engine,
                config,
                workflows::cvproxy::MODULE_NAME,
                workflows::cvproxy::WORLD,
            )
            .await?,
        );
    }
    if config.spiro.is_some() {
        report.push(
            check_module(
                &engine,
                config,
                workflows::spiro::MODULE_NAME,
                workflows::spiro::WORLD,
            )
            .await?,
        );
    }
    Ok(report)
}

/// Loads a workflow's module as `serve` would, without serving.
async fn check_module<W: ModuleWorld>(
    engine: &Arc<GuestEngine>,
    config: &Config,
    name: &str,
    world: W,
) -> anyhow::Result<String> {
    let (bytes, options) = module_source(config, name)?;
    let guest = world.load(engine, name, bytes, options).await?;
    let module = W::module(&guest);
    Ok(format!(
        "{name}: module `{}` sha256:{} ({} bytes) satisfies world `{}`",
        module.name,
        module.digest,
        module.size,
        world.contract().world
    ))
}

/// `check` compiles into the real AOT cache when the data directory exists
/// (a later `serve` then starts warm); otherwise it leaves nothing behind
/// but a cache in the system's temporary directory.
fn check_cache_dir(config: &Config) -> anyhow::Result<std::path::PathBuf> {
    if config.data_dir.is_dir() || config.engine.cache_dir.is_some() {
        return Ok(config.aot_cache_dir());
    }
    Ok(std::env::temp_dir().join("postern-check-aot"))
}
