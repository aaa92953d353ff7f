//! The request body as a stream of chunks, bounded in size (413 past
//! `max_body_bytes`) and in time (no chunk for `body_idle_timeout`), and
//! the drain that lets an early answer reach a client still uploading
//! (spec 13.2, "answering early").

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};

/// Why the body stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyFault {
    #[error("the body is longer than spiro.limits.max_body_bytes ({0} bytes)")]
    TooLarge(u64),
    #[error("the client sent nothing for {0:?}")]
    Idle(Duration),
    #[error("reading the body: {0}")]
    Io(String),
    #[error("the multipart body has no part boundary or part headers within {0} bytes")]
    Unparsed(u64),
}

/// How much of the body may arrive without the parser handing anything on.
/// The multipart parser buffers while it looks for a boundary or the end of
/// a part's headers; streaming data passes straight through. Far above what
/// it legitimately holds (one or two socket reads), far below the body limit.
pub const MAX_UNPARSED_BYTES: u64 = 8 << 20;

/// What a [`BoundedBody`] saw, shared with whoever reads its stream
/// through a parser that hides the stream's own errors.
#[derive(Debug, Default)]
pub struct BodyState {
    pub received: u64,
    /// Received since the consumer last reported progress.
    pub unparsed: u64,
    pub fault: Option<BodyFault>,
}

impl BodyState {
    /// The parser handed on a part or some of its data.
    pub fn progress(&mut self) {
        self.unparsed = 0;
    }
}

/// Body chunks, each within the idle timeout, at most `limit` in total.
pub fn bounded_stream(
    body: Incoming,
    limit: u64,
    idle: Duration,
    state: Arc<Mutex<BodyState>>,
) -> impl Stream<Item = Result<Bytes, BodyFault>> + Send + 'static {
    futures_util::stream::unfold(Some(body), move |body| {
        let state = Arc::clone(&state);
        async move {
            let mut body = body?;
            let fault = loop {
                match tokio::time::timeout(idle, body.frame()).await {
                    Err(_) => break BodyFault::Idle(idle),
                    Ok(None) => return None,
                    Ok(Some(Err(error))) => break BodyFault::Io(error.to_string()),
                    Ok(Some(Ok(frame))) => {
                        let Ok(data) = frame.into_data() else {
                            continue; // trailers
                        };
                        let mut seen = lock(&state);
                        seen.received += data.len() as u64;
                        seen.unparsed += data.len() as u64;
                        if seen.received > limit {
                            break BodyFault::TooLarge(limit);
                        }
                        if seen.unparsed > MAX_UNPARSED_BYTES {
                            break BodyFault::Unparsed(MAX_UNPARSED_BYTES);
                        }
                        drop(seen);
                        return Some((Ok(data), Some(body)));
                    }
                }
            };
            lock(&state).fault = Some(fault.clone());
            Some((Err(fault), None))
        }
    })
}

fn lock(state: &Mutex<BodyState>) -> std::sync::MutexGuard<'_, BodyState> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads and discards the rest of a body stream (never beyond its size
/// bound); discarding is progress, so the parse bound does not apply.
pub async fn drain<S>(stream: S, state: &Mutex<BodyState>)
where
    S: Stream<Item = Result<Bytes, BodyFault>>,
{
    use futures_util::StreamExt;
    let mut stream = std::pin::pin!(stream);
    while let Some(Ok(_)) = stream.next().await {
        lock(state).progress();
    }
}

/// A response body fed through a channel: the event stream, or a file
/// read on another task. Ends when the sender is dropped.
pub struct ChannelBody {
    receiver: tokio::sync::mpsc::Receiver<Bytes>,
}

impl ChannelBody {
    pub fn new(capacity: usize) -> (tokio::sync::mpsc::Sender<Bytes>, Self) {
        let (sender, receiver) = tokio::sync::mpsc::channel(capacity);
        (sender, Self { receiver })
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.receiver
            .poll_recv(cx)
            .map(|chunk| chunk.map(|data| Ok(Frame::data(data))))
    }
}
