//! Live modules: the registry over the admin API (HTTP, gRPC, CLI), hot
//! swap, restart, signatures, and policy chains in the workflows.

mod harness;
mod http_api;
mod hot_swap;
mod policies;
mod restart;
mod signatures;
