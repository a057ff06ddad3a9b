//! The gateway's own resource use, read from `/proc`: CPU seconds (user + system), resident
//! memory (now and peak), and how often its threads went to sleep.

use procfs::process::Process;

/// One reading.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub cpu_s: f64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
    /// The anonymous part of `rss_kib` (heaps, stacks): without the mapped code, which a
    /// quiet gateway unmaps and maps back as it runs.
    pub anon_kib: u64,
}

/// Reads `pid`'s usage; `None` when the process is gone or `/proc` is unavailable.
pub fn usage(pid: u32) -> Option<Usage> {
    let p = Process::new(pid as i32).ok()?;
    let stat = p.stat().ok()?;
    let status = p.status().ok()?;
    let ticks = procfs::ticks_per_second() as f64;
    Some(Usage {
        cpu_s: (stat.utime + stat.stime) as f64 / ticks,
        rss_kib: status.vmrss.unwrap_or(0),
        peak_rss_kib: status.vmhwm.unwrap_or(0),
        anon_kib: status.rssanon.unwrap_or(0),
    })
}

/// `pid`'s voluntary context switches summed over its live threads: each is a thread that
/// went to sleep and was woken again, the cost a cross-thread hop adds when the other side is
/// idle. Threads that have ended are not counted (the runtime's are long-lived). Read at the
/// two ends of a measurement only: it opens a file per thread.
pub fn sleeps(pid: u32) -> u64 {
    Process::new(pid as i32)
        .and_then(|p| p.tasks())
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| t.status().ok()?.voluntary_ctxt_switches)
                .sum()
        })
        .unwrap_or(0)
}
