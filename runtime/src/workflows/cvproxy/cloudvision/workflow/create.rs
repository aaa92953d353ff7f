//! S1–S3: create the workspace and wait until it is pending; then the
//! duplicate-serial check. Failures here abandon nothing.

use super::super::errors::{CV_DUPLICATED_DEVICES, CV_WORKSPACE_FAILED, CvError};
use super::super::pure::devices::duplicate_serials_error;
use super::Deployment;
use crate::workflows::cvproxy::proto::arista::workspace::v1::WorkspaceState;

impl Deployment<'_> {
    /// S1 (NOT_FOUND expected), S2, S3.
    pub(super) async fn create_workspace(&mut self) -> Result<(), CvError> {
        match self.client.get_workspace(self.workspace_id).await {
            Ok(existing) if existing.state != WorkspaceState::Pending as i32 => {
                return Err(CvError::client(
                    CV_WORKSPACE_FAILED,
                    "The requested workspace is not in state 'pending'",
                ));
            }
            Ok(_) => {}
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        self.client
            .create_workspace(self.workspace_id, &self.workspace_name)
            .await?;
        self.client
            .wait_for_workspace_pending(self.workspace_id)
            .await?;
        tracing::info!(name = %self.workspace_name, "cvproxy: workspace created");
        Ok(())
    }

    /// D10: two request devices with the same serial.
    pub(super) fn check_duplicates(&self) -> Result<(), CvError> {
        match duplicate_serials_error(&self.devices) {
            Some(text) => Err(CvError::client(CV_DUPLICATED_DEVICES, text)),
            None => Ok(()),
        }
    }
}
