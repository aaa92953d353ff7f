//! A loaded module with its world's typed pre-instance (a bindgen `…Pre`),
//! and the [`ModuleWorld`] of such guests: what every world's guest (vspc,
//! cvproxy, policy) would otherwise write out for itself.

use std::sync::Arc;

use wasmtime::Store;
use wasmtime::component::InstancePre;

use super::call::CallFuture;
use super::registry::{LoadFuture, ModuleWorld};
use super::{
    GuestEngine, GuestError, GuestState, LoadError, LoadedModule, ModuleOptions, WorldContract,
};
use crate::metrics::CallRecorder;

/// Builds the typed pre-instance (bindgen's `…Pre::new`).
pub type TypedPre<P> = fn(InstancePre<GuestState>) -> wasmtime::Result<P>;

/// One loaded version of a module of some world.
pub struct TypedGuest<P> {
    engine: Arc<GuestEngine>,
    module: LoadedModule,
    pre: P,
    recorder: CallRecorder,
}

impl<P: Clone + Send + 'static> TypedGuest<P> {
    pub fn module(&self) -> &LoadedModule {
        &self.module
    }

    /// One call in a fresh instance: `f` instantiates from the typed
    /// pre-instance and calls the export.
    pub async fn call<R, F>(&self, f: F) -> Result<R, GuestError>
    where
        F: for<'a> FnOnce(&'a mut Store<GuestState>, P) -> CallFuture<'a, R>,
    {
        let pre = self.pre.clone();
        self.engine
            .call(&self.recorder, &self.module, move |store| f(store, pre))
            .await
    }
}

/// A world whose guests are [`TypedGuest`]s: its contract, the workflow
/// its calls are recorded under, and its bindgen pre-instance.
pub struct TypedWorld<P> {
    pub contract: &'static WorldContract,
    pub workflow: &'static str,
    pub typed: TypedPre<P>,
}

impl<P> Clone for TypedWorld<P> {
    fn clone(&self) -> Self {
        Self {
            contract: self.contract,
            workflow: self.workflow,
            typed: self.typed,
        }
    }
}

impl<P: Clone + Send + Sync + 'static> TypedWorld<P> {
    /// Checks, compiles and pre-instantiates `bytes` as module `name`.
    pub async fn load_guest(
        &self,
        engine: &Arc<GuestEngine>,
        name: &str,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> Result<TypedGuest<P>, LoadError> {
        let (module, pre) = engine
            .load_typed(name, bytes, self.contract, options, self.typed)
            .await?;
        let recorder = engine.call_recorder(self.workflow, &module);
        Ok(TypedGuest {
            engine: Arc::clone(engine),
            module,
            pre,
            recorder,
        })
    }
}

impl<P: Clone + Send + Sync + 'static> ModuleWorld for TypedWorld<P> {
    type Guest = TypedGuest<P>;

    fn contract(&self) -> &'static WorldContract {
        self.contract
    }

    fn load(
        &self,
        engine: &Arc<GuestEngine>,
        name: &str,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> LoadFuture<TypedGuest<P>> {
        let world = self.clone();
        let engine = Arc::clone(engine);
        let name = name.to_string();
        Box::pin(async move { world.load_guest(&engine, &name, bytes, options).await })
    }

    fn module(guest: &TypedGuest<P>) -> &LoadedModule {
        &guest.module
    }
}
