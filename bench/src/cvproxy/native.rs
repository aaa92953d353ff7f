//! The baseline: Postern's own HTTP listener with the cvproxy front-door
//! checks and the `cvproxy` guest's validation compiled natively, so the
//! only difference from `postern serve` is WASM (instantiation and copies).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, StatusCode};
use postern::listeners::http::{self, HttpHandler, HttpServe, PathMatch, Route, Router};
use postern::shutdown::Shutdown;
use postern::workflows::cvproxy::reply::Reply;
use tokio::net::TcpListener;

const MAX_BODY: u64 = 64 << 20;

/// Serves until the process ends.
pub async fn serve(listener: TcpListener) {
    let handler: HttpHandler = Arc::new(|request, _peer| {
        Box::pin(async move {
            if request.method() != Method::POST {
                return http::status_text(StatusCode::NOT_IMPLEMENTED);
            }
            if !request
                .headers()
                .contains_key(hyper::header::CONTENT_LENGTH)
            {
                return http::status_text(StatusCode::BAD_REQUEST);
            }
            let json = request
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes() == b"application/json");
            let Ok(body) =
                http::read_body(request.into_body(), MAX_BODY, Duration::from_secs(60)).await
            else {
                return http::status_text(StatusCode::BAD_REQUEST);
            };
            if !json {
                return http::status_text(StatusCode::UNSUPPORTED_MEDIA_TYPE);
            }
            let reply = match postern_guest_cvproxy::plan(&body) {
                Err(error) => Reply::error(error),
                // The baseline measures validation; it deploys nothing.
                Ok(_) => Reply::Ok {
                    change_control: None,
                },
            };
            hyper::Response::builder()
                .header(hyper::header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(reply.to_json())))
                .expect("valid response")
        })
    });
    HttpServe {
        name: "native-baseline",
        listener,
        tls: None,
        max_connections: 1024,
        router: Router::new().route(Route {
            method: None,
            path: PathMatch::Any,
            max_body_bytes: MAX_BODY,
            handler,
        }),
    }
    .run(Shutdown::new())
    .await
}
