//! cvproxy's HTTP contract (spec 2.1, 2.2, 15.3, 16): only `POST`, any path;
//! `Content-Length` required (400), the body bounded (413), the content
//! type exactly `application/json` (415); every other reply is HTTP 200
//! JSON, errors included.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::reply::Reply;
use super::{Cvproxy, policy_subject};
use crate::engine::GuestError;
use crate::listeners::http::{self, BodyError, HttpHandler, HttpResponse, Peer};
use crate::policy::ChainOutcome;

pub fn handler(cvproxy: Arc<Cvproxy>) -> HttpHandler {
    Arc::new(move |request, peer| Box::pin(handle(Arc::clone(&cvproxy), request, peer)))
}

/// How a request ended, for the access log and the metrics.
struct Outcome {
    response: HttpResponse,
    label: &'static str,
}

async fn handle(cvproxy: Arc<Cvproxy>, request: Request<Incoming>, peer: Peer) -> HttpResponse {
    let started = Instant::now();
    let client = client_address(&cvproxy, &request, peer);
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let outcome = answer(&cvproxy, request).await;
    cvproxy.metrics.request(outcome.label);
    tracing::info!(
        %client,
        %method,
        %path,
        status = outcome.response.status().as_u16(),
        outcome = outcome.label,
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "cvproxy: request"
    );
    outcome.response
}

/// The peer address, or with `xff` the `X-Forwarded-For` value when present.
fn client_address(cvproxy: &Cvproxy, request: &Request<Incoming>, peer: Peer) -> String {
    if cvproxy.config.xff
        && let Some(forwarded) = request
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
    {
        return forwarded.trim().to_string();
    }
    peer.addr.ip().to_string()
}

async fn answer(cvproxy: &Cvproxy, request: Request<Incoming>) -> Outcome {
    if request.method() != Method::POST {
        return text_outcome(StatusCode::NOT_IMPLEMENTED, "not_implemented");
    }
    // cvproxy reads exactly Content-Length bytes and has no answer for a
    // body without one, chunked or not (spec 2.2 step 1).
    if !request.headers().contains_key(CONTENT_LENGTH) {
        return text_outcome(StatusCode::BAD_REQUEST, "bad_request");
    }
    let content_type_ok = request
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/json");
    // The body is read before the content type is judged, as cvproxy does.
    let body = match http::read_body(
        request.into_body(),
        cvproxy.config.max_body_bytes,
        cvproxy.config.body_timeout,
    )
    .await
    {
        Ok(body) => body,
        Err(BodyError::TooLarge(_)) => {
            return text_outcome(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
        }
        Err(BodyError::TimedOut(_)) => {
            let mut response = http::status_text(StatusCode::REQUEST_TIMEOUT);
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return Outcome {
                response,
                label: "body_timeout",
            };
        }
        Err(BodyError::Io(error)) => {
            tracing::debug!(%error, "cvproxy: reading the body failed");
            return text_outcome(StatusCode::BAD_REQUEST, "bad_request");
        }
    };
    if !content_type_ok {
        return text_outcome(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
    let guest = cvproxy.guest.current();
    let plan = match guest.plan(body.to_vec()).await {
        Ok(Ok(plan)) => plan,
        Ok(Err(input_error)) => {
            return json_outcome(&Reply::error(input_error), "input_error");
        }
        Err(error) => {
            tracing::warn!(module = %guest.module().name, kind = error.kind(), %error, "cvproxy: the module failed");
            return json_outcome(&Reply::error(guest_failure_text(&error)), "module_error");
        }
    };
    let plan = match apply_policies(cvproxy, plan).await {
        Ok(plan) => plan,
        Err(outcome) => return outcome,
    };
    let report = deploy(cvproxy, plan).await;
    let label = if report.errors.is_empty() {
        "deployed"
    } else {
        "deploy_error"
    };
    json_outcome(&Reply::from_report(&report), label)
}

/// The plan after the workflow's policy chain, or the reply refusing it.
async fn apply_policies(
    cvproxy: &Cvproxy,
    plan: super::DeployPlan,
) -> Result<super::DeployPlan, Outcome> {
    if cvproxy.policies.is_empty() {
        return Ok(plan);
    }
    let subject = policy_subject::subject(&plan);
    match cvproxy
        .policies
        .evaluate(policy_subject::SUBJECT_KIND, subject)
        .await
    {
        ChainOutcome::Allowed { mutated: None } => Ok(plan),
        ChainOutcome::Allowed {
            mutated: Some(json),
        } => policy_subject::mutated(&plan, &json).map_err(|reason| {
            json_outcome(
                &Reply::error(format!(
                    "PolicyError: a policy mutated the deploy plan into an invalid one: {reason}"
                )),
                "policy_error",
            )
        }),
        ChainOutcome::Denied { module, reasons } => {
            let errors = if reasons.is_empty() {
                vec![format!("PolicyDenied: {module}: denied")]
            } else {
                reasons
                    .iter()
                    .map(|reason| format!("PolicyDenied: {module}: {reason}"))
                    .collect()
            };
            Err(json_outcome(&Reply::Error(errors), "policy_denied"))
        }
        ChainOutcome::Failed { module, error } => Err(json_outcome(
            &Reply::error(format!(
                "PolicyError: {module}: {}",
                policy_failure_text(&error)
            )),
            "policy_error",
        )),
    }
}

/// Runs the deployment as its own task: a client that disconnects must not
/// leave CloudVision half-done (spec 16), so the work goes on without it.
async fn deploy(cvproxy: &Cvproxy, plan: super::DeployPlan) -> super::DeployReport {
    let started = Instant::now();
    let cloudvision = cvproxy.cloudvision.clone();
    let task = cvproxy
        .shutdown
        .spawn(async move { cloudvision.deploy(&plan).await });
    let report = match task.await {
        Ok(report) => report,
        Err(error) => {
            tracing::error!(%error, "cvproxy: the deployment task failed");
            super::DeployReport {
                errors: vec![format!(
                    "InternalError: the deployment task failed: {error}"
                )],
                change_control: None,
                workspace_id: None,
                workspace: super::WorkspaceOutcome::None,
            }
        }
    };
    cvproxy
        .metrics
        .deploy_seconds
        .observe(started.elapsed().as_secs_f64());
    cvproxy
        .metrics
        .deployments
        .get_or_create(&super::metrics::WorkspaceLabels {
            workspace: report.workspace.as_str(),
        })
        .inc();
    report
}

/// The reply text when the module itself failed (not the request).
fn guest_failure_text(error: &GuestError) -> String {
    match error {
        GuestError::MemoryCap { .. } => {
            "ModuleError: the cvproxy module ran out of memory (the request may be too large for its memory limit)".into()
        }
        GuestError::Timeout { .. } => "ModuleError: the cvproxy module timed out".into(),
        GuestError::OutOfFuel { .. } => "ModuleError: the cvproxy module ran out of fuel".into(),
        GuestError::Trap { .. } => "ModuleError: the cvproxy module failed (trap)".into(),
    }
}

/// A failed policy's part of the reply (the module is named by the caller).
fn policy_failure_text(error: &GuestError) -> &'static str {
    match error {
        GuestError::MemoryCap { .. } => "the policy ran out of memory",
        GuestError::Timeout { .. } => "the policy timed out",
        GuestError::OutOfFuel { .. } => "the policy ran out of fuel",
        GuestError::Trap { .. } => "the policy failed (trap)",
    }
}

fn text_outcome(status: StatusCode, label: &'static str) -> Outcome {
    Outcome {
        response: http::status_text(status),
        label,
    }
}

fn json_outcome(reply: &Reply, label: &'static str) -> Outcome {
    let response = Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(reply.to_json())))
        .expect("a JSON response is valid");
    Outcome { response, label }
}
