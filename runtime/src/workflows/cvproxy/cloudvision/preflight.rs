//! The REST pre-flight (spec 3): `GET /cvpservice/cvpInfo/getCvpInfo.do`
//! over HTTP/1.1 and TLS, under one timeout, and the version it reports.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;

use super::connect::{HostOverrides, connect_tls, io_reason};
use super::errors::{CV_CLIENT_EXCEPTION, CvError};
use super::pure::pyrepr::PyVal;
use super::pure::server::CvServer;
use super::pure::version::{AnswerError, CvVersion, version_from_answer};

const PATH: &str = "/cvpservice/cvpInfo/getCvpInfo.do";
/// A version answer is a few hundred bytes; refuse anything huge.
const MAX_BODY: usize = 1024 * 1024;

/// D1 for one reason string.
fn unable(reason: &str) -> CvError {
    CvError::client(
        CV_CLIENT_EXCEPTION,
        format!(
            "Unable to get version from CloudVision server due to the following error: {}.",
            exception_args_repr(reason)
        ),
    )
}

/// `e.args` of a one-argument exception: `('<reason>',)`.
fn exception_args_repr(reason: &str) -> String {
    PyVal::Tuple(vec![PyVal::str(reason)]).repr()
}

/// Ask CloudVision for its version. Errors: D1, D2 (pyavd exceptions),
/// `ValueError` / `TypeError` (escaping).
pub(crate) async fn fetch_version(
    server: &CvServer,
    token: &str,
    tls: Arc<ClientConfig>,
    timeout: Duration,
    overrides: &HostOverrides,
) -> Result<CvVersion, CvError> {
    let Ok(authorization) = HeaderValue::from_str(&format!("Bearer {token}")) else {
        return Err(unable("Invalid cv_token: not a valid HTTP header value"));
    };
    let authority = server.authority();
    let transport = |reason: String| unable(&format!("Failed to connect to {authority}: {reason}"));
    let exchange = async {
        let stream = connect_tls(server, tls, timeout, overrides)
            .await
            .map_err(|failure| unable(&failure.to_string()))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| transport(hyper_reason(&e)))?;
        // Dropped with this future, also on a timeout or an early error.
        let _driver = AbortOnDrop(tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "cvproxy: pre-flight connection");
            }
        }));
        let mut request = hyper::Request::get(PATH)
            .body(Full::new(Bytes::from_static(b"{}")))
            .map_err(|e| transport(e.to_string()))?;
        let headers = request.headers_mut();
        if let Ok(host) = HeaderValue::from_str(&server.given) {
            headers.insert(HOST, host);
        }
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!("postern/", env!("CARGO_PKG_VERSION"))),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("*/*"));
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| transport(hyper_reason(&e)))?;
        let status = response.status();
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("").to_owned());
        let body = Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    transport(format!("response larger than {MAX_BODY} bytes"))
                } else {
                    match e.downcast::<hyper::Error>() {
                        Ok(h) => transport(hyper_reason(&h)),
                        Err(other) => transport(other.to_string()),
                    }
                }
            })?
            .to_bytes();
        Ok::<_, CvError>((status.as_u16(), reason, body))
    };
    let (status, reason, body) = match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result?,
        Err(_) => return Err(transport("timed out".to_owned())),
    };
    if let Some(kind) = match status {
        400..=499 => Some("Client"),
        500..=599 => Some("Server"),
        _ => None,
    } {
        return Err(unable(&format!(
            "{status} {kind} Error: {reason} for url: {}",
            requests_url(server)
        )));
    }
    let text = String::from_utf8_lossy(&body);
    version_from_answer(&text).map_err(|e| match e {
        AnswerError::Unusable => CvError::client(
            CV_CLIENT_EXCEPTION,
            format!("Unable to get version from CloudVision server. Got {text}"),
        ),
        AnswerError::InvalidVersion(message) => CvError::escaping("ValueError", message),
        AnswerError::TypeError(message) => CvError::escaping("TypeError", message),
    })
}

/// Aborts the connection task when the pre-flight is done or abandoned.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The URL as requests prints it: the host lower-cased.
fn requests_url(server: &CvServer) -> String {
    format!("https://{}{PATH}", server.given.to_ascii_lowercase())
}

fn hyper_reason(e: &hyper::Error) -> String {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return io_reason(io);
        }
        source = err.source();
    }
    e.to_string()
}
