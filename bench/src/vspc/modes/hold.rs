//! `hold`: many identified connections kept open at once (a large ESXi
//! fleet), then one request on each to show they are all still served, and
//! the server's memory while they are held.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Result;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::establish;
use crate::vspc::args::Args;
use crate::vspc::handshake::Script;
use crate::vspc::procfs::{self, Memory};
use crate::vspc::report::{ErrorTally, Report};
use crate::vspc::request::{self, CODES};
use crate::vspc::stats::Histogram;

pub async fn run(args: &Args) -> Result<Report> {
    let n = args.connections;
    let memory = || args.server_pid.map(procfs::memory).transpose();
    let before = memory()?;

    println!(
        "opening {n} connections, {} handshakes at a time",
        args.concurrency
    );
    let script = Arc::new(Script::new(args.uri.as_bytes(), args.vm.as_bytes()));
    let est = establish(args, &script, n).await;
    let identified = est.sessions.len();
    println!(
        "{identified} identified in {:.2}s; holding them {:.1}s",
        est.elapsed.as_secs_f64(),
        args.hold.as_secs_f64()
    );
    tokio::time::sleep(args.hold).await;
    let held = memory()?;

    // One request per connection, bounded like the handshakes. Each task
    // hands its session back, so every connection stays open until the
    // memory has been read after the requests.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let mut set = JoinSet::new();
    for (i, mut session) in est.sessions.into_iter().enumerate() {
        let gate = Arc::clone(&gate);
        set.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let sent = Instant::now();
            let result = request::exchange(&mut session, CODES[i % CODES.len()])
                .await
                .map(|_| sent.elapsed());
            (session, result)
        });
    }
    let mut open = Vec::with_capacity(identified);
    let mut latency = Histogram::default();
    let mut request_errors = ErrorTally::default();
    while let Some(joined) = set.join_next().await {
        let (session, result) = joined?;
        open.push(session);
        match result {
            Ok(took) => latency.record(took),
            Err(e) => request_errors.add(&e),
        }
    }
    let requests_took = started.elapsed();
    let after = memory()?;
    drop(open);

    let answered = latency.count();
    let mut r = Report::new("hold");
    r.json.str("addr", &args.addr.to_string());
    r.json.int("connections", n as u64);
    r.line(format!(
        "identified: {identified}/{n} in {:.2}s ({:.0} handshakes/s at concurrency {})",
        est.elapsed.as_secs_f64(),
        identified as f64 / est.elapsed.as_secs_f64(),
        args.concurrency
    ));
    r.line(format!(
        "answered: {answered}/{identified} (one request each, {:.2}s for all)",
        requests_took.as_secs_f64()
    ));
    r.json.int("identified", identified as u64);
    r.json.int("answered", answered);
    r.json.num("establish_s", est.elapsed.as_secs_f64(), 3);
    r.latency("request", "request", &latency);
    if let Some(first) = &est.errors.first {
        r.line(format!(
            "handshake failures: {} (first: {first})",
            est.errors.count
        ));
    }
    r.json.int("handshake_errors", est.errors.count);
    r.errors(&request_errors);
    r.failed |= est.errors.count > 0 || answered < n as u64;
    memory_report(&mut r, identified, before, held, after);
    Ok(r)
}

fn memory_report(
    r: &mut Report,
    identified: usize,
    before: Option<Memory>,
    held: Option<Memory>,
    after: Option<Memory>,
) {
    let (Some(before), Some(held), Some(after)) = (before, held, after) else {
        r.line("server memory: not measured (give --server-pid)");
        return;
    };
    // Only meaningful on a freshly started server: freed memory stays in the
    // server's allocator, so a second run finds it already resident.
    let per_conn_kb = if identified > 0 {
        (held.rss_kb as f64 - before.rss_kb as f64) / identified as f64
    } else {
        f64::NAN
    };
    r.line(format!(
        "server RSS: {:.1} MB before, {:.1} MB holding {identified} idle, {:.1} MB after one \
         request each (VmHWM {:.1} MB); ~{per_conn_kb:.1} KB per idle connection (on a fresh server)",
        before.rss_mb(),
        held.rss_mb(),
        after.rss_mb(),
        after.hwm_mb()
    ));
    r.json.num("rss_before_mb", before.rss_mb(), 1);
    r.json.num("rss_held_mb", held.rss_mb(), 1);
    r.json.num("rss_after_requests_mb", after.rss_mb(), 1);
    r.json.num("hwm_mb", after.hwm_mb(), 1);
    r.json.num("kb_per_idle_connection", per_conn_kb, 2);
}
