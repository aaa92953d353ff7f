//! What cvproxy hands its policy chain: the deploy plan as JSON, subject
//! kind `cvproxy.deploy-plan`. The CloudVision token is withheld (policies
//! are add-on code; they decide on what is deployed, not with whose
//! credentials), and a mutation cannot change it.
//!
//! ```json
//! {"devices": [{"hostname": "leaf1", "serial_number": "JPE1", "configlet": "…",
//!               "tags": [["role", "leaf"]]}],
//!  "cv_server": "cv.example.com", "change_control_name": null,
//!  "strict_tags": false, "delete_workspace": false}
//! ```

use serde::{Deserialize, Serialize};

use super::plan::{DeployPlan, DeviceSpec};

pub const SUBJECT_KIND: &str = "cvproxy.deploy-plan";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Subject {
    devices: Vec<Device>,
    cv_server: String,
    change_control_name: Option<String>,
    strict_tags: bool,
    delete_workspace: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Device {
    hostname: String,
    serial_number: Option<String>,
    configlet: String,
    tags: Vec<(String, String)>,
}

pub fn subject(plan: &DeployPlan) -> String {
    let subject = Subject {
        devices: plan
            .devices
            .iter()
            .map(|d| Device {
                hostname: d.hostname.clone(),
                serial_number: d.serial_number.clone(),
                configlet: d.configlet.clone(),
                tags: d.tags.clone(),
            })
            .collect(),
        cv_server: plan.cv_server.clone(),
        change_control_name: plan.change_control_name.clone(),
        strict_tags: plan.strict_tags,
        delete_workspace: plan.delete_workspace,
    };
    serde_json::to_string(&subject).expect("a deploy plan serializes")
}

/// The plan a policy's mutation describes, keeping the request's token.
pub fn mutated(original: &DeployPlan, json: &str) -> Result<DeployPlan, String> {
    let subject: Subject = serde_json::from_str(json).map_err(|e| e.to_string())?;
    if subject.devices.is_empty() {
        return Err("a deploy plan needs at least one device".into());
    }
    Ok(DeployPlan {
        devices: subject
            .devices
            .into_iter()
            .map(|d| DeviceSpec {
                hostname: d.hostname,
                serial_number: d.serial_number,
                configlet: d.configlet,
                tags: d.tags,
            })
            .collect(),
        cv_server: subject.cv_server,
        cv_token: original.cv_token.clone(),
        change_control_name: subject.change_control_name,
        strict_tags: subject.strict_tags,
        delete_workspace: subject.delete_workspace,
    })
}
