//! The `postern` binary: version, check, and serve with a graceful SIGTERM.

use std::process::{Command, Stdio};

use tokio::io::{AsyncBufReadExt, BufReader};

const POSTERN: &str = env!("CARGO_BIN_EXE_postern");

#[test]
fn version_and_help() {
    let out = Command::new(POSTERN).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("postern {}", env!("CARGO_PKG_VERSION"))
    );
    let out = Command::new(POSTERN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("serve"));
}

#[test]
fn check_validates_config_and_modules() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        format!(
            "data_dir = {:?}\n[vspc]\n",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    let out = Command::new(POSTERN)
        .args(["check", "--config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("satisfies world `vspc`"));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[vspc]\nproxy_directions = [\"X\"]\n").unwrap();
    let out = Command::new(POSTERN)
        .args(["check", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("proxy direction"));

    let not_wasm = dir.path().join("not.wasm");
    std::fs::write(&not_wasm, b"hello").unwrap();
    let wrong = dir.path().join("wrong.toml");
    std::fs::write(
        &wrong,
        format!(
            "[vspc]\n[modules.vspc]\npath = {:?}\n",
            not_wasm.display().to_string()
        ),
    )
    .unwrap();
    let out = Command::new(POSTERN)
        .args(["check", "--config"])
        .arg(&wrong)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a WebAssembly component"));
}

/// `serve` becomes ready, answers, and exits 0 on SIGTERM; a restart loads
/// the guest from the AOT cache instead of compiling it again.
#[tokio::test]
async fn serve_drains_on_sigterm_and_restarts_warm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("postern.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[admin]\nlisten = \"127.0.0.1:0\"\n[vspc]\nlisten = \"127.0.0.1:0\"\n",
            dir.path().join("data").display().to_string()
        ),
    )
    .unwrap();
    for expect_compiled in [true, false] {
        let mut child = tokio::process::Command::new(POSTERN)
            .args(["--log-format", "json", "serve", "--config"])
            .arg(&config)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut compiled = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
            let message = event["fields"]["message"].as_str().unwrap_or_default();
            if message == "module loaded" {
                compiled = Some(
                    event["fields"]
                        .get("compiled_ms")
                        .is_some_and(|v| !v.is_null()),
                );
            }
            if message == "ready" {
                break;
            }
        }
        assert_eq!(compiled, Some(expect_compiled), "compiled on this start?");
        let pid = child.id().unwrap() as i32;
        assert!(send_sigterm(pid));
        let status = child.wait().await.unwrap();
        assert!(status.success(), "exit status {status:?}");
    }
}

fn send_sigterm(pid: i32) -> bool {
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success())
}
