//! The `vspc` guest: decides whether a VM's instance file is valid and renders the NoCloud
//! answers the seed (vmw-cloudinit-metadata 0.0.8) would send for it (specs/vspc.md, 8 and 9).
//! Work in progress: the export below still refuses every file.

mod base64;
pub mod ipv4;
pub mod schema;
pub mod ssh_key;
pub mod yaml;

use postern_guest_sdk::vspc::postern::guest::vspc_types::{
    Refusal, RefusalKind, RequestCode, VmIdentity,
};

struct VspcGuest;

impl postern_guest_sdk::vspc::Guest for VspcGuest {
    fn respond(request: RequestCode, vm: VmIdentity, file: Vec<u8>) -> Result<String, Refusal> {
        let _ = (request, vm, file);
        Err(Refusal {
            kind: RefusalKind::InvalidData,
            messages: vec![],
        })
    }
}

postern_guest_sdk::vspc::export!(VspcGuest);
