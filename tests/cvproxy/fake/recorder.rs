//! Every gRPC call and every REST pre-flight, in arrival order.

use std::sync::Mutex;

use tokio::sync::watch;

use super::knobs::short_method;

/// One gRPC call as it arrived, recorded before authentication and before
/// any scripted failure, so failed and retried attempts are all here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedCall {
    /// `/arista.workspace.v1.WorkspaceService/GetOne`.
    pub path: String,
    /// The `authorization` metadata value, if sent.
    pub authorization: Option<String>,
    /// The request message exactly as sent (the gRPC frame's payload).
    pub message: Vec<u8>,
}

impl RecordedCall {
    /// `WorkspaceService/GetOne`.
    pub fn method(&self) -> String {
        short_method(&self.path)
    }

    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, prost::DecodeError> {
        M::decode(self.message.as_slice())
    }
}

/// One REST pre-flight request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreflightRequest {
    pub method: String,
    /// Path and query as requested.
    pub target: String,
    /// `HTTP/1.1` or `HTTP/2.0`.
    pub version: String,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl PreflightRequest {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub(super) struct Recorder {
    calls: Mutex<Vec<RecordedCall>>,
    preflights: Mutex<Vec<PreflightRequest>>,
    /// Bumped after every record, for the waiters.
    generation: watch::Sender<u64>,
}

impl Recorder {
    pub fn new() -> Self {
        Recorder {
            calls: Mutex::new(Vec::new()),
            preflights: Mutex::new(Vec::new()),
            generation: watch::Sender::new(0),
        }
    }

    pub fn record_call(&self, call: RecordedCall) {
        lock(&self.calls).push(call);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn record_preflight(&self, request: PreflightRequest) {
        lock(&self.preflights).push(request);
        self.generation.send_modify(|g| *g += 1);
    }

    pub fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.calls).clone()
    }

    pub fn preflights(&self) -> Vec<PreflightRequest> {
        lock(&self.preflights).clone()
    }

    pub fn clear(&self) {
        lock(&self.calls).clear();
        lock(&self.preflights).clear();
    }

    pub fn count(&self, method: &str) -> usize {
        let method = short_method(method);
        lock(&self.calls)
            .iter()
            .filter(|c| c.method() == method)
            .count()
    }

    /// Resolves once at least `count` calls of `method` have arrived.
    pub async fn wait_for(&self, method: &str, count: usize) {
        let mut generation = self.generation.subscribe();
        // The sender lives as long as the recorder, so this cannot fail.
        let _ = generation.wait_for(|_| self.count(method) >= count).await;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
