//! `vspc-load`: drives Postern's vSPC (telnet) workflow the way many ESXi
//! hosts would, and measures it.
//!
//! Module map:
//! * [`args`]      command line (hand-parsed: no new dependencies in the
//!   shared lock file) and the loopback-only rule;
//! * [`session`]   one buffered TCP connection with per-read timeouts;
//! * [`handshake`] the ESXi-like handshake of spec 4.6, byte-exact;
//! * [`request`]   one request line and its reply (spec 7);
//! * [`stats`]     a small latency histogram;
//! * [`modes`]     the three workloads: `requests`, `handshakes`, `hold`;
//! * [`procfs`]    server RSS and our own file-descriptor limit;
//! * [`report`]    human-readable lines and the final JSON line.

pub mod args;
pub mod handshake;
pub mod modes;
pub mod procfs;
pub mod report;
pub mod request;
pub mod session;
pub mod stats;
pub mod vmfile;

use std::time::Duration;

use anyhow::{Context, Result};

use args::{Args, Mode};
use report::Report;
use session::Session;

/// Runs the selected mode after the preflight checks, under the overall
/// deadline so the tool always stops by itself.
pub async fn run(args: &Args) -> Result<Report> {
    if let Some(dir) = &args.vm_dir {
        let path = vmfile::write(dir, &args.vm)?;
        println!("wrote VM file {}", path.display());
    }
    procfs::check_fd_budget(args.connections)?;
    if let Some(pid) = args.server_pid {
        procfs::memory(pid).with_context(|| format!("--server-pid {pid}"))?;
    }
    let deadline = args.overall_timeout();
    let work = async {
        probe(args).await?;
        match args.mode {
            Mode::Requests => modes::requests::run(args).await,
            Mode::Handshakes => modes::handshakes::run(args).await,
            Mode::Hold => modes::hold::run(args).await,
        }
    };
    match tokio::time::timeout(deadline, work).await {
        Ok(Ok(mut report)) => {
            // `hold` measures memory itself, at the moments that matter.
            if let (Some(pid), false) = (args.server_pid, args.mode == Mode::Hold) {
                let m = procfs::memory(pid)?;
                report.line(format!(
                    "server RSS at the end: {:.1} MB (VmHWM {:.1} MB)",
                    m.rss_mb(),
                    m.hwm_mb()
                ));
                report.json.num("rss_mb", m.rss_mb(), 1);
                report.json.num("hwm_mb", m.hwm_mb(), 1);
            }
            Ok(report)
        }
        Ok(Err(e)) => Err(e),
        Err(_) => anyhow::bail!(
            "overall timeout of {}s exceeded; the server stalled or the run was too large \
             (raise --timeout if this is expected)",
            deadline.as_secs()
        ),
    }
}

/// One connection before the load starts, so an absent or misbehaving server
/// gives one clear message instead of thousands of identical failures.
async fn probe(args: &Args) -> Result<()> {
    let mut session = Session::connect(args.addr, args.io_timeout)
        .await
        .with_context(|| {
            format!(
                "cannot reach the vSPC at {} (is `postern serve` running there?)",
                args.addr
            )
        })?;
    handshake::run(&mut session, args.uri.as_bytes(), args.vm.as_bytes())
        .await
        .context("probe connection: handshake failed")?;
    if args.mode == Mode::Handshakes {
        return Ok(());
    }
    match request::exchange(&mut session, request::CODES[0]).await {
        Ok(_) => Ok(()),
        Err(e) if session::is_timeout(&e) => Err(e.context(format!(
            "probe connection: the handshake succeeded but {} got no reply within {}s; \
             the server probably refused the file for VM '{}' (missing, invalid, or the \
             guest rejected it): see the server log and postern_vspc_requests_total on /metrics",
            request::CODES[0].name,
            args.io_timeout.as_secs_f64(),
            args.vm
        ))),
        Err(e) => Err(e.context("probe connection: bad reply")),
    }
}

/// Formats bytes as spaced hex, the notation of the spec, shortening long runs.
pub fn hex(bytes: &[u8]) -> String {
    const SHOWN: usize = 96;
    let mut out: Vec<String> = bytes
        .iter()
        .take(SHOWN)
        .map(|b| format!("{b:02X}"))
        .collect();
    if bytes.len() > SHOWN {
        out.push(format!("… ({} bytes in all)", bytes.len()));
    }
    if out.is_empty() {
        return "(nothing)".to_string();
    }
    out.join(" ")
}

/// Seconds as a float, for reports.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
