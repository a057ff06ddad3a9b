//! `dingclaw backup` and `dingclaw restore`: a consistent copy of the SQLite store, taken with
//! SQLite's online backup while a gateway may be writing, and its way back.
//!
//! A restore replaces every session, transcript, job and pairing, so it is refused while a
//! gateway holds the store's lock (`GatewayLock`), and the store it replaces is first copied
//! aside, so a restore can be undone.

use std::fs::File;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, MAIN_DB, OpenFlags};

use super::StoreError;
use super::sqlite::SCHEMA_VERSION;

/// What a copy holds, to tell the operator what was saved or restored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSummary {
    /// The store's schema version.
    pub schema_version: i64,
    /// Sessions in it.
    pub sessions: i64,
    /// Transcript entries in it.
    pub entries: i64,
    /// Scheduled jobs in it.
    pub jobs: i64,
    /// The copy's size on disk.
    pub bytes: u64,
}

/// Why a backup or restore did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a dingclaw store.
    #[error("{path} is not a dingclaw store: {why}")]
    NotAStore {
        /// The file.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    #[error(
        "{path} was written by a newer dingclaw (store schema {found}, this one knows {known}); upgrade dingclaw first"
    )]
    /// The store was written by a newer dingclaw; restoring it would lose what this one does not
    /// know.
    Newer {
        /// The file.
        path: String,
        /// Its schema version.
        found: i64,
        /// The newest this dingclaw knows.
        known: i64,
    },
    /// A gateway is using the state folder; restoring under it would corrupt its store.
    #[error(
        "a dingclaw gateway{} is using {store}; stop it first (e.g. systemctl stop dingclaw)",
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    )]
    InUse {
        /// The store in use.
        store: String,
        /// The gateway's process id, when the lock names it.
        pid: Option<u32>,
    },
    /// There is no store to back up.
    #[error("there is no store at {0} to back up (has the gateway run with this config?)")]
    Missing(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Copies the store at `store` into a new file `dest` (replaced if it exists), page by page,
/// while a gateway may be writing to it; then checks the copy.
pub fn backup(store: &Path, dest: &Path) -> Result<StoreSummary, BackupError> {
    if !store.exists() {
        return Err(BackupError::Missing(store.display().to_string()));
    }
    let src =
        Connection::open_with_flags(store, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
            StoreError::Open {
                path: store.display().to_string(),
                source,
            }
        })?;
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    // Written beside the destination and renamed, so an interrupted backup never leaves a
    // half file under the name the operator asked for.
    let partial = with_suffix(dest, ".partial");
    let _ = std::fs::remove_file(&partial);
    src.backup(MAIN_DB, &partial, None)
        .map_err(StoreError::Sql)?;
    let summary = inspect(&partial)?;
    restrict(&partial)?;
    std::fs::rename(&partial, dest).map_err(io(dest))?;
    Ok(summary)
}

/// Replaces the store at `store` with the copy in `from`, after checking it. The store it
/// replaces is kept as `<store>.before-restore`; its path is returned.
pub fn restore(store: &Path, from: &Path) -> Result<(StoreSummary, Option<PathBuf>), BackupError> {
    if let Some(pid) = GatewayLock::holder(store) {
        return Err(BackupError::InUse {
            store: store.display().to_string(),
            pid,
        });
    }
    let summary = inspect(from)?;
    if let Some(dir) = store.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let kept = if store.exists() {
        let aside = with_suffix(store, ".before-restore");
        let _ = std::fs::remove_file(&aside);
        let current = Connection::open(store).map_err(StoreError::Sql)?;
        current
            .backup(MAIN_DB, &aside, None)
            .map_err(StoreError::Sql)?;
        restrict(&aside)?;
        Some(aside)
    } else {
        None
    };
    let mut target = Connection::open(store).map_err(|source| StoreError::Open {
        path: store.display().to_string(),
        source,
    })?;
    target
        .restore(MAIN_DB, from, None::<fn(rusqlite::backup::Progress)>)
        .map_err(StoreError::Sql)?;
    drop(target);
    restrict(store)?;
    Ok((summary, kept))
}

/// Checks that `path` is an intact dingclaw store this version can open, and counts it.
pub fn inspect(path: &Path) -> Result<StoreSummary, BackupError> {
    let not_a_store = |why: String| BackupError::NotAStore {
        path: path.display().to_string(),
        why,
    };
    let bytes = std::fs::metadata(path).map_err(io(path))?.len();
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| not_a_store(e.to_string()))?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| not_a_store(e.to_string()))?;
    if check != "ok" {
        return Err(not_a_store(format!("integrity check: {check}")));
    }
    let schema_version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| not_a_store(e.to_string()))?;
    if schema_version > SCHEMA_VERSION as i64 {
        return Err(BackupError::Newer {
            path: path.display().to_string(),
            found: schema_version,
            known: SCHEMA_VERSION as i64,
        });
    }
    let count = |table: &str| -> Result<i64, BackupError> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|e| not_a_store(format!("{table}: {e}")))
    };
    Ok(StoreSummary {
        schema_version,
        sessions: count("sessions")?,
        entries: count("entries")?,
        jobs: if schema_version >= 3 {
            count("cron_jobs").unwrap_or(0)
        } else {
            0
        },
        bytes,
    })
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Copies hold every conversation: readable by their owner only.
fn restrict(path: &Path) -> Result<(), BackupError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    }
    Ok(())
}

/// The lock a running gateway holds on its store (`<store>.lock`, with its pid inside): a
/// second gateway on the same file, or a restore under a running one, would lose data.
/// The operating system drops it when the process ends, however it ends.
pub struct GatewayLock {
    _file: File,
}

impl GatewayLock {
    fn path(store: &Path) -> PathBuf {
        with_suffix(store, ".lock")
    }

    /// Takes the lock, or says which process holds it.
    pub fn acquire(store: &Path) -> Result<GatewayLock, BackupError> {
        let path = Self::path(store);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {
                use std::io::Write;
                file.set_len(0).map_err(io(&path))?;
                write!(file, "{}", std::process::id()).map_err(io(&path))?;
                Ok(GatewayLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::InUse {
                store: store.display().to_string(),
                pid: read_pid(&path),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }

    /// `Some(pid if known)` while a gateway holds the lock of `store`.
    pub fn holder(store: &Path) -> Option<Option<u32>> {
        let path = Self::path(store);
        let file = std::fs::OpenOptions::new().read(true).open(&path).ok()?;
        match file.try_lock_shared() {
            Ok(()) => None,
            Err(_) => Some(read_pid(&path)),
        }
    }
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::meta;
    use crate::store::{SqliteStore, Store, WriteOp};

    fn seeded(path: &Path, sessions: usize) {
        let store = SqliteStore::open(path).unwrap();
        for i in 0..sessions {
            let key = format!("agent:a:dingtalk:direct:u{i}");
            store.write(&[WriteOp::Session(meta(&key, &key))]).unwrap();
        }
    }

    #[test]
    fn a_backup_restores_what_it_copied_and_keeps_the_replaced_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("dingclaw.sqlite");
        seeded(&store, 3);
        // Into a folder that does not exist yet, as a first backup goes.
        let copy = dir.path().join("backups").join("copy.sqlite");
        let saved = backup(&store, &copy).unwrap();
        assert_eq!(saved.sessions, 3);
        // Later writes are what a restore takes back.
        seeded(&store, 5);
        let (restored, kept) = restore(&store, &copy).unwrap();
        assert_eq!(restored.sessions, 3);
        assert_eq!(inspect(&store).unwrap().sessions, 3);
        assert_eq!(inspect(&kept.unwrap()).unwrap().sessions, 5);
    }

    #[test]
    fn restore_is_refused_under_a_running_gateway_and_for_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("dingclaw.sqlite");
        seeded(&store, 1);
        let copy = dir.path().join("copy.sqlite");
        backup(&store, &copy).unwrap();
        let lock = GatewayLock::acquire(&store).unwrap();
        let err = restore(&store, &copy).unwrap_err().to_string();
        assert!(
            err.contains(&format!("(pid {})", std::process::id())),
            "{err}"
        );
        assert!(
            GatewayLock::acquire(&store).is_err(),
            "one gateway per store"
        );
        drop(lock);
        assert!(GatewayLock::holder(&store).is_none());

        let junk = dir.path().join("notes.txt");
        std::fs::write(&junk, "not a database").unwrap();
        let err = restore(&store, &junk).unwrap_err().to_string();
        assert!(err.contains("is not a dingclaw store"), "{err}");
        assert_eq!(inspect(&store).unwrap().sessions, 1, "nothing was replaced");
    }
}
