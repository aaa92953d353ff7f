//! Everything a Postern guest author needs: the generated bindings of each
//! world in `wit/`, and a few helpers (logging macros).
//!
//! A guest crate is a `cdylib` built for `wasm32-wasip2`. It implements the
//! `Guest` trait of its world and exports it:
//!
//! ```ignore
//! struct MyGuest;
//! impl postern_guest_sdk::vspc::Guest for MyGuest { /* ... */ }
//! postern_guest_sdk::vspc::export!(MyGuest);
//! ```

/// Bindings of the `vspc` world (`wit/vspc.wit`).
pub mod vspc {
    wit_bindgen::generate!({
        path: "../wit",
        world: "vspc",
        pub_export_macro: true,
        default_bindings_module: "postern_guest_sdk::vspc",
    });
}

/// Logging into the host's `tracing` output; the one import every world has.
pub mod log {
    pub use crate::vspc::postern::guest::log::{Level, log};
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
