//! `requests`: N identified connections, each looping one request at a time
//! (send, wait for the whole reply, send the next), as a guest agent does.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Result, bail};
use tokio::task::JoinSet;

use super::{CpuUse, Window, establish};
use crate::vspc::args::Args;
use crate::vspc::handshake::Script;
use crate::vspc::report::{ErrorTally, Report};
use crate::vspc::request::{self, CODES};
use crate::vspc::session::Session;
use crate::vspc::stats::Histogram;

struct Worker {
    latency: Histogram,
    /// Replies in the whole run, warm-up included.
    all: u64,
    errors: ErrorTally,
}

pub async fn run(args: &Args) -> Result<Report> {
    let script = Arc::new(Script::new(args.uri.as_bytes(), args.vm.as_bytes()));
    let est = establish(args, &script, args.connections).await;
    if let Some(first) = &est.errors.first {
        bail!(
            "{} of {} connections failed to handshake; first error: {first}",
            est.errors.count,
            args.connections
        );
    }
    println!(
        "{} connections identified in {:.2}s; warm-up {:.1}s, measuring {:.1}s",
        est.sessions.len(),
        est.elapsed.as_secs_f64(),
        args.warmup.as_secs_f64(),
        args.duration.as_secs_f64()
    );

    let window = Window::starting_now(args);
    let mut set = JoinSet::new();
    for (i, session) in est.sessions.into_iter().enumerate() {
        set.spawn(worker(session, i, window));
    }
    let cpu = CpuUse::measure(window, args.server_pid).await;
    let mut latency = Histogram::default();
    let mut errors = ErrorTally::default();
    let mut all = 0;
    while let Some(joined) = set.join_next().await {
        let w = joined?;
        latency.merge(&w.latency);
        errors.merge(w.errors);
        all += w.all;
    }

    let secs = args.duration.as_secs_f64();
    let rps = latency.count() as f64 / secs;
    let mut r = Report::new("requests");
    r.json.str("addr", &args.addr.to_string());
    r.json.int("connections", args.connections as u64);
    r.json.num("duration_s", secs, 1);
    r.line(format!(
        "responses: {} in {secs:.1}s ({} including warm-up) over {} connections",
        latency.count(),
        all,
        args.connections
    ));
    r.line(format!("responses/s: {rps:.0}"));
    r.json.int("responses", latency.count());
    r.json.num("rps", rps, 1);
    r.latency("latency", "request", &latency);
    r.errors(&errors);
    if let Some(cpu) = &cpu {
        cpu.report(&mut r);
    }
    let ratio = rps / args.baseline_rps;
    let met = rps >= args.target_rps;
    r.line(format!(
        "ratio vs baseline {:.0}/s: {ratio:.1}x; target {:.0}/s: {}",
        args.baseline_rps,
        args.target_rps,
        if met {
            "met".to_string()
        } else {
            format!("not met ({:.0}% of it)", 100.0 * rps / args.target_rps)
        }
    ));
    r.json.num("baseline_rps", args.baseline_rps, 1);
    r.json.num("ratio", ratio, 2);
    r.json.num("target_rps", args.target_rps, 1);
    r.json.bool("target_met", met);
    Ok(r)
}

/// Cycles the three codes, starting at a different one per connection so
/// all three are in flight at any moment. Stops at the first error: the
/// stream's state is then unknown.
async fn worker(mut session: Session, index: usize, window: Window) -> Worker {
    let mut w = Worker {
        latency: Histogram::default(),
        all: 0,
        errors: ErrorTally::default(),
    };
    let mut code = index % CODES.len();
    while !window.over() {
        let sent = Instant::now();
        if let Err(e) = request::exchange(&mut session, CODES[code]).await {
            w.errors.add(&e.context(format!("connection {index}")));
            break;
        }
        let done = Instant::now();
        w.all += 1;
        if window.contains(done) {
            w.latency.record(done - sent);
        }
        code = (code + 1) % CODES.len();
    }
    w
}
