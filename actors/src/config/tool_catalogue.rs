//! Tool names as OpenClaw's tool policy knows them: the core tools of 2026.3 and 2026.9, their
//! groups (`group:fs`...), profiles (`coding`...) and aliases (`bash` is `exec`)
//! (docs/openclaw-agent.md 1.2-1.3). A config written for OpenClaw names these; dingclaw
//! implements some (`IMPLEMENTED`) and accepts the others, which then match nothing.

/// Tools dingclaw implements. `current_time` is dingclaw's own: OpenClaw models read the time
/// from `session_status`, which dingclaw does not have.
pub const IMPLEMENTED: &[&str] = &[
    "apply_patch",
    "cron",
    "current_time",
    "edit",
    "exec",
    "memory_get",
    "memory_search",
    "process",
    "read",
    "web_fetch",
    "web_search",
    "write",
];

/// Every core tool name of OpenClaw 2026.3 and 2026.9 (implemented or not), for validation.
pub const KNOWN: &[&str] = &[
    "agents_list",
    "apply_patch",
    "ask_user",
    "automations",
    "browser",
    "canvas",
    "code_execution",
    "cron",
    "current_time",
    "dismiss_task",
    "edit",
    "exec",
    "gateway",
    "goals",
    "heartbeat_respond",
    "image",
    "image_generate",
    "memory_get",
    "memory_search",
    "message",
    "music_generate",
    "nodes",
    "openclaw",
    "pdf",
    "plugins",
    "process",
    "progress_card",
    "read",
    "session_status",
    "sessions",
    "sessions_history",
    "sessions_list",
    "sessions_search",
    "sessions_send",
    "sessions_spawn",
    "sessions_yield",
    "skill_workshop",
    "subagents",
    "suggest_task",
    "theme",
    "tts",
    "video_generate",
    "view_image",
    "web_fetch",
    "web_search",
    "whatsapp_login",
    "write",
    "x_search",
];

/// Names OpenClaw rewrites before matching.
pub const ALIASES: &[(&str, &str)] = &[
    ("bash", "exec"),
    ("apply-patch", "apply_patch"),
    ("automations", "cron"),
];

/// `group:<name>` and what it stands for (the union of both versions' members).
pub const GROUPS: &[(&str, &[&str])] = &[
    ("group:fs", &["read", "write", "edit", "apply_patch"]),
    ("group:runtime", &["exec", "process", "code_execution"]),
    ("group:web", &["web_search", "x_search", "web_fetch"]),
    ("group:memory", &["memory_search", "memory_get"]),
    (
        "group:sessions",
        &[
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "sessions_spawn",
            "subagents",
            "session_status",
            "sessions",
            "sessions_search",
            "sessions_yield",
            "suggest_task",
            "dismiss_task",
        ],
    ),
    ("group:messaging", &["message"]),
    (
        "group:automation",
        &[
            "cron",
            "gateway",
            "heartbeat_respond",
            "plugins",
            "openclaw",
        ],
    ),
    ("group:ui", &["browser", "canvas"]),
    ("group:nodes", &["nodes"]),
    ("group:agents", &["agents_list"]),
    (
        "group:media",
        &[
            "image",
            "tts",
            "view_image",
            "image_generate",
            "music_generate",
            "video_generate",
            "pdf",
        ],
    ),
    (
        "group:openclaw",
        &[
            "web_search",
            "web_fetch",
            "x_search",
            "memory_search",
            "memory_get",
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "sessions_spawn",
            "subagents",
            "session_status",
            "message",
            "cron",
            "gateway",
            "browser",
            "canvas",
            "nodes",
            "agents_list",
            "image",
            "tts",
            "current_time",
        ],
    ),
    // Every plugin's tools: MCP servers' tools in dingclaw.
    ("group:plugins", &[]),
];

/// The profiles: `None` is "no filtering" (`full`, or no profile at all).
pub fn profile(name: &str) -> Option<Option<&'static [&'static str]>> {
    Some(match name {
        "minimal" => Some(&["session_status"][..]),
        // The 2026.9 `coding` profile (2026.3's lacked the web tools; 2026.7 added them).
        "coding" => Some(
            &[
                "group:fs",
                "group:runtime",
                "group:web",
                "group:memory",
                "group:sessions",
                "cron",
                "view_image",
                "image",
                // MCP servers' tools are plugin tools, which coding and messaging keep.
                "group:plugins",
            ][..],
        ),
        "messaging" => Some(
            &[
                "group:messaging",
                "sessions_list",
                "sessions_history",
                "sessions_send",
                "session_status",
                "subagents",
                "ask_user",
                "group:plugins",
            ][..],
        ),
        "full" => None,
        _ => return None,
    })
}

/// The profile names, for "did you mean".
pub const PROFILES: &[&str] = &["minimal", "coding", "messaging", "full"];

/// A name as OpenClaw compares it: trimmed, lower case, aliases applied.
pub fn normalize(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map(|(_, real)| (*real).to_owned())
        .unwrap_or(lower)
}

/// The members of a `group:` name, `None` when it is not a group.
pub fn group(name: &str) -> Option<&'static [&'static str]> {
    GROUPS.iter().find(|(g, _)| *g == name).map(|(_, m)| *m)
}

/// Is `name` something a policy list may hold: a known tool, alias or group, a glob, or an
/// MCP tool (`<server>__<tool>`)? Plugin ids are not known here; the caller decides.
pub fn is_known(name: &str) -> bool {
    let n = normalize(name);
    KNOWN.contains(&n.as_str())
        || group(&n).is_some()
        || n.contains('*')
        || n.contains("__")
        || n == super::tool_policy::MCP_PLUGIN
}

/// Every name a "did you mean" may suggest.
pub fn suggestions() -> Vec<&'static str> {
    KNOWN
        .iter()
        .copied()
        .chain(GROUPS.iter().map(|(g, _)| *g))
        .chain(ALIASES.iter().map(|(a, _)| *a))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implemented_tools_are_known_and_groups_name_known_tools() {
        for t in IMPLEMENTED {
            assert!(KNOWN.contains(t), "{t}");
        }
        for (g, members) in GROUPS {
            for m in *members {
                assert!(KNOWN.contains(m), "{g}: {m}");
            }
        }
        for p in PROFILES {
            if let Some(Some(list)) = profile(p) {
                for entry in list {
                    assert!(is_known(entry), "{p}: {entry}");
                }
            }
        }
    }

    #[test]
    fn names_normalise_like_openclaw() {
        assert_eq!(normalize(" Bash "), "exec");
        assert_eq!(normalize("apply-patch"), "apply_patch");
        assert!(is_known("group:web"));
        assert!(is_known("Outlook-Graph__*"));
        assert!(is_known("docs__search"));
        assert!(!is_known("web_fetc"));
    }
}
