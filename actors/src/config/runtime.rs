//! `dingclaw`: settings of dingclaw's own runtime that OpenClaw has no place for. OpenClaw
//! does not know this section; a config shared with OpenClaw should leave it out.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::environment::{Environment, expand_home};
use super::issue::{ConfigPath, Diagnostics};

/// A session with no message for this long leaves memory; it is rebuilt from the store on
/// its next message.
pub const DEFAULT_SESSION_IDLE_SECS: u64 = 600;

/// A resident session with no message for this long lets its transcript go (the store has
/// it) and reads it back with its next message: an idle session then costs its actor, not
/// its history.
pub const DEFAULT_TRANSCRIPT_IDLE_SECS: u64 = 60;

/// A gateway with nothing happening for this long gives freed memory back to the system.
pub const DEFAULT_MEMORY_RELEASE_SECS: u64 = 10;

/// Transcript messages sent to the model with each turn.
pub const DEFAULT_HISTORY_LIMIT: usize = 50;

/// How long a shutdown waits for turns in flight.
pub const DEFAULT_DRAIN_SECS: u64 = 15;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuntimeSection {
    /// Worker threads for sessions, agents and providers (default: one per core).
    pub workers: Option<usize>,
    /// Idle seconds before a session leaves memory (default 600).
    pub session_idle_seconds: Option<u64>,
    /// Idle seconds before a resident session lets its transcript go, to read it back from
    /// the store with its next message (default 60; 0 keeps it while the session is resident).
    pub transcript_idle_seconds: Option<u64>,
    /// Quiet seconds (no message, no session coming or going) after which the gateway gives
    /// freed memory back: caches, the session registry, the allocator's free pages (default
    /// 10; 0 never).
    pub memory_release_seconds: Option<u64>,
    /// Transcript messages sent to the model per turn (default 50).
    pub history_limit: Option<usize>,
    /// `sqlite` (default) or `memory`.
    pub store: Option<StoreKind>,
    /// SQLite file (default `<stateDir>/dingclaw/dingclaw.sqlite`).
    pub store_path: Option<String>,
    /// `store: "postgres"`: the server, as a URL (`postgres://user:password@host:5432/db`),
    /// usually `${DINGCLAW_PG_URL}`.
    pub store_url: Option<super::secret::SecretInput>,
    /// `store: "postgres"`: the CA certificates (PEM) the server's certificate is checked
    /// against; turns TLS on (as `sslmode=require` in the URL does, with Mozilla's roots).
    pub store_ca_file: Option<String>,
    /// Seconds a shutdown waits for turns in flight (default 15).
    pub drain_seconds: Option<u64>,
    /// Journal each accepted DingTalk message before acknowledging it, and answer the ones a
    /// crash interrupted at the next start (default true).
    pub journal: Option<bool>,
    /// `process` (default): a commit survives the process being killed; `power`: every
    /// commit is fsynced and survives a power loss too.
    pub durability: Option<Durability>,
    /// Pictures of earlier turns re-sent to a model that takes them: the newest this many
    /// (older ones become a line of text), so a long chat does not resend every picture.
    pub history_images: Option<usize>,
    /// Seconds after which a turn still being worked on tells its text or markdown chat so,
    /// once (default 60; 0 turns it off). An AI card shows progress by itself.
    pub still_working_seconds: Option<u64>,
    /// Several gateways on one PostgreSQL store (README "Several gateways").
    pub cluster: Option<super::cluster::ClusterSection>,
}

/// `dingclaw.store`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// A SQLite file (the gateway's default).
    #[default]
    Sqlite,
    /// Memory only: nothing survives a restart.
    Memory,
    /// A PostgreSQL server (`storeUrl`), which several gateways can share.
    Postgres,
}

/// The `dingclaw` section: settings OpenClaw does not have.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeConfig {
    /// `workers`: worker threads (default one per core).
    pub workers: usize,
    /// `sessionIdleSeconds`: an idle session leaves memory after this.
    #[serde(serialize_with = "secs")]
    pub session_idle: Duration,
    /// `transcriptIdleSeconds`: an idle resident session lets its transcript go after this
    /// (`None`: never).
    #[serde(serialize_with = "opt_secs")]
    pub transcript_idle: Option<Duration>,
    /// `memoryReleaseSeconds`: quiet time before freed memory goes back (`None`: never).
    #[serde(serialize_with = "opt_secs")]
    pub memory_release: Option<Duration>,
    /// `historyLimit`: transcript messages sent to the model per turn.
    pub history_limit: usize,
    /// `store`.
    pub store: StoreKind,
    /// `storeUrl`, for `store: "postgres"` (never shown: it may hold a password).
    #[serde(skip)]
    pub store_url: Option<super::Secret>,
    /// `storePath`.
    pub store_path: PathBuf,
    /// `storeCaFile`: TLS to PostgreSQL, checked against these CA certificates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_ca_file: Option<PathBuf>,
    /// `drainSeconds`: a shutdown waits this long for turns in flight.
    #[serde(serialize_with = "secs")]
    pub drain: Duration,
    /// `journal`: answer the messages a crash interrupted (default true).
    pub journal: bool,
    /// `durability`.
    pub durability: Durability,
    /// `historyImages`: pictures of earlier turns re-sent to a model that sees.
    pub history_images: usize,
    /// `None`: no "still working" notice.
    #[serde(serialize_with = "opt_secs")]
    pub still_working: Option<Duration>,
    /// `cluster`: this gateway shares its store with others (`None`: it is alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<super::cluster::ClusterConfig>,
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_u64(d.as_secs()),
        None => s.serialize_none(),
    }
}

/// A turn past this long tells its chat it is still being worked on.
pub const DEFAULT_STILL_WORKING_SECS: u64 = 60;

/// Pictures re-sent from earlier turns unless `dingclaw.historyImages` says otherwise.
pub const DEFAULT_HISTORY_IMAGES: usize = 2;

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

/// One worker per core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

pub(crate) fn build_runtime(
    section: Option<&RuntimeSection>,
    state_dir: &std::path::Path,
    env: &dyn Environment,
    unresolved: &super::substitute::Unresolved,
    diags: &mut Diagnostics,
) -> RuntimeConfig {
    let empty = RuntimeSection::default();
    let r = section.unwrap_or(&empty);
    let at = ConfigPath::root().key("dingclaw");
    for (key, zero) in [
        ("workers", r.workers == Some(0)),
        ("historyLimit", r.history_limit == Some(0)),
    ] {
        if zero {
            diags.error(at.key(key), "must be at least 1");
        }
    }
    RuntimeConfig {
        workers: r.workers.unwrap_or_else(default_workers).max(1),
        session_idle: Duration::from_secs(
            r.session_idle_seconds
                .unwrap_or(DEFAULT_SESSION_IDLE_SECS)
                .max(1),
        ),
        transcript_idle: Some(
            r.transcript_idle_seconds
                .unwrap_or(DEFAULT_TRANSCRIPT_IDLE_SECS),
        )
        .filter(|s| *s > 0)
        .map(Duration::from_secs),
        memory_release: Some(
            r.memory_release_seconds
                .unwrap_or(DEFAULT_MEMORY_RELEASE_SECS),
        )
        .filter(|s| *s > 0)
        .map(Duration::from_secs),
        history_limit: r.history_limit.unwrap_or(DEFAULT_HISTORY_LIMIT).max(1),
        store: r.store.unwrap_or_default(),
        store_url: store_url(r, &at, env, unresolved, diags),
        store_path: r
            .store_path
            .as_deref()
            .map(|p| expand_home(p, env))
            .unwrap_or_else(|| state_dir.join("dingclaw").join("dingclaw.sqlite")),
        store_ca_file: match (&r.store_ca_file, r.store == Some(StoreKind::Postgres)) {
            (Some(_), false) => {
                diags.warn(
                    at.key("storeCaFile"),
                    "ignored: dingclaw.store is not \"postgres\"",
                );
                None
            }
            (Some(path), true) => Some(expand_home(path, env)),
            (None, _) => None,
        },
        drain: Duration::from_secs(r.drain_seconds.unwrap_or(DEFAULT_DRAIN_SECS)),
        journal: r.journal.unwrap_or(true),
        durability: r.durability.unwrap_or_default(),
        history_images: r.history_images.unwrap_or(DEFAULT_HISTORY_IMAGES),
        still_working: Some(
            r.still_working_seconds
                .unwrap_or(DEFAULT_STILL_WORKING_SECS),
        )
        .filter(|s| *s > 0)
        .map(Duration::from_secs),
        cluster: super::cluster::build_cluster(
            r.cluster.as_ref(),
            r.store.unwrap_or_default(),
            env,
            diags,
        ),
    }
}

/// `dingclaw.storeUrl`: required by `store: "postgres"`, pointless otherwise.
fn store_url(
    r: &RuntimeSection,
    at: &ConfigPath,
    env: &dyn Environment,
    unresolved: &super::substitute::Unresolved,
    diags: &mut Diagnostics,
) -> Option<super::Secret> {
    let path = at.key("storeUrl");
    let postgres = r.store == Some(StoreKind::Postgres);
    let Some(input) = r.store_url.as_ref() else {
        if postgres {
            diags.error(
                path,
                "required when store is \"postgres\" (e.g. \"${DINGCLAW_PG_URL}\")",
            );
        }
        return None;
    };
    if !postgres {
        diags.warn(path, "ignored: dingclaw.store is not \"postgres\"");
        return None;
    }
    match super::secret::resolve_secret(input, &path, env, unresolved) {
        super::secret::SecretState::Ready(url) => {
            let u = url.expose().trim();
            let looks_right = u.starts_with("postgres://")
                || u.starts_with("postgresql://")
                || u.contains("host=");
            if !looks_right {
                diags.error(
                    path,
                    "not a PostgreSQL URL (postgres://user:password@host:5432/database)",
                );
                return None;
            }
            Some(url)
        }
        super::secret::SecretState::Unavailable(why) => {
            diags.error(path, why);
            None
        }
    }
}

/// How far a commit is made durable (`dingclaw.durability`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `synchronous = NORMAL`: a commit survives the process being killed; a power loss
    /// can take the last ones back.
    #[default]
    Process,
    /// `synchronous = FULL`: every commit is fsynced, so it survives a power loss too, at
    /// the cost of an fsync per batch.
    Power,
}
