//! WAL checkpoints on a thread of their own.
//!
//! In WAL mode a commit only appends to the log; a checkpoint later copies the log back into
//! the database file and fsyncs both. Left to SQLite, the checkpoint runs inside the commit
//! that crosses `wal_autocheckpoint`, on the store writer's thread, and every write queued
//! meanwhile waits for it, the inbound journal's too, so an ACK and every message behind it.
//! Measured at 2,000 msg/s: the writer stalled for 33-77 ms about every half second (two
//! fsyncs of 10-37 ms each and the copy), which was the whole of the gateway's p99.
//!
//! A `PASSIVE` checkpoint from another connection needs no lock the writer takes: the writer
//! keeps appending while the pages are copied, and SQLite starts the log over at the next
//! commit once everything was copied. At a low or bursty rate that happens within a second.
//! Under a steady heavy load a checkpoint never catches up with the writer (frames arrive
//! while it copies and fsyncs), so the log is started over only by the writer's own automatic
//! checkpoint, kept as a backstop at 256 MB of log: by then this thread has copied all but
//! the last second, and the writer's stall is that second's copy and two fsyncs, every few
//! seconds at 2,000 msg/s instead of twice a second (a `RESTART` checkpoint from this thread
//! was tried: it holds the writer behind SQLite's busy handler, measured 180 ms).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How long after the first commit since the last checkpoint the next one runs: long enough
/// that a busy second costs one checkpoint (two fsyncs), short enough that the log stays
/// small (tens of MB at the load benchmark's highest rates).
pub const CHECKPOINT_DELAY: Duration = Duration::from_secs(1);

/// The writer's automatic checkpoint, in pages: reached only when this thread cannot keep up
/// (or is gone), 256 MB of log at SQLite's default 4 KiB pages.
pub const BACKSTOP_PAGES: i64 = 65_536;

/// What the writer and the checkpoint thread share.
#[derive(Default)]
struct Shared {
    /// Commits since the last checkpoint began. Checked without the lock, so that a commit
    /// that finds it set costs one atomic load.
    dirty: AtomicBool,
    stop: Mutex<bool>,
    wake: Condvar,
    /// Checkpoints completed.
    done: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, bool> {
        self.stop.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The checkpoint thread of one SQLite store; stops (and waits for a running checkpoint)
/// when dropped.
pub struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts the thread over `conn`, a connection of its own to the store's file.
    pub fn start(conn: Connection, delay: Duration) -> std::io::Result<Checkpointer> {
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("store-checkpoint".to_owned())
            .spawn(move || run(&conn, &theirs, delay))?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// A commit happened: a checkpoint follows within the delay. Wakes the thread only for the
    /// first commit after a checkpoint began, so an idle store's thread sleeps for good.
    pub fn committed(&self) {
        // A load first: while a checkpoint is pending, commits only read the flag.
        if self.shared.dirty.load(Ordering::Acquire)
            || self.shared.dirty.swap(true, Ordering::AcqRel)
        {
            return;
        }
        // Taking the lock orders this notification after the thread's check of `dirty`.
        let _stop = self.shared.lock();
        self.shared.wake.notify_one();
    }

    /// Checkpoints completed so far.
    #[cfg(test)]
    pub fn completed(&self) -> u64 {
        self.shared.done.load(Ordering::Acquire)
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        *self.shared.lock() = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, shared: &Shared, delay: Duration) {
    loop {
        let mut stop = shared.lock();
        while !*stop && !shared.dirty.load(Ordering::Acquire) {
            stop = shared.wake.wait(stop).unwrap_or_else(|p| p.into_inner());
        }
        // Let the commits of the next `delay` gather into this checkpoint.
        let (stop, _) = shared
            .wake
            .wait_timeout_while(stop, delay, |stop| !*stop)
            .unwrap_or_else(|p| p.into_inner());
        if *stop {
            return;
        }
        drop(stop);
        // Commits from here on are for the next checkpoint.
        shared.dirty.store(false, Ordering::Release);
        let started = Instant::now();
        match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
            Ok(log) => {
                tracing::trace!(log, took = ?started.elapsed(), "store: WAL checkpoint");
                crate::telemetry::store_checkpoint(started.elapsed());
                shared.done.fetch_add(1, Ordering::AcqRel);
            }
            Err(e) => {
                // The writer's backstop still bounds the log; the next commit tries again.
                tracing::warn!(error = %e, "store: WAL checkpoint failed");
            }
        }
    }
}
