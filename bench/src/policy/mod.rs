//! Module registry benchmarks: where the policy guests are, and the
//! 4 MB bulk-policy component built on demand.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn guest_artifacts() -> PathBuf {
    workspace_root().join("target/guests/wasm32-wasip2/release")
}

/// The `policy-fixed` test guest (allows without settings), built by the
/// runtime's build script.
pub fn allow_policy_path() -> PathBuf {
    guest_artifacts().join("postern_test_guest_policy_fixed.wasm")
}

/// Builds `guests/bench-guests/bulk-policy` (a 4+ MB component of generated
/// code; not part of the normal build) and returns its bytes.
pub fn bulk_policy() -> anyhow::Result<Vec<u8>> {
    let guests = workspace_root().join("guests");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&guests)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "-p",
            "postern-bench-guest-bulk-policy",
            "--target-dir",
        ])
        .arg(workspace_root().join("target/guests"))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .status()?;
    anyhow::ensure!(status.success(), "building the bulk-policy guest failed");
    let path = guest_artifacts().join("postern_bench_guest_bulk_policy.wasm");
    std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// `component` with a custom section carrying `nonce` appended: the same
/// code under a new digest, so the server must compile it afresh.
pub fn with_nonce(component: &[u8], nonce: u64) -> Vec<u8> {
    let name = b"postern-bench-nonce";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(&nonce.to_le_bytes());
    let mut out = component.to_vec();
    out.push(0); // custom section id
    leb128(payload.len() as u64, &mut out);
    out.extend_from_slice(&payload);
    out
}

fn leb128(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
