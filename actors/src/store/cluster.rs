//! What several gateways sharing one store need from it (`dingclaw.cluster`): heartbeats,
//! the routed journal (cluster-wide dedup and a per-session order), session leases with
//! epochs, fenced writes, cron claims and wake-ups. Only the PostgreSQL store has them; the
//! runtime asks `Store::cluster()` and runs alone when there is none.
//!
//! Every call returns a future that runs on the store's own runtime, so an actor awaits it
//! without blocking its thread.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;

use super::{JournalEntry, StoreError};

/// What a cluster call returns: its answer, later.
pub type ClusterFuture<T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'static>>;

/// A session lease as a writer holds it: its writes count only while the store still names
/// this owner and epoch.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The session key.
    pub key: Arc<str>,
    /// The instance holding it.
    pub owner: Arc<str>,
    /// Raised by every take-over; an older epoch's writes are refused.
    pub epoch: u64,
    /// The holder's own count of its lost-and-found moments (`ClusterState::generation`):
    /// a lease from before a pause is not used after it, whatever the store says.
    pub generation: u64,
}

/// A bot message on its way into the journal, with the session it belongs to.
#[derive(Clone, Debug)]
pub struct RoutedEntry {
    /// The message.
    pub entry: JournalEntry,
    /// Its session key, from the routing rules every instance shares.
    pub session_key: String,
}

/// What journaling one message found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Journaled {
    /// The message was journaled already (by this instance or another): it is not answered
    /// again.
    Duplicate,
    /// Newly journaled as its session's `session_seq`-th message.
    New {
        /// Its place in its session.
        session_seq: u64,
        /// Who answers the session now.
        owner: LeaseHolder,
    },
}

/// Who holds a session's lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseHolder {
    /// This instance, at this epoch.
    Me {
        /// The lease's epoch.
        epoch: u64,
    },
    /// Another live instance (woken by a notification).
    Other {
        /// Its instance id.
        instance: String,
    },
}

/// One journaled message of a session, in session order.
#[derive(Clone, Debug)]
pub struct SessionMessage {
    /// Its place in the session.
    pub session_seq: u64,
    /// The journal row.
    pub entry: JournalEntry,
}

/// The open messages of a session this instance holds.
#[derive(Clone, Debug)]
pub struct SessionWork {
    /// The session key.
    pub key: String,
    /// The lease's epoch.
    pub epoch: u64,
    /// Messages not done yet, after the asked-for place, in session order.
    pub messages: Vec<SessionMessage>,
}

/// Sessions this instance holds with messages still open: the newest place of each.
#[derive(Clone, Debug, Default)]
pub struct Sweep {
    /// Leases taken over from dead instances in this sweep: (key, new epoch).
    pub taken: Vec<(String, u64)>,
    /// Every session this instance holds that has open messages: (key, epoch, newest
    /// open place).
    pub open: Vec<(String, u64, u64)>,
}

/// One instance as the store knows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceView {
    /// Its id.
    pub id: String,
    /// Within the lease TTL.
    pub live: bool,
    /// ms since its last heartbeat.
    pub heartbeat_age_ms: i64,
    /// When it joined (ms since the epoch).
    pub started_ms: i64,
    /// Leases it holds.
    pub sessions: i64,
    /// What it says about itself (bots connected, version, pid).
    pub info: serde_json::Value,
}

/// The store's own part of the cluster's picture.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// Instances heard from in the last ten minutes, live ones first.
    pub instances: Vec<InstanceView>,
    /// Session leases in the store.
    pub leases: i64,
    /// Journaled messages not answered yet.
    pub open_messages: i64,
}

/// The coordination the store gives a cluster.
pub trait ClusterStore: Send + Sync {
    /// Joins as `me` (a new incarnation): forgets the leases an earlier process of this id
    /// held, so its sessions are replayed from the journal.
    fn join(&self, me: &str, incarnation: &str, info: serde_json::Value) -> ClusterFuture<()>;

    /// Renews `me`'s heartbeat; `false` when another process took the id over.
    fn heartbeat(
        &self,
        me: &str,
        incarnation: &str,
        info: serde_json::Value,
    ) -> ClusterFuture<bool>;

    /// Live instance ids (heartbeat within `ttl_ms`), sorted.
    fn live(&self, ttl_ms: i64) -> ClusterFuture<Vec<String>>;

    /// Leaves: the instance row goes and its leases are freed (a clean shutdown).
    fn leave(&self, me: &str) -> ClusterFuture<()>;

    /// Frees every lease `me` holds (after a pause: they may have been taken already).
    fn release_all(&self, me: &str) -> ClusterFuture<u64>;

    /// Journals messages in one transaction: each new one gets its session's next place and
    /// the session's holder (taken by `me` when it has none alive); a holder elsewhere is
    /// woken by a notification sent with the commit.
    fn journal(
        &self,
        me: &str,
        ttl_ms: i64,
        entries: Vec<RoutedEntry>,
    ) -> ClusterFuture<Vec<Journaled>>;

    /// A session's open messages after place `after`, if `me` holds it.
    fn session_work(&self, me: &str, key: &str, after: u64) -> ClusterFuture<Option<SessionWork>>;

    /// Takes over (at most `limit`) sessions with open messages whose holder is dead, and
    /// lists every session `me` holds with open messages.
    fn sweep(&self, me: &str, ttl_ms: i64, limit: i64) -> ClusterFuture<Sweep>;

    /// Claims one run of a job (`due_ms` its scheduled time): `true` for the one instance
    /// that runs it.
    fn claim_run(&self, me: &str, job_id: &str, due_ms: i64) -> ClusterFuture<bool>;

    /// The claimed run of a job at `due_ms` has ended (its record is written).
    fn finish_run(&self, job_id: &str, due_ms: i64) -> ClusterFuture<()>;

    /// Takes over claimed runs whose instance died before finishing them: `(job, due_ms)`
    /// pairs this instance now runs.
    fn orphan_runs(&self, me: &str, ttl_ms: i64) -> ClusterFuture<Vec<(String, i64)>>;

    /// Instances, leases and open messages, for status pages.
    fn view(&self, ttl_ms: i64) -> ClusterFuture<ClusterView>;

    /// Session keys this instance is woken for: `(instance, key)` pairs from every
    /// instance's notifications (a consumer keeps its own). One stream per call.
    fn wakeups(&self)
    -> Result<tokio::sync::mpsc::UnboundedReceiver<(String, String)>, StoreError>;

    /// Writes refused since the start because their lease had moved on.
    fn fenced_writes(&self) -> u64;
}
