//! What every actor of a clustered runtime may ask at any moment: who this instance is, and
//! whether a lease it was given is still good to act on. A lease is good while its
//! generation is current and the last heartbeat renewal *sent* is younger than the lease
//! TTL less one heartbeat: the other instances judge this one dead a TTL after its last
//! renewal reached the store, so it stops acting a heartbeat before they may take over.
//! After a pause (SIGSTOP, a long GC-like stall, a partition) the generation moves on and
//! every older lease is dead locally, whatever the store says.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::ClusterConfig;
use crate::store::Lease;

/// Running totals of the cluster's events on this instance.
#[derive(Debug, Default)]
pub struct ClusterCounters {
    /// Messages journaled by this instance for sessions another instance holds (that one
    /// was woken).
    pub wakeups_sent: AtomicU64,
    /// Wake-ups received for sessions this instance holds.
    pub wakeups_received: AtomicU64,
    /// Sessions taken over from an instance that went silent (or from none).
    pub leases_taken: AtomicU64,
    /// Replies not sent because their lease was no longer good.
    pub fenced_replies: AtomicU64,
    /// Deliveries of a message another instance had journaled already.
    pub duplicates: AtomicU64,
    /// Times this instance found its heartbeat had lapsed and gave its leases up.
    pub lapses: AtomicU64,
    /// Scheduled runs another instance had claimed.
    pub runs_claimed_elsewhere: AtomicU64,
}

/// A snapshot of `ClusterCounters`.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStats {
    /// See `ClusterCounters::wakeups_sent`.
    pub wakeups_sent: u64,
    /// See `ClusterCounters::wakeups_received`.
    pub wakeups_received: u64,
    /// See `ClusterCounters::leases_taken`.
    pub leases_taken: u64,
    /// See `ClusterCounters::fenced_replies`.
    pub fenced_replies: u64,
    /// Store writes refused by their fence.
    pub fenced_writes: u64,
    /// See `ClusterCounters::duplicates`.
    pub duplicates: u64,
    /// See `ClusterCounters::lapses`.
    pub lapses: u64,
    /// See `ClusterCounters::runs_claimed_elsewhere`.
    pub runs_claimed_elsewhere: u64,
}

/// This instance's place in the cluster, shared by its actors.
pub struct ClusterState {
    /// `dingclaw.cluster`.
    pub config: ClusterConfig,
    /// This instance's id.
    pub me: Arc<str>,
    /// Unique to this process: tells a restarted instance of the same id from this one.
    pub incarnation: String,
    generation: AtomicU64,
    /// When the newest successful heartbeat renewal was sent (`None`: not yet joined).
    renewed: Mutex<Option<Instant>>,
    /// Another process took this instance's id: it must not act again.
    displaced: AtomicBool,
    /// What happened, for status and metrics.
    pub counters: ClusterCounters,
}

impl ClusterState {
    /// The state of a new instance (not joined yet: no lease is good).
    pub fn new(config: ClusterConfig) -> ClusterState {
        ClusterState {
            me: Arc::from(config.instance_id.as_str()),
            config,
            incarnation: uuid::Uuid::new_v4().to_string(),
            generation: AtomicU64::new(0),
            renewed: Mutex::new(None),
            displaced: AtomicBool::new(false),
            counters: ClusterCounters::default(),
        }
    }

    /// The lease TTL in ms, as the store's queries take it.
    pub fn ttl_ms(&self) -> i64 {
        self.config.lease_ttl.as_millis() as i64
    }

    /// How long after a renewal was sent this instance may still act.
    fn acting_window(&self) -> Duration {
        self.config.lease_ttl.saturating_sub(self.config.heartbeat)
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// A lease on `key` at `epoch`, held by this instance in the current generation.
    pub fn lease(&self, key: &str, epoch: u64) -> Lease {
        Lease {
            key: Arc::from(key),
            owner: Arc::clone(&self.me),
            epoch,
            generation: self.generation(),
        }
    }

    /// May this instance still act (reply, write) on `lease`?
    pub fn may_act(&self, lease: &Lease) -> bool {
        lease.generation == self.generation() && self.alive()
    }

    /// Is this instance's own heartbeat fresh enough to act at all?
    pub fn alive(&self) -> bool {
        if self.displaced.load(Ordering::SeqCst) {
            return false;
        }
        let renewed = *self.renewed.lock().unwrap_or_else(|p| p.into_inner());
        renewed.is_some_and(|at| at.elapsed() < self.acting_window())
    }

    /// A renewal sent at `sent` succeeded. Returns `true` when the one before it is too old:
    /// the other instances may have taken this one's sessions, so every lease held so far is
    /// dropped (a new generation) before the instance acts again.
    pub fn renewed(&self, sent: Instant) -> bool {
        let mut renewed = self.renewed.lock().unwrap_or_else(|p| p.into_inner());
        let lapsed = renewed
            .is_some_and(|before| sent.saturating_duration_since(before) >= self.acting_window());
        if lapsed {
            self.generation.fetch_add(1, Ordering::SeqCst);
            self.counters.lapses.fetch_add(1, Ordering::Relaxed);
        }
        *renewed = Some(renewed.map_or(sent, |before| before.max(sent)));
        lapsed
    }

    /// Another process runs under this instance's id: this one stops acting for good.
    pub fn displace(&self) {
        self.displaced.store(true, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A snapshot of the counters; `fenced_writes` comes from the store.
    pub fn stats(&self, fenced_writes: u64) -> ClusterStats {
        let c = &self.counters;
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ClusterStats {
            wakeups_sent: n(&c.wakeups_sent),
            wakeups_received: n(&c.wakeups_received),
            leases_taken: n(&c.leases_taken),
            fenced_replies: n(&c.fenced_replies),
            fenced_writes,
            duplicates: n(&c.duplicates),
            lapses: n(&c.lapses),
            runs_claimed_elsewhere: n(&c.runs_claimed_elsewhere),
        }
    }
}

/// The instances that keep a connection for `account`: the `replicas` live instances that
/// rank highest for it (rendezvous hashing), so a change of the live set moves only the
/// bots of the instances that came or went.
pub fn placement<'a>(account: &str, live: &'a [String], replicas: usize) -> Vec<&'a str> {
    let mut ranked: Vec<(u64, &str)> = live
        .iter()
        .map(|instance| {
            let mut h = Sha256::new();
            h.update(account.as_bytes());
            h.update([0]);
            h.update(instance.as_bytes());
            let digest = h.finalize();
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            (u64::from_be_bytes(first), instance.as_str())
        })
        .collect();
    ranked.sort_unstable_by(|a, b| b.cmp(a));
    ranked
        .into_iter()
        .take(replicas)
        .map(|(_, id)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(ttl_ms: u64, heartbeat_ms: u64) -> ClusterConfig {
        ClusterConfig {
            instance_id: "a".into(),
            heartbeat: Duration::from_millis(heartbeat_ms),
            lease_ttl: Duration::from_millis(ttl_ms),
            bot_replicas: 2,
        }
    }

    #[test]
    fn placement_is_stable_and_moves_only_what_it_must() {
        let three: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let two: Vec<String> = ["a", "b"].map(String::from).to_vec();
        let mut moved = 0;
        let mut per_instance = std::collections::HashMap::<&str, usize>::new();
        for i in 0..300 {
            let bot = format!("bot{i}");
            let before = placement(&bot, &three, 2);
            assert_eq!(before, placement(&bot, &three, 2));
            assert_eq!(before.len(), 2);
            for id in &before {
                *per_instance.entry(id).or_default() += 1;
            }
            let after = placement(&bot, &two, 2);
            // A bot that was not on "c" keeps both its instances.
            if !before.contains(&"c") {
                assert_eq!(before.len(), after.len());
                assert!(before.iter().all(|b| after.contains(b)));
            } else {
                moved += 1;
            }
        }
        assert!(moved > 100 && moved < 300, "{moved}");
        for (id, n) in per_instance {
            assert!((150..=250).contains(&n), "{id} holds {n} of 600 places");
        }
        assert_eq!(placement("x", &three, 5).len(), 3);
        assert!(placement("x", &[], 2).is_empty());
    }

    #[test]
    fn a_lease_is_good_only_while_the_heartbeat_is_fresh_and_the_generation_current() {
        let state = ClusterState::new(config(300, 50));
        let lease = state.lease("k", 1);
        assert!(!state.may_act(&lease), "not joined yet");
        assert!(!state.renewed(Instant::now()));
        assert!(state.may_act(&lease));
        // A renewal long after the one before: leases from before are dead.
        let before = Instant::now();
        std::thread::sleep(Duration::from_millis(300));
        assert!(!state.may_act(&lease), "the heartbeat is too old");
        assert!(state.renewed(Instant::now()));
        assert!(before.elapsed() >= Duration::from_millis(250));
        assert!(!state.may_act(&lease), "a lapse ends the generation");
        assert!(state.may_act(&state.lease("k", 2)));
        state.displace();
        assert!(!state.may_act(&state.lease("k", 3)));
    }
}
