//! The agent's system prompt: its identity, then the workspace's bootstrap files when they
//! exist (as OpenClaw reads them: `AGENTS.md`, `SOUL.md`, `IDENTITY.md`, `USER.md`). Per turn
//! the agent adds the skills list, and in private chats the memory section and `MEMORY.md`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::Agent;

/// Bootstrap files read from the workspace, in this order.
pub const BOOTSTRAP_FILES: [&str; 4] = ["AGENTS.md", "SOUL.md", "IDENTITY.md", "USER.md"];

/// Characters kept from one bootstrap file (OpenClaw's `bootstrapMaxChars` default).
pub const BOOTSTRAP_MAX_CHARS: usize = 20_000;

/// The memory section of private chats' prompts (OpenClaw's "Memory Recall").
pub const MEMORY_RECALL: &str = "## Memory Recall\nBefore answering anything about past work, decisions, dates, people, preferences or todos, run memory_search, then memory_get for the lines you need. Keep lasting facts in MEMORY.md and daily notes in memory/YYYY-MM-DD.md (write or edit them); memory is private to this person's chats.";

/// `MEMORY.md` (or `memory.md`) as last read, re-read when its modification time changes:
/// one `stat` per private turn instead of a read.
#[derive(Default)]
pub struct MemoryFileCache {
    cached: Option<(PathBuf, SystemTime, Option<String>)>,
}

impl MemoryFileCache {
    /// The file's text (at most `BOOTSTRAP_MAX_CHARS`), if it exists and is not blank.
    pub fn read(&mut self, workspace: &Path) -> Option<String> {
        let (path, modified) = ["MEMORY.md", "memory.md"].iter().find_map(|n| {
            let p = workspace.join(n);
            let m = std::fs::metadata(&p).ok()?.modified().ok()?;
            Some((p, m))
        })?;
        if let Some((p, m, text)) = &self.cached
            && *p == path
            && *m == modified
        {
            return text.clone();
        }
        let text = read_bootstrap(&path);
        self.cached = Some((path, modified, text.clone()));
        text
    }
}

/// The display name the agent speaks as: identity name, else agent name, else id.
pub fn persona(agent: &Agent) -> &str {
    agent
        .identity
        .name
        .as_deref()
        .or(agent.name.as_deref())
        .unwrap_or(&agent.id)
}

/// Builds the system prompt. Reads the workspace (small files, once per actor start).
pub fn system_prompt(agent: &Agent, skip_bootstrap: bool) -> String {
    let mut out = format!("You are {}", persona(agent));
    if let Some(theme) = &agent.identity.theme {
        out.push_str(&format!(", a {theme} assistant"));
    }
    out.push('.');
    if let Some(emoji) = &agent.identity.emoji {
        out.push_str(&format!(" Your emoji is {emoji}."));
    }
    out.push_str(" You talk with people in DingTalk chats; answer in the language they write in.");
    out.push_str(&format!(
        " Your workspace folder is {}; file tools resolve relative paths against it.",
        agent.workspace.display()
    ));
    if !skip_bootstrap {
        for name in BOOTSTRAP_FILES {
            if let Some(text) = read_bootstrap(&agent.workspace.join(name)) {
                out.push_str(&format!("\n\n# {name}\n\n{text}"));
            }
        }
    }
    out
}

fn read_bootstrap(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    Some(text.chars().take(BOOTSTRAP_MAX_CHARS).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Identity, ModelSelection};

    fn agent(ws: &Path) -> Agent {
        Agent {
            id: "ding-bot1".into(),
            name: Some("DingTalk Customer Service Bot".into()),
            description: None,
            is_default: true,
            workspace: ws.to_path_buf(),
            agent_dir: ws.join("agent"),
            model: ModelSelection::default(),
            identity: Identity {
                name: Some("Service Assistant".into()),
                theme: Some("Customer Service".into()),
                ..Identity::default()
            },
            tools: Default::default(),
            skills: None,
            memory: Default::default(),
        }
    }

    #[test]
    fn memory_file_is_cached_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = MemoryFileCache::default();
        assert_eq!(cache.read(dir.path()), None);
        std::fs::write(dir.path().join("MEMORY.md"), "likes tea").unwrap();
        assert_eq!(cache.read(dir.path()).as_deref(), Some("likes tea"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.path().join("MEMORY.md"), "likes coffee").unwrap();
        let f = std::fs::File::options()
            .write(true)
            .open(dir.path().join("MEMORY.md"))
            .unwrap();
        f.set_modified(SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(cache.read(dir.path()).as_deref(), Some("likes coffee"));
    }

    #[test]
    fn identity_and_bootstrap_files_make_the_prompt() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("SOUL.md"), "Be kind.\n").unwrap();
        std::fs::write(dir.path().join("AGENTS.md"), "   ").unwrap();
        let p = system_prompt(&agent(dir.path()), false);
        assert!(
            p.starts_with("You are Service Assistant, a Customer Service assistant."),
            "{p}"
        );
        assert!(p.contains("# SOUL.md\n\nBe kind."));
        assert!(!p.contains("AGENTS.md"), "empty files are skipped");
        assert!(!system_prompt(&agent(dir.path()), true).contains("SOUL"));
    }
}
