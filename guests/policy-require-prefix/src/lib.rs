//! # policy-require-prefix
//!
//! A sample Postern policy module (world `policy`) for the vspc workflow: it
//! denies a meta-data answer whose `instance-id` does not start with a
//! required prefix, so that VMs of one tenant cannot claim another's IDs.
//!
//! - Subject kind: `vspc.answer`, and only its `metadata` requests (the
//!   answer is then a JSON object with an `"instance-id"` string). Network
//!   data, user data and every other subject kind are allowed.
//! - Setting `prefix` (required): the prefix every instance-id must have.
//! - Verdict: deny `instance-id "<id>" does not start with "<prefix>"`, or
//!   `the meta-data answer has no instance-id` when the answer is not a JSON
//!   object with an `instance-id` string; allow otherwise.
//! - Fails closed: without the setting (or with an empty one) every subject
//!   is denied with `the prefix setting is not configured`, and a subject
//!   that is not valid JSON of the expected shape is denied with
//!   `unreadable subject: <error>`.
//!
//! ```toml
//! [modules.tenant-a.settings]
//! prefix = "tenant-a-"
//! ```

use postern_guest_sdk::policy::postern::guest::policy_types::Verdict;
use serde::Deserialize;

/// The subject kind this policy judges.
pub const SUBJECT_KIND: &str = "vspc.answer";

/// The parts of a `vspc.answer` subject this policy reads.
#[derive(Deserialize)]
struct Answer {
    request: String,
    answer: String,
}

/// The decision, apart from the host: `prefix` is the setting.
pub fn decide(subject_kind: &str, subject_json: &str, prefix: Option<&str>) -> Verdict {
    let prefix = match prefix {
        Some(prefix) if !prefix.is_empty() => prefix,
        _ => return deny("the prefix setting is not configured".to_string()),
    };
    if subject_kind != SUBJECT_KIND {
        return Verdict::Allow;
    }
    let subject: Answer = match serde_json::from_str(subject_json) {
        Ok(subject) => subject,
        Err(e) => return deny(format!("unreadable subject: {e}")),
    };
    if subject.request != "metadata" {
        return Verdict::Allow;
    }
    let metadata = serde_json::from_str::<serde_json::Value>(&subject.answer).ok();
    let Some(id) = metadata
        .as_ref()
        .and_then(|m| m.get("instance-id")?.as_str())
    else {
        return deny("the meta-data answer has no instance-id".to_string());
    };
    if id.starts_with(prefix) {
        Verdict::Allow
    } else {
        deny(format!(
            "instance-id \"{id}\" does not start with \"{prefix}\""
        ))
    }
}

fn deny(reason: String) -> Verdict {
    Verdict::Deny(vec![reason])
}

struct RequirePrefix;

impl postern_guest_sdk::policy::Guest for RequirePrefix {
    fn check(subject_kind: String, subject_json: String) -> Verdict {
        let setting = postern_guest_sdk::settings::get("prefix");
        decide(&subject_kind, &subject_json, setting.as_deref())
    }
}

postern_guest_sdk::policy::export!(RequirePrefix);

#[cfg(test)]
mod tests {
    use super::*;

    fn subject(request: &str, answer: &str) -> String {
        serde_json::json!({
            "request": request,
            "vm": {
                "name": "vm1",
                "bios_uuid": null,
                "vc_uuid": "5003a0b1-0000-0000-0000-000000000001",
                "location_uuid": null,
            },
            "answer": answer,
        })
        .to_string()
    }

    fn metadata(instance_id: &str) -> String {
        subject(
            "metadata",
            &format!(
                r#"{{"ami-id": "img", "instance-id": "{instance_id}", "region": "42", "availability-zone": "az", "tags": {{}}, "public-keys": [], "hostname": "h\u00f4st", "local-hostname": "h\u00f4st"}}"#
            ),
        )
    }

    fn reasons(verdict: Verdict) -> Vec<String> {
        match verdict {
            Verdict::Deny(reasons) => reasons,
            other => panic!("expected a deny, got {other:?}"),
        }
    }

    #[test]
    fn allows_a_prefixed_instance_id() {
        assert!(matches!(
            decide(SUBJECT_KIND, &metadata("tenant-a-1"), Some("tenant-a-")),
            Verdict::Allow
        ));
    }

    #[test]
    fn denies_another_instance_id() {
        assert_eq!(
            reasons(decide(SUBJECT_KIND, &metadata("i-1"), Some("tenant-a-"))),
            ["instance-id \"i-1\" does not start with \"tenant-a-\""]
        );
    }

    #[test]
    fn reads_escaped_instance_ids() {
        // The vspc guest writes ASCII-only JSON: "\u00e9" is "é".
        assert!(matches!(
            decide(SUBJECT_KIND, &metadata(r"caf\u00e9-1"), Some("café-")),
            Verdict::Allow
        ));
    }

    #[test]
    fn denies_an_answer_without_instance_id() {
        for answer in [
            r#"{"ami-id": "img"}"#,
            r#"{"instance-id": 7}"#,
            "not json",
            "[]",
        ] {
            assert_eq!(
                reasons(decide(
                    SUBJECT_KIND,
                    &subject("metadata", answer),
                    Some("t-")
                )),
                ["the meta-data answer has no instance-id"],
                "{answer}"
            );
        }
    }

    #[test]
    fn other_requests_and_kinds_are_allowed() {
        for request in ["networkdata", "userdata"] {
            assert!(matches!(
                decide(
                    SUBJECT_KIND,
                    &subject(request, "#cloud-config\n"),
                    Some("t-")
                ),
                Verdict::Allow
            ));
        }
        assert!(matches!(
            decide("cvproxy.deploy-plan", "{}", Some("t-")),
            Verdict::Allow
        ));
    }

    #[test]
    fn a_missing_or_empty_setting_denies_everything() {
        for setting in [None, Some("")] {
            for kind in [SUBJECT_KIND, "cvproxy.deploy-plan"] {
                assert_eq!(
                    reasons(decide(kind, &metadata("t-1"), setting)),
                    ["the prefix setting is not configured"]
                );
            }
        }
    }

    #[test]
    fn an_unreadable_subject_is_denied() {
        let reasons = reasons(decide(
            SUBJECT_KIND,
            "{\"request\": \"metadata\"}",
            Some("t-"),
        ));
        assert_eq!(
            reasons,
            ["unreadable subject: missing field `answer` at line 1 column 23"]
        );
    }
}
