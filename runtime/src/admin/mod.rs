//! The admin endpoint (loopback): `/healthz`, `/readyz`, `/metrics`, and the
//! admin API over HTTP (`/admin/v1/…`) and gRPC (`postern.v1.ModuleAdmin`).

pub mod proto;
pub mod token;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hyper::{Method, StatusCode};

use crate::engine::registry::ModuleRegistry;
use crate::listeners::http::{self, HttpHandler};
use crate::metrics::Metrics;
use crate::policy::PolicyChains;
use crate::shutdown::Shutdown;

/// Everything the admin endpoint serves.
#[derive(Clone)]
pub struct AdminState {
    pub metrics: Metrics,
    pub readiness: Readiness,
    pub registry: Arc<ModuleRegistry>,
    pub policies: Arc<PolicyChains>,
    /// The bearer token of the admin API (not of the probes).
    pub token: Arc<str>,
}

/// Serves the admin endpoint on `listener` until shutdown.
pub async fn serve(listener: tokio::net::TcpListener, state: AdminState, shutdown: Shutdown) {
    http::serve(
        "admin",
        listener,
        handler(state.metrics.clone(), state.readiness.clone()),
        shutdown,
    )
    .await
}

/// Ready once every workflow is serving; not ready again once shutdown begins.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

pub fn handler(metrics: Metrics, readiness: Readiness) -> HttpHandler {
    Arc::new(move |request, _peer| {
        let metrics = metrics.clone();
        let readiness = readiness.clone();
        Box::pin(async move {
            match (request.method(), request.uri().path()) {
                (&Method::GET, "/healthz") => http::text(StatusCode::OK, "ok\n"),
                (&Method::GET, "/readyz") if readiness.is_ready() => {
                    http::text(StatusCode::OK, "ready\n")
                }
                (&Method::GET, "/readyz") => {
                    http::text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                }
                (&Method::GET, "/metrics") => {
                    let mut response = http::text(StatusCode::OK, metrics.encode());
                    response.headers_mut().insert(
                        hyper::header::CONTENT_TYPE,
                        hyper::header::HeaderValue::from_static(
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        ),
                    );
                    response
                }
                (_, "/healthz" | "/readyz" | "/metrics") => {
                    http::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
                }
                _ => http::text(StatusCode::NOT_FOUND, "not found\n"),
            }
        })
    })
}
