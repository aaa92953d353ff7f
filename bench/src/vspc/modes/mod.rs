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
use super::report::ErrorTally;
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
