//! `cvproxy-load` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

pub const USAGE: &str = "\
cvproxy-load: load and latency for Postern's cvproxy workflow

USAGE:
  cvproxy-load schema-errors [--postern-bin PATH] [--connections N] [--duration SECS] [--warmup SECS] [--rounds N]
      Starts `postern serve` (cvproxy only) and a native-Rust baseline (this
      binary, `native-server`), drives both with the same schema-error
      request over keep-alive connections, and prints requests/s and ratios.
  cvproxy-load happy [--postern-bin PATH] [--requests N] [--devices N]
      Starts a fake CloudVision in this process and `postern serve` trusting
      it, deploys N times, and prints the latency and where the time goes.
  cvproxy-load native-server --listen ADDR
      The baseline server alone.

OPTIONS (defaults):
  --postern-bin   target/release/postern
  --connections   16        --duration 10   --warmup 2   --rounds 2
  --requests      50        --devices  2    --threads 1 (load generator threads)
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    SchemaErrors,
    Happy,
    NativeServer,
}

#[derive(Clone, Debug)]
pub struct Args {
    pub mode: Mode,
    pub postern_bin: PathBuf,
    pub connections: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub rounds: usize,
    pub requests: usize,
    pub devices: usize,
    pub threads: usize,
    pub listen: Option<SocketAddr>,
}

impl Args {
    /// `Ok(None)` for `--help`.
    pub fn parse(mut argv: impl Iterator<Item = String>) -> Result<Option<Self>> {
        let mode = match argv.next().as_deref() {
            Some("schema-errors") => Mode::SchemaErrors,
            Some("happy") => Mode::Happy,
            Some("native-server") => Mode::NativeServer,
            Some("--help" | "-h") | None => return Ok(None),
            Some(other) => bail!("unknown mode `{other}`"),
        };
        let mut args = Args {
            mode,
            postern_bin: PathBuf::from("target/release/postern"),
            connections: 16,
            duration: Duration::from_secs(10),
            warmup: Duration::from_secs(2),
            rounds: 2,
            requests: 50,
            devices: 2,
            threads: 1,
            listen: None,
        };
        while let Some(flag) = argv.next() {
            if flag == "--help" || flag == "-h" {
                return Ok(None);
            }
            let value = argv
                .next()
                .with_context(|| format!("{flag} needs a value"))?;
            let number = || -> Result<u64> {
                value
                    .parse()
                    .with_context(|| format!("{flag}: `{value}` is not a number"))
            };
            match flag.as_str() {
                "--postern-bin" => args.postern_bin = PathBuf::from(&value),
                "--connections" => args.connections = number()?.max(1) as usize,
                "--duration" => args.duration = Duration::from_secs(number()?.max(1)),
                "--warmup" => args.warmup = Duration::from_secs(number()?),
                "--rounds" => args.rounds = number()?.max(1) as usize,
                "--requests" => args.requests = number()?.max(1) as usize,
                "--devices" => args.devices = number()?.max(1) as usize,
                "--threads" => args.threads = number()?.max(1) as usize,
                "--listen" => {
                    args.listen = Some(value.parse().context("--listen: not an address")?)
                }
                other => bail!("unknown option `{other}`"),
            }
        }
        if args.mode == Mode::NativeServer && args.listen.is_none() {
            bail!("native-server needs --listen ADDR");
        }
        Ok(Some(args))
    }
}
