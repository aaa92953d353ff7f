//! Load tools for Postern. Each workflow's tool lives in its own module; the
//! binaries in `src/bin` are thin wrappers around them.

pub mod cvproxy;
pub mod policy;
pub mod vspc;
