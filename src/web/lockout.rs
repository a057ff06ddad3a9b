//! Slowing down guessing: failed logins are counted per client (its address, or the address
//! a trusted proxy forwards for: `auth::client`); past `gateway.auth.rateLimit.maxAttempts`
//! (10) within `windowMs` (a minute) the client is locked out for `lockoutMs` (5 minutes),
//! correct token or not. A correct token clears the client's count. Direct loopback clients
//! are exempt by default, as in OpenClaw (a local operator must not lock themselves out);
//! clients a proxy forwards never are.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use dingclaw_actors::config::GatewayAuth;
use dingclaw_actors::rate::{RateWindow, SlidingWindow};

use super::auth::Client;

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

    fn exempt(&self, c: Client) -> bool {
        self.exempt_loopback && !c.forwarded && c.ip.is_loopback()
    }

    /// How much longer the client is locked out, if it is.
    pub fn locked(&self, c: Client) -> Option<Duration> {
        if self.exempt(c) {
            return None;
        }
        let ip = c.ip;
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        failures
            .get(&ip)
            .and_then(|(_, until)| until.and_then(|u| u.checked_duration_since(Instant::now())))
    }

    /// A correct token: the client's failures are forgotten.
    pub fn succeeded(&self, c: Client) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures
            .get(&c.ip)
            .is_some_and(|(_, until)| until.is_none())
        {
            failures.remove(&c.ip);
        }
    }

    /// Counts a failed attempt from the client.
    pub fn failed(&self, c: Client) {
        if self.exempt(c) {
            return;
        }
        let ip = c.ip;
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

    fn direct(ip: &str) -> Client {
        Client {
            ip: ip.parse().unwrap(),
            forwarded: false,
        }
    }

    #[test]
    fn too_many_failures_lock_an_address_out_but_not_loopback() {
        let remote = direct("192.0.2.7");
        let local = direct("127.0.0.1");
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

    /// Found by probing: behind a reverse proxy on the same machine every request came from
    /// 127.0.0.1, so guessing was never locked out; behind a remote proxy one guesser locked
    /// everybody out. Forwarded clients are keyed by their own address and never exempt.
    #[test]
    fn forwarded_clients_are_counted_apart_and_not_exempt() {
        let l = Lockout::new(&auth(true));
        let guesser = Client {
            ip: "203.0.113.9".parse().unwrap(),
            forwarded: true,
        };
        let operator = Client {
            ip: "198.51.100.20".parse().unwrap(),
            forwarded: true,
        };
        let forwarded_local = Client {
            ip: "127.0.0.1".parse().unwrap(),
            forwarded: true,
        };
        for _ in 0..4 {
            l.failed(guesser);
            l.failed(forwarded_local);
        }
        assert!(l.locked(guesser).is_some());
        assert!(
            l.locked(forwarded_local).is_some(),
            "no exemption when forwarded"
        );
        assert!(
            l.locked(operator).is_none(),
            "the operator is not locked out"
        );
        // Failures under the limit are forgotten after a correct token.
        for _ in 0..3 {
            l.failed(operator);
        }
        l.succeeded(operator);
        for _ in 0..3 {
            l.failed(operator);
        }
        assert!(l.locked(operator).is_none());
    }
}
