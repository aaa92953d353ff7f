//! Shared test support: in-process servers on port 0, the admin endpoint.
#![allow(dead_code)]

pub mod guests {
    include!(concat!(env!("OUT_DIR"), "/test_guests.rs"));
}

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::OnceLock;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One AOT cache for every test server, so the guests compile once per run.
pub fn shared_aot_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("postern-test-aot")
}

/// A Postern started in-process from a TOML config, with its own data dir.
pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub vspc: SocketAddr,
    pub admin: SocketAddr,
    pub thumbprint: Option<String>,
    /// Present when `tables` configured `[cvproxy]`.
    pub cvproxy: Option<SocketAddr>,
    server: Option<postern::RunningServer>,
}

impl TestServer {
    /// `vspc_extra` goes into the `[vspc]` table; `tables` after it (e.g.
    /// `[modules.vspc]`).
    pub async fn start(vspc_extra: &str, tables: &str) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = format!(
            "data_dir = {data:?}\n[admin]\nlisten = \"127.0.0.1:0\"\n[engine]\ncache_dir = {cache:?}\n\
             [vspc]\nlisten = \"127.0.0.1:0\"\n{vspc_extra}\n{tables}\n",
            data = dir.path().display().to_string(),
            cache = shared_aot_cache().display().to_string(),
        );
        let config = postern::Config::parse(&config, "test").expect("valid test config");
        let server = postern::start(&config).await.expect("server starts");
        TestServer {
            vspc: server.vspc_addr.expect("vspc configured"),
            admin: server.admin_addr,
            thumbprint: server.vspc_tls_thumbprint.clone(),
            cvproxy: server.cvproxy_addr,
            server: Some(server),
            dir,
        }
    }

    pub fn vm_dir(&self) -> PathBuf {
        self.dir.path().join("vspc")
    }

    pub fn write_vm(&self, name: &str, content: impl AsRef<[u8]>) {
        std::fs::write(self.vm_dir().join(format!("{name}.yaml")), content).expect("write VM file");
    }

    pub async fn metrics(&self) -> String {
        http_get(self.admin, "/metrics").await.1
    }

    /// The value of the sample whose line starts with `prefix` (name and
    /// labels as printed), or 0 when absent.
    pub async fn metric(&self, prefix: &str) -> f64 {
        metric_value(&self.metrics().await, prefix)
    }

    pub async fn shut_down(mut self) -> bool {
        self.server.take().expect("running").shut_down().await
    }
}

pub fn metric_value(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(prefix) && line[prefix.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

/// A minimal HTTP/1.1 GET (Connection: close): (status, body).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect admin");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    // hyper answers these small fixed bodies with Content-Length, unchunked.
    (status, body)
}

/// The shared golden data of the specs.
pub fn golden(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/golden")
        .join(path)
}

pub fn hex_decode(hex: &str) -> Vec<u8> {
    let hex: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    hex.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

static INIT_LOG: OnceLock<()> = OnceLock::new();

/// Logs to the test's captured output when `RUST_LOG` is set.
pub fn init_logging() {
    INIT_LOG.get_or_init(|| {
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        }
    });
}

/// A default-config server shared by the tests that need nothing special;
/// it runs on its own runtime thread for the whole test binary. Tests use
/// distinct VM names so they never share a file.
pub struct Shared {
    pub vspc: SocketAddr,
    /// cvproxy with default settings (its CloudVision is whatever a request names).
    pub cvproxy: SocketAddr,
    pub admin: SocketAddr,
    pub vm_dir: PathBuf,
}

impl Shared {
    pub fn write_vm(&self, name: &str, content: impl AsRef<[u8]>) {
        std::fs::write(self.vm_dir.join(format!("{name}.yaml")), content).expect("write VM file");
    }

    pub async fn metric(&self, prefix: &str) -> f64 {
        metric_value(&http_get(self.admin, "/metrics").await.1, prefix)
    }
}

pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let server = TestServer::start("", "[cvproxy]\nlisten = \"127.0.0.1:0\"\n").await;
                sender
                    .send(Shared {
                        vspc: server.vspc,
                        cvproxy: server.cvproxy.expect("cvproxy configured"),
                        admin: server.admin,
                        vm_dir: server.vm_dir(),
                    })
                    .unwrap();
                // Keep the server (and its temp dir) for the life of the process.
                std::future::pending::<()>().await;
                drop(server);
            });
        });
        receiver.recv().expect("shared server started")
    })
}

/// An HTTP/1.1 response read off a raw connection.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Writes `request` as is and reads one response (by its Content-Length),
/// leaving the connection open for the next one.
pub async fn http_exchange(stream: &mut tokio::net::TcpStream, request: &[u8]) -> RawResponse {
    stream.write_all(request).await.expect("write request");
    read_response(stream).await
}

/// Reads one HTTP/1.1 response whose body has a Content-Length.
pub async fn read_response(stream: &mut tokio::net::TcpStream) -> RawResponse {
    let mut buffer = Vec::new();
    let header_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.expect("read response");
        assert!(n > 0, "connection closed before a full response header");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().expect("numeric content-length"))
        .unwrap_or(0);
    let mut body = buffer[header_end..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; (length - body.len()).min(1 << 16)];
        let n = stream.read(&mut chunk).await.expect("read body");
        assert!(n > 0, "connection closed inside the body");
        body.extend_from_slice(&chunk[..n]);
    }
    RawResponse {
        status,
        headers,
        body,
    }
}

/// `POST /` with a JSON body on a fresh connection.
pub async fn post_json(addr: SocketAddr, body: &[u8]) -> RawResponse {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    http_exchange(&mut stream, &request).await
}
