//! The workloads.

use std::sync::Arc;

use anyhow::{Result, bail};
use postern::workflows::cvproxy::reply::Reply;

use super::args::Args;
use super::load::{LoadResult, drive};
use super::process::{self, ChildServer};
use super::{SCHEMA_ERROR_BODY, post_request};

/// The original cvproxy 1.6.4 on this 2-core machine under `wrk -t2 -c16`
/// (issue 3): the ratio every figure is also given against.
pub const CVPROXY_SCHEMA_ERRORS_PER_SECOND: f64 = 157.0;

/// `schema-errors`: the same request against the baseline and Postern,
/// alternating, `rounds` times each; the best round of each is compared.
pub async fn schema_errors(args: &Args) -> Result<()> {
    let dir = tempfile_dir()?;
    let postern = process::start_postern(&args.postern_bin, &dir, "")?;
    let native = process::start_native()?;
    let expected = match postern_guest_cvproxy::plan(SCHEMA_ERROR_BODY.as_bytes()) {
        Err(error) => Reply::error(error).to_json(),
        Ok(_) => bail!("the schema-error body passed validation"),
    };
    println!("reply under test: {}", expected.replace('\n', " "));
    let request = Arc::new(post_request(SCHEMA_ERROR_BODY));
    let expect = Some(Arc::new(expected.into_bytes()));
    let mut best_native: Option<LoadResult> = None;
    let mut best_postern: Option<LoadResult> = None;
    for round in 1..=args.rounds {
        for server in [&native, &postern] {
            let result = run(args, server, &request, &expect).await?;
            println!(
                "round {round} {:<8} {:>9.0} req/s  p50 {:>5} µs  p99 {:>6} µs  ({} responses, {} connections)",
                server.name,
                result.per_second(),
                result.latency.quantile_us(0.5),
                result.latency.quantile_us(0.99),
                result.responses,
                args.connections,
            );
            let best = if server.name == "native" {
                &mut best_native
            } else {
                &mut best_postern
            };
            if best
                .as_ref()
                .is_none_or(|b| b.per_second() < result.per_second())
            {
                *best = Some(result);
            }
        }
    }
    let (native, postern) = (best_native.unwrap(), best_postern.unwrap());
    println!(
        "best: postern {:.0} req/s, native baseline {:.0} req/s → ratio {:.2}× of native; {:.0}× the original cvproxy ({CVPROXY_SCHEMA_ERRORS_PER_SECOND}/s)",
        postern.per_second(),
        native.per_second(),
        postern.per_second() / native.per_second(),
        postern.per_second() / CVPROXY_SCHEMA_ERRORS_PER_SECOND,
    );
    println!(
        "{{\"mode\":\"schema-errors\",\"postern_rps\":{:.0},\"native_rps\":{:.0},\"ratio_native\":{:.3},\"ratio_cvproxy\":{:.1},\"connections\":{}}}",
        postern.per_second(),
        native.per_second(),
        postern.per_second() / native.per_second(),
        postern.per_second() / CVPROXY_SCHEMA_ERRORS_PER_SECOND,
        args.connections
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

async fn run(
    args: &Args,
    server: &ChildServer,
    request: &Arc<Vec<u8>>,
    expect: &Option<Arc<Vec<u8>>>,
) -> Result<LoadResult> {
    drive(
        server.addr,
        Arc::clone(request),
        expect.clone(),
        args.connections,
        args.warmup,
        args.duration,
    )
    .await
}

/// A scratch directory for the child server's config and data.
pub fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("cvproxy-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// `happy`: whole deployments against the fake CloudVision, one at a time,
/// each with changed configlets (so every submit creates a change control);
/// latency percentiles and a split of the time from Postern's metrics.
pub async fn happy(args: &Args) -> Result<()> {
    use super::fake::{FakeCv, InventoryDevice};
    use std::time::Instant;

    let fake = FakeCv::start().await;
    for i in 1..=args.devices {
        fake.add_device(InventoryDevice::new(&serial(i), &format!("leaf-{i}")));
    }
    let ca_file = fake
        .ca_file()
        .expect("a CA-signed fake")
        .display()
        .to_string();
    let dir = tempfile_dir()?;
    let postern = process::start_postern(
        &args.postern_bin,
        &dir,
        &format!("[cvproxy.tls]\nca_file = {ca_file:?}\n"),
    )?;
    let mut latency = crate::vspc::stats::Histogram::default();
    let mut stream = tokio::net::TcpStream::connect(postern.addr).await?;
    let mut buffer = Vec::new();
    let started = Instant::now();
    for n in 0..args.requests {
        let body = happy_body(&fake.cv_server(), &fake.token(), args.devices, n);
        let sent = Instant::now();
        tokio::io::AsyncWriteExt::write_all(&mut stream, &post_request(&body)).await?;
        let reply = super::load::read_body(&mut stream, &mut buffer).await?;
        latency.record(sent.elapsed());
        if !reply.starts_with(b"{\n  \"status\": \"ok\",\n  \"change_control\"") {
            bail!("deployment {n} failed: {}", String::from_utf8_lossy(reply));
        }
    }
    let wall = started.elapsed();
    let rpcs = fake.calls().len() as f64 / args.requests as f64;
    let preflights = fake.preflights().len() as f64 / args.requests as f64;
    let metrics = admin_metrics(postern.admin.expect("postern has an admin port")).await?;
    let guest_ms = mean_ms(
        &metrics,
        "postern_guest_call_duration_seconds",
        "workflow=\"cvproxy\"",
    );
    let deploy_ms = mean_ms(&metrics, "postern_cvproxy_deploy_seconds", "");
    let total_ms = wall.as_secs_f64() * 1e3 / args.requests as f64;
    println!(
        "happy path, {} deployments of {} device(s), one at a time: p50 {:.1} ms, p99 {:.1} ms, mean {:.1} ms",
        args.requests,
        args.devices,
        latency.quantile_us(0.5) as f64 / 1e3,
        latency.quantile_us(0.99) as f64 / 1e3,
        total_ms,
    );
    println!(
        "where the time goes (means): guest validation {guest_ms:.3} ms; CloudVision deployment {deploy_ms:.1} ms \
         ({rpcs:.0} gRPC calls + {preflights:.0} REST pre-flight, {:.2} ms per call); HTTP and the rest {:.2} ms",
        deploy_ms / (rpcs + preflights),
        total_ms - deploy_ms - guest_ms,
    );
    println!(
        "{{\"mode\":\"happy\",\"p50_ms\":{:.2},\"p99_ms\":{:.2},\"mean_ms\":{total_ms:.2},\"guest_ms\":{guest_ms:.3},\"deploy_ms\":{deploy_ms:.2},\"rpcs\":{rpcs:.0}}}",
        latency.quantile_us(0.5) as f64 / 1e3,
        latency.quantile_us(0.99) as f64 / 1e3,
    );
    drop(postern);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn serial(i: usize) -> String {
    format!("SSJ{i:08}")
}

/// A request for `devices` devices whose configlets change with `n`.
fn happy_body(cv_server: &str, token: &str, devices: usize, n: usize) -> String {
    use base64::Engine;
    let entries: Vec<String> = (1..=devices)
        .map(|i| {
            let config = format!("! deployment {n}\nhostname leaf-{i}\ninterface Ethernet1\n   description uplink\n");
            format!(
                "\"leaf-{i}\": {{\"serial_number\": \"{}\", \"configlet\": \"{}\", \"tags\": {{\"role\": \"leaf\", \"rack\": \"r{i}\"}}}}",
                serial(i),
                base64::engine::general_purpose::STANDARD.encode(config)
            )
        })
        .collect();
    format!(
        "{{\"devices\": {{{}}}, \"cv_server\": \"{cv_server}\", \"cv_token\": \"{token}\"}}",
        entries.join(", ")
    )
}

async fn admin_metrics(admin: std::net::SocketAddr) -> Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(admin).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut text = String::new();
    stream.read_to_string(&mut text).await?;
    Ok(text)
}

/// `<name>_sum / <name>_count` of the first series whose labels contain `labels`.
fn mean_ms(metrics: &str, name: &str, labels: &str) -> f64 {
    let value = |suffix: &str| {
        metrics
            .lines()
            .find(|l| l.starts_with(&format!("{name}{suffix}")) && l.contains(labels))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let count = value("_count");
    if count == 0.0 {
        0.0
    } else {
        value("_sum") / count * 1e3
    }
}
