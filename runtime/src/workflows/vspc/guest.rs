//! The `vspc` world: the host hands the guest the VM's file, the guest
//! validates it and renders the answer's body.

use std::sync::Arc;

use crate::engine::{
    GuestEngine, GuestError, GuestState, LoadError, ModuleOptions, TypedGuest, TypedWorld,
    WorldContract,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "vspc",
        exports: { default: async },
        with: { "postern:guest/log": crate::engine::log_bindings::postern::guest::log },
    });
}

pub use bindings::postern::guest::vspc_types::{
    Refusal, RefusalKind, RequestCode as GuestRequest, VmIdentity,
};

use super::packet::RequestCode;

pub const CONTRACT: WorldContract = WorldContract {
    world: "vspc",
    imports: &["postern:guest/log@", "postern:guest/vspc-types@"],
    exports: &["respond"],
};

/// The built-in guest's module name (and `[modules.vspc]` in the config).
pub const MODULE_NAME: &str = "vspc";

/// What the guest decided about one request.
pub enum GuestAnswer {
    Body(String),
    Refused(Refusal),
}

/// The loaded `vspc` module with its typed pre-instance.
pub type VspcGuest = TypedGuest<bindings::VspcPre<GuestState>>;

/// The `vspc` world, for the module registry (upload, hot swap, rollback).
pub type VspcWorld = TypedWorld<bindings::VspcPre<GuestState>>;

pub const WORLD: VspcWorld = TypedWorld {
    contract: &CONTRACT,
    workflow: "vspc",
    typed: bindings::VspcPre::new,
};

impl VspcGuest {
    pub async fn load(
        engine: &Arc<GuestEngine>,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> Result<Self, LoadError> {
        WORLD.load_guest(engine, MODULE_NAME, bytes, options).await
    }

    /// One call in a fresh instance.
    pub async fn respond(
        &self,
        code: RequestCode,
        vm: VmIdentity,
        file: Vec<u8>,
    ) -> Result<GuestAnswer, GuestError> {
        let request = match code {
            RequestCode::Metadata => GuestRequest::Metadata,
            RequestCode::NetworkData => GuestRequest::Networkdata,
            RequestCode::UserData => GuestRequest::Userdata,
        };
        let result = self
            .call(move |store, pre| {
                Box::pin(async move {
                    let instance = pre.instantiate_async(&mut *store).await?;
                    instance
                        .call_respond(&mut *store, request, &vm, &file)
                        .await
                })
            })
            .await?;
        Ok(match result {
            Ok(body) => GuestAnswer::Body(body),
            Err(refusal) => GuestAnswer::Refused(refusal),
        })
    }
}
