//! Where downloaded files are kept: `<dir>/<account>/<yyyy-mm-dd>/<hash>-<name>` under the
//! account's `inboundMedia.dir`, else `<stateDir>/media`, created for the gateway's user only.
//! Days older than `keepDays` are deleted (looked at, at most, once an hour).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often old days are looked for.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Where users' files are kept, one folder per day, old days removed.
pub struct MediaStore {
    root: PathBuf,
    last_prune: Mutex<Option<Instant>>,
}

/// A name safe as a file name: path separators and control characters replaced, at most 80
/// characters, never empty or a dot name.
pub fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() || c == ':' {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    let out: String = trimmed
        .chars()
        .rev()
        .take(80)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if out.is_empty() {
        "file".to_owned()
    } else {
        out
    }
}

impl MediaStore {
    /// A store in `root` (created on first use).
    pub fn new(root: PathBuf) -> Self {
        Self {
            root,
            last_prune: Mutex::new(None),
        }
    }

    /// Its folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes a file; its path.
    pub fn save(
        &self,
        account: &str,
        name: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> std::io::Result<PathBuf> {
        let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let dir = self.root.join(safe_file_name(account)).join(day);
        crate::config::create_private_dir(&dir)?;
        let path = dir.join(format!(
            "{}-{}",
            &sha256[..sha256.len().min(12)],
            safe_file_name(name)
        ));
        std::fs::write(&path, bytes)?;
        Ok(path)
    }

    /// Deletes the day folders older than `keep_days`, at most once an hour.
    pub fn prune(&self, keep_days: u32) {
        {
            let mut last = self.last_prune.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < PRUNE_EVERY) {
                return;
            }
            *last = Some(Instant::now());
        }
        let cutoff = (chrono::Utc::now() - chrono::Duration::days(i64::from(keep_days)))
            .format("%Y-%m-%d")
            .to_string();
        let Ok(accounts) = std::fs::read_dir(&self.root) else {
            return;
        };
        for account in accounts.flatten() {
            let Ok(days) = std::fs::read_dir(account.path()) else {
                continue;
            };
            for day in days.flatten() {
                let name = day.file_name().to_string_lossy().into_owned();
                // Day folders are yyyy-mm-dd, which sort as dates.
                if name.len() == 10
                    && name < cutoff
                    && let Err(e) = std::fs::remove_dir_all(day.path())
                {
                    tracing::warn!(dir = %day.path().display(), error = %e, "could not delete old media");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe_and_old_days_pruned() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name(".."), "file");
        assert_eq!(safe_file_name("报告 2026.pdf"), "报告 2026.pdf");
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::new(dir.path().to_path_buf());
        let p = store
            .save("bot1", "a.png", "abcdef0123456789", b"x")
            .unwrap();
        assert!(p.starts_with(dir.path().join("bot1")));
        std::fs::create_dir_all(dir.path().join("bot1/2001-01-01")).unwrap();
        store.prune(7);
        assert!(!dir.path().join("bot1/2001-01-01").exists());
        assert!(p.exists());
    }
}
