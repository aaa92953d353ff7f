//! The `postern:guest/log` import, shared by every world.

pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        interfaces: "import postern:guest/log@0.1.0;",
    });
}

use bindings::postern::guest::log::{Host, Level};

use super::GuestState;

impl Host for GuestState {
    fn log(&mut self, level: Level, message: String) {
        // Guests are untrusted: cap what one line can put into the host's log.
        const MAX_LINE: usize = 4096;
        let message = truncate_at_char_boundary(&message, MAX_LINE);
        let module = &*self.module;
        match level {
            Level::Trace => tracing::trace!(module, "guest: {message}"),
            Level::Debug => tracing::debug!(module, "guest: {message}"),
            Level::Info => tracing::info!(module, "guest: {message}"),
            Level::Warn => tracing::warn!(module, "guest: {message}"),
            Level::Error => tracing::error!(module, "guest: {message}"),
        }
    }
}

fn truncate_at_char_boundary(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
