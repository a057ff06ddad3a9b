//! `session`: how conversations map to sessions and when they start afresh
//! (docs/openclaw-routing.md 1.9, 3, 4.5).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::issue::{ConfigPath, Diagnostics};

/// Messages that start a fresh session when they are the whole text (case-insensitive).
pub const DEFAULT_RESET_TRIGGERS: [&str; 2] = ["/new", "/reset"];

// ---------------------------------------------------------------------------------------------
// What users write
// ---------------------------------------------------------------------------------------------

/// The `session` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SessionSection {
    /// `per-sender` (default) or `global` (the main session key becomes `global`).
    pub scope: Option<SessionScopeKind>,
    /// Direct-message sessions. dingclaw's DingTalk default is `per-channel-peer`, as in the
    /// DingTalk connector; OpenClaw core's `main` would put every user's DMs in one session.
    pub dm_scope: Option<DmScope>,
    /// Groups: `per-group` (default) or `main` (OpenClaw 2026.9).
    pub group_scope: Option<GroupScope>,
    /// Canonical name to the ids that are the same person (`"dingtalk-connector:<id>"` or a
    /// bare id). Used for direct messages when `dmScope` is not `main`.
    pub identity_links: Option<IndexMap<String, Vec<String>>>,
    /// When sessions start afresh on their own.
    pub reset: Option<ResetEntry>,
    /// Per conversation type overrides of `reset`.
    pub reset_by_type: Option<ResetByTypeEntry>,
    /// Per channel overrides, which win over `reset` and `resetByType`.
    pub reset_by_channel: Option<IndexMap<String, ResetEntry>>,
    /// Texts that start a fresh session (default `/new`, `/reset`).
    pub reset_triggers: Option<Vec<String>>,
    /// Legacy (OpenClaw 2026.3): idle minutes when no `reset` is configured.
    pub idle_minutes: Option<u64>,
}

/// `session.scope`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SessionScopeKind {
    /// Sessions follow the message (the default).
    #[default]
    PerSender,
    /// The main session is called `global`.
    Global,
}

/// How direct messages map to sessions (docs/openclaw-routing.md 3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DmScope {
    /// Every DM of an agent shares `agent:<a>:main`.
    Main,
    /// `agent:<a>:direct:<peer>`.
    PerPeer,
    /// `agent:<a>:<channel>:direct:<peer>`.
    PerChannelPeer,
    /// `agent:<a>:<channel>:<account>:direct:<peer>`.
    PerAccountChannelPeer,
}

/// How group conversations map to sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupScope {
    /// One session per group (default).
    PerGroup,
    /// Groups share the agent's main session.
    Main,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResetEntry {
    pub mode: Option<ResetMode>,
    /// Hour of the day (0-23, gateway local time) of the daily reset.
    pub at_hour: Option<u8>,
    pub idle_minutes: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetMode {
    Daily,
    Idle,
    None,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetByTypeEntry {
    pub direct: Option<ResetEntry>,
    /// OpenClaw 2026.3 spelling of `direct`.
    pub dm: Option<ResetEntry>,
    pub group: Option<ResetEntry>,
    pub thread: Option<ResetEntry>,
}

// ---------------------------------------------------------------------------------------------
// What dingclaw runs with
// ---------------------------------------------------------------------------------------------

/// Session settings after defaults.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionConfig {
    /// `scope`: `per-sender` or `global`.
    pub scope: SessionScopeKind,
    /// `None` when unset: each channel applies its own default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dm_scope: Option<DmScope>,
    /// `groupScope` (2026.9): groups in their own sessions or the agent's main one.
    pub group_scope: GroupScope,
    /// Canonical name to ids, in config order (the first match wins).
    pub identity_links: Vec<(String, Vec<String>)>,
    /// `resetTriggers` (`/new`, `/reset` by default).
    pub reset_triggers: Vec<String>,
    /// Automatic reset for direct conversations.
    pub reset_direct: ResetPolicy,
    /// Automatic reset for group conversations.
    pub reset_group: ResetPolicy,
    /// `resetByChannel`: per channel id (lower-case), winning over the two above.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reset_by_channel: Vec<(String, ResetPolicy)>,
}

/// When a session starts afresh on its own. dingclaw defaults to never (OpenClaw 2026.9):
/// a chat bot that forgets its users every morning at 4 surprises them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetPolicy {
    /// Reset at this local hour every day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub daily_at_hour: Option<u8>,
    /// Reset after this many idle minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_minutes: Option<u64>,
}

impl SessionConfig {
    /// The main session key segment: `main`, or `global` under `scope: "global"`.
    pub fn main_key(&self) -> &'static str {
        match self.scope {
            SessionScopeKind::PerSender => "main",
            SessionScopeKind::Global => "global",
        }
    }

    /// The automatic reset of a conversation on `channel`.
    pub fn reset_for(&self, channel: &str, group: bool) -> ResetPolicy {
        match self.reset_by_channel.iter().find(|(c, _)| c == channel) {
            Some((_, policy)) => *policy,
            None if group => self.reset_group,
            None => self.reset_direct,
        }
    }

    /// True when `text` (trimmed, any case) is a reset trigger.
    pub fn is_reset_trigger(&self, text: &str) -> bool {
        let t = text.trim();
        self.reset_triggers
            .iter()
            .any(|r| r.eq_ignore_ascii_case(t))
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        build_session(None, &mut Diagnostics::default())
    }
}

pub(crate) fn build_session(
    section: Option<&SessionSection>,
    diags: &mut Diagnostics,
) -> SessionConfig {
    let empty = SessionSection::default();
    let s = section.unwrap_or(&empty);
    let at = ConfigPath::root().key("session");
    let legacy_idle = s.idle_minutes.filter(|_| s.reset.is_none());
    let base = s.reset.clone().unwrap_or_else(|| ResetEntry {
        mode: legacy_idle.map(|_| ResetMode::Idle),
        at_hour: None,
        idle_minutes: legacy_idle,
    });
    let by_type = s.reset_by_type.clone().unwrap_or_default();
    check_hours(s, &at, diags);
    // A per-channel entry wins outright; a per-type entry is merged field by field.
    let resolve = |over: Option<&ResetEntry>| {
        let merged = match over {
            Some(o) => ResetEntry {
                mode: o.mode.or(base.mode),
                at_hour: o.at_hour.or(base.at_hour),
                idle_minutes: o.idle_minutes.or(base.idle_minutes),
            },
            None => base.clone(),
        };
        reset_policy(&merged)
    };
    let reset_by_channel = s
        .reset_by_channel
        .iter()
        .flatten()
        .map(|(channel, entry)| (channel.trim().to_lowercase(), reset_policy(entry)))
        .collect();
    let reset_direct = resolve(by_type.direct.as_ref().or(by_type.dm.as_ref()));
    let reset_group = resolve(by_type.group.as_ref());
    SessionConfig {
        scope: s.scope.unwrap_or_default(),
        dm_scope: s.dm_scope,
        group_scope: s.group_scope.unwrap_or(GroupScope::PerGroup),
        identity_links: s
            .identity_links
            .iter()
            .flatten()
            .map(|(k, v)| (k.trim().to_owned(), v.clone()))
            .filter(|(k, _)| !k.is_empty())
            .collect(),
        reset_triggers: s.reset_triggers.clone().unwrap_or_else(|| {
            DEFAULT_RESET_TRIGGERS
                .iter()
                .map(|t| (*t).to_owned())
                .collect()
        }),
        reset_direct,
        reset_group,
        reset_by_channel,
    }
}

/// Reports every `atHour` outside 0-23, at its own path.
fn check_hours(s: &SessionSection, at: &ConfigPath, diags: &mut Diagnostics) {
    let by_type = s.reset_by_type.as_ref();
    let entries = [
        (at.key("reset"), s.reset.as_ref()),
        (
            at.key("resetByType").key("direct"),
            by_type.and_then(|t| t.direct.as_ref()),
        ),
        (
            at.key("resetByType").key("dm"),
            by_type.and_then(|t| t.dm.as_ref()),
        ),
        (
            at.key("resetByType").key("group"),
            by_type.and_then(|t| t.group.as_ref()),
        ),
        (
            at.key("resetByType").key("thread"),
            by_type.and_then(|t| t.thread.as_ref()),
        ),
    ];
    let channels = s
        .reset_by_channel
        .iter()
        .flatten()
        .map(|(k, v)| (at.key("resetByChannel").key(k), Some(v)));
    for (path, entry) in entries.into_iter().chain(channels) {
        if let Some(h) = entry.and_then(|e| e.at_hour)
            && h > 23
        {
            diags.error(path.key("atHour"), format!("{h} is not an hour (0-23)"));
        }
    }
}

fn reset_policy(entry: &ResetEntry) -> ResetPolicy {
    match entry.mode {
        None | Some(ResetMode::None) => ResetPolicy {
            // An idle limit without a mode still applies, as in OpenClaw.
            idle_minutes: entry.idle_minutes.filter(|m| *m > 0),
            daily_at_hour: None,
        },
        Some(ResetMode::Daily) => ResetPolicy {
            daily_at_hour: Some(entry.at_hour.unwrap_or(4).min(23)),
            idle_minutes: entry.idle_minutes.filter(|m| *m > 0),
        },
        Some(ResetMode::Idle) => ResetPolicy {
            daily_at_hour: None,
            idle_minutes: entry.idle_minutes.filter(|m| *m > 0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(json: serde_json::Value) -> (SessionConfig, Diagnostics) {
        let s: SessionSection = serde_json::from_value(json).unwrap();
        let mut d = Diagnostics::default();
        (build_session(Some(&s), &mut d), d)
    }

    #[test]
    fn defaults_never_reset_and_know_the_triggers() {
        let s = SessionConfig::default();
        assert_eq!(s.reset_direct, ResetPolicy::default());
        assert!(s.is_reset_trigger(" /NEW "));
        assert!(!s.is_reset_trigger("/newer"));
        assert_eq!(s.main_key(), "main");
    }

    #[test]
    fn per_type_merges_over_base_and_channel_wins() {
        let (s, d) = build(serde_json::json!({
            "reset": {"mode": "daily", "atHour": 3},
            "resetByType": {"group": {"mode": "idle", "idleMinutes": 30}},
        }));
        assert!(d.errors.is_empty());
        assert_eq!(s.reset_direct.daily_at_hour, Some(3));
        assert_eq!(
            s.reset_group,
            ResetPolicy {
                daily_at_hour: None,
                idle_minutes: Some(30)
            }
        );
        let (s, _) = build(serde_json::json!({
            "reset": {"mode": "daily"},
            "resetByChannel": {"dingtalk-connector": {"mode": "idle", "idleMinutes": 5}},
        }));
        let connector = s.reset_for("dingtalk-connector", false);
        assert_eq!(connector.idle_minutes, Some(5));
        assert_eq!(connector.daily_at_hour, None);
        assert_eq!(s.reset_for("dingtalk-connector", true), connector);
        // Another channel keeps the general rule.
        assert_eq!(s.reset_for("dingtalk", false).daily_at_hour, Some(4));
    }

    #[test]
    fn bad_hour_is_an_error_with_path() {
        let (_, d) =
            build(serde_json::json!({"resetByType": {"group": {"mode": "daily", "atHour": 25}}}));
        assert_eq!(
            d.errors[0].to_string(),
            "session.resetByType.group.atHour: 25 is not an hour (0-23)"
        );
    }
}
