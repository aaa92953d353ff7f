//! The generic `policy` world: `check(subject-kind, subject-json)` →
//! allow | deny(reasons) | mutate(new-json).

use std::sync::Arc;

use crate::engine::registry::{LoadFuture, ModuleWorld};
use crate::engine::{GuestEngine, GuestError, LoadedModule, ModuleOptions, WorldContract};
use crate::metrics::CallRecorder;

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "policy",
        exports: { default: async },
        with: {
            "postern:guest/log": crate::engine::log_bindings::postern::guest::log,
            "postern:guest/settings": crate::engine::settings_bindings::postern::guest::settings,
        },
    });
}

pub use bindings::postern::guest::policy_types::Verdict;

pub const CONTRACT: WorldContract = WorldContract {
    world: "policy",
    imports: &[
        "postern:guest/log@",
        "postern:guest/settings@",
        "postern:guest/policy-types@",
    ],
    exports: &["check"],
};

/// The world of every add-on policy module.
#[derive(Clone, Copy, Debug, Default)]
pub struct PolicyWorld;

impl ModuleWorld for PolicyWorld {
    type Guest = PolicyGuest;

    fn contract(&self) -> &'static WorldContract {
        &CONTRACT
    }

    fn load(
        &self,
        engine: &Arc<GuestEngine>,
        name: &str,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> LoadFuture<PolicyGuest> {
        let engine = Arc::clone(engine);
        let name = name.to_string();
        Box::pin(async move {
            let (module, pre) = engine
                .load_typed(&name, bytes, &CONTRACT, options, bindings::PolicyPre::new)
                .await?;
            let recorder = engine.call_recorder("policy", &module);
            Ok(PolicyGuest {
                engine,
                module,
                pre,
                recorder,
            })
        })
    }

    fn module(guest: &PolicyGuest) -> &LoadedModule {
        &guest.module
    }
}

/// One loaded version of a policy module.
pub struct PolicyGuest {
    engine: Arc<GuestEngine>,
    module: LoadedModule,
    pre: bindings::PolicyPre<crate::engine::GuestState>,
    recorder: CallRecorder,
}

impl PolicyGuest {
    pub fn module(&self) -> &LoadedModule {
        &self.module
    }

    /// One call in a fresh instance. The subject is shared, not copied, on
    /// its way to the call (it is copied once, into the guest's memory).
    pub async fn check(
        &self,
        kind: &'static str,
        subject: Arc<str>,
    ) -> Result<Verdict, GuestError> {
        let pre = self.pre.clone();
        self.engine
            .call(&self.recorder, &self.module, move |store| {
                Box::pin(async move {
                    let instance = pre.instantiate_async(&mut *store).await?;
                    instance.call_check(&mut *store, kind, &subject).await
                })
            })
            .await
    }
}
