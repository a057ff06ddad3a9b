//! The shared store: PostgreSQL, for gateways that must survive a machine (`dingclaw.store:
//! "postgres"`, `dingclaw.storeUrl`). The same tables as SQLite, and the same batching: one
//! transaction per writer batch.
//!
//! The `Store` trait is synchronous (SQLite's calls block on the disk), and it is called from
//! the store writer's own thread and from blocking-pool threads, never from an actor that
//! serves messages. PostgreSQL is spoken asynchronously (tokio-postgres, pooled by
//! deadpool-postgres) on a small runtime the store owns; a call hands its work to that
//! runtime and waits for the answer on a plain channel, so no tokio runtime is ever blocked
//! from inside (which `block_on` would refuse).
//!
//! Schema changes are numbered in `dingclaw_schema`; a gateway applies the missing ones under
//! an advisory lock, so that several gateways starting together migrate once.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use deadpool_postgres::Pool;
use tokio_postgres::Row;

use crate::config::Secret;

use super::postgres_tls::{Tls, connect_one, manager, tls_for};

use super::{
    JournalEntry, JournalId, MemoryCandidate, MemoryFile, Role, SessionFilter, SessionMeta,
    SessionSettings, Store, StoreError, StoredSession, TranscriptEntry, WriteOp,
};

/// Connections kept open to the server (the writer's batches and concurrent reads).
const POOL_SIZE: usize = 4;

/// How long opening a connection may take before the store says the server is unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Terms of one memory search sent to the server.
const MAX_TERMS: usize = 32;

/// Any two gateways agree on this key for the migration lock (`pg_advisory_xact_lock`).
const MIGRATION_LOCK: i64 = 0x6469_6e67_636c_6177; // "dingclaw"

/// The key of the lock one gateway holds on a store (`PostgresGatewayLock`).
const GATEWAY_LOCK: i64 = 0x6469_6e67_6777_6179; // "dinggway"

/// Schema changes in order; `dingclaw_schema.version` counts those applied.
const MIGRATIONS: [&str; 2] = [SCHEMA_V1, SCHEMA_V2];

/// The SQLite schema at version 11, in PostgreSQL's words. Memory chunks are searched with
/// `ILIKE` (an agent's memory is small); sessions by key, transcripts by (session, seq).
const SCHEMA_V1: &str = "
CREATE TABLE sessions (
    key               TEXT PRIMARY KEY,
    session_id        TEXT NOT NULL,
    agent_id          TEXT NOT NULL,
    channel           TEXT NOT NULL,
    account           TEXT NOT NULL,
    chat              TEXT NOT NULL,
    conversation_id   TEXT NOT NULL,
    created_ms        BIGINT NOT NULL,
    updated_ms        BIGINT NOT NULL,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    settings          TEXT,
    title             TEXT
);
CREATE INDEX sessions_updated ON sessions (updated_ms DESC);
CREATE INDEX sessions_peer ON sessions (account, chat, conversation_id);
CREATE TABLE entries (
    session_id   TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    role         TEXT NOT NULL,
    content      TEXT NOT NULL,
    msg_id       TEXT,
    sender       TEXT,
    at_ms        BIGINT NOT NULL,
    tool_calls   TEXT,
    tool_call_id TEXT,
    attachments  TEXT,
    first_kept   BIGINT,
    sender_name  TEXT,
    PRIMARY KEY (session_id, seq)
);
CREATE TABLE cron_jobs (
    id   TEXT PRIMARY KEY,
    json TEXT NOT NULL
);
CREATE TABLE cron_runs (
    id        BIGSERIAL PRIMARY KEY,
    job_id    TEXT NOT NULL,
    run_at_ms BIGINT NOT NULL,
    json      TEXT NOT NULL
);
CREATE INDEX cron_runs_job ON cron_runs (job_id, run_at_ms DESC);
CREATE TABLE inbound (
    seq         BIGSERIAL PRIMARY KEY,
    account     TEXT NOT NULL,
    msg_id      TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    payload     TEXT NOT NULL,
    done        BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (account, msg_id)
);
CREATE INDEX inbound_open ON inbound (seq) WHERE NOT done;
CREATE INDEX inbound_received ON inbound (received_ms);
CREATE TABLE pairing (
    key  TEXT PRIMARY KEY,
    json TEXT NOT NULL
);
CREATE TABLE memory_files (
    agent    TEXT NOT NULL,
    path     TEXT NOT NULL,
    mtime_ms BIGINT NOT NULL,
    size     BIGINT NOT NULL,
    PRIMARY KEY (agent, path)
);
CREATE TABLE memory_chunks (
    agent      TEXT NOT NULL,
    path       TEXT NOT NULL,
    start_line BIGINT NOT NULL,
    end_line   BIGINT NOT NULL,
    text       TEXT NOT NULL
);
CREATE INDEX memory_chunks_file ON memory_chunks (agent, path);
";

/// Several gateways on one store (`dingclaw.cluster`): each journal row knows its session
/// and its place in it; instances heartbeat; a session has one lease holder at a time, with
/// an epoch raised by every take-over; each scheduled run is claimed once.
const SCHEMA_V2: &str = "
ALTER TABLE inbound ADD COLUMN session_key TEXT;
ALTER TABLE inbound ADD COLUMN session_seq BIGINT;
CREATE INDEX inbound_session_open ON inbound (session_key, session_seq) WHERE NOT done;
CREATE TABLE cluster_instances (
    id           TEXT PRIMARY KEY,
    incarnation  TEXT NOT NULL,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    info         TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE cluster_leases (
    session_key TEXT PRIMARY KEY,
    owner       TEXT,
    epoch       BIGINT NOT NULL,
    next_seq    BIGINT NOT NULL,
    taken_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX cluster_leases_owner ON cluster_leases (owner);
CREATE TABLE cron_claims (
    job_id     TEXT NOT NULL,
    due_ms     BIGINT NOT NULL,
    instance   TEXT NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (job_id, due_ms)
);
CREATE INDEX cron_claims_open ON cron_claims (instance) WHERE NOT done;
";

/// Where the store connects, without the password: for logs and errors.
pub fn describe(url: &str) -> String {
    match url.parse::<tokio_postgres::Config>() {
        Ok(c) => {
            let host = c
                .get_hosts()
                .first()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(name) => name.clone(),
                    tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                })
                .unwrap_or_else(|| "localhost".to_owned());
            let port = c.get_ports().first().copied().unwrap_or(5432);
            let db = c.get_dbname().unwrap_or("(default database)");
            format!(
                "postgres://{}@{host}:{port}/{db}",
                c.get_user().unwrap_or("?")
            )
        }
        Err(_) => "an unreadable PostgreSQL URL".to_owned(),
    }
}

/// The client settings of `url` (with our timeout and name), and where it points without
/// the password.
fn client_config(
    url: &Secret,
    application: &str,
) -> Result<(tokio_postgres::Config, String), StoreError> {
    let target = describe(url.expose());
    let mut config: tokio_postgres::Config =
        url.expose()
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Unreachable {
                target: target.clone(),
                message: format!("the URL is not valid: {e}"),
            })?;
    config.connect_timeout(CONNECT_TIMEOUT);
    config.application_name(application);
    Ok((config, target))
}

/// An error and its causes, as one line (the pool's own message leaves out why the
/// connection failed: refused, timed out, bad password).
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// The PostgreSQL store.
pub struct PostgresStore {
    pub(super) pool: Pool,
    /// Runs the connections and every query; shut down without waiting when the store goes.
    pub(super) runtime: Option<tokio::runtime::Runtime>,
    /// `describe(url)`, for errors.
    pub(super) target: String,
    /// The client settings, for the notification listener's own connection.
    pub(super) config: tokio_postgres::Config,
    /// Fenced writes refused (`WriteOp::Fenced`).
    pub(super) fenced: Arc<AtomicU64>,
    /// Connections of the cluster's heartbeats alone, so a heartbeat never waits behind the
    /// writer's batches (a late heartbeat costs an instance its sessions).
    pub(super) control: Pool,
    /// How connections are made (plain or TLS).
    pub(super) tls: Tls,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`, or key=value pairs),
    /// creates or migrates the schema, and checks the connection works. TLS when the URL says
    /// `sslmode=require`, the server checked against Mozilla's roots.
    pub fn connect(url: &Secret) -> Result<PostgresStore, StoreError> {
        Self::connect_trusting(url, None)
    }

    /// `connect`, with TLS and the server's certificate checked against the CA certificates
    /// (PEM) in `ca_file` when one is given (`dingclaw.storeCaFile`).
    pub fn connect_trusting(
        url: &Secret,
        ca_file: Option<&std::path::Path>,
    ) -> Result<PostgresStore, StoreError> {
        let (config, target) = client_config(url, "dingclaw")?;
        let tls = tls_for(&config, ca_file, &target)?;
        let unreachable = |message: String| StoreError::Unreachable {
            target: target.clone(),
            message,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("dingclaw-postgres")
            .enable_all()
            .build()
            .map_err(|e| unreachable(format!("cannot start its runtime: {e}")))?;
        let pool = |size: usize| {
            Pool::builder(manager(&config, &tls))
                .max_size(size)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .build()
                .map_err(|e| unreachable(e.to_string()))
        };
        let (pool, control) = (pool(POOL_SIZE)?, pool(1)?);
        let store = PostgresStore {
            pool,
            runtime: Some(runtime),
            target: target.clone(),
            config,
            fenced: Arc::new(AtomicU64::new(0)),
            control,
            tls,
        };
        // The first use of the pool opens a connection: a failure here is the server's
        // address or credentials, said as such.
        store
            .run(|pool| async move { migrate(&pool).await })
            .map_err(|e| match e {
                StoreError::Pool(p) => unreachable(with_causes(&p)),
                other => other,
            })?;
        Ok(store)
    }

    /// Runs `work` on the store's runtime and waits for it on this thread.
    fn run<T, F, Fut>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(Pool) -> Fut,
        Fut: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let runtime = self.runtime.as_ref().ok_or(StoreError::WriterGone)?;
        let (tx, rx) = mpsc::sync_channel(1);
        let fut = work(self.pool.clone());
        runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().map_err(|_| StoreError::Unreachable {
            target: self.target.clone(),
            message: "the store's runtime stopped".to_owned(),
        })?
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Dropping a runtime waits for its tasks, which a runtime thread may not do.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Applies the missing schema changes, one transaction each, under the migration lock.
async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS dingclaw_schema (version INTEGER NOT NULL)")
        .await?;
    let applied: i32 = tx
        .query_opt("SELECT version FROM dingclaw_schema", &[])
        .await?
        .map(|r| r.get(0))
        .unwrap_or(0);
    if applied as usize > MIGRATIONS.len() {
        return Err(StoreError::Newer {
            found: applied as i64,
            known: MIGRATIONS.len() as i64,
        });
    }
    for step in MIGRATIONS.iter().skip(applied as usize) {
        tx.batch_execute(step).await?;
    }
    tx.execute("DELETE FROM dingclaw_schema", &[]).await?;
    tx.execute(
        "INSERT INTO dingclaw_schema (version) VALUES ($1)",
        &[&(MIGRATIONS.len() as i32)],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

const META_COLUMNS: &str = "key, session_id, agent_id, channel, account, chat, conversation_id, \
     created_ms, updated_ms, prompt_tokens, completion_tokens, settings, title";

fn row_meta(r: &Row) -> SessionMeta {
    SessionMeta {
        key: r.get(0),
        session_id: r.get(1),
        agent_id: r.get(2),
        channel: r.get(3),
        account: r.get(4),
        chat: r.get(5),
        conversation_id: r.get(6),
        created_ms: r.get(7),
        updated_ms: r.get(8),
        prompt_tokens: r.get::<_, i64>(9) as u64,
        completion_tokens: r.get::<_, i64>(10) as u64,
        settings: SessionSettings::from_json(r.get::<_, Option<String>>(11).as_deref()),
        title: r.get(12),
    }
}

async fn read_transcript(
    client: &deadpool_postgres::Object,
    session_id: &str,
    max: usize,
) -> Result<Vec<TranscriptEntry>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT seq, role, content, msg_id, sender, at_ms, tool_calls, tool_call_id,
                    attachments, first_kept, sender_name
             FROM entries WHERE session_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .await?;
    let rows = client.query(&stmt, &[&session_id, &(max as i64)]).await?;
    let mut out: Vec<TranscriptEntry> = rows
        .iter()
        .map(|r| TranscriptEntry {
            seq: r.get::<_, i64>(0) as u64,
            role: Role::parse(r.get(1)),
            content: r.get(2),
            msg_id: r.get(3),
            sender: r.get(4),
            at_ms: r.get(5),
            // Written by us from the same type; a row that does not parse loses only its
            // calls, never the transcript.
            tool_calls: r
                .get::<_, Option<String>>(6)
                .and_then(|c| serde_json::from_str(&c).ok())
                .unwrap_or_default(),
            tool_call_id: r.get(7),
            attachments: r
                .get::<_, Option<String>>(8)
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default(),
            first_kept: r.get::<_, Option<i64>>(9).map(|s| s as u64),
            sender_name: r.get(10),
        })
        .collect();
    out.reverse();
    Ok(out)
}

async fn forget_memory(
    tx: &deadpool_postgres::Transaction<'_>,
    agent: &str,
    path: &str,
) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM memory_chunks WHERE agent = $1 AND path = $2",
        &[&agent, &path],
    )
    .await?;
    tx.execute(
        "DELETE FROM memory_files WHERE agent = $1 AND path = $2",
        &[&agent, &path],
    )
    .await?;
    Ok(())
}

/// The lease rows the batch's fenced writes name, share-locked in key order (every
/// transaction that locks lease rows takes them in that order, so two never wait for each
/// other in a circle): key to (owner, epoch).
async fn lock_leases(
    tx: &deadpool_postgres::Transaction<'_>,
    ops: &[WriteOp],
) -> Result<std::collections::HashMap<String, (Option<String>, i64)>, StoreError> {
    let mut keys: Vec<&str> = ops
        .iter()
        .filter_map(|op| match op {
            WriteOp::Fenced { lease, .. } => Some(&*lease.key),
            _ => None,
        })
        .collect();
    if keys.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    keys.sort_unstable();
    keys.dedup();
    let rows = tx
        .query(
            "SELECT session_key, owner, epoch FROM cluster_leases
             WHERE session_key = ANY($1) ORDER BY session_key FOR SHARE",
            &[&keys],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect())
}

/// One writer batch, in one transaction. A fenced write whose lease moved on is left out
/// and counted in `fenced`; the lease row is share-locked until the commit, so a take-over
/// cannot slip in between the check and the write.
async fn write_batch(
    pool: Pool,
    ops: Vec<WriteOp>,
    fenced: Arc<AtomicU64>,
) -> Result<(), StoreError> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let session = tx
        .prepare_cached(&format!(
            "INSERT INTO sessions ({META_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (key) DO UPDATE SET session_id = excluded.session_id,
               agent_id = excluded.agent_id, created_ms = excluded.created_ms,
               updated_ms = excluded.updated_ms, prompt_tokens = excluded.prompt_tokens,
               completion_tokens = excluded.completion_tokens, settings = excluded.settings,
               title = COALESCE(excluded.title, sessions.title)"
        ))
        .await?;
    let entry = tx
        .prepare_cached(
            "INSERT INTO entries (session_id, seq, role, content, msg_id, sender, at_ms,
                 tool_calls, tool_call_id, attachments, first_kept, sender_name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (session_id, seq) DO UPDATE SET role = excluded.role,
               content = excluded.content, msg_id = excluded.msg_id, sender = excluded.sender,
               at_ms = excluded.at_ms, tool_calls = excluded.tool_calls,
               tool_call_id = excluded.tool_call_id, attachments = excluded.attachments,
               first_kept = excluded.first_kept, sender_name = excluded.sender_name",
        )
        .await?;
    let leases = lock_leases(&tx, &ops).await?;
    let mut refused = 0;
    for op in &ops {
        let op = match op {
            WriteOp::Fenced { lease, op } => {
                let held = leases.get(&*lease.key).is_some_and(|(owner, epoch)| {
                    owner.as_deref() == Some(&*lease.owner) && *epoch == lease.epoch as i64
                });
                if !held {
                    refused += 1;
                    continue;
                }
                op.unfenced()
            }
            other => other,
        };
        match op {
            WriteOp::Fenced { .. } => {}
            WriteOp::Session(m) => {
                tx.execute(
                    &session,
                    &[
                        &m.key,
                        &m.session_id,
                        &m.agent_id,
                        &m.channel,
                        &m.account,
                        &m.chat,
                        &m.conversation_id,
                        &m.created_ms,
                        &m.updated_ms,
                        &(m.prompt_tokens as i64),
                        &(m.completion_tokens as i64),
                        &m.settings.to_json(),
                        &m.title,
                    ],
                )
                .await?;
            }
            WriteOp::Entry {
                session_id,
                entry: e,
            } => {
                let (calls, attachments) = e.stored_json();
                tx.execute(
                    &entry,
                    &[
                        session_id,
                        &(e.seq as i64),
                        &e.role.as_str(),
                        &e.content,
                        &e.msg_id,
                        &e.sender,
                        &e.at_ms,
                        &calls,
                        &e.tool_call_id,
                        &attachments,
                        &e.first_kept.map(|s| s as i64),
                        &e.sender_name,
                    ],
                )
                .await?;
            }
            WriteOp::Job { id, json } => {
                tx.execute(
                    "INSERT INTO cron_jobs (id, json) VALUES ($1, $2)
                     ON CONFLICT (id) DO UPDATE SET json = excluded.json",
                    &[id, json],
                )
                .await?;
            }
            WriteOp::Pairing { key, json } => {
                tx.execute(
                    "INSERT INTO pairing (key, json) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET json = excluded.json",
                    &[key, json],
                )
                .await?;
            }
            WriteOp::DeleteJob { id } => {
                tx.execute("DELETE FROM cron_jobs WHERE id = $1", &[id])
                    .await?;
                tx.execute("DELETE FROM cron_runs WHERE job_id = $1", &[id])
                    .await?;
            }
            WriteOp::Run {
                job_id,
                run_at_ms,
                json,
                keep,
            } => {
                tx.execute(
                    "INSERT INTO cron_runs (job_id, run_at_ms, json) VALUES ($1, $2, $3)",
                    &[job_id, run_at_ms, json],
                )
                .await?;
                tx.execute(
                    "DELETE FROM cron_runs WHERE job_id = $1 AND id NOT IN
                       (SELECT id FROM cron_runs WHERE job_id = $1
                        ORDER BY run_at_ms DESC, id DESC LIMIT $2)",
                    &[job_id, &i64::from(*keep)],
                )
                .await?;
            }
            WriteOp::Inbound(e) => {
                tx.execute(
                    "INSERT INTO inbound (account, msg_id, received_ms, payload)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (account, msg_id) DO NOTHING",
                    &[&e.account, &e.msg_id, &e.received_ms, &&*e.payload],
                )
                .await?;
            }
            WriteOp::InboundDone { account, msg_id } => {
                tx.execute(
                    // Only open rows are replayed; a done row keeps its id, not its frame.
                    "UPDATE inbound SET done = TRUE, payload = '' WHERE account = $1 AND msg_id = $2",
                    &[account, msg_id],
                )
                .await?;
            }
            WriteOp::PruneInbound { done_before_ms } => {
                tx.execute(
                    "DELETE FROM inbound WHERE done AND received_ms < $1",
                    &[done_before_ms],
                )
                .await?;
            }
            WriteOp::MemoryFile {
                agent,
                file,
                chunks,
            } => {
                forget_memory(&tx, agent, &file.path).await?;
                tx.execute(
                    "INSERT INTO memory_files (agent, path, mtime_ms, size) VALUES ($1, $2, $3, $4)",
                    &[agent, &file.path, &file.mtime_ms, &(file.size as i64)],
                )
                .await?;
                let insert = tx
                    .prepare_cached(
                        "INSERT INTO memory_chunks (agent, path, start_line, end_line, text)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .await?;
                for c in chunks {
                    tx.execute(
                        &insert,
                        &[
                            agent,
                            &file.path,
                            &i64::from(c.start_line),
                            &i64::from(c.end_line),
                            &c.text,
                        ],
                    )
                    .await?;
                }
            }
            WriteOp::MemoryForget { agent, path } => forget_memory(&tx, agent, path).await?,
        }
    }
    tx.commit().await?;
    if refused > 0 {
        fenced.fetch_add(refused, Ordering::Relaxed);
        tracing::warn!(
            writes = refused,
            "refused writes of sessions another instance has taken over (fenced)"
        );
    }
    Ok(())
}

impl Store for PostgresStore {
    fn write(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let ops = ops.to_vec();
        let fenced = Arc::clone(&self.fenced);
        self.run(move |pool| write_batch(pool, ops, fenced))
    }

    fn load_session(
        &self,
        key: &str,
        max_entries: usize,
    ) -> Result<Option<StoredSession>, StoreError> {
        let key = key.to_owned();
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let stmt = client
                .prepare_cached(&format!(
                    "SELECT {META_COLUMNS} FROM sessions WHERE key = $1"
                ))
                .await?;
            let Some(row) = client.query_opt(&stmt, &[&key]).await? else {
                return Ok(None);
            };
            let meta = row_meta(&row);
            let entries = read_transcript(&client, &meta.session_id, max_entries).await?;
            Ok(Some(StoredSession { meta, entries }))
        })
    }

    fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionMeta>, StoreError> {
        let filter = filter.clone();
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let rows = client
                .query(
                    &format!(
                        "SELECT {META_COLUMNS} FROM sessions
                         WHERE ($1::TEXT IS NULL OR agent_id = $1)
                           AND ($2::TEXT IS NULL OR account = $2)
                         ORDER BY updated_ms DESC, key LIMIT $3"
                    ),
                    &[
                        &filter.agent_id,
                        &filter.account,
                        &(filter.limit.max(1) as i64),
                    ],
                )
                .await?;
            Ok(rows.iter().map(row_meta).collect())
        })
    }

    fn knows_peer(&self, account: &str, group: bool, id: &str) -> Result<bool, StoreError> {
        let (account, id) = (account.to_owned(), id.to_owned());
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let sql = if group {
                "SELECT 1 FROM sessions WHERE account = $1 AND chat = 'group'
                   AND conversation_id = $2 LIMIT 1"
            } else {
                "SELECT 1 FROM sessions WHERE account = $1 AND chat = 'direct'
                   AND right(key, length($2) + 1) = ':' || $2 LIMIT 1"
            };
            Ok(client.query_opt(sql, &[&account, &id]).await?.is_some())
        })
    }

    fn transcript(
        &self,
        session_id: &str,
        max_entries: usize,
    ) -> Result<Vec<TranscriptEntry>, StoreError> {
        let session_id = session_id.to_owned();
        self.run(move |pool| async move {
            let client = pool.get().await?;
            read_transcript(&client, &session_id, max_entries).await
        })
    }

    fn jobs(&self) -> Result<Vec<String>, StoreError> {
        self.strings("SELECT json FROM cron_jobs ORDER BY id")
    }

    fn pairings(&self) -> Result<Vec<String>, StoreError> {
        self.strings("SELECT json FROM pairing ORDER BY key")
    }

    fn runs(&self, job_id: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let job_id = job_id.to_owned();
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let rows = client
                .query(
                    "SELECT json FROM cron_runs WHERE job_id = $1
                     ORDER BY run_at_ms DESC, id DESC LIMIT $2",
                    &[&job_id, &(limit as i64)],
                )
                .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn open_inbound(&self) -> Result<Vec<JournalEntry>, StoreError> {
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let rows = client
                .query(
                    "SELECT seq, account, msg_id, received_ms, payload FROM inbound
                     WHERE NOT done ORDER BY seq",
                    &[],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| JournalEntry {
                    seq: r.get::<_, i64>(0) as u64,
                    account: r.get(1),
                    msg_id: r.get(2),
                    received_ms: r.get(3),
                    payload: r.get::<_, String>(4).into(),
                })
                .collect())
        })
    }

    fn inbound_ids(&self, since_ms: i64) -> Result<Vec<JournalId>, StoreError> {
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let rows = client
                .query(
                    "SELECT account, msg_id, received_ms FROM inbound
                     WHERE received_ms >= $1 OR NOT done ORDER BY seq",
                    &[&since_ms],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| JournalId {
                    account: r.get(0),
                    msg_id: r.get(1),
                    received_ms: r.get(2),
                })
                .collect())
        })
    }

    fn memory_files(&self, agent: &str) -> Result<Vec<MemoryFile>, StoreError> {
        let agent = agent.to_owned();
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let rows = client
                .query(
                    "SELECT path, mtime_ms, size FROM memory_files WHERE agent = $1 ORDER BY path",
                    &[&agent],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| MemoryFile {
                    path: r.get(0),
                    mtime_ms: r.get(1),
                    size: r.get::<_, i64>(2) as u64,
                })
                .collect())
        })
    }

    /// Each term is an `ILIKE '%term%'`: an agent's memory is small enough to scan, and
    /// `ILIKE` folds case beyond ASCII, which the ranking re-checks anyway.
    fn memory_candidates(
        &self,
        agent: &str,
        terms: &[String],
        limit: usize,
    ) -> Result<Vec<MemoryCandidate>, StoreError> {
        let patterns = super::like_patterns(terms, MAX_TERMS);
        if patterns.is_empty() {
            return Ok(Vec::new());
        }
        let agent = agent.to_owned();
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let rows = client
                .query(
                    "SELECT path, start_line, end_line, text FROM memory_chunks
                     WHERE agent = $1 AND text ILIKE ANY($2) LIMIT $3",
                    &[&agent, &patterns, &(limit as i64)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| MemoryCandidate {
                    path: r.get(0),
                    start_line: r.get::<_, i64>(1) as u32,
                    end_line: r.get::<_, i64>(2) as u32,
                    text: r.get(3),
                })
                .collect())
        })
    }

    fn cluster(&self) -> Option<&dyn super::ClusterStore> {
        Some(self)
    }
}

impl PostgresStore {
    /// The first column of every row of `sql`, as text.
    fn strings(&self, sql: &'static str) -> Result<Vec<String>, StoreError> {
        self.run(move |pool| async move {
            let client = pool.get().await?;
            let rows = client.query(sql, &[]).await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }
}

/// One gateway per PostgreSQL store unless they run as a cluster: a lone gateway holds the
/// advisory lock exclusively (a second one would answer the messages DingTalk hands it from
/// a split history), every gateway of a cluster holds it shared, so a lone one and a
/// cluster never run on one store together. A session-level lock, held on a connection of
/// its own for as long as this value lives; the server releases it if the process dies.
pub struct PostgresGatewayLock {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PostgresGatewayLock {
    /// Takes the lock alone, or says that another gateway holds it. `ca_file`: as for
    /// `PostgresStore::connect_trusting`.
    pub fn acquire(
        url: &Secret,
        ca_file: Option<&std::path::Path>,
    ) -> Result<PostgresGatewayLock, StoreError> {
        Self::take(url, ca_file, false)
    }

    /// Takes the lock with the other gateways of a cluster, or says that a lone gateway
    /// holds it.
    pub fn acquire_shared(
        url: &Secret,
        ca_file: Option<&std::path::Path>,
    ) -> Result<PostgresGatewayLock, StoreError> {
        Self::take(url, ca_file, true)
    }

    fn take(
        url: &Secret,
        ca_file: Option<&std::path::Path>,
        shared: bool,
    ) -> Result<PostgresGatewayLock, StoreError> {
        let (config, target) = client_config(url, "dingclaw gateway lock")?;
        let tls = tls_for(&config, ca_file, &target)?;
        let unreachable = |message: String| StoreError::Unreachable {
            target: target.clone(),
            message,
        };
        let (taken_tx, taken_rx) = mpsc::sync_channel::<Result<bool, String>>(1);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("dingclaw-pg-lock".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = taken_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let (client, connection) = match connect_one(&config, &tls, None).await {
                        Ok(c) => c,
                        Err(e) => {
                            let _ = taken_tx.send(Err(with_causes(&e)));
                            return;
                        }
                    };
                    let sql = if shared {
                        "SELECT pg_try_advisory_lock_shared($1)"
                    } else {
                        "SELECT pg_try_advisory_lock($1)"
                    };
                    let taken = client
                        .query_one(sql, &[&GATEWAY_LOCK])
                        .await
                        .map(|r| r.get::<_, bool>(0))
                        .map_err(|e| e.to_string());
                    let holding = matches!(taken, Ok(true));
                    let _ = taken_tx.send(taken);
                    if holding {
                        // Held until the gateway drops the lock (or the process ends).
                        let _ = stopped.await;
                    }
                    drop(client);
                    let _ = connection.await;
                });
            })
            .map_err(|e| unreachable(e.to_string()))?;
        let lock = PostgresGatewayLock {
            stop: Some(stop),
            thread: Some(thread),
        };
        match taken_rx.recv() {
            Ok(Ok(true)) => Ok(lock),
            Ok(Ok(false)) => Err(StoreError::InUse { target, shared }),
            Ok(Err(message)) => Err(unreachable(message)),
            Err(_) => Err(unreachable("the lock's thread stopped".to_owned())),
        }
    }
}

impl Drop for PostgresGatewayLock {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
