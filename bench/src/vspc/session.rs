//! One client connection with a receive buffer. The server may split or merge
//! its answers across TCP segments, so every read appends to `buf` and the
//! callers consume exactly what they expect, leaving the rest for later.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::hex;

pub struct Session {
    stream: TcpStream,
    buf: Vec<u8>,
    io_timeout: Duration,
}

/// Marks an error as "the server did not answer in time", so callers can tell
/// silence (e.g. a refused VM file) from a wrong answer.
#[derive(Debug)]
pub struct Timeout;

impl std::fmt::Display for Timeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("timed out waiting for the server")
    }
}

impl std::error::Error for Timeout {}

pub fn is_timeout(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Timeout>())
}

impl Session {
    pub async fn connect(addr: SocketAddr, io_timeout: Duration) -> Result<Session> {
        let stream = match tokio::time::timeout(io_timeout, TcpStream::connect(addr)).await {
            Ok(r) => r.with_context(|| format!("connect to {addr}"))?,
            Err(_) => return Err(anyhow::Error::new(Timeout).context(format!("connect to {addr}"))),
        };
        // Requests are small single writes answered before the next one;
        // never let Nagle hold a handshake step back.
        stream.set_nodelay(true).context("set TCP_NODELAY")?;
        Ok(Session {
            stream,
            buf: Vec::with_capacity(1024),
            io_timeout,
        })
    }

    pub async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        match tokio::time::timeout(self.io_timeout, self.stream.write_all(bytes)).await {
            Ok(r) => r.context("write to the server"),
            Err(_) => Err(anyhow::Error::new(Timeout).context("write to the server")),
        }
    }

    /// Reads more bytes into `buf`; fails on timeout, and on end of stream
    /// (the server never closes a healthy session first).
    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 4096];
        let n = match tokio::time::timeout(self.io_timeout, self.stream.read(&mut chunk)).await {
            Ok(r) => r.context("read from the server")?,
            Err(_) => return Err(Timeout.into()),
        };
        if n == 0 {
            bail!("the server closed the connection");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Consumes exactly `expected`. A wrong byte fails at once (no waiting
    /// for a timeout); the error shows both sides in hex.
    pub async fn expect(&mut self, expected: &[u8]) -> Result<()> {
        loop {
            let have = self.buf.len().min(expected.len());
            if self.buf[..have] != expected[..have] {
                bail!(
                    "unexpected answer\n  expected: {}\n  received: {}",
                    hex(expected),
                    hex(&self.buf)
                );
            }
            if have == expected.len() {
                self.buf.drain(..have);
                return Ok(());
            }
            if let Err(e) = self.fill().await {
                return Err(e.context(format!(
                    "incomplete answer\n  expected: {}\n  received: {}",
                    hex(expected),
                    hex(&self.buf)
                )));
            }
        }
    }

    /// Consumes one reply line up to and including its `\n\r` terminator.
    pub async fn read_line(&mut self, max_len: usize) -> Result<Vec<u8>> {
        let mut scanned = 0;
        loop {
            // Resume one byte early: the terminator may straddle two reads.
            if let Some(pos) = self.buf[scanned..].windows(2).position(|w| w == b"\n\r") {
                let end = scanned + pos + 2;
                return Ok(self.buf.drain(..end).collect());
            }
            scanned = self.buf.len().saturating_sub(1);
            if self.buf.len() > max_len {
                bail!(
                    "reply longer than {max_len} bytes without a \\n\\r terminator; starts: {}",
                    hex(&self.buf[..64])
                );
            }
            if let Err(e) = self.fill().await {
                return Err(e.context(format!(
                    "waiting for a reply line ending in 0A 0D; received so far: {}",
                    hex(&self.buf)
                )));
            }
        }
    }
}
