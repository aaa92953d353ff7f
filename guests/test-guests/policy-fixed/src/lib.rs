//! A `policy` guest for the policy-chain tests. Its settings pick the
//! verdict, so one component serves every test:
//!
//! - `verdict`: `allow` (also when unset), `deny`, `mutate`, `trap`, `spin`
//!   (loops forever, for the deadline tests) or `echo-deny` (denies with one
//!   reason, the subject JSON verbatim, so a test sees what a workflow
//!   passed). Any other value denies with `unknown verdict setting "<v>"`.
//! - `reasons` (for `deny`): the reasons, separated by `|`; default one
//!   reason, `denied by policy-fixed`.
//! - `mutate` (for `mutate`): the JSON to return; default the subject as is.
//!
//! Every call first logs `policy-fixed: <verdict> <subject-kind>` at info.

use postern_guest_sdk::policy::postern::guest::policy_types::Verdict;
use postern_guest_sdk::settings;

/// The decision, apart from the host; `setting` reads one setting.
pub fn decide(
    subject_kind: &str,
    subject_json: String,
    setting: impl Fn(&str) -> Option<String>,
) -> Verdict {
    let verdict = setting("verdict").unwrap_or_else(|| "allow".to_string());
    postern_guest_sdk::info!("policy-fixed: {verdict} {subject_kind}");
    match verdict.as_str() {
        "allow" => Verdict::Allow,
        "deny" => Verdict::Deny(match setting("reasons") {
            Some(reasons) => reasons.split('|').map(str::to_string).collect(),
            None => vec!["denied by policy-fixed".to_string()],
        }),
        "mutate" => Verdict::Mutate(setting("mutate").unwrap_or(subject_json)),
        "echo-deny" => Verdict::Deny(vec![subject_json]),
        "trap" => std::process::abort(),
        "spin" => {
            let mut counter = 0u64;
            loop {
                counter = std::hint::black_box(counter.wrapping_add(1));
            }
        }
        other => Verdict::Deny(vec![format!("unknown verdict setting \"{other}\"")]),
    }
}

struct PolicyFixed;

impl postern_guest_sdk::policy::Guest for PolicyFixed {
    fn check(subject_kind: String, subject_json: String) -> Verdict {
        decide(&subject_kind, subject_json, settings::get)
    }
}

postern_guest_sdk::policy::export!(PolicyFixed);
