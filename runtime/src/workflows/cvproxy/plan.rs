//! What the guest hands the host: one validated deployment (spec 2.5), and
//! what the deployment reports back for the reply (spec 11.1).

/// One device of the request, in document order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceSpec {
    /// The key of the `devices` entry.
    pub hostname: String,
    pub serial_number: Option<String>,
    /// The configlet body (decoded, UTF-8).
    pub configlet: String,
    /// Device tags (label, value) in document order; empty without `tags`.
    pub tags: Vec<(String, String)>,
}

/// A validated request: everything the CloudVision deployment needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployPlan {
    pub devices: Vec<DeviceSpec>,
    /// As given: `host`, `host:port`, `[v6]` or `[v6]:port` (form checked by the guest).
    pub cv_server: String,
    pub cv_token: String,
    pub change_control_name: Option<String>,
    pub strict_tags: bool,
    pub delete_workspace: bool,
}

/// The workspace's end state, for logs and metrics (spec 11.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkspaceOutcome {
    /// No workspace was created (pre-flight or version failure).
    None,
    Pending,
    Built,
    Submitted,
    BuildFailed,
    SubmitFailed,
    SynchronizationFailed,
    Abandoned,
}

impl WorkspaceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Pending => "pending",
            Self::Built => "built",
            Self::Submitted => "submitted",
            Self::BuildFailed => "build failed",
            Self::SubmitFailed => "submit failed",
            Self::SynchronizationFailed => "synchronization failed",
            Self::Abandoned => "abandoned",
        }
    }
}

/// The result of one deployment, as the reply needs it (spec 2.6, 11.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployReport {
    /// Deployment-stage error texts in the order they occurred; empty on success.
    pub errors: Vec<String>,
    /// `Some` when the submit created a change control: its final name, or
    /// `None` when CloudVision returned none (the reply then shows `null`).
    pub change_control: Option<Option<String>>,
    pub workspace_id: Option<String>,
    pub workspace: WorkspaceOutcome,
}
