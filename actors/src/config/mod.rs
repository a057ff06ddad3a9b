//! openclaw.json: the types users write, how they are loaded, and the effective config
//! dingclaw runs with.
//!
//! Loading follows OpenClaw (docs/openclaw-routing.md 1): JSON5, `$include`, `${VAR}`,
//! strict validation of the sections dingclaw implements, and an "ignored" warning for the
//! OpenClaw sections it does not, so an OpenClaw config loads unchanged. Every problem is
//! reported as `dotted.path: message`, all at once.
//!
//! Each section file holds what users write (serde types whose doc comments are the user
//! reference) beside what dingclaw runs with (the effective types, defaults applied).

mod agents;
mod bindings;
mod card;
mod catalogue;
mod cluster;
mod commands;
mod compaction;
mod compat;
mod cron;
mod digest;
mod dingtalk;
mod environment;
mod exposure;
mod gateway;
mod groups;
mod http_url;
mod ids;
mod include;
mod issue;
mod load;
pub mod mcp;
mod memory;
mod messages;
mod models;
mod nesting;
mod paths;
mod plugin_schema;
mod runtime;
mod secret;
mod session;
mod skills;
mod strict;
mod substitute;
pub mod tool_catalogue;
pub mod tool_policy;
mod tools;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

pub use agents::{Agent, AgentRoster, DEFAULT_TIMEZONE, Identity, ModelSelection};
pub use bindings::{AccountMatch, Binding, PeerKind, PeerMatch};
pub use card::{CardEntry, CardSettings, DEFAULT_CARD_CONTENT_KEY, DEFAULT_CARD_TEMPLATE};
pub use catalogue::{BUILTIN_PROVIDERS, BuiltinProvider, canonical_provider_id};
pub use cluster::ClusterConfig;
pub use commands::CommandsConfig;
pub use compaction::CompactionConfig;
pub use compat::{DINGTALK_CHANNEL, IgnoredSetting, summarize_ignored};
pub use cron::CronConfig;
pub use digest::ConfigDigest;
pub use dingtalk::{
    ConversationScope, DEFAULT_ENDPOINT, DingTalkAccount, DingTalkChannel, DmPolicy, GroupPolicy,
    GroupSessionScope, ReplyMode, StreamSettings,
};
pub use environment::{Environment, MapEnv, ProcessEnv, expand_home};
pub use exposure::{Exposed, Exposure, create_private_dir, exposures};
pub use gateway::{AuthMode, GatewayAuth, GatewayConfig, ReloadMode};
pub use groups::{GroupSettings, Groups, is_conversation_id};
pub use ids::{DEFAULT_ACCOUNT_ID, DEFAULT_AGENT_ID, normalize_account_id, normalize_agent_id};
pub use issue::{ConfigError, ConfigPath, Diagnostics, Issue};
pub use load::{Loaded, load_file, load_str};
pub use mcp::{McpConfig, McpServerConfig, McpTransport};
pub use memory::MemoryConfig;
pub use messages::{QueueConfig, QueueMode};
pub use models::{
    CatalogueMode, DEFAULT_CONTEXT_WINDOW, KeySource, ModelApi, ModelsConfig, ProviderConfig,
    provider_of,
};
pub use nesting::parse_json5;
pub use paths::{
    CONFIG_FILE_NAME, config_candidates, dingclaw_dir, resolve_config_path, state_dir,
};
pub use plugin_schema::{DINGTALK_PLUGIN_CHANNEL, PluginSchema, Recognised, is_dingtalk_channel};
pub use runtime::{Durability, RuntimeConfig, StoreKind, default_workers};
pub use secret::{REDACTED, Secret};
pub use session::{DmScope, GroupScope, ResetPolicy, SessionConfig, SessionScopeKind};
pub use skills::{SkillSettings, SkillsConfig};
pub use tools::{
    AgentToolsConfig, DEFAULT_USER_AGENT, ExecAsk, ExecConfig, ExecSecurity, SEARCH_ORDER,
    SearchProviderConfig, SsrfPolicy, ToolPolicy, ToolsConfig, WebConfig, WebFetchConfig,
    WebSearchConfig,
};

/// The effective configuration: includes resolved, variables substituted, defaults applied and
/// accounts merged with the channel's top-level settings. Serializes (for `config show`) with
/// every secret printed as `***`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The file it was loaded from, if any.
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// `$OPENCLAW_STATE_DIR`, else `~/.openclaw`.
    #[serde(skip)]
    pub state_dir: PathBuf,
    /// Files read that hold credentials (the main file, includes with secret keys, `.env`
    /// files), for the permission check.
    #[serde(skip)]
    pub secret_files: Vec<PathBuf>,
    /// `agents`.
    pub agents: AgentRoster,
    /// `bindings`.
    pub bindings: Vec<Binding>,
    /// `channels`.
    pub channels: Channels,
    /// `models`.
    pub models: ModelsConfig,
    /// `session`.
    pub session: SessionConfig,
    /// `gateway`.
    pub gateway: GatewayConfig,
    /// `cron`.
    pub cron: CronConfig,
    /// `tools`.
    pub tools: ToolsConfig,
    /// `skills`.
    pub skills: SkillsConfig,
    /// `commands`.
    pub commands: CommandsConfig,
    /// `mcp`.
    pub mcp: McpConfig,
    /// `messages.queue`.
    pub queue: QueueConfig,
    /// The `dingclaw` section.
    #[serde(rename = "dingclaw")]
    pub runtime: RuntimeConfig,
}

/// The channels dingclaw serves: every DingTalk bot, from `channels.dingtalk-connector` and
/// `channels.dingtalk` alike (each account knows its own channel id).
#[derive(Clone, Debug, Default)]
pub struct Channels {
    /// `channels.dingtalk-connector` (or `channels.dingtalk`, mapped).
    pub dingtalk: DingTalkChannel,
}

/// `config show` lists each bot under the section it came from.
impl Serialize for Channels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        for channel in [DINGTALK_CHANNEL, DINGTALK_PLUGIN_CHANNEL] {
            let accounts: indexmap::IndexMap<&str, &DingTalkAccount> = self
                .dingtalk
                .accounts
                .iter()
                .filter(|(_, a)| a.channel() == channel)
                .map(|(id, a)| (id.as_str(), &**a))
                .collect();
            if accounts.is_empty() && channel != DINGTALK_CHANNEL {
                continue;
            }
            let default_account = self
                .dingtalk
                .default_account
                .as_deref()
                .filter(|d| accounts.contains_key(d));
            let mut section = serde_json::json!({
                "enabled": self.dingtalk.enabled,
                "accounts": accounts,
            });
            if let Some(d) = default_account {
                section["defaultAccount"] = d.into();
            }
            map.serialize_entry(channel, &section)?;
        }
        map.end()
    }
}

impl Config {
    /// One line for `config check`: what was loaded.
    pub fn summary(&self) -> String {
        let agents: Vec<&str> = self.agents.ids().collect();
        let accounts: Vec<&str> = self
            .channels
            .dingtalk
            .accounts
            .values()
            .map(|a| a.id.as_str())
            .collect();
        let active = self.channels.dingtalk.active_accounts().count();
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                one.to_owned()
            } else {
                many.to_owned()
            }
        };
        format!(
            "{} {} ({}), {} {} ({}; {} enabled), {} {}",
            agents.len(),
            plural(agents.len(), "agent", "agents"),
            agents.join(", "),
            accounts.len(),
            plural(accounts.len(), "account", "accounts"),
            if accounts.is_empty() {
                "none".to_owned()
            } else {
                accounts.join(", ")
            },
            active,
            self.bindings.len(),
            plural(self.bindings.len(), "binding", "bindings"),
        )
    }

    /// The DingTalk account with this (normalised) id.
    pub fn account(&self, id: &str) -> Option<&Arc<DingTalkAccount>> {
        self.channels
            .dingtalk
            .accounts
            .get(&normalize_account_id(id))
    }
}

/// The config of an empty file, for unit tests.
#[cfg(test)]
pub(crate) fn empty_for_tests() -> Config {
    let loaded = load_str("{}", std::path::Path::new("/"), &MapEnv::new());
    match loaded {
        Ok(l) => l.config,
        Err(e) => panic!("the empty config does not load: {e}"),
    }
}
