//! S8–S13b: create missing device tags, assign them, remove assignments
//! per `cv_strict_tags` (spec 9.3).

use super::super::errors::CvError;
use super::super::pure::tags::{DeviceTags, assignment_changes, tags_to_create};
use super::Deployment;

impl Deployment<'_> {
    pub(super) async fn deploy_tags(&mut self) -> Result<(), CvError> {
        let devices: Vec<DeviceTags> = self
            .found_devices()
            .filter(|(_, _, found)| found.is_some())
            .map(|(i, _, _)| DeviceTags {
                serial: self.serial_of(i).map(str::to_owned),
                tags: self.plan.devices[i].tags.clone(),
            })
            .collect();
        if devices.iter().all(|d| d.tags.is_empty()) {
            return Ok(());
        }
        let existing_tags = self.client.get_tags(self.workspace_id).await?;
        let new_tags = tags_to_create(&devices, &existing_tags);
        if !new_tags.is_empty() {
            tracing::info!(tags = new_tags.len(), "cvproxy: creating tags");
            self.client.set_tags(self.workspace_id, new_tags).await?;
        }
        let existing = self.client.get_tag_assignments(self.workspace_id).await?;
        let (to_create, to_remove) = assignment_changes(&devices, &existing, self.plan.strict_tags);
        if !to_create.is_empty() {
            tracing::info!(assignments = to_create.len(), "cvproxy: assigning tags");
            self.client
                .set_tag_assignments(self.workspace_id, to_create, false)
                .await?;
        }
        if !to_remove.is_empty() {
            tracing::info!(
                assignments = to_remove.len(),
                "cvproxy: removing tag assignments"
            );
            self.client
                .set_tag_assignments(self.workspace_id, to_remove, true)
                .await?;
        }
        Ok(())
    }
}
