//! Everything a Postern guest author needs: the generated bindings of each
//! world in `wit/`, and a few helpers (logging macros).
//!
//! A guest crate is a `cdylib` built for `wasm32-wasip2`. It enables the SDK
//! feature of its world, implements that world's `Guest` trait and exports it:
//!
//! ```ignore
//! // Cargo.toml: postern-guest-sdk = { path = "...", features = ["vspc"] }
//! struct MyGuest;
//! impl postern_guest_sdk::vspc::Guest for MyGuest { /* ... */ }
//! postern_guest_sdk::vspc::export!(MyGuest);
//! ```
//!
//! One feature per world, because every `generate!` embeds its world's type
//! in the binary and the component encoder merges all of them: a guest that
//! linked two worlds would be asked to export both.

/// The `log` import, shared by every world (`wit/log.wit`, world `logging`).
mod logging {
    wit_bindgen::generate!({
        path: "../wit",
        world: "logging",
    });
}

/// Bindings of the `vspc` world (`wit/vspc.wit`).
#[cfg(feature = "vspc")]
pub mod vspc {
    wit_bindgen::generate!({
        path: "../wit",
        world: "vspc",
        pub_export_macro: true,
        default_bindings_module: "postern_guest_sdk::vspc",
        with: { "postern:guest/log@0.1.0": crate::logging::postern::guest::log },
    });
}

/// Bindings of the `cvproxy` world (`wit/cvproxy.wit`).
#[cfg(feature = "cvproxy")]
pub mod cvproxy {
    wit_bindgen::generate!({
        path: "../wit",
        world: "cvproxy",
        pub_export_macro: true,
        default_bindings_module: "postern_guest_sdk::cvproxy",
        with: { "postern:guest/log@0.1.0": crate::logging::postern::guest::log },
    });
}

/// Logging into the host's `tracing` output; the one import every world has.
pub mod log {
    pub use crate::logging::postern::guest::log::{Level, log};
}

/// `info!("...", args)` and friends: format and send one log line to the host.
#[macro_export]
macro_rules! log_at {
    ($level:ident, $($arg:tt)*) => {
        $crate::log::log($crate::log::Level::$level, &::std::format!($($arg)*))
    };
}

#[macro_export]
macro_rules! debug { ($($arg:tt)*) => { $crate::log_at!(Debug, $($arg)*) }; }
#[macro_export]
macro_rules! info { ($($arg:tt)*) => { $crate::log_at!(Info, $($arg)*) }; }
#[macro_export]
macro_rules! warn { ($($arg:tt)*) => { $crate::log_at!(Warn, $($arg)*) }; }
