//! Pure pieces of the CloudVision client: no I/O, no clock (except id
//! generation), easy to test on their own.

pub mod chunking;
pub mod containers;
pub mod devices;
pub mod naming;
pub mod pyrepr;
pub mod server;
pub mod studio_tree;
pub mod tags;
pub mod topology;
pub mod version;
