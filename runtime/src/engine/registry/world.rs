//! How the registry loads and swaps modules of a world it does not know:
//! each workflow (and the policy layer) describes its world once with
//! [`ModuleWorld`]; the registry keeps it type-erased.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;

use crate::engine::{GuestEngine, LoadError, LoadedModule, ModuleOptions, WorldContract};

pub type LoadFuture<G> = Pin<Box<dyn Future<Output = Result<G, LoadError>> + Send>>;

/// One WIT world whose modules the registry can load and hot-swap.
pub trait ModuleWorld: Send + Sync + 'static {
    /// The loaded, typed guest a workflow calls (e.g. a bindgen `…Pre`).
    type Guest: Send + Sync + 'static;

    fn contract(&self) -> &'static WorldContract;

    /// Checks, compiles (off the async threads) and pre-instantiates.
    fn load(
        &self,
        engine: &Arc<GuestEngine>,
        name: &str,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> LoadFuture<Self::Guest>;

    fn module(guest: &Self::Guest) -> &LoadedModule;
}

/// The active version of one module, as its users see it: every call reads
/// the current guest once and keeps it for the whole call, so a swap never
/// changes a call in flight.
pub struct Live<G>(Arc<ArcSwap<G>>);

impl<G> Clone for Live<G> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<G> Live<G> {
    pub fn new(guest: G) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(guest)))
    }

    pub fn current(&self) -> Arc<G> {
        self.0.load_full()
    }

    fn replace(&self, guest: G) {
        self.0.store(Arc::new(guest));
    }
}

/// A loaded guest of some world, not yet active.
pub(super) struct Loaded {
    guest: Box<dyn Any + Send + Sync>,
    pub compile_time: Option<Duration>,
}

/// [`ModuleWorld`] without its guest type.
pub(super) trait ErasedWorld: Send + Sync {
    fn contract(&self) -> &'static WorldContract;
    fn load(
        &self,
        engine: &Arc<GuestEngine>,
        name: &str,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> Pin<Box<dyn Future<Output = Result<Loaded, LoadError>> + Send>>;
    /// A new slot whose active guest is `loaded`.
    fn new_slot(self: Arc<Self>, loaded: Loaded) -> Arc<dyn Slot>;
}

/// One module's place in the registry: its world and its live guest.
pub(super) trait Slot: Send + Sync {
    fn world(&self) -> &Arc<dyn ErasedWorld>;
    /// Makes `loaded` the active guest (it must come from this slot's world).
    fn install(&self, loaded: Loaded);
    /// The [`Live`] handle, for typed lookups.
    fn live(&self) -> &(dyn Any + Send + Sync);
    /// Calls and errors of the active guest.
    fn stats(&self) -> (u64, u64);
}

impl<W: ModuleWorld> ErasedWorld for W {
    fn contract(&self) -> &'static WorldContract {
        ModuleWorld::contract(self)
    }

    fn load(
        &self,
        engine: &Arc<GuestEngine>,
        name: &str,
        bytes: Arc<[u8]>,
        options: ModuleOptions,
    ) -> Pin<Box<dyn Future<Output = Result<Loaded, LoadError>> + Send>> {
        let load = ModuleWorld::load(self, engine, name, bytes, options);
        Box::pin(async move {
            let guest = load.await?;
            let compile_time = W::module(&guest).compile_time;
            Ok(Loaded {
                guest: Box::new(guest),
                compile_time,
            })
        })
    }

    fn new_slot(self: Arc<Self>, loaded: Loaded) -> Arc<dyn Slot> {
        let world: Arc<dyn ErasedWorld> = self;
        Arc::new(TypedSlot::<W> {
            world,
            live: Live::new(unbox::<W>(loaded)),
        })
    }
}

struct TypedSlot<W: ModuleWorld> {
    world: Arc<dyn ErasedWorld>,
    live: Live<W::Guest>,
}

impl<W: ModuleWorld> Slot for TypedSlot<W> {
    fn world(&self) -> &Arc<dyn ErasedWorld> {
        &self.world
    }

    fn install(&self, loaded: Loaded) {
        self.live.replace(unbox::<W>(loaded));
    }

    fn live(&self) -> &(dyn Any + Send + Sync) {
        &self.live
    }

    fn stats(&self) -> (u64, u64) {
        let guest = self.live.current();
        let stats = &W::module(&guest).stats;
        (stats.calls(), stats.errors())
    }
}

fn unbox<W: ModuleWorld>(loaded: Loaded) -> W::Guest {
    *loaded
        .guest
        .downcast::<W::Guest>()
        .unwrap_or_else(|_| unreachable!("a slot only receives guests loaded by its own world"))
}
