//! Upload → active for a 4 MB component over the HTTP admin API of an
//! in-process Postern: the wall time of the upload request (transfer,
//! signature-free checks, compile, store, swap), the compile time the server
//! reports for it, and the same upload once the artifact is cached.
//!
//! `cargo run --release -p postern-bench --bin module-upload [-- ROUNDS]`

use std::time::{Duration, Instant};

use postern_bench::policy::{bulk_policy, with_nonce};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|r| r.parse())
        .transpose()?
        .unwrap_or(5);
    let component = bulk_policy()?;
    let data = tempfile::tempdir()?;
    let config = format!(
        "data_dir = {:?}\n[admin]\nlisten = \"127.0.0.1:0\"\n",
        data.path().display().to_string()
    );
    let server = postern::start(&postern::Config::parse(&config, "bench")?).await?;
    println!(
        "module-upload: {} bytes component, {rounds} rounds, {} cores",
        component.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let mut fresh = Vec::new();
    let mut compile = Vec::new();
    let mut cached = Vec::new();
    for round in 0..rounds {
        // A new digest each round: the server compiles it from scratch.
        let bytes = with_nonce(&component, round as u64);
        let (elapsed, compile_ms) =
            upload(server.admin_addr, &server.admin_token, "bulk", &bytes).await?;
        let compile_ms =
            compile_ms.ok_or_else(|| anyhow::anyhow!("a new digest must be compiled"))?;
        fresh.push(elapsed);
        compile.push(Duration::from_secs_f64(compile_ms / 1e3));
        // The same bytes again: the artifact is in the AOT cache.
        let (elapsed, compile_ms) =
            upload(server.admin_addr, &server.admin_token, "bulk", &bytes).await?;
        anyhow::ensure!(
            compile_ms.is_none(),
            "a cached digest is not compiled again"
        );
        cached.push(elapsed);
        println!(
            "  round {round}: upload→active {:.0} ms (compile {:.0} ms), cached re-upload {:.0} ms",
            fresh[round].as_secs_f64() * 1e3,
            compile[round].as_secs_f64() * 1e3,
            cached[round].as_secs_f64() * 1e3
        );
    }
    let (fresh, compile, cached) = (median(fresh), median(compile), median(cached));
    println!(
        "median: upload→active {:.0} ms, of which compile {:.0} ms; cached re-upload {:.0} ms",
        fresh.as_secs_f64() * 1e3,
        compile.as_secs_f64() * 1e3,
        cached.as_secs_f64() * 1e3
    );
    println!(
        "ratio upload→active / compile alone: {:.2}×; target upload→active ≤ 3000 ms: {}",
        fresh.as_secs_f64() / compile.as_secs_f64(),
        if fresh <= Duration::from_secs(3) {
            "met"
        } else {
            "MISSED"
        }
    );
    server.shut_down().await;
    Ok(())
}

/// One `POST /admin/v1/modules/<name>`: the wall time to the 200 and the
/// compile time the server reports.
async fn upload(
    admin: std::net::SocketAddr,
    token: &str,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<(Duration, Option<f64>)> {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(admin).await?;
    stream.set_nodelay(true)?;
    let head = format!(
        "POST /admin/v1/modules/{name} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/wasm\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(bytes).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&response);
    anyhow::ensure!(text.starts_with("HTTP/1.1 200"), "upload refused: {text}");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json: serde_json::Value = serde_json::from_str(body)?;
    anyhow::ensure!(json["activated"] == true, "not activated: {json}");
    Ok((elapsed, json["compile_ms"].as_f64()))
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}
