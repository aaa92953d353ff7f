//! One TLS port for everything, like CloudVision on 443: a hyper-util
//! auto (HTTP/1.1 + h2) server routes the REST pre-flight to `rest` and
//! `application/grpc` requests to the tonic services. Before a gRPC call
//! reaches its service, this layer records it, checks the token, and applies
//! the scripted answers: a gRPC error, an HTTP/2 stream reset, or the
//! receive-size limit with grpc-go's wording.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tonic::body::Body;
use tonic::service::Routes;
use tonic::{Code, Status};
use tower::ServiceExt;

use super::Inner;
use super::knobs::{Scripted, short_method};
use super::recorder::RecordedCall;
use super::rest;

/// The service error that makes hyper's h2 server answer the stream with
/// RST_STREAM INTERNAL_ERROR (code 2), which tonic cannot do.
#[derive(Debug)]
pub(super) struct ResetStream;

impl fmt::Display for ResetStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("scripted stream reset (INTERNAL_ERROR)")
    }
}

impl std::error::Error for ResetStream {}

/// Accepts connections until the task is aborted; dropping the task drops
/// every connection with it.
pub(super) async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    inner: Arc<Inner>,
    routes: Routes,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                // Like a real server: small gRPC frames must not wait for
                // the peer's delayed ACK (Nagle).
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let inner = Arc::clone(&inner);
                let routes = routes.clone();
                connections.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |request| {
                        handle(Arc::clone(&inner), routes.clone(), request)
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(tls), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(
    inner: Arc<Inner>,
    routes: Routes,
    request: Request<Incoming>,
) -> Result<Response<Body>, ResetStream> {
    if request.uri().path() == rest::PATH {
        return Ok(rest::handle(&inner, request).await);
    }
    let is_grpc = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    if !is_grpc {
        return Ok(rest::text(StatusCode::NOT_FOUND, "Not Found"));
    }

    let (parts, body) = request.into_parts();
    // Every method here is unary or server-streaming: the request is one
    // message and the client half-closes after it.
    let Ok(collected) = body.collect().await else {
        return Err(ResetStream);
    };
    let bytes = collected.to_bytes();
    let path = parts.uri.path().to_owned();
    let authorization = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let message = grpc_payload(&bytes);
    inner.recorder.record_call(RecordedCall {
        path: path.clone(),
        authorization: authorization.clone(),
        message: message.to_vec(),
    });

    let method = short_method(&path);
    {
        let mut knobs = inner.knobs();
        if !knobs.expired_token_mode && !knobs.authorized(authorization.as_deref()) {
            return Ok(status_response(Status::unauthenticated("invalid token")));
        }
        match knobs.take_scripted(&method) {
            Some(Scripted::Reset) => return Err(ResetStream),
            Some(Scripted::Status(code, message)) => {
                return Ok(status_response(Status::new(code, message)));
            }
            None => {}
        }
        if let Some(limit) = knobs.receive_limit(&method)
            && message.len() > limit
        {
            return Ok(status_response(Status::new(
                Code::ResourceExhausted,
                format!(
                    "grpc: received message larger than max ({} vs. {limit})",
                    message.len()
                ),
            )));
        }
    }

    let request = Request::from_parts(parts, Full::new(bytes));
    let response: Result<Response<Body>, Infallible> = routes.oneshot(request).await;
    match response {
        Ok(response) => Ok(response),
        Err(never) => match never {},
    }
}

/// The message of a gRPC length-prefixed frame (the whole body when it is
/// not one well-formed frame, so nothing is lost from the record).
fn grpc_payload(body: &Bytes) -> Bytes {
    if body.len() >= 5 {
        let length = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
        if body.len() == 5 + length {
            return body.slice(5..);
        }
    }
    body.clone()
}

/// A trailers-only gRPC answer.
fn status_response(status: Status) -> Response<Body> {
    status.into_http::<Body>()
}
