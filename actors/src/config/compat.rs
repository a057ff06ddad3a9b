//! OpenClaw settings that dingclaw accepts but does not implement.
//!
//! An OpenClaw config must load unchanged, yet a typo inside a section dingclaw implements must
//! be an error. So the sections and keys below are taken out of the document before strict
//! validation and listed once in an "ignored" warning; anything else that is unknown is an
//! error. The lists come from OpenClaw's schemas (2026.3 and 2026.9) and the DingTalk
//! connector's schema (reference/openclaw-routing.md 1, reference/dingtalk-protocol.md 7.2).

use serde_json::Value;

use super::issue::ConfigPath;

/// Top-level OpenClaw sections dingclaw does not implement.
const SECTIONS: &[&str] = &[
    "acp",
    "approvals",
    "audio",
    "auth",
    "automations",
    "broadcast",
    "browser",
    "canvasHost",
    "cli",
    "commands",
    "diagnostics",
    "discovery",
    "hooks",
    "identity",
    "logging",
    "mcp",
    "media",
    "memory",
    "meta",
    "nodeHost",
    "plugins",
    "routing",
    "secrets",
    "skills",
    "talk",
    "tools",
    "ui",
    "update",
    "web",
    "wizard",
];

/// Keys of one agent (`agents.list.N` or `agents.entries.<id>`) that dingclaw does not use.
const AGENT_KEYS: &[&str] = &[
    "agentRuntime",
    "bootstrapMaxChars",
    "bootstrapTotalMaxChars",
    "contextInjection",
    "contextLimits",
    "contextTokens",
    "cwd",
    "embeddedAgent",
    "experimental",
    "fastModeDefault",
    "groupChat",
    "heartbeat",
    "humanDelay",
    "memory",
    "memorySearch",
    "modelPolicy",
    "models",
    "params",
    "plugins",
    "reasoningDefault",
    "runtime",
    "sandbox",
    "skills",
    "skillsLimits",
    "subagents",
    "thinkingDefault",
    "toolProgressDetail",
    "tools",
    "tts",
    "typingIntervalSeconds",
    "typingMode",
    "utilityModel",
    "verboseDefault",
];

/// Keys of `agents.defaults` that dingclaw does not use.
const AGENT_DEFAULTS_KEYS: &[&str] = &[
    "blockStreamingBreak",
    "blockStreamingChunk",
    "blockStreamingCoalesce",
    "blockStreamingDefault",
    "bootstrapMaxChars",
    "bootstrapPromptTruncationWarning",
    "bootstrapTotalMaxChars",
    "cliBackends",
    "compaction",
    "contextInjection",
    "contextLimits",
    "contextPruning",
    "contextTokens",
    "cwd",
    "elevatedDefault",
    "embeddedAgent",
    "envelopeElapsed",
    "envelopeTimestamp",
    "envelopeTimezone",
    "experimental",
    "heartbeat",
    "humanDelay",
    "imageGenerationModel",
    "imageMaxDimensionPx",
    "imageModel",
    "imageQuality",
    "mediaGenerationAutoProviderFallback",
    "mediaMaxMb",
    "mediaModels",
    "memorySearch",
    "modelPolicy",
    "musicGenerationModel",
    "params",
    "pdfMaxBytesMb",
    "pdfMaxPages",
    "pdfModel",
    "promptOverlays",
    "reasoningDefault",
    "repoRoot",
    "runRetries",
    "sandbox",
    "silentReply",
    "skills",
    "skipOptionalBootstrapFiles",
    "startupContext",
    "subagents",
    "thinkingDefault",
    "timeFormat",
    "toolProgressDetail",
    "typingIntervalSeconds",
    "typingMode",
    "utilityModel",
    "verboseDefault",
    "videoGenerationModel",
    "voiceModel",
];

/// Keys of `channels.dingtalk-connector` (and of each account) that the DingTalk connector's
/// schema allows and dingclaw does not use. `requireMention` needs no code: DingTalk itself
/// delivers only group messages that @-mention the bot.
const DINGTALK_KEYS: &[&str] = &[
    "debug",
    "enableMediaUpload",
    "groups",
    "historyLimit",
    "mediaMaxMb",
    "requireMention",
    "resolveSenderNames",
    "supportCaseRouter",
    "tools",
    "typingIndicator",
];

/// Keys of one model provider that dingclaw does not use.
const PROVIDER_KEYS: &[&str] = &[
    "agentRuntime",
    "auth",
    "authHeader",
    "localService",
    "maxTokens",
    "models",
    "params",
    "region",
    "request",
];

/// Keys of `session` that dingclaw does not use.
const SESSION_KEYS: &[&str] = &[
    "agentToAgent",
    "mainKey",
    "maintenance",
    "parentForkMaxTokens",
    "sendPolicy",
    "store",
    "threadBindings",
    "typingIntervalSeconds",
    "typingMode",
    "writeLock",
];

/// Keys of `gateway` that dingclaw does not use.
const GATEWAY_KEYS: &[&str] = &[
    "allowRealIpFallback",
    "channelHealthCheckMinutes",
    "channelMaxRestartsPerHour",
    "channelStaleEventThresholdMinutes",
    "http",
    "mode",
    "nodes",
    "push",
    "remote",
    "tailscale",
    "tls",
    "tools",
    "trustedProxies",
    "webchat",
];

/// Every table: the path pattern (`*` = any one key or index) and the keys ignored there.
const TABLES: &[(&str, &[&str])] = &[
    ("", SECTIONS),
    ("agents.defaults", AGENT_DEFAULTS_KEYS),
    (
        "agents.defaults.models.*",
        &["agentRuntime", "params", "streaming"],
    ),
    ("agents.list.*", AGENT_KEYS),
    ("agents.entries.*", AGENT_KEYS),
    ("bindings.*", &["acp", "sessionKey", "sessionScope"]),
    ("channels.dingtalk-connector", DINGTALK_KEYS),
    ("channels.dingtalk-connector.accounts.*", DINGTALK_KEYS),
    (
        "messages.queue",
        &["debounceMs", "debounceMsByChannel", "drop"],
    ),
    ("models", &["bedrockDiscovery"]),
    ("models.providers.*", PROVIDER_KEYS),
    ("session", SESSION_KEYS),
    ("gateway", GATEWAY_KEYS),
    ("gateway.auth", &["allowTailscale", "trustedProxy"]),
    (
        "gateway.controlUi",
        &[
            "allowInsecureAuth",
            "allowedOrigins",
            "dangerouslyAllowHostHeaderOriginFallback",
            "dangerouslyDisableDeviceAuth",
            "root",
        ],
    ),
    ("gateway.reload", &["deferralTimeoutMs"]),
    (
        "cron",
        &[
            "failureAlert",
            "failureDestination",
            "runLog",
            "sessionRetention",
            "store",
            "webhook",
        ],
    ),
];

/// The one channel dingclaw implements; every other `channels.<id>` is ignored.
pub const DINGTALK_CHANNEL: &str = "dingtalk-connector";

/// Removes every OpenClaw-only key from `doc`, returning the paths removed (in document order).
pub(crate) fn strip_openclaw_only(doc: &mut Value) -> Vec<ConfigPath> {
    let mut removed = Vec::new();
    strip(doc, &ConfigPath::root(), &mut removed);
    removed
}

fn strip(value: &mut Value, at: &ConfigPath, removed: &mut Vec<ConfigPath>) {
    match value {
        Value::Object(map) => {
            let ignored: Vec<String> = map
                .keys()
                .filter(|k| is_openclaw_only(at, k))
                .cloned()
                .collect();
            for k in ignored {
                map.shift_remove(&k);
                removed.push(at.key(&k));
            }
            for (k, v) in map.iter_mut() {
                strip(v, &at.key(k), removed);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                strip(v, &at.index(i), removed);
            }
        }
        _ => {}
    }
}

fn is_openclaw_only(at: &ConfigPath, key: &str) -> bool {
    if at.as_str() == "channels" {
        return key != DINGTALK_CHANNEL;
    }
    // dingclaw implements `messages.queue` only.
    if at.as_str() == "messages" {
        return key != "queue";
    }
    TABLES
        .iter()
        .any(|(pattern, keys)| at.matches(pattern) && keys.contains(&key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strips_known_openclaw_keys_and_other_channels() {
        let mut doc = json!({
            "plugins": {"x": 1},
            "messages": {"queue": {"mode": "collect"}, "ackReaction": "👀"},
            "agents": {"list": [{"id": "a", "heartbeat": {}}], "defaults": {"compaction": {}}},
            "channels": {"telegram": {}, "dingtalk-connector": {"debug": true, "accounts": {"b": {"groups": {}}}}},
            "bindings": [{"agentId": "a", "comment": "kept, dingclaw reads it"}],
        });
        let removed: Vec<String> = strip_openclaw_only(&mut doc)
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            removed,
            vec![
                "plugins",
                "messages.ackReaction",
                "agents.list.0.heartbeat",
                "agents.defaults.compaction",
                "channels.telegram",
                "channels.dingtalk-connector.debug",
                "channels.dingtalk-connector.accounts.b.groups",
            ]
        );
        assert_eq!(
            doc,
            json!({
                "messages": {"queue": {"mode": "collect"}},
                "agents": {"list": [{"id": "a"}], "defaults": {}},
                "channels": {"dingtalk-connector": {"accounts": {"b": {}}}},
                "bindings": [{"agentId": "a", "comment": "kept, dingclaw reads it"}],
            })
        );
    }

    #[test]
    fn implemented_keys_and_typos_are_left_for_strict_validation() {
        let mut doc = json!({"agents": {"list": [{"id": "a", "modle": "x"}]}, "agnets": {}});
        assert!(strip_openclaw_only(&mut doc).is_empty());
    }
}
