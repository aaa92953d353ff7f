//! The REST pre-flight `GET /cvpservice/cvpInfo/getCvpInfo.do` (spec 3, 13.1).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tonic::body::Body;

use super::Inner;
use super::knobs::Preflight;
use super::recorder::PreflightRequest;

pub(super) const PATH: &str = "/cvpservice/cvpInfo/getCvpInfo.do";

pub(super) async fn handle(inner: &Inner, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    inner.recorder.record_preflight(PreflightRequest {
        method: parts.method.to_string(),
        target: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        version: format!("{:?}", parts.version),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body.to_vec(),
    });

    let knobs = inner.knobs();
    if parts.method != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !knobs.expired_token_mode && !knobs.authorized(authorization) {
        return text(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    match &knobs.preflight {
        Preflight::Version(version) => json(
            StatusCode::OK,
            serde_json::json!({ "version": version }).to_string(),
        ),
        Preflight::Raw { status, body } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if serde_json::from_str::<serde_json::Value>(body).is_ok() {
                json(status, body.clone())
            } else {
                text(status, body)
            }
        }
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::new(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json(status: StatusCode, body: String) -> Response<Body> {
    respond(status, "application/json", body)
}

pub(super) fn text(status: StatusCode, body: &str) -> Response<Body> {
    respond(status, "text/plain; charset=utf-8", body.to_owned())
}
