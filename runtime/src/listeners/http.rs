//! HTTP/1.1 and h2c (and both over TLS) with hyper: routing by method and
//! path, a body size limit per route, keep-alive, a connection limit per
//! listener and graceful drain. What a route does is the caller's business.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

use super::tcp::{Accepted, TcpServe};
use crate::shutdown::Shutdown;

pub type HttpResponse = Response<Full<Bytes>>;

/// Who sent a request, for handlers that log or decide by it.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub addr: SocketAddr,
}

pub type HttpHandler = Arc<
    dyn Fn(Request<Incoming>, Peer) -> Pin<Box<dyn Future<Output = HttpResponse> + Send>>
        + Send
        + Sync,
>;

/// A plain-text response.
pub fn text(status: StatusCode, body: impl Into<Bytes>) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(body.into()))
        .expect("a static response is valid")
}

/// The one-line `<code> <reason>` text reply of simple HTTP servers.
pub fn status_text(status: StatusCode) -> HttpResponse {
    // RFC 9110 renamed 413; the `http` crate still has the old phrase.
    let reason = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "Content Too Large",
        _ => status.canonical_reason().unwrap_or(""),
    };
    let mut response = text(status, format!("{} {reason}", status.as_u16()));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    response
}

/// Which paths a route serves.
#[derive(Clone, Debug)]
pub enum PathMatch {
    /// Every path (a workflow that ignores the path, like cvproxy).
    Any,
    Exact(String),
    Prefix(String),
}

impl PathMatch {
    fn matches(&self, path: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(exact) => path == exact,
            Self::Prefix(prefix) => path.starts_with(prefix.as_str()),
        }
    }
}

pub struct Route {
    /// `None` serves every method (the handler answers unsupported ones).
    pub method: Option<Method>,
    pub path: PathMatch,
    /// Requests announcing a longer body get 413 before the handler runs;
    /// handlers read bodies through [`read_body`] with the same bound.
    pub max_body_bytes: u64,
    pub handler: HttpHandler,
}

/// Routes in order; the first whose path and method match serves.
#[derive(Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    async fn dispatch(&self, request: Request<Incoming>, peer: Peer) -> HttpResponse {
        let path = request.uri().path();
        let mut path_known = false;
        for route in &self.routes {
            if !route.path.matches(path) {
                continue;
            }
            path_known = true;
            if route
                .method
                .as_ref()
                .is_some_and(|method| method != request.method())
            {
                continue;
            }
            if announced_length(&request).is_some_and(|length| length > route.max_body_bytes) {
                return status_text(StatusCode::PAYLOAD_TOO_LARGE);
            }
            return (route.handler)(request, peer).await;
        }
        if path_known {
            status_text(StatusCode::METHOD_NOT_ALLOWED)
        } else {
            status_text(StatusCode::NOT_FOUND)
        }
    }
}

/// The request's `Content-Length`, if it has a valid one.
pub fn announced_length<B>(request: &Request<B>) -> Option<u64> {
    content_length(request.headers())
}

/// The `Content-Length` in `headers`, if valid.
pub fn content_length(headers: &hyper::HeaderMap) -> Option<u64> {
    headers
        .get(hyper::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the body is longer than {0} bytes")]
    TooLarge(u64),
    #[error("the body did not arrive within {0:?}")]
    TimedOut(Duration),
    #[error("reading the body: {0}")]
    Io(String),
}

/// Reads a whole body, at most `limit` bytes and within `timeout` (a client
/// that announces more than it sends must not hold a task forever).
pub async fn read_body(body: Incoming, limit: u64, timeout: Duration) -> Result<Bytes, BodyError> {
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    let collect = Limited::new(body, limit_usize).collect();
    match tokio::time::timeout(timeout, collect).await {
        Err(_) => Err(BodyError::TimedOut(timeout)),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(error)) if error.is::<http_body_util::LengthLimitError>() => {
            Err(BodyError::TooLarge(limit))
        }
        Ok(Err(error)) => Err(BodyError::Io(error.to_string())),
    }
}

/// An HTTP listener: TLS optional, a connection limit, the router.
pub struct HttpServe {
    pub name: &'static str,
    pub listener: TcpListener,
    pub tls: Option<TlsAcceptor>,
    pub max_connections: usize,
    pub router: Router,
}

impl HttpServe {
    /// Serves until shutdown; open connections then finish the requests in
    /// flight and close.
    pub async fn run(self, shutdown: Shutdown) {
        let name = self.name;
        let router = Arc::new(self.router);
        ServiceServe {
            name,
            listener: self.listener,
            tls: self.tls,
            max_connections: self.max_connections,
            make_service: move |peer: Peer| {
                let router = Arc::clone(&router);
                hyper::service::service_fn(move |request: Request<Incoming>| {
                    let router = Arc::clone(&router);
                    async move { Ok::<_, Infallible>(router.dispatch(request, peer).await) }
                })
            },
        }
        .run(shutdown)
        .await
    }
}

/// A listener serving any hyper service, for responses a [`Router`] cannot
/// give: streamed bodies and trailers (gRPC). Same accept loop, connection
/// limit, header timeout and graceful drain as [`HttpServe`].
pub struct ServiceServe<M> {
    pub name: &'static str,
    pub listener: TcpListener,
    pub tls: Option<TlsAcceptor>,
    pub max_connections: usize,
    /// Builds the service of one connection.
    pub make_service: M,
}

impl<M, S, B> ServiceServe<M>
where
    M: Fn(Peer) -> S + Send + Sync + 'static,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    /// Serves until shutdown; open connections then finish the requests in
    /// flight and close.
    pub async fn run(self, shutdown: Shutdown) {
        let name = self.name;
        let make_service = Arc::new(self.make_service);
        let mut builder = auto::Builder::new(TokioExecutor::new());
        // The timer enables hyper's header-read timeout (slow-header clients).
        builder.http1().timer(TokioTimer::new());
        builder.http2().timer(TokioTimer::new());
        let builder = Arc::new(builder);
        let handler: super::tcp::Handler = Arc::new(move |accepted: Accepted, shutdown| {
            let make_service = Arc::clone(&make_service);
            let builder = Arc::clone(&builder);
            Box::pin(serve_connection(
                name,
                accepted,
                make_service,
                builder,
                shutdown,
            ))
        });
        TcpServe {
            protocol: name,
            listener: self.listener,
            tls: self.tls,
            handshake_timeout: Duration::from_secs(10),
            max_connections: self.max_connections,
            handler,
        }
        .run(shutdown)
        .await
    }
}

async fn serve_connection<M, S, B>(
    name: &'static str,
    accepted: Accepted,
    make_service: Arc<M>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    shutdown: Shutdown,
) where
    M: Fn(Peer) -> S,
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let peer = Peer {
        addr: accepted.peer,
    };
    let service = Traced {
        name,
        inner: make_service(peer),
    };
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(accepted.io), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = shutdown.requested() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(listener = name, peer = %peer.addr, %error, "http connection ended with an error");
    }
}

/// Runs every request of a connection in its own span (HTTP/2 streams are
/// served by separate tasks, outside the connection's span).
struct Traced<S> {
    name: &'static str,
    inner: S,
}

impl<S> hyper::service::Service<Request<Incoming>> for Traced<S>
where
    S: hyper::service::Service<Request<Incoming>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tracing::instrument::Instrumented<S::Future>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let span = tracing::debug_span!("request", listener = self.name, method = %request.method(), path = %request.uri().path());
        // Below debug, at least keep the connection's span (and its peer).
        let span = if span.is_disabled() {
            tracing::Span::current()
        } else {
            span
        };
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        future.instrument(span)
    }
}

/// Serves one handler on every path and method (the admin endpoint).
pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    handler: HttpHandler,
    shutdown: Shutdown,
) {
    HttpServe {
        name,
        listener,
        tls: None,
        max_connections: 256,
        router: Router::new().route(Route {
            method: None,
            path: PathMatch::Any,
            max_body_bytes: 1 << 20,
            handler,
        }),
    }
    .run(shutdown)
    .await
}
