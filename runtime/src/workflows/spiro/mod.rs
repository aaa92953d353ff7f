//! The `spiro` workflow: the SpiroFS deploy server that the real
//! `spiro-deploy` client uploads to (specs/spiro.md), with the original's
//! security holes closed (spec 12, 13).
//!
//! The host authenticates bearer macaroons ([`auth`], [`macaroon`]), reads
//! the multipart upload into a spool file ([`upload`]), scans the tar under
//! hard bounds ([`bundle`]), asks the `spiro` guest for a plan ([`guest`]),
//! and streams the deployment's progress as server-sent events
//! ([`events`]) while it extracts, renders the topfile and swaps the tree
//! in atomically ([`deploy`]). Deployed content is served back read-only
//! ([`content`]).

pub mod auth;
mod body;
pub mod bundle;
pub mod config;
pub mod confined;
mod content;
pub mod deploy;
pub mod events;
mod front_door;
pub mod guest;
pub mod macaroon;
mod metrics;
pub mod tokens;
mod upload;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use hyper::Request;
use hyper::body::Incoming;

use crate::engine::registry::Live;
use crate::listeners::http::{Peer, ServiceServe};
use crate::listeners::tls;
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use auth::Authority;
use deploy::Deployments;
use metrics::SpiroMetrics;

pub use config::{SpiroConfig, SpiroLimits, SpiroPaths};
pub use guest::{MODULE_NAME, SpiroGuest, SpiroWorld, WORLD};

/// The running workflow's shared state.
pub struct Spiro {
    config: SpiroConfig,
    authority: Authority,
    deployments: Deployments,
    guest: Live<SpiroGuest>,
    metrics: SpiroMetrics,
    shutdown: Shutdown,
}

/// Takes the staging lock, clears leftovers, loads (or creates) the root
/// key, binds the listener (TLS when configured) and serves.
pub async fn start(
    config: &SpiroConfig,
    data_dir: &std::path::Path,
    guest: Live<SpiroGuest>,
    metrics: &Metrics,
    shutdown: &Shutdown,
) -> anyhow::Result<SocketAddr> {
    let paths = config.paths(data_dir);
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => {
            for file in [cert, key] {
                if !file.exists() {
                    anyhow::bail!(
                        "spiro: TLS is configured but {} does not exist; refusing to serve plain HTTP instead",
                        file.display()
                    );
                }
            }
            Some(
                tls::load_identity(cert, key)
                    .map_err(|e| anyhow::anyhow!("spiro: {e:#}"))?
                    .acceptor,
            )
        }
        _ => None,
    };
    let key = tokens::load_or_create_key(&paths.key_file)
        .map_err(|e| anyhow::anyhow!("spiro: root key {}: {e}", paths.key_file.display()))?;
    let deployments = Deployments::open(&paths, &config.state_top, config.limits.bundle())?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("spiro: binding {}: {e}", config.listen))?;
    let local_addr = listener.local_addr()?;
    tracing::info!(
        listen = %local_addr,
        tls = tls.is_some(),
        deploy_root = %paths.deploy_root.display(),
        module_digest = %guest.current().module().digest,
        "spiro: listening"
    );
    let spiro = Arc::new(Spiro {
        config: config.clone(),
        authority: Authority::new(key, paths.revoked_file.clone()),
        deployments,
        guest,
        metrics: SpiroMetrics::new(metrics),
        shutdown: shutdown.clone(),
    });
    shutdown.spawn(
        ServiceServe {
            name: "spiro",
            listener,
            tls,
            max_connections: config.max_connections,
            make_service: move |peer: Peer| {
                let spiro = Arc::clone(&spiro);
                hyper::service::service_fn(move |request: Request<Incoming>| {
                    let spiro = Arc::clone(&spiro);
                    async move {
                        Ok::<_, Infallible>(front_door::handle(spiro, request, peer).await)
                    }
                })
            },
        }
        .run(shutdown.clone()),
    );
    Ok(local_addr)
}
