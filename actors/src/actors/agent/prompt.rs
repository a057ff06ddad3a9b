//! The agent's system prompt: its identity, then the workspace's bootstrap files when they
//! exist (as OpenClaw reads them: `AGENTS.md`, `SOUL.md`, `IDENTITY.md`, `USER.md`).

use std::path::Path;

use crate::config::Agent;

/// Bootstrap files read from the workspace, in this order.
pub const BOOTSTRAP_FILES: [&str; 4] = ["AGENTS.md", "SOUL.md", "IDENTITY.md", "USER.md"];

/// Characters kept from one bootstrap file (OpenClaw's `bootstrapMaxChars` default).
pub const BOOTSTRAP_MAX_CHARS: usize = 20_000;

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
        }
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
