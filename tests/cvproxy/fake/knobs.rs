//! Per-test settings of the fake: the token, the pre-flight answer, when
//! workspace outcomes are announced, and the failure scripts of spec 13.5.

use std::collections::{BTreeSet, HashMap, VecDeque};

use tonic::Code;

/// The token the fake accepts unless a test sets another.
pub const DEFAULT_TOKEN: &str = "fake-cv-token";

/// What `GET /cvpservice/cvpInfo/getCvpInfo.do` answers to an authorized
/// request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Preflight {
    /// 200 `{"version": "<v>"}` (any string, valid or not).
    Version(String),
    /// This status and body verbatim (a bare version string, a JSON object
    /// without `version`, a 500 …).
    Raw { status: u16, body: String },
}

/// When the asynchronous workspace events (a new workspace becoming
/// PENDING, the outcome of a build/submit/rebase request) take effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeTiming {
    /// Default, like a real CloudVision whose builds take a while: an event
    /// waits for the next `Subscribe` on its workspace and reaches it (and
    /// every other open stream) as an `UPDATED` message right after
    /// `INITIAL_SYNC_COMPLETE`. Without one it takes effect after
    /// [`FALLBACK_DELAY`](super::FALLBACK_DELAY).
    OnSubscribe,
    /// At once, before the unary `Set` answers: a later `Subscribe` finds the
    /// result in its `INITIAL` message.
    Immediate,
    /// Not until the test calls `release_outcomes()` or `settle()`.
    Held,
}

/// A scripted answer to one call, decided before the call reaches its
/// handler.
#[derive(Clone, Debug)]
pub(super) enum Scripted {
    /// A trailers-only gRPC error.
    Status(Code, String),
    /// HTTP/2 RST_STREAM with error code 2 (INTERNAL_ERROR), no answer.
    Reset,
}

pub(super) struct Knobs {
    pub token: String,
    pub preflight: Preflight,
    /// Issue #5875: a wrong token is accepted, but the inventory looks empty
    /// to it.
    pub expired_token_mode: bool,
    pub timing: OutcomeTiming,
    /// Builds that still answer `needs_rebase = true`.
    pub rebase_builds: usize,
    /// Scripted submit failures, one per submit: (code, message).
    pub submit_failures: VecDeque<(i32, String)>,
    /// Scripted rebase failures, one per rebase: the message.
    pub rebase_failures: VecDeque<String>,
    /// Serials whose build fails whenever they are part of a build.
    pub failing_build_devices: BTreeSet<String>,
    /// Serials switched to INACTIVE right after the next `DeviceService/GetAll`.
    pub deactivate_after_inventory: Vec<String>,
    /// Receive limit per short method name (`*` = every method).
    pub receive_limits: HashMap<String, usize>,
    /// One-shot answers per short method name, consumed in order.
    pub scripted: HashMap<String, VecDeque<Scripted>>,
    /// Standing answers per short method name, used when no one-shot is queued.
    pub standing: HashMap<String, Scripted>,
    /// Per-item errors of `ConfigletConfigService/SetSome` and `/Set`, by configlet id.
    pub configlet_item_errors: HashMap<String, String>,
    /// `change.notes` of the change controls a submit creates.
    pub change_control_notes: Option<String>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            token: DEFAULT_TOKEN.to_owned(),
            preflight: Preflight::Version("CVaaS".to_owned()),
            expired_token_mode: false,
            timing: OutcomeTiming::OnSubscribe,
            rebase_builds: 0,
            submit_failures: VecDeque::new(),
            rebase_failures: VecDeque::new(),
            failing_build_devices: BTreeSet::new(),
            deactivate_after_inventory: Vec::new(),
            receive_limits: HashMap::new(),
            scripted: HashMap::new(),
            standing: HashMap::new(),
            configlet_item_errors: HashMap::new(),
            change_control_notes: Some(String::new()),
        }
    }
}

impl Knobs {
    /// The scripted answer for the next call of `method`, if any.
    pub fn take_scripted(&mut self, method: &str) -> Option<Scripted> {
        if let Some(queue) = self.scripted.get_mut(method)
            && let Some(next) = queue.pop_front()
        {
            return Some(next);
        }
        self.standing.get(method).cloned()
    }

    pub fn receive_limit(&self, method: &str) -> Option<usize> {
        self.receive_limits
            .get(method)
            .or_else(|| self.receive_limits.get("*"))
            .copied()
    }

    pub fn authorized(&self, authorization: Option<&str>) -> bool {
        authorization.is_some_and(|value| {
            value
                .strip_prefix("Bearer ")
                .is_some_and(|token| token == self.token)
        })
    }
}

/// `WorkspaceService/GetOne` from `/arista.workspace.v1.WorkspaceService/GetOne`
/// (or from the short form itself).
pub fn short_method(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    match trimmed.split_once('/') {
        Some((service, method)) => {
            let service = service.rsplit('.').next().unwrap_or(service);
            format!("{service}/{method}")
        }
        None => trimmed.to_owned(),
    }
}
