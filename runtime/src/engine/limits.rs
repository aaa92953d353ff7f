use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A module's operator settings (`[modules.<name>.settings]`), read by the
/// guest through the `settings` import when its world grants it.
pub type ModuleSettings = Arc<BTreeMap<String, String>>;

/// How a module is run: its limits and its settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleOptions {
    pub limits: GuestLimits,
    pub settings: ModuleSettings,
}

/// Limits one guest call runs under; settable per module (`[modules.<name>]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestLimits {
    /// Wall-clock budget of one call, enforced by epoch interruption.
    pub deadline: Duration,
    /// Most linear memory one instance may grow to.
    pub memory_bytes: usize,
    /// Optional fuel budget (instructions, roughly) per call.
    pub fuel: Option<u64>,
}

impl Default for GuestLimits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(1),
            memory_bytes: 64 << 20,
            fuel: None,
        }
    }
}

impl GuestLimits {
    /// The deadline in epoch ticks, at least one.
    pub fn deadline_ticks(&self, tick: Duration) -> u64 {
        (self.deadline.as_nanos() / tick.as_nanos().max(1)).max(1) as u64
    }
}
