//! The `cvproxy` world: the guest validates a request body and returns the
//! deploy plan, or the single input-stage error text of the reply.

use std::sync::Arc;

use crate::engine::registry::{LoadFuture, ModuleWorld};
use crate::engine::{
    GuestEngine, GuestError, LoadError, LoadedModule, ModuleOptions, WorldContract,
};
use crate::metrics::CallRecorder;

use super::plan::{DeployPlan, DeviceSpec};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "cvproxy",
        exports: { default: async },
        with: { "postern:guest/log": crate::engine::log_bindings::postern::guest::log },
    });
}

use bindings::postern::guest::cvproxy_types;

pub const CONTRACT: WorldContract = WorldContract {
    world: "cvproxy",
    imports: &["postern:guest/log@", "postern:guest/cvproxy-types@"],
    exports: &["plan"],
};

/// The built-in guest's module name (and `[modules.cvproxy]` in the config).
pub const MODULE_NAME: &str = "cvproxy";

/// The `cvproxy` world, for the module registry (upload, hot swap, rollback).
#[derive(Clone, Copy, Debug, Default)]
pub struct CvproxyWorld;

impl ModuleWorld for CvproxyWorld {
    type Guest = CvproxyGuest;

    fn contract(&self) -> &'static WorldContract {
        &CONTRACT
    }

    fn load(
        &self,
        engine: &Arc<GuestEngine>,
        _name: &str,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> LoadFuture<CvproxyGuest> {
        let engine = Arc::clone(engine);
        Box::pin(async move { CvproxyGuest::load(&engine, bytes, options).await })
    }

    fn module(guest: &CvproxyGuest) -> &LoadedModule {
        &guest.module
    }
}

/// The loaded `cvproxy` module with its typed pre-instance.
pub struct CvproxyGuest {
    engine: Arc<GuestEngine>,
    module: LoadedModule,
    pre: bindings::CvproxyPre<crate::engine::GuestState>,
    recorder: CallRecorder,
}

impl CvproxyGuest {
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
                bindings::CvproxyPre::new,
            )
            .await?;
        let recorder = engine.call_recorder("cvproxy", &module);
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

    /// One call in a fresh instance: the plan, or the input-stage error text.
    pub async fn plan(&self, body: Vec<u8>) -> Result<Result<DeployPlan, String>, GuestError> {
        let pre = self.pre.clone();
        let result = self
            .engine
            .call(&self.recorder, &self.module, move |store| {
                Box::pin(async move {
                    let instance = pre.instantiate_async(&mut *store).await?;
                    instance.call_plan(&mut *store, &body).await
                })
            })
            .await?;
        Ok(result.map(from_wit))
    }
}

fn from_wit(plan: cvproxy_types::DeployPlan) -> DeployPlan {
    DeployPlan {
        devices: plan
            .devices
            .into_iter()
            .map(|device| DeviceSpec {
                hostname: device.hostname,
                serial_number: device.serial_number,
                configlet: device.configlet,
                tags: device.tags,
            })
            .collect(),
        cv_server: plan.cv_server,
        cv_token: plan.cv_token,
        change_control_name: plan.change_control_name,
        strict_tags: plan.strict_tags,
        delete_workspace: plan.delete_workspace,
    }
}
