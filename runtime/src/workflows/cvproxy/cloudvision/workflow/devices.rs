//! S4–S7d: find the devices in the inventory and make the topology studio
//! list them with the right hostname and MAC. Failures abandon.

use super::super::errors::{CV_RESOURCE_NOT_FOUND, CallIds, CvError, described};
use super::super::pure::devices::{inventory_filters, match_inventory, missing_devices_error};
use super::super::pure::naming::TOPOLOGY_STUDIO_ID;
use super::super::pure::topology::{WantedTopology, devices_needing_update, topology_entries};
use super::Deployment;
use crate::python::json::Json;

impl Deployment<'_> {
    pub(super) async fn verify_devices(&mut self) -> Result<(), CvError> {
        if self.devices.is_empty() {
            return Ok(());
        }
        let inventory = self
            .client
            .get_inventory_devices(&inventory_filters(&self.devices))
            .await?;
        self.found = match_inventory(&self.devices, &inventory);
        if let Some(text) = missing_devices_error(&self.devices, &self.found) {
            return Err(CvError::client(CV_RESOURCE_NOT_FOUND, text));
        }

        let mut wanted: Vec<WantedTopology> = Vec::new();
        let mut device_ids: Vec<Option<String>> = Vec::new();
        for (_, device, found) in self.found_devices() {
            let Some(found) = found else { continue };
            let w = WantedTopology {
                serial: found.serial.clone(),
                hostname: device.hostname.clone(),
                mac_address: found.system_mac_address.clone(),
            };
            if !wanted.contains(&w) {
                wanted.push(w);
            }
            if !device_ids.contains(&found.serial) {
                device_ids.push(found.serial.clone());
            }
        }
        let tree = self
            .client
            .get_studio_inputs(
                TOPOLOGY_STUDIO_ID,
                self.workspace_id,
                &Json::Object(Vec::new()),
            )
            .await?;
        let entries = topology_entries(&tree, &device_ids)
            .map_err(|text| described(&text, &CallIds::workspace(self.workspace_id)))?;
        let updates = devices_needing_update(&wanted, &entries);
        if !updates.is_empty() {
            tracing::info!(
                devices = updates.len(),
                "cvproxy: updating the topology studio"
            );
            self.client
                .set_topology_studio_inputs(self.workspace_id, &updates)
                .await?;
        }
        Ok(())
    }
}
