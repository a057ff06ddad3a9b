//! `bindings`: which agent answers which bot, group or person (docs/openclaw-routing.md
//! 1.8 and 2). Only the data and its validation live here; the matching is in `routing`.

use serde::{Deserialize, Serialize};

use super::agents::AgentRoster;
use super::ids::{normalize_account_id, normalize_agent_id};
use super::issue::{ConfigPath, Diagnostics};
use super::session::{DmScope, GroupScope};

// ---------------------------------------------------------------------------------------------
// What users write
// ---------------------------------------------------------------------------------------------

/// One entry of `bindings`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BindingEntry {
    /// `route` (default) or `acp`; only route bindings take part in routing.
    #[serde(rename = "type")]
    pub kind: Option<BindingKind>,
    /// The agent that answers what this binding matches. Must name a configured agent.
    pub agent_id: Option<String>,
    /// Free text for humans.
    pub comment: Option<String>,
    /// What the binding matches; every field given must hold.
    #[serde(rename = "match")]
    pub matches: Option<MatchEntry>,
    /// Session scope for the conversations this binding matches (OpenClaw 2026.9).
    pub session: Option<BindingSessionEntry>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BindingKind {
    #[default]
    Route,
    Acp,
}

/// `bindings.N.match`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MatchEntry {
    /// Channel id, `dingtalk-connector` for DingTalk bots. Required.
    pub channel: Option<String>,
    /// Account id; omitted matches only the account `default`, `"*"` matches every account.
    pub account_id: Option<String>,
    /// A conversation: `{ kind: "direct"|"group", id }`; `id: "*"` matches every one of a kind.
    pub peer: Option<PeerEntry>,
    /// Discord server; never matches DingTalk messages.
    pub guild_id: Option<String>,
    /// Slack or Teams workspace; never matches DingTalk messages.
    pub team_id: Option<String>,
    /// Discord roles; never match DingTalk messages.
    pub roles: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    pub kind: Option<PeerKindEntry>,
    pub id: Option<IdValue>,
}

/// Peer kinds as written; `dm` is OpenClaw's deprecated spelling of `direct`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerKindEntry {
    Direct,
    Dm,
    Group,
    Channel,
}

/// An id written as a string or a number (OpenClaw converts numbers to strings).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged, expecting = "a string or a number")]
pub enum IdValue {
    Text(String),
    Number(serde_json::Number),
}

impl IdValue {
    pub fn into_string(self) -> String {
        match self {
            IdValue::Text(s) => s,
            IdValue::Number(n) => n.to_string(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BindingSessionEntry {
    pub dm_scope: Option<DmScope>,
    pub group_scope: Option<GroupScope>,
}

// ---------------------------------------------------------------------------------------------
// What dingclaw runs with
// ---------------------------------------------------------------------------------------------

/// A validated route binding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    /// Position in `bindings`, which is also its precedence within a tier.
    pub index: usize,
    /// The agent it sends to.
    pub agent_id: String,
    /// `comment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Lower-cased channel id.
    pub channel: String,
    /// `match.accountId`.
    #[serde(rename = "accountId")]
    pub account: AccountMatch,
    /// `match.peer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<PeerMatch>,
    /// Guild, team or role constraints, which DingTalk messages never satisfy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub needs_guild_or_team: bool,
    /// `session.dmScope` for what it routes (2026.9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dm_scope: Option<DmScope>,
    /// `session.groupScope` for what it routes (2026.9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_scope: Option<GroupScope>,
}

/// Which accounts a binding applies to. Serializes as the account id, or `"*"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountMatch {
    /// One account (normalised id); a binding without `accountId` names `default`.
    Account(String),
    /// `accountId: "*"`.
    Any,
}

impl Serialize for AccountMatch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AccountMatch::Account(a) => s.serialize_str(a),
            AccountMatch::Any => s.serialize_str("*"),
        }
    }
}

/// The conversation a binding names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerMatch {
    /// `kind`.
    pub kind: PeerKind,
    /// Exact, case-sensitive id; `None` for the wildcard `"*"`.
    pub id: Option<String>,
}

/// Conversation kinds. OpenClaw treats `group` and `channel` as the same for matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PeerKind {
    /// A private chat.
    Direct,
    /// A group.
    Group,
    /// A channel (counts as a group).
    Channel,
}

impl PeerKind {
    /// `group` and `channel` match each other (docs/openclaw-routing.md 2.4).
    pub fn matches(self, other: PeerKind) -> bool {
        self == other || (self != PeerKind::Direct && other != PeerKind::Direct)
    }
}

/// Validates `bindings` against the roster. A binding naming an unknown agent is an error:
/// OpenClaw 2026.3 silently sends such messages to the default agent, which has misrouted
/// customer traffic (openclaw #13423); dingclaw refuses to start instead.
pub(crate) fn build_bindings(
    entries: &[BindingEntry],
    roster: &AgentRoster,
    diags: &mut Diagnostics,
) -> Vec<Binding> {
    let at = ConfigPath::root().key("bindings");
    let mut out = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let path = at.index(index);
        let agent = match entry.agent_id.as_deref() {
            None => {
                diags.error(path.key("agentId"), "required");
                None
            }
            Some(raw) => {
                let id = normalize_agent_id(raw);
                if roster.get(&id).is_none() {
                    diags.error(
                        path.key("agentId"),
                        format!(
                            "unknown agent \"{raw}\" (known: {})",
                            roster.ids().collect::<Vec<_>>().join(", ")
                        ),
                    );
                    None
                } else {
                    Some(id)
                }
            }
        };
        let Some(m) = entry.matches.as_ref() else {
            diags.error(path.key("match"), "required");
            continue;
        };
        let channel = m
            .channel
            .as_deref()
            .map(|c| c.trim().to_lowercase())
            .unwrap_or_default();
        if channel.is_empty() {
            diags.error(path.key("match").key("channel"), "required");
            continue;
        }
        let account = match m.account_id.as_deref().map(str::trim) {
            Some("*") => AccountMatch::Any,
            Some(a) => AccountMatch::Account(normalize_account_id(a)),
            None => AccountMatch::Account(normalize_account_id("")),
        };
        let peer = match &m.peer {
            None => None,
            Some(p) => {
                let kind = match p.kind {
                    Some(PeerKindEntry::Direct | PeerKindEntry::Dm) => Some(PeerKind::Direct),
                    Some(PeerKindEntry::Group) => Some(PeerKind::Group),
                    Some(PeerKindEntry::Channel) => Some(PeerKind::Channel),
                    None => {
                        diags.error(path.key("match").key("peer").key("kind"), "required");
                        None
                    }
                };
                let id =
                    p.id.clone()
                        .map(|i| i.into_string().trim().to_owned())
                        .filter(|s| !s.is_empty());
                if id.is_none() {
                    diags.error(path.key("match").key("peer").key("id"), "required");
                }
                match (kind, id) {
                    (Some(kind), Some(id)) => Some(PeerMatch {
                        kind,
                        id: (id != "*").then_some(id),
                    }),
                    _ => continue,
                }
            }
        };
        let Some(agent_id) = agent else { continue };
        if entry.kind == Some(BindingKind::Acp) {
            // ACP bindings hand a conversation to an external coding agent; dingclaw has none.
            diags.warn(
                path.key("type"),
                "acp bindings are not supported and are skipped",
            );
            continue;
        }
        let session = entry.session.as_ref();
        out.push(Binding {
            index,
            agent_id,
            comment: entry.comment.clone(),
            channel,
            account,
            peer,
            needs_guild_or_team: m.guild_id.is_some()
                || m.team_id.is_some()
                || m.roles.as_ref().is_some_and(|r| !r.is_empty()),
            dm_scope: session.and_then(|s| s.dm_scope),
            group_scope: session.and_then(|s| s.group_scope),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::agents::build_roster;
    use crate::config::environment::MapEnv;
    use std::path::Path;

    fn run(agents: serde_json::Value, bindings: serde_json::Value) -> (Vec<Binding>, Diagnostics) {
        let mut d = Diagnostics::default();
        let section = serde_json::from_value(agents).unwrap();
        let env = MapEnv::new();
        let ctx = crate::config::agents::RosterContext::for_tests(Path::new("/s"), &env);
        let roster = build_roster(Some(&section), &[], &ctx, &mut d);
        let entries: Vec<BindingEntry> = serde_json::from_value(bindings).unwrap();
        let b = build_bindings(&entries, &roster, &mut d);
        (b, d)
    }

    #[test]
    fn unknown_agent_is_an_error_listing_known_ones() {
        let (_, d) = run(
            serde_json::json!({"list": [{"id": "ding-bot1"}, {"id": "ding-bot2"}]}),
            serde_json::json!([{"agentId": "ding-bot3", "match": {"channel": "dingtalk-connector"}}]),
        );
        assert_eq!(
            d.errors[0].to_string(),
            "bindings.0.agentId: unknown agent \"ding-bot3\" (known: ding-bot1, ding-bot2)"
        );
    }

    #[test]
    fn normalises_accounts_and_peers() {
        let (b, d) = run(
            serde_json::json!({"list": [{"id": "a"}]}),
            serde_json::json!([
                {"agentId": "A", "match": {"channel": " DingTalk-Connector ", "accountId": "Bot1"}},
                {"agentId": "a", "match": {"channel": "dingtalk-connector", "accountId": "*"}},
                {"agentId": "a", "match": {"channel": "dingtalk-connector"}},
                {"agentId": "a", "match": {"channel": "dingtalk-connector", "peer": {"kind": "dm", "id": 123}}},
                {"agentId": "a", "match": {"channel": "dingtalk-connector", "peer": {"kind": "group", "id": "*"}}},
            ]),
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(b[0].channel, "dingtalk-connector");
        assert_eq!(b[0].agent_id, "a");
        assert_eq!(b[0].account, AccountMatch::Account("bot1".into()));
        assert_eq!(b[1].account, AccountMatch::Any);
        assert_eq!(b[2].account, AccountMatch::Account("default".into()));
        assert_eq!(
            b[3].peer,
            Some(PeerMatch {
                kind: PeerKind::Direct,
                id: Some("123".into())
            })
        );
        assert_eq!(
            b[4].peer,
            Some(PeerMatch {
                kind: PeerKind::Group,
                id: None
            })
        );
    }

    #[test]
    fn missing_parts_are_reported() {
        let (b, d) = run(
            serde_json::json!({"list": [{"id": "a"}]}),
            serde_json::json!([
                {"match": {"channel": "x"}},
                {"agentId": "a"},
                {"agentId": "a", "match": {}},
                {"agentId": "a", "match": {"channel": "x", "peer": {"kind": "group"}}},
            ]),
        );
        assert!(b.is_empty());
        let lines: Vec<_> = d.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "bindings.0.agentId: required",
                "bindings.1.match: required",
                "bindings.2.match.channel: required",
                "bindings.3.match.peer.id: required",
            ]
        );
    }
}
