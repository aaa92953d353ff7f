//! `cvproxy-load`: drives Postern's cvproxy workflow and compares it with a
//! native-Rust baseline measured in the same run.
//!
//! Module map:
//! * [`args`]     command line (hand-parsed, like `vspc-load`);
//! * [`load`]     keep-alive HTTP/1.1 load from N connections, with latencies;
//! * [`native`]   the baseline server: the same HTTP listener and the same
//!   validation code as the `cvproxy` guest, compiled natively (no WASM);
//! * [`process`]  starting `postern serve` and the baseline as child processes;
//! * [`modes`]    `schema-errors` (throughput, ratio to the baseline) and
//!   `happy` (latency of whole deployments against the fake CloudVision).

pub mod args;
/// The integration tests' fake CloudVision, shared so the happy path is
/// measured against exactly what the tests check.
#[path = "../../../tests/cvproxy/fake/mod.rs"]
pub mod fake;
pub mod load;
pub mod modes;
pub mod native;
pub mod process;

/// A schema-error body: valid JSON, `cv_token` missing (spec 2.4's most
/// common error; the reply is HTTP 200 JSON).
pub const SCHEMA_ERROR_BODY: &str = r#"{"devices": {"leaf-1a": {"serial_number": "SSJ11111111", "configlet": "aG9zdG5hbWUgbGVhZi0xYQo=", "tags": {"role": "leaf"}}}, "cv_server": "www.cv-prod-uk-1.arista.io"}"#;

/// The body as one complete HTTP/1.1 request.
pub fn post_request(body: &str) -> Vec<u8> {
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    request
}
