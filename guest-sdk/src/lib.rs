//! Everything a Postern guest author needs: the generated bindings of each
//! world in `wit/`, and a few helpers (logging macros, `settings::get` for
//! the policy world).
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
//! The features and their worlds:
//!
//! - `vspc`: the vspc workflow's guest (`wit/vspc.wit`);
//! - `cvproxy`: the cvproxy workflow's guest (`wit/cvproxy.wit`);
//! - `spiro`: the spiro workflow's guest (`wit/spiro.wit`);
//! - `policy`: an add-on policy module (`wit/policy.wit`), chained after a
//!   workflow's guest: it gets the workflow's subject as JSON and returns a
//!   verdict (allow, deny with reasons, or mutate to new JSON). Its settings
//!   are read with `settings::get`:
//!
//! ```ignore
//! // Cargo.toml: postern-guest-sdk = { path = "...", features = ["policy"] }
//! use postern_guest_sdk::policy::postern::guest::policy_types::Verdict;
//! struct MyPolicy;
//! impl postern_guest_sdk::policy::Guest for MyPolicy {
//!     fn check(subject_kind: String, subject_json: String) -> Verdict {
//!         match postern_guest_sdk::settings::get("mode").as_deref() {
//!             Some("deny") => Verdict::Deny(vec!["denied".into()]),
//!             _ => Verdict::Allow,
//!         }
//!     }
//! }
//! postern_guest_sdk::policy::export!(MyPolicy);
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

/// Bindings of the `policy` world (`wit/policy.wit`): an add-on module
/// chained after a workflow's own guest. It exports `check(subject-kind,
/// subject-json) -> verdict` and imports `settings` besides `log`.
#[cfg(feature = "policy")]
pub mod policy {
    wit_bindgen::generate!({
        path: "../wit",
        world: "policy",
        pub_export_macro: true,
        default_bindings_module: "postern_guest_sdk::policy",
        with: { "postern:guest/log@0.1.0": crate::logging::postern::guest::log },
    });
}

/// Bindings of the `spiro` world (`wit/spiro.wit`): the SpiroFS deploy
/// server's bundle policy and topfile rendering.
#[cfg(feature = "spiro")]
pub mod spiro {
    wit_bindgen::generate!({
        path: "../wit",
        world: "spiro",
        pub_export_macro: true,
        default_bindings_module: "postern_guest_sdk::spiro",
        with: { "postern:guest/log@0.1.0": crate::logging::postern::guest::log },
    });
}

/// The operator's settings of this module (`[modules.<name>.settings]` in
/// the config), for the worlds that import `settings` (`wit/settings.wit`).
#[cfg(feature = "policy")]
pub mod settings {
    /// The value of `key`, or `None` when the operator did not set it.
    pub use crate::policy::postern::guest::settings::get;
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
