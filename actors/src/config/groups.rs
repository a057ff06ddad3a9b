//! `groups.<conversationId | "*">` of a DingTalk account or channel
//! (docs/dingtalk-protocol.md 7.2, 7.3): a group's own system prompt, tool policy,
//! enabled flag, mention rule and senders. The connectors read different parts of it (the
//! official one only `tools`, soimy's `systemPrompt`, `requireMention` and
//! `groupAllowFrom`); dingclaw reads all of them. A group's entry is merged over `"*"` field
//! by field.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::bindings::IdValue;
use super::issue::{ConfigPath, Diagnostics};
use super::tools::{PolicyEntry, ToolPolicy, layer};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GroupEntry {
    /// Added to the system prompt of this group's turns.
    pub system_prompt: Option<String>,
    /// Answer only messages that @-mention the bot.
    pub require_mention: Option<bool>,
    /// `false`: the bot does not answer in this group.
    pub enabled: Option<bool>,
    /// Tool policy for this group's turns (`allow`, `deny`, `profile`, `alsoAllow`).
    pub tools: Option<PolicyEntry>,
    /// Senders allowed in this group (soimy's schema).
    pub group_allow_from: Option<Vec<IdValue>>,
    /// The same, as the official connector's schema names it.
    pub allow_from: Option<Vec<IdValue>>,
    /// In the official connector's schema; sessions follow the account's
    /// `groupSessionScope` (a warning says so).
    pub group_session_scope: Option<serde_json::Value>,
}

/// One group's settings after merging over `"*"`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSettings {
    /// `systemPrompt`, added for this group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// `requireMention`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_mention: Option<bool>,
    /// `enabled`: `false` ignores the group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `tools`: the group's tool policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolPolicy>,
    /// `None`: any sender; `Some([])`: nobody (fail closed, as soimy's connector does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub senders: Option<Vec<String>>,
}

impl GroupSettings {
    /// `self`, with `base` filling what it leaves unset.
    fn over(&self, base: &GroupSettings) -> GroupSettings {
        GroupSettings {
            system_prompt: self
                .system_prompt
                .clone()
                .or_else(|| base.system_prompt.clone()),
            require_mention: self.require_mention.or(base.require_mention),
            enabled: self.enabled.or(base.enabled),
            tools: self.tools.clone().or_else(|| base.tools.clone()),
            senders: self.senders.clone().or_else(|| base.senders.clone()),
        }
    }
}

/// Every configured group of an account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Groups(IndexMap<String, GroupSettings>);

impl Groups {
    /// The settings of group `cid`: its own entry over `"*"`, or `None` if neither exists.
    pub fn resolve(&self, cid: &str) -> Option<GroupSettings> {
        match (self.0.get(cid), self.0.get("*")) {
            (Some(own), Some(all)) => Some(own.over(all)),
            (Some(own), None) => Some(own.clone()),
            (None, Some(all)) => Some(all.clone()),
            (None, None) => None,
        }
    }

    /// Is this group named (or `"*"` present)? soimy's `allowlist` admits those groups.
    pub fn lists(&self, cid: &str) -> bool {
        self.0.contains_key(cid) || self.0.contains_key("*")
    }

    /// No group is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub(crate) fn build_groups(
    entries: Option<&IndexMap<String, GroupEntry>>,
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> Groups {
    let mut out = IndexMap::new();
    for (cid, e) in entries.into_iter().flatten() {
        let path = at.key(cid);
        if e.group_session_scope.is_some() {
            diags.warn(
                path.key("groupSessionScope"),
                "per-group session scope is not applied; the account's groupSessionScope is",
            );
        }
        let senders = e
            .group_allow_from
            .as_ref()
            .or(e.allow_from.as_ref())
            .map(|l| {
                l.iter()
                    .map(|i| i.clone().into_string().trim().to_owned())
                    .filter(|i| !i.is_empty())
                    .collect()
            });
        out.insert(
            cid.trim().to_owned(),
            GroupSettings {
                system_prompt: e
                    .system_prompt
                    .as_deref()
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
                require_mention: e.require_mention,
                enabled: e.enabled,
                tools: e
                    .tools
                    .as_ref()
                    .map(|t| layer(t, &path.key("tools"), diags)),
                senders,
            },
        );
    }
    Groups(out)
}

/// DingTalk group conversation ids start with `cid`: in `groupAllowFrom` they name groups
/// (the official connector and openclaw-china); anything else names senders (soimy).
pub fn is_conversation_id(id: &str) -> bool {
    id.starts_with("cid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_merged_over_the_star_entry() {
        let raw: IndexMap<String, GroupEntry> = serde_json::from_value(serde_json::json!({
            "*": {"systemPrompt": "Be brief.", "groupAllowFrom": ["alice"], "tools": {"deny": ["exec"]}},
            "cidA": {"systemPrompt": "You are the finance bot.", "requireMention": false},
            "cidB": {"enabled": false, "allowFrom": []},
        }))
        .unwrap();
        let mut d = Diagnostics::default();
        let g = build_groups(Some(&raw), &ConfigPath::root().key("groups"), &mut d);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        let a = g.resolve("cidA").unwrap();
        assert_eq!(a.system_prompt.as_deref(), Some("You are the finance bot."));
        assert_eq!(a.senders, Some(vec!["alice".to_owned()]));
        assert_eq!(a.require_mention, Some(false));
        assert!(a.tools.is_some());
        let b = g.resolve("cidB").unwrap();
        assert_eq!((b.enabled, b.senders), (Some(false), Some(vec![])));
        assert_eq!(
            g.resolve("cidOther").unwrap().system_prompt.as_deref(),
            Some("Be brief.")
        );
        assert!(Groups::default().resolve("cidA").is_none());
        assert!(is_conversation_id("cidXy12==") && !is_conversation_id("manager4521"));
    }
}
