//! Per-account duplicate suppression by `msgId` (docs/dingtalk-protocol.md 2.6).
//!
//! DingTalk redelivers a callback it thinks was not acknowledged with a new `messageId` but the
//! same `msgId`, 16-60 s later; so deduplicating by delivery id is not enough. Each account has
//! its own `Dedup`, because one group message that @-mentions two bots reaches each bot with
//! the same `msgId`, and both must answer.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

/// How long a `msgId` is remembered: DingTalk's redelivery window is about a minute; five
/// minutes leaves room for clock and queue delays.
pub const DEFAULT_DEDUP_TTL: Duration = Duration::from_secs(300);

/// Most ids remembered per account; the oldest are forgotten first. At about 80 bytes per
/// entry (map and queue) this bounds one account's dedup memory near 8 MB even under a flood.
pub const DEFAULT_DEDUP_CAPACITY: usize = 100_000;

/// Remembers recent `msgId`s, bounded in time and count.
///
/// An id is kept as a 128-bit fingerprint, not as its string: a string is one small heap block
/// per message, and a load's worth of them, living for the whole window, kept the allocator
/// from returning the pages around them long after the load (a heap profile after the
/// `sessions` preset found 17,000 of them among the few blocks still live). Two ids share a
/// fingerprint with a probability near 2^-128 per pair, far below any other way to lose a
/// message.
#[derive(Debug)]
pub struct Dedup {
    ttl: Duration,
    capacity: usize,
    /// Two differently keyed hashers, one per half of the fingerprint.
    keys: (RandomState, RandomState),
    seen: HashMap<u128, Instant>,
    /// Insertion order, for expiry and eviction without scanning the map.
    order: VecDeque<(Instant, u128)>,
}

impl Dedup {
    /// A filter remembering ids for `ttl`, at most `capacity` of them (the oldest go first).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            keys: (RandomState::new(), RandomState::new()),
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Records `msg_id`; true when it was not seen within the window (process it), false for a
    /// duplicate (drop it).
    pub fn first_time(&mut self, msg_id: &str, now: Instant) -> bool {
        self.expire(now);
        let id = self.fingerprint(msg_id);
        if let Some(at) = self.seen.get(&id)
            && now.duration_since(*at) < self.ttl
        {
            return false;
        }
        self.insert(id, now);
        true
    }

    /// Records `msg_id` as seen at `at` (an instant in the past), without asking.
    pub fn remember(&mut self, msg_id: &str, at: Instant) {
        let id = self.fingerprint(msg_id);
        if !self.seen.contains_key(&id) {
            self.insert(id, at);
        }
    }

    fn fingerprint(&self, msg_id: &str) -> u128 {
        let high = self.keys.0.hash_one(msg_id) as u128;
        let low = self.keys.1.hash_one(msg_id) as u128;
        (high << 64) | low
    }

    /// Records `id` at `at`, forgetting the oldest ids past the capacity.
    fn insert(&mut self, id: u128, at: Instant) {
        self.seen.insert(id, at);
        self.order.push_back((at, id));
        while self.order.len() > self.capacity {
            self.pop_oldest();
        }
    }

    /// Forgets the ids whose window has passed and, once few are left, the room the maps grew
    /// to; returns how long until the next id's window ends (`None`: nothing is remembered).
    /// The owner calls it on a timer, so a burst's ids do not stay in memory until the next
    /// message arrives, however long that takes.
    pub fn tidy(&mut self, now: Instant) -> Option<Duration> {
        self.expire(now);
        // Shrinking only when well under the peak keeps a steady flow from reallocating.
        if self.seen.len() <= self.seen.capacity() / 4 {
            self.seen.shrink_to_fit();
            self.order.shrink_to_fit();
        }
        self.order
            .front()
            .map(|(at, _)| (*at + self.ttl).saturating_duration_since(now))
    }

    /// Ids remembered now.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.seen.len()
    }

    fn expire(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < self.ttl {
                break;
            }
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((at, id)) = self.order.pop_front()
            && self.seen.get(&id) == Some(&at)
        {
            self.seen.remove(&id);
        }
    }
}

impl Default for Dedup {
    fn default() -> Self {
        Self::new(DEFAULT_DEDUP_TTL, DEFAULT_DEDUP_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_within_the_window_are_dropped() {
        let mut d = Dedup::new(Duration::from_secs(300), 10);
        let t0 = Instant::now();
        assert!(d.first_time("m1", t0));
        assert!(!d.first_time("m1", t0 + Duration::from_secs(60)));
        assert!(d.first_time("m2", t0 + Duration::from_secs(60)));
        // After the window the id is new again.
        assert!(d.first_time("m1", t0 + Duration::from_secs(301)));
    }

    #[test]
    fn tidying_forgets_expired_ids_and_the_room_they_took() {
        let mut d = Dedup::new(Duration::from_secs(300), 100_000);
        let t0 = Instant::now();
        for i in 0..10_000 {
            d.first_time(&format!("msg{i}"), t0);
        }
        assert!(d.first_time("late", t0 + Duration::from_secs(100)));
        let peak = d.seen.capacity();
        assert_eq!(
            d.tidy(t0 + Duration::from_secs(200)),
            Some(Duration::from_secs(100)),
            "the burst's window ends in 100 s"
        );
        assert_eq!(d.len(), 10_001);
        assert_eq!(
            d.tidy(t0 + Duration::from_secs(300)),
            Some(Duration::from_secs(100)),
            "then the late one's"
        );
        assert_eq!(d.len(), 1);
        assert!(
            d.seen.capacity() < peak / 100,
            "the maps gave their room back"
        );
        assert!(!d.first_time("late", t0 + Duration::from_secs(300)));
        assert_eq!(d.tidy(t0 + Duration::from_secs(400)), None);
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn remembered_ids_are_duplicates_until_their_window_ends() {
        let mut d = Dedup::new(Duration::from_secs(300), 10);
        let t0 = Instant::now();
        d.remember("old", t0);
        assert!(!d.first_time("old", t0 + Duration::from_secs(299)));
        assert!(d.first_time("old", t0 + Duration::from_secs(301)));
    }

    #[test]
    fn memory_is_bounded_by_capacity() {
        let mut d = Dedup::new(Duration::from_secs(300), 3);
        let t0 = Instant::now();
        for i in 0..10 {
            assert!(d.first_time(&format!("m{i}"), t0));
        }
        assert_eq!(d.len(), 3);
        assert!(!d.first_time("m9", t0));
        assert!(d.first_time("m0", t0), "evicted ids are forgotten");
    }
}
