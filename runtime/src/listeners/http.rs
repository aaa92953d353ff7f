//! HTTP/1.1 and h2c serving with hyper: accept loop, keep-alive, graceful
//! drain. Routing and bodies are the caller's.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::shutdown::Shutdown;

pub type HttpResponse = Response<Full<Bytes>>;
pub type HttpHandler = Arc<
    dyn Fn(Request<Incoming>) -> Pin<Box<dyn Future<Output = HttpResponse> + Send>> + Send + Sync,
>;

/// A plain-text response.
pub fn text(status: hyper::StatusCode, body: impl Into<Bytes>) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(body.into()))
        .expect("a static response is valid")
}

/// Serves `handler` on `listener` until shutdown, then lets open
/// connections finish their in-flight requests.
pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    handler: HttpHandler,
    shutdown: Shutdown,
) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.requested() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(listener = name, %error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let handler = Arc::clone(&handler);
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let handler = Arc::clone(&handler);
            let span = tracing::debug_span!("request", listener = name, method = %request.method(), path = %request.uri().path());
            async move { Ok::<_, Infallible>(handler(request).await) }.instrument(span)
        });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        shutdown.spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(listener = name, %peer, error = %error, "http connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
}
