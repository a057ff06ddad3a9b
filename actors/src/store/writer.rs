//! The store's writer: one actor on its own thread that gathers writes into batches and
//! commits each batch as one transaction (group commit). Writers do not wait unless they ask
//! to (`flush`); reads go to a blocking thread and never queue behind writes.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

use super::{
    JournalEntry, JournalId, MemoryCandidate, MemoryFile, SessionFilter, SessionMeta, Store,
    StoreError, StoredSession, TranscriptEntry, WriteOp,
};

/// How long writes gather before a commit: short enough not to be felt, long enough to turn
/// a burst of turns into one transaction.
const BATCH_DELAY: Duration = Duration::from_millis(2);

/// A batch this large commits at once.
const MAX_BATCH: usize = 1024;

/// After a failed commit (disk full, I/O error), wait this long before trying again; the
/// operations are kept, not dropped.
const RETRY_DELAY: Duration = Duration::from_millis(500);

/// Queue operations for the next commit.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Write(pub Vec<WriteOp>);

/// Resolves when everything written before it is committed.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Flush;

/// Queue operations and commit them without the batching delay; resolves when they are
/// committed. Commits asked for while the writer is busy share one transaction (group
/// commit): the ones already in the mailbox are gathered before the commit runs.
#[derive(Message)]
#[rtype(result = "Result<(), String>")]
pub struct Commit(pub Vec<WriteOp>);

/// Gives the store's caches back (`Store::release_memory`), then runs `then` on the writer's
/// thread: the runtime sends it when the gateway has been quiet, with the allocator's own
/// release, so that what the store just freed goes back to the system too.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ReleaseMemory {
    /// Run after the store's release (the allocator's per-thread collection).
    pub then: fn(),
}

/// Runs the commit that `Commit` asked for, after the mailbox has been drained.
#[derive(Message)]
#[rtype(result = "()")]
struct CommitNow;

/// The writer actor.
pub struct StoreWriter {
    store: Arc<dyn Store>,
    pending: Vec<WriteOp>,
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    commit_scheduled: bool,
    /// A `CommitNow` is in the mailbox.
    commit_now_queued: bool,
}

impl StoreWriter {
    /// A writer over `store`; start it on an arbiter of its own (`StoreHandle::start`).
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            pending: Vec::new(),
            waiters: Vec::new(),
            commit_scheduled: false,
            commit_now_queued: false,
        }
    }

    fn schedule(&mut self, delay: Duration, ctx: &mut Context<Self>) {
        if !self.commit_scheduled {
            self.commit_scheduled = true;
            ctx.run_later(delay, |act, ctx| {
                act.commit_scheduled = false;
                act.commit(ctx);
            });
        }
    }

    fn commit(&mut self, ctx: &mut Context<Self>) {
        if self.pending.is_empty() {
            for w in self.waiters.drain(..) {
                let _ = w.send(Ok(()));
            }
            return;
        }
        let ops = std::mem::take(&mut self.pending);
        match self.store.write(&ops) {
            Ok(()) => {
                crate::telemetry::store_commit(ops.len());
                for w in self.waiters.drain(..) {
                    let _ = w.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, ops = ops.len(), retry_in = ?RETRY_DELAY, "store commit failed; keeping the writes");
                let message = e.to_string();
                for w in self.waiters.drain(..) {
                    let _ = w.send(Err(message.clone()));
                }
                let mut kept = ops;
                kept.append(&mut self.pending);
                self.pending = kept;
                self.schedule(RETRY_DELAY, ctx);
            }
        }
    }
}

impl Actor for StoreWriter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(0);
    }

    fn stopping(&mut self, ctx: &mut Self::Context) -> Running {
        // Whatever is queued is committed before the writer goes.
        self.commit(ctx);
        Running::Stop
    }
}

impl Supervised for StoreWriter {}

impl Handler<Write> for StoreWriter {
    type Result = ();

    fn handle(&mut self, msg: Write, ctx: &mut Self::Context) {
        self.pending.extend(msg.0);
        if self.pending.len() >= MAX_BATCH {
            self.commit(ctx);
        } else {
            self.schedule(BATCH_DELAY, ctx);
        }
    }
}

impl Handler<Commit> for StoreWriter {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, msg: Commit, ctx: &mut Self::Context) -> Self::Result {
        self.pending.extend(msg.0);
        let (tx, rx) = oneshot::channel();
        self.waiters.push(tx);
        if !self.commit_now_queued {
            self.commit_now_queued = true;
            ctx.notify(CommitNow);
        }
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err("store writer stopped".to_owned()))
        })
    }
}

impl Handler<CommitNow> for StoreWriter {
    type Result = ();

    fn handle(&mut self, _: CommitNow, ctx: &mut Self::Context) {
        self.commit_now_queued = false;
        self.commit(ctx);
    }
}

impl Handler<Flush> for StoreWriter {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, _: Flush, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.waiters.push(tx);
        self.commit(ctx);
        Box::pin(async move {
            rx.await
                .unwrap_or_else(|_| Err("store writer stopped".to_owned()))
        })
    }
}

impl Handler<ReleaseMemory> for StoreWriter {
    type Result = ();

    fn handle(&mut self, msg: ReleaseMemory, _: &mut Self::Context) {
        self.store.release_memory();
        (msg.then)();
    }
}

/// How the rest of the runtime uses the store: cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct StoreHandle {
    store: Arc<dyn Store>,
    writer: Addr<StoreWriter>,
}

impl StoreHandle {
    /// Starts the writer on `arbiter` (give it a thread of its own: commits block).
    pub fn start(store: Arc<dyn Store>, arbiter: &ArbiterHandle) -> StoreHandle {
        let for_writer = Arc::clone(&store);
        let writer = Supervisor::start_in_arbiter(arbiter, move |_| StoreWriter::new(for_writer));
        StoreHandle { store, writer }
    }

    /// The store's cluster coordination, when it has one (PostgreSQL).
    pub fn cluster(&self) -> Option<&dyn super::ClusterStore> {
        self.store.cluster()
    }

    /// Queues operations for the next commit.
    pub fn write(&self, ops: Vec<WriteOp>) {
        self.writer.do_send(Write(ops));
    }

    /// Queues operations for a commit without the batching delay, and does not wait.
    pub fn write_now(&self, ops: Vec<WriteOp>) {
        self.writer.do_send(Commit(ops));
    }

    /// Queues operations and waits until they are committed, without the batching delay
    /// (the inbound journal: an ACK waits for it).
    pub async fn commit(&self, ops: Vec<WriteOp>) -> Result<(), String> {
        self.writer
            .send(Commit(ops))
            .await
            .map_err(|e| e.to_string())?
    }

    /// Waits until everything written so far is committed.
    pub async fn flush(&self) -> Result<(), String> {
        self.writer.send(Flush).await.map_err(|e| e.to_string())?
    }

    /// Gives the store's caches back, then runs `then` on the writer's thread; resolves when
    /// both are done (or the writer is gone).
    pub async fn release_memory(&self, then: fn()) {
        let _ = self.writer.send(ReleaseMemory { then }).await;
    }

    /// A session's index row and its newest `max_entries` entries.
    pub async fn load_session(
        &self,
        key: &str,
        max_entries: usize,
    ) -> Result<Option<StoredSession>, StoreError> {
        let (store, key) = (Arc::clone(&self.store), key.to_owned());
        blocking(move || store.load_session(&key, max_entries)).await
    }

    /// The index rows `filter` selects.
    pub async fn sessions(&self, filter: SessionFilter) -> Result<Vec<SessionMeta>, StoreError> {
        let store = Arc::clone(&self.store);
        blocking(move || store.sessions(&filter)).await
    }

    /// Has `account` had a conversation with `id` (a person, or a group when `group`)?
    pub async fn knows_peer(
        &self,
        account: &str,
        group: bool,
        id: &str,
    ) -> Result<bool, StoreError> {
        let (store, account, id) = (Arc::clone(&self.store), account.to_owned(), id.to_owned());
        blocking(move || store.knows_peer(&account, group, &id)).await
    }

    /// The newest `max_entries` entries of a transcript, oldest first.
    pub async fn transcript(
        &self,
        session_id: &str,
        max_entries: usize,
    ) -> Result<Vec<TranscriptEntry>, StoreError> {
        let (store, id) = (Arc::clone(&self.store), session_id.to_owned());
        blocking(move || store.transcript(&id, max_entries)).await
    }
}

impl StoreHandle {
    /// Every scheduled job (JSON).
    pub async fn jobs(&self) -> Result<Vec<String>, StoreError> {
        let store = Arc::clone(&self.store);
        blocking(move || store.jobs()).await
    }

    /// Every pairing record (JSON).
    pub async fn pairings(&self) -> Result<Vec<String>, StoreError> {
        let store = Arc::clone(&self.store);
        blocking(move || store.pairings()).await
    }

    /// A job's newest runs (JSON), newest first.
    pub async fn runs(&self, job_id: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let (store, id) = (Arc::clone(&self.store), job_id.to_owned());
        blocking(move || store.runs(&id, limit)).await
    }

    /// Journaled messages not done yet, in arrival order.
    pub async fn open_inbound(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let store = Arc::clone(&self.store);
        blocking(move || store.open_inbound()).await
    }

    /// The memory files indexed for an agent.
    pub async fn memory_files(&self, agent: &str) -> Result<Vec<MemoryFile>, StoreError> {
        let (store, agent) = (Arc::clone(&self.store), agent.to_owned());
        blocking(move || store.memory_files(&agent)).await
    }

    /// An agent's memory chunks holding some of `terms`.
    pub async fn memory_candidates(
        &self,
        agent: &str,
        terms: Vec<String>,
        limit: usize,
    ) -> Result<Vec<MemoryCandidate>, StoreError> {
        let (store, agent) = (Arc::clone(&self.store), agent.to_owned());
        blocking(move || store.memory_candidates(&agent, &terms, limit)).await
    }

    /// Journal ids received since `since_ms`, and every open one.
    pub async fn inbound_ids(&self, since_ms: i64) -> Result<Vec<JournalId>, StoreError> {
        let store = Arc::clone(&self.store);
        blocking(move || store.inbound_ids(since_ms)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    actix_rt::task::spawn_blocking(f)
        .await
        .map_err(|_| StoreError::WriterGone)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, Role};

    /// `ReleaseMemory` gives the store's caches back, then runs the allocator's release on
    /// the writer's own thread (where the store's memory was allocated and freed).
    #[actix_rt::test]
    async fn release_memory_empties_the_caches_then_runs_the_allocator_release_on_its_thread() {
        static RAN_ON: std::sync::Mutex<Option<std::thread::ThreadId>> =
            std::sync::Mutex::new(None);
        fn record_thread() {
            *RAN_ON.lock().unwrap() = Some(std::thread::current().id());
        }
        let store = Arc::new(MemoryStore::default());
        let arbiter = Arbiter::new();
        let handle = StoreHandle::start(Arc::clone(&store) as Arc<dyn Store>, &arbiter.handle());
        let (tx, rx) = oneshot::channel();
        arbiter.spawn_fn(move || {
            let _ = tx.send(std::thread::current().id());
        });
        let writer_thread = rx.await.unwrap();
        assert_eq!(store.releases(), 0);
        handle.release_memory(record_thread).await;
        assert_eq!(store.releases(), 1);
        assert_eq!(*RAN_ON.lock().unwrap(), Some(writer_thread));
        assert_ne!(writer_thread, std::thread::current().id());
        arbiter.stop();
    }

    #[actix_rt::test]
    async fn writes_are_batched_and_flush_waits_for_the_commit() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::default());
        let arbiter = Arbiter::new();
        let handle = StoreHandle::start(Arc::clone(&store), &arbiter.handle());
        for i in 1..=100u64 {
            handle.write(vec![WriteOp::Entry {
                session_id: "s".into(),
                entry: TranscriptEntry {
                    tool_calls: Vec::new(),
                    tool_call_id: None,
                    attachments: Vec::new(),
                    first_kept: None,
                    sender_name: None,
                    seq: i,
                    role: Role::User,
                    content: format!("m{i}"),
                    msg_id: None,
                    sender: None,
                    at_ms: 0,
                },
            }]);
        }
        handle.flush().await.unwrap();
        assert_eq!(handle.transcript("s", 1000).await.unwrap().len(), 100);
        arbiter.stop();
    }
}
