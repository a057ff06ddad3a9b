//! Hot reload: the config file is read again when it changes (a debounced watch of its folder,
//! so editors that save by rename are seen), on SIGHUP, and on `POST /api/reload`. A valid
//! config is applied live (`Runtime::reload`); an invalid one is refused, the running config
//! stays, and its `path: message` list is kept for the web page and logged.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dingclaw_actors::actors::{ReloadReport, Runtime};
use dingclaw_actors::config::{ConfigError, Environment, load_file};
use dingclaw_actors::dingtalk::api::now_ms;
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};
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

/// Reads the config file again and applies it.
pub struct Reloader {
    rt: Arc<Runtime>,
    path: PathBuf,
    env: Box<dyn Environment>,
    last: Mutex<ReloadStatus>,
}

impl Reloader {
    pub fn new(rt: Arc<Runtime>, path: PathBuf, env: Box<dyn Environment>) -> Self {
        Self {
            rt,
            path,
            env,
            last: Mutex::new(ReloadStatus::default()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn last(&self) -> ReloadStatus {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Loads and applies the file now.
    pub fn reload_now(&self, why: &str) -> ReloadStatus {
        let mut status = ReloadStatus {
            at_ms: now_ms(),
            ..ReloadStatus::default()
        };
        match load_file(&self.path, self.env.as_ref()) {
            Ok(loaded) => {
                status.warnings = loaded.warnings.iter().map(ToString::to_string).collect();
                status.report = self.rt.reload(loaded.config);
                status.ok = true;
                tracing::info!(%why, applied = status.report.applied.len(), "config reloaded");
            }
            Err(ConfigError::Invalid {
                errors, warnings, ..
            }) => {
                status.errors = errors.iter().map(ToString::to_string).collect();
                status.warnings = warnings.iter().map(ToString::to_string).collect();
                tracing::error!(%why, errors = ?status.errors, "config change refused; the running config stays");
            }
            Err(other) => {
                status.errors = vec![other.to_string()];
                tracing::error!(%why, error = %other, "config change refused; the running config stays");
            }
        }
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = status.clone();
        status
    }

    /// Watches the config file's folder; changes to `.json`/`.json5` files there (the config
    /// and its includes) reload after `debounce` of quiet. Keep the returned watcher alive.
    pub fn watch(
        self: &Arc<Self>,
        debounce: Duration,
    ) -> notify_debouncer_mini::notify::Result<Debouncer<RecommendedWatcher>> {
        let me = Arc::clone(self);
        let dir = self
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let mut debouncer = new_debouncer(debounce, move |res: DebounceEventResult| {
            let Ok(events) = res else { return };
            let relevant = events.iter().any(|e| {
                e.path == me.path
                    || e.path
                        .extension()
                        .is_some_and(|x| x == "json" || x == "json5" || x == "jsonc")
            });
            if relevant {
                me.reload_now("the config file changed");
            }
        })?;
        debouncer
            .watcher()
            .watch(&dir, RecursiveMode::NonRecursive)?;
        Ok(debouncer)
    }
}
