//! Which OpenClaw DingTalk plugin a config was written for (docs/dingtalk-protocol.md 7).
//!
//! Three plugins exist and dingclaw reads the configs of all three. DingTalk-Real-AI's
//! connector owns `channels.dingtalk-connector`; `@soimy/dingtalk` and
//! `@openclaw-china/dingtalk` both use `channels.dingtalk`, with mostly the same keys and a
//! few different defaults (reply mode, `requireMention`, an implicit default account). The
//! keys only one of them has tell them apart; a section with none of those is read with the
//! defaults they share.

use serde::Serialize;
use serde_json::Value;

/// The channel id of DingTalk-Real-AI's connector: its session keys and bindings use it.
pub const DINGTALK_CHANNEL: &str = "dingtalk-connector";

/// The channel id of `@soimy/dingtalk` and `@openclaw-china/dingtalk`.
pub const DINGTALK_PLUGIN_CHANNEL: &str = "dingtalk";

/// Is `channel` (lower-case) one of the DingTalk channels dingclaw serves?
pub fn is_dingtalk_channel(channel: &str) -> bool {
    channel == DINGTALK_CHANNEL || channel == DINGTALK_PLUGIN_CHANNEL
}

/// The plugin whose schema a DingTalk section follows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginSchema {
    /// `channels.dingtalk-connector` (`@dingtalk-real-ai/dingtalk-connector`).
    #[default]
    Connector,
    /// `channels.dingtalk` with keys only `@soimy/dingtalk` has.
    Soimy,
    /// `channels.dingtalk` with keys only `@openclaw-china/dingtalk` has.
    OpenclawChina,
    /// `channels.dingtalk` with only the keys both plugins share.
    EitherPlugin,
}

impl PluginSchema {
    /// The channel id its messages, session keys and bindings use.
    pub fn channel(self) -> &'static str {
        match self {
            PluginSchema::Connector => DINGTALK_CHANNEL,
            _ => DINGTALK_PLUGIN_CHANNEL,
        }
    }

    /// The npm package, as operators know it.
    pub fn package(self) -> &'static str {
        match self {
            PluginSchema::Connector => "@dingtalk-real-ai/dingtalk-connector",
            PluginSchema::Soimy => "@soimy/dingtalk",
            PluginSchema::OpenclawChina => "@openclaw-china/dingtalk",
            PluginSchema::EitherPlugin => "@soimy/dingtalk or @openclaw-china/dingtalk",
        }
    }

    /// How replies go out when the config does not say: the connector streams AI cards;
    /// soimy's `messageType` defaults to markdown and openclaw-china's `enableAICard` is off
    /// unless set, so their users keep the plain messages they had.
    pub fn replies_in_cards_by_default(self) -> bool {
        self == PluginSchema::Connector
    }

    /// openclaw-china answers group messages only when they @-mention the bot unless
    /// `requireMention: false`; the others leave that to DingTalk.
    pub fn requires_mention_by_default(self) -> bool {
        self == PluginSchema::OpenclawChina
    }

    /// openclaw-china also runs an account named `default` from top-level credentials when
    /// `accounts` is set; the others run only the listed accounts.
    pub fn top_level_credentials_add_an_account(self) -> bool {
        self == PluginSchema::OpenclawChina
    }

    /// soimy compares `allowFrom` entries without regard to case.
    pub fn allow_lists_ignore_case(self) -> bool {
        self == PluginSchema::Soimy
    }
}

/// What `config check` says about one section: which schema, and the keys that showed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recognised {
    /// `channels.dingtalk` or `channels.dingtalk-connector`.
    pub section: String,
    /// The plugin whose schema it follows.
    pub schema: PluginSchema,
    /// Keys (dotted, from the section) only that plugin has; empty for the connector's own
    /// section and for a section with only shared keys.
    pub evidence: Vec<String>,
}

impl Recognised {
    /// `channels.dingtalk` is shared by two plugins, so which one was read is worth saying.
    pub fn evidence_matters(&self) -> bool {
        self.schema != PluginSchema::Connector
    }

    /// One line for `config check`.
    pub fn describe(&self) -> String {
        let why = match (self.schema, self.evidence.is_empty()) {
            (PluginSchema::Connector, _) => "its own section".to_owned(),
            (PluginSchema::EitherPlugin, _) => {
                "only keys both plugins share; read with their common defaults (markdown replies)"
                    .to_owned()
            }
            (_, true) => "no key specific to it".to_owned(),
            (_, false) => format!("keys {}", self.evidence.join(", ")),
        };
        format!(
            "{}: read as {}'s schema ({why})",
            self.section,
            self.schema.package()
        )
    }
}

/// Keys, at the channel or an account, that only soimy's schema has.
const SOIMY_ONLY: &[&str] = &[
    "messageType",
    "cardStreamingMode",
    "cardRealTimeStream",
    "cardStreamInterval",
    "cardAtSender",
    "aicardDegradeMs",
    "convertMarkdownTables",
    "ackReaction",
    "cardStatusLine",
    "displayNameResolution",
    "contextVisibility",
    "mediaUrlAllowlist",
    "journalTTLDays",
    "bypassProxyForSend",
    "proactivePermissionHint",
    "learningEnabled",
    "learningAutoApply",
    "learningNoteTtlMs",
    "maxConnectionAttempts",
    "initialReconnectDelay",
    "maxReconnectDelay",
    "reconnectJitter",
    "maxReconnectCycles",
    "reconnectDeadlineMs",
    "useConnectionManager",
    "keepAlive",
    "cardTemplateId",
    "cardTemplateKey",
    "mediaMaxMb",
];

/// Keys, at the channel or an account, that only openclaw-china's schema has.
const CHINA_ONLY: &[&str] = &[
    "enableAICard",
    "gatewayToken",
    "gatewayPassword",
    "maxFileSizeMB",
    "inboundMedia",
    "longTaskNoticeDelayMs",
    "requireMention",
    "historyLimit",
];

/// Reads which plugin wrote `channels.dingtalk`, from the keys of its top level and its
/// accounts. Should both plugins' keys appear, the one with more wins.
pub(crate) fn recognise_plugin_section(section: &Value) -> Recognised {
    let mut soimy = Vec::new();
    let mut china = Vec::new();
    let mut scan = |obj: &serde_json::Map<String, Value>, prefix: &str| {
        for key in obj.keys() {
            let dotted = format!("{prefix}{key}");
            if SOIMY_ONLY.contains(&key.as_str()) {
                soimy.push(dotted);
            } else if CHINA_ONLY.contains(&key.as_str()) {
                china.push(dotted);
            }
        }
    };
    if let Some(top) = section.as_object() {
        scan(top, "");
        if let Some(accounts) = top.get("accounts").and_then(Value::as_object) {
            for (id, account) in accounts {
                if let Some(a) = account.as_object() {
                    scan(a, &format!("accounts.{id}."));
                }
            }
        }
    }
    let (schema, evidence) = match (soimy.len(), china.len()) {
        (0, 0) => (PluginSchema::EitherPlugin, Vec::new()),
        (s, c) if s >= c => (PluginSchema::Soimy, soimy),
        _ => (PluginSchema::OpenclawChina, china),
    };
    Recognised {
        section: format!("channels.{DINGTALK_PLUGIN_CHANNEL}"),
        schema,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_only_one_plugin_has_name_it() {
        let soimy = recognise_plugin_section(&json!({
            "clientId": "a", "messageType": "card", "accounts": {"b": {"cardStreamInterval": 500}}
        }));
        assert_eq!(soimy.schema, PluginSchema::Soimy);
        assert_eq!(
            soimy.evidence,
            vec!["messageType", "accounts.b.cardStreamInterval"]
        );
        assert!(
            soimy
                .describe()
                .contains("@soimy/dingtalk's schema (keys messageType")
        );

        let china = recognise_plugin_section(&json!({"enableAICard": true, "maxFileSizeMB": 50}));
        assert_eq!(china.schema, PluginSchema::OpenclawChina);

        let shared = recognise_plugin_section(&json!({"clientId": "a", "dmPolicy": "open"}));
        assert_eq!(shared.schema, PluginSchema::EitherPlugin);
        assert_eq!(shared.schema.channel(), "dingtalk");
    }
}
