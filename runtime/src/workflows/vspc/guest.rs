//! The `vspc` world: the host hands the guest the VM's file, the guest
//! validates it and renders the answer's body.

use std::sync::Arc;

use crate::engine::registry::{LoadFuture, ModuleWorld};
use crate::engine::{
    GuestEngine, GuestError, LoadError, LoadedModule, ModuleOptions, WorldContract,
};
use crate::metrics::CallRecorder;

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

/// The `vspc` world, for the module registry (upload, hot swap, rollback).
#[derive(Clone, Copy, Debug, Default)]
pub struct VspcWorld;

impl ModuleWorld for VspcWorld {
    type Guest = VspcGuest;

    fn contract(&self) -> &'static WorldContract {
        &CONTRACT
    }

    fn load(
        &self,
        engine: &Arc<GuestEngine>,
        _name: &str,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> LoadFuture<VspcGuest> {
        let engine = Arc::clone(engine);
        Box::pin(async move { VspcGuest::load(&engine, bytes, options).await })
    }

    fn module(guest: &VspcGuest) -> &LoadedModule {
        &guest.module
    }
}

/// The loaded `vspc` module with its typed pre-instance.
pub struct VspcGuest {
    engine: Arc<GuestEngine>,
    module: LoadedModule,
    pre: bindings::VspcPre<crate::engine::GuestState>,
    recorder: CallRecorder,
}

impl VspcGuest {
    pub async fn load(
        engine: &Arc<GuestEngine>,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> Result<Self, LoadError> {
        let (module, pre) = engine
            .load_typed(
                MODULE_NAME,
                bytes,
                &CONTRACT,
                options,
                bindings::VspcPre::new,
            )
            .await?;
        let recorder = engine.call_recorder("vspc", &module);
        Ok(Self {
            engine: Arc::clone(engine),
            module,
            pre,
            recorder,
        })
    }

    pub fn module(&self) -> &LoadedModule {
        &self.module
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
        let pre = self.pre.clone();
        let result = self
            .engine
            .call(&self.recorder, &self.module, move |store| {
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
