//! pyavd's `GRPCRequestHandler` (spec 5): retries with exponential backoff
//! on `UNAVAILABLE` (and on stream resets with code 2 for the reads marked
//! "retry"), the mapping of failures to pyavd's exceptions, splitting lists
//! on "message larger than max", and bounded reading of streams.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tonic::codec::Streaming;

use super::client::Client;
use super::connect::ConnectFailure;
use super::errors::{
    CV_CLIENT_INVALID_SERVER_NAME, CV_GRPC_ERROR, CV_RESOURCE_NOT_FOUND, CV_TIMEOUT_ERROR, CallIds,
    CvError, RetriedFailure, attempts_exhausted, client_timeout, code, described,
    grpc_status_error, reset_text, size_exceeded,
};
use super::pure::chunking::{chunk_len, into_chunks, parse_size_exceeded, split_ratio};
use super::pure::server::cvaas_hint;

/// Retries after the first attempt (6 attempts in all).
const MAX_RETRIES: u32 = 5;

/// More streamed items than this from one call fail it cleanly.
pub(crate) const MAX_STREAM_ITEMS: usize = 1_000_000;

/// Why one attempt of a call failed.
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// A gRPC status (from the server or the transport).
    Status(tonic::Status),
    /// The client's own deadline for one gRPC call expired.
    Deadline,
    /// Another error inside the client method (D20).
    Described(String),
    /// An error the method raises itself; passed through unchanged.
    Final(CvError),
}

impl From<tonic::Status> for AttemptError {
    fn from(status: tonic::Status) -> Self {
        Self::Status(status)
    }
}

/// The decorated client method: its name (for D6) and identifying arguments.
#[derive(Clone, Debug)]
pub(crate) struct CallSpec {
    pub method: &'static str,
    pub ids: CallIds,
    /// Reads marked "read, retry" in spec 6.1 retry resets with code 2.
    pub retry_on_reset: bool,
}

impl CallSpec {
    pub(crate) fn write(method: &'static str, ids: CallIds) -> Self {
        Self {
            method,
            ids,
            retry_on_reset: false,
        }
    }

    pub(crate) fn read_retry(method: &'static str, ids: CallIds) -> Self {
        Self {
            method,
            ids,
            retry_on_reset: true,
        }
    }
}

/// What a failed gRPC status means for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Classified {
    /// No connection, or the connection broke (not a gRPC status).
    Transport(String),
    /// The server reset the stream (HTTP/2 RST_STREAM) with this code.
    Reset(u32),
    /// A status the server (or an intermediary) sent.
    Status { code: i32, message: Option<String> },
}

/// Look through a status's source chain for what really happened.
pub(crate) fn classify(status: &tonic::Status) -> Classified {
    let mut source: Option<&(dyn StdError + 'static)> = status.source();
    let mut transport = false;
    while let Some(err) = source {
        if let Some(failure) = err.downcast_ref::<ConnectFailure>() {
            return Classified::Transport(failure.to_string());
        }
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            if h2.is_reset()
                && h2.is_remote()
                && let Some(reason) = h2.reason()
            {
                return Classified::Reset(u32::from(reason));
            }
            transport = true;
        }
        if err.is::<hyper::Error>() || err.is::<std::io::Error>() {
            transport = true;
        }
        source = err.source();
    }
    if transport {
        tracing::debug!(%status, "cvproxy: CloudVision connection lost");
        return Classified::Transport("Connection lost".to_owned());
    }
    let message = status.message();
    Classified::Status {
        code: status.code() as i32,
        message: (!message.is_empty()).then(|| message.to_owned()),
    }
}

/// Run one gRPC call (or a client method made of several) under `deadline`.
pub(crate) async fn with_deadline<T>(
    deadline: Duration,
    fut: impl Future<Output = Result<T, AttemptError>>,
) -> Result<T, AttemptError> {
    tokio::time::timeout(deadline, fut)
        .await
        .unwrap_or(Err(AttemptError::Deadline))
}

/// Read a whole server stream, refusing more than `MAX_STREAM_ITEMS` items.
pub(crate) async fn collect<T>(mut stream: Streaming<T>) -> Result<Vec<T>, AttemptError> {
    let mut items = Vec::new();
    while let Some(item) = stream.message().await? {
        if items.len() >= MAX_STREAM_ITEMS {
            return Err(AttemptError::Described(format!(
                "CloudVision streamed more than {MAX_STREAM_ITEMS} items"
            )));
        }
        items.push(item);
    }
    Ok(items)
}

/// Read a server stream until `done` returns a value; `None` when the stream
/// ended first. Messages are looked at one by one, never accumulated.
pub(crate) async fn find_in_stream<T, R>(
    mut stream: Streaming<T>,
    mut done: impl FnMut(T) -> Option<R>,
) -> Result<Option<R>, AttemptError> {
    while let Some(item) = stream.message().await? {
        if let Some(found) = done(item) {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

impl Client {
    /// Run a client method with pyavd's error handling. `attempt` runs the
    /// whole method once; it is called again for each retry.
    pub(crate) async fn handle<T, F, Fut>(
        &self,
        spec: &CallSpec,
        mut attempt: F,
    ) -> Result<T, CvError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let ids = &spec.ids;
        let mut attempt_no: u32 = 1;
        loop {
            let error = match attempt().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let retried = match error {
                AttemptError::Final(e) => return Err(e),
                AttemptError::Deadline => return Err(client_timeout(ids)),
                AttemptError::Described(text) => return Err(described(&text, ids)),
                AttemptError::Status(status) => match classify(&status) {
                    Classified::Transport(text) => return Err(described(&text, ids)),
                    Classified::Reset(2) if spec.retry_on_reset => {
                        RetriedFailure::Reset { error_code: 2 }
                    }
                    Classified::Reset(n) => return Err(described(&reset_text(n), ids)),
                    Classified::Status { code, message } => match code {
                        code::UNAVAILABLE => RetriedFailure::Status { code, message },
                        _ => return Err(self.status_error(code, message, ids)),
                    },
                },
            };
            if attempt_no > MAX_RETRIES {
                return Err(attempts_exhausted(spec.method, attempt_no, retried, ids));
            }
            let delay = self
                .retry_base_delay
                .saturating_mul(2u32.pow(attempt_no - 1));
            tracing::warn!(
                "cvproxy: GRPCRequestHandler: Attempt {attempt_no}/{} to execute call '{}' failed; retrying in {delay:?}",
                MAX_RETRIES + 1,
                spec.method,
            );
            tokio::time::sleep(delay).await;
            attempt_no += 1;
        }
    }

    /// A non-retried status as pyavd raises it.
    fn status_error(&self, code: i32, message: Option<String>, ids: &CallIds) -> CvError {
        match code {
            code::NOT_FOUND => {
                grpc_status_error(CV_RESOURCE_NOT_FOUND, code, message.as_deref(), ids)
            }
            code::CANCELLED => grpc_status_error(CV_TIMEOUT_ERROR, code, message.as_deref(), ids),
            code::RESOURCE_EXHAUSTED => match message.as_deref().and_then(parse_size_exceeded) {
                Some((size, max)) => {
                    size_exceeded(code, message.as_deref().unwrap_or_default(), size, max)
                }
                None => grpc_status_error(CV_GRPC_ERROR, code, message.as_deref(), ids),
            },
            code::UNKNOWN if self.version.is_cvaas() => match cvaas_hint(&self.host) {
                Some(hint) => CvError::client(CV_CLIENT_INVALID_SERVER_NAME, hint),
                None => grpc_status_error(CV_GRPC_ERROR, code, message.as_deref(), ids),
            },
            _ => grpc_status_error(CV_GRPC_ERROR, code, message.as_deref(), ids),
        }
    }
}

/// A boxed future, for the recursive list splitting.
pub(crate) type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Call with the whole list; on "message larger than max" split it into
/// `max(2, ceil(size/max))`-ratio chunks sent in order (recursively), and
/// concatenate the results. A list of fewer than 2 items is not split.
pub(crate) fn with_splitting<'a: 'f, 'f, T, R, F>(
    items: Vec<T>,
    call: &'f F,
) -> BoxFut<'f, Result<Vec<R>, CvError>>
where
    T: Clone + Send + Sync + 'f,
    R: Send + 'f,
    F: Fn(Vec<T>) -> BoxFut<'a, Result<Vec<R>, CvError>> + Sync,
{
    Box::pin(async move {
        if items.len() < 2 {
            return call(items).await;
        }
        match call(items.clone()).await {
            Err(CvError {
                size_exceeded: Some((size, max)),
                ..
            }) => {
                let chunk = chunk_len(items.len(), split_ratio(size, max));
                tracing::info!(
                    "cvproxy: message size {size} exceeded the max of {max}; splitting {} items into chunks of {chunk}",
                    items.len()
                );
                let mut results = Vec::new();
                for part in into_chunks(items, chunk) {
                    results.extend(with_splitting(part, call).await?);
                }
                Ok(results)
            }
            other => other,
        }
    })
}
