//! The `cvproxy` world: the guest validates a request body and returns the
//! deploy plan, or the single input-stage error text of the reply.

use std::sync::Arc;

use crate::engine::{
    GuestEngine, GuestError, GuestState, LoadError, ModuleOptions, TypedGuest, TypedWorld,
    WorldContract,
};

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

/// The loaded `cvproxy` module with its typed pre-instance.
pub type CvproxyGuest = TypedGuest<bindings::CvproxyPre<GuestState>>;

/// The `cvproxy` world, for the module registry (upload, hot swap, rollback).
pub type CvproxyWorld = TypedWorld<bindings::CvproxyPre<GuestState>>;

pub const WORLD: CvproxyWorld = TypedWorld {
    contract: &CONTRACT,
    workflow: "cvproxy",
    typed: bindings::CvproxyPre::new,
};

impl CvproxyGuest {
    pub async fn load(
        engine: &Arc<GuestEngine>,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> Result<Self, LoadError> {
        WORLD.load_guest(engine, MODULE_NAME, bytes, options).await
    }

    /// One call in a fresh instance: the plan, or the input-stage error text.
    pub async fn plan(&self, body: Vec<u8>) -> Result<Result<DeployPlan, String>, GuestError> {
        let result = self
            .call(move |store, pre| {
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
