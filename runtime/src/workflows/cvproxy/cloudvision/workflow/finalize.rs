//! S23–S27 and the rebase (spec 6.3): build, submit, synchronize. Failures
//! here abandon nothing.

use super::super::api::workspace::WorkspaceRequest;
use super::super::errors::{
    CV_WORKSPACE_BUILD_FAILED, CV_WORKSPACE_SUBMIT_FAILED, CV_WORKSPACE_SUBMIT_FAILED_INACTIVE,
    CV_WORKSPACE_SYNC_EXHAUSTED, CV_WORKSPACE_SYNC_FAILED, CvError,
};
use super::super::pure::devices::inactive_device_labels;
use super::super::pure::pyrepr::{list_repr_str, workspace_response_repr};
use super::super::pure::version::unsupported_version_message;
use super::{Deployment, Finalized, MAX_SYNC_RETRIES};
use crate::workflows::cvproxy::plan::WorkspaceOutcome;
use crate::workflows::cvproxy::proto::arista::workspace::v1 as ws;

const FORCE_HINT: &str = "Use `cv_submit_workspace_force: true` (if using role `cv_deploy`) or `workspace['force']: true` (if using action plugin `cv_workflow`) to override.";

fn response_repr(r: &ws::Response) -> String {
    workspace_response_repr(r.status, r.message.as_deref(), r.code)
}

impl Deployment<'_> {
    /// Build, then submit when the build succeeded.
    pub(super) async fn finalize_workspace(&mut self) -> Result<Finalized, CvError> {
        let id = self.workspace_id;
        let request_id = self
            .client
            .request_workspace(id, WorkspaceRequest::StartBuild)
            .await?;
        let (build, workspace) = self
            .client
            .wait_for_workspace_response(id, &request_id)
            .await?;
        if workspace.needs_rebase == Some(true) {
            tracing::info!("cvproxy: the build asks for a workspace rebase");
            return Ok(Finalized::NeedsSync);
        }
        if let Some(build_id) = workspace.last_build_id.as_deref().filter(|b| !b.is_empty()) {
            let details = self
                .client
                .get_workspace_build_details(id, build_id)
                .await?;
            log_build_details(&details);
        }
        if build.status != ws::ResponseStatus::Success as i32 {
            self.state = WorkspaceOutcome::BuildFailed;
            return Err(CvError::client(
                CV_WORKSPACE_BUILD_FAILED,
                format!(
                    "Failed to build workspace {id}: {}. See details: {}",
                    response_repr(&build),
                    self.server.workspace_url(id)
                ),
            ));
        }
        self.state = WorkspaceOutcome::Built;

        let request_id = self
            .client
            .request_workspace(id, WorkspaceRequest::Submit)
            .await?;
        let (submit, workspace) = self
            .client
            .wait_for_workspace_response(id, &request_id)
            .await?;
        let inactive = inactive_device_labels(&self.devices, &self.found);
        if !inactive.is_empty() {
            tracing::warn!(
                "cvproxy: Inactive devices present: {}",
                list_repr_str(&inactive)
            );
        }
        if submit.status != ws::ResponseStatus::Success as i32 {
            self.state = WorkspaceOutcome::SubmitFailed;
            if submit.code == ws::ResponseCode::SynchronizationRequired as i32 {
                tracing::info!("cvproxy: the submit asks for a workspace rebase");
                return Ok(Finalized::NeedsSync);
            }
            if submit.code == ws::ResponseCode::InactiveDevicesExist as i32 {
                let text = if inactive.is_empty() {
                    format!(
                        "Failed to submit CloudVision Workspace due to the presence of inactive devices. {FORCE_HINT}"
                    )
                } else {
                    format!(
                        "Failed to submit CloudVision Workspace due to the presence of inactive devices: {}. {FORCE_HINT}",
                        list_repr_str(&inactive)
                    )
                };
                return Err(CvError::client(CV_WORKSPACE_SUBMIT_FAILED_INACTIVE, text));
            }
            return Err(CvError::client(
                CV_WORKSPACE_SUBMIT_FAILED,
                format!(
                    "Failed to submit workspace {id}: {}",
                    response_repr(&submit)
                ),
            ));
        }
        self.state = WorkspaceOutcome::Submitted;
        if let Some(cc_id) = workspace.cc_ids.and_then(|c| c.values.into_iter().next()) {
            tracing::info!(change_control_id = %cc_id, "cvproxy: workspace submitted with a change control");
            self.change_control_id = Some(cc_id);
        } else {
            tracing::info!("cvproxy: workspace submitted without a change control");
        }
        Ok(Finalized::Done)
    }

    /// Rebase the workspace (the attempt then runs again), or give up.
    pub(super) async fn synchronize(&mut self, sync_attempt: u32) -> Result<(), CvError> {
        let id = self.workspace_id;
        let name = &self.workspace_name;
        if sync_attempt >= MAX_SYNC_RETRIES {
            return Err(CvError::client(
                CV_WORKSPACE_SYNC_EXHAUSTED,
                format!(
                    "Maximum number of Workspace synchronization attempts ({MAX_SYNC_RETRIES}) have been made for Workspace {name} (id: {id}) but Workspace synchronization is still required."
                ),
            ));
        }
        if !self.client.version.supports_rebase() {
            return Err(CvError::escaping(
                "LookupError",
                unsupported_version_message(self.client.version.as_str()),
            ));
        }
        tracing::info!(
            attempt = sync_attempt + 1,
            "cvproxy: rebasing the workspace"
        );
        let request_id = self
            .client
            .request_workspace(id, WorkspaceRequest::Rebase)
            .await?;
        let (sync, _) = self
            .client
            .wait_for_workspace_response(id, &request_id)
            .await?;
        if sync.status != ws::ResponseStatus::Success as i32 {
            self.state = WorkspaceOutcome::SynchronizationFailed;
            return Err(CvError::client(
                CV_WORKSPACE_SYNC_FAILED,
                format!(
                    "Failed to synchronize/rebase workspace {name} ({id}): {}. See details: {}",
                    response_repr(&sync),
                    self.server.workspace_url(id)
                ),
            ));
        }
        Ok(())
    }
}

/// Per-device build results go to the log only (spec 16).
fn log_build_details(details: &[ws::WorkspaceBuildDetails]) {
    for detail in details {
        let device = detail
            .key
            .as_ref()
            .and_then(|k| k.device_id.as_deref())
            .unwrap_or("");
        let Some(result) = &detail.config_validation_result else {
            continue;
        };
        for (kind, list) in [("error", &result.errors), ("warning", &result.warnings)] {
            for e in list.iter().flat_map(|l| l.values.iter()) {
                tracing::info!(
                    device,
                    kind,
                    message = e.error_msg.as_deref().unwrap_or(""),
                    line = e.line_num,
                    configlet = e.configlet_name.as_deref().unwrap_or(""),
                    "cvproxy: build result"
                );
            }
        }
    }
}
