mod deploy_happy;
pub mod fake;
mod fake_selftest;
mod front_door;
mod harness;
