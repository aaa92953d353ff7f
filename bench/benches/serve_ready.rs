//! `postern serve` from exec to a 200 on /readyz, with a warm AOT cache
//! (the first, cold start is made outside the measurement) — against
//! `postern --version`, the cost of merely starting the process.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

const POSTERN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/postern");

fn ready(admin: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(admin) else {
        return false;
    };
    let _ = stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

fn start_and_wait(config: &std::path::Path) -> Duration {
    let started = Instant::now();
    let mut child = Command::new(POSTERN)
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .expect("build the release binary first: cargo build --release -p postern");
    let deadline = started + Duration::from_secs(10);
    while !ready("127.0.0.1:19090") {
        assert!(Instant::now() < deadline, "postern did not become ready");
        std::thread::sleep(Duration::from_micros(500));
    }
    let elapsed = started.elapsed();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    elapsed
}

fn serve_ready(c: &mut Criterion) {
    let dir = std::env::temp_dir().join("postern-bench-serve");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("postern.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[admin]\nlisten = \"127.0.0.1:19090\"\n[vspc]\nlisten = \"127.0.0.1:0\"\n",
            dir.join("data").display().to_string()
        ),
    )
    .unwrap();
    start_and_wait(&config); // fills the AOT cache
    let mut group = c.benchmark_group("startup");
    group.sample_size(20);
    group.bench_function("process start: postern --version", |b| {
        b.iter(|| {
            Command::new(POSTERN)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .unwrap()
        })
    });
    group.bench_function("postern serve ready (warm AOT cache)", |b| {
        b.iter_custom(|iterations| (0..iterations).map(|_| start_and_wait(&config)).sum())
    });
    group.finish();
}

criterion_group!(benches, serve_ready);
criterion_main!(benches);
