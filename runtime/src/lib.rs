//! Postern: a WebAssembly-extensible edge service. The host terminates
//! network protocols; sandboxed WASM components (WIT worlds in `wit/`) make
//! the decisions. See `DESIGN.md` in the shared folder and the README.

pub mod admin;
pub mod cli;
pub mod config;
pub mod engine;
pub mod guests;
pub mod listeners;
pub mod metrics;
pub mod policy;
pub mod python;
pub mod server;
pub mod shutdown;
pub mod signing;
pub mod store;
pub mod telemetry;
pub mod workflows;

pub use config::Config;
pub use server::{RunningServer, start};
