//! pyavd's `CVClient` methods used by the deploy workflow, one module per
//! CloudVision API, each building exactly the messages of spec 6.

mod change_control;
pub(crate) mod configlet;
mod inventory;
mod studio;
mod tag;
pub(crate) mod workspace;
