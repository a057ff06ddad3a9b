//! Reply latency over the last few minutes, as percentiles an operator reads at a glance
//! (the web page's traffic line, `dingclaw status`). `/metrics` keeps the full histograms for
//! Prometheus; this is what "now" looks like without one.

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use serde::Serialize;

/// Minutes the window spans.
pub const WINDOW_MINUTES: u64 = 5;

/// Percentiles of the window, in ms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LatencySummary {
    /// Replies in the window.
    pub count: u64,
    /// Half of them took at most this long.
    pub p50_ms: u64,
    /// 99 in 100 took at most this long.
    pub p99_ms: u64,
    /// The slowest.
    pub max_ms: u64,
    /// How many minutes the window spans.
    pub window_minutes: u64,
}

/// One histogram per minute, the oldest dropped as the window moves.
pub struct LatencyWindow {
    minutes: Mutex<VecDeque<(u64, Histogram<u64>)>>,
}

/// Replies of the whole process.
pub static REPLIES: LazyLock<LatencyWindow> = LazyLock::new(LatencyWindow::new);

fn minute_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() / 60)
        .unwrap_or(0)
}

impl LatencyWindow {
    /// An empty window.
    pub fn new() -> Self {
        Self {
            minutes: Mutex::new(VecDeque::new()),
        }
    }

    fn at(&self, minute: u64, ms: u64) {
        let mut m = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        while m
            .front()
            .is_some_and(|(t, _)| *t + WINDOW_MINUTES <= minute)
        {
            m.pop_front();
        }
        if m.back().is_none_or(|(t, _)| *t != minute) {
            // Up to an hour at 3 significant digits; longer values are clamped.
            match Histogram::new_with_bounds(1, 3_600_000, 3) {
                Ok(h) => m.push_back((minute, h)),
                Err(_) => return,
            }
        }
        if let Some((_, h)) = m.back_mut() {
            h.saturating_record(ms.max(1));
        }
    }

    /// Counts one reply that took `ms`.
    pub fn record(&self, ms: u64) {
        self.at(minute_now(), ms);
    }

    fn summary_at(&self, minute: u64) -> LatencySummary {
        let m = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        let mut all: Option<Histogram<u64>> = None;
        for (_, h) in m.iter().filter(|(t, _)| *t + WINDOW_MINUTES > minute) {
            match &mut all {
                Some(a) => {
                    let _ = a.add(h);
                }
                None => all = Some(h.clone()),
            }
        }
        match all {
            Some(h) if !h.is_empty() => LatencySummary {
                count: h.len(),
                p50_ms: h.value_at_quantile(0.5),
                p99_ms: h.value_at_quantile(0.99),
                max_ms: h.max(),
                window_minutes: WINDOW_MINUTES,
            },
            _ => LatencySummary {
                window_minutes: WINDOW_MINUTES,
                ..LatencySummary::default()
            },
        }
    }

    /// The percentiles of the last minutes.
    pub fn summary(&self) -> LatencySummary {
        self.summary_at(minute_now())
    }
}

impl Default for LatencyWindow {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_cover_the_last_minutes_only() {
        let w = LatencyWindow::new();
        for ms in 1..=100 {
            w.at(1000, ms * 10);
        }
        let s = w.summary_at(1000);
        assert_eq!(s.count, 100);
        assert!((495..=505).contains(&s.p50_ms), "{s:?}");
        assert!((985..=1000).contains(&s.p99_ms), "{s:?}");
        w.at(1003, 5);
        assert_eq!(w.summary_at(1004).count, 101);
        // Five minutes on, the first minute has left the window.
        assert_eq!(w.summary_at(1005).count, 1);
        w.at(1010, 7);
        assert_eq!(w.summary_at(1010).count, 1);
    }
}
