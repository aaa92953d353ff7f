//! The admin API over HTTP (`/admin/v1/…`): JSON in and out, errors as
//! `{"error": "<text>"}`, the bearer token on every request.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    ALLOW, AUTHORIZATION, CONNECTION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE,
};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode, Version};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::audit::{self, Audit};
use super::errors::Refusal;
use super::{AdminState, auth, convert};
use crate::engine::registry::{ModuleInfo, RegistryError};
use crate::listeners::http::{self, BodyError, HttpResponse, Peer};

/// Where the API lives; the rest of the admin port is the probes.
pub const PREFIX: &str = "/admin/v1";

/// Longest a client may take to send an upload (32 MiB over a slow link).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);
/// The JSON bodies are a few hundred bytes.
const JSON_LIMIT: u64 = 64 << 10;
const JSON_TIMEOUT: Duration = Duration::from_secs(30);

const SIGNATURE_HEADER: &str = "postern-signature";

/// Whether `path` belongs to the API.
pub fn is_api(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

pub async fn handle(state: &AdminState, request: Request<Incoming>, peer: Peer) -> HttpResponse {
    let (head, body) = request.into_parts();
    let mut call = Call {
        head,
        body: Some(body),
    };
    let response = answer(state, &mut call, peer).await;
    tracing::debug!(status = response.status().as_u16(), "admin: request");
    response
}

async fn answer(state: &AdminState, call: &mut Call, peer: Peer) -> HttpResponse {
    let authorization = call
        .head
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !auth::authorized(authorization, &state.token) {
        audit::unauthenticated("http", Some(peer.addr), call.head.uri.path());
        let mut response = error(StatusCode::UNAUTHORIZED, auth::REFUSED);
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return response;
    }
    let path = call.head.uri.path().to_string();
    let Some(endpoint) = Endpoint::parse(&path) else {
        return error(StatusCode::NOT_FOUND, "no such admin API path");
    };
    let method = call.head.method.clone();
    if !endpoint.methods().contains(&method) {
        let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        let allow = endpoint
            .methods()
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if let Ok(allow) = HeaderValue::from_str(&allow) {
            response.headers_mut().insert(ALLOW, allow);
        }
        return response;
    }
    let peer = Some(peer.addr);
    let registry = &state.registry;
    match (method, endpoint) {
        (Method::GET, Endpoint::Modules) => {
            let modules = registry.list().await;
            json(StatusCode::OK, &convert::modules_json(&modules))
        }
        (Method::GET, Endpoint::Module(name)) => match registry.describe(name).await {
            Ok(module) => json(StatusCode::OK, &convert::module_json(&module)),
            Err(e) => refused(&e),
        },
        (Method::POST, Endpoint::Module(name)) => upload(state, call, name, peer).await,
        (Method::DELETE, Endpoint::Module(name)) => {
            let result = registry.delete(name, None).await;
            Audit::module("http", peer, "DeleteModule", name).record(None, &result);
            match result {
                Ok(_) => empty(StatusCode::NO_CONTENT),
                Err(e) => refused(&e),
            }
        }
        (Method::POST, Endpoint::Activate(name)) => {
            let body: VersionBody = match read_json(call).await {
                Ok(body) => body,
                Err(response) => return response,
            };
            let result = registry.activate(name, &body.version).await;
            Audit::module("http", peer, "ActivateVersion", name)
                .record(Some(&body.version), &result);
            module_reply(result)
        }
        (Method::POST, Endpoint::Rollback(name)) => {
            let body: RollbackBody = match read_json(call).await {
                Ok(body) => body,
                Err(response) => return response,
            };
            let version = body.version.as_deref().filter(|v| !v.is_empty());
            let result = registry.rollback(name, version).await;
            let made = result.as_ref().ok().map(|m| m.active.as_str());
            Audit::module("http", peer, "Rollback", name).record(made.or(version), &result);
            module_reply(result)
        }
        (Method::DELETE, Endpoint::Version(name, version)) => {
            let result = registry.delete(name, Some(version)).await;
            Audit::module("http", peer, "DeleteVersion", name).record(Some(version), &result);
            match result {
                Ok(Some(module)) => json(StatusCode::OK, &convert::module_json(&module)),
                Ok(None) => empty(StatusCode::NO_CONTENT),
                Err(e) => refused(&e),
            }
        }
        (Method::GET, Endpoint::Policy(workflow)) => match state.policies.get(workflow) {
            Ok(specs) => json(StatusCode::OK, &convert::chain_json(workflow, &specs)),
            Err(e) => refused(&e),
        },
        (Method::PUT, Endpoint::Policy(workflow)) => {
            let body: ChainBody = match read_json(call).await {
                Ok(body) => body,
                Err(response) => return response,
            };
            if let Some(named) = body.workflow.as_deref()
                && !named.is_empty()
                && named != workflow
            {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "the body names workflow `{named}`, the path `{workflow}`; they must agree"
                    ),
                );
            }
            let entries = body.entries.into_iter().map(|e| (e.module, e.mode));
            let result = match convert::chain_specs(entries) {
                Ok(specs) => state.policies.set(workflow, specs).await,
                Err(e) => Err(e),
            };
            Audit::workflow("http", peer, "SetPolicyChain", workflow).record(None, &result);
            match result {
                Ok(specs) => json(StatusCode::OK, &convert::chain_json(workflow, &specs)),
                Err(e) => refused(&e),
            }
        }
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

/// The paths of the API, with their segments.
#[derive(Clone, Copy)]
enum Endpoint<'a> {
    Modules,
    Module(&'a str),
    Activate(&'a str),
    Rollback(&'a str),
    Version(&'a str, &'a str),
    Policy(&'a str),
}

impl<'a> Endpoint<'a> {
    fn parse(path: &'a str) -> Option<Self> {
        let rest = path.strip_prefix(PREFIX)?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let segments: Vec<&str> = rest.strip_prefix('/')?.split('/').collect();
        if segments.iter().any(|s| s.is_empty()) {
            return None;
        }
        Some(match segments.as_slice() {
            ["modules"] => Self::Modules,
            ["modules", name] => Self::Module(name),
            ["modules", name, "activate"] => Self::Activate(name),
            ["modules", name, "rollback"] => Self::Rollback(name),
            ["modules", name, "versions", version] => Self::Version(name, version),
            ["policies", workflow] => Self::Policy(workflow),
            _ => return None,
        })
    }

    fn methods(self) -> &'static [Method] {
        match self {
            Self::Modules => &[Method::GET],
            Self::Module(_) => &[Method::GET, Method::POST, Method::DELETE],
            Self::Activate(_) | Self::Rollback(_) => &[Method::POST],
            Self::Version(..) => &[Method::DELETE],
            Self::Policy(_) => &[Method::GET, Method::PUT],
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionBody {
    version: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackBody {
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainBody {
    #[serde(default)]
    workflow: Option<String>,
    entries: Vec<EntryBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryBody {
    module: String,
    #[serde(default)]
    mode: String,
}

async fn upload(
    state: &AdminState,
    call: &mut Call,
    name: &str,
    peer: Option<std::net::SocketAddr>,
) -> HttpResponse {
    let audit = Audit::module("http", peer, "UploadModule", name);
    let limit = state.registry.settings().max_upload_bytes;
    let activate = match activate_flag(call.head.uri.query()) {
        Ok(activate) => activate,
        Err(text) => return error(StatusCode::BAD_REQUEST, &text),
    };
    let signature = match call.head.headers.get(SIGNATURE_HEADER) {
        None => String::new(),
        Some(value) => match value.to_str() {
            Ok(text) => text.trim().to_string(),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "the Postern-Signature header is not ASCII text",
                );
            }
        },
    };
    if let Some(length) = http::content_length(&call.head.headers)
        && length > limit as u64
    {
        let refusal = RegistryError::TooLarge {
            size: usize::try_from(length).unwrap_or(usize::MAX),
            limit,
        };
        audit.record(None, &Err::<(), _>(&refusal));
        return call.closing(refused(&refusal));
    }
    let body = match call.read(limit as u64, UPLOAD_TIMEOUT).await {
        Ok(body) => body,
        Err(e) => {
            audit.record(None, &Err::<(), _>(&e));
            return call.body_refused(&e);
        }
    };
    let result = state
        .registry
        .upload(name, Arc::from(body.as_ref()), &signature, activate)
        .await;
    let made = result.as_ref().ok().map(|o| o.version.as_str());
    audit.record(made, &result);
    match result {
        Ok(outcome) => json(StatusCode::OK, &convert::upload_json(&outcome)),
        Err(e) => refused(&e),
    }
}

/// `?activate=false` stages an upload without making it active.
fn activate_flag(query: Option<&str>) -> Result<bool, String> {
    let mut activate = true;
    for pair in query.unwrap_or("").split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "activate" {
            continue;
        }
        activate = match value {
            "" | "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(format!(
                    "activate={other}: use activate=true or activate=false"
                ));
            }
        };
    }
    Ok(activate)
}

async fn read_json<T: DeserializeOwned>(call: &mut Call) -> Result<T, HttpResponse> {
    if http::content_length(&call.head.headers).is_some_and(|length| length > JSON_LIMIT) {
        let text = BodyError::TooLarge(JSON_LIMIT).to_string();
        return Err(call.closing(error(StatusCode::PAYLOAD_TOO_LARGE, &text)));
    }
    let body = match call.read(JSON_LIMIT, JSON_TIMEOUT).await {
        Ok(body) => body,
        Err(e) => return Err(call.body_refused(&e)),
    };
    // An empty body reads as `{}`: `curl -X POST …/rollback` needs no `-d`.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &body
    };
    serde_json::from_slice(body)
        .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("invalid JSON body: {e}")))
}

fn module_reply(result: Result<ModuleInfo, RegistryError>) -> HttpResponse {
    match result {
        Ok(module) => json(StatusCode::OK, &convert::module_json(&module)),
        Err(e) => refused(&e),
    }
}

fn refused<E: Refusal>(error: &E) -> HttpResponse {
    self::error(error.http_status(), &error.to_string())
}

fn error(status: StatusCode, text: &str) -> HttpResponse {
    json(status, &serde_json::json!({ "error": text }))
}

fn json<T: serde::Serialize + ?Sized>(status: StatusCode, value: &T) -> HttpResponse {
    let body = serde_json::to_vec(value).expect("admin replies serialize");
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("a JSON response is valid")
}

fn empty(status: StatusCode) -> HttpResponse {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .expect("an empty response is valid")
}

/// A request being answered; `body` is `None` once read.
struct Call {
    head: Parts,
    body: Option<Incoming>,
}

impl Call {
    /// The whole body, within `limit` bytes and `timeout`.
    async fn read(&mut self, limit: u64, timeout: Duration) -> Result<Bytes, BodyError> {
        let body = self
            .body
            .take()
            .ok_or_else(|| BodyError::Io("the body was already read".into()))?;
        http::read_body(body, limit, timeout).await
    }

    /// The reply to a body that could not be read.
    fn body_refused(&self, error: &BodyError) -> HttpResponse {
        let text = error.to_string();
        match error {
            BodyError::TooLarge(_) => {
                self.closing(self::error(StatusCode::PAYLOAD_TOO_LARGE, &text))
            }
            BodyError::TimedOut(_) => self.closing(self::error(StatusCode::REQUEST_TIMEOUT, &text)),
            BodyError::Io(_) => self::error(StatusCode::BAD_REQUEST, &text),
        }
    }

    /// On HTTP/1 the rest of an unread body would be taken for the next
    /// request; HTTP/2 has no such header (and its streams end alone).
    fn closing(&self, mut response: HttpResponse) -> HttpResponse {
        if self.head.version < Version::HTTP_2 {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
