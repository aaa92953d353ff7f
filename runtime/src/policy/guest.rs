//! The generic `policy` world: `check(subject-kind, subject-json)` →
//! allow | deny(reasons) | mutate(new-json).

use std::sync::Arc;

use crate::engine::{GuestError, GuestState, TypedGuest, TypedWorld, WorldContract};

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

/// One loaded version of a policy module.
pub type PolicyGuest = TypedGuest<bindings::PolicyPre<GuestState>>;

/// The world of every add-on policy module.
pub type PolicyWorld = TypedWorld<bindings::PolicyPre<GuestState>>;

pub const WORLD: PolicyWorld = TypedWorld {
    contract: &CONTRACT,
    workflow: "policy",
    typed: bindings::PolicyPre::new,
};

impl PolicyGuest {
    /// One call in a fresh instance. The subject is shared, not copied, on
    /// its way to the call (it is copied once, into the guest's memory).
    pub async fn check(
        &self,
        kind: &'static str,
        subject: Arc<str>,
    ) -> Result<Verdict, GuestError> {
        self.call(move |store, pre| {
            Box::pin(async move {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance.call_check(&mut *store, kind, &subject).await
            })
        })
        .await
    }
}
