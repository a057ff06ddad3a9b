//! Exponential backoff with jitter: a mechanism shared by the Stream reconnect loop, outbound
//! retries and model-provider retries. Policy (when to retry) stays with the caller.

use std::time::Duration;

use rand::Rng;

/// Fraction of a delay added at random, so that many clients cut off together do not all
/// come back in the same instant (the Go SDK adds up to 20 %).
const JITTER: f64 = 0.2;

/// Delays that double from `initial` up to `max`, each with up to 20 % added at random.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    /// Delays from `initial`, doubling up to `max`, with jitter.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max: max.max(initial),
            attempt: 0,
        }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.base(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        let jitter = rand::rng().random_range(0.0..=JITTER);
        base.mul_f64(1.0 + jitter)
    }

    /// The delay before attempt `n` (0-based) without jitter.
    pub fn base(&self, n: u32) -> Duration {
        let factor = 2u32.saturating_pow(n.min(31));
        self.initial.saturating_mul(factor).min(self.max)
    }

    /// Back to the first delay, after a healthy connection or a success.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// Attempts made since the last reset.
    pub fn attempts(&self) -> u32 {
        self.attempt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_with_bounded_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let bases: Vec<u64> = (0..9).map(|n| b.base(n).as_secs()).collect();
        assert_eq!(bases, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        for n in 0..9 {
            let d = b.next_delay();
            let base = b.base(n);
            assert!(
                d >= base && d <= base.mul_f64(1.0 + JITTER),
                "{d:?} vs {base:?}"
            );
        }
        b.reset();
        assert!(b.next_delay() < Duration::from_millis(1300));
        assert_eq!(b.attempts(), 1);
    }
}
