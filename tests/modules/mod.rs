//! Live modules: the registry over the admin API (HTTP, gRPC, CLI), hot
//! swap, restart, signatures, and policy chains in the workflows.

mod cli;
mod grpc_api;
mod harness;
mod hot_swap;
mod http_api;
mod policies;
mod restart;
mod signatures;
