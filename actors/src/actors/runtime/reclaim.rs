//! Memory back after a load.
//!
//! Memory a load has freed does not go back to the system on its own. The allocator keeps
//! the pages of each thread's heap: after the `sessions` preset had evicted all of its 36,000
//! sessions, glibc's `malloc_stats` showed 12.5 MB in use of the 174 MB it held, and
//! `malloc_trim` took the RSS from 201 to 90 MB (README: Performance). SQLite keeps its page
//! caches, and the session registry (a `DashMap`) keeps the capacity of its peak. So when the
//! gateway has had nothing to do for `dingclaw.memoryReleaseSeconds` (no message, no reply, no
//! session coming, going or letting its transcript go), it gives all of that back once, and
//! not again until something has happened.
//!
//! Which allocator is in use is the binary's choice, so the binary says how to release it
//! (`RuntimeBuilder::release_memory_with`); the call runs on every thread of the runtime,
//! because an allocator such as mimalloc only collects the heap of the thread that asks.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix::prelude::*;

use super::Runtime;

/// While `memoryReleaseSeconds` is 0 (never), how often the config is looked at again (a
/// reload may turn it on).
const RECHECK_WHEN_OFF: Duration = Duration::from_secs(60);

/// What the gateway has done so far: counters that move with every message, reply, session
/// change and Stream connection (a thousand bots reconnecting at once allocate as much as a
/// burst of messages). Two equal snapshots a period apart mean a quiet period.
pub(crate) type Activity = [u64; 6];

/// The rule, apart from clocks: release once after activity, when a whole period has passed
/// without any.
#[derive(Debug, Default)]
pub(crate) struct QuietSpell {
    last: Option<Activity>,
    /// Something happened since the last release.
    owed: bool,
}

impl QuietSpell {
    /// Called once per period with the current counters; true when it is time to give memory
    /// back (activity since the last release, none during this period).
    pub(crate) fn tick(&mut self, now: Activity) -> bool {
        if self.last != Some(now) {
            self.last = Some(now);
            self.owed = true;
            return false;
        }
        std::mem::take(&mut self.owed)
    }
}

/// How the process gives memory back, as the binary chose.
#[derive(Clone, Copy)]
pub(crate) struct Release {
    /// The allocator's release, run on each of the runtime's threads.
    pub per_thread: fn(),
    /// Run once, on this actor's thread, after every thread's release.
    pub once: fn(),
}

/// Looks at the runtime's counters once per `memoryReleaseSeconds` and gives memory back
/// after a quiet period. One timer, on the runtime's own thread; it costs a wake-up per
/// period and nothing per message.
pub(crate) struct ReclaimActor {
    rt: Arc<Runtime>,
    spell: QuietSpell,
    release: Release,
}

impl ReclaimActor {
    pub(crate) fn new(rt: Arc<Runtime>, release: Release) -> Self {
        Self {
            rt,
            spell: QuietSpell::default(),
            release,
        }
    }

    fn arm(&mut self, ctx: &mut Context<Self>) {
        match self.rt.config().runtime.memory_release {
            Some(period) => ctx.run_later(period, |act, ctx| {
                if act.spell.tick(act.rt.activity()) {
                    act.release();
                }
                act.arm(ctx);
            }),
            None => ctx.run_later(RECHECK_WHEN_OFF, |act, ctx| act.arm(ctx)),
        };
    }

    /// Shrinks the session registry, empties the store's caches, then runs the allocator's
    /// release on the store's thread (after its caches are freed), every worker thread and
    /// this one, and last the binary's release that runs once.
    fn release(&self) {
        let rt = &self.rt;
        rt.sessions.shrink_to_fit();
        rt.counters.memory_releases.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            sessions = rt.sessions.len(),
            "quiet: giving freed memory back"
        );
        let Release { per_thread, once } = self.release;
        let store = rt.store.clone();
        let threads = rt.worker_arbiters();
        actix_rt::spawn(async move {
            store.release_memory(per_thread).await;
            for thread in threads {
                thread.spawn_fn(per_thread);
            }
            per_thread();
            once();
        });
    }
}

impl Actor for ReclaimActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.arm(ctx);
    }
}

/// A restart starts it again (`started` arms the timer); the counters it watches live in
/// the runtime, so nothing is lost but the current period.
impl Supervised for ReclaimActor {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_goes_back_once_per_quiet_spell() {
        let mut spell = QuietSpell::default();
        let busy = |n: u64| [n, n, 0, 0, 0, 0];
        assert!(!spell.tick(busy(0)), "the first look only takes a snapshot");
        assert!(spell.tick(busy(0)), "a quiet period after start-up");
        assert!(
            !spell.tick(busy(0)),
            "still quiet: nothing new to give back"
        );
        for n in 1..5 {
            assert!(!spell.tick(busy(n)), "a busy period never releases");
        }
        assert!(spell.tick(busy(4)), "the first quiet period after the load");
        assert!(!spell.tick(busy(4)));
        // Sessions leaving memory, with no message, count as activity: their memory is
        // what the release is for.
        assert!(!spell.tick([4, 4, 0, 0, 1, 0]));
        assert!(spell.tick([4, 4, 0, 0, 1, 0]));
        // So do bots (re)connecting: a thousand of them at once allocate like a burst.
        assert!(!spell.tick([4, 4, 0, 0, 1, 1000]));
        assert!(spell.tick([4, 4, 0, 0, 1, 1000]));
    }
}
