//! A sliding-window rate limit: at most `max` starts in any window of `per`. Callers over the
//! limit wait for the oldest start to leave the window; nothing is dropped.
//!
//! One implementation for every limit dingclaw keeps on its own side: a custom robot's 20
//! messages a minute, a provider's `requestsPerMinute`, an account's AI card calls per second.
//! A log of start times (not a token bucket) because DingTalk counts "20 in any minute", and a
//! bucket would allow a burst of 20 at the end of one minute and 20 more at the start of the
//! next.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `max` starts per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateWindow {
    /// Starts allowed in one window.
    pub max: usize,
    /// The window's length.
    pub per: Duration,
}

/// The limiter for one key (a robot, a provider, an account).
pub struct SlidingWindow {
    window: RateWindow,
    starts: Mutex<VecDeque<Instant>>,
}

impl SlidingWindow {
    /// A limiter for `window` (`max` at least 1).
    pub fn new(window: RateWindow) -> Self {
        Self {
            window: RateWindow {
                max: window.max.max(1),
                per: window.per,
            },
            starts: Mutex::new(VecDeque::new()),
        }
    }

    /// The limit it keeps.
    pub fn window(&self) -> RateWindow {
        self.window
    }

    /// Counts a start now if the window has room; otherwise says how long until it has.
    pub fn try_start(&self) -> Result<Instant, Duration> {
        let mut starts = self.starts.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        while starts
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window.per)
        {
            starts.pop_front();
        }
        if starts.len() < self.window.max {
            starts.push_back(now);
            return Ok(now);
        }
        // The oldest start leaves the window first.
        Err(starts
            .front()
            .map(|t| self.window.per.saturating_sub(now.duration_since(*t)))
            .unwrap_or_default())
    }

    /// Waits until a start fits, counts it, and returns it (for `settle`).
    pub async fn acquire(&self) -> Instant {
        loop {
            match self.try_start() {
                Ok(at) => return at,
                Err(wait) => actix_rt::time::sleep(wait.max(Duration::from_millis(1))).await,
            }
        }
    }

    /// Moves a counted start to now. The server counts a call when it arrives, which is after
    /// we start it; moving our count to when its answer is back keeps our window behind the
    /// server's, so network delay never squeezes one call too many into its window.
    pub fn settle(&self, reserved: Instant) {
        let mut starts = self.starts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = starts.iter_mut().find(|t| **t == reserved) {
            *slot = Instant::now();
        }
        // Keep the log ordered: a settled start may now be later than the ones after it.
        starts.make_contiguous().sort_unstable();
    }

    /// Starts counted in the current window.
    pub fn used(&self) -> usize {
        let starts = self.starts.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        starts
            .iter()
            .filter(|t| now.duration_since(**t) < self.window.per)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn starts_past_the_limit_wait_for_the_window() {
        let w = SlidingWindow::new(RateWindow {
            max: 3,
            per: Duration::from_millis(300),
        });
        let start = Instant::now();
        for _ in 0..7 {
            w.acquire().await;
        }
        // 7 starts at 3 per 300 ms need at least two full windows.
        assert!(
            start.elapsed() >= Duration::from_millis(600),
            "{:?}",
            start.elapsed()
        );
        assert!(w.used() <= 3);
    }

    #[test]
    fn a_full_window_says_how_long_to_wait() {
        let w = SlidingWindow::new(RateWindow {
            max: 1,
            per: Duration::from_secs(10),
        });
        let first = w.try_start().unwrap();
        let wait = w.try_start().unwrap_err();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10));
        w.settle(first);
        assert!(w.try_start().is_err());
    }
}
