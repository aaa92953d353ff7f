//! The little we read from /proc: the server's memory and CPU time, and our
//! own CPU time and file-descriptor limit.

use std::time::Duration;

use anyhow::{Context, Result, bail};

#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident set size now.
    pub rss_kb: u64,
    /// Peak resident set size ("high water mark").
    pub hwm_kb: u64,
}

impl Memory {
    pub fn rss_mb(&self) -> f64 {
        self.rss_kb as f64 / 1024.0
    }
    pub fn hwm_mb(&self) -> f64 {
        self.hwm_kb as f64 / 1024.0
    }
}

/// VmRSS and VmHWM of process `pid`, from /proc/PID/status.
pub fn memory(pid: u32) -> Result<Memory> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {path} (is the server running with that pid?)"))?;
    let field = |name: &str| -> Result<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("{path} has no {name} line"))
    };
    Ok(Memory {
        rss_kb: field("VmRSS:")?,
        hwm_kb: field("VmHWM:")?,
    })
}

/// Fails early when `connections` sockets cannot fit in our soft
/// RLIMIT_NOFILE, instead of failing thousands of connects with EMFILE.
pub fn check_fd_budget(connections: usize) -> Result<()> {
    // Sockets plus stdio, the runtime's epoll and eventfd, and some margin.
    let needed = connections as u64 + 32;
    let Some(limit) = soft_fd_limit() else {
        return Ok(());
    };
    if needed > limit {
        bail!(
            "{connections} connections need about {needed} file descriptors but the limit \
             is {limit}; lower --connections or raise `ulimit -n`"
        );
    }
    Ok(())
}

fn soft_fd_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    // "Max open files   20000   20000   files": the first number is the soft limit.
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// CPU time (user + system) used so far by process `pid`, or by this process
/// when `pid` is `None`.
pub fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let text = std::fs::read_to_string(path).ok()?;
    // The command name (field 2) may contain spaces; fields after its
    // closing parenthesis start at field 3, so utime (14) and stime (15)
    // are the 12th and 13th after it.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    // USER_HZ is 100 on every Linux configuration we run on.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Cores used over an interval, from two `cpu_time` samples.
pub fn cores(before: Duration, after: Duration, wall: Duration) -> f64 {
    after.saturating_sub(before).as_secs_f64() / wall.as_secs_f64()
}
