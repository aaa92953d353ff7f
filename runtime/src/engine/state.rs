use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::call::MemoryCapHit;
use super::guest_log::bindings::postern::guest::log;
use super::guest_settings::bindings::postern::guest::settings;
use super::limits::ModuleSettings;

/// The data of one call's store.
///
/// The WASI context grants nothing: no preopened directories, no environment,
/// no arguments, empty stdin, stdout/stderr discarded, no network. It exists
/// only because Rust's `wasm32-wasip2` standard library imports a few WASI
/// interfaces (stdio, exit, environment) even when a guest never uses them;
/// [`super::WorldContract`] refuses components that import anything more.
pub struct GuestState {
    pub(crate) module: Arc<str>,
    pub(crate) settings: ModuleSettings,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: CallLimiter,
}

impl GuestState {
    pub(crate) fn new(
        module: Arc<str>,
        settings: ModuleSettings,
        memory_bytes: usize,
        deadline_ticks: u64,
    ) -> Self {
        Self {
            module,
            settings,
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: CallLimiter {
                memory_bytes,
                deadline_ticks,
                ticks_used: 0,
            },
        }
    }
}

impl WasiView for GuestState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Enforces the memory cap and counts epoch ticks against the deadline.
pub(crate) struct CallLimiter {
    memory_bytes: usize,
    pub(crate) deadline_ticks: u64,
    pub(crate) ticks_used: u64,
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            // An error (not `Ok(false)`) turns the failed grow into a trap we
            // can recognise, instead of an allocation failure the guest may
            // report as something else.
            return Err(wasmtime::Error::new(MemoryCapHit {
                cap: self.memory_bytes,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        const MAX_TABLE_ELEMENTS: usize = 1 << 20;
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

pub(crate) fn add_to_linker(linker: &mut Linker<GuestState>) -> anyhow::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)
        .map_err(|e| anyhow::anyhow!("linking WASI: {e:#}"))?;
    log::add_to_linker::<GuestState, HasSelf<GuestState>>(linker, |state| state)
        .map_err(|e| anyhow::anyhow!("linking postern:guest/log: {e:#}"))?;
    settings::add_to_linker::<GuestState, HasSelf<GuestState>>(linker, |state| state)
        .map_err(|e| anyhow::anyhow!("linking postern:guest/settings: {e:#}"))?;
    Ok(())
}
