//! Hot reload: the config file is read again when it changes (a watch of its folder, so
//! editors that save by rename are seen), on SIGHUP, and on `POST /api/reload`. A valid
//! config is applied live (`Runtime::reload`); an invalid one is refused, the running config
//! stays, and its `path: message` list is kept for the web page and logged.
//!
//! File events are only a hint. Reading a file raises events too (our own reload, `cat`,
//! `dingclaw config check`), so events that cannot change content (access, metadata) are
//! dropped, a burst of the rest is coalesced into one look, and the look compares the
//! fingerprint of what it read (`ConfigDigest`) with the last one seen: the same content is
//! no change, whatever the events said. An invalid version is therefore refused once, and
//! not again until the file changes again.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dingclaw_actors::actors::{ReloadReport, Runtime};
use dingclaw_actors::config::{ConfigDigest, ConfigError, Environment, load_file};
use dingclaw_actors::dingtalk::api::now_ms;
use notify_debouncer_full::notify::event::ModifyKind;
use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};
use serde::Serialize;

/// How the last reload went.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadStatus {
    /// ms since the epoch; 0 before any reload.
    pub at_ms: i64,
    pub ok: bool,
    /// `path: message`, one per problem, when refused.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
    #[serde(flatten)]
    pub report: ReloadReport,
}

/// What the file held at the last look, and what the gateway runs.
#[derive(Debug)]
struct Seen {
    /// The version applied (at start or by the last successful reload).
    applied: ConfigDigest,
    /// The version found at the last look; `None` when the file could not be read.
    last: Option<ConfigDigest>,
}

/// Reads the config file again and applies it.
pub struct Reloader {
    rt: Arc<Runtime>,
    path: PathBuf,
    env: Box<dyn Environment>,
    last: Mutex<ReloadStatus>,
    seen: Mutex<Seen>,
}

/// Keeps the watch alive; dropping it stops watching.
pub struct Watch {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
}

impl Reloader {
    /// `applied` is the fingerprint of the config the gateway started with.
    pub fn new(
        rt: Arc<Runtime>,
        path: PathBuf,
        env: Box<dyn Environment>,
        applied: ConfigDigest,
    ) -> Self {
        Self {
            rt,
            path,
            env,
            last: Mutex::new(ReloadStatus::default()),
            seen: Mutex::new(Seen {
                applied,
                last: Some(applied),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The environment the file is read with (variables, home, offline).
    pub fn env(&self) -> &dyn Environment {
        self.env.as_ref()
    }

    pub fn last(&self) -> ReloadStatus {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Loads and applies the file now, whether or not it changed (SIGHUP, the operator API).
    pub fn reload_now(&self, why: &str) -> ReloadStatus {
        let loaded = load_file(&self.path, self.env.as_ref());
        self.apply(loaded, why)
    }

    /// Loads the file and applies it only if its content differs from the last look: what
    /// a file event does. Returns what happened, or `None` when nothing changed.
    pub fn reload_if_changed(&self, why: &str) -> Option<ReloadStatus> {
        let loaded = load_file(&self.path, self.env.as_ref());
        let digest = match &loaded {
            Ok(l) => Some(l.digest),
            Err(ConfigError::Invalid { digest, .. }) => Some(*digest),
            Err(_) => None,
        };
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.last == digest {
                tracing::debug!("the config file's content did not change; nothing to reload");
                return None;
            }
            if loaded.is_ok() && digest == Some(seen.applied) {
                // Back to what runs (an edit undone after a refused one): nothing to apply.
                seen.last = digest;
                tracing::info!(%why, "the config file is back to the running config");
                return None;
            }
        }
        Some(self.apply(loaded, why))
    }

    fn apply(
        &self,
        loaded: Result<dingclaw_actors::config::Loaded, ConfigError>,
        why: &str,
    ) -> ReloadStatus {
        let mut status = ReloadStatus {
            at_ms: now_ms(),
            ..ReloadStatus::default()
        };
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        match loaded {
            Ok(loaded) => {
                status.warnings = loaded.warnings.iter().map(ToString::to_string).collect();
                status.report = self.rt.reload(loaded.config);
                dingclaw_actors::telemetry::zero(&self.rt.config());
                status.ok = true;
                seen.applied = loaded.digest;
                seen.last = Some(loaded.digest);
                tracing::info!(
                    %why, version = %loaded.digest, applied = ?status.report.applied,
                    needs_restart = ?status.report.needs_restart, "config reloaded"
                );
            }
            Err(ConfigError::Invalid {
                errors,
                warnings,
                digest,
                ..
            }) => {
                status.errors = errors.iter().map(ToString::to_string).collect();
                status.warnings = warnings.iter().map(ToString::to_string).collect();
                seen.last = Some(digest);
                tracing::error!(%why, errors = ?status.errors, "config change refused; the running config stays");
            }
            Err(other) => {
                status.errors = vec![other.to_string()];
                seen.last = None;
                tracing::error!(%why, error = %other, "config change refused; the running config stays");
            }
        }
        drop(seen);
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = status.clone();
        status
    }

    /// Watches the config file's folder. Events that can change a file's content, on the
    /// config file or another config-like file there (an include, `.env`), are coalesced
    /// until `debounce` passes without one, and then the file is looked at once.
    pub fn watch(
        self: &Arc<Self>,
        debounce: Duration,
    ) -> notify_debouncer_full::notify::Result<Watch> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let (changed_tx, changed_rx) = mpsc::channel::<()>();
        let me = Arc::clone(self);
        let mut debouncer = new_debouncer(debounce, None, move |res: DebounceEventResult| {
            let Ok(events) = res else { return };
            let relevant = events
                .iter()
                .any(|e| changes_content(&e.kind) && e.paths.iter().any(|p| me.concerns(p)));
            if relevant {
                let _ = changed_tx.send(());
            }
        })?;
        debouncer.watch(&dir, RecursiveMode::NonRecursive)?;
        let me = Arc::clone(self);
        std::thread::Builder::new()
            .name("config-reload".to_owned())
            .spawn(move || {
                // Ends when the watch is dropped (the sender goes with the debouncer).
                while changed_rx.recv().is_ok() {
                    // An editor's save is several steps (write a temporary file, rename it,
                    // delete the backup); wait for the burst to end, then look once.
                    while changed_rx.recv_timeout(debounce).is_ok() {}
                    me.reload_if_changed("the config file changed");
                }
            })
            .map_err(notify_debouncer_full::notify::Error::io)?;
        Ok(Watch {
            _debouncer: debouncer,
        })
    }

    /// Is `p` the config file or a file like the ones it reads (`.json5` includes, `.env`)?
    fn concerns(&self, p: &Path) -> bool {
        p == self.path
            || p.file_name() == self.path.file_name()
            || p.file_name().is_some_and(|n| n == ".env")
            || p.extension()
                .is_some_and(|x| x == "json" || x == "json5" || x == "jsonc")
    }
}

/// Can an event of this kind change what a file holds? Reads (open, close without writing)
/// and metadata changes (`touch`, chmod) cannot.
fn changes_content(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify_debouncer_full::notify::event::{
        AccessKind, AccessMode, CreateKind, DataChange, MetadataKind, RenameMode,
    };

    #[test]
    fn reads_and_touches_are_not_changes() {
        assert!(!changes_content(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(!changes_content(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::Any
        ))));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Data(
            DataChange::Any
        ))));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Name(
            RenameMode::To
        ))));
        assert!(changes_content(&EventKind::Create(CreateKind::File)));
    }
}
