//! Network front doors: protocol only, no workflow knowledge.

pub mod http;
pub mod tcp;
pub mod telnet;
pub mod tls;
