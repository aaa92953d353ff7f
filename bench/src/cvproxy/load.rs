//! Closed-loop HTTP/1.1 load: each connection sends one request, reads the
//! whole response (by Content-Length), checks it, and sends the next.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::vspc::stats::Histogram;

pub struct LoadResult {
    pub responses: u64,
    pub elapsed: Duration,
    pub latency: Histogram,
}

impl LoadResult {
    pub fn per_second(&self) -> f64 {
        self.responses as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `connections` loops for `warmup` (not counted) then `duration`.
/// Every response must have status 200 and, when given, exactly `expect`.
pub async fn drive(
    addr: SocketAddr,
    request: Arc<Vec<u8>>,
    expect: Option<Arc<Vec<u8>>>,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Result<LoadResult> {
    let start = Instant::now() + warmup;
    let end = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let request = Arc::clone(&request);
        let expect = expect.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr)
                .await
                .with_context(|| format!("connecting to {addr}"))?;
            stream.set_nodelay(true)?;
            let mut buffer = Vec::with_capacity(4096);
            let mut latency = Histogram::default();
            let mut responses = 0u64;
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                stream.write_all(&request).await?;
                let body = read_body(&mut stream, &mut buffer).await?;
                if let Some(expect) = &expect
                    && body != expect.as_slice()
                {
                    bail!("unexpected reply: {}", String::from_utf8_lossy(body));
                }
                let done = Instant::now();
                if sent >= start && done <= end {
                    responses += 1;
                    latency.record(done - sent);
                }
            }
            Ok::<_, anyhow::Error>((responses, latency))
        }));
    }
    let mut total = 0;
    let mut latency = Histogram::default();
    for task in tasks {
        let (responses, histogram) = task.await??;
        total += responses;
        latency.merge(&histogram);
    }
    Ok(LoadResult {
        responses: total,
        elapsed: duration,
        latency,
    })
}

/// Reads one response into `buffer`; returns its body. Fails on a status
/// other than 200.
pub async fn read_body<'b>(stream: &mut TcpStream, buffer: &'b mut Vec<u8>) -> Result<&'b [u8]> {
    buffer.clear();
    let mut chunk = [0u8; 8192];
    let (header_end, length) = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..end]).context("response head")?;
            if !head.starts_with("HTTP/1.1 200") {
                bail!("unexpected response: {head}");
            }
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .context("a response without Content-Length")?;
            break (end + 4, length);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection");
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    while buffer.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("the server closed the connection inside a body");
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok(&buffer[header_end..header_end + length])
}
