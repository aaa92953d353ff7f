//! Command-line options. Parsed by hand to keep the bench free of new
//! dependencies (adding one would rewrite the workspace's shared lock file).

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

pub const USAGE: &str = "\
usage: vspc-load [requests|handshakes|hold] [options]

modes:
  requests    N connections handshake once, then loop request lines
              (METADATA, NETWORKDATA, USERDATA in turn); reports responses/s
              and latency
  handshakes  N workers loop connect + handshake + close; reports handshakes/s
  hold        open N connections (handshake, bounded concurrency), keep them,
              then one request on each; reports how many were answered and,
              with --server-pid, the server's RSS

options:
  --addr HOST:PORT     vSPC address, loopback only      [127.0.0.1:13370]
  --uri URI            serviceURI sent in DO-PROXY      [postern]
  --vm NAME            VM name sent in VM-NAME          [bench-vm]
  --vm-dir DIR         first write DIR/NAME.yaml (a minimal valid instance)
  --connections N      connections / workers  [16; hold: 10000]
  --duration SECS      measured time (requests, handshakes)   [10]
  --warmup SECS        unmeasured time before it              [2]
  --concurrency N      hold: handshakes/requests in flight    [256]
  --hold SECS          hold: idle time with all open          [1]
  --server-pid PID     read the server's VmRSS/VmHWM (hold: while held)
  --io-timeout SECS    longest wait for any single answer     [5]
  --timeout SECS       hard limit for the whole run   [derived from the above]
  --threads N          client runtime threads (leave CPU to the server) [1]
  --baseline-rps R     figure to compare responses/s with     [260]
  --target-rps R       figure responses/s should reach        [13000]
  -h, --help           this text
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Requests,
    Handshakes,
    Hold,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Requests => "requests",
            Mode::Handshakes => "handshakes",
            Mode::Hold => "hold",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Args {
    pub mode: Mode,
    pub addr: SocketAddr,
    pub uri: String,
    pub vm: String,
    pub vm_dir: Option<PathBuf>,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub concurrency: usize,
    pub hold: Duration,
    pub server_pid: Option<u32>,
    pub io_timeout: Duration,
    pub timeout: Option<Duration>,
    pub threads: usize,
    pub baseline_rps: f64,
    pub target_rps: f64,
}

// Upper bounds keep a typo from starting an unbounded run.
const MAX_CONNECTIONS: usize = 100_000;
const MAX_SECS: f64 = 3600.0;

impl Args {
    /// Parses the arguments after the program name; `Ok(None)` means help
    /// was asked for.
    pub fn parse(argv: impl IntoIterator<Item = String>) -> Result<Option<Args>> {
        let mut mode = None;
        let mut addr = "127.0.0.1:13370".to_string();
        let mut args = Args {
            mode: Mode::Requests,
            addr: SocketAddr::from(([127, 0, 0, 1], 13370)),
            uri: "postern".into(),
            vm: "bench-vm".into(),
            vm_dir: None,
            connections: 0,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            concurrency: 256,
            hold: Duration::from_secs(1),
            server_pid: None,
            io_timeout: Duration::from_secs(5),
            timeout: None,
            threads: 1,
            baseline_rps: 260.0,
            target_rps: 13000.0,
        };
        let mut it = argv.into_iter();
        while let Some(arg) = it.next() {
            if arg == "-h" || arg == "--help" {
                return Ok(None);
            }
            if !arg.starts_with("--") {
                if mode.is_some() {
                    bail!("unexpected argument '{arg}'");
                }
                mode = Some(parse_mode(&arg)?);
                continue;
            }
            // Both `--key value` and `--key=value`.
            let (key, inline) = match arg.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            let mut value = || -> Result<String> {
                match inline.clone() {
                    Some(v) => Ok(v),
                    None => it.next().with_context(|| format!("{key} needs a value")),
                }
            };
            match key.as_str() {
                "--mode" => mode = Some(parse_mode(&value()?)?),
                "--addr" => addr = value()?,
                "--uri" => args.uri = value()?,
                "--vm" => args.vm = value()?,
                "--vm-dir" => args.vm_dir = Some(PathBuf::from(value()?)),
                "--connections" => args.connections = number(&key, &value()?, 1, MAX_CONNECTIONS)?,
                "--duration" => args.duration = seconds(&key, &value()?, 0.1)?,
                "--warmup" => args.warmup = seconds(&key, &value()?, 0.0)?,
                "--concurrency" => args.concurrency = number(&key, &value()?, 1, 10_000)?,
                "--hold" => args.hold = seconds(&key, &value()?, 0.0)?,
                "--server-pid" => {
                    args.server_pid = Some(number(&key, &value()?, 1, u32::MAX as usize)? as u32)
                }
                "--io-timeout" => args.io_timeout = seconds(&key, &value()?, 0.01)?,
                "--timeout" => args.timeout = Some(seconds(&key, &value()?, 1.0)?),
                "--threads" => args.threads = number(&key, &value()?, 1, 64)?,
                "--baseline-rps" => args.baseline_rps = rate(&key, &value()?)?,
                "--target-rps" => args.target_rps = rate(&key, &value()?)?,
                _ => bail!("unknown option '{key}'"),
            }
        }
        args.mode = mode.unwrap_or(Mode::Requests);
        if args.connections == 0 {
            args.connections = if args.mode == Mode::Hold { 10_000 } else { 16 };
        }
        if args.vm.is_empty() {
            bail!("--vm must not be empty");
        }
        args.addr = loopback(&addr)?;
        Ok(Some(args))
    }

    /// The hard limit for the whole run: the planned time plus room for the
    /// set-up and for one stalled answer per phase.
    pub fn overall_timeout(&self) -> Duration {
        if let Some(t) = self.timeout {
            return t;
        }
        let slack = Duration::from_secs(30) + self.io_timeout * 4;
        match self.mode {
            Mode::Requests | Mode::Handshakes => self.warmup + self.duration + slack,
            // Establishing is bounded by io timeouts per batch; allow a
            // generous per-connection budget on top.
            Mode::Hold => self.hold + slack + Duration::from_millis(20) * self.connections as u32,
        }
    }
}

fn parse_mode(s: &str) -> Result<Mode> {
    Ok(match s {
        "requests" => Mode::Requests,
        "handshakes" => Mode::Handshakes,
        "hold" => Mode::Hold,
        _ => bail!("unknown mode '{s}' (requests, handshakes or hold)"),
    })
}

fn number(key: &str, v: &str, min: usize, max: usize) -> Result<usize> {
    let n: usize = v
        .parse()
        .with_context(|| format!("{key}: '{v}' is not a whole number"))?;
    if n < min || n > max {
        bail!("{key}: {n} is outside {min}..={max}");
    }
    Ok(n)
}

fn seconds(key: &str, v: &str, min: f64) -> Result<Duration> {
    let s: f64 = v
        .parse()
        .with_context(|| format!("{key}: '{v}' is not a number of seconds"))?;
    if !(min..=MAX_SECS).contains(&s) {
        bail!("{key}: {s} is outside {min}..={MAX_SECS} seconds");
    }
    Ok(Duration::from_secs_f64(s))
}

fn rate(key: &str, v: &str) -> Result<f64> {
    let r: f64 = v
        .parse()
        .with_context(|| format!("{key}: '{v}' is not a number"))?;
    if !(r > 0.0 && r.is_finite()) {
        bail!("{key}: must be positive");
    }
    Ok(r)
}

/// Resolves `addr` and refuses anything that is not loopback: this tool
/// opens thousands of connections and must never be pointed at another host.
fn loopback(addr: &str) -> Result<SocketAddr> {
    let resolved: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .with_context(|| format!("--addr: cannot resolve '{addr}' (expected HOST:PORT)"))?
        .collect();
    if resolved.is_empty() {
        bail!("--addr: '{addr}' resolves to no address");
    }
    if let Some(bad) = resolved.iter().find(|a| !a.ip().is_loopback()) {
        bail!(
            "--addr: refusing non-loopback target {bad} ('{addr}'); this tool only loads a local server"
        );
    }
    Ok(resolved[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Option<Args>> {
        Args::parse(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_depend_on_mode() {
        let a = parse(&[]).unwrap().unwrap();
        assert_eq!((a.mode, a.connections), (Mode::Requests, 16));
        let h = parse(&["hold"]).unwrap().unwrap();
        assert_eq!((h.mode, h.connections), (Mode::Hold, 10_000));
    }

    #[test]
    fn both_value_spellings() {
        let a = parse(&["handshakes", "--connections=4", "--duration", "1.5"])
            .unwrap()
            .unwrap();
        assert_eq!(a.connections, 4);
        assert_eq!(a.duration, Duration::from_millis(1500));
    }

    #[test]
    fn refuses_remote_targets() {
        assert!(parse(&["--addr", "10.1.2.3:13370"]).is_err());
        assert!(parse(&["--addr", "[::1]:13370"]).is_ok());
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse(&["--connections", "0"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
        assert!(parse(&["walk"]).is_err());
        assert!(parse(&["--vm"]).is_err());
    }
}
