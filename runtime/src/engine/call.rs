use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Engine, Store, UpdateDeadline};

use super::{EPOCH_TICK, GuestState, LoadedModule};

/// The future a call closure returns: instantiate and invoke the export.
pub type CallFuture<'a, R> = Pin<Box<dyn Future<Output = wasmtime::Result<R>> + Send + 'a>>;

/// Raised from the resource limiter when a guest grows past its memory cap.
#[derive(Debug, thiserror::Error)]
#[error("memory cap of {cap} bytes reached")]
pub struct MemoryCapHit {
    pub cap: usize,
}

/// Raised from the epoch callback when a call runs past its deadline.
#[derive(Debug, thiserror::Error)]
#[error("deadline of {deadline:?} exceeded")]
pub struct DeadlineExceeded {
    pub deadline: Duration,
}

/// How one guest call failed. Each fails only its own call.
#[derive(Debug, thiserror::Error)]
pub enum GuestError {
    #[error("guest `{module}` ran past its deadline of {deadline:?}")]
    Timeout { module: String, deadline: Duration },
    #[error("guest `{module}` hit its memory cap of {cap} bytes")]
    MemoryCap { module: String, cap: usize },
    #[error("guest `{module}` ran out of fuel")]
    OutOfFuel { module: String },
    #[error("guest `{module}` trapped: {message}")]
    Trap { module: String, message: String },
}

impl GuestError {
    /// The `kind` label of the error metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            GuestError::Timeout { .. } => "timeout",
            GuestError::MemoryCap { .. } => "memory_cap",
            GuestError::OutOfFuel { .. } => "out_of_fuel",
            GuestError::Trap { .. } => "trap",
        }
    }
}

/// Runs `f` in a fresh store: one instance per call, so nothing leaks from
/// one call to the next. The store carries the module's memory cap, its
/// deadline in epoch ticks (yielding to the runtime at every tick) and its
/// optional fuel.
pub(super) async fn run<R, F>(
    engine: &Engine,
    module: &LoadedModule,
    fuel_enabled: bool,
    f: F,
) -> Result<R, GuestError>
where
    F: for<'a> FnOnce(&'a mut Store<GuestState>) -> CallFuture<'a, R>,
{
    let limits = module.limits;
    let name = Arc::clone(&module.name);
    let mut store = Store::new(
        engine,
        GuestState::new(
            name,
            Arc::clone(&module.settings),
            limits.memory_bytes,
            limits.deadline_ticks(EPOCH_TICK),
        ),
    );
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(1);
    let deadline = limits.deadline;
    store.epoch_deadline_callback(move |mut ctx| {
        let limiter = &mut ctx.data_mut().limiter;
        limiter.ticks_used += 1;
        if limiter.ticks_used >= limiter.deadline_ticks {
            return Err(wasmtime::Error::new(DeadlineExceeded { deadline }));
        }
        Ok(UpdateDeadline::Yield(1))
    });
    if fuel_enabled {
        // Without a configured budget a module is metered but unbounded.
        let _ = store.set_fuel(limits.fuel.unwrap_or(u64::MAX));
    }
    let result = f(&mut store).await;
    result.map_err(|error| classify(&module.name, error))
}

fn classify(module: &str, error: wasmtime::Error) -> GuestError {
    let module = module.to_string();
    if let Some(hit) = error.downcast_ref::<MemoryCapHit>() {
        return GuestError::MemoryCap {
            module,
            cap: hit.cap,
        };
    }
    if let Some(exceeded) = error.downcast_ref::<DeadlineExceeded>() {
        return GuestError::Timeout {
            module,
            deadline: exceeded.deadline,
        };
    }
    if let Some(wasmtime::Trap::OutOfFuel) = error.downcast_ref::<wasmtime::Trap>() {
        return GuestError::OutOfFuel { module };
    }
    GuestError::Trap {
        module,
        message: format!("{error:#}"),
    }
}
