//! Which files are memory: `MEMORY.md` (else `memory.md`), every `*.md` under `memory/`, and
//! the config's `extraPaths` (files or folders of `*.md`), all inside the workspace.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// Folder levels searched under `memory/` and extra folders.
const MAX_DEPTH: usize = 4;

/// Files indexed per agent, so a workspace full of notes cannot make a search read forever.
const MAX_FILES: usize = 2_000;

/// A memory file found on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryFileOnDisk {
    /// Relative to the workspace, `/`-separated (what the tools show and take).
    pub rel: String,
    /// Absolute, for reading.
    pub path: PathBuf,
    /// Last modified (ms since the epoch): an unchanged file is not indexed again.
    pub mtime_ms: i64,
    /// Its size in bytes.
    pub size: u64,
}

/// The memory files of a workspace, sorted by relative path. Symbolic links are not followed
/// out of the workspace: a link is used only if it resolves inside it.
pub fn memory_files(workspace: &Path, extra: &[PathBuf]) -> Vec<MemoryFileOnDisk> {
    let Ok(root) = workspace.canonicalize() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in ["MEMORY.md", "memory.md"] {
        if let Some(f) = file_at(&root, &root.join(name)) {
            out.push(f);
            break;
        }
    }
    let mut folders = vec![root.join("memory")];
    for p in extra {
        let p = if p.is_absolute() {
            p.clone()
        } else {
            root.join(p)
        };
        if p.is_dir() {
            folders.push(p);
        } else if let Some(f) = file_at(&root, &p) {
            out.push(f);
        }
    }
    for folder in folders {
        walk(&root, &folder, 0, &mut out);
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.dedup_by(|a, b| a.rel == b.rel);
    out.truncate(MAX_FILES);
    out
}

fn walk(root: &Path, dir: &Path, depth: usize, out: &mut Vec<MemoryFileOnDisk>) {
    if depth > MAX_DEPTH || out.len() >= MAX_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.canonicalize().is_ok_and(|c| c.starts_with(root)) {
                walk(root, &path, depth + 1, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md"))
            && let Some(f) = file_at(root, &path)
        {
            out.push(f);
        }
    }
}

/// The file at `path` if it is a regular file inside `root` (after links are resolved).
fn file_at(root: &Path, path: &Path) -> Option<MemoryFileOnDisk> {
    let real = path.canonicalize().ok()?;
    if !real.starts_with(root) {
        return None;
    }
    let meta = std::fs::metadata(&real).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mtime_ms = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis() as i64);
    let rel = real
        .strip_prefix(root)
        .ok()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/");
    Some(MemoryFileOnDisk {
        rel,
        path: real,
        mtime_ms,
        size: meta.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_memory_and_daily_notes_but_nothing_outside() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join("memory/2026")).unwrap();
        std::fs::write(ws.join("MEMORY.md"), "a").unwrap();
        std::fs::write(ws.join("memory/2026-11-30.md"), "b").unwrap();
        std::fs::write(ws.join("memory/2026/old.md"), "c").unwrap();
        std::fs::write(ws.join("memory/image.png"), "d").unwrap();
        std::fs::write(ws.join("notes.md"), "e").unwrap();
        std::fs::write(dir.path().join("secret.md"), "f").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.md"), ws.join("memory/link.md"))
            .unwrap();
        let found: Vec<String> = memory_files(&ws, &[PathBuf::from("notes.md")])
            .into_iter()
            .map(|f| f.rel)
            .collect();
        assert_eq!(
            found,
            vec![
                "MEMORY.md",
                "memory/2026-11-30.md",
                "memory/2026/old.md",
                "notes.md"
            ]
        );
        assert!(memory_files(&dir.path().join("missing"), &[]).is_empty());
    }
}
