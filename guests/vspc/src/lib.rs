//! The `vspc` guest: decides whether a VM's instance file is valid and renders the NoCloud
//! answers the seed (vmw-cloudinit-metadata 0.0.8) would send for it (specs/vspc.md, 8 and 9).
//!
//! [`respond`] is the whole decision: load the YAML the way PyYAML 3.12 does ([`yaml`]),
//! validate it against the seed's schema ([`schema`]), render the requested body ([`render`]).
//! The file is checked as a whole for every request, so an invalid file gets no answer at all.
//! The component export at the bottom only translates WIT types.

mod base64;
pub mod ipv4;
pub mod render;
pub mod schema;
pub mod ssh_key;
pub mod yaml;

/// Which body is asked for (spec 7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    Metadata,
    NetworkData,
    UserData,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusalKind {
    InvalidYaml,
    InvalidData,
}

/// Why no reply is sent: not YAML, or YAML that fails the schema (with every problem found).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub messages: Vec<String>,
}

/// The reply body for `request`, before base64 and framing (the host's job).
pub fn respond(request: Request, file: &[u8]) -> Result<String, Refusal> {
    let document = yaml::load(file).map_err(|error| Refusal {
        kind: RefusalKind::InvalidYaml,
        messages: vec![error.message],
    })?;
    let instance = schema::validate(&document).map_err(|messages| Refusal {
        kind: RefusalKind::InvalidData,
        messages,
    })?;
    Ok(match request {
        Request::Metadata => render::metadata_json(&instance.metadata),
        Request::NetworkData => render::network_config(&instance.network),
        Request::UserData => render::userdata_body(&instance.userdata).to_string(),
    })
}

mod component {
    use postern_guest_sdk::vspc::postern::guest::vspc_types::{
        self as wit, RequestCode, VmIdentity,
    };

    struct VspcGuest;

    impl postern_guest_sdk::vspc::Guest for VspcGuest {
        /// The VM's identity does not change the answer: the host already chose the file by name.
        fn respond(
            request: RequestCode,
            _vm: VmIdentity,
            file: Vec<u8>,
        ) -> Result<String, wit::Refusal> {
            let request = match request {
                RequestCode::Metadata => super::Request::Metadata,
                RequestCode::Networkdata => super::Request::NetworkData,
                RequestCode::Userdata => super::Request::UserData,
            };
            super::respond(request, &file).map_err(|refusal| wit::Refusal {
                kind: match refusal.kind {
                    super::RefusalKind::InvalidYaml => wit::RefusalKind::InvalidYaml,
                    super::RefusalKind::InvalidData => wit::RefusalKind::InvalidData,
                },
                messages: refusal.messages,
            })
        }
    }

    postern_guest_sdk::vspc::export!(VspcGuest);
}

#[cfg(test)]
mod tests;
