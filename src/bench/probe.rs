//! The gateway's own resource use, read from `/proc`: CPU seconds (user + system) and resident
//! memory (now and peak).

use procfs::process::Process;

/// One reading.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub cpu_s: f64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
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
    })
}
