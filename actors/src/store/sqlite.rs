//! The embedded store: SQLite in WAL mode (rusqlite, bundled).
//!
//! Durability: WAL with `synchronous = NORMAL` by default. A committed batch survives the
//! process being killed; a power loss can lose the last batches, never corrupt the file
//! (sqlite.org/wal.html). `Durability::Power` (`synchronous = FULL`) fsyncs every commit. One connection writes (the writer actor's thread), another reads.

use crate::config::Durability;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::checkpoint::{BACKSTOP_PAGES, CHECKPOINT_DELAY, Checkpointer};

use super::{
    JournalEntry, JournalId, MemoryCandidate, MemoryFile, Role, SessionFilter, SessionMeta,
    SessionSettings, Store, StoreError, StoredSession, TranscriptEntry, WriteOp,
};

/// The schema version this dingclaw writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: usize = 12;

/// Schema changes in order; `PRAGMA user_version` counts those applied. The first is written
/// with `IF NOT EXISTS` because files from before versioning have its tables but version 0.
const MIGRATIONS: [&str; SCHEMA_VERSION] = [
    SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7, SCHEMA_V8,
    SCHEMA_V9, SCHEMA_V10, SCHEMA_V11, SCHEMA_V12,
];

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    key             TEXT PRIMARY KEY,
    session_id      TEXT NOT NULL,
    agent_id        TEXT NOT NULL,
    channel         TEXT NOT NULL,
    account         TEXT NOT NULL,
    chat            TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated_ms DESC);
CREATE TABLE IF NOT EXISTS entries (
    session_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    role       TEXT NOT NULL,
    content    TEXT NOT NULL,
    msg_id     TEXT,
    sender     TEXT,
    at_ms      INTEGER NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
";

/// Token counts per session.
const SCHEMA_V2: &str = "
ALTER TABLE sessions ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
";

/// Scheduled jobs and their run logs.
const SCHEMA_V3: &str = "
CREATE TABLE cron_jobs (
    id   TEXT PRIMARY KEY,
    json TEXT NOT NULL
);
CREATE TABLE cron_runs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id    TEXT NOT NULL,
    run_at_ms INTEGER NOT NULL,
    json      TEXT NOT NULL
);
CREATE INDEX cron_runs_job ON cron_runs (job_id, run_at_ms DESC);
";

/// The inbound journal (`journal.rs`). `seq` is the arrival order; open rows (done = 0) are
/// found through a partial index that stays as small as the backlog.
const SCHEMA_V4: &str = "
CREATE TABLE inbound (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    account     TEXT NOT NULL,
    msg_id      TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, msg_id)
);
CREATE INDEX inbound_open ON inbound (seq) WHERE done = 0;
CREATE INDEX inbound_received ON inbound (received_ms);
";

/// The journal with fewer pages written per message: every page an insert or a done mark
/// touches is written whole to the WAL at the next commit, and at a low message rate each
/// message is its own commit. `AUTOINCREMENT` wrote `sqlite_sequence` on every insert (a
/// plain integer key already grows with arrivals: a new row takes the largest key plus one)
/// and the index of open rows was written twice per message to serve one query at start,
/// which a scan of the table answers in the same order.
const SCHEMA_V12: &str = "
CREATE TABLE inbound_v12 (
    seq         INTEGER PRIMARY KEY,
    account     TEXT NOT NULL,
    msg_id      TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    payload     TEXT NOT NULL,
    done        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, msg_id)
);
INSERT INTO inbound_v12 (seq, account, msg_id, received_ms, payload, done)
    SELECT seq, account, msg_id, received_ms, CASE WHEN done = 0 THEN payload ELSE '' END, done
    FROM inbound ORDER BY seq;
DROP TABLE inbound;
ALTER TABLE inbound_v12 RENAME TO inbound;
CREATE INDEX inbound_received ON inbound (received_ms);
";

/// `dmPolicy: "pairing"`: requests and approvals.
const SCHEMA_V10: &str = "
CREATE TABLE pairing (
    key  TEXT PRIMARY KEY,
    json TEXT NOT NULL
);
";

/// Senders' display names.
const SCHEMA_V9: &str = "
ALTER TABLE entries ADD COLUMN sender_name TEXT;
";

/// What people call a conversation (a group's name, a person's nick), for operators.
const SCHEMA_V11: &str = "
ALTER TABLE sessions ADD COLUMN title TEXT;
";

/// Where a compaction's summary ends.
const SCHEMA_V8: &str = "
ALTER TABLE entries ADD COLUMN first_kept INTEGER;
";

/// What a session's people set from the chat (JSON, `SessionSettings`).
const SCHEMA_V7: &str = "
ALTER TABLE sessions ADD COLUMN settings TEXT;
";

/// The files of user messages (JSON, `media::Attachment`).
const SCHEMA_V6: &str = "
ALTER TABLE entries ADD COLUMN attachments TEXT;
";

/// Tool calls in transcripts (`tool_calls` is the assistant's calls as JSON), and the memory
/// index: the files indexed per agent, and their chunks in an FTS5 table whose trigram
/// tokenizer matches any substring of three characters or more, so Chinese text (no spaces
/// between words) is searchable.
const SCHEMA_V5: &str = "
ALTER TABLE entries ADD COLUMN tool_calls TEXT;
ALTER TABLE entries ADD COLUMN tool_call_id TEXT;
CREATE TABLE memory_files (
    agent    TEXT NOT NULL,
    path     TEXT NOT NULL,
    mtime_ms INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    PRIMARY KEY (agent, path)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE memory_chunks USING fts5 (
    agent UNINDEXED,
    path UNINDEXED,
    start_line UNINDEXED,
    end_line UNINDEXED,
    text,
    tokenize = 'trigram'
);
";

/// Brings the file's schema up to date, one transaction per step.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let applied: usize =
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// SQLite file store.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
    /// Checkpoints the WAL off the writer's thread.
    checkpointer: Checkpointer,
}

/// The writer's page cache. SQLite's default is 2 MB; with a busy transcript table every
/// append then reads index pages back from the OS (`pread` was a top entry in the load
/// benchmark's profile). 32 MB keeps the hot part of the indexes in memory.
const WRITER_CACHE_KIB: i64 = 32_768;

/// The reader's page cache. A connection in WAL mode empties its cache whenever it starts a
/// read after another connection committed, which under load is every read: a large cache
/// here only holds memory (and is scanned on each emptying).
const READER_CACHE_KIB: i64 = 2_048;

/// The checkpoint connection's page cache: a checkpoint copies pages from the log to the
/// file without keeping them.
const CHECKPOINT_CACHE_KIB: i64 = 256;

fn open_connection(
    path: &Path,
    durability: Durability,
    cache_kib: i64,
) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|source| StoreError::Open {
        path: path.display().to_string(),
        source,
    })?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    let sync = match durability {
        Durability::Process => "NORMAL",
        Durability::Power => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    // Checkpoints run on a thread of their own (`checkpoint.rs`); the writer's automatic one
    // is a backstop for when that thread falls behind.
    conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Terms of one memory search sent to SQLite.
const MAX_TERMS: usize = 32;

fn forget_memory(
    tx: &rusqlite::Transaction<'_>,
    agent: &str,
    path: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached("DELETE FROM memory_chunks WHERE agent = ?1 AND path = ?2")?
        .execute(params![agent, path])?;
    tx.prepare_cached("DELETE FROM memory_files WHERE agent = ?1 AND path = ?2")?
        .execute(params![agent, path])?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, and its folder.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::open_with(path, Durability::default())
    }

    /// Opens with the given durability of commits.
    pub fn open_with(path: &Path, durability: Durability) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent() {
            crate::config::create_private_dir(dir).map_err(|source| StoreError::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut writer = open_connection(path, durability, WRITER_CACHE_KIB)?;
        migrate(&mut writer)?;
        let reader = open_connection(path, durability, READER_CACHE_KIB)?;
        let checkpoints = open_connection(path, durability, CHECKPOINT_CACHE_KIB)?;
        let checkpointer =
            Checkpointer::start(checkpoints, CHECKPOINT_DELAY).map_err(|source| {
                StoreError::Io {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
            checkpointer,
        })
    }
}

fn row_meta(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionMeta> {
    Ok(SessionMeta {
        key: r.get(0)?,
        session_id: r.get(1)?,
        agent_id: r.get(2)?,
        channel: r.get(3)?,
        account: r.get(4)?,
        chat: r.get(5)?,
        conversation_id: r.get(6)?,
        created_ms: r.get(7)?,
        updated_ms: r.get(8)?,
        prompt_tokens: r.get::<_, i64>(9)? as u64,
        completion_tokens: r.get::<_, i64>(10)? as u64,
        settings: SessionSettings::from_json(r.get::<_, Option<String>>(11)?.as_deref()),
        title: r.get(12)?,
    })
}

const META_COLUMNS: &str = "key, session_id, agent_id, channel, account, chat, conversation_id, \
     created_ms, updated_ms, prompt_tokens, completion_tokens, settings, title";

fn read_transcript(
    conn: &Connection,
    session_id: &str,
    max: usize,
) -> Result<Vec<TranscriptEntry>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, role, content, msg_id, sender, at_ms, tool_calls, tool_call_id, attachments,
                first_kept, sender_name FROM entries
         WHERE session_id = ?1 ORDER BY seq DESC LIMIT ?2",
    )?;
    let mut out: Vec<TranscriptEntry> = stmt
        .query_map(params![session_id, max as i64], |r| {
            let calls: Option<String> = r.get(6)?;
            Ok(TranscriptEntry {
                seq: r.get::<_, i64>(0)? as u64,
                role: Role::parse(&r.get::<_, String>(1)?),
                content: r.get(2)?,
                msg_id: r.get(3)?,
                sender: r.get(4)?,
                at_ms: r.get(5)?,
                // Written by us from the same type; a row that does not parse loses only
                // its calls, never the transcript.
                tool_calls: calls
                    .and_then(|c| serde_json::from_str(&c).ok())
                    .unwrap_or_default(),
                tool_call_id: r.get(7)?,
                attachments: r
                    .get::<_, Option<String>>(8)?
                    .and_then(|a| serde_json::from_str(&a).ok())
                    .unwrap_or_default(),
                first_kept: r.get::<_, Option<i64>>(9)?.map(|s| s as u64),
                sender_name: r.get(10)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    out.reverse();
    Ok(out)
}

impl Store for SqliteStore {
    fn release_memory(&self) {
        for conn in [&self.writer, &self.reader] {
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = conn.execute_batch("PRAGMA shrink_memory") {
                tracing::debug!(error = %e, "store: shrinking the page cache failed");
            }
        }
    }

    fn write(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction()?;
        {
            let mut session = tx.prepare_cached(&format!(
                "INSERT INTO sessions ({META_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 ON CONFLICT(key) DO UPDATE SET session_id = excluded.session_id,
                   agent_id = excluded.agent_id, created_ms = excluded.created_ms,
                   updated_ms = excluded.updated_ms, prompt_tokens = excluded.prompt_tokens,
                   completion_tokens = excluded.completion_tokens, settings = excluded.settings,
                   title = COALESCE(excluded.title, sessions.title)"
            ))?;
            let mut entry = tx.prepare_cached(
                "INSERT OR REPLACE INTO entries
                   (session_id, seq, role, content, msg_id, sender, at_ms, tool_calls, tool_call_id,
                    attachments, first_kept, sender_name)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for op in ops {
                match op.unfenced() {
                    WriteOp::Session(m) => {
                        session.execute(params![
                            m.key,
                            m.session_id,
                            m.agent_id,
                            m.channel,
                            m.account,
                            m.chat,
                            m.conversation_id,
                            m.created_ms,
                            m.updated_ms,
                            m.prompt_tokens as i64,
                            m.completion_tokens as i64,
                            m.settings.to_json(),
                            m.title
                        ])?;
                    }
                    WriteOp::Entry {
                        session_id,
                        entry: e,
                    } => {
                        let (calls, attachments) = e.stored_json();
                        entry.execute(params![
                            session_id,
                            e.seq as i64,
                            e.role.as_str(),
                            e.content,
                            e.msg_id,
                            e.sender,
                            e.at_ms,
                            calls,
                            e.tool_call_id,
                            attachments,
                            e.first_kept.map(|s| s as i64),
                            e.sender_name
                        ])?;
                    }
                    WriteOp::Job { id, json } => {
                        tx.prepare_cached(
                            "INSERT OR REPLACE INTO cron_jobs (id, json) VALUES (?1, ?2)",
                        )?
                        .execute(params![id, json])?;
                    }
                    WriteOp::Pairing { key, json } => {
                        tx.prepare_cached(
                            "INSERT OR REPLACE INTO pairing (key, json) VALUES (?1, ?2)",
                        )?
                        .execute(params![key, json])?;
                    }
                    WriteOp::DeleteJob { id } => {
                        tx.prepare_cached("DELETE FROM cron_jobs WHERE id = ?1")?
                            .execute(params![id])?;
                        tx.prepare_cached("DELETE FROM cron_runs WHERE job_id = ?1")?
                            .execute(params![id])?;
                    }
                    WriteOp::Run {
                        job_id,
                        run_at_ms,
                        json,
                        keep,
                    } => {
                        tx.prepare_cached(
                            "INSERT INTO cron_runs (job_id, run_at_ms, json) VALUES (?1, ?2, ?3)",
                        )?
                        .execute(params![job_id, run_at_ms, json])?;
                        tx.prepare_cached(
                            "DELETE FROM cron_runs WHERE job_id = ?1 AND id NOT IN
                               (SELECT id FROM cron_runs WHERE job_id = ?1
                                ORDER BY run_at_ms DESC, id DESC LIMIT ?2)",
                        )?
                        .execute(params![job_id, *keep as i64])?;
                    }
                    WriteOp::Inbound(e) => {
                        tx.prepare_cached(
                            "INSERT OR IGNORE INTO inbound (account, msg_id, received_ms, payload)
                             VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![
                            e.account,
                            e.msg_id,
                            e.received_ms,
                            &*e.payload
                        ])?;
                    }
                    WriteOp::InboundDone { account, msg_id } => {
                        tx.prepare_cached(
                            // The frame is dropped with the mark: only open rows are replayed,
                            // and a done row that keeps ids only packs a page a hundred times
                            // fuller, so the table the hot path writes stays small.
                            "UPDATE inbound SET done = 1, payload = '' WHERE account = ?1 AND msg_id = ?2",
                        )?
                        .execute(params![account, msg_id])?;
                    }
                    WriteOp::PruneInbound { done_before_ms } => {
                        tx.prepare_cached(
                            "DELETE FROM inbound WHERE done = 1 AND received_ms < ?1",
                        )?
                        .execute(params![done_before_ms])?;
                    }
                    WriteOp::MemoryFile {
                        agent,
                        file,
                        chunks,
                    } => {
                        forget_memory(&tx, agent, &file.path)?;
                        tx.prepare_cached(
                            "INSERT INTO memory_files (agent, path, mtime_ms, size)
                             VALUES (?1, ?2, ?3, ?4)",
                        )?
                        .execute(params![
                            agent,
                            file.path,
                            file.mtime_ms,
                            file.size as i64
                        ])?;
                        let mut insert = tx.prepare_cached(
                            "INSERT INTO memory_chunks (agent, path, start_line, end_line, text)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?;
                        for c in chunks {
                            insert.execute(params![
                                agent,
                                file.path,
                                c.start_line,
                                c.end_line,
                                c.text
                            ])?;
                        }
                    }
                    WriteOp::MemoryForget { agent, path } => forget_memory(&tx, agent, path)?,
                    // `unfenced` took the fence off; one store alone has no other holder.
                    WriteOp::Fenced { .. } => {}
                }
            }
        }
        tx.commit()?;
        self.checkpointer.committed();
        Ok(())
    }

    fn memory_files(&self, agent: &str) -> Result<Vec<MemoryFile>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare_cached(
            "SELECT path, mtime_ms, size FROM memory_files WHERE agent = ?1 ORDER BY path",
        )?;
        let rows = stmt
            .query_map(params![agent], |r| {
                Ok(MemoryFile {
                    path: r.get(0)?,
                    mtime_ms: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Each term is a `LIKE '%term%'` on the FTS5 table: the trigram tokenizer answers
    /// patterns of three characters or more from its index, and shorter ones (a two-character
    /// Chinese word) by scanning the agent's chunks, which are few.
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
        let likes: Vec<String> = (0..patterns.len())
            .map(|i| format!("text LIKE ?{}", i + 3))
            .collect();
        let sql = format!(
            "SELECT path, start_line, end_line, text FROM memory_chunks
             WHERE agent = ?1 AND ({}) LIMIT ?2",
            likes.join(" OR ")
        );
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare(&sql)?;
        let mut values: Vec<rusqlite::types::Value> =
            vec![agent.to_owned().into(), (limit as i64).into()];
        values.extend(patterns.into_iter().map(Into::into));
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |r| {
                Ok(MemoryCandidate {
                    path: r.get(0)?,
                    start_line: r.get(1)?,
                    end_line: r.get(2)?,
                    text: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        // SQLite's LIKE folds ASCII case only; the ranking re-checks each term anyway.
        Ok(rows)
    }

    fn load_session(
        &self,
        key: &str,
        max_entries: usize,
    ) -> Result<Option<StoredSession>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let meta = conn
            .prepare_cached(&format!(
                "SELECT {META_COLUMNS} FROM sessions WHERE key = ?1"
            ))?
            .query_row(params![key], row_meta)
            .optional()?;
        let Some(meta) = meta else { return Ok(None) };
        let entries = read_transcript(&conn, &meta.session_id, max_entries)?;
        Ok(Some(StoredSession { meta, entries }))
    }

    fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionMeta>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {META_COLUMNS} FROM sessions
             WHERE (?1 IS NULL OR agent_id = ?1) AND (?2 IS NULL OR account = ?2)
             ORDER BY updated_ms DESC, key LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(
                params![filter.agent_id, filter.account, filter.limit.max(1) as i64],
                row_meta,
            )?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn transcript(
        &self,
        session_id: &str,
        max_entries: usize,
    ) -> Result<Vec<TranscriptEntry>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        read_transcript(&conn, session_id, max_entries)
    }

    fn knows_peer(&self, account: &str, group: bool, id: &str) -> Result<bool, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = if group {
            conn.prepare_cached(
                "SELECT 1 FROM sessions WHERE account = ?1 AND chat = 'group' AND conversation_id = ?2 LIMIT 1",
            )?
        } else {
            conn.prepare_cached(
                "SELECT 1 FROM sessions WHERE account = ?1 AND chat = 'direct' AND substr(key, -length(?2) - 1) = ':' || ?2 LIMIT 1",
            )?
        };
        Ok(stmt.exists(params![account, id])?)
    }

    fn jobs(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare_cached("SELECT json FROM cron_jobs")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(rows)
    }

    fn pairings(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare_cached("SELECT json FROM pairing")?;
        let rows = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(rows)
    }

    fn runs(&self, job_id: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare_cached(
            "SELECT json FROM cron_runs WHERE job_id = ?1 ORDER BY run_at_ms DESC, id DESC LIMIT ?2",
        )?;
        let rows = stmt
            .query_map(params![job_id, limit as i64], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(rows)
    }

    fn open_inbound(&self) -> Result<Vec<JournalEntry>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare_cached(
            "SELECT seq, account, msg_id, received_ms, payload FROM inbound
             WHERE done = 0 ORDER BY seq",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok(JournalEntry {
                    seq: r.get::<_, i64>(0)? as u64,
                    account: r.get(1)?,
                    msg_id: r.get(2)?,
                    received_ms: r.get(3)?,
                    payload: r.get::<_, String>(4)?.into(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    fn inbound_ids(&self, since_ms: i64) -> Result<Vec<JournalId>, StoreError> {
        let conn = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let mut stmt = conn.prepare_cached(
            "SELECT account, msg_id, received_ms FROM inbound
             WHERE received_ms >= ?1 OR done = 0 ORDER BY seq",
        )?;
        let rows = stmt
            .query_map(params![since_ms], |r| {
                Ok(JournalId {
                    account: r.get(0)?,
                    msg_id: r.get(1)?,
                    received_ms: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file written before token counts existed (schema 1, `user_version` 0) opens, keeps
    /// its sessions, and gains the token columns.
    #[test]
    fn an_older_file_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(SCHEMA_V1).unwrap();
            conn.execute(
                "INSERT INTO sessions VALUES ('k', 's', 'a', 'dingtalk-connector', 'bot1', 'direct', 'cid', 1, 2)",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let old = store.load_session("k", 10).unwrap().unwrap().meta;
        assert_eq!((old.session_id.as_str(), old.prompt_tokens), ("s", 0));
        store
            .write(&[WriteOp::Session(SessionMeta {
                prompt_tokens: 120,
                completion_tokens: 30,
                updated_ms: 3,
                ..old
            })])
            .unwrap();
        drop(store);
        let store = SqliteStore::open(&path).unwrap();
        let meta = store.load_session("k", 10).unwrap().unwrap().meta;
        assert_eq!((meta.prompt_tokens, meta.completion_tokens), (120, 30));
        let version: i64 = store
            .reader
            .lock()
            .unwrap()
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    /// Commits reach the database file by a checkpoint that the writer does not run: the
    /// file alone, copied without its log, holds the row soon after the commit.
    #[test]
    fn the_log_is_checkpointed_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sqlite");
        let store = SqliteStore::open(&path).unwrap();
        store
            .write(&[WriteOp::Inbound(JournalEntry {
                seq: 0,
                account: "bot1".into(),
                msg_id: "m1".into(),
                received_ms: 5,
                payload: "{}".into(),
            })])
            .unwrap();
        let deadline = std::time::Instant::now() + CHECKPOINT_DELAY * 10;
        while store.checkpointer.completed() == 0 {
            assert!(std::time::Instant::now() < deadline, "no checkpoint ran");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let copy = dir.path().join("copy.sqlite");
        std::fs::copy(&path, &copy).unwrap();
        let conn = Connection::open(&copy).unwrap();
        let rows: i64 = conn
            .query_row("SELECT count(*) FROM inbound", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 1);
        // Idle: no commit since, so the thread stays asleep.
        std::thread::sleep(CHECKPOINT_DELAY + std::time::Duration::from_millis(200));
        assert_eq!(store.checkpointer.completed(), 1);
    }

    /// A done mark drops the frame: the journal's hot table keeps ids, not whole messages.
    #[test]
    fn a_done_journal_row_keeps_its_id_without_its_frame() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("j.sqlite")).unwrap();
        let frame: std::sync::Arc<str> = format!("{{\"text\":\"{}\"}}", "x".repeat(900)).into();
        let row = |msg: &str| {
            WriteOp::Inbound(JournalEntry {
                seq: 0,
                account: "bot1".into(),
                msg_id: msg.into(),
                received_ms: 5,
                payload: std::sync::Arc::clone(&frame),
            })
        };
        store.write(&[row("m1"), row("m2")]).unwrap();
        store
            .write(&[WriteOp::InboundDone {
                account: "bot1".into(),
                msg_id: "m1".into(),
            }])
            .unwrap();
        let lengths: Vec<(String, i64)> = {
            let conn = store.reader.lock().unwrap();
            let mut q = conn
                .prepare("SELECT msg_id, length(payload) FROM inbound ORDER BY seq")
                .unwrap();
            q.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(
            lengths,
            vec![("m1".to_owned(), 0), ("m2".to_owned(), frame.len() as i64)]
        );
        let open = store.open_inbound().unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].payload, frame, "an open row keeps its frame whole");
        let ids: Vec<String> = store
            .inbound_ids(0)
            .unwrap()
            .into_iter()
            .map(|i| i.msg_id)
            .collect();
        assert_eq!(
            ids,
            ["m1", "m2"],
            "a done row still seeds the duplicate filter"
        );
    }

    /// A journal written by schema 11 (AUTOINCREMENT, the open-rows index) keeps its open
    /// rows, their frames and order, and new rows still come after them.
    #[test]
    fn the_journal_of_schema_11_is_rebuilt_with_its_open_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v11.sqlite");
        {
            let mut conn = Connection::open(&path).unwrap();
            for step in &MIGRATIONS[..11] {
                conn.execute_batch(step).unwrap();
            }
            conn.pragma_update(None, "user_version", 11).unwrap();
            let tx = conn.transaction().unwrap();
            for (msg, done) in [("m1", 1), ("m2", 0), ("m3", 0)] {
                tx.execute(
                    "INSERT INTO inbound (account, msg_id, received_ms, payload, done) VALUES ('bot1', ?1, 7, ?2, ?3)",
                    params![msg, format!("{{\"msgId\":\"{msg}\"}}"), done],
                )
                .unwrap();
            }
            tx.commit().unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let open: Vec<(u64, String, String)> = store
            .open_inbound()
            .unwrap()
            .into_iter()
            .map(|e| (e.seq, e.msg_id, e.payload.to_string()))
            .collect();
        assert_eq!(
            open,
            vec![
                (2, "m2".to_owned(), "{\"msgId\":\"m2\"}".to_owned()),
                (3, "m3".to_owned(), "{\"msgId\":\"m3\"}".to_owned())
            ]
        );
        store
            .write(&[WriteOp::Inbound(JournalEntry {
                seq: 0,
                account: "bot1".into(),
                msg_id: "m4".into(),
                received_ms: 8,
                payload: "{}".into(),
            })])
            .unwrap();
        let seqs: Vec<u64> = store
            .open_inbound()
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [2, 3, 4]);
        let sql: String = store
            .reader
            .lock()
            .unwrap()
            .query_row(
                "SELECT group_concat(name || ':' || coalesce(sql, ''), '; ') FROM sqlite_master WHERE tbl_name = 'inbound'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!sql.contains("inbound_open"), "{sql}");
        assert!(!sql.contains("AUTOINCREMENT"), "{sql}");
        assert!(sql.contains("inbound_received"), "{sql}");
    }
}
