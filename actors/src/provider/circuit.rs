//! A circuit breaker per provider: after `failures` consecutive failed calls the provider is
//! skipped for a cooldown (30 s, then doubling up to 5 minutes while it keeps failing, as
//! OpenClaw's profile cooldowns); then one probe call goes through, and its outcome closes or
//! reopens the circuit.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Longest cooldown.
const MAX_COOLDOWN: Duration = Duration::from_secs(300);

#[derive(Debug)]
struct Inner {
    consecutive: u32,
    /// Times the circuit opened in a row (for the doubling).
    trips: u32,
    open_until: Option<Instant>,
    probing: bool,
}

/// Stops calling a provider that keeps failing, for a cooldown that doubles while it goes on
/// failing; one trial call at a time after it.
pub struct CircuitBreaker {
    failures: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

/// For status output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CircuitSnapshot {
    /// `closed`, `open` or `half-open`.
    pub state: &'static str,
    /// Failures in a row.
    pub consecutive_failures: u32,
    /// How long until a trial call is allowed, when open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
}

impl CircuitBreaker {
    /// Opens after `failures` in a row, for `cooldown` (doubling while trials fail).
    pub fn new(failures: u32, cooldown: Duration) -> Self {
        Self {
            failures: failures.max(1),
            cooldown,
            inner: Mutex::new(Inner {
                consecutive: 0,
                trips: 0,
                open_until: None,
                probing: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// May a call go through now? `Err(retry_in)` while in cooldown or while a probe runs.
    pub fn check(&self) -> Result<(), Duration> {
        let mut i = self.lock();
        match i.open_until {
            None => Ok(()),
            Some(until) => {
                let now = Instant::now();
                if now < until {
                    Err(until - now)
                } else if i.probing {
                    Err(Duration::from_secs(1))
                } else {
                    i.probing = true;
                    Ok(())
                }
            }
        }
    }

    /// Records a success; true when it closed an open circuit.
    pub fn success(&self) -> bool {
        let mut i = self.lock();
        let was_open = i.open_until.is_some();
        *i = Inner {
            consecutive: 0,
            trips: 0,
            open_until: None,
            probing: false,
        };
        was_open
    }

    /// Records a failure; the cooldown when it opened the circuit.
    pub fn failure(&self) -> Option<Duration> {
        let mut i = self.lock();
        i.consecutive += 1;
        if i.probing || i.consecutive >= self.failures {
            let cooldown = self
                .cooldown
                .saturating_mul(1 << i.trips.min(16))
                .min(MAX_COOLDOWN);
            i.trips += 1;
            i.open_until = Some(Instant::now() + cooldown);
            i.probing = false;
            i.consecutive = 0;
            return Some(cooldown);
        }
        None
    }

    /// A failure that says nothing about health (a refused request): a probe is released.
    pub fn neutral(&self) {
        self.lock().probing = false;
    }

    /// Back to closed, as after a success.
    pub fn reset(&self) {
        let mut i = self.lock();
        i.consecutive = 0;
        i.open_until = None;
        i.probing = false;
    }

    /// Its state for status output.
    pub fn snapshot(&self) -> CircuitSnapshot {
        let i = self.lock();
        let now = Instant::now();
        let (state, retry_in_ms) = match i.open_until {
            None => ("closed", None),
            Some(until) if now < until => ("open", Some((until - now).as_millis() as u64)),
            Some(_) => ("half-open", None),
        };
        CircuitSnapshot {
            state,
            consecutive_failures: i.consecutive,
            retry_in_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_then_probes_once() {
        let c = CircuitBreaker::new(3, Duration::from_millis(50));
        assert_eq!(c.failure(), None);
        c.failure();
        assert!(c.check().is_ok());
        assert_eq!(c.failure(), Some(Duration::from_millis(50)));
        assert_eq!(c.snapshot().state, "open");
        assert!(c.check().is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(c.check().is_ok(), "one probe after the cooldown");
        assert!(c.check().is_err(), "only one");
        c.failure();
        let retry = c.check().unwrap_err();
        assert!(
            retry > Duration::from_millis(60),
            "cooldown doubled: {retry:?}"
        );
    }

    #[test]
    fn a_success_closes_it() {
        let c = CircuitBreaker::new(1, Duration::from_millis(10));
        c.failure();
        std::thread::sleep(Duration::from_millis(15));
        assert!(c.check().is_ok());
        assert!(c.success(), "closed an open circuit");
        assert!(!c.success());
        assert_eq!(
            c.snapshot(),
            CircuitSnapshot {
                state: "closed",
                consecutive_failures: 0,
                retry_in_ms: None
            }
        );
    }
}
