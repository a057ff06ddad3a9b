//! Where the file tools may read and write. Paths resolve against the agent's workspace.
//! Confined (dingclaw's default, `tools.fs.workspaceOnly: true`): a path that leaves it, by
//! `..`, an absolute path or a symlink, is refused; the skills' folders may be read too.
//! Unconfined (the operator wrote `workspaceOnly: false`): any path the gateway's user can
//! reach. The workspace is created for its owner only (0700) on first use.
//!
//! In group chats the memory files (`MEMORY.md`, `memory/`) are out of reach: what one person
//! told the bot in a private chat must not be read out to a group (the same rule keeps
//! `MEMORY.md` out of group prompts and the memory tools out of group turns).

use std::path::{Component, Path, PathBuf};

use super::{ToolContext, ToolError};

/// The largest file `read` reads, and `write` writes.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

/// The file tools' view of one call.
pub struct Workspace {
    /// Canonical workspace folder.
    root: PathBuf,
    confined: bool,
    /// Canonical folders readable outside the workspace.
    read_roots: Vec<PathBuf>,
    /// The call comes from a group chat: memory files are refused.
    hide_memory: bool,
}

/// Is `rel` (relative to the workspace) one of the memory files?
pub fn is_memory_path(rel: &Path) -> bool {
    let mut parts = rel.components();
    let first = parts
        .next()
        .map(|c| c.as_os_str().to_string_lossy().to_lowercase());
    match first.as_deref() {
        Some("memory.md") => parts.next().is_none(),
        Some("memory") => true,
        _ => false,
    }
}

/// Lexically resolves `.` and `..` (the path may not exist yet).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The deepest existing ancestor of `path`, canonical, with the rest appended.
fn canonical_prefix(path: &Path) -> std::io::Result<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_owned()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize()?;
    for name in rest.into_iter().rev() {
        out.push(name);
    }
    Ok(out)
}

impl Workspace {
    /// The workspace of the call's agent, created if missing.
    pub fn for_call(ctx: &ToolContext) -> Result<Workspace, ToolError> {
        let confined = ctx
            .config
            .agents
            .get(&ctx.agent_id)
            .and_then(|a| a.tools.workspace_only)
            .unwrap_or(ctx.config.tools.workspace_only);
        let mut ws = Workspace::open(&ctx.workspace, confined, &ctx.read_roots)?;
        ws.hide_memory = ctx.chat == crate::routing::ChatType::Group;
        Ok(ws)
    }

    /// The workspace at `root` (created if missing); `confined` keeps paths inside it, except reads
    /// under `read_roots`.
    pub fn open(
        root: &Path,
        confined: bool,
        read_roots: &[PathBuf],
    ) -> Result<Workspace, ToolError> {
        if !root.exists() {
            crate::config::create_private_dir(root).map_err(|e| {
                ToolError::Failed(format!(
                    "cannot create the workspace {}: {e}",
                    root.display()
                ))
            })?;
        }
        let root = root.canonicalize().map_err(|e| {
            ToolError::Failed(format!(
                "the workspace {} cannot be used: {e}",
                root.display()
            ))
        })?;
        Ok(Workspace {
            root,
            confined,
            read_roots: read_roots
                .iter()
                .filter_map(|r| r.canonicalize().ok())
                .collect(),
            hide_memory: false,
        })
    }

    /// The workspace folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `path` as written by the model, resolved for reading.
    pub fn readable(&self, path: &str) -> Result<PathBuf, ToolError> {
        self.resolve(path, true)
    }

    /// `path` as written by the model, resolved for writing (its folders may not exist yet).
    pub fn writable(&self, path: &str) -> Result<PathBuf, ToolError> {
        self.resolve(path, false)
    }

    fn resolve(&self, path: &str, reading: bool) -> Result<PathBuf, ToolError> {
        let raw = path.trim();
        if raw.is_empty() {
            return Err(ToolError::BadArguments("`path` is empty".to_owned()));
        }
        if raw.contains('\0') {
            return Err(ToolError::BadArguments(
                "`path` holds a NUL byte".to_owned(),
            ));
        }
        let given = Path::new(raw);
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.root.join(given)
        };
        let lexical = normalize(&joined);
        // Symlinks are resolved by the file system: the real place decides.
        let real = canonical_prefix(&lexical)
            .map_err(|e| ToolError::Failed(format!("cannot resolve \"{raw}\": {e}")))?;
        if self.hide_memory
            && let Ok(rel) = real.strip_prefix(&self.root)
            && is_memory_path(rel)
        {
            return Err(ToolError::Forbidden(format!(
                "\"{raw}\" is a memory file; memory is private and not used in group chats"
            )));
        }
        if !self.confined {
            return Ok(real);
        }
        let inside = |root: &Path| lexical.starts_with(root) && real.starts_with(root);
        if inside(&self.root) || (reading && self.read_roots.iter().any(|r| real.starts_with(r))) {
            return Ok(real);
        }
        Err(ToolError::Forbidden(format!(
            "\"{raw}\" is outside the agent's workspace; file tools stay inside it (tools.fs.workspaceOnly)"
        )))
    }

    /// The path as shown to the model: relative to the workspace when inside it.
    pub fn shown(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused_when_confined() {
        let dir = tempfile::tempdir().unwrap();
        let ws_dir = dir.path().join("ws");
        let outside = dir.path().join("secret.txt");
        std::fs::write(&outside, "x").unwrap();
        let ws = Workspace::open(&ws_dir, true, &[]).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&ws_dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "created for its owner only");
            std::os::unix::fs::symlink(&outside, ws_dir.join("link")).unwrap();
            std::os::unix::fs::symlink(dir.path(), ws_dir.join("dirlink")).unwrap();
        }
        assert!(ws.readable("notes/a.md").is_ok());
        assert!(ws.writable("new/deeper/b.md").is_ok());
        for bad in [
            "../secret.txt",
            "notes/../../secret.txt",
            outside.to_str().unwrap(),
            "/etc/passwd",
            "link",
            "dirlink/secret.txt",
        ] {
            assert!(
                matches!(ws.readable(bad), Err(ToolError::Forbidden(_))),
                "{bad}"
            );
            assert!(ws.writable(bad).is_err(), "{bad}");
        }
        let open = Workspace::open(&ws_dir, false, &[]).unwrap();
        assert!(
            open.readable("../secret.txt").is_ok(),
            "unconfined on request"
        );
    }

    #[test]
    fn memory_files_are_hidden_from_group_calls() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(&dir.path().join("ws"), true, &[]).unwrap();
        assert!(ws.readable("MEMORY.md").is_ok());
        ws.hide_memory = true;
        for p in [
            "MEMORY.md",
            "memory.md",
            "memory/2026-11-30.md",
            "./memory/x/y.md",
        ] {
            assert!(
                matches!(ws.readable(p), Err(ToolError::Forbidden(_))),
                "{p}"
            );
        }
        assert!(ws.readable("memory-notes.md").is_ok());
        assert!(ws.readable("notes/MEMORY.md").is_ok());
    }

    #[test]
    fn skill_folders_are_readable_not_writable() {
        let dir = tempfile::tempdir().unwrap();
        let skills = dir.path().join("skills");
        std::fs::create_dir_all(&skills).unwrap();
        std::fs::write(skills.join("SKILL.md"), "x").unwrap();
        let ws =
            Workspace::open(&dir.path().join("ws"), true, std::slice::from_ref(&skills)).unwrap();
        let file = skills.join("SKILL.md");
        assert!(ws.readable(file.to_str().unwrap()).is_ok());
        assert!(ws.writable(file.to_str().unwrap()).is_err());
    }
}
