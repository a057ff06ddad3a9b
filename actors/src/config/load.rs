//! The load pipeline, in OpenClaw's order (docs/openclaw-routing.md 1.2): parse JSON5,
//! resolve `$include`, apply `env.vars` and expand `${VAR}`, validate, apply defaults.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

use super::agents::{AgentsSection, RosterContext, build_roster};
use super::bindings::{AccountMatch, Binding, BindingEntry, build_bindings};
use super::commands::{CommandsSection, build_commands};
use super::compat::{IgnoredSetting, strip_openclaw_only, summarize_ignored};
use super::cron::{CronSection, build_cron};
use super::digest::ConfigDigest;
use super::dingtalk::{DingTalkChannel, DingTalkSection, build_dingtalk};
use super::environment::Environment;
use super::gateway::{GatewaySection, build_gateway};
use super::ids::normalize_agent_id;
use super::include::{read_json5, resolve_includes};
use super::issue::{ConfigError, ConfigPath, Diagnostics, Issue};
use super::mcp::{McpSection, build_mcp};
use super::memory::{MemoryConfig, layer_memory};
use super::messages::{MessagesSection, build_queue};
use super::models::{ModelsSection, build_models};
use super::paths::state_dir;
use super::plugin_schema::{
    DINGTALK_CHANNEL, DINGTALK_PLUGIN_CHANNEL, PluginSchema, Recognised, is_dingtalk_channel,
    recognise_plugin_section,
};
use super::runtime::{RuntimeSection, build_runtime};
use super::session::{SessionSection, build_session};
use super::skills::{SkillsSection, build_skills};
use super::strict::deserialize_all;
use super::substitute::{Unresolved, substitute, variable_source};
use super::tools::{PluginSearch, SearchProviderEntry, ToolsSection, build_tools};
use super::{Channels, Config};

/// The document root as dingclaw validates it, after OpenClaw-only sections were taken out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    /// Editors' schema hint; the only extra key OpenClaw allows at the root.
    #[serde(rename = "$schema")]
    _schema: Option<IgnoredAny>,
    agents: Option<AgentsSection>,
    bindings: Option<Vec<BindingEntry>>,
    channels: Option<RawChannels>,
    models: Option<ModelsSection>,
    session: Option<SessionSection>,
    gateway: Option<GatewaySection>,
    cron: Option<CronSection>,
    messages: Option<MessagesSection>,
    /// dingclaw's own runtime settings.
    dingclaw: Option<RuntimeSection>,
    tools: Option<ToolsSection>,
    skills: Option<SkillsSection>,
    commands: Option<CommandsSection>,
    mcp: Option<McpSection>,
    /// OpenClaw 2026.9's memory settings; `search` is read.
    memory: Option<Value>,
    /// Applied before substitution (`env.vars` and plain string entries); see `substitute`.
    env: Option<serde_json::Map<String, Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannels {
    /// DingTalk-Real-AI's connector.
    #[serde(rename = "dingtalk-connector")]
    connector: Option<DingTalkSection>,
    /// `@soimy/dingtalk` or `@openclaw-china/dingtalk`.
    dingtalk: Option<DingTalkSection>,
}

/// A loaded config and the warnings to show the operator.
#[derive(Debug)]
pub struct Loaded {
    /// The effective config.
    pub config: Config,
    /// What was reported without stopping it.
    pub warnings: Vec<Issue>,
    /// Every OpenClaw setting that was ignored, one per place (`config check --verbose`); the
    /// warnings hold one line per feature.
    pub ignored: Vec<IgnoredSetting>,
    /// Fingerprint of every file read (main file, includes, `.env`): hot reload applies a
    /// file event only when this changed.
    pub digest: ConfigDigest,
    /// Which plugin's schema each DingTalk section was read with.
    pub recognised: Vec<Recognised>,
}

/// Loads the config file at `path`.
pub fn load_file(path: &Path, env: &dyn Environment) -> Result<Loaded, ConfigError> {
    let mut diags = Diagnostics::default();
    let doc = match std::fs::metadata(path) {
        Err(e) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source: e,
            });
        }
        Ok(_) => read_json5(path, &ConfigPath::root(), &mut diags),
    };
    let doc = doc.map(|d| resolve_includes(d, path, env, &mut diags));
    finish(doc, Some(path.to_path_buf()), env, diags)
}

/// Loads a config from text (an embedded default, a test). `$include` paths resolve against
/// `base_dir`, which also bounds them.
pub fn load_str(text: &str, base_dir: &Path, env: &dyn Environment) -> Result<Loaded, ConfigError> {
    let mut diags = Diagnostics::default();
    let virtual_file = base_dir.join("<inline>");
    let doc = match super::nesting::parse_json5(text) {
        Ok(v) => Some(resolve_includes(v, &virtual_file, env, &mut diags)),
        Err(e) => {
            diags.error(ConfigPath::root(), format!("JSON5 parse failed: {e}"));
            None
        }
    };
    finish(doc, None, env, diags)
}

fn finish(
    doc: Option<Value>,
    source: Option<PathBuf>,
    env: &dyn Environment,
    mut diags: Diagnostics,
) -> Result<Loaded, ConfigError> {
    let file = source.clone().unwrap_or_else(|| PathBuf::from("<inline>"));
    let Some(mut doc) = doc else {
        return Err(ConfigError::Invalid {
            file,
            digest: diags.sources.finish(),
            errors: diags.errors,
            warnings: diags.warnings,
        });
    };
    let state = state_dir(env);
    let vars = variable_source(&doc, env, &state, &mut diags);
    let mut unresolved = Unresolved::new();
    substitute(
        &mut doc,
        &ConfigPath::root(),
        &vars,
        &mut diags,
        &mut unresolved,
    );

    // 2026.9 keeps search credentials in plugin settings, which are otherwise not read.
    let plugin_search = plugin_search(&doc);
    // Read before OpenClaw-only keys go: some of them are what tells the plugins apart.
    let recognised = recognise_sections(&doc);
    let ignored = strip_openclaw_only(&mut doc);
    diags.warnings.extend(summarize_ignored(&ignored));

    let raw: RawConfig = if doc.is_null() {
        RawConfig::default()
    } else {
        deserialize_all(&doc, &ConfigPath::root(), &mut diags.errors).unwrap_or_default()
    };
    let mut config = build(
        raw,
        source,
        state,
        Inputs {
            env: &vars,
            unresolved: &unresolved,
            plugin_search: &plugin_search,
            recognised: &recognised,
        },
        &mut diags,
    );
    config.secret_files = diags.sources.secret_files.clone();
    let digest = diags.sources.finish();
    if diags.has_errors() {
        return Err(ConfigError::Invalid {
            file,
            errors: diags.errors,
            warnings: diags.warnings,
            digest,
        });
    }
    Ok(Loaded {
        config,
        warnings: diags.warnings,
        ignored,
        digest,
        recognised,
    })
}

/// The DingTalk sections present, each with the schema it is read with.
fn recognise_sections(doc: &Value) -> Vec<Recognised> {
    let mut out = Vec::new();
    let channels = doc.get("channels");
    if channels.and_then(|c| c.get(DINGTALK_CHANNEL)).is_some() {
        out.push(Recognised {
            section: format!("channels.{DINGTALK_CHANNEL}"),
            schema: PluginSchema::Connector,
            evidence: Vec::new(),
        });
    }
    if let Some(section) = channels.and_then(|c| c.get(DINGTALK_PLUGIN_CHANNEL)) {
        out.push(recognise_plugin_section(section));
    }
    out
}

/// What `build` reads besides the document.
struct Inputs<'a> {
    env: &'a dyn Environment,
    unresolved: &'a Unresolved,
    plugin_search: &'a PluginSearch,
    recognised: &'a [Recognised],
}

fn build(
    raw: RawConfig,
    source: Option<PathBuf>,
    state_dir: PathBuf,
    inputs: Inputs<'_>,
    diags: &mut Diagnostics,
) -> Config {
    let Inputs {
        env,
        unresolved,
        plugin_search,
        recognised,
    } = inputs;
    if let Some(shell) = raw.env.as_ref().and_then(|e| e.get("shellEnv"))
        && shell.get("enabled").and_then(Value::as_bool) == Some(true)
    {
        diags.warn(
            ConfigPath::parse("env.shellEnv.enabled"),
            "importing a login shell's environment is not supported; set the variables in the service environment",
        );
    }
    let binding_entries = raw.bindings.unwrap_or_default();
    let implicit_agents: Vec<String> = binding_entries
        .iter()
        .filter_map(|b| b.agent_id.as_deref().map(normalize_agent_id))
        .collect();
    let tools = build_tools(raw.tools.as_ref(), plugin_search, env, unresolved, diags);
    let memory = layer_memory(
        &MemoryConfig::default(),
        raw.memory.as_ref().and_then(|m| m.get("search")),
        &ConfigPath::root().key("memory").key("search"),
        diags,
    );
    let agents = build_roster(
        raw.agents.as_ref(),
        &implicit_agents,
        &RosterContext {
            state_dir: &state_dir,
            env,
            global_exec: &tools.exec,
            memory: &memory,
        },
        diags,
    );
    let bindings = build_bindings(&binding_entries, &agents, diags);
    let plugin_schema = recognised
        .iter()
        .find(|r| r.schema != PluginSchema::Connector)
        .map_or(PluginSchema::EitherPlugin, |r| r.schema);
    let connector = build_dingtalk(
        raw.channels.as_ref().and_then(|c| c.connector.as_ref()),
        PluginSchema::Connector,
        env,
        unresolved,
        diags,
    );
    let plugin = build_dingtalk(
        raw.channels.as_ref().and_then(|c| c.dingtalk.as_ref()),
        plugin_schema,
        env,
        unresolved,
        diags,
    );
    let dingtalk = merge_sections(connector, plugin, diags);
    let session = build_session(raw.session.as_ref(), diags);
    if session.dm_scope.is_none()
        && dingtalk
            .accounts
            .values()
            .any(|a| a.channel() == DINGTALK_PLUGIN_CHANNEL)
    {
        diags.warn(
            ConfigPath::root().key("session").key("dmScope"),
            "unset: under OpenClaw every direct chat of channels.dingtalk's bots shares one session (\"main\"); dingclaw keeps each sender's apart (\"per-channel-peer\", as the DingTalk connector does). Set session.dmScope to choose",
        );
    }
    warn_unreachable_bindings(&bindings, &dingtalk, diags);
    let models = build_models(raw.models.as_ref(), &agents, env, unresolved, diags);
    Config {
        runtime: build_runtime(raw.dingclaw.as_ref(), &state_dir, env, unresolved, diags),
        queue: build_queue(raw.messages.as_ref(), diags),
        source,
        state_dir,
        secret_files: Vec::new(),
        session,
        gateway: build_gateway(raw.gateway.as_ref(), env, unresolved, diags),
        cron: build_cron(raw.cron.as_ref(), env, unresolved, diags),
        skills: build_skills(raw.skills.as_ref(), env, unresolved, diags),
        commands: build_commands(raw.commands.as_ref(), diags),
        mcp: build_mcp(raw.mcp.as_ref(), env, unresolved, diags),
        tools,
        agents,
        bindings,
        channels: Channels { dingtalk },
        models,
    }
}

/// Bindings that can never match anything dingclaw receives are legal in OpenClaw, but almost
/// always a typo, so they are pointed out.
fn warn_unreachable_bindings(
    bindings: &[Binding],
    dingtalk: &DingTalkChannel,
    diags: &mut Diagnostics,
) {
    let at = ConfigPath::root().key("bindings");
    for b in bindings {
        let path = at.index(b.index).key("match");
        if !is_dingtalk_channel(&b.channel) {
            diags.warn(
                path.key("channel"),
                format!(
                    "channel \"{}\" is not served by dingclaw; this binding never matches",
                    b.channel
                ),
            );
            continue;
        }
        let served: Vec<&str> = dingtalk
            .accounts
            .values()
            .filter(|a| a.channel() == b.channel)
            .map(|a| a.id.as_str())
            .collect();
        if served.is_empty() && !dingtalk.accounts.is_empty() {
            let other = if b.channel == DINGTALK_CHANNEL {
                DINGTALK_PLUGIN_CHANNEL
            } else {
                DINGTALK_CHANNEL
            };
            diags.warn(
                path.key("channel"),
                format!(
                    "no account is configured under channels.{}; the bots are under channels.{other}, whose bindings say channel \"{other}\"; this binding never matches",
                    b.channel
                ),
            );
            continue;
        }
        if b.needs_guild_or_team {
            diags.warn(
                path,
                "guildId, teamId and roles never match DingTalk messages; this binding never matches",
            );
            continue;
        }
        if let AccountMatch::Account(a) = &b.account
            && !served.is_empty()
            && !served.contains(&a.as_str())
        {
            let known = served;
            let how = if a == "default" {
                "a binding without accountId matches only the account \"default\"".to_owned()
            } else {
                format!("no {} account \"{a}\"", b.channel)
            };
            diags.warn(
                path.key("accountId"),
                format!(
                    "{how} (known: {}); this binding never matches",
                    known.join(", ")
                ),
            );
        }
    }
}

/// Both DingTalk sections as one list of bots. Account ids are unique across them (session
/// keys, the web page and the CLI name bots by id alone), and one DingTalk app cannot run
/// twice: DingTalk would deliver each message to one of the two connections at random.
fn merge_sections(
    connector: DingTalkChannel,
    plugin: DingTalkChannel,
    diags: &mut Diagnostics,
) -> DingTalkChannel {
    let mut merged = DingTalkChannel {
        enabled: true,
        default_account: connector.default_account.or(plugin.default_account),
        accounts: Default::default(),
    };
    for (section_enabled, accounts) in [
        (connector.enabled, connector.accounts),
        (plugin.enabled, plugin.accounts),
    ] {
        for (id, account) in accounts {
            let mut account = Arc::unwrap_or_clone(account);
            account.enabled &= section_enabled;
            let at = ConfigPath::root()
                .key("channels")
                .key(account.channel())
                .key("accounts")
                .key(&id);
            if merged.accounts.contains_key(&id) {
                diags.error(
                    at,
                    format!("account id \"{id}\" is also used under channels.{DINGTALK_CHANNEL}; ids must differ between the two sections"),
                );
                continue;
            }
            let same_app = merged.accounts.values().find(|a| {
                a.enabled
                    && account.enabled
                    && !account.client_id.is_empty()
                    && a.client_id == account.client_id
            });
            if let Some(first) = same_app {
                diags.warn(
                    at.key("clientId"),
                    format!(
                        "same clientId as account \"{}\" under channels.{DINGTALK_CHANNEL}; account \"{id}\" is not started",
                        first.id
                    ),
                );
                account.enabled = false;
            }
            merged.accounts.insert(id, Arc::new(account));
        }
    }
    merged
}

/// Search credentials in OpenClaw 2026.9's plugin settings
/// (`plugins.entries.<plugin>.config.webSearch`), keyed by dingclaw's provider id. Plugin
/// settings are free-form, so each field is read on its own and the rest is left alone.
fn plugin_search(doc: &Value) -> PluginSearch {
    let mut out = PluginSearch::new();
    let Some(entries) = doc.pointer("/plugins/entries").and_then(Value::as_object) else {
        return out;
    };
    for (plugin, id) in [
        ("brave", "brave"),
        ("tavily", "tavily"),
        ("searxng", "searxng"),
        ("moonshot", "kimi"),
        ("kimi", "kimi"),
        ("minimax", "minimax"),
    ] {
        let Some(ws) = entries
            .get(plugin)
            .and_then(|e| e.pointer("/config/webSearch"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let text = |k: &str| ws.get(k).and_then(Value::as_str).map(str::to_owned);
        out.insert(
            id.to_owned(),
            SearchProviderEntry {
                api_key: ws
                    .get("apiKey")
                    .and_then(|v| serde_json::from_value(v.clone()).ok()),
                base_url: text("baseUrl"),
                model: text("model"),
                region: text("region"),
                mode: text("mode"),
                categories: text("categories"),
                language: text("language"),
            },
        );
    }
    out
}
