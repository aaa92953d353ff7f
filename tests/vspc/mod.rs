//! The vspc workflow over real TCP (and TLS) with the ESXi emulator.

mod capture;
pub mod esxi;
mod golden;
mod handshake;
mod limits;
mod lines;
mod load;
mod tls;
mod validation;
mod vmotion;

use crate::support;

pub const MINIMAL: &str = include_str!("../../../shared/golden/vspc/minimal.yaml");

/// The shared server with `name`'s file set to the golden minimal file.
pub fn shared_with_minimal(name: &str) -> &'static support::Shared {
    let shared = support::shared();
    shared.write_vm(name, MINIMAL);
    shared
}
