//! The admin endpoint (loopback): `/healthz`, `/readyz`, `/metrics`, and the
//! admin API over HTTP (`/admin/v1/…`) and gRPC (`postern.v1.ModuleAdmin`).

mod audit;
mod auth;
mod convert;
mod errors;
mod grpc;
mod http_api;
pub mod proto;
pub mod token;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use hyper::body::Incoming;
use hyper::header::CONTENT_TYPE;
use hyper::{Method, Request, Response, StatusCode};
use tower::ServiceExt;
use tracing::Instrument;

use crate::engine::registry::ModuleRegistry;
use crate::listeners::http::{self, HttpResponse, Peer, ServiceServe};
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

/// Serves the admin endpoint on `listener` until shutdown: gRPC and HTTP
/// on the one port, told apart by content type.
pub async fn serve(listener: tokio::net::TcpListener, state: AdminState, shutdown: Shutdown) {
    let admin = Arc::new(Admin {
        grpc: grpc::routes(&state),
        state,
    });
    ServiceServe {
        name: "admin",
        listener,
        tls: None,
        max_connections: 256,
        make_service: move |peer: Peer| {
            let admin = Arc::clone(&admin);
            hyper::service::service_fn(move |request| dispatch(Arc::clone(&admin), request, peer))
        },
    }
    .run(shutdown)
    .await
}

struct Admin {
    state: AdminState,
    grpc: tonic::service::Routes,
}

async fn dispatch(
    admin: Arc<Admin>,
    mut request: Request<Incoming>,
    peer: Peer,
) -> Result<Response<tonic::body::Body>, Infallible> {
    let grpc = request
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
    let span = tracing::info_span!(
        "admin",
        protocol = if grpc { "grpc" } else { "http" },
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        if grpc {
            // The service reads the peer from here (who asked, for the log).
            request.extensions_mut().insert(peer);
            return admin.grpc.clone().oneshot(request).await;
        }
        if http_api::is_api(request.uri().path()) {
            let response = http_api::handle(&admin.state, request, peer).await;
            return Ok(response.map(tonic::body::Body::new));
        }
        Ok(probe(&admin.state, &request).map(tonic::body::Body::new))
    }
    .instrument(span)
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

/// The probes: open to anyone who can reach the admin port.
fn probe<B>(state: &AdminState, request: &Request<B>) -> HttpResponse {
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => http::text(StatusCode::OK, "ok\n"),
        (&Method::GET, "/readyz") if state.readiness.is_ready() => {
            http::text(StatusCode::OK, "ready\n")
        }
        (&Method::GET, "/readyz") => http::text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
        (&Method::GET, "/metrics") => {
            let mut response = http::text(StatusCode::OK, state.metrics.encode());
            response.headers_mut().insert(
                CONTENT_TYPE,
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
}
