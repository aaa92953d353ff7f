mod deploy_failures;
mod deploy_happy;
mod deploy_tags;
mod deploy_topology;
mod deploy_transport;
pub mod fake;
mod fake_selftest;
mod front_door;
mod harness;
