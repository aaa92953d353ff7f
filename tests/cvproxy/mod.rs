pub mod fake;
mod fake_selftest;
mod front_door;
