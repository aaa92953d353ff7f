//! An ESXi emulator: the client side of a VM's network serial port, as
//! captured from real ESXi hosts (spec 3 and 11). It records every byte the
//! server sends, so tests assert on exact bytes.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub const IAC: u8 = 0xFF;
pub const SB: u8 = 0xFA;
pub const SE: u8 = 0xF0;

/// ESXi's KNOWN-SUBOPTIONS-1 list, as captured.
pub const ESXI_KS1: [u8; 22] = [
    0x00, 0x01, 0x02, 0x03, 0x28, 0x29, 0x2B, 0x2C, 0x2D, 0x2E, 0x30, 0x46, 0x47, 0x49, 0x50, 0x51,
    0x54, 0x55, 0x56, 0x57, 0x52, 0x53,
];

/// Postern's answer to KS1: KS2 with the seed's 18 codes, then GET-VM-NAME.
pub const KS2_AND_GET_NAME: &[u8] = &[
    0xFF, 0xFA, 0xE8, 0x01, 0x00, 0x01, 0x28, 0x29, 0x2B, 0x2C, 0x2D, 0x2E, 0x30, 0x50, 0x51, 0x52,
    0x54, 0x55, 0x53, 0x46, 0x47, 0x49, 0xFF, 0xF0, 0xFF, 0xFA, 0xE8, 0x53, 0xFF, 0xF0,
];

pub const BIOS_UUID: &[u8] = b"42 1b 41 87 bc b4 3d c1-e7 d7 c9 49 6d 3f dc a9";
pub const VC_UUID: &[u8] = b"50 1b 8b de 95 da 47 2a-4d 2d 9d 97 ea 39 4b bc";

/// How long any single expectation may wait for the server.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// `IAC SB E8 <command> <payload, 0xFF doubled> IAC SE`.
pub fn vmware(command: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, 0xE8];
    for &b in std::iter::once(&command).chain(payload) {
        out.push(b);
        if b == IAC {
            out.push(IAC);
        }
    }
    out.extend_from_slice(&[IAC, SE]);
    out
}

pub trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

pub struct Esxi {
    stream: Box<dyn Stream>,
    /// Bytes received and not yet consumed by an expectation.
    pending: Vec<u8>,
}

impl Esxi {
    pub async fn connect(addr: SocketAddr) -> Esxi {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the vSPC");
        stream.set_nodelay(true).unwrap();
        Esxi::over(Box::new(stream))
    }

    pub fn over(stream: Box<dyn Stream>) -> Esxi {
        Esxi {
            stream,
            pending: Vec::new(),
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .await
            .expect("send to the vSPC");
    }

    /// Sends `bytes` one byte per write, as ESXi relays guest serial data.
    pub async fn send_bytewise(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.send(std::slice::from_ref(b)).await;
            self.stream.flush().await.unwrap();
        }
    }

    async fn fill(&mut self, at_least: usize) -> bool {
        while self.pending.len() < at_least {
            let mut buf = [0u8; 8192];
            let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut buf))
                .await
                .expect("the vSPC answered in time");
            match read {
                Ok(0) | Err(_) => return false,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
            }
        }
        true
    }

    /// The next bytes from the server must be exactly `expected`.
    pub async fn expect(&mut self, expected: &[u8]) {
        let complete = self.fill(expected.len()).await;
        let got = &self.pending[..self.pending.len().min(expected.len())];
        assert!(
            complete && got == expected,
            "expected from the vSPC:\n  {}\ngot:\n  {}{}",
            hex(expected),
            hex(got),
            if complete {
                ""
            } else {
                " (then the connection closed)"
            }
        );
        self.pending.drain(..expected.len());
    }

    /// Reads one reply line through its trailing `\n\r`.
    pub async fn reply_line(&mut self) -> Vec<u8> {
        loop {
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\n\r") {
                return self.pending.drain(..end + 2).collect();
            }
            let want = self.pending.len() + 1;
            assert!(
                self.fill(want).await,
                "connection closed before a reply line: {}",
                hex(&self.pending)
            );
        }
    }

    /// Proves the server sent nothing for what came before: an unknown
    /// VMware sub-command is answered at once, and the server handles input
    /// in order, so its answer must be the very next bytes.
    pub async fn expect_nothing_before_barrier(&mut self) {
        self.send(&vmware(0x99, &[])).await;
        self.expect(&vmware(0x03, &[0x99])).await;
    }

    /// The next `count` bytes, whatever they are.
    pub async fn next_bytes(&mut self, count: usize) -> Vec<u8> {
        assert!(
            self.fill(count).await,
            "connection closed: {}",
            hex(&self.pending)
        );
        self.pending.drain(..count).collect()
    }

    /// A reply line, or `None` if `barrier` comes first.
    pub async fn reply_line_or_barrier(&mut self, barrier: &[u8]) -> Option<Vec<u8>> {
        loop {
            if self.pending.starts_with(barrier) {
                self.pending.drain(..barrier.len());
                return None;
            }
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\n\r") {
                let line: Vec<u8> = self.pending.drain(..end + 2).collect();
                self.expect(barrier).await;
                return Some(line);
            }
            let want = self.pending.len() + 1;
            assert!(
                self.fill(want).await,
                "connection closed: {}",
                hex(&self.pending)
            );
        }
    }

    /// The server must close the connection (after any bytes in `allowed`).
    pub async fn expect_closed(&mut self) {
        let mut buf = [0u8; 8192];
        loop {
            let read = tokio::time::timeout(PATIENCE, self.stream.read(&mut buf))
                .await
                .expect("the vSPC closed in time");
            match read {
                Ok(0) | Err(_) => return,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
            }
        }
    }

    pub fn take_pending(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }

    /// Steps 1–2 of the ESXi handshake (spec 4.6).
    pub async fn negotiate(&mut self) {
        self.send(&[0xFF, 0xFB, 0x25]).await;
        self.expect(&[0xFF, 0xFE, 0x25]).await;
        self.send(&[
            0xFF, 0xFB, 0x00, 0xFF, 0xFB, 0x03, 0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0x03, 0xFF, 0xFB,
            0xE8,
        ])
        .await;
        self.expect(&[
            0xFF, 0xFD, 0x00, 0xFF, 0xFD, 0x03, 0xFF, 0xFB, 0x00, 0xFF, 0xFB, 0x03, 0xFF, 0xFD,
            0xE8,
        ])
        .await;
    }

    /// KS1 + DO-PROXY in one write, as a source connection does.
    pub async fn proxy(&mut self, direction: u8, uri: &[u8]) {
        let mut segment = vmware(0x00, &ESXI_KS1);
        segment.extend(vmware(0x46, &[&[direction][..], uri].concat()));
        self.send(&segment).await;
    }

    /// Identification: VM-NAME → GET-BIOS-UUID, BIOS-UUID → GET-VC-UUID, VC-UUID.
    pub async fn identify(&mut self, name: &[u8]) {
        self.send(&vmware(0x52, name)).await;
        self.expect(&vmware(0x55, &[])).await;
        self.send(&vmware(0x54, BIOS_UUID)).await;
        self.expect(&vmware(0x51, &[])).await;
        self.send(&vmware(0x50, VC_UUID)).await;
    }

    /// A complete power-on handshake of a source connection for VM `name`.
    pub async fn source(addr: SocketAddr, uri: &str, name: &str) -> Esxi {
        let mut esxi = Esxi::connect(addr).await;
        esxi.handshake(uri, name).await;
        esxi
    }

    pub async fn handshake(&mut self, uri: &str, name: &str) {
        self.negotiate().await;
        self.proxy(b'C', uri.as_bytes()).await;
        self.expect(KS2_AND_GET_NAME).await;
        self.expect(&vmware(0x47, &[])).await;
        self.identify(name.as_bytes()).await;
        // WILL COM-PORT, as ESXi sends ~40 ms after identification.
        self.send(&[0xFF, 0xFB, 0x2C]).await;
        self.expect(&[0xFF, 0xFE, 0x2C]).await;
    }

    /// Sends a request line and returns the reply line.
    pub async fn request(&mut self, code: &str) -> Vec<u8> {
        self.send(format!("!!{code}#\n").as_bytes()).await;
        self.reply_line().await
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}
