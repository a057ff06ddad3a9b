//! Persistence behind one trait: session index and transcripts, scheduled jobs and their run
//! logs, written in batches by one
//! writer actor, read from a blocking thread. The embedded default is SQLite in WAL mode
//! (`sqlite`); `memory` serves tests and embedders that persist elsewhere.
//!
//! Writes are *operations* (`WriteOp`) rather than calls, so that a batch is one transaction
//! and new kinds of records (the inbound journal, scheduled jobs) are new variants, not new
//! plumbing.

#[cfg(feature = "sqlite")]
mod backup;
#[cfg(feature = "sqlite")]
mod checkpoint;
mod cluster;
#[doc(hidden)]
pub mod conformance;
mod journal;
mod memory;
mod memory_index;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "postgres")]
mod postgres_cluster;
#[cfg(feature = "postgres")]
mod postgres_tls;
mod settings;
#[cfg(feature = "sqlite")]
mod sqlite;
mod writer;

use serde::{Deserialize, Serialize};

use crate::provider::ToolCall;

pub use crate::config::Durability;
#[cfg(feature = "sqlite")]
pub use backup::{BackupError, GatewayLock, StoreSummary, backup, inspect, restore};
pub use cluster::{
    ClusterFuture, ClusterStore, ClusterView, InstanceView, Journaled, Lease, LeaseHolder,
    RoutedEntry, SessionMessage, SessionWork, Sweep,
};
pub use journal::{JournalEntry, JournalId};
pub use memory::MemoryStore;
pub use memory_index::{MemoryCandidate, MemoryChunk, MemoryFile};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresGatewayLock, PostgresStore, describe as describe_postgres_url};
pub use settings::SessionSettings;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use writer::{Commit, Flush, StoreHandle, StoreWriter, Write};

/// Who said a transcript entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// What a user said.
    User,
    /// What the agent answered (with its tool calls).
    Assistant,
    /// A tool's result, answering one of the assistant's calls.
    Tool,
    /// A summary of the conversation before `first_kept` (compaction): the model sees it
    /// instead of those entries, which stay stored.
    Compaction,
}

impl Role {
    /// The role's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Compaction => "compaction",
        }
    }

    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    fn parse(s: &str) -> Role {
        match s {
            "assistant" => Role::Assistant,
            "tool" => Role::Tool,
            "compaction" => Role::Compaction,
            _ => Role::User,
        }
    }
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptEntry {
    /// Position in its session, from 1.
    pub seq: u64,
    /// Who said it.
    pub role: Role,
    /// What was said (a tool's result, a summary).
    pub content: String,
    /// The DingTalk msgId of a user message, so a retried turn does not store it twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// Who sent a user message (sender id), useful in shared group sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// Their display name (`senderNick`), which is what a group's history shows the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// ms since the epoch.
    pub at_ms: i64,
    /// The tools an assistant entry asked for (the answer of that round is in the tool
    /// entries that follow).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a tool entry answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The files of a user message (pictures, documents, voice).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<crate::media::Attachment>,
    /// A compaction entry: the first entry kept as it is (the summary covers those before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_kept: Option<u64>,
}

impl TranscriptEntry {
    /// A plain user or assistant message.
    pub fn message(seq: u64, role: Role, content: String, at_ms: i64) -> TranscriptEntry {
        TranscriptEntry {
            seq,
            role,
            content,
            msg_id: None,
            sender: None,
            sender_name: None,
            at_ms,
            tool_calls: Vec::new(),
            tool_call_id: None,
            attachments: Vec::new(),
            first_kept: None,
        }
    }

    /// Its tool calls and attachments as the stores keep them: JSON, or nothing when empty.
    pub fn stored_json(&self) -> (Option<String>, Option<String>) {
        let calls = (!self.tool_calls.is_empty())
            .then(|| serde_json::to_string(&self.tool_calls).unwrap_or_default());
        let attachments = (!self.attachments.is_empty())
            .then(|| serde_json::to_string(&self.attachments).unwrap_or_default());
        (calls, attachments)
    }

    /// An assistant message that asked for tools, or a final answer.
    pub fn is_final_answer(&self) -> bool {
        self.role == Role::Assistant && self.tool_calls.is_empty()
    }
}

/// The index row of a session: which key, which current session id, where it lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMeta {
    /// The session key (`agent:<agent>:...`).
    pub key: String,
    /// Changes on `/new`; older transcripts stay stored under their old id.
    pub session_id: String,
    /// The agent that answers in it.
    pub agent_id: String,
    /// The channel of its messages.
    pub channel: String,
    /// The account (bot) of its messages.
    pub account: String,
    /// `direct` or `group`.
    pub chat: String,
    /// The conversation its answers go to.
    pub conversation_id: String,
    /// When it was first stored (ms since the epoch).
    pub created_ms: i64,
    /// When it last changed (ms since the epoch).
    pub updated_ms: i64,
    /// Tokens used by the session's turns.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Completion tokens of the session's turns.
    #[serde(default)]
    pub completion_tokens: u64,
    /// What was set from the chat for this conversation.
    #[serde(default)]
    pub settings: SessionSettings,
    /// What people call the conversation: a group's name, a person's nick. A write without
    /// one keeps the title stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// A session as stored: its index row and the newest part of its transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSession {
    /// Its index row.
    pub meta: SessionMeta,
    /// The newest entries of its current transcript, oldest first.
    pub entries: Vec<TranscriptEntry>,
}

/// One change to the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOp {
    /// Insert or update a session's index row.
    Session(SessionMeta),
    /// Append one transcript entry to a session.
    Entry {
        /// The session's current id.
        session_id: String,
        /// The entry.
        entry: TranscriptEntry,
    },
    /// Insert or replace a scheduled job (its JSON, `cron::Job`).
    Job {
        /// The job's id.
        id: String,
        /// The job as JSON.
        json: String,
    },
    /// Insert or replace a pairing request or approval (JSON), keyed `<account>/<sender>`.
    Pairing {
        /// `<account>/<sender>`.
        key: String,
        /// The record as JSON.
        json: String,
    },
    /// Remove a scheduled job and its run log.
    DeleteJob {
        /// The job's id.
        id: String,
    },
    /// Append to a job's run log (JSON, `cron::RunRecord`), keeping its newest `keep` runs.
    Run {
        /// The job's id.
        job_id: String,
        /// When the run started (ms since the epoch).
        run_at_ms: i64,
        /// The run record as JSON.
        json: String,
        /// How many runs of the job to keep.
        keep: u32,
    },
    /// Journal an accepted bot message; a second write of the same (account, msgId) is
    /// ignored.
    Inbound(JournalEntry),
    /// A journaled message was answered (or its reply failed for good).
    InboundDone {
        /// The account that received it.
        account: String,
        /// DingTalk's msgId.
        msg_id: String,
    },
    /// Forget done journal rows received before this instant (ms since the epoch).
    PruneInbound {
        /// ms since the epoch.
        done_before_ms: i64,
    },
    /// Replace the indexed chunks of one of an agent's memory files.
    MemoryFile {
        /// The agent whose workspace holds the file.
        agent: String,
        /// The file.
        file: MemoryFile,
        /// Its chunks, replacing those indexed before.
        chunks: Vec<MemoryChunk>,
    },
    /// Forget a memory file that no longer exists.
    MemoryForget {
        /// The agent whose workspace held it.
        agent: String,
        /// The file, relative to the workspace.
        path: String,
    },
    /// A session's write that counts only while its lease is still held (several gateways
    /// on one store): refused, and counted, once another instance took the session over. A
    /// store without a cluster applies `op` as it is.
    Fenced {
        /// The lease the writer holds.
        lease: Lease,
        /// The write.
        op: Box<WriteOp>,
    },
}

impl WriteOp {
    /// The write itself, without its fence.
    pub fn unfenced(&self) -> &WriteOp {
        match self {
            WriteOp::Fenced { op, .. } => op.unfenced(),
            other => other,
        }
    }

    /// This write behind `lease`'s fence, or as it is without a lease.
    pub fn fenced(self, lease: Option<&Lease>) -> WriteOp {
        match lease {
            Some(lease) => WriteOp::Fenced {
                lease: lease.clone(),
                op: Box::new(self),
            },
            None => self,
        }
    }
}

/// `%term%` patterns for a memory search's `LIKE`s: at most `max`, with the characters
/// `LIKE` gives a meaning (`%`, `_`, `\`) removed from the terms.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn like_patterns(terms: &[String], max: usize) -> Vec<String> {
    terms
        .iter()
        .map(|t| t.replace(['%', '_', '\\'], ""))
        .filter(|t| !t.is_empty())
        .take(max)
        .map(|t| format!("%{t}%"))
        .collect()
}

/// Which sessions to list.
#[derive(Clone, Debug, Default)]
pub struct SessionFilter {
    /// Only this agent's sessions.
    pub agent_id: Option<String>,
    /// Only this account's sessions.
    pub account: Option<String>,
    /// At most this many (at least one), most recently updated first.
    pub limit: usize,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store file could not be opened.
    #[cfg(feature = "sqlite")]
    #[error("store: cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A query failed.
    #[cfg(feature = "sqlite")]
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The store's folder could not be created.
    #[error("store: cannot create {path}: {source}")]
    Io {
        /// The folder.
        path: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The writer actor is gone (the runtime is shutting down).
    #[error("store: the writer is gone")]
    WriterGone,
    /// The PostgreSQL server cannot be reached or refused the connection.
    #[error("store: cannot reach PostgreSQL at {target}: {message}")]
    Unreachable {
        /// Where (without the password).
        target: String,
        /// What went wrong.
        message: String,
    },
    /// A query failed on the PostgreSQL server.
    #[cfg(feature = "postgres")]
    #[error("store: PostgreSQL: {}", postgres_detail(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool.
    #[cfg(feature = "postgres")]
    #[error("store: PostgreSQL connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// Another gateway uses this PostgreSQL store in a way this one cannot join.
    #[error(
        "store: {} {target}",
        if *shared {
            "a dingclaw gateway without dingclaw.cluster uses the PostgreSQL store at"
        } else {
            "another dingclaw gateway uses the PostgreSQL store; give every gateway on it dingclaw.cluster (or stop the other one):"
        }
    )]
    InUse {
        /// Where (without the password).
        target: String,
        /// This gateway asked to share it (it runs in a cluster).
        shared: bool,
    },
    /// The store was written by a newer dingclaw.
    #[error(
        "store: written by a newer dingclaw (schema {found}, this one knows {known}); upgrade dingclaw"
    )]
    Newer {
        /// Its schema version.
        found: i64,
        /// The newest this dingclaw knows.
        known: i64,
    },
}

/// What the server said, with its SQLSTATE (`deadlock detected (40P01)`): tokio-postgres's
/// own text for a server error is only "db error".
#[cfg(feature = "postgres")]
fn postgres_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Persistence of sessions and transcripts.
pub trait Store: Send + Sync + 'static {
    /// Applies every operation in one transaction.
    fn write(&self, ops: &[WriteOp]) -> Result<(), StoreError>;

    /// Gives back memory kept to make writes fast (page caches), once the store has been
    /// quiet for a while; the next write warms it again.
    fn release_memory(&self) {}

    /// A session's index row and its newest `max_entries` entries, oldest first.
    fn load_session(
        &self,
        key: &str,
        max_entries: usize,
    ) -> Result<Option<StoredSession>, StoreError>;

    /// Sessions, most recently updated first.
    fn sessions(&self, filter: &SessionFilter) -> Result<Vec<SessionMeta>, StoreError>;
    /// Has `account` a session with group `id` (`group`), or with user `id` (its key ends
    /// with the id, as every per-sender DM scope's does)? The `message` tool sends only there.
    fn knows_peer(&self, account: &str, group: bool, id: &str) -> Result<bool, StoreError>;

    /// The newest `max_entries` entries of a session id, oldest first.
    fn transcript(
        &self,
        session_id: &str,
        max_entries: usize,
    ) -> Result<Vec<TranscriptEntry>, StoreError>;

    /// Every scheduled job (JSON), in no particular order.
    fn jobs(&self) -> Result<Vec<String>, StoreError>;

    /// Every pairing record (JSON).
    fn pairings(&self) -> Result<Vec<String>, StoreError>;

    /// A job's newest `limit` runs (JSON), newest first.
    fn runs(&self, job_id: &str, limit: usize) -> Result<Vec<String>, StoreError>;

    /// Journaled messages not done yet, in arrival order.
    fn open_inbound(&self) -> Result<Vec<JournalEntry>, StoreError>;

    /// Every journaled message received at or after `since_ms`, and every one not done, in
    /// arrival order.
    fn inbound_ids(&self, since_ms: i64) -> Result<Vec<JournalId>, StoreError>;

    /// The memory files indexed for an agent, with the size and time they had.
    fn memory_files(&self, agent: &str) -> Result<Vec<MemoryFile>, StoreError>;

    /// An agent's memory chunks holding at least one of `terms` (case-insensitive), at
    /// most `limit` of them; the caller ranks them.
    fn memory_candidates(
        &self,
        agent: &str,
        terms: &[String],
        limit: usize,
    ) -> Result<Vec<MemoryCandidate>, StoreError>;

    /// The coordination several gateways need, when this store can share them (PostgreSQL).
    fn cluster(&self) -> Option<&dyn ClusterStore> {
        None
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) use super::conformance::{exercise, meta};

    #[test]
    fn memory_store_behaves() {
        exercise(&MemoryStore::default());
    }

    #[test]
    fn sqlite_store_behaves_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d/x.sqlite");
        {
            let store = SqliteStore::open(&path).unwrap();
            exercise(&store);
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store
                .load_session("k1", 10)
                .unwrap()
                .unwrap()
                .meta
                .session_id,
            "s2"
        );
    }
}
