//! Child processes: `postern serve` with a generated config, and the
//! native baseline (this binary's `native-server` mode).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// A child process killed when dropped.
pub struct ChildServer {
    pub name: &'static str,
    pub addr: SocketAddr,
    /// The admin endpoint (`postern` only).
    pub admin: Option<SocketAddr>,
    child: Child,
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ChildServer {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A loopback port free right now.
pub fn free_port() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// `postern serve` with only cvproxy (plus the admin port), data in `dir`.
pub fn start_postern(bin: &Path, dir: &Path, cvproxy_extra: &str) -> Result<ChildServer> {
    if !bin.is_file() {
        bail!(
            "{} not found: build it first (`cargo build --release -p postern`) or pass --postern-bin",
            bin.display()
        );
    }
    let addr = free_port()?;
    let admin = free_port()?;
    let config = dir.join("postern.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[admin]\nlisten = \"{admin}\"\n[cvproxy]\nlisten = \"{addr}\"\n{cvproxy_extra}\n",
            dir.join("data").display().to_string()
        ),
    )?;
    let child = Command::new(bin)
        .args(["--log-format", "json", "serve", "--config"])
        .arg(&config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let server = ChildServer {
        name: "postern",
        addr,
        admin: Some(admin),
        child,
    };
    wait_listening(addr)?;
    Ok(server)
}

/// This binary in `native-server` mode.
pub fn start_native() -> Result<ChildServer> {
    let addr = free_port()?;
    let child = Command::new(std::env::current_exe()?)
        .args(["native-server", "--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting the native baseline")?;
    let server = ChildServer {
        name: "native",
        addr,
        admin: None,
        child,
    };
    wait_listening(addr)?;
    Ok(server)
}

/// Polls until `addr` accepts (a child needs a moment to bind).
fn wait_listening(addr: SocketAddr) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("nothing listens on {addr} after 60 s")
}
