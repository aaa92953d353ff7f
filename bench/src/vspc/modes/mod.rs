//! The three workloads, and what they share: opening many identified
//! sessions with bounded concurrency, and the warm-up/measure window.

pub mod handshakes;
pub mod hold;
pub mod requests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::args::Args;
use super::handshake::Script;
use super::procfs;
use super::report::{ErrorTally, Report};
use super::session::Session;

pub struct Established {
    pub sessions: Vec<Session>,
    pub errors: ErrorTally,
    pub elapsed: Duration,
}

/// Opens `n` connections and completes each handshake, at most
/// `args.concurrency` at a time (a burst of thousands of simultaneous
/// connects would only measure the listen backlog).
pub async fn establish(args: &Args, script: &Arc<Script>, n: usize) -> Established {
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let mut set = JoinSet::new();
    for _ in 0..n {
        let (gate, script) = (Arc::clone(&gate), Arc::clone(script));
        let (addr, io_timeout) = (args.addr, args.io_timeout);
        set.spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let mut session = Session::connect(addr, io_timeout).await?;
            script.run(&mut session).await?;
            anyhow::Ok(session)
        });
    }
    let mut sessions = Vec::with_capacity(n);
    let mut errors = ErrorTally::default();
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(Ok(session)) => sessions.push(session),
            Ok(Err(e)) => errors.add(&e),
            Err(e) => errors.add(&e.into()),
        }
    }
    Established {
        sessions,
        errors,
        elapsed: started.elapsed(),
    }
}

/// The measured part of a timed run: results completed inside
/// `[from, until]` count; warm-up results do not.
#[derive(Clone, Copy)]
pub struct Window {
    pub from: Instant,
    pub until: Instant,
}

impl Window {
    pub fn starting_now(args: &Args) -> Window {
        let from = Instant::now() + args.warmup;
        Window {
            from,
            until: from + args.duration,
        }
    }

    pub fn over(&self) -> bool {
        Instant::now() >= self.until
    }

    pub fn contains(&self, t: Instant) -> bool {
        t >= self.from && t <= self.until
    }
}

/// CPU used by the server and by this tool during a window. On a small
/// shared machine the two compete, so this tells whether the server was
/// saturated or waiting for the load generator.
pub struct CpuUse {
    pub server_cores: Option<f64>,
    pub client_cores: f64,
}

impl CpuUse {
    /// Samples at the window's start and end; call right after starting the
    /// workers, and it returns when the window closes.
    pub async fn measure(window: Window, server_pid: Option<u32>) -> Option<CpuUse> {
        tokio::time::sleep_until(window.from.into()).await;
        let (server0, client0) = (procfs::cpu_time(server_pid), procfs::cpu_time(None)?);
        tokio::time::sleep_until(window.until.into()).await;
        let (server1, client1) = (procfs::cpu_time(server_pid), procfs::cpu_time(None)?);
        let wall = window.until - window.from;
        Some(CpuUse {
            server_cores: server_pid
                .and(server0.zip(server1))
                .map(|(a, b)| procfs::cores(a, b, wall)),
            client_cores: procfs::cores(client0, client1, wall),
        })
    }

    pub fn report(&self, r: &mut Report) {
        let machine = std::thread::available_parallelism().map_or(0, |n| n.get());
        let server = match self.server_cores {
            Some(c) => format!("server {c:.2} cores, "),
            None => String::new(),
        };
        r.line(format!(
            "CPU while measuring: {server}vspc-load {:.2} cores (machine: {machine})",
            self.client_cores
        ));
        if let Some(c) = self.server_cores {
            r.json.num("server_cores", c, 2);
        }
        r.json.num("client_cores", self.client_cores, 2);
    }
}
