//! The spiro workflow (SpiroFS deploy server): its tokens and bundles as
//! units, the server over HTTP, the real client, and a kill -9.

mod bundle;
mod client;
mod harness;
mod http;
mod macaroon;
mod restart;
mod tokens;
