//! pyavd's exceptions as Postern reports them (spec 11.2, 11.3): a class
//! name, the `str()` text, and whether the exception escapes cvproxy's
//! deployment (then the reply shows `<Class>: <text>` alone).

use super::pure::pyrepr::{PyVal, exception_str, grpc_status_repr};

pub(crate) const CV_CLIENT_EXCEPTION: &str = "CVClientException";
pub(crate) const CV_GRPC_ERROR: &str = "CVGRPCError";
pub(crate) const CV_RESOURCE_NOT_FOUND: &str = "CVResourceNotFound";
pub(crate) const CV_TIMEOUT_ERROR: &str = "CVTimeoutError";
pub(crate) const CV_GRPC_STATUS_UNAVAILABLE: &str = "CVGRPCStatusUnavailable";
pub(crate) const CV_CLIENT_INVALID_SERVER_NAME: &str = "CVClientInvalidServerName";
pub(crate) const CV_MESSAGE_SIZE_EXCEEDED: &str = "CVMessageSizeExceeded";
pub(crate) const CV_WORKSPACE_FAILED: &str = "CVWorkspaceFailed";
pub(crate) const CV_WORKSPACE_BUILD_FAILED: &str = "CVWorkspaceBuildFailed";
pub(crate) const CV_WORKSPACE_SUBMIT_FAILED: &str = "CVWorkspaceSubmitFailed";
pub(crate) const CV_WORKSPACE_SUBMIT_FAILED_INACTIVE: &str =
    "CVWorkspaceSubmitFailedInactiveDevices";
pub(crate) const CV_WORKSPACE_SYNC_FAILED: &str = "CVWorkspaceSynchronizationFailed";
pub(crate) const CV_WORKSPACE_SYNC_EXHAUSTED: &str = "CVWorkspaceSynchronizationAttemptsExhausted";
pub(crate) const CV_DUPLICATED_DEVICES: &str = "CVDuplicatedDevices";

/// gRPC codes the client treats specially.
pub(crate) mod code {
    pub const CANCELLED: i32 = 1;
    pub const UNKNOWN: i32 = 2;
    pub const NOT_FOUND: i32 = 5;
    pub const RESOURCE_EXHAUSTED: i32 = 8;
    pub const UNAVAILABLE: i32 = 14;
}

/// One failure of the deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CvError {
    pub class: &'static str,
    /// `str(exception)`.
    pub text: String,
    /// Not derived from `CVClientException`: escapes cvproxy's deployment.
    pub escapes: bool,
    /// The gRPC status behind it, when there is one.
    pub grpc_code: Option<i32>,
    /// `(size, max)` of a `CVMessageSizeExceeded`.
    pub size_exceeded: Option<(u64, u64)>,
}

impl CvError {
    /// A pyavd (`CVClientException`-derived) error: a deployment-stage text.
    pub(crate) fn client(class: &'static str, text: impl Into<String>) -> Self {
        Self {
            class,
            text: text.into(),
            escapes: false,
            grpc_code: None,
            size_exceeded: None,
        }
    }

    /// A non-pyavd exception (`ValueError`, `LookupError`, ...).
    pub(crate) fn escaping(class: &'static str, text: impl Into<String>) -> Self {
        Self {
            class,
            text: text.into(),
            escapes: true,
            grpc_code: None,
            size_exceeded: None,
        }
    }

    fn with_code(mut self, code: i32) -> Self {
        self.grpc_code = Some(code);
        self
    }

    /// `<Class>: <text>`.
    pub(crate) fn prefixed(&self) -> String {
        format!("{}: {}", self.class, self.text)
    }

    /// The text as the deployment stage reports it.
    pub(crate) fn reply_text(&self) -> String {
        if self.escapes {
            self.prefixed()
        } else {
            self.text.clone()
        }
    }

    /// A `CVResourceNotFound` raised for gRPC `NOT_FOUND`.
    pub(crate) fn is_not_found(&self) -> bool {
        self.class == CV_RESOURCE_NOT_FOUND && self.grpc_code == Some(code::NOT_FOUND)
    }
}

/// The identifying keyword arguments of a failing call (spec 11.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CallIds {
    pub workspace_id: Option<String>,
    pub request_id: Option<String>,
    pub change_control_id: Option<String>,
}

impl CallIds {
    pub(crate) fn workspace(workspace_id: &str) -> Self {
        Self {
            workspace_id: Some(workspace_id.to_owned()),
            ..Self::default()
        }
    }

    pub(crate) fn none() -> Self {
        Self::default()
    }

    pub(crate) fn change_control(cc_id: &str) -> Self {
        Self {
            change_control_id: Some(cc_id.to_owned()),
            ..Self::default()
        }
    }

    pub(crate) fn with_request(mut self, request_id: &str) -> Self {
        self.request_id = Some(request_id.to_owned());
        self
    }

    fn kwargs(&self) -> PyVal {
        let mut entries = Vec::new();
        for (key, value) in [
            ("workspace_id", &self.workspace_id),
            ("request_id", &self.request_id),
            ("change_control_id", &self.change_control_id),
        ] {
            if let Some(v) = value {
                entries.push((key.to_owned(), PyVal::str(v.as_str())));
            }
        }
        PyVal::Dict(entries)
    }
}

/// `(<CVClient>,)`: the call's positional arguments.
fn call_args() -> PyVal {
    PyVal::Tuple(vec![PyVal::Raw("<CVClient>".to_owned())])
}

fn status_args(code: i32, message: Option<&str>) -> [PyVal; 3] {
    [
        PyVal::Raw(grpc_status_repr(code)),
        PyVal::opt_str(message),
        PyVal::None,
    ]
}

/// A gRPC status turned into `class(status, message, None, call_args, call_kwargs)` (D4).
pub(crate) fn grpc_status_error(
    class: &'static str,
    code: i32,
    message: Option<&str>,
    ids: &CallIds,
) -> CvError {
    let mut args = status_args(code, message).to_vec();
    args.push(call_args());
    args.push(ids.kwargs());
    CvError::client(class, exception_str(&args)).with_code(code)
}

/// The client's own deadline expired (D5).
pub(crate) fn client_timeout(ids: &CallIds) -> CvError {
    CvError::client(
        CV_TIMEOUT_ERROR,
        exception_str(&[call_args(), ids.kwargs()]),
    )
}

/// `CVClientException(description, call_args, call_kwargs)` (D7, D20).
pub(crate) fn described(description: &str, ids: &CallIds) -> CvError {
    CvError::client(
        CV_CLIENT_EXCEPTION,
        exception_str(&[PyVal::str(description), call_args(), ids.kwargs()]),
    )
}

/// What the last of the six attempts failed with (D6).
pub(crate) enum RetriedFailure {
    Status { code: i32, message: Option<String> },
    Reset { error_code: u32 },
}

/// `CVGRPCStatusUnavailable` after the last attempt (D6).
pub(crate) fn attempts_exhausted(
    method: &str,
    attempts: u32,
    failure: RetriedFailure,
    ids: &CallIds,
) -> CvError {
    let mut args = vec![PyVal::str(format!(
        "GRPCRequestHandler: Attempt {attempts}/{attempts} to execute call '{method}' failed."
    ))];
    let code = match failure {
        RetriedFailure::Status { code, message } => {
            args.extend(status_args(code, message.as_deref()));
            Some(code)
        }
        RetriedFailure::Reset { error_code } => {
            args.push(PyVal::str(reset_text(error_code)));
            None
        }
    };
    args.push(call_args());
    args.push(ids.kwargs());
    let mut e = CvError::client(CV_GRPC_STATUS_UNAVAILABLE, exception_str(&args));
    e.grpc_code = code;
    e
}

/// grpclib's text for a stream reset by the server.
pub(crate) fn reset_text(error_code: u32) -> String {
    format!("Stream reset by remote party, error_code: {error_code}")
}

/// `CVMessageSizeExceeded(status, message, None)` (D8).
pub(crate) fn size_exceeded(code: i32, message: &str, size: u64, max: u64) -> CvError {
    let mut e = CvError::client(
        CV_MESSAGE_SIZE_EXCEEDED,
        exception_str(&status_args(code, Some(message))),
    )
    .with_code(code);
    e.size_exceeded = Some((size, max));
    e
}
