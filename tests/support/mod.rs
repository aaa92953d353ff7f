//! Shared test support: starting an in-process server on port 0.
#![allow(dead_code)]

pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/test_guests.rs"));
}
