//! OpenClaw settings that dingclaw accepts but does not implement, and what that means.
//!
//! An OpenClaw config must load unchanged, yet a typo inside a section dingclaw implements must
//! be an error. So the sections and keys below are taken out of the document before strict
//! validation and reported; anything else that is unknown is an error. Each key carries what
//! ignoring it means in practice, because "ignored: tools" tells an operator nothing about
//! what their bot will no longer do. The lists come from OpenClaw's schemas (2026.3 and
//! 2026.9) and the three DingTalk connectors' settings (docs/openclaw-routing.md 1,
//! docs/dingtalk-protocol.md 7.2-7.4).

use std::fmt;

use serde_json::Value;

use super::issue::{ConfigPath, Issue};
use super::plugin_schema::is_dingtalk_channel;

/// One ignored setting: where it was and what ignoring it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoredSetting {
    /// Where it is in the file.
    pub path: ConfigPath,
    /// The setting as a pattern (`agents.list.*.heartbeat`), shared by its copies in every
    /// agent or account, so that they are reported as one feature.
    pub feature: String,
    /// What ignoring it means in practice.
    pub means: &'static str,
}

impl fmt::Display for IgnoredSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.means)
    }
}

/// One warning per ignored feature (`agents.list.*.heartbeat: ignored in 2 places: heartbeat
/// turns will not run`), in the order first met.
pub fn summarize_ignored(ignored: &[IgnoredSetting]) -> Vec<Issue> {
    let mut features: Vec<(&str, &IgnoredSetting, usize)> = Vec::new();
    for i in ignored {
        match features.iter_mut().find(|(f, _, _)| *f == i.feature) {
            Some((_, _, n)) => *n += 1,
            None => features.push((&i.feature, i, 1)),
        }
    }
    features
        .into_iter()
        .map(|(feature, first, n)| match n {
            1 => Issue::new(first.path.clone(), format!("ignored: {}", first.means)),
            n => Issue::new(
                ConfigPath::parse(feature),
                format!("ignored in {n} places: {}", first.means),
            ),
        })
        .collect()
}

/// Keys ignored at one place, each with what ignoring it means ("" = the table's default).
type Keys = &'static [(&'static str, &'static str)];

/// What an ignored key means when its table says nothing more specific.
const NOT_USED: &str = "not used by dingclaw";

/// Top-level OpenClaw sections dingclaw does not implement.
const SECTIONS: Keys = &[
    ("acp", "ACP agent runtimes are not available"),
    (
        "approvals",
        "exec approvals are not used (dingclaw has no exec tool)",
    ),
    (
        "audio",
        "voice messages are not transcribed by a configured model",
    ),
    (
        "auth",
        "auth profiles are not rotated; each provider uses its one apiKey",
    ),
    (
        "automations",
        "jobs here are not read; scheduled tasks live in dingclaw's store (cron)",
    ),
    ("broadcast", "broadcast groups are not served"),
    ("browser", "agents have no browser tool"),
    ("canvasHost", "no canvas host is served"),
    ("cli", "OpenClaw command-line settings; not needed"),
    (
        "diagnostics",
        "OpenClaw diagnostics; dingclaw reports through its log and /metrics",
    ),
    ("discovery", "the gateway is not announced on the network"),
    ("hooks", "webhooks into agents are not served"),
    (
        "identity",
        "the global identity is not used; set each agent's identity",
    ),
    ("logging", "logs go to stderr; RUST_LOG chooses what"),
    ("media", "media settings are not used"),
    ("meta", "OpenClaw's own bookkeeping; not needed"),
    ("nodeHost", "no node host is run"),
    (
        "plugins",
        "OpenClaw plugins are not loaded; dingclaw has its own DingTalk connector",
    ),
    (
        "routing",
        "legacy routing settings are not used; bindings route messages",
    ),
    (
        "secrets",
        "secret providers are not used; write ${VAR} or {source: \"env\", id}",
    ),
    ("talk", "voice talk mode is not available"),
    (
        "ui",
        "OpenClaw's Control UI settings; dingclaw serves its own web page",
    ),
    ("update", "update checks are not run"),
    ("web", "OpenClaw's web settings are not used"),
    ("wizard", "setup wizard state; not needed"),
];

/// Keys of one agent (`agents.list.N` or `agents.entries.<id>`) that dingclaw does not use.
const AGENT_KEYS: Keys = &[
    ("agentRuntime", "agents run in dingclaw's own runtime"),
    ("bootstrapMaxChars", ""),
    ("bootstrapTotalMaxChars", ""),
    ("contextInjection", ""),
    ("contextLimits", ""),
    ("contextTokens", ""),
    ("cwd", ""),
    ("embeddedAgent", ""),
    ("experimental", ""),
    (
        "fastModeDefault",
        "no fast mode; the model answers with its defaults",
    ),
    (
        "groupChat",
        "mention patterns and group history limits are not used (DingTalk delivers only @-mentions)",
    ),
    ("heartbeat", "heartbeat turns will not run"),
    ("humanDelay", "replies are not delayed"),
    ("modelPolicy", ""),
    ("models", "per-agent model settings are not used"),
    ("params", "extra model parameters are not sent"),
    ("plugins", "plugins are not loaded"),
    (
        "reasoningDefault",
        "reasoning output follows the provider's default",
    ),
    ("runtime", "agents run in dingclaw's own runtime"),
    (
        "sandbox",
        "no sandbox: dingclaw runs no commands on the machine",
    ),
    ("skillsLimits", ""),
    ("subagents", "subagents are not spawned"),
    (
        "thinkingDefault",
        "the thinking level is the provider's default",
    ),
    ("toolProgressDetail", ""),
    ("tts", "replies are not spoken"),
    ("typingIntervalSeconds", "no typing indicator"),
    ("typingMode", "no typing indicator"),
    ("utilityModel", "no utility model is used"),
    ("verboseDefault", ""),
];

/// Keys of `agents.defaults` that dingclaw does not use.
const AGENT_DEFAULTS_KEYS: Keys = &[
    (
        "blockStreamingBreak",
        "replies stream into AI cards instead of blocks",
    ),
    (
        "blockStreamingChunk",
        "replies stream into AI cards instead of blocks",
    ),
    (
        "blockStreamingCoalesce",
        "replies stream into AI cards instead of blocks",
    ),
    (
        "blockStreamingDefault",
        "replies stream into AI cards instead of blocks",
    ),
    ("bootstrapMaxChars", ""),
    ("bootstrapPromptTruncationWarning", ""),
    ("bootstrapTotalMaxChars", ""),
    ("cliBackends", "CLI model backends are not run"),
    ("contextInjection", ""),
    ("contextLimits", ""),
    (
        "contextPruning",
        "tool results are not pruned; the model sees the last dingclaw.historyLimit messages",
    ),
    ("contextTokens", ""),
    ("cwd", ""),
    ("elevatedDefault", "no elevated tools"),
    ("embeddedAgent", ""),
    ("envelopeElapsed", ""),
    ("envelopeTimestamp", ""),
    ("envelopeTimezone", ""),
    ("experimental", ""),
    ("heartbeat", "heartbeat turns will not run"),
    ("humanDelay", "replies are not delayed"),
    ("imageGenerationModel", "no image generation"),
    (
        "imageMaxDimensionPx",
        "pictures go to the model as DingTalk gives them, not resized",
    ),
    (
        "imageQuality",
        "pictures go to the model as DingTalk gives them, not recompressed",
    ),
    ("mediaGenerationAutoProviderFallback", "no media generation"),
    (
        "mediaMaxMb",
        "not used; the DingTalk account's mediaMaxMb limits downloads",
    ),
    ("mediaModels", "no media models"),
    ("modelPolicy", ""),
    ("musicGenerationModel", "no music generation"),
    ("params", "extra model parameters are not sent"),
    ("pdfMaxBytesMb", "PDFs are not read"),
    ("pdfMaxPages", "PDFs are not read"),
    ("pdfModel", "PDFs are not read"),
    ("promptOverlays", ""),
    (
        "reasoningDefault",
        "reasoning output follows the provider's default",
    ),
    ("repoRoot", ""),
    ("runRetries", "failed turns follow each provider's retries"),
    (
        "sandbox",
        "no sandbox: dingclaw runs no commands on the machine",
    ),
    ("silentReply", ""),
    ("skipOptionalBootstrapFiles", ""),
    ("startupContext", ""),
    ("subagents", "subagents are not spawned"),
    (
        "thinkingDefault",
        "the thinking level is the provider's default",
    ),
    ("timeFormat", ""),
    ("toolProgressDetail", ""),
    ("typingIntervalSeconds", "no typing indicator"),
    ("typingMode", "no typing indicator"),
    ("utilityModel", "no utility model is used"),
    ("verboseDefault", ""),
    ("videoGenerationModel", "no video generation"),
    (
        "voiceModel",
        "voice messages use DingTalk's own transcription",
    ),
];

/// Keys of `channels.dingtalk-connector` (and of each account) from the DingTalk connectors'
/// settings that dingclaw has no use for. The three connectors differ; a config written for
/// any of them starts unchanged, and each key is named with what replaces it.
const DINGTALK_KEYS: Keys = &[
    (
        "bypassProxyForSend",
        "sends take the same network path as every other request",
    ),
    (
        "cardAtSender",
        "no extra @-mention of the sender follows a card reply",
    ),
    (
        "cardRealTimeStream",
        "not needed; AI cards stream by default (card.updateIntervalMs)",
    ),
    ("cardStatusLine", "cards show no status line"),
    (
        "cardStreamingMode",
        "cards stream the answer as it is written (soimy's \"answer\"); thinking is not shown; streaming: false turns cards off",
    ),
    (
        "contextVisibility",
        "the model sees the conversation's history and quoted messages in full",
    ),
    (
        "convertMarkdownTables",
        "not needed; markdown goes out as the model wrote it",
    ),
    ("debug", "not needed; RUST_LOG=debug gives verbose logs"),
    ("displayNameResolution", "senders are shown by their ids"),
    (
        "enableMediaUpload",
        "pictures and files the agent sends are always uploaded",
    ),
    ("gatewayPassword", "not needed: dingclaw is the gateway"),
    ("gatewayToken", "not needed: dingclaw is the gateway"),
    (
        "historyLimit",
        "not needed; the model sees dingclaw.historyLimit messages",
    ),
    (
        "journalTTLDays",
        "not needed; dingclaw keeps its own journal",
    ),
    (
        "keepAlive",
        "not needed; dingclaw pings the socket itself (stream.pingIntervalMs)",
    ),
    ("learningAutoApply", "no learning signals are collected"),
    ("learningEnabled", "no learning signals are collected"),
    ("learningNoteTtlMs", "no learning signals are collected"),
    (
        "maxConnectionAttempts",
        "not needed; dingclaw reconnects without a limit, with backoff",
    ),
    (
        "maxReconnectCycles",
        "not needed; dingclaw reconnects without a limit, with backoff",
    ),
    (
        "mediaUrlAllowlist",
        "remote media are fetched only by web_fetch, under its SSRF rules",
    ),
    (
        "proactivePermissionHint",
        "no hint about proactive-send permissions is sent",
    ),
    (
        "reconnectDeadlineMs",
        "reconnects back off without a deadline, up to stream.reconnectMaxMs",
    ),
    (
        "reconnectJitter",
        "not needed; dingclaw adds up to 20 % jitter",
    ),
    ("resolveSenderNames", "senders are shown by their ids"),
    ("supportCaseRouter", "support-case routing is not available"),
    (
        "tools",
        "the connector's DingTalk docs and media tools are not available",
    ),
    ("typingIndicator", "no typing indicator"),
    (
        "useConnectionManager",
        "not needed; dingclaw manages its connections itself",
    ),
];

/// Keys of `tools` that dingclaw does not use.
const TOOLS_KEYS: Keys = &[
    ("agentToAgent", "agents do not message each other"),
    ("codeMode", ""),
    (
        "elevated",
        "there is no elevated mode: commands run only as tools.exec allows, for owners",
    ),
    ("links", "links in messages are not expanded"),
    (
        "loopDetection",
        "tool loops are bounded by a fixed number of rounds per turn (6)",
    ),
    (
        "media",
        "pictures, voice and files are not described by a media model",
    ),
    ("message", "the message tool is not available"),
    (
        "sandbox",
        "there is no sandbox: file tools are confined to the workspace, commands are off unless tools.exec allows them",
    ),
    ("sessions", "the session tools are not available"),
    ("subagents", "subagents are not spawned"),
];

/// Keys of an agent's `tools` that dingclaw does not use.
const AGENT_TOOLS_KEYS: Keys = &[
    ("codeMode", ""),
    (
        "elevated",
        "there is no elevated mode: commands run only as tools.exec allows, for owners",
    ),
    (
        "loopDetection",
        "tool loops are bounded by a fixed number of rounds per turn (6)",
    ),
    ("message", "the message tool is not available"),
    (
        "sandbox",
        "there is no sandbox: file tools are confined to the workspace, commands are off unless tools.exec allows them",
    ),
];

/// Search providers OpenClaw has and dingclaw does not.
const SEARCH_KEYS: Keys = &[
    (
        "gemini",
        "not a search provider dingclaw speaks (brave, minimax, kimi, tavily, searxng)",
    ),
    (
        "grok",
        "not a search provider dingclaw speaks (brave, minimax, kimi, tavily, searxng)",
    ),
    (
        "openaiCodex",
        "not a search provider dingclaw speaks (brave, minimax, kimi, tavily, searxng)",
    ),
    (
        "perplexity",
        "not a search provider dingclaw speaks (brave, minimax, kimi, tavily, searxng)",
    ),
];

/// Keys of `tools.web.fetch` that dingclaw does not use.
const FETCH_KEYS: Keys = &[
    (
        "firecrawl",
        "pages are extracted locally; Firecrawl is not called",
    ),
    (
        "provider",
        "pages are extracted locally; no fetch provider is called",
    ),
    ("useTrustedEnvProxy", "no proxy is used"),
];

/// Keys of `tools.exec` that dingclaw does not use.
const EXEC_KEYS: Keys = &[
    ("approvalRunningNoticeMs", ""),
    (
        "cleanupMs",
        "finished background commands are kept until removed or the gateway restarts",
    ),
    ("commandHighlighting", ""),
    ("grantExpiryDays", ""),
    ("node", "commands run on the gateway host only"),
    (
        "notifyOnExit",
        "the model checks background commands with the process tool",
    ),
    ("notifyOnExitEmptySuccess", ""),
    (
        "reviewer",
        "commands are not reviewed by a model; the allowlist and /approve decide",
    ),
    ("safeBinProfiles", ""),
    ("safeBinTrustedDirs", ""),
    ("strictInlineEval", ""),
];

/// Keys of `skills` that dingclaw does not use.
const SKILLS_KEYS: Keys = &[
    ("allowBundled", "dingclaw ships no bundled skills"),
    (
        "install",
        "skills are not installed by dingclaw; put them in a skills folder",
    ),
    ("workshop", "the skill workshop is not available"),
];

/// Keys of `commands` that dingclaw does not use yet.
const COMMANDS_KEYS: Keys = &[
    ("bash", "`!` shell commands in chat are not available"),
    ("bashForegroundMs", ""),
    ("config", "/config is not available"),
    ("debug", "/debug is not available"),
    ("mcp", ""),
    ("native", "not needed: DingTalk has no native commands"),
    (
        "nativeSkills",
        "not needed: DingTalk has no native commands",
    ),
    ("ownerDisplay", ""),
    ("ownerDisplaySecret", ""),
    ("plugins", ""),
    ("restart", "/restart is not available"),
    ("useAccessGroups", ""),
];

/// `agents.defaults.compaction` keys dingclaw does not use.
const COMPACTION_KEYS: Keys = &[
    ("identifierInstructions", ""),
    (
        "identifierPolicy",
        "summaries are always asked to keep identifiers exactly",
    ),
    ("maxActiveTranscriptBytes", ""),
    ("maxHistoryShare", ""),
    (
        "memoryFlush",
        "no silent memory-writing turn runs before a compaction",
    ),
    ("midTurnPrecheck", ""),
    ("notifyUser", "compactions are not announced in the chat"),
    (
        "postCompactionSections",
        "AGENTS.md is part of every system prompt anyway",
    ),
    ("postIndexSync", ""),
    ("provider", ""),
    ("qualityGuard", "a summary is not checked and retried"),
    ("recentTurnsPreserve", ""),
    ("thinkingLevel", ""),
    ("timeoutSeconds", ""),
];

/// Keys of one model provider that dingclaw does not use.
const PROVIDER_KEYS: Keys = &[
    ("agentRuntime", ""),
    (
        "auth",
        "auth profiles are not rotated; the provider uses its apiKey",
    ),
    ("authHeader", ""),
    ("localService", ""),
    (
        "maxTokens",
        "answers are as long as the provider's default allows",
    ),
    ("params", "extra model parameters are not sent"),
    ("region", ""),
    ("request", ""),
];

/// Keys of `session` that dingclaw does not use.
const SESSION_KEYS: Keys = &[
    ("agentToAgent", "agents do not message each other"),
    ("mainKey", ""),
    (
        "maintenance",
        "old sessions are kept in the store, not pruned",
    ),
    ("parentForkMaxTokens", ""),
    ("sendPolicy", ""),
    (
        "store",
        "sessions live in dingclaw's store (dingclaw.store)",
    ),
    ("threadBindings", ""),
    ("typingIntervalSeconds", "no typing indicator"),
    ("typingMode", "no typing indicator"),
    ("writeLock", ""),
];

/// Keys of `gateway` that dingclaw does not use.
const GATEWAY_KEYS: Keys = &[
    ("allowRealIpFallback", ""),
    (
        "channelHealthCheckMinutes",
        "accounts are watched continuously (stream settings)",
    ),
    (
        "channelMaxRestartsPerHour",
        "accounts reconnect with backoff, without a cap",
    ),
    (
        "channelStaleEventThresholdMinutes",
        "zombie sockets are caught by stream.silenceTimeoutMs",
    ),
    (
        "http",
        "OpenClaw's OpenAI-compatible endpoints are not served",
    ),
    ("mode", ""),
    ("nodes", "no nodes are served"),
    ("push", "no push notifications"),
    ("remote", "not needed"),
    (
        "tailscale",
        "not supported; put the web page behind a reverse proxy or an SSH tunnel",
    ),
    (
        "tls",
        "TLS is not served; put a reverse proxy with TLS in front of the web page",
    ),
    ("tools", "tools are not served over HTTP"),
    ("webchat", "the web page's chat has no separate settings"),
];

/// Every table: the path pattern (`*` = any one key or index), the keys ignored there, and the
/// meaning of those whose own meaning is empty.
const TABLES: &[(&str, Keys, &str)] = &[
    ("", SECTIONS, NOT_USED),
    ("agents.defaults", AGENT_DEFAULTS_KEYS, NOT_USED),
    ("agents.defaults.compaction", COMPACTION_KEYS, NOT_USED),
    (
        "agents.defaults.models.*",
        &[("agentRuntime", ""), ("streaming", "")],
        NOT_USED,
    ),
    ("tools", TOOLS_KEYS, NOT_USED),
    ("tools.web.search", SEARCH_KEYS, NOT_USED),
    ("tools.web.fetch", FETCH_KEYS, NOT_USED),
    ("tools.exec", EXEC_KEYS, NOT_USED),
    ("agents.list.*.tools", AGENT_TOOLS_KEYS, NOT_USED),
    ("agents.entries.*.tools", AGENT_TOOLS_KEYS, NOT_USED),
    ("agents.list.*.tools.exec", EXEC_KEYS, NOT_USED),
    ("agents.entries.*.tools.exec", EXEC_KEYS, NOT_USED),
    ("skills", SKILLS_KEYS, NOT_USED),
    (
        "skills.load",
        &[
            (
                "watch",
                "skills are read again whenever an agent starts (a reload or a restart)",
            ),
            (
                "watchDebounceMs",
                "skills are read again whenever an agent starts (a reload or a restart)",
            ),
            ("allowSymlinkTargets", ""),
        ],
        NOT_USED,
    ),
    (
        "skills.limits",
        &[("maxSkillsLoadedPerSource", "")],
        NOT_USED,
    ),
    ("commands", COMMANDS_KEYS, NOT_USED),
    ("agents.list.*", AGENT_KEYS, NOT_USED),
    ("agents.entries.*", AGENT_KEYS, NOT_USED),
    (
        "bindings.*",
        &[("acp", ""), ("sessionKey", ""), ("sessionScope", "")],
        NOT_USED,
    ),
    (
        "channels.dingtalk-connector",
        DINGTALK_KEYS,
        "not needed by dingclaw",
    ),
    (
        "channels.dingtalk-connector.accounts.*",
        DINGTALK_KEYS,
        "not needed by dingclaw",
    ),
    ("channels.dingtalk", DINGTALK_KEYS, "not needed by dingclaw"),
    (
        "channels.dingtalk.accounts.*",
        DINGTALK_KEYS,
        "not needed by dingclaw",
    ),
    (
        "messages.queue",
        &[
            (
                "debounceMs",
                "messages are not debounced; each waits its turn",
            ),
            (
                "debounceMsByChannel",
                "messages are not debounced; each waits its turn",
            ),
            ("drop", "past messages.queue.cap the sender is told to wait"),
        ],
        NOT_USED,
    ),
    ("models", &[("bedrockDiscovery", "")], NOT_USED),
    ("models.providers.*", PROVIDER_KEYS, NOT_USED),
    ("session", SESSION_KEYS, NOT_USED),
    ("gateway", GATEWAY_KEYS, NOT_USED),
    (
        "gateway.auth",
        &[
            ("allowTailscale", "not supported"),
            ("trustedProxy", "the trusted-proxy mode is not supported"),
        ],
        NOT_USED,
    ),
    (
        "gateway.controlUi",
        &[
            ("allowInsecureAuth", ""),
            ("allowedOrigins", ""),
            ("dangerouslyAllowHostHeaderOriginFallback", ""),
            (
                "dangerouslyDisableDeviceAuth",
                "no device pairing: the token is the login",
            ),
            ("root", ""),
        ],
        NOT_USED,
    ),
    ("gateway.reload", &[("deferralTimeoutMs", "")], NOT_USED),
    (
        "cron",
        &[
            (
                "failureAlert",
                "failed runs are shown in the run log and the web page, not announced",
            ),
            (
                "failureDestination",
                "failed runs are shown in the run log and the web page, not announced",
            ),
            ("runLog", "the run log keeps the newest 2000 runs per job"),
            ("sessionRetention", "run sessions are kept in the store"),
            ("store", "jobs live in dingclaw's store"),
            (
                "webhook",
                "deprecated in OpenClaw; give each job its delivery",
            ),
        ],
        NOT_USED,
    ),
];

pub use super::plugin_schema::DINGTALK_CHANNEL;

/// Removes every OpenClaw-only key from `doc`, returning what was removed (in document order).
pub(crate) fn strip_openclaw_only(doc: &mut Value) -> Vec<IgnoredSetting> {
    let mut removed = Vec::new();
    strip(doc, &ConfigPath::root(), &mut removed);
    removed
}

fn strip(value: &mut Value, at: &ConfigPath, removed: &mut Vec<IgnoredSetting>) {
    match value {
        Value::Object(map) => {
            let ignored: Vec<(String, IgnoredSetting)> = map
                .keys()
                .filter_map(|k| ignored_here(at, k).map(|i| (k.clone(), i)))
                .collect();
            for (k, i) in ignored {
                map.shift_remove(&k);
                removed.push(i);
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

/// The ignored setting `key` at `at` is, if it is one.
fn ignored_here(at: &ConfigPath, key: &str) -> Option<IgnoredSetting> {
    let path = at.key(key);
    if at.as_str() == "channels" {
        return (!is_dingtalk_channel(key)).then(|| IgnoredSetting {
            feature: path.to_string(),
            path,
            means: "this channel is not served by dingclaw",
        });
    }
    // dingclaw implements `messages.queue` only.
    if at.as_str() == "messages" {
        return (key != "queue").then(|| IgnoredSetting {
            feature: path.to_string(),
            path,
            means: NOT_USED,
        });
    }
    TABLES.iter().find_map(|(pattern, keys, otherwise)| {
        if !at.matches(pattern) {
            return None;
        }
        let (_, means) = keys.iter().find(|(k, _)| *k == key)?;
        let feature = if pattern.is_empty() {
            key.to_owned()
        } else {
            format!("{pattern}.{key}")
        };
        Some(IgnoredSetting {
            path: path.clone(),
            feature,
            means: if means.is_empty() { otherwise } else { means },
        })
    })
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
            "agents": {"list": [{"id": "a", "heartbeat": {}}], "defaults": {"compaction": {"keepRecentTokens": 1000, "memoryFlush": {}}}},
            "channels": {"telegram": {}, "dingtalk-connector": {"debug": true, "accounts": {"b": {"learningEnabled": true}}}},
            "bindings": [{"agentId": "a", "comment": "kept, dingclaw reads it"}],
        });
        let removed: Vec<String> = strip_openclaw_only(&mut doc)
            .iter()
            .map(|i| i.path.to_string())
            .collect();
        assert_eq!(
            removed,
            vec![
                "plugins",
                "messages.ackReaction",
                "agents.list.0.heartbeat",
                "agents.defaults.compaction.memoryFlush",
                "channels.telegram",
                "channels.dingtalk-connector.debug",
                "channels.dingtalk-connector.accounts.b.learningEnabled",
            ]
        );
        assert_eq!(
            doc,
            json!({
                "messages": {"queue": {"mode": "collect"}},
                "agents": {"list": [{"id": "a"}], "defaults": {"compaction": {"keepRecentTokens": 1000}}},
                "channels": {"dingtalk-connector": {"accounts": {"b": {}}}},
                "bindings": [{"agentId": "a", "comment": "kept, dingclaw reads it"}],
            })
        );
    }

    #[test]
    fn each_feature_is_one_line_with_what_it_means() {
        let mut doc = json!({
            "tools": {"profile": "coding", "links": {}},
            "agents": {"list": [{"id": "a", "heartbeat": {}}, {"id": "b", "heartbeat": {}}],
                       "defaults": {"heartbeat": {"every": "30m"}}},
            "channels": {"telegram": {}, "dingtalk-connector": {"gatewayToken": "x", "debug": true}},
        });
        let lines: Vec<String> = summarize_ignored(&strip_openclaw_only(&mut doc))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            vec![
                "tools.links: ignored: links in messages are not expanded",
                "agents.list.*.heartbeat: ignored in 2 places: heartbeat turns will not run",
                "agents.defaults.heartbeat: ignored: heartbeat turns will not run",
                "channels.telegram: ignored: this channel is not served by dingclaw",
                "channels.dingtalk-connector.gatewayToken: ignored: not needed: dingclaw is the gateway",
                "channels.dingtalk-connector.debug: ignored: not needed; RUST_LOG=debug gives verbose logs",
            ]
        );
    }

    #[test]
    fn implemented_keys_and_typos_are_left_for_strict_validation() {
        let mut doc = json!({"agents": {"list": [{"id": "a", "modle": "x"}]}, "agnets": {}});
        assert!(strip_openclaw_only(&mut doc).is_empty());
    }
}
