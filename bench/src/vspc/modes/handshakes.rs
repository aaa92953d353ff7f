//! `handshakes`: N workers, each repeatedly connecting, completing the whole
//! handshake (up to the answer to step 5, then sending step 6) and closing.
//! This is the cost of a VM power-on or of ESXi reconnecting.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use tokio::task::JoinSet;

use super::{CpuUse, Window};
use crate::vspc::args::Args;
use crate::vspc::handshake::Script;
use crate::vspc::report::{ErrorTally, Report};
use crate::vspc::session::Session;
use crate::vspc::stats::Histogram;

struct Worker {
    latency: Histogram,
    errors: ErrorTally,
}

pub async fn run(args: &Args) -> Result<Report> {
    let script = Arc::new(Script::new(args.uri.as_bytes(), args.vm.as_bytes()));
    println!(
        "{} workers; warm-up {:.1}s, measuring {:.1}s",
        args.connections,
        args.warmup.as_secs_f64(),
        args.duration.as_secs_f64()
    );
    let window = Window::starting_now(args);
    let mut set = JoinSet::new();
    for _ in 0..args.connections {
        set.spawn(worker(args.clone(), Arc::clone(&script), window));
    }
    let cpu = CpuUse::measure(window, args.server_pid).await;
    let mut latency = Histogram::default();
    let mut errors = ErrorTally::default();
    while let Some(joined) = set.join_next().await {
        let w = joined?;
        latency.merge(&w.latency);
        errors.merge(w.errors);
    }

    let secs = args.duration.as_secs_f64();
    let rate = latency.count() as f64 / secs;
    let mut r = Report::new("handshakes");
    r.json.str("addr", &args.addr.to_string());
    r.json.int("workers", args.connections as u64);
    r.json.num("duration_s", secs, 1);
    r.line(format!(
        "handshakes: {} in {secs:.1}s over {} workers",
        latency.count(),
        args.connections
    ));
    r.line(format!("handshakes/s: {rate:.0}"));
    r.json.int("handshakes", latency.count());
    r.json.num("handshakes_per_s", rate, 1);
    r.latency("handshake", "connect+handshake", &latency);
    r.errors(&errors);
    if let Some(cpu) = &cpu {
        cpu.report(&mut r);
    }
    Ok(r)
}

async fn worker(args: Args, script: Arc<Script>, window: Window) -> Worker {
    let mut w = Worker {
        latency: Histogram::default(),
        errors: ErrorTally::default(),
    };
    while !window.over() {
        let started = Instant::now();
        let attempt = async {
            let mut session = Session::connect(args.addr, args.io_timeout).await?;
            script.run(&mut session).await
            // The session is dropped here: an orderly close, as ESXi's.
        };
        match attempt.await {
            Ok(()) => {
                let done = Instant::now();
                if window.contains(done) {
                    w.latency.record(done - started);
                }
            }
            Err(e) => {
                w.errors.add(&e);
                // Keep going (a transient failure such as running out of
                // ephemeral ports should not end the worker), but never spin.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    w
}
