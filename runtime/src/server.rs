//! Starting and stopping a whole Postern: engine, workflows, admin endpoint.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::admin::{self, Readiness};
use crate::config::Config;
use crate::engine::{GuestEngine, GuestLimits};
use crate::metrics::{EngineMetrics, Metrics};
use crate::shutdown::Shutdown;
use crate::workflows;

/// How long shutdown waits for in-flight work.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// A running server and where it listens.
pub struct RunningServer {
    pub admin_addr: SocketAddr,
    pub vspc_addr: Option<SocketAddr>,
    pub vspc_tls_thumbprint: Option<String>,
    pub cvproxy_addr: Option<SocketAddr>,
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

/// The component bytes and limits of module `name`: a configured file, else
/// the built-in guest of that name.
pub fn module_source(config: &Config, name: &str) -> anyhow::Result<(Arc<[u8]>, GuestLimits)> {
    let limits = config.module_limits(name);
    let bytes: Arc<[u8]> = match config.modules.get(name).and_then(|m| m.path.as_ref()) {
        Some(path) => std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("module {name}: reading {}: {e}", path.display()))?
            .into(),
        None => crate::guests::builtin(name)
            .ok_or_else(|| anyhow::anyhow!("no built-in module named `{name}`"))?
            .into(),
    };
    Ok((bytes, limits))
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

    let admin_listener = tokio::net::TcpListener::bind(config.admin.listen)
        .await
        .map_err(|e| anyhow::anyhow!("admin: binding {}: {e}", config.admin.listen))?;
    let admin_addr = admin_listener.local_addr()?;
    shutdown.spawn(crate::listeners::http::serve(
        "admin",
        admin_listener,
        admin::handler(metrics.clone(), readiness.clone()),
        shutdown.clone(),
    ));
    tracing::info!(listen = %admin_addr, "admin: listening (/healthz, /readyz, /metrics)");

    let mut vspc_addr = None;
    let mut vspc_tls_thumbprint = None;
    if let Some(vspc) = &config.vspc {
        let (bytes, limits) = module_source(config, workflows::vspc::MODULE_NAME)?;
        let started = workflows::vspc::start(
            vspc,
            &config.data_dir,
            &engine,
            bytes,
            limits,
            &metrics,
            &shutdown,
        )
        .await?;
        vspc_addr = Some(started.local_addr);
        vspc_tls_thumbprint = started.tls_thumbprint;
    }

    let mut cvproxy_addr = None;
    if let Some(cvproxy) = &config.cvproxy {
        let (bytes, limits) = module_source(config, workflows::cvproxy::MODULE_NAME)?;
        cvproxy_addr = Some(
            workflows::cvproxy::start(cvproxy, &engine, bytes, limits, &metrics, &shutdown).await?,
        );
    }

    readiness.set(true);
    tracing::info!(elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "ready");
    Ok(RunningServer {
        admin_addr,
        vspc_addr,
        vspc_tls_thumbprint,
        cvproxy_addr,
        shutdown,
        readiness,
    })
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
        let (bytes, limits) = module_source(config, workflows::vspc::MODULE_NAME)?;
        let guest = workflows::vspc::check_module(&engine, bytes, limits).await?;
        report.push(guest);
    }
    if config.cvproxy.is_some() {
        let (bytes, limits) = module_source(config, workflows::cvproxy::MODULE_NAME)?;
        report.push(workflows::cvproxy::check_module(&engine, bytes, limits).await?);
    }
    Ok(report)
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
