//! The real `postern serve` killed with SIGKILL in the middle of an
//! extraction (spec 13.5): the live deployment is the old tree or the new
//! one, never a mix, never missing; the next start clears the staging root.
//! And one data directory serves one process: a second is refused (flock).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use super::harness::*;

/// A loopback port free right now (a child cannot tell us its port 0).
fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// `postern serve` in a child process, started until it logs `ready`.
struct ServeProcess {
    child: Child,
    addr: SocketAddr,
}

fn write_config(dir: &Path, addr: SocketAddr) -> PathBuf {
    let config = dir.join(format!("postern-{}.toml", addr.port()));
    std::fs::write(
        &config,
        spiro_config(&dir.join("data"), &addr.to_string(), ""),
    )
    .unwrap();
    config
}

fn serve_command(config: &Path) -> Command {
    let mut command = Command::new(POSTERN);
    command
        .args(["--log-format", "json", "serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

impl ServeProcess {
    async fn start(dir: &Path) -> ServeProcess {
        let addr = free_port();
        let mut child = serve_command(&write_config(dir, addr)).spawn().unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        let ready = tokio::time::timeout(Duration::from_secs(120), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                let ready = serde_json::from_str::<serde_json::Value>(&line)
                    .is_ok_and(|event| event["fields"]["message"] == "ready");
                seen.push(line);
                if ready {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(
            matches!(ready, Ok(true)),
            "postern serve did not become ready:\n{}",
            seen.join("\n")
        );
        // Keep draining the log so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        ServeProcess { child, addr }
    }

    /// SIGKILL, and wait until it is gone.
    async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }
}

/// `postern spiro --config CONFIG issue-token --projects web`.
fn cli_token(config: &Path) -> String {
    let output = std::process::Command::new(POSTERN)
        .args(["spiro", "--config"])
        .arg(config)
        .args(["issue-token", "--projects", "web", "--lifespan", "3600"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Whether an extraction has begun: a tree under the staging root holding
/// the bundle's first directory.
fn extracting(staging_root: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(staging_root) else {
        return false;
    };
    entries
        .filter_map(Result::ok)
        .any(|entry| entry.path().join("d0").is_dir())
}

/// Sends a deploy request and reads whatever comes back, never panicking
/// (the server dies under it).
async fn deploy_raw(addr: SocketAddr, token: String, bundle: Vec<u8>) -> std::io::Result<Vec<u8>> {
    let (content_type, body) = Form::new()
        .field("project", "web")
        .field("deployment", "prod")
        .file("bundle", "bundle", &bundle)
        .finish();
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: bearer {token}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&body).await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    Ok(reply)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_extraction_leaves_the_old_or_the_new_tree_and_a_restart_cleans_up() {
    const BIG: usize = 30_000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let live = data.join("spiro/deployments/web/prod");
    let staging_root = data.join("spiro/staging");

    let first = ServeProcess::start(dir.path()).await;
    let config = write_config(dir.path(), first.addr);
    let token = cli_token(&config);
    let a = tagged_files("A", 200);
    let reply = deploy_raw(first.addr, token.clone(), tar_owned(&a))
        .await
        .unwrap();
    let reply = parse_reply(&reply);
    assert_eq!(reply.text(), STREAM_DEPLOY_ONLY);
    assert_eq!(files(&live), file_map(&a));

    // One data directory, one process: a second `serve` is refused.
    let second = serve_command(&write_config(dir.path(), free_port())).output();
    let second = tokio::time::timeout(Duration::from_secs(120), second)
        .await
        .expect("a second serve on the same data exits")
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        !second.status.success(),
        "the second serve must not run: {stderr}"
    );
    assert!(
        stderr.contains(".lock") && stderr.to_lowercase().contains("locked"),
        "a clear error naming the lock: {stderr}"
    );
    let reply = get(first.addr, "/", Some(&format!("bearer {token}"))).await;
    assert_eq!(reply.status, 200, "the first server keeps serving");

    // A big bundle, and SIGKILL once its extraction has begun.
    let b = tagged_files("B", BIG);
    let upload = tokio::spawn(deploy_raw(first.addr, token.clone(), tar_owned(&b)));
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut extraction_seen = false;
    loop {
        if extracting(&staging_root) {
            extraction_seen = true;
            break;
        }
        if upload.is_finished() {
            break;
        }
        assert!(Instant::now() < deadline, "the extraction never began");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill().await;
    let _ = upload.await;

    let after_kill = files(&live);
    let which = if after_kill == file_map(&a) {
        "A (the old tree)"
    } else if after_kill == file_map(&b) {
        "B (the new tree, swapped before the kill)"
    } else {
        panic!(
            "after SIGKILL the deployment is neither A nor B: {} files",
            after_kill.len()
        )
    };
    eprintln!("killed with extraction under way: {extraction_seen}; live tree: {which}");
    if extraction_seen && which.starts_with('A') {
        assert!(
            !leftovers(&staging_root).is_empty(),
            "the killed extraction left its staging tree (the restart has something to clean)"
        );
    }

    // The restart clears the staging root and serves the same tree.
    let restarted = ServeProcess::start(dir.path()).await;
    assert_eq!(leftovers(&staging_root), Vec::<String>::new());
    assert!(staging_root.join(".lock").is_file());
    assert_eq!(files(&live), after_kill);
    let authorization = format!("Bearer {token}");
    let listing = get(
        restarted.addr,
        "/deployments/web/prod/",
        Some(&authorization),
    )
    .await;
    assert_eq!(listing.status, 200, "{}", listing.text());
    let listing: serde_json::Value = serde_json::from_slice(&listing.body).unwrap();
    assert_eq!(listing["files"].as_array().unwrap().len(), after_kill.len());
    let (name, data) = after_kill.iter().next().unwrap();
    let served = get(
        restarted.addr,
        &format!("/deployments/web/prod/{name}"),
        Some(&authorization),
    )
    .await;
    assert_eq!(&served.body, data);
    // And it deploys again.
    let c = tagged_files("C", 10);
    let reply = deploy_raw(restarted.addr, token, tar_owned(&c))
        .await
        .unwrap();
    assert_eq!(parse_reply(&reply).text(), STREAM_DEPLOY_ONLY);
    assert_eq!(files(&live), file_map(&c));
    assert_eq!(leftovers(&staging_root), Vec::<String>::new());
    restarted.kill().await;
}
