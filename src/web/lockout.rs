//! Slowing down guessing: failed logins are counted per client address; past
//! `gateway.auth.rateLimit.maxAttempts` (10) within `windowMs` (a minute) the address is locked
//! out for `lockoutMs` (5 minutes), correct token or not. Loopback addresses are exempt by
//! default, as in OpenClaw (a local operator must not lock themselves out).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dingclaw_actors::config::GatewayAuth;
use dingclaw_actors::rate::{RateWindow, SlidingWindow};

/// Addresses tracked at most; the oldest lockouts are dropped past it.
const TRACKED: usize = 10_000;

pub struct Lockout {
    window: RateWindow,
    lockout: Duration,
    exempt_loopback: bool,
    failures: Mutex<HashMap<IpAddr, (SlidingWindow, Option<Instant>)>>,
}

impl Lockout {
    pub fn new(auth: &GatewayAuth) -> Self {
        Self {
            window: RateWindow {
                max: auth.max_attempts.max(1) as usize,
                per: Duration::from_millis(auth.window_ms),
            },
            lockout: Duration::from_millis(auth.lockout_ms),
            exempt_loopback: auth.exempt_loopback,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn exempt(&self, ip: IpAddr) -> bool {
        self.exempt_loopback && ip.is_loopback()
    }

    /// How much longer `ip` is locked out, if it is.
    pub fn locked(&self, ip: IpAddr) -> Option<Duration> {
        if self.exempt(ip) {
            return None;
        }
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures
            .get(&ip)
            .and_then(|(_, until)| until.and_then(|u| u.checked_duration_since(Instant::now())))
    }

    /// Counts a failed attempt from `ip`.
    pub fn failed(&self, ip: IpAddr) {
        if self.exempt(ip) {
            return;
        }
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= TRACKED && !failures.contains_key(&ip) {
            let now = Instant::now();
            failures.retain(|_, (_, until)| until.is_some_and(|u| u > now));
        }
        let (window, until) = failures
            .entry(ip)
            .or_insert_with(|| (SlidingWindow::new(self.window), None));
        if window.try_start().is_err() {
            *until = Some(Instant::now() + self.lockout);
            tracing::warn!(client = %ip, lockout_secs = self.lockout.as_secs(), "too many failed operator logins; locked out");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(exempt_loopback: bool) -> GatewayAuth {
        let mut a = dingclaw_actors::config::GatewayConfig::default().auth;
        a.max_attempts = 3;
        a.exempt_loopback = exempt_loopback;
        a
    }

    #[test]
    fn too_many_failures_lock_an_address_out_but_not_loopback() {
        let remote: IpAddr = "192.0.2.7".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let l = Lockout::new(&auth(true));
        for _ in 0..3 {
            l.failed(remote);
            l.failed(local);
        }
        assert!(l.locked(remote).is_none(), "three are allowed");
        l.failed(remote);
        l.failed(local);
        let left = l.locked(remote).unwrap();
        assert!(left > Duration::from_secs(290), "{left:?}");
        assert!(l.locked(local).is_none(), "loopback is exempt");
        let strict = Lockout::new(&auth(false));
        for _ in 0..4 {
            strict.failed(local);
        }
        assert!(strict.locked(local).is_some());
    }
}
