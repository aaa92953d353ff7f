pub mod fake;
mod fake_selftest;
