//! S28/S28b: read the change control the submit created and give it the
//! requested name. It stays pending approval. Failures abandon nothing.

use super::super::errors::CvError;
use super::Deployment;

impl Deployment<'_> {
    pub(super) async fn finalize_change_control(&mut self) -> Result<(), CvError> {
        let Some(cc_id) = self.change_control_id.clone() else {
            return Ok(());
        };
        // Known from here on, even if the calls below fail.
        self.change_control_name = Some(self.plan.change_control_name.clone());
        let current = self.client.get_change_control(&cc_id).await?;
        let change = current.change.unwrap_or_default();
        let name = self
            .plan
            .change_control_name
            .clone()
            .or(change.name.clone());
        self.change_control_name = Some(name.clone());
        if name != change.name {
            self.client
                .set_change_control(&cc_id, name.as_deref(), change.notes.as_deref())
                .await?;
            self.client.get_change_control(&cc_id).await?;
        }
        tracing::info!(change_control_id = %cc_id, name = ?name, "cvproxy: change control left pending approval");
        Ok(())
    }
}
