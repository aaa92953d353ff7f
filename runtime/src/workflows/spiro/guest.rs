//! The `spiro` world: the guest decides on a bundle's members and renders
//! `spirotop.sls` into the topfile (specs/spiro.md 13.7).

use std::sync::Arc;

use crate::engine::{
    GuestEngine, GuestError, GuestState, LoadError, ModuleOptions, TypedGuest, TypedWorld,
    WorldContract,
};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "spiro",
        exports: { default: async },
        with: { "postern:guest/log": crate::engine::log_bindings::postern::guest::log },
    });
}

pub use bindings::postern::guest::spiro_types::{
    Limits, Member, MemberKind, Planned, Rejection, Spirotop,
};

pub const CONTRACT: WorldContract = WorldContract {
    world: "spiro",
    imports: &["postern:guest/log@", "postern:guest/spiro-types@"],
    exports: &["check-bundle", "render-topfile"],
};

/// The built-in guest's module name (and `[modules.spiro]` in the config).
pub const MODULE_NAME: &str = "spiro";

/// The loaded `spiro` module with its typed pre-instance.
pub type SpiroGuest = TypedGuest<bindings::SpiroPre<GuestState>>;

/// The `spiro` world, for the module registry (upload, hot swap, rollback).
pub type SpiroWorld = TypedWorld<bindings::SpiroPre<GuestState>>;

pub const WORLD: SpiroWorld = TypedWorld {
    contract: &CONTRACT,
    workflow: "spiro",
    typed: bindings::SpiroPre::new,
};

impl SpiroGuest {
    pub async fn load(
        engine: &Arc<GuestEngine>,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> Result<Self, LoadError> {
        WORLD.load_guest(engine, MODULE_NAME, bytes, options).await
    }

    /// The plan for `members` (archive order), or why the bundle is refused.
    pub async fn check_bundle(
        &self,
        limits: Limits,
        project: String,
        deployment: String,
        members: Vec<Member>,
    ) -> Result<Result<Vec<Planned>, Rejection>, GuestError> {
        self.call(move |store, pre| {
            Box::pin(async move {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .call_check_bundle(&mut *store, limits, &project, &deployment, &members)
                    .await
            })
        })
        .await
    }

    /// The topfile to write (`None`: nothing), or the `TopfileError` text.
    pub async fn render_topfile(
        &self,
        project: String,
        deployment: String,
        state_top_exists: bool,
        spirotop: Spirotop,
    ) -> Result<Result<Option<String>, String>, GuestError> {
        self.call(move |store, pre| {
            Box::pin(async move {
                let instance = pre.instantiate_async(&mut *store).await?;
                instance
                    .call_render_topfile(
                        &mut *store,
                        &project,
                        &deployment,
                        state_top_exists,
                        &spirotop,
                    )
                    .await
            })
        })
        .await
    }
}
