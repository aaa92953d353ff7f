//! What vspc hands its policy chain: the VM's identity and the rendered
//! answer, subject kind `vspc.answer`. A mutation may change the answer
//! only; the request and the identity are facts of the connection.
//!
//! ```json
//! {"request": "metadata", "vm": {"name": "vm1", "bios_uuid": "…",
//!  "vc_uuid": null, "location_uuid": null},
//!  "answer": "{\"instance-id\": \"i-1\", …}"}
//! ```

use serde::{Deserialize, Serialize};

use super::guest::VmIdentity;
use super::packet::RequestCode;

pub const SUBJECT_KIND: &str = "vspc.answer";

#[derive(Serialize)]
struct Subject<'a> {
    request: &'a str,
    vm: Vm<'a>,
    answer: &'a str,
}

#[derive(Serialize)]
struct Vm<'a> {
    name: &'a str,
    bios_uuid: Option<&'a str>,
    vc_uuid: Option<&'a str>,
    location_uuid: Option<&'a str>,
}

#[derive(Deserialize)]
struct Mutated {
    answer: String,
}

pub fn subject(code: RequestCode, vm: &VmIdentity, answer: &str) -> String {
    let subject = Subject {
        request: match code {
            RequestCode::Metadata => "metadata",
            RequestCode::NetworkData => "networkdata",
            RequestCode::UserData => "userdata",
        },
        vm: Vm {
            name: &vm.name,
            bios_uuid: vm.bios_uuid.as_deref(),
            vc_uuid: vm.vc_uuid.as_deref(),
            location_uuid: vm.location_uuid.as_deref(),
        },
        answer,
    };
    serde_json::to_string(&subject).expect("a vspc subject serializes")
}

/// The answer a policy's mutation gives.
pub fn mutated_answer(json: &str) -> Result<String, String> {
    serde_json::from_str::<Mutated>(json)
        .map(|m| m.answer)
        .map_err(|e| e.to_string())
}
