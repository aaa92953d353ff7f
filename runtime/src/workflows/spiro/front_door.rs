//! spiro's HTTP contract (specs/spiro.md 2–7, 13.2–13.4, 14): `GET /`
//! checks a token, `POST /` deploys and answers with the event stream,
//! `/deployments/…` serves deployed content; every other path is 404.
//! Authentication comes first and from the headers alone; methods the
//! original knows but does not implement are 405 after it, unknown ones
//! before it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};

use super::Spiro;
use super::auth::Denied;
use super::body::{BodyState, ChannelBody, bounded_stream, drain};
use super::bundle::{self, BundleError};
use super::events::Event;
use super::guest::Planned;
use super::upload::{self, Refusal, Upload};
use crate::listeners::http::Peer;

pub type SpiroResponse = Response<BoxBody<Bytes, Infallible>>;

/// Where deployed content is served, read-only.
pub const CONTENT_PREFIX: &str = "/deployments/";

pub async fn handle(spiro: Arc<Spiro>, request: Request<Incoming>, peer: Peer) -> SpiroResponse {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let (response, outcome) = answer(&spiro, request).await;
    spiro.metrics.request(response.status());
    tracing::info!(
        client = %peer.addr.ip(),
        %method,
        %path,
        status = response.status().as_u16(),
        outcome = %outcome,
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "spiro: request"
    );
    response
}

async fn answer(spiro: &Arc<Spiro>, request: Request<Incoming>) -> (SpiroResponse, String) {
    let path = request.uri().path();
    if path != "/" && !path.starts_with(CONTENT_PREFIX) {
        return early(
            spiro,
            request,
            Refusal::new(StatusCode::NOT_FOUND, "no such path"),
        )
        .await;
    }
    // Tornado's known methods; anything else is refused before auth.
    let known = [
        Method::GET,
        Method::POST,
        Method::HEAD,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ];
    if !known.contains(request.method()) {
        return early(
            spiro,
            request,
            Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        )
        .await;
    }
    let macaroon = match spiro.authority.authenticate(request.headers()) {
        Ok(macaroon) => macaroon,
        Err(Denied::Unauthenticated(why) | Denied::Forbidden(why)) => {
            return early(spiro, request, Refusal::new(StatusCode::UNAUTHORIZED, why)).await;
        }
    };
    let path = request.uri().path().to_string();
    match (request.method().clone(), path.as_str()) {
        (Method::GET, "/") => {
            let response = Response::builder()
                .header(CONTENT_TYPE, "text/plain")
                .body(full("Auth OK"))
                .expect("a static response is valid");
            drain_request(spiro, request).await;
            (response, "auth_ok".into())
        }
        (Method::POST, "/") => deploy(spiro, request, &macaroon).await,
        (Method::GET, _) => {
            let response = super::content::serve(spiro, &macaroon, &path).await;
            let outcome = format!("content_{}", response.status().as_u16());
            drain_request(spiro, request).await;
            (response, outcome)
        }
        _ => {
            early(
                spiro,
                request,
                Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
            )
            .await
        }
    }
}

/// POST /: receive, scan, ask the guest, then stream the deployment.
async fn deploy(
    spiro: &Arc<Spiro>,
    request: Request<Incoming>,
    macaroon: &super::macaroon::Macaroon,
) -> (SpiroResponse, String) {
    let (parts, body) = request.into_parts();
    let upload =
        match upload::receive(spiro, parts.uri.query(), &parts.headers, body, macaroon).await {
            Ok(upload) => upload,
            Err(refusal) => return refusal_response(refusal),
        };
    let plan = match plan(spiro, &upload).await {
        Ok(plan) => plan,
        Err(refusal) => return refusal_response(refusal),
    };
    let outcome = format!("deploying {}/{}", upload.project, upload.deployment);
    let (sender, body) = ChannelBody::new(16);
    let spiro = Arc::clone(spiro);
    spiro.shutdown.clone().spawn(async move {
        run_deployment(&spiro, upload, plan, sender).await;
    });
    let response = Response::builder()
        .header(CONTENT_TYPE, "text/event-stream")
        .header(CACHE_CONTROL, "no-cache")
        .body(body.boxed())
        .expect("a static response is valid");
    (response, outcome)
}

/// The tar scan under the hard bounds, then the guest's decision.
async fn plan(spiro: &Spiro, upload: &Upload) -> Result<Vec<Planned>, Refusal> {
    let limits = spiro.config.limits.bundle();
    let spool = upload.spool.path().to_path_buf();
    let scanned = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(&spool).map_err(BundleError::Io)?;
        bundle::scan(file, &limits)
    })
    .await
    .map_err(|e| internal(format!("scanning the bundle: {e}")))?;
    let scanned = match scanned {
        Ok(scanned) => scanned,
        Err(error @ (BundleError::Limit { .. } | BundleError::Corrupt(_))) => {
            return Err(Refusal::new(StatusCode::BAD_REQUEST, error.to_string()));
        }
        Err(error) => return Err(internal(format!("scanning the bundle: {error}"))),
    };
    let guest = spiro.guest.current();
    let verdict = guest
        .check_bundle(
            spiro.config.limits.guest(),
            upload.project.clone(),
            upload.deployment.clone(),
            scanned,
        )
        .await;
    match verdict {
        Ok(Ok(plan)) => Ok(plan),
        Ok(Err(rejection)) => Err(Refusal::new(StatusCode::BAD_REQUEST, rejection.reason)),
        Err(error) => {
            tracing::warn!(module = %guest.module().name, kind = error.kind(), %error, "spiro: the module failed");
            Err(internal(format!("the spiro module failed: {error}")))
        }
    }
}

/// The streamed part: events as each step is reached; a failure is an
/// `exception` event that ends the stream. Runs to completion even when
/// the client has gone (sends to a closed stream are ignored).
async fn run_deployment(
    spiro: &Spiro,
    upload: Upload,
    plan: Vec<Planned>,
    events: tokio::sync::mpsc::Sender<Bytes>,
) {
    let send = |event: Event| {
        let events = events.clone();
        async move {
            let _ = events.send(Bytes::from(event.to_bytes())).await;
        }
    };
    send(Event::deploy_bundle()).await;
    let guest = spiro.guest.current();
    let started = Instant::now();
    let result = spiro
        .deployments
        .deploy(
            &upload.project,
            &upload.deployment,
            upload.spool.path(),
            plan,
            &guest,
        )
        .await;
    drop(upload.spool);
    let seconds = started.elapsed().as_secs_f64();
    match result {
        Ok(extracted) => {
            spiro.metrics.deployment("ok", seconds);
            spiro.metrics.deployed_bytes.inc_by(extracted.bytes);
            tracing::info!(
                project = %upload.project,
                deployment = %upload.deployment,
                files = extracted.files,
                directories = extracted.directories,
                bytes = extracted.bytes,
                elapsed_ms = seconds * 1e3,
                "spiro: deployed"
            );
        }
        Err((kind, message)) => {
            spiro.metrics.deployment(kind.as_str(), seconds);
            tracing::warn!(project = %upload.project, deployment = %upload.deployment, error = %format!("{}: {message}", kind.as_str()), "spiro: deployment failed");
            send(Event::exception(kind, &message)).await;
            return;
        }
    }
    if upload.highstate {
        // No targets are registered until appliances register as agents
        // (spec 10, 13.6): the original's answer for no minions.
        send(Event::highstate_calc()).await;
        send(Event::highstate_start(&[])).await;
        send(Event::highstate_finish()).await;
    }
}

/// Answers before (or instead of) reading the body: the body is read and
/// discarded first, up to the body limit, so that a client still uploading
/// sees the status instead of a reset; then the connection closes.
async fn early(
    spiro: &Spiro,
    request: Request<Incoming>,
    refusal: Refusal,
) -> (SpiroResponse, String) {
    drain_request(spiro, request).await;
    refusal_response(refusal)
}

async fn drain_request(spiro: &Spiro, request: Request<Incoming>) {
    let state = Arc::new(std::sync::Mutex::new(BodyState::default()));
    let stream = bounded_stream(
        request.into_body(),
        spiro.config.limits.max_body_bytes,
        spiro.config.body_idle_timeout,
        Arc::clone(&state),
    );
    drain(stream, &state).await;
}

/// A pre-stream error: the standard status line, a one-line plain-text
/// reason, `WWW-Authenticate: Bearer` on every 401 (spec 13.3).
pub fn refusal_response(refusal: Refusal) -> (SpiroResponse, String) {
    let mut response = Response::builder()
        .status(refusal.status)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(CONNECTION, "close")
        .body(full(format!("{}\n", refusal.reason)))
        .expect("a static response is valid");
    if refusal.status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    (response, refusal.reason)
}

pub fn full(body: impl Into<Bytes>) -> BoxBody<Bytes, Infallible> {
    Full::new(body.into()).boxed()
}

fn internal(why: String) -> Refusal {
    tracing::error!(error = %why, "spiro: internal error");
    Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}
