//! The admin API's bearer token check, shared by HTTP and gRPC.

use sha2::{Digest, Sha256};

/// The error text of a refused request, on both protocols.
pub const REFUSED: &str = "missing or invalid bearer token";

/// Whether an `authorization` value is `Bearer <token>`.
pub fn authorized(authorization: Option<&str>, token: &str) -> bool {
    // An empty token would let an empty `Bearer ` in.
    !token.is_empty()
        && authorization
            .and_then(bearer)
            .is_some_and(|presented| same_secret(presented, token))
}

/// The credentials of a `Bearer` authorization (the scheme is
/// case-insensitive, RFC 9110 11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// Compares digests rather than the strings: the time taken depends on
/// neither the token's length nor how much of it a guess got right.
fn same_secret(presented: &str, expected: &str) -> bool {
    let presented = Sha256::digest(presented.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    let difference = presented
        .iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    std::hint::black_box(difference) == 0
}
