//! The store's writer: one actor on its own thread that gathers writes into batches and
//! commits each batch as one transaction (group commit). Writers do not wait unless they ask
//! to (`flush`); reads go to a blocking thread and never queue behind writes.
//!
//! Writes go into a queue shared with the writer (`WriteQueue`), and only a write that finds
//! nothing yet asking for a commit sends the writer a message. A message wakes the writer's
//! thread when it sleeps, and that wake-up is what a write costs at a low rate (a turn makes
//! five writes: profiled, the writer's thread spent more on waking than on SQLite). The queue
//! also outlives the actor, so a writer that restarts still commits what was queued.

use std::sync::{Arc, Mutex, MutexGuard};
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

type Waiter = oneshot::Sender<Result<(), String>>;

/// Writes waiting for the next commit, and what the writer has already been told about them.
#[derive(Default)]
struct Queued {
    ops: Vec<WriteOp>,
    waiters: Vec<Waiter>,
    /// A `Wake` is on its way, or a commit is scheduled: a delayed write need not signal.
    woken: bool,
    /// A `CommitNow` is on its way: nothing needs to signal.
    now: bool,
}

/// What a write must tell the writer.
#[derive(Debug, PartialEq, Eq)]
enum Signal {
    /// Nothing: a signal is on its way already.
    None,
    /// Arm the batching delay.
    Wake,
    /// Commit without the delay.
    Now,
}

/// The queue between the handles and the writer.
#[derive(Default)]
struct WriteQueue(Mutex<Queued>);

impl WriteQueue {
    fn lock(&self) -> MutexGuard<'_, Queued> {
        // A panic while holding the lock leaves plain data behind: keep it.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `ops` (and `waiter`, answered after the commit that holds them); says what the
    /// writer must be told, if anything.
    fn push(&self, ops: Vec<WriteOp>, waiter: Option<Waiter>, now: bool) -> Signal {
        let mut q = self.lock();
        q.ops.extend(ops);
        q.waiters.extend(waiter);
        if now || q.ops.len() >= MAX_BATCH {
            if q.now {
                Signal::None
            } else {
                q.now = true;
                Signal::Now
            }
        } else if q.woken || q.now {
            Signal::None
        } else {
            q.woken = true;
            Signal::Wake
        }
    }

    /// Everything queued, for a commit; later writes signal afresh.
    fn take(&self) -> (Vec<WriteOp>, Vec<Waiter>) {
        let mut q = self.lock();
        q.woken = false;
        q.now = false;
        (std::mem::take(&mut q.ops), std::mem::take(&mut q.waiters))
    }

    /// Puts the writes of a failed commit back in front of those queued since; the retry is
    /// scheduled, so delayed writes need not signal.
    fn put_back(&self, mut ops: Vec<WriteOp>) {
        let mut q = self.lock();
        ops.append(&mut q.ops);
        q.ops = ops;
        q.woken = true;
    }

    /// Forgets signals sent to a writer that has since restarted; says whether anything is
    /// queued.
    fn reset(&self) -> bool {
        let mut q = self.lock();
        q.woken = false;
        q.now = false;
        !q.ops.is_empty() || !q.waiters.is_empty()
    }
}

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
/// commit): everything queued when the commit begins goes into it.
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

/// Something was queued: commit after the batching delay.
#[derive(Message)]
#[rtype(result = "()")]
struct Wake;

/// Something queued asks for a commit without the delay.
#[derive(Message)]
#[rtype(result = "()")]
struct CommitNow;

/// The writer actor.
pub struct StoreWriter {
    store: Arc<dyn Store>,
    queue: Arc<WriteQueue>,
    /// The batching delay's (or a retry's) timer, while armed.
    timer: Option<SpawnHandle>,
}

impl StoreWriter {
    /// A writer over `store`; start it on an arbiter of its own (`StoreHandle::start`).
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::over(store, Arc::default())
    }

    fn over(store: Arc<dyn Store>, queue: Arc<WriteQueue>) -> Self {
        Self {
            store,
            queue,
            timer: None,
        }
    }

    fn schedule(&mut self, delay: Duration, ctx: &mut Context<Self>) {
        if self.timer.is_none() {
            self.timer = Some(ctx.run_later(delay, |act, ctx| {
                act.timer = None;
                act.commit(ctx);
            }));
        }
    }

    /// Queues on the writer's own thread (the messages `Write`, `Commit`, `Flush`).
    fn queue_here(
        &mut self,
        ops: Vec<WriteOp>,
        waiter: Option<Waiter>,
        now: bool,
        ctx: &mut Context<Self>,
    ) {
        match self.queue.push(ops, waiter, now) {
            Signal::Now => self.commit(ctx),
            Signal::Wake => self.schedule(BATCH_DELAY, ctx),
            // A `CommitNow` or the timer will come.
            Signal::None => {}
        }
    }

    fn commit(&mut self, ctx: &mut Context<Self>) {
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        let (ops, waiters) = self.queue.take();
        if ops.is_empty() {
            for w in waiters {
                let _ = w.send(Ok(()));
            }
            return;
        }
        match self.store.write(&ops) {
            Ok(()) => {
                crate::telemetry::store_commit(ops.len());
                for w in waiters {
                    let _ = w.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, ops = ops.len(), retry_in = ?RETRY_DELAY, "store commit failed; keeping the writes");
                let message = e.to_string();
                for w in waiters {
                    let _ = w.send(Err(message.clone()));
                }
                self.queue.put_back(ops);
                self.schedule(RETRY_DELAY, ctx);
            }
        }
    }
}

impl Actor for StoreWriter {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(0);
        // After a restart: the signals sent to the writer that crashed are gone with it.
        if self.queue.reset() {
            self.commit(ctx);
        }
    }

    fn stopping(&mut self, ctx: &mut Self::Context) -> Running {
        // Whatever is queued is committed before the writer goes.
        self.commit(ctx);
        Running::Stop
    }
}

impl Supervised for StoreWriter {
    fn restarting(&mut self, _: &mut Self::Context) {
        self.timer = None;
    }
}

impl Handler<Wake> for StoreWriter {
    type Result = ();

    fn handle(&mut self, _: Wake, ctx: &mut Self::Context) {
        self.schedule(BATCH_DELAY, ctx);
    }
}

impl Handler<CommitNow> for StoreWriter {
    type Result = ();

    fn handle(&mut self, _: CommitNow, ctx: &mut Self::Context) {
        self.commit(ctx);
    }
}

impl Handler<Write> for StoreWriter {
    type Result = ();

    fn handle(&mut self, msg: Write, ctx: &mut Self::Context) {
        self.queue_here(msg.0, None, false, ctx);
    }
}

impl Handler<Commit> for StoreWriter {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, msg: Commit, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.queue_here(msg.0, Some(tx), true, ctx);
        Box::pin(answer(rx))
    }
}

impl Handler<Flush> for StoreWriter {
    type Result = ResponseFuture<Result<(), String>>;

    fn handle(&mut self, _: Flush, ctx: &mut Self::Context) -> Self::Result {
        let (tx, rx) = oneshot::channel();
        self.queue_here(Vec::new(), Some(tx), true, ctx);
        Box::pin(answer(rx))
    }
}

impl Handler<ReleaseMemory> for StoreWriter {
    type Result = ();

    fn handle(&mut self, msg: ReleaseMemory, _: &mut Self::Context) {
        self.store.release_memory();
        (msg.then)();
    }
}

/// What the commit holding a waiter's writes said.
async fn answer(rx: oneshot::Receiver<Result<(), String>>) -> Result<(), String> {
    rx.await
        .unwrap_or_else(|_| Err("store writer stopped".to_owned()))
}

/// How the rest of the runtime uses the store: cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct StoreHandle {
    store: Arc<dyn Store>,
    writer: Addr<StoreWriter>,
    queue: Arc<WriteQueue>,
}

impl StoreHandle {
    /// Starts the writer on `arbiter` (give it a thread of its own: commits block).
    pub fn start(store: Arc<dyn Store>, arbiter: &ArbiterHandle) -> StoreHandle {
        let (for_writer, queue) = (Arc::clone(&store), Arc::new(WriteQueue::default()));
        let shared = Arc::clone(&queue);
        let writer = Supervisor::start_in_arbiter(arbiter, move |_| {
            StoreWriter::over(Arc::clone(&for_writer), Arc::clone(&shared))
        });
        StoreHandle {
            store,
            writer,
            queue,
        }
    }

    /// The store's cluster coordination, when it has one (PostgreSQL).
    pub fn cluster(&self) -> Option<&dyn super::ClusterStore> {
        self.store.cluster()
    }

    fn queue(&self, ops: Vec<WriteOp>, waiter: Option<Waiter>, now: bool) {
        match self.queue.push(ops, waiter, now) {
            Signal::Now => self.writer.do_send(CommitNow),
            Signal::Wake => self.writer.do_send(Wake),
            Signal::None => {}
        }
    }

    /// Queues operations for the next commit.
    pub fn write(&self, ops: Vec<WriteOp>) {
        self.queue(ops, None, false);
    }

    /// Queues operations for a commit without the batching delay, and does not wait.
    pub fn write_now(&self, ops: Vec<WriteOp>) {
        self.queue(ops, None, true);
    }

    /// Queues operations and waits until they are committed, without the batching delay
    /// (the inbound journal: an ACK waits for it).
    pub async fn commit(&self, ops: Vec<WriteOp>) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        self.queue(ops, Some(tx), true);
        answer(rx).await
    }

    /// Waits until everything written so far is committed.
    pub async fn flush(&self) -> Result<(), String> {
        self.commit(Vec::new()).await
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

    /// A turn's writes signal the writer once: the first delayed write arms the delay, the
    /// first write that cannot wait asks for the commit, the rest ride along; after the
    /// commit takes the queue, the next write signals again.
    #[test]
    fn only_the_first_write_of_a_batch_signals_the_writer() {
        let queue = WriteQueue::default();
        assert_eq!(queue.push(vec![prune(1)], None, false), Signal::Wake);
        assert_eq!(queue.push(vec![prune(2)], None, false), Signal::None);
        assert_eq!(queue.push(vec![prune(3)], None, true), Signal::Now);
        assert_eq!(queue.push(vec![prune(4)], None, true), Signal::None);
        assert_eq!(queue.push(vec![prune(5)], None, false), Signal::None);
        let (ops, waiters) = queue.take();
        assert_eq!(ops, (1..=5).map(prune).collect::<Vec<_>>());
        assert!(waiters.is_empty());
        assert_eq!(queue.push(vec![prune(6)], None, false), Signal::Wake);
        // A full batch does not wait for the delay.
        let many = (7..7 + MAX_BATCH as u64).map(prune).collect();
        assert_eq!(queue.push(many, None, false), Signal::Now);
        // A restarted writer was told nothing yet: it looks at the queue itself.
        assert!(queue.reset());
        assert_eq!(queue.push(Vec::new(), None, true), Signal::Now);
    }

    /// A commit that fails keeps its writes, ahead of those queued since, and tries again;
    /// its waiters hear the error.
    #[actix_rt::test]
    async fn a_failed_commit_keeps_its_writes_in_order_and_retries() {
        let store = Arc::new(MemoryStore::default());
        store.fail_next_writes(1);
        let arbiter = Arbiter::new();
        let handle = StoreHandle::start(Arc::clone(&store) as Arc<dyn Store>, &arbiter.handle());
        let failed = handle.commit(vec![op(1), op(2)]).await;
        assert!(failed.unwrap_err().contains("disk full"));
        handle.write(vec![op(3)]);
        handle.flush().await.unwrap();
        let seqs: Vec<u64> = handle
            .transcript("s", 100)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![1, 2, 3]);
        arbiter.stop();
    }

    fn prune(seq: u64) -> WriteOp {
        WriteOp::PruneInbound {
            done_before_ms: seq as i64,
        }
    }

    fn op(seq: u64) -> WriteOp {
        WriteOp::Entry {
            session_id: "s".into(),
            entry: TranscriptEntry::message(seq, Role::User, format!("m{seq}"), 0),
        }
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
