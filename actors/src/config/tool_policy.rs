//! Which tools one model call is offered: OpenClaw's policy pipeline
//! (docs/openclaw-agent.md 1.4-1.5, 1.7). Each layer can only remove tools; within a layer
//! deny beats allow and an empty allow keeps everything. Pure functions, so the rules are
//! tested with tables and `config check` can show each agent's list.
//!
//! Layers, in order: the profile (the agent's, else the global one) with `alsoAllow`; the
//! `byProvider` profile; the global allow/deny; the global `byProvider`; the agent's
//! allow/deny; the agent's `byProvider`; the DingTalk group's `tools`; `toolsBySender`.

use super::tool_catalogue::{group, profile};
use super::tools::ToolPolicy;

/// dingclaw's own tool that stands in for OpenClaw's `session_status` clock: every profile
/// keeps it, as every profile keeps `session_status`.
const ALWAYS_IN_PROFILE: &[&str] = &["current_time", "session_status"];

/// Where a call happens, as far as policy cares.
#[derive(Clone, Copy, Debug)]
pub struct PolicyScope<'a> {
    /// `tools`' policy.
    pub global: &'a ToolPolicy,
    /// The agent's policy.
    pub agent: &'a ToolPolicy,
    /// Canonical provider id and the model id, for `byProvider`.
    pub provider: &'a str,
    /// The model's id.
    pub model: &'a str,
    /// The group chat's own `tools` (the connector's `groups.<cid>.tools`), if any.
    pub group: Option<&'a ToolPolicy>,
    /// The channel and sender, for `toolsBySender`.
    pub channel: &'a str,
    /// The sender.
    pub sender: Option<&'a str>,
}

/// Does `pattern` (normalised) name `tool`: the name itself, a group holding it, or a glob?
fn names(pattern: &str, tool: &str) -> bool {
    if pattern == tool {
        return true;
    }
    // OpenClaw's plugin id for MCP servers' tools.
    if pattern == MCP_PLUGIN {
        return tool.contains("__");
    }
    if let Some(members) = group(pattern) {
        // MCP tools (`server__tool`) are plugin tools.
        return members.contains(&tool) || (pattern == "group:plugins" && tool.contains("__"));
    }
    pattern.contains('*') && glob(pattern, &tool.to_lowercase())
}

/// `*` matches any run of characters; nothing else is special.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().unwrap_or((&"", &[]));
    let Some(mut tail) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for part in middle {
        match tail.find(part) {
            Some(i) => tail = &tail[i + part.len()..],
            None => return false,
        }
    }
    tail.ends_with(last)
}

fn any(patterns: &[String], tool: &str) -> bool {
    patterns.iter().any(|p| names(p, tool))
}

/// One allow/deny layer (`makeToolPolicyMatcher`): deny wins; an empty allow keeps all;
/// `apply_patch` rides along with `write` (2026.9).
fn keeps(allow: &[String], deny: &[String], tool: &str) -> bool {
    if any(deny, tool) {
        return false;
    }
    allow.is_empty() || any(allow, tool) || (tool == "apply_patch" && any(allow, "write"))
}

/// A layer's allow list: `alsoAllow` alone means "everything, and these".
fn allow_of(p: &ToolPolicy) -> &[String] {
    if p.allow.is_empty() && !p.also_allow.is_empty() {
        &[]
    } else {
        &p.allow
    }
}

/// The `byProvider` entry for this provider: `provider/model` wins over `provider`.
fn by_provider<'a>(p: &'a ToolPolicy, provider: &str, model: &str) -> Option<&'a ToolPolicy> {
    if p.by_provider.is_empty() {
        return None;
    }
    let exact = format!("{provider}/{model}").to_lowercase();
    p.by_provider
        .get(&exact)
        .or_else(|| p.by_provider.get(&provider.to_lowercase()))
}

/// A profile stage: the profile's list plus `alsoAllow`; no profile keeps everything.
fn profile_keeps(name: Option<&str>, also_allow: &[String], tool: &str) -> bool {
    let Some(Some(list)) = name.and_then(profile) else {
        return true;
    };
    ALWAYS_IN_PROFILE.contains(&tool)
        || list.iter().any(|p| names(p, tool))
        || any(also_allow, tool)
        || (tool == "apply_patch" && list.iter().any(|p| names(p, "write")))
}

/// The `toolsBySender` entry for the sender: `channel:<ch>:<id>`, then `id:<id>` (or the bare
/// id), then `*`.
fn by_sender<'a>(p: &'a ToolPolicy, channel: &str, sender: Option<&str>) -> Option<&'a ToolPolicy> {
    let sender = sender?;
    // Asked per tool and per layer on every turn: no keys to build when there is no entry.
    if p.by_sender.is_empty() {
        return None;
    }
    p.by_sender
        .get(&format!("channel:{channel}:{sender}"))
        .or_else(|| p.by_sender.get(&format!("id:{sender}")))
        .or_else(|| p.by_sender.get(sender))
        .or_else(|| p.by_sender.get("*"))
}

/// The plugin that owns MCP tools in OpenClaw's policy (`deny: ["bundle-mcp"]`).
pub const MCP_PLUGIN: &str = "bundle-mcp";

/// Is `tool` offered in `scope`? Matching ignores case (MCP tool names keep theirs).
pub fn allows(scope: &PolicyScope<'_>, tool: &str) -> bool {
    let lower;
    let tool = if tool.chars().any(|c| c.is_ascii_uppercase()) {
        lower = tool.to_ascii_lowercase();
        lower.as_str()
    } else {
        tool
    };
    let PolicyScope { global, agent, .. } = *scope;
    // 1. The profile: the agent's replaces the global one, and so does its alsoAllow.
    let (profile, also) = match &agent.profile {
        Some(p) => (Some(p.as_str()), &agent.also_allow),
        None => (
            global.profile.as_deref(),
            if agent.also_allow.is_empty() {
                &global.also_allow
            } else {
                &agent.also_allow
            },
        ),
    };
    if !profile_keeps(profile, also, tool) {
        return false;
    }
    // 2. The byProvider profile (the agent's entry, else the global one).
    let agent_provider = by_provider(agent, scope.provider, scope.model);
    let global_provider = by_provider(global, scope.provider, scope.model);
    if let Some(p) = agent_provider.or(global_provider)
        && p.profile.is_some()
        && !profile_keeps(p.profile.as_deref(), &p.also_allow, tool)
    {
        return false;
    }
    // 3-6. Global, global byProvider, agent, agent byProvider allow/deny.
    let layers = [Some(global), global_provider, Some(agent), agent_provider];
    for layer in layers.into_iter().flatten() {
        if !keeps(allow_of(layer), &layer.deny, tool) {
            return false;
        }
    }
    // 7. The group chat's policy.
    if let Some(g) = scope.group
        && !keeps(allow_of(g), &g.deny, tool)
    {
        return false;
    }
    // 8. toolsBySender: the agent's match, even empty, overrides the global one.
    let sender = by_sender(agent, scope.channel, scope.sender)
        .or_else(|| by_sender(global, scope.channel, scope.sender));
    sender.is_none_or(|s| keeps(allow_of(s), &s.deny, tool))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: serde_json::Value) -> ToolPolicy {
        let s: crate::config::tools::ToolsSection = serde_json::from_value(json).unwrap();
        let mut d = crate::config::Diagnostics::default();
        let t = crate::config::tools::build_tools(
            Some(&s),
            &Default::default(),
            &crate::config::MapEnv::new(),
            &Default::default(),
            &mut d,
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        t.policy
    }

    fn offered(global: &ToolPolicy, agent: &ToolPolicy, provider: &str) -> Vec<&'static str> {
        let scope = PolicyScope {
            global,
            agent,
            provider,
            model: "m",
            group: None,
            channel: "dingtalk-connector",
            sender: Some("alice"),
        };
        crate::config::tool_catalogue::IMPLEMENTED
            .iter()
            .copied()
            .filter(|t| allows(&scope, t))
            .collect()
    }

    #[test]
    fn no_policy_filters_nothing() {
        let none = ToolPolicy::default();
        assert_eq!(
            offered(&none, &none, "p").len(),
            crate::config::tool_catalogue::IMPLEMENTED.len()
        );
    }

    #[test]
    fn profiles_groups_and_deny() {
        let none = ToolPolicy::default();
        // 2026.9's coding: files, runtime, web, memory, cron; current_time always.
        let coding = policy(serde_json::json!({"profile": "coding", "deny": ["group:runtime"]}));
        assert_eq!(
            offered(&coding, &none, "p"),
            vec![
                "apply_patch",
                "cron",
                "current_time",
                "edit",
                "memory_get",
                "memory_search",
                "read",
                "web_fetch",
                "web_search",
                "write"
            ]
        );
        let minimal = policy(serde_json::json!({"profile": "minimal", "alsoAllow": ["web_*"]}));
        assert_eq!(
            offered(&minimal, &none, "p"),
            vec!["current_time", "web_fetch", "web_search"]
        );
    }

    #[test]
    fn the_agents_profile_replaces_the_global_one_and_deny_beats_allow() {
        let global = policy(serde_json::json!({"profile": "minimal"}));
        let agent = policy(
            serde_json::json!({"profile": "full", "allow": ["read", "write", "exec"], "deny": ["exec"]}),
        );
        assert_eq!(
            offered(&global, &agent, "p"),
            vec!["apply_patch", "read", "write"]
        );
    }

    #[test]
    fn by_provider_narrows_for_one_provider_or_model() {
        let global = policy(serde_json::json!({
            "byProvider": {"kimi-coding": {"deny": ["group:web"]}, "kimi-coding/m": {"allow": ["read"]}}
        }));
        let none = ToolPolicy::default();
        assert_eq!(offered(&global, &none, "kimi-coding"), vec!["read"]);
        assert!(offered(&global, &none, "dashscope").contains(&"web_fetch"));
    }

    #[test]
    fn group_and_sender_layers() {
        let none = ToolPolicy::default();
        let group = policy(serde_json::json!({"deny": ["web_fetch"]}));
        let senders = policy(
            serde_json::json!({"toolsBySender": {"id:alice": {"allow": ["read"]}, "*": {"deny": ["read"]}}}),
        );
        let scope = |sender| PolicyScope {
            global: &senders,
            agent: &none,
            provider: "p",
            model: "m",
            group: Some(&group),
            channel: "dingtalk-connector",
            sender: Some(sender),
        };
        assert!(allows(&scope("alice"), "read"));
        assert!(!allows(&scope("alice"), "web_search"));
        assert!(!allows(&scope("bob"), "read"));
        assert!(!allows(&scope("bob"), "web_fetch"), "the group denies it");
        assert!(allows(&scope("bob"), "web_search"));
    }

    #[test]
    fn globs_match_mcp_tools() {
        assert!(glob("docs__*", "docs__search"));
        assert!(glob("*__read_*", "wiki__read_page"));
        assert!(!glob("docs__*", "wiki__search"));
        assert!(names("group:plugins", "docs__search"));
    }
}
