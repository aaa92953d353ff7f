//! # policy-forbid-line
//!
//! A sample Postern policy module (world `policy`) for the cvproxy workflow:
//! it denies a deploy plan when a device's configlet contains one forbidden
//! line, e.g. `no aaa root` or `   shutdown`.
//!
//! - Subject kind: `cvproxy.deploy-plan`; every other kind is allowed.
//! - Setting `forbidden_line` (required): the line to refuse. Lines are
//!   compared with trailing whitespace (and so a trailing `\r`) stripped, on
//!   both sides; leading whitespace is kept, since EOS indentation is part of
//!   the configuration's meaning.
//! - Verdict: one deny reason per offending device,
//!   `device <hostname>: configlet contains the forbidden line "<line>"`;
//!   allow otherwise.
//! - Fails closed: without the setting (or with an empty one) every subject
//!   is denied with `the forbidden_line setting is not configured`, and a
//!   subject that is not valid JSON of the expected shape is denied with
//!   `unreadable subject: <error>`.
//!
//! ```toml
//! [modules.no-root.settings]
//! forbidden_line = "no aaa root"
//! ```

use postern_guest_sdk::policy::postern::guest::policy_types::Verdict;
use serde::Deserialize;

/// The subject kind this policy judges.
pub const SUBJECT_KIND: &str = "cvproxy.deploy-plan";

/// The parts of a `cvproxy.deploy-plan` subject this policy reads.
#[derive(Deserialize)]
struct DeployPlan {
    devices: Vec<Device>,
}

#[derive(Deserialize)]
struct Device {
    hostname: String,
    configlet: String,
}

/// The decision, apart from the host: `forbidden_line` is the setting.
pub fn decide(subject_kind: &str, subject_json: &str, forbidden_line: Option<&str>) -> Verdict {
    let forbidden = match forbidden_line.map(str::trim_end) {
        Some(line) if !line.is_empty() => line,
        _ => {
            return Verdict::Deny(vec![
                "the forbidden_line setting is not configured".to_string(),
            ]);
        }
    };
    if subject_kind != SUBJECT_KIND {
        return Verdict::Allow;
    }
    let plan: DeployPlan = match serde_json::from_str(subject_json) {
        Ok(plan) => plan,
        Err(e) => return Verdict::Deny(vec![format!("unreadable subject: {e}")]),
    };
    let reasons: Vec<String> = plan
        .devices
        .iter()
        .filter(|device| device.configlet.lines().any(|l| l.trim_end() == forbidden))
        .map(|device| {
            format!(
                "device {}: configlet contains the forbidden line \"{forbidden}\"",
                device.hostname
            )
        })
        .collect();
    if reasons.is_empty() {
        Verdict::Allow
    } else {
        Verdict::Deny(reasons)
    }
}

struct ForbidLine;

impl postern_guest_sdk::policy::Guest for ForbidLine {
    fn check(subject_kind: String, subject_json: String) -> Verdict {
        let setting = postern_guest_sdk::settings::get("forbidden_line");
        decide(&subject_kind, &subject_json, setting.as_deref())
    }
}

postern_guest_sdk::policy::export!(ForbidLine);

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(devices: &[(&str, &str)]) -> String {
        let devices: Vec<serde_json::Value> = devices
            .iter()
            .map(|(hostname, configlet)| {
                serde_json::json!({
                    "hostname": hostname,
                    "serial_number": null,
                    "configlet": configlet,
                    "tags": [["role", "leaf"]],
                })
            })
            .collect();
        serde_json::json!({
            "devices": devices,
            "cv_server": "cv.example.com",
            "change_control_name": null,
            "strict_tags": false,
            "delete_workspace": false,
        })
        .to_string()
    }

    fn reasons(verdict: Verdict) -> Vec<String> {
        match verdict {
            Verdict::Deny(reasons) => reasons,
            other => panic!("expected a deny, got {other:?}"),
        }
    }

    #[test]
    fn allows_a_plan_without_the_line() {
        let subject = plan(&[("leaf1", "hostname leaf1\nno aaa root shadow\n")]);
        assert!(matches!(
            decide(SUBJECT_KIND, &subject, Some("no aaa root")),
            Verdict::Allow
        ));
    }

    #[test]
    fn denies_each_offending_device() {
        let subject = plan(&[
            ("leaf1", "hostname leaf1\nno aaa root\n"),
            ("leaf2", "hostname leaf2\n"),
            ("leaf3", "no aaa root \r\nhostname leaf3"),
        ]);
        assert_eq!(
            reasons(decide(SUBJECT_KIND, &subject, Some("no aaa root  "))),
            [
                "device leaf1: configlet contains the forbidden line \"no aaa root\"",
                "device leaf3: configlet contains the forbidden line \"no aaa root\"",
            ]
        );
    }

    #[test]
    fn leading_whitespace_matters() {
        let indented = plan(&[("leaf1", "interface Ethernet1\n   shutdown\n")]);
        let flat = plan(&[("leaf1", "shutdown\n")]);
        assert!(matches!(
            decide(SUBJECT_KIND, &indented, Some("shutdown")),
            Verdict::Allow
        ));
        assert_eq!(
            reasons(decide(SUBJECT_KIND, &flat, Some("shutdown"))).len(),
            1
        );
        assert_eq!(
            reasons(decide(SUBJECT_KIND, &indented, Some("   shutdown"))),
            ["device leaf1: configlet contains the forbidden line \"   shutdown\""]
        );
    }

    #[test]
    fn a_line_inside_another_line_does_not_count() {
        let subject = plan(&[("leaf1", "description no aaa root\n")]);
        assert!(matches!(
            decide(SUBJECT_KIND, &subject, Some("no aaa root")),
            Verdict::Allow
        ));
    }

    #[test]
    fn other_kinds_are_allowed() {
        assert!(matches!(
            decide("vspc.answer", "not even json", Some("no aaa root")),
            Verdict::Allow
        ));
    }

    #[test]
    fn a_missing_or_empty_setting_denies_everything() {
        let subject = plan(&[("leaf1", "hostname leaf1\n")]);
        for setting in [None, Some(""), Some("  \r")] {
            for kind in [SUBJECT_KIND, "vspc.answer"] {
                assert_eq!(
                    reasons(decide(kind, &subject, setting)),
                    ["the forbidden_line setting is not configured"]
                );
            }
        }
    }

    #[test]
    fn an_unreadable_subject_is_denied() {
        let reasons = reasons(decide(SUBJECT_KIND, "{\"devices\": 3}", Some("x")));
        assert_eq!(reasons.len(), 1);
        assert!(
            reasons[0].starts_with("unreadable subject: invalid type: integer `3`"),
            "{reasons:?}"
        );
    }
}
