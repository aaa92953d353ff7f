//! `spiro-load`: deploy throughput and memory of the spiro workflow.
//!
//! Builds a bundle of 5,000 files, 50 MB in all (deterministic pseudo-random
//! content, so it does not compress), starts the release `postern serve`
//! with only `[spiro]`, mints a token with `postern spiro issue-token`, and
//! deploys the bundle ROUNDS times over HTTP, as spiro-deploy does (one
//! multipart `POST /`, the event stream read to its end). Each deploy is
//! the whole server path: spooling the body, scanning the tar, the guest's
//! plan, extraction, the swap and removing the previous tree.
//!
//! The baseline, measured in the same run on the same filesystem, is the
//! bare cost of writing the files: the same tar unpacked in-process with
//! the `tar` crate. Printed: MB/s of both and their ratio, the server's idle
//! RSS, its peak RSS (VmHWM) and peak − idle against the 64 MB budget.
//!
//! ```text
//! cargo build --release -p postern
//! cargo run --release -p postern-bench --bin spiro-load -- [--rounds 5] [--files 5000] [--megabytes 50] [--postern-bin target/release/postern]
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use postern_bench::vspc::procfs;

/// The budget for the server's memory growth while deploying.
const BUDGET_MB: f64 = 64.0;
const STREAM: &str = "event: deploy-bundle\ndata: {\"msg\": \"Deploying bundle\"}\n\n";

struct Args {
    postern_bin: PathBuf,
    rounds: usize,
    files: usize,
    megabytes: usize,
}

impl Args {
    fn parse() -> Result<Option<Args>> {
        let mut args = Args {
            postern_bin: PathBuf::from("target/release/postern"),
            rounds: 5,
            files: 5000,
            megabytes: 50,
        };
        let mut argv = std::env::args().skip(1);
        while let Some(flag) = argv.next() {
            if flag == "--help" || flag == "-h" {
                return Ok(None);
            }
            let value = argv
                .next()
                .with_context(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--postern-bin" => args.postern_bin = value.into(),
                "--rounds" => args.rounds = value.parse()?,
                "--files" => args.files = value.parse()?,
                "--megabytes" => args.megabytes = value.parse()?,
                other => bail!("unknown option {other}"),
            }
        }
        ensure!(
            args.rounds > 0 && args.files > 0,
            "rounds and files must be at least 1"
        );
        Ok(Some(args))
    }
}

fn main() -> ExitCode {
    match Args::parse() {
        Ok(Some(args)) => match run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("spiro-load: {e:#}");
                ExitCode::FAILURE
            }
        },
        Ok(None) => {
            println!(
                "spiro-load [--rounds 5] [--files 5000] [--megabytes 50] [--postern-bin target/release/postern]"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("spiro-load: {e:#} (see --help)");
            ExitCode::from(2)
        }
    }
}

/// xorshift64*: deterministic bytes that deflate cannot shrink.
struct Noise(u64);

impl Noise {
    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let word = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

/// `files` files under 100 directories, `total` bytes of content in all.
fn bundle(files: usize, total: usize) -> Result<Vec<u8>> {
    let mut noise = Noise(0x5eed_1234_abcd_9876);
    let mut builder = tar::Builder::new(Vec::with_capacity(total + files * 1024 + 4096));
    let per_file = total / files;
    let mut content = vec![0u8; per_file];
    for i in 0..files {
        noise.fill(&mut content);
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_600_000_000);
        builder.append_data(
            &mut header,
            format!("states/d{:02}/file{i:05}.bin", i % 100),
            content.as_slice(),
        )?;
    }
    Ok(builder.into_inner()?)
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

fn start_server(bin: &Path, config: &Path, addr: SocketAddr) -> Result<Server> {
    if !bin.is_file() {
        bail!(
            "{} not found: build it first (`cargo build --release -p postern`) or pass --postern-bin",
            bin.display()
        );
    }
    let child = Command::new(bin)
        .args(["--log-format", "json", "serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(120);
    while TcpStream::connect(addr).is_err() {
        ensure!(
            Instant::now() < deadline,
            "nothing listens on {addr} after 120 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(server)
}

fn issue_token(bin: &Path, config: &Path) -> Result<String> {
    let output = Command::new(bin)
        .args(["spiro", "--config"])
        .arg(config)
        .args(["issue-token", "--projects", "bench", "--lifespan", "3600"])
        .output()?;
    ensure!(
        output.status.success(),
        "postern spiro issue-token: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?.trim().to_string())
}

/// One deploy as spiro-deploy sends it; the time to the end of the stream.
fn deploy(addr: SocketAddr, token: &str, bundle: &[u8]) -> Result<Duration> {
    const BOUNDARY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let mut body = Vec::with_capacity(bundle.len() + 512);
    for (name, value) in [("project", "bench"), ("deployment", "load")] {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )?;
    }
    write!(
        body,
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"bundle\"; filename=\"bundle\"\r\n\r\n"
    )?;
    body.extend_from_slice(bundle);
    write!(body, "\r\n--{BOUNDARY}--\r\n")?;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: bearer {token}\r\n\
         Accept: text/event-stream\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&reply);
    ensure!(text.starts_with("HTTP/1.1 200"), "deploy refused: {text}");
    // The chunked stream carries the one event; anything else is a failure.
    ensure!(
        text.contains(STREAM) && !text.contains("event: exception"),
        "deploy failed: {text}"
    );
    Ok(elapsed)
}

/// Flushes dirty pages so that a round does not pay for the previous one's.
fn sync() {
    let _ = Command::new("sync").status();
}

fn count_files(dir: &Path) -> Result<usize> {
    let mut count = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            count += count_files(&entry.path())?;
        } else {
            count += 1;
        }
    }
    Ok(count)
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn mb_per_s(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64()
}

fn run(args: &Args) -> Result<()> {
    let bundle = bundle(args.files, args.megabytes * 1_000_000)?;
    let work = tempfile::tempdir_in(std::env::current_dir()?.join("target"))
        .or_else(|_| tempfile::tempdir())?;
    let data = work.path().join("data");
    let addr = free_port()?;
    let config = work.path().join("postern.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[admin]\nlisten = \"127.0.0.1:0\"\n[spiro]\nlisten = \"{addr}\"\n",
            data.display().to_string()
        ),
    )?;
    println!(
        "spiro-load: bundle {:.1} MB, {} files, {} rounds, {} cores, work dir {}",
        bundle.len() as f64 / 1e6,
        args.files,
        args.rounds,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        work.path().display()
    );

    let server = start_server(&args.postern_bin, &config, addr)?;
    let token = issue_token(&args.postern_bin, &config)?;
    // Let the start settle (the guest compiled, the first allocations made).
    std::thread::sleep(Duration::from_millis(500));
    let idle = procfs::memory(server.child.id())?;
    // The start (compiling the guest) has its own peak: reset VmHWM so that
    // the peak read below is the deploys' (Linux ≥ 4.0).
    let reset = std::fs::write(format!("/proc/{}/clear_refs", server.child.id()), "5");
    if let Err(e) = &reset {
        println!("  (cannot reset VmHWM: {e}; the peak includes the start)");
    }
    // Rounds alternate between the server and the baseline, each after a
    // `sync`, so that both meet the same page-cache writeback conditions.
    let mut deploys = Vec::new();
    let mut baseline = Vec::new();
    for round in 0..args.rounds {
        sync();
        let elapsed = deploy(server.addr, &token, &bundle)?;
        let memory = procfs::memory(server.child.id())?;
        deploys.push(elapsed);
        let target = work.path().join(format!("baseline-{round}"));
        sync();
        let started = Instant::now();
        tar::Archive::new(bundle.as_slice()).unpack(&target)?;
        let unpacked = started.elapsed();
        baseline.push(unpacked);
        std::fs::remove_dir_all(&target)?;
        println!(
            "  round {round}: deploy {:.0} ms = {:.1} MB/s (server RSS {:.1} MB); baseline {:.0} ms = {:.1} MB/s",
            elapsed.as_secs_f64() * 1e3,
            mb_per_s(bundle.len(), elapsed),
            memory.rss_mb(),
            unpacked.as_secs_f64() * 1e3,
            mb_per_s(bundle.len(), unpacked),
        );
    }
    let peak = procfs::memory(server.child.id())?;
    let deployed = count_files(&data.join("spiro/deployments/bench/load"))?;
    ensure!(
        deployed == args.files,
        "deployed {deployed} files, expected {}",
        args.files
    );
    drop(server);

    // Paired rounds met the same machine: their ratios are steadier than
    // the ratio of medians on a shared machine.
    let mut ratios: Vec<f64> = deploys
        .iter()
        .zip(&baseline)
        .map(|(d, b)| d.as_secs_f64() / b.as_secs_f64())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let paired = ratios[ratios.len() / 2];
    let (deploy, base) = (median(deploys), median(baseline));
    let growth = peak.hwm_mb() - idle.rss_mb();
    println!(
        "median deploy {:.0} ms = {:.1} MB/s; baseline (tar crate unpack in-process) {:.0} ms = {:.1} MB/s",
        deploy.as_secs_f64() * 1e3,
        mb_per_s(bundle.len(), deploy),
        base.as_secs_f64() * 1e3,
        mb_per_s(bundle.len(), base)
    );
    println!(
        "ratio deploy / baseline time: {:.2}× of the medians, {paired:.2}× median of the paired rounds \
         (throughput {:.0}% of the baseline)",
        deploy.as_secs_f64() / base.as_secs_f64(),
        100.0 / paired
    );
    println!(
        "server RSS: idle {:.1} MB, peak (VmHWM) {:.1} MB, peak − idle {:.1} MB: {} the {BUDGET_MB:.0} MB budget",
        idle.rss_mb(),
        peak.hwm_mb(),
        growth,
        if growth <= BUDGET_MB {
            "within"
        } else {
            "OVER"
        }
    );
    Ok(())
}
