//! `channels.dingtalk-connector` and `channels.dingtalk`: the DingTalk bots, in the shape of
//! the three OpenClaw DingTalk plugins' schemas (docs/dingtalk-protocol.md 7.2-7.4), so
//! that a config written for any of them works unchanged. One section type reads all three:
//! their keys overlap, each plugin's own keys are mapped to dingclaw's settings, and the few
//! defaults that differ come from `PluginSchema`.
//!
//! Top-level settings are defaults for every account: each `accounts.<id>` is the top level
//! with the account's own keys laid over it (a shallow merge; the account wins). Without
//! `accounts`, the top level is one account named `default`.

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::bindings::IdValue;
use super::card::{CardEntry, CardSettings, card_settings};
use super::environment::Environment;
use super::http_url::normalize_base_url;
use super::ids::{DEFAULT_ACCOUNT_ID, normalize_account_id};
use super::issue::{ConfigPath, Diagnostics};
use super::plugin_schema::PluginSchema;
use super::secret::{
    Secret, SecretInput, SecretState, is_placeholder, placeholder_error, resolve_secret,
};
use super::strict::suggest;
use super::substitute::Unresolved;

/// DingTalk's OpenAPI base URL (docs/dingtalk-protocol.md 1.1).
pub const DEFAULT_ENDPOINT: &str = "https://api.dingtalk.com";

/// Longest reply chunk, in characters; soimy's `DINGTALK_TEXT_CHUNK_LIMIT`
/// (docs/dingtalk-protocol.md 4.1).
pub const DEFAULT_TEXT_CHUNK_LIMIT: usize = 3800;

/// The connector's default acknowledgement text for `asyncMode`.
pub const DEFAULT_ACK_TEXT: &str = "🫡 任务已接收，处理中...";

// ---------------------------------------------------------------------------------------------
// What users write
// ---------------------------------------------------------------------------------------------

/// `channels.dingtalk-connector`, and the shape of each `accounts.<id>`.
///
/// `defaultAccount` and `accounts` are valid only at the top level; `name` and
/// `chatbotUserId`/`chatbotCorpId` only inside an account.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DingTalkSection {
    /// `false` stops every account (top level) or this account.
    pub enabled: Option<bool>,
    /// The account used for sends that name none; must be a key of `accounts`.
    pub default_account: Option<String>,
    /// One entry per bot, keyed by account id.
    pub accounts: Option<IndexMap<String, DingTalkSection>>,
    /// Display name of the account.
    pub name: Option<String>,
    /// The bot's encrypted user id (`$:LWCP_v1:$...`), used to @ it from other bots.
    pub chatbot_user_id: Option<String>,
    pub chatbot_corp_id: Option<String>,
    /// AppKey / Client ID from the DingTalk developer console.
    pub client_id: Option<IdValue>,
    /// AppSecret / Client Secret; usually `"${BOT1_CLIENT_SECRET}"`.
    pub client_secret: Option<SecretInput>,
    /// DingTalk API base URL (Stream registration, tokens, robot APIs); default
    /// `https://api.dingtalk.com`. Point it at `dingclaw sim` for offline runs.
    pub endpoint: Option<String>,
    /// Direct messages: `open` (default), `allowlist`, or `pairing` (strangers get a code an
    /// operator approves).
    pub dm_policy: Option<DmPolicyEntry>,
    /// Senders (staff id, else encrypted sender id) allowed to DM under `allowlist`;
    /// exact, case-sensitive.
    pub allow_from: Option<Vec<IdValue>>,
    /// Groups: `open` (default), `allowlist` or `disabled`.
    pub group_policy: Option<GroupPolicy>,
    /// Under `allowlist`: conversation ids (`cid…`) of the groups allowed; other entries
    /// name the senders allowed in groups (soimy's schema).
    pub group_allow_from: Option<Vec<IdValue>>,
    /// Per-group settings: `groups.<conversationId | "*">`.
    pub groups: Option<IndexMap<String, super::groups::GroupEntry>>,
    /// Answer only group messages that @-mention the bot (openclaw-china).
    pub require_mention: Option<bool>,
    /// A turn running this long says it is still working (openclaw-china; 0: never).
    pub long_task_notice_delay_ms: Option<u64>,
    /// `true` (default): sessions follow the conversation. `false`: one session per sender
    /// across all this account's DMs and groups.
    pub separate_session_by_conversation: Option<bool>,
    /// `group` (default): one session per group. `group_sender`: one per group and sender.
    pub group_session_scope: Option<GroupSessionScope>,
    /// `true`: one session for everything this account hears.
    pub shared_memory_across_conversations: Option<bool>,
    /// Replies longer than this many characters are split (code fences are kept whole).
    pub text_chunk_limit: Option<usize>,
    /// Extra system prompt for conversations on this account.
    pub system_prompt: Option<String>,
    /// How group replies are sent: `aicard` (default), `text` or `markdown`.
    pub group_reply_mode: Option<ReplyMode>,
    /// How direct replies are sent: `aicard` (default), `text` or `markdown`.
    pub dm_reply_mode: Option<ReplyMode>,
    /// Acknowledge at once with `ackText` and send the answer later through the OpenAPI.
    pub async_mode: Option<bool>,
    pub ack_text: Option<String>,
    /// Stream connection and API tuning (dingclaw). An account's `stream` replaces the top
    /// level's as a whole.
    pub stream: Option<StreamEntry>,
    /// `false` turns AI cards off (`aicard` replies go out as markdown). Read by the connector's
    /// code though not in its schema (docs/dingtalk-protocol.md 6.3).
    pub streaming: Option<bool>,
    /// AI card tuning (dingclaw): template, update interval, QPS, degrade period.
    pub card: Option<CardEntry>,
    /// Largest picture or file downloaded, in MB (the connectors' `mediaMaxMb`).
    pub media_max_mb: Option<f64>,
    /// openclaw-china's spelling of the same limit.
    #[serde(rename = "maxFileSizeMB")]
    pub max_file_size_mb: Option<f64>,
    /// Where downloads are kept, and for how long (openclaw-china).
    pub inbound_media: Option<InboundMediaEntry>,
    /// The "thinking" reaction on a message being answered: `off` (or `""`) for none, any
    /// other text for that text; the default is 思考中.
    pub ack_reaction: Option<String>,
    /// Base URL of DingTalk's older API (`oapi.dingtalk.com`, media uploads) (dingclaw).
    pub oapi_endpoint: Option<String>,
    /// soimy: `markdown` (its default) or `card`; the default of both reply modes.
    pub message_type: Option<MessageType>,
    /// openclaw-china: `true` replies in AI cards; its default is plain messages.
    #[serde(rename = "enableAICard")]
    pub enable_ai_card: Option<bool>,
    /// soimy's spellings of `card.templateId`, `card.contentKey`, `card.updateIntervalMs`
    /// and `card.degradeMs`; `card` wins where both are set.
    pub card_template_id: Option<String>,
    pub card_template_key: Option<String>,
    pub card_stream_interval: Option<u64>,
    pub aicard_degrade_ms: Option<u64>,
    /// soimy's spellings of `stream.reconnectInitialMs` and `stream.reconnectMaxMs`.
    pub initial_reconnect_delay: Option<u64>,
    pub max_reconnect_delay: Option<u64>,
}

/// soimy's `messageType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageType {
    Markdown,
    Card,
}

/// `inboundMedia` (openclaw-china).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InboundMediaEntry {
    pub dir: Option<String>,
    pub keep_days: Option<u32>,
}

/// How an account handles pictures and files.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaSettings {
    /// Largest download, bytes.
    pub max_bytes: u64,
    /// Where downloads go; `None`: `<stateDir>/media/<account>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<std::path::PathBuf>,
    pub keep_days: u32,
    /// The reaction's text, or `None` for no reaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_reaction: Option<String>,
}

/// Downloads are capped at 20 MB unless `mediaMaxMb` says otherwise.
pub const DEFAULT_MEDIA_MAX_MB: f64 = 20.0;
/// Downloads are kept a week (openclaw-china's `inboundMedia.keepDays` default is unknown).
pub const DEFAULT_MEDIA_KEEP_DAYS: u32 = 7;
/// The reaction DingTalk-Real-AI shows while it works.
pub const DEFAULT_ACK_REACTION: &str = "思考中";
/// DingTalk's older API.
pub const DEFAULT_OAPI_ENDPOINT: &str = "https://oapi.dingtalk.com";

/// `stream`: timings of the Stream connection and the DingTalk API. Where the protocol
/// reference marks a behaviour unverified, its value is a setting here, defaulting to what
/// the reference recommends (docs/dingtalk-protocol.md 2.4-2.6).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StreamEntry {
    /// WebSocket ping every this many ms (default 10000).
    pub ping_interval_ms: Option<u64>,
    /// No pong for this long means a dead socket (default 20000).
    pub pong_timeout_ms: Option<u64>,
    /// No frame at all for this long means a zombie socket (default 60000).
    pub silence_timeout_ms: Option<u64>,
    /// First reconnect delay; doubles up to `reconnectMaxMs` (default 1000).
    pub reconnect_initial_ms: Option<u64>,
    pub reconnect_max_ms: Option<u64>,
    /// Retry delay after DingTalk refused the credentials (default 60000).
    pub auth_retry_ms: Option<u64>,
    /// Connect and TLS handshake timeout (default 10000).
    pub connect_timeout_ms: Option<u64>,
    /// Timeout of one DingTalk API request (default 15000).
    pub request_timeout_ms: Option<u64>,
    /// Largest frame accepted (default 1 MiB).
    pub max_frame_bytes: Option<usize>,
    /// How long a msgId is remembered for duplicate suppression (default 300000).
    pub dedup_ttl_ms: Option<u64>,
    /// How many msgIds are remembered per account (default 100000).
    pub dedup_capacity: Option<usize>,
    /// Retries of a failed send (QPS throttling, 5xx, network) (default 3).
    pub send_retries: Option<u32>,
    /// First retry delay of a failed send; doubles each time (default 1000).
    pub send_retry_initial_ms: Option<u64>,
}

/// Effective Stream and API timings of one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamSettings {
    /// `stream.pingIntervalMs`: how often the client pings the socket.
    #[serde(with = "millis")]
    pub ping_interval: Duration,
    /// `stream.pongTimeoutMs`: a ping unanswered this long means the socket is dead.
    #[serde(with = "millis")]
    pub pong_timeout: Duration,
    /// `stream.silenceTimeoutMs`: no frame for this long means the socket is dead (a zombie).
    #[serde(with = "millis")]
    pub silence_timeout: Duration,
    /// `stream.reconnectInitialMs`: the first pause before reconnecting.
    #[serde(with = "millis")]
    pub reconnect_initial: Duration,
    /// `stream.reconnectMaxMs`: the longest pause.
    #[serde(with = "millis")]
    pub reconnect_max: Duration,
    /// `stream.authRetryMs`: the pause after DingTalk refused the credentials.
    #[serde(with = "millis")]
    pub auth_retry: Duration,
    /// `stream.connectTimeoutMs`: opening a connection may take this long.
    #[serde(with = "millis")]
    pub connect_timeout: Duration,
    /// `stream.requestTimeoutMs`: an OpenAPI call may take this long.
    #[serde(with = "millis")]
    pub request_timeout: Duration,
    /// `stream.maxFrameBytes`: bigger frames are acknowledged and dropped.
    pub max_frame_bytes: usize,
    /// `stream.dedupTtlMs`: how long a msgId is remembered to drop redeliveries.
    #[serde(with = "millis")]
    pub dedup_ttl: Duration,
    /// `stream.dedupCapacity`: msgIds remembered at most.
    pub dedup_capacity: usize,
    /// `stream.sendRetries`: retries of a failed reply.
    pub send_retries: u32,
    /// `stream.sendRetryInitialMs`: the first pause between them.
    #[serde(with = "millis")]
    pub send_retry_initial: Duration,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings::from_entry(&StreamEntry::default())
    }
}

impl StreamSettings {
    fn from_entry(e: &StreamEntry) -> Self {
        let ms = |v: Option<u64>, d: u64| Duration::from_millis(v.unwrap_or(d).max(1));
        Self {
            ping_interval: ms(e.ping_interval_ms, 10_000),
            pong_timeout: ms(e.pong_timeout_ms, 20_000),
            silence_timeout: ms(e.silence_timeout_ms, 60_000),
            reconnect_initial: ms(e.reconnect_initial_ms, 1_000),
            reconnect_max: ms(e.reconnect_max_ms, 60_000),
            auth_retry: ms(e.auth_retry_ms, 60_000),
            connect_timeout: ms(e.connect_timeout_ms, 10_000),
            request_timeout: ms(e.request_timeout_ms, 15_000),
            max_frame_bytes: e.max_frame_bytes.unwrap_or(1024 * 1024).max(64 * 1024),
            dedup_ttl: ms(e.dedup_ttl_ms, 300_000),
            dedup_capacity: e.dedup_capacity.unwrap_or(100_000).max(1),
            send_retries: e.send_retries.unwrap_or(3),
            send_retry_initial: ms(e.send_retry_initial_ms, 1_000),
        }
    }
}

/// Durations print as whole milliseconds, as they are written.
pub(crate) mod millis {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmPolicyEntry {
    Open,
    Pairing,
    Allowlist,
}

/// Who may DM the bot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DmPolicy {
    /// Anyone may.
    #[default]
    Open,
    /// Only senders in `allowFrom`.
    Allowlist,
    /// Strangers get a code an operator approves (`dingclaw pairing approve`).
    Pairing,
}

/// Which groups the bot answers in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupPolicy {
    /// Every group.
    #[default]
    Open,
    /// Only the groups in `groupAllowFrom` (or `groups`).
    Allowlist,
    /// None: group messages get a short refusal.
    Disabled,
}

/// Session granularity inside a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupSessionScope {
    /// One session per group.
    #[default]
    Group,
    /// One session per person in each group.
    GroupSender,
}

/// How a reply is delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyMode {
    /// Stream into a DingTalk AI card.
    #[default]
    Aicard,
    /// Plain text through the sessionWebhook.
    Text,
    /// Markdown through the sessionWebhook.
    Markdown,
}

// ---------------------------------------------------------------------------------------------
// What dingclaw runs with
// ---------------------------------------------------------------------------------------------

/// The DingTalk channel after inheritance.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DingTalkChannel {
    /// `enabled`: `false` turns every account off.
    pub enabled: bool,
    /// `defaultAccount`: the account outbound sends use when none is named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_account: Option<String>,
    /// Accounts in config order, keyed by normalised account id.
    pub accounts: IndexMap<String, Arc<DingTalkAccount>>,
}

impl DingTalkChannel {
    /// Accounts that start: the channel and the account are enabled.
    pub fn active_accounts(&self) -> impl Iterator<Item = &Arc<DingTalkAccount>> {
        self.accounts
            .values()
            .filter(move |a| self.enabled && a.enabled)
    }
}

/// The scope flags that decide session keys for one account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationScope {
    /// `separateSessionByConversation` (default true): false keys sessions by the sender alone.
    pub separate_session_by_conversation: bool,
    /// `groupSessionScope`: one session per group or per person in a group.
    pub group_session_scope: GroupSessionScope,
    /// `sharedMemoryAcrossConversations`: every chat of the bot shares one session.
    pub shared_memory_across_conversations: bool,
}

impl Default for ConversationScope {
    fn default() -> Self {
        Self {
            separate_session_by_conversation: true,
            group_session_scope: GroupSessionScope::Group,
            shared_memory_across_conversations: false,
        }
    }
}

/// One DingTalk bot as dingclaw runs it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DingTalkAccount {
    /// Normalised account id (the key under `accounts`, or `default`).
    pub id: String,
    /// The plugin schema its section follows; decides its channel id.
    pub schema: PluginSchema,
    /// `name`: shown in status output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `enabled` (default true).
    pub enabled: bool,
    /// `clientId`: the app's AppKey.
    pub client_id: String,
    /// `clientSecret`: the app's AppSecret (never shown).
    pub client_secret: Secret,
    /// API base URL without a trailing slash.
    pub endpoint: String,
    /// `dmPolicy`.
    pub dm_policy: DmPolicy,
    /// `allowFrom`: senders allowed to DM under `allowlist`.
    pub allow_from: Vec<String>,
    /// soimy compares sender ids in allow lists without regard to case.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ids_ignore_case: bool,
    /// `groupPolicy`.
    pub group_policy: GroupPolicy,
    /// `groupAllowFrom`: conversation ids (or, in a soimy config, sender ids).
    pub group_allow_from: Vec<String>,
    /// `groups.<conversationId>`: per-group settings (mentions, tools, prompt).
    #[serde(skip_serializing_if = "super::groups::Groups::is_empty")]
    pub groups: super::groups::Groups,
    /// `requireMention`: answer only when @-mentioned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_mention: Option<bool>,
    /// `longTaskNoticeDelayMs`, over `dingclaw.stillWorkingSeconds`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_task_notice_delay_ms: Option<u64>,
    /// The session flags (docs/dingtalk-protocol.md 7.2.1).
    #[serde(flatten)]
    pub scope: ConversationScope,
    /// `textChunkLimit`: longer replies are split.
    pub text_chunk_limit: usize,
    /// `systemPrompt`: added to the agent's for this account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// `groupReplyMode` (default `aicard`).
    pub group_reply_mode: ReplyMode,
    /// `dmReplyMode` (default `aicard`).
    pub dm_reply_mode: ReplyMode,
    /// `asyncMode`: acknowledge at once with `ackText`, answer later through the OpenAPI.
    pub async_mode: bool,
    /// `ackText`.
    pub ack_text: String,
    /// `chatbotUserId`: the bot's own id, so other bots can be @-mentioned by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chatbot_user_id: Option<String>,
    /// `stream.*`: connection timings.
    pub stream: StreamSettings,
    /// `card.*`: AI card settings.
    pub card: CardSettings,
    /// `mediaMaxMb` and the media folder.
    pub media: MediaSettings,
    /// DingTalk's older API base (media uploads): `oapiEndpoint`, else oapi.dingtalk.com when
    /// `endpoint` is DingTalk's own, else `endpoint` (a simulator serves both).
    pub oapi_endpoint: String,
}

impl DingTalkAccount {
    /// An account as the config loader builds `channels.dingtalk-connector.accounts.<id>`
    /// with only its credentials: every other setting at the loader's default, so an account
    /// made in code never differs from a loaded one by accident.
    pub fn new(id: &str, client_id: &str, client_secret: &str) -> DingTalkAccount {
        // Without an endpoint nothing can be refused but empty credentials, which the loader
        // reports and still builds.
        Self::built(id, client_id, client_secret, None).0
    }

    /// `new`, talking to `endpoint` instead of DingTalk (a simulator, a proxy); the older
    /// API's base follows it as the loader's does. Refused when `endpoint` is not a URL.
    pub fn at(
        id: &str,
        client_id: &str,
        client_secret: &str,
        endpoint: &str,
    ) -> Result<DingTalkAccount, String> {
        match Self::built(id, client_id, client_secret, Some(endpoint)) {
            (account, None) => Ok(account),
            (_, Some(error)) => Err(error),
        }
    }

    fn built(
        id: &str,
        client_id: &str,
        client_secret: &str,
        endpoint: Option<&str>,
    ) -> (DingTalkAccount, Option<String>) {
        let mut entry = serde_json::json!({"clientId": client_id, "clientSecret": client_secret});
        if let Some(e) = endpoint {
            entry["endpoint"] = e.into();
        }
        let section: DingTalkSection =
            serde_json::from_value(serde_json::json!({ "accounts": { id: entry } }))
                .unwrap_or_default();
        let mut diags = Diagnostics::default();
        let channel = build_dingtalk(
            Some(&section),
            PluginSchema::Connector,
            &super::environment::MapEnv::new(),
            &Unresolved::new(),
            &mut diags,
        );
        let account = channel
            .accounts
            .into_values()
            .next()
            .map(Arc::unwrap_or_clone)
            .unwrap_or_else(|| DingTalkAccount::empty(id));
        (account, diags.errors.first().map(ToString::to_string))
    }

    /// The account built from an empty section (never used: `build_dingtalk` always builds
    /// the one account it is given).
    fn empty(id: &str) -> DingTalkAccount {
        let section = DingTalkSection::default();
        build_account(
            id,
            &ConfigPath::root(),
            Layers {
                top: &section,
                own: None,
                top_path: &ConfigPath::root(),
                schema: PluginSchema::Connector,
            },
            false,
            &super::environment::MapEnv::new(),
            &Unresolved::new(),
            &mut Diagnostics::default(),
        )
    }

    /// The channel id of its messages, session keys and bindings.
    pub fn channel(&self) -> &'static str {
        self.schema.channel()
    }

    /// Does allow-list entry `entry` name sender or conversation `id`? `*` names everyone.
    pub fn listed(&self, entry: &str, id: &str) -> bool {
        entry == "*" || entry == id || (self.ids_ignore_case && entry.eq_ignore_ascii_case(id))
    }

    /// True when `other` keeps the same Stream connection: the same credentials, endpoint
    /// and stream timings. Anything else (policies, reply modes, limits, prompts) changes
    /// live, without dropping the connection.
    pub fn same_connection(&self, other: &DingTalkAccount) -> bool {
        self.client_id == other.client_id
            && self.client_secret == other.client_secret
            && self.endpoint == other.endpoint
            && self.stream == other.stream
    }
}

/// Builds the accounts of one section (`channels.<schema.channel()>`), read with `schema`.
pub(crate) fn build_dingtalk(
    section: Option<&DingTalkSection>,
    schema: PluginSchema,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> DingTalkChannel {
    let Some(top) = section else {
        return DingTalkChannel::default();
    };
    let at = ConfigPath::root().key("channels").key(schema.channel());
    let channel_enabled = top.enabled.unwrap_or(true);
    for (key, present) in [
        ("name", top.name.is_some()),
        ("chatbotUserId", top.chatbot_user_id.is_some()),
        ("chatbotCorpId", top.chatbot_corp_id.is_some()),
    ] {
        if present {
            diags.error(at.key(key), "only valid inside accounts.<id>");
        }
    }

    // (account id, its own path, its own settings); the top level alone when no accounts.
    let mut sources: Vec<(String, ConfigPath, Option<&DingTalkSection>)> = Vec::new();
    match top.accounts.as_ref().filter(|a| !a.is_empty()) {
        None => sources.push((DEFAULT_ACCOUNT_ID.to_owned(), at.clone(), None)),
        Some(accounts) => {
            for (key, account) in accounts {
                let path = at.key("accounts").key(key);
                for (k, present) in [
                    ("accounts", account.accounts.is_some()),
                    ("defaultAccount", account.default_account.is_some()),
                ] {
                    if present {
                        diags.error(path.key(k), "only valid at the top level of the channel");
                    }
                }
                let id = normalize_account_id(key);
                if let Some((_, other, _)) = sources.iter().find(|(i, _, _)| *i == id) {
                    diags.error(
                        path.clone(),
                        format!("account id \"{id}\" is used twice (also at {other})"),
                    );
                    continue;
                }
                sources.push((id, path, Some(account)));
            }
            if schema.top_level_credentials_add_an_account()
                && top.client_id.is_some()
                && !sources.iter().any(|(i, _, _)| i == DEFAULT_ACCOUNT_ID)
            {
                sources.push((DEFAULT_ACCOUNT_ID.to_owned(), at.clone(), None));
            }
        }
    }

    let mut accounts = IndexMap::new();
    for (id, path, own) in &sources {
        let account = build_account(
            id,
            path,
            Layers {
                top,
                own: *own,
                top_path: &at,
                schema,
            },
            channel_enabled,
            env,
            unresolved,
            diags,
        );
        accounts.insert(id.clone(), account);
    }
    disable_duplicate_client_ids(&mut accounts, &sources, diags);

    let default_account = top
        .default_account
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if let Some(d) = default_account
        && top.accounts.as_ref().is_some_and(|a| !a.is_empty())
        && !accounts.contains_key(&normalize_account_id(d))
    {
        let known: Vec<&str> = accounts.keys().map(String::as_str).collect();
        let hint = suggest(d, &known)
            .map(|s| format!(" (did you mean \"{s}\"?)"))
            .unwrap_or_default();
        diags.error(
            at.key("defaultAccount"),
            format!("\"{d}\" does not match a configured account{hint}"),
        );
    }

    DingTalkChannel {
        enabled: channel_enabled,
        default_account: default_account.map(normalize_account_id),
        accounts: accounts
            .into_iter()
            .map(|(id, account)| (id, Arc::new(account)))
            .collect(),
    }
}

/// Where an account's settings come from: its own entry over the section's top level.
struct Layers<'a> {
    top: &'a DingTalkSection,
    own: Option<&'a DingTalkSection>,
    top_path: &'a ConfigPath,
    schema: PluginSchema,
}

/// One account: its own value for each key if set, else the top level's.
fn build_account(
    id: &str,
    path: &ConfigPath,
    layers: Layers<'_>,
    channel_enabled: bool,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> DingTalkAccount {
    let Layers {
        top,
        own,
        top_path,
        schema,
    } = layers;
    // The value of a key, account first.
    macro_rules! pick {
        ($field:ident) => {
            own.and_then(|o| o.$field.as_ref()).or(top.$field.as_ref())
        };
    }
    // The value of a key and the path it was written at, account first.
    macro_rules! pick_at {
        ($field:ident, $key:literal) => {
            match own.and_then(|o| o.$field.as_ref()) {
                Some(v) => Some((v, path.key($key))),
                None => top.$field.as_ref().map(|v| (v, top_path.key($key))),
            }
        };
    }
    let enabled = own.and_then(|o| o.enabled).unwrap_or(true);
    let starts = channel_enabled && enabled;
    // Offline (the demo) no credential leaves the machine: only real runs check them.
    let checked = starts && !env.offline();

    let client_id = match pick_at!(client_id, "clientId") {
        Some((v, p)) => {
            let s = v.clone().into_string();
            if checked && is_placeholder(&s) {
                diags.error(
                    p.clone(),
                    format!(
                        "\"{s}\" {}",
                        placeholder_error(
                            "Client ID (AppKey) from the DingTalk developer console",
                            &format!("account \"{id}\"")
                        )
                    ),
                );
            }
            if checked && let Some(names) = unresolved.get(&p) {
                diags.error(
                    p,
                    format!(
                        "environment variable \"{}\" is not set; account \"{id}\" is enabled and cannot start without it",
                        names.join("\", \"")
                    ),
                );
            }
            s
        }
        None => {
            if starts {
                diags.error(path.key("clientId"), "required");
            }
            String::new()
        }
    };
    let client_secret = match pick_at!(client_secret, "clientSecret") {
        Some((input, p)) => {
            let state = resolve_secret(input, &p, env, unresolved);
            match &state {
                SecretState::Unavailable(why) if checked => diags.error(
                    p,
                    format!("{why}; account \"{id}\" is enabled and cannot start without it"),
                ),
                SecretState::Ready(secret) if checked && is_placeholder(secret.expose()) => diags
                    .error(
                        p,
                        placeholder_error(
                            "Client Secret (AppSecret)",
                            &format!("account \"{id}\""),
                        ),
                    ),
                _ => {}
            }
            state.into_secret()
        }
        None => {
            if starts {
                diags.error(path.key("clientSecret"), "required");
            }
            Secret::new("")
        }
    };

    let endpoint = match pick_at!(endpoint, "endpoint") {
        Some((e, p)) => normalize_base_url(e).unwrap_or_else(|message| {
            diags.error(p, message);
            e.trim().to_owned()
        }),
        None => DEFAULT_ENDPOINT.to_owned(),
    };

    let dm_policy = match pick_at!(dm_policy, "dmPolicy") {
        Some((DmPolicyEntry::Allowlist, _)) => DmPolicy::Allowlist,
        Some((DmPolicyEntry::Pairing, _)) => DmPolicy::Pairing,
        Some((DmPolicyEntry::Open, _)) | None => DmPolicy::Open,
    };
    let ids = |v: Option<&Vec<IdValue>>| -> Vec<String> {
        v.map(|list| {
            list.iter()
                .cloned()
                .map(|i| strip_channel_prefix(&i.into_string()).to_owned())
                .collect()
        })
        .unwrap_or_default()
    };
    let allow_from = ids(pick!(allow_from));
    if dm_policy == DmPolicy::Allowlist && allow_from.is_empty() {
        diags.error(
            path.key("allowFrom"),
            "dmPolicy \"allowlist\" needs at least one sender in allowFrom",
        );
    }
    let group_policy = pick!(group_policy).copied().unwrap_or_default();
    let group_allow_from = ids(pick!(group_allow_from));
    let groups = match pick_at!(groups, "groups") {
        Some((g, p)) => super::groups::build_groups(Some(g), &p, diags),
        None => super::groups::Groups::default(),
    };
    if group_policy == GroupPolicy::Allowlist && group_allow_from.is_empty() && groups.is_empty() {
        diags.error(
            path.key("groupAllowFrom"),
            "groupPolicy \"allowlist\" needs at least one conversation id in groupAllowFrom, or groups",
        );
    }
    let text_chunk_limit = match pick_at!(text_chunk_limit, "textChunkLimit") {
        Some((0, p)) => {
            diags.error(p, "must be at least 1");
            DEFAULT_TEXT_CHUNK_LIMIT
        }
        Some((n, _)) => *n,
        None => DEFAULT_TEXT_CHUNK_LIMIT,
    };
    let defaults = ConversationScope::default();
    let reply_default = match (pick!(message_type), pick!(enable_ai_card)) {
        (Some(MessageType::Card), _) | (None, Some(true)) => ReplyMode::Aicard,
        (Some(MessageType::Markdown), _) | (None, Some(false)) => ReplyMode::Markdown,
        (None, None) if schema.replies_in_cards_by_default() => ReplyMode::Aicard,
        (None, None) => ReplyMode::Markdown,
    };
    // soimy's card and reconnect keys fill what `card` and `stream` leave unset.
    let card = pick_at!(card, "card");
    let card = CardEntry {
        template_id: card
            .as_ref()
            .and_then(|(c, _)| c.template_id.clone())
            .or_else(|| pick!(card_template_id).cloned()),
        content_key: card
            .as_ref()
            .and_then(|(c, _)| c.content_key.clone())
            .or_else(|| pick!(card_template_key).cloned()),
        update_interval_ms: card
            .as_ref()
            .and_then(|(c, _)| c.update_interval_ms)
            .or(pick!(card_stream_interval).copied()),
        degrade_ms: card
            .as_ref()
            .and_then(|(c, _)| c.degrade_ms)
            .or(pick!(aicard_degrade_ms).copied()),
        ..card.as_ref().map(|(c, _)| (*c).clone()).unwrap_or_default()
    };
    let card_at = pick_at!(card, "card").map_or_else(|| path.key("card"), |(_, p)| p);
    let stream = pick_at!(stream, "stream");
    let stream_at = stream
        .as_ref()
        .map_or_else(|| path.key("stream"), |(_, p)| p.clone());
    let stream = StreamEntry {
        reconnect_initial_ms: stream
            .as_ref()
            .and_then(|(s, _)| s.reconnect_initial_ms)
            .or(pick!(initial_reconnect_delay).copied()),
        reconnect_max_ms: stream
            .as_ref()
            .and_then(|(s, _)| s.reconnect_max_ms)
            .or(pick!(max_reconnect_delay).copied()),
        ..stream.map(|(s, _)| (*s).clone()).unwrap_or_default()
    };

    DingTalkAccount {
        id: id.to_owned(),
        schema,
        ids_ignore_case: schema.allow_lists_ignore_case(),
        name: own.and_then(|o| o.name.clone()),
        enabled,
        client_id,
        client_secret,
        dm_policy,
        allow_from,
        group_policy,
        group_allow_from,
        groups,
        require_mention: pick!(require_mention)
            .copied()
            .or(schema.requires_mention_by_default().then_some(true)),
        long_task_notice_delay_ms: pick!(long_task_notice_delay_ms).copied(),
        scope: ConversationScope {
            separate_session_by_conversation: pick!(separate_session_by_conversation)
                .copied()
                .unwrap_or(defaults.separate_session_by_conversation),
            group_session_scope: pick!(group_session_scope)
                .copied()
                .unwrap_or(defaults.group_session_scope),
            shared_memory_across_conversations: pick!(shared_memory_across_conversations)
                .copied()
                .unwrap_or(defaults.shared_memory_across_conversations),
        },
        text_chunk_limit,
        system_prompt: pick!(system_prompt).cloned(),
        group_reply_mode: pick!(group_reply_mode).copied().unwrap_or(reply_default),
        dm_reply_mode: pick!(dm_reply_mode).copied().unwrap_or(reply_default),
        async_mode: pick!(async_mode).copied().unwrap_or(false),
        ack_text: pick!(ack_text)
            .cloned()
            .unwrap_or_else(|| DEFAULT_ACK_TEXT.to_owned()),
        chatbot_user_id: own.and_then(|o| o.chatbot_user_id.clone()),
        stream: stream_settings(&stream, stream_at, diags),
        card: card_settings(pick!(streaming).copied(), &card, card_at, diags),
        media: MediaSettings {
            max_bytes: match pick_at!(media_max_mb, "mediaMaxMb")
                .or(pick_at!(max_file_size_mb, "maxFileSizeMB"))
            {
                Some((mb, p)) if !(mb.is_finite() && *mb > 0.0) => {
                    diags.error(p, "must be a positive number of MB");
                    (DEFAULT_MEDIA_MAX_MB * 1_048_576.0) as u64
                }
                Some((mb, _)) => (mb * 1_048_576.0) as u64,
                None => (DEFAULT_MEDIA_MAX_MB * 1_048_576.0) as u64,
            },
            dir: pick!(inbound_media)
                .and_then(|m| m.dir.as_deref())
                .map(|d| super::environment::expand_home(d, env)),
            keep_days: pick!(inbound_media)
                .and_then(|m| m.keep_days)
                .unwrap_or(DEFAULT_MEDIA_KEEP_DAYS),
            ack_reaction: match pick!(ack_reaction).map(|s| s.trim()) {
                None => Some(DEFAULT_ACK_REACTION.to_owned()),
                Some("" | "off" | "false" | "none") => None,
                Some("emoji" | "kaomoji" | "on" | "true") => Some(DEFAULT_ACK_REACTION.to_owned()),
                Some(text) => Some(text.to_owned()),
            },
        },
        oapi_endpoint: match pick_at!(oapi_endpoint, "oapiEndpoint") {
            Some((e, p)) => normalize_base_url(e).unwrap_or_else(|message| {
                diags.error(p, message);
                e.trim().to_owned()
            }),
            None if endpoint == DEFAULT_ENDPOINT => DEFAULT_OAPI_ENDPOINT.to_owned(),
            None => endpoint.clone(),
        },
        endpoint,
    }
}

fn stream_settings(entry: &StreamEntry, at: ConfigPath, diags: &mut Diagnostics) -> StreamSettings {
    let s = StreamSettings::from_entry(entry);
    if s.pong_timeout <= s.ping_interval {
        diags.warn(
            at.key("pongTimeoutMs"),
            "is not longer than pingIntervalMs, so a healthy socket may look dead",
        );
    }
    if s.dedup_ttl < Duration::from_secs(300) {
        diags.warn(
            at.key("dedupTtlMs"),
            "is under 5 minutes; DingTalk redeliveries up to a minute late may be answered twice",
        );
    }
    s
}

/// Allow lists may name people as soimy writes them, `dingtalk:<id>`, `dd:<id>` or
/// `ding:<id>`; the prefix is not part of the id.
fn strip_channel_prefix(entry: &str) -> &str {
    let e = entry.trim();
    for prefix in ["dingtalk:", "dd:", "ding:"] {
        if e.len() > prefix.len() && e[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return &e[prefix.len()..];
        }
    }
    e
}

/// Two accounts with one clientId would be one DingTalk app: DingTalk delivers each message to
/// one random connection (docs/dingtalk-protocol.md 1.2), so the two agents would answer
/// at random. The connector keeps the first account in sorted order and drops the others; so
/// does dingclaw, with a warning.
fn disable_duplicate_client_ids(
    accounts: &mut IndexMap<String, DingTalkAccount>,
    sources: &[(String, ConfigPath, Option<&DingTalkSection>)],
    diags: &mut Diagnostics,
) {
    let mut ids: Vec<&String> = accounts.keys().collect();
    ids.sort();
    let mut seen: IndexMap<String, String> = IndexMap::new();
    let mut drop = Vec::new();
    for id in ids {
        let account = &accounts[id];
        if account.client_id.is_empty() || !account.enabled {
            continue;
        }
        match seen.get(&account.client_id) {
            Some(first) => drop.push((id.clone(), first.clone())),
            None => {
                seen.insert(account.client_id.clone(), id.clone());
            }
        }
    }
    for (id, first) in drop {
        if let Some(a) = accounts.get_mut(&id) {
            a.enabled = false;
        }
        let path = sources
            .iter()
            .find(|(i, _, _)| *i == id)
            .map(|(_, p, _)| p.key("clientId"))
            .unwrap_or_default();
        diags.warn(
            path,
            format!("same clientId as account \"{first}\"; account \"{id}\" is not started"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::MapEnv;

    fn build(json: serde_json::Value) -> (DingTalkChannel, Diagnostics) {
        let s: DingTalkSection = serde_json::from_value(json).unwrap();
        let mut d = Diagnostics::default();
        let c = build_dingtalk(
            Some(&s),
            PluginSchema::Connector,
            &MapEnv::new(),
            &Unresolved::new(),
            &mut d,
        );
        (c, d)
    }

    #[test]
    fn accounts_inherit_top_level_and_win() {
        let (c, d) = build(serde_json::json!({
            "clientId": "shared-id", "clientSecret": "shared-secret",
            "groupSessionScope": "group_sender", "dmPolicy": "allowlist", "allowFrom": ["u1", 42],
            "accounts": {
                "Bot1": {"clientId": "id1"},
                "bot2": {"clientId": "id2", "clientSecret": "own", "groupSessionScope": "group",
                          "sharedMemoryAcrossConversations": true},
            }
        }));
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        let b1 = &c.accounts["bot1"];
        assert_eq!(b1.client_secret.expose(), "shared-secret");
        assert_eq!(b1.scope.group_session_scope, GroupSessionScope::GroupSender);
        assert_eq!(b1.allow_from, vec!["u1", "42"]);
        let b2 = &c.accounts["bot2"];
        assert_eq!(b2.client_secret.expose(), "own");
        assert_eq!(b2.scope.group_session_scope, GroupSessionScope::Group);
        assert!(b2.scope.shared_memory_across_conversations);
        assert!(b2.scope.separate_session_by_conversation);
        assert_eq!(b2.endpoint, DEFAULT_ENDPOINT);
    }

    fn build_as(schema: PluginSchema, json: serde_json::Value) -> (DingTalkChannel, Diagnostics) {
        let s: DingTalkSection = serde_json::from_value(json).unwrap();
        let mut d = Diagnostics::default();
        let c = build_dingtalk(Some(&s), schema, &MapEnv::new(), &Unresolved::new(), &mut d);
        (c, d)
    }

    #[test]
    fn soimy_keys_map_to_dingclaw_settings() {
        let (c, d) = build_as(
            PluginSchema::Soimy,
            serde_json::json!({
                "clientId": "dingabc", "clientSecret": "s", "cardStreamInterval": 500,
                "aicardDegradeMs": 60000, "initialReconnectDelay": 2000, "maxReconnectDelay": 30000,
                "dmPolicy": "allowlist", "allowFrom": ["dingtalk:Manager01", "dd:staff2"],
                "accounts": {
                    "plain": {},
                    "cards": {"clientId": "dingdef", "messageType": "card",
                              "cardTemplateId": "tpl.schema", "cardTemplateKey": "content"},
                },
            }),
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        let plain = &c.accounts["plain"];
        assert_eq!(plain.channel(), "dingtalk");
        // soimy's messageType defaults to markdown.
        assert_eq!(plain.group_reply_mode, ReplyMode::Markdown);
        assert_eq!(plain.dm_reply_mode, ReplyMode::Markdown);
        assert_eq!(plain.card.update_interval, Duration::from_millis(500));
        assert_eq!(plain.card.degrade_for, Duration::from_millis(60_000));
        assert_eq!(plain.stream.reconnect_initial, Duration::from_millis(2000));
        assert_eq!(plain.stream.reconnect_max, Duration::from_millis(30_000));
        assert_eq!(plain.allow_from, vec!["Manager01", "staff2"]);
        assert!(plain.listed("Manager01", "manager01"), "soimy ignores case");
        let cards = &c.accounts["cards"];
        assert_eq!(cards.group_reply_mode, ReplyMode::Aicard);
        assert_eq!(cards.card.template_id, "tpl.schema");
        assert_eq!(cards.card.content_key, "content");
    }

    #[test]
    fn openclaw_china_defaults_differ_where_the_plugin_does() {
        let (c, d) = build_as(
            PluginSchema::OpenclawChina,
            serde_json::json!({
                "clientId": "dingtop", "clientSecret": "s", "enableAICard": true,
                "accounts": {"sales": {"clientId": "dingsales", "requireMention": false}},
            }),
        );
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        // Top-level credentials beside accounts add an account named default.
        assert_eq!(
            c.accounts.keys().collect::<Vec<_>>(),
            vec!["sales", "default"]
        );
        assert_eq!(c.accounts["default"].client_id, "dingtop");
        assert_eq!(c.accounts["default"].require_mention, Some(true));
        assert_eq!(c.accounts["sales"].require_mention, Some(false));
        assert_eq!(c.accounts["sales"].dm_reply_mode, ReplyMode::Aicard);
        assert!(!c.accounts["sales"].listed("Bob", "bob"), "exact ids");
        // The connector's own section adds no such account and keeps cards by default.
        let (c, _) = build_as(
            PluginSchema::Connector,
            serde_json::json!({"clientId": "dingtop", "clientSecret": "s",
                               "accounts": {"sales": {"clientId": "dingsales"}}}),
        );
        assert_eq!(c.accounts.keys().collect::<Vec<_>>(), vec!["sales"]);
        assert_eq!(c.accounts["sales"].dm_reply_mode, ReplyMode::Aicard);
        assert_eq!(c.accounts["sales"].require_mention, None);
    }

    #[test]
    fn an_account_made_in_code_is_the_loaded_one() {
        let (c, _) = build(serde_json::json!({
            "accounts": {"bot1": {"clientId": "dingabc", "clientSecret": "s3cret",
                                   "endpoint": "http://127.0.0.1:18790/"}}
        }));
        let made =
            DingTalkAccount::at("bot1", "dingabc", "s3cret", "http://127.0.0.1:18790/").unwrap();
        assert_eq!(made, *c.accounts["bot1"]);
        assert_eq!(made.oapi_endpoint, "http://127.0.0.1:18790");
        let plain = DingTalkAccount::new("Bot2", "dingdef", "s");
        assert_eq!(plain.id, "bot2");
        assert_eq!(plain.endpoint, DEFAULT_ENDPOINT);
        assert_eq!(plain.stream, StreamSettings::default());
        assert!(DingTalkAccount::at("b", "i", "s", "not a url").is_err());
    }

    #[test]
    fn no_accounts_means_one_default_account() {
        let (c, d) = build(serde_json::json!({"clientId": "a", "clientSecret": "b"}));
        assert!(d.errors.is_empty());
        assert_eq!(c.accounts.keys().collect::<Vec<_>>(), vec!["default"]);
    }

    #[test]
    fn missing_credentials_are_required_only_when_enabled() {
        let (_, d) = build(serde_json::json!({
            "accounts": {"bot1": {"clientId": "x", "clientSecret": "y"}, "bot2": {"clientId": "z"},
                         "bot3": {"enabled": false}}
        }));
        let lines: Vec<_> = d.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            vec!["channels.dingtalk-connector.accounts.bot2.clientSecret: required"]
        );
    }

    #[test]
    fn unresolved_secret_is_an_error_for_an_enabled_account() {
        let s: DingTalkSection = serde_json::from_value(serde_json::json!({
            "accounts": {"bot1": {"clientId": "x", "clientSecret": "${BOT1_SECRET}"},
                         "off": {"enabled": false, "clientId": "y", "clientSecret": "${OFF_SECRET}"}}
        }))
        .unwrap();
        let mut unresolved = Unresolved::new();
        unresolved.insert(
            ConfigPath::parse("channels.dingtalk-connector.accounts.bot1.clientSecret"),
            vec!["BOT1_SECRET".into()],
        );
        unresolved.insert(
            ConfigPath::parse("channels.dingtalk-connector.accounts.off.clientSecret"),
            vec!["OFF_SECRET".into()],
        );
        let mut d = Diagnostics::default();
        build_dingtalk(
            Some(&s),
            PluginSchema::Connector,
            &MapEnv::new(),
            &unresolved,
            &mut d,
        );
        let lines: Vec<_> = d.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "channels.dingtalk-connector.accounts.bot1.clientSecret: environment variable \"BOT1_SECRET\" is not set; account \"bot1\" is enabled and cannot start without it"
            ]
        );
    }

    #[test]
    fn policy_lists_and_default_account_are_checked() {
        let (_, d) = build(serde_json::json!({
            "defaultAccount": "bot3",
            "groupPolicy": "allowlist",
            "accounts": {"bot1": {"clientId": "a", "clientSecret": "b", "dmPolicy": "allowlist"}}
        }));
        let lines: Vec<_> = d.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "channels.dingtalk-connector.accounts.bot1.allowFrom: dmPolicy \"allowlist\" needs at least one sender in allowFrom",
                "channels.dingtalk-connector.accounts.bot1.groupAllowFrom: groupPolicy \"allowlist\" needs at least one conversation id in groupAllowFrom, or groups",
                "channels.dingtalk-connector.defaultAccount: \"bot3\" does not match a configured account (did you mean \"bot1\"?)",
            ]
        );
    }

    #[test]
    fn duplicate_client_id_keeps_the_first_in_sorted_order() {
        let (c, d) = build(serde_json::json!({
            "clientSecret": "s",
            "accounts": {"zeta": {"clientId": "same"}, "alpha": {"clientId": "same"}}
        }));
        assert!(d.errors.is_empty());
        assert!(c.accounts["alpha"].enabled);
        assert!(!c.accounts["zeta"].enabled);
        assert_eq!(
            d.warnings[0].to_string(),
            "channels.dingtalk-connector.accounts.zeta.clientId: same clientId as account \"alpha\"; account \"zeta\" is not started"
        );
    }
}
