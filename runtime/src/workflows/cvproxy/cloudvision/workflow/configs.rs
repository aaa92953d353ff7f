//! S14–S22: upload the configlets, then the Static Configuration Studio
//! containers (root container, `configletAssignmentRoots`, one container
//! per device). Failures abandon.

use super::super::api::configlet::ConfigletUpload;
use super::super::errors::{CV_CLIENT_EXCEPTION, CvError};
use super::super::pure::containers::{
    ExistingContainer, WantedContainer, containers_to_write, root_children_update,
};
use super::super::pure::naming::{
    ROOT_CONTAINER_DESCRIPTION, ROOT_CONTAINER_ID, ROOT_CONTAINER_NAME, ROOTS_INPUT_PATH,
    STATIC_CONFIG_STUDIO_ID, avd_description, avd_id, configlet_display_name, device_query,
};
use super::super::pure::studio_tree::roots_with_avd_container;
use super::Deployment;
use crate::python::json::{self as pyjson, Json};
use crate::workflows::cvproxy::proto::arista::configlet::v1 as cfg;
use crate::workflows::cvproxy::proto::fmp::RepeatedString;

fn root_key(workspace_id: &str) -> Option<cfg::ConfigletAssignmentKey> {
    Some(cfg::ConfigletAssignmentKey {
        workspace_id: Some(workspace_id.to_owned()),
        configlet_assignment_id: Some(ROOT_CONTAINER_ID.to_owned()),
    })
}

/// S16: the root container, with empty configlet and child lists.
fn new_root_container(workspace_id: &str) -> cfg::ConfigletAssignmentConfig {
    cfg::ConfigletAssignmentConfig {
        key: root_key(workspace_id),
        display_name: Some(ROOT_CONTAINER_NAME.to_owned()),
        description: Some(ROOT_CONTAINER_DESCRIPTION.to_owned()),
        configlet_ids: Some(RepeatedString::default()),
        query: Some("device:*".to_owned()),
        remove: None,
        match_policy: cfg::MatchPolicy::MatchAll as i32,
        child_assignment_ids: Some(RepeatedString::default()),
    }
}

/// S22: only the root's children (a partial update: no name, description
/// or query).
fn root_children(workspace_id: &str, children: Vec<String>) -> cfg::ConfigletAssignmentConfig {
    cfg::ConfigletAssignmentConfig {
        key: root_key(workspace_id),
        display_name: None,
        description: None,
        configlet_ids: Some(RepeatedString::default()),
        query: None,
        remove: None,
        match_policy: cfg::MatchPolicy::MatchAll as i32,
        child_assignment_ids: Some(RepeatedString { values: children }),
    }
}

fn existing_container(c: cfg::ConfigletAssignment) -> ExistingContainer {
    ExistingContainer {
        id: c.key.and_then(|k| k.configlet_assignment_id),
        display_name: c.display_name,
        description: c.description,
        query: c.query,
        configlet_ids: c.configlet_ids.map(|r| r.values).unwrap_or_default(),
    }
}

impl Deployment<'_> {
    /// S14.
    pub(super) async fn deploy_configlets(&mut self) -> Result<(), CvError> {
        let uploads: Vec<ConfigletUpload> = self
            .found_devices()
            .filter(|(_, _, found)| found.is_some())
            .map(|(i, device, _)| ConfigletUpload {
                configlet_id: avd_id(self.serial_of(i)),
                display_name: configlet_display_name(&device.hostname),
                description: avd_description(&device.hostname),
                body: self.plan.devices[i].configlet.clone(),
            })
            .collect();
        if uploads.is_empty() {
            return Ok(());
        }
        let failed = self
            .client
            .set_configlets(self.workspace_id, uploads)
            .await?;
        for item in &failed {
            tracing::info!(
                "cvproxy: set_configlets_from_files: API Call failed '{}' for '{}'.",
                item.error,
                item.key
            );
        }
        if !failed.is_empty() {
            return Err(CvError::client(
                CV_CLIENT_EXCEPTION,
                format!(
                    "{} server-side error(s) was returned from the 'set_configlets_from_files' bulk API call. Please check logs for the failed items and error messages.",
                    failed.len()
                ),
            ));
        }
        Ok(())
    }

    /// S15–S22.
    pub(super) async fn deploy_containers(&mut self) -> Result<(), CvError> {
        let wanted: Vec<WantedContainer> = self
            .found_devices()
            .filter(|(_, _, found)| found.is_some())
            .map(|(i, device, _)| {
                let id = avd_id(self.serial_of(i));
                WantedContainer {
                    id: id.clone(),
                    display_name: device.hostname.clone(),
                    description: avd_description(&device.hostname),
                    query: device_query(self.serial_of(i)),
                    configlet_ids: vec![id],
                }
            })
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let ws = self.workspace_id;

        // S15, S16.
        let root = self
            .client
            .get_configlet_containers(ws, &[ROOT_CONTAINER_ID.to_owned()])
            .await?;
        let children: Vec<String> = match root.into_iter().next() {
            Some(root) => root
                .child_assignment_ids
                .map(|r| r.values)
                .unwrap_or_default(),
            None => {
                self.client
                    .set_configlet_container(ws, new_root_container(ws))
                    .await?;
                Vec::new()
            }
        };

        // S17–S20: AVD's root first among the studio's roots.
        let path = [ROOTS_INPUT_PATH.to_owned()];
        let roots = self
            .client
            .get_studio_inputs_with_path(
                STATIC_CONFIG_STUDIO_ID,
                ws,
                &path,
                &Json::Array(Vec::new()),
            )
            .await?;
        match roots_with_avd_container(&roots, ROOT_CONTAINER_ID) {
            Ok(None) => {}
            Ok(Some(new_roots)) => {
                self.client
                    .set_studio_inputs(
                        STATIC_CONFIG_STUDIO_ID,
                        ws,
                        &path,
                        &pyjson::dumps(&new_roots),
                    )
                    .await?;
            }
            Err(e) => return Err(CvError::escaping(e.class, e.message)),
        }

        // S20b.
        let existing: Vec<ExistingContainer> = if children.is_empty() {
            Vec::new()
        } else {
            self.client
                .get_configlet_containers(ws, &children)
                .await?
                .into_iter()
                .map(existing_container)
                .collect()
        };

        // S21, S22.
        let to_write = containers_to_write(&wanted, &existing);
        let written: Vec<String> = to_write.iter().map(|c| c.id.clone()).collect();
        if !to_write.is_empty() {
            self.client.set_configlet_containers(ws, to_write).await?;
        }
        if let Some(new_children) = root_children_update(&written, &children, &existing) {
            self.client
                .set_configlet_container(ws, root_children(ws, new_children))
                .await?;
        }
        Ok(())
    }
}
