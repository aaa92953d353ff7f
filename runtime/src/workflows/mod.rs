//! One module per workflow: protocol glue and host orchestration around the
//! workflow's guest.

pub mod cvproxy;
pub mod spiro;
pub mod vspc;
