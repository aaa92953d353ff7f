//! A benchmark-only `policy` guest whose component is over 4 MiB, mostly
//! real code: thousands of distinct generated scoring functions (small state
//! machines over the subject's bytes, see `build.rs`) behind a dispatch
//! table, so compiling it with wasmtime/Cranelift costs what a 4 MiB module
//! costs. Its verdict is always allow; each call runs one of the functions
//! (picked by a hash of the subject) and logs the score at debug.
//!
//! Not built by `runtime/build.rs`; build it by hand:
//!
//! ```sh
//! cd guests && cargo build --release --target wasm32-wasip2 \
//!     -p postern-bench-guest-bulk-policy --target-dir ../target/guests
//! ```
//!
//! The component is then
//! `target/guests/wasm32-wasip2/release/postern_bench_guest_bulk_policy.wasm`:
//! about 4.47 MB, 99 % of it code section (some 5,150 functions); the
//! release build takes about a minute (one LTO codegen unit).

use postern_guest_sdk::policy::postern::guest::policy_types::Verdict;

/// The generated functions (`build.rs`). A transition may pick the same next
/// state on both sides of a test; that is generated code, not a mistake.
#[allow(clippy::if_same_then_else)]
mod bulk {
    include!(concat!(env!("OUT_DIR"), "/bulk.rs"));
}

/// FNV-1a, to pick a function from the subject.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The score of one subject: one generated function, picked by its hash.
pub fn score(subject_kind: &str, subject_json: &str) -> u64 {
    let hash = fnv1a(subject_kind.as_bytes()) ^ fnv1a(subject_json.as_bytes());
    let function = bulk::SCORES[(hash % bulk::SCORES.len() as u64) as usize];
    function(subject_json.as_bytes(), hash)
}

struct BulkPolicy;

impl postern_guest_sdk::policy::Guest for BulkPolicy {
    fn check(subject_kind: String, subject_json: String) -> Verdict {
        let score = score(&subject_kind, &subject_json);
        postern_guest_sdk::debug!("bulk-policy: {subject_kind} scored {score:#018x}");
        Verdict::Allow
    }
}

postern_guest_sdk::policy::export!(BulkPolicy);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_deterministic_and_differ() {
        let a = score("cvproxy.deploy-plan", r#"{"devices":[]}"#);
        assert_eq!(a, score("cvproxy.deploy-plan", r#"{"devices":[]}"#));
        let distinct: std::collections::HashSet<u64> = (0..64)
            .map(|i| score("vspc.answer", &format!(r#"{{"n":{i}}}"#)))
            .collect();
        assert!(distinct.len() > 60);
    }
}
