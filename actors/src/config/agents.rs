//! `agents`: who answers. Both OpenClaw roster shapes load: the array `agents.list` (2026.3)
//! and the keyed `agents.entries` (2026.9); see docs/openclaw-routing.md 1.6-1.7.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::environment::{Environment, expand_home};
use super::ids::{DEFAULT_AGENT_ID, is_valid_id, normalize_agent_id};
use super::issue::{ConfigPath, Diagnostics};
use super::memory::{MemoryConfig, layer_memory};
use super::tools::{AgentToolsConfig, ExecConfig, ToolsSection, build_agent_tools};

/// Turns working at once across all agents when `agents.defaults.maxConcurrent` is unset:
/// 16 per core, at least 64. OpenClaw's lane default is max(8, 4 x CPUs)
/// (docs/openclaw-routing.md 9), sized for one user's assistant; a gateway holds many
/// bots. A turn waiting for its model provider holds no slot (the provider's own
/// `maxConcurrent` and `maxQueue` bound those waits), so the slots bound the work the gateway
/// itself does for turns: preparing them and running their tools.
pub fn default_max_concurrent() -> u32 {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as u32;
    cores.saturating_mul(16).max(64)
}

/// Seconds a turn may take when `agents.defaults.timeoutSeconds` is unset.
pub const DEFAULT_TURN_TIMEOUT_SECS: u64 = 600;

/// The time zone of dates and schedules when `agents.defaults.userTimezone` is not set.
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

// ---------------------------------------------------------------------------------------------
// What users write
// ---------------------------------------------------------------------------------------------

/// The `agents` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AgentsSection {
    /// Settings every agent inherits.
    pub defaults: Option<AgentDefaultsSection>,
    /// The roster as an array (OpenClaw 2026.3). Each entry needs an `id`.
    pub list: Option<Vec<AgentEntry>>,
    /// The roster keyed by agent id (OpenClaw 2026.9). Wins over `list` when both are set.
    pub entries: Option<IndexMap<String, AgentEntry>>,
    /// `"explicit"`: the owner of unmatched messages is `defaults.systemAgent`, never a marker.
    pub ownership: Option<Ownership>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ownership {
    Explicit,
}

/// One agent: a persona bound to a model.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AgentEntry {
    /// The agent id. Required in `agents.list`; in `agents.entries` the key is the id.
    pub id: Option<String>,
    /// Marks the agent that answers when no binding matches.
    pub default: Option<bool>,
    /// Display name.
    pub name: Option<String>,
    pub description: Option<String>,
    /// Folder with the agent's bootstrap files (`AGENTS.md`, `SOUL.md`, ...). `~` is expanded.
    pub workspace: Option<String>,
    /// Folder for the agent's own state; two agents may not share one.
    pub agent_dir: Option<String>,
    /// `"provider/model"` or `{ primary, fallbacks }`.
    pub model: Option<ModelSpec>,
    /// Persona shown to the model: name and theme become part of the system prompt.
    pub identity: Option<Identity>,
    /// The agent's own tool policy and settings, over the global `tools`.
    pub tools: Option<ToolsSection>,
    /// Skills this agent sees: omitted = all (or `agents.defaults.skills`), `[]` = none.
    pub skills: Option<Vec<String>>,
    /// Memory search settings (OpenClaw 2026.3).
    pub memory_search: Option<Value>,
    /// `{ search: ... }`: memory search settings (OpenClaw 2026.9).
    pub memory: Option<Value>,
}

/// A model choice as written: a reference string or `{ primary, fallbacks }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a model reference \"provider/model\" or { primary, fallbacks }"
)]
pub enum ModelSpec {
    Ref(String),
    Choice(ModelChoice),
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelChoice {
    pub primary: Option<String>,
    /// Tried in order when the primary fails; `[]` turns fallbacks off.
    pub fallbacks: Option<Vec<String>>,
}

/// The persona.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// The persona's name, used in the prompt and on the web page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A theme for the persona's voice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// An emoji for the persona.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// An avatar (a workspace path or a URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
}

/// `agents.defaults`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AgentDefaultsSection {
    /// Model used by agents that name none.
    pub model: Option<ModelSpec>,
    /// Per-model settings keyed by `"provider/model"`; `alias` gives a short name.
    pub models: Option<IndexMap<String, ModelEntry>>,
    /// Workspace of the default agent.
    pub workspace: Option<String>,
    /// Time zone for scheduled tasks and timestamps shown to the model (IANA name).
    pub user_timezone: Option<String>,
    /// Turns working at once across all agents (default 16 per core, at least 64); a turn
    /// waiting for its model does not count.
    pub max_concurrent: Option<u32>,
    /// Longest a turn may take.
    pub timeout_seconds: Option<u64>,
    /// Skip the workspace bootstrap files when building the system prompt.
    pub skip_bootstrap: Option<bool>,
    /// The agent that owns unmatched messages (OpenClaw 2026.9).
    pub system_agent: Option<SystemAgent>,
    /// Skills every agent sees unless it lists its own (OpenClaw 2026.9).
    pub skills: Option<Vec<String>>,
    /// Memory search settings every agent inherits (OpenClaw 2026.3).
    pub memory_search: Option<Value>,
    /// Describes pictures for agents whose model cannot see them: `"provider/model"` or
    /// `{ primary, fallbacks }`.
    pub image_model: Option<ModelSpec>,
    /// When and how long conversations are summarised.
    pub compaction: Option<super::compaction::CompactionSection>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SystemAgent {
    pub agent_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelEntry {
    /// Short name usable instead of `"provider/model"`.
    pub alias: Option<String>,
    /// Extra request fields for this model, sent as they are: `{ enable_search: true }` turns
    /// on Qwen's own web search on DashScope.
    pub params: Option<Map<String, Value>>,
}

// ---------------------------------------------------------------------------------------------
// What dingclaw runs with
// ---------------------------------------------------------------------------------------------

/// The agents after defaults and normalisation.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentRoster {
    /// Every agent, in config order.
    #[serde(rename = "list")]
    pub agents: Vec<Agent>,
    /// Answers when no binding matches (`default: true`, else the first agent, else `main`).
    pub default_agent: String,
    /// `agents.defaults.maxConcurrent`: model turns at once, across all agents.
    pub max_concurrent: u32,
    /// `agents.defaults.timeoutSeconds`: a turn may take this long.
    pub timeout_seconds: u64,
    /// `agents.defaults.userTimezone`: dates and schedules are in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_timezone: Option<String>,
    /// Lower-cased alias to `"provider/model"`.
    pub model_aliases: BTreeMap<String, String>,
    /// Extra request fields per `"provider/model"` (`agents.defaults.models.<ref>.params`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub model_params: BTreeMap<String, Map<String, Value>>,
    /// `agents.defaults.skipBootstrap`: do not create the workspace's starter files.
    pub skip_bootstrap: bool,
    /// `agents.defaults.imageModel`: describes pictures for models that cannot see them.
    pub image_model: ModelSelection,
    /// `agents.defaults.compaction`.
    pub compaction: super::CompactionConfig,
}

impl AgentRoster {
    /// The users' time zone: `agents.defaults.userTimezone`, else Asia/Shanghai (DingTalk's
    /// users are mostly in China).
    pub fn timezone(&self) -> &str {
        self.user_timezone.as_deref().unwrap_or(DEFAULT_TIMEZONE)
    }

    /// The agent `id`.
    pub fn get(&self, id: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.id == id)
    }

    /// Every agent's id.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.agents.iter().map(|a| a.id.as_str())
    }
}

/// One agent as dingclaw runs it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// Its id (lowercase).
    pub id: String,
    /// Its name for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `default: true`.
    #[serde(rename = "default")]
    pub is_default: bool,
    /// Its workspace folder.
    pub workspace: PathBuf,
    /// Its state folder (`<stateDir>/agents/<id>/agent`).
    pub agent_dir: PathBuf,
    /// The agent's model, else `agents.defaults.model`.
    pub model: ModelSelection,
    /// Its persona.
    pub identity: Identity,
    /// The agent's own tool policy and the settings it overrides.
    pub tools: AgentToolsConfig,
    /// Skills it sees by name: `None` is all, `Some([])` none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skills: Option<Vec<String>>,
    /// Its memory search settings.
    pub memory: MemoryConfig,
}

impl Agent {
    /// An agent with nothing but an id and a workspace (its state folder inside it), for
    /// embedders that build configs in code, and tests.
    pub fn new(id: &str, workspace: impl Into<PathBuf>) -> Agent {
        let workspace = workspace.into();
        Agent {
            id: id.to_owned(),
            name: None,
            description: None,
            is_default: false,
            agent_dir: workspace.join(".agent"),
            workspace,
            model: ModelSelection::default(),
            identity: Identity::default(),
            tools: AgentToolsConfig::default(),
            skills: None,
            memory: MemoryConfig::default(),
        }
    }
}

/// The effective model choice of an agent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelSelection {
    /// `primary`: the model that answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// `fallbacks`: tried in order when it fails.
    pub fallbacks: Vec<String>,
}

impl ModelSpec {
    fn primary(&self) -> Option<&str> {
        match self {
            ModelSpec::Ref(r) => Some(r),
            ModelSpec::Choice(c) => c.primary.as_deref(),
        }
    }

    fn fallbacks(&self) -> Option<&[String]> {
        match self {
            ModelSpec::Ref(_) => None,
            ModelSpec::Choice(c) => c.fallbacks.as_deref(),
        }
    }
}

/// The agent's own model, else the defaults; its own `fallbacks` (even `[]`) replace the
/// defaults' (docs/openclaw-routing.md 5.3).
fn effective_model(own: Option<&ModelSpec>, defaults: Option<&ModelSpec>) -> ModelSelection {
    let primary = own
        .and_then(ModelSpec::primary)
        .or_else(|| defaults.and_then(ModelSpec::primary))
        .map(str::to_owned);
    let fallbacks = own
        .and_then(ModelSpec::fallbacks)
        .or_else(|| defaults.and_then(ModelSpec::fallbacks))
        .map(<[String]>::to_vec)
        .unwrap_or_default();
    ModelSelection { primary, fallbacks }
}

/// A roster entry with its id resolved, before defaults are applied.
struct Named<'a> {
    id: String,
    path: ConfigPath,
    entry: &'a AgentEntry,
}

/// Builds the roster. `implicit` are agent ids named by bindings, used only when the config
/// has no roster at all (OpenClaw then takes binding ids as given).
/// What the roster takes from outside the `agents` section.
pub(crate) struct RosterContext<'a> {
    pub state_dir: &'a std::path::Path,
    pub env: &'a dyn Environment,
    pub global_exec: &'a ExecConfig,
    /// Memory settings from 2026.9's top-level `memory.search`.
    pub memory: &'a MemoryConfig,
}

impl<'a> RosterContext<'a> {
    /// Defaults for everything outside `agents` (unit tests of the roster alone).
    #[cfg(test)]
    pub(crate) fn for_tests(state_dir: &'a std::path::Path, env: &'a dyn Environment) -> Self {
        static EXEC: std::sync::LazyLock<ExecConfig> =
            std::sync::LazyLock::new(ExecConfig::default);
        static MEMORY: std::sync::LazyLock<MemoryConfig> =
            std::sync::LazyLock::new(MemoryConfig::default);
        RosterContext {
            state_dir,
            env,
            global_exec: &EXEC,
            memory: &MEMORY,
        }
    }
}

pub(crate) fn build_roster(
    section: Option<&AgentsSection>,
    implicit: &[String],
    ctx: &RosterContext<'_>,
    diags: &mut Diagnostics,
) -> AgentRoster {
    let (state_dir, env) = (ctx.state_dir, ctx.env);
    let empty = AgentsSection::default();
    let section = section.unwrap_or(&empty);
    let at = ConfigPath::root().key("agents");
    let defaults = section.defaults.as_ref();
    let mut named = if let Some(entries) = &section.entries {
        if section.list.is_some() {
            diags.warn(
                at.key("list"),
                "ignored because agents.entries is also set (entries wins, as in OpenClaw 2026.9)",
            );
        }
        named_from_entries(entries, &at.key("entries"), diags)
    } else {
        named_from_list(
            section.list.as_deref().unwrap_or(&[]),
            &at.key("list"),
            diags,
        )
    };

    let implicit_entry = AgentEntry::default();
    if named.is_empty() && section.list.is_none() && section.entries.is_none() {
        let mut ids = vec![DEFAULT_AGENT_ID.to_owned()];
        for id in implicit {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        named = ids
            .into_iter()
            .map(|id| Named {
                id,
                path: at.clone(),
                entry: &implicit_entry,
            })
            .collect();
    }

    let default_agent = choose_default(section, &named, &at, diags);
    let memory_defaults = layer_memory(
        ctx.memory,
        defaults.and_then(|d| d.memory_search.as_ref()),
        &at.key("defaults").key("memorySearch"),
        diags,
    );
    let agents = named
        .iter()
        .map(|n| {
            let is_default = n.id == default_agent;
            let workspace = match (
                &n.entry.workspace,
                is_default,
                defaults.and_then(|d| d.workspace.as_ref()),
            ) {
                (Some(w), _, _) => expand_home(w, env),
                (None, true, Some(w)) => expand_home(w, env),
                (None, true, None) => state_dir.join("workspace"),
                (None, false, _) => state_dir.join(format!("workspace-{}", n.id)),
            };
            let agent_dir = n
                .entry
                .agent_dir
                .as_deref()
                .map(|d| expand_home(d, env))
                .unwrap_or_else(|| state_dir.join("agents").join(&n.id).join("agent"));
            Agent {
                id: n.id.clone(),
                name: n.entry.name.clone(),
                description: n.entry.description.clone(),
                is_default,
                workspace,
                agent_dir,
                model: effective_model(
                    n.entry.model.as_ref(),
                    defaults.and_then(|d| d.model.as_ref()),
                ),
                identity: n.entry.identity.clone().unwrap_or_default(),
                tools: build_agent_tools(
                    n.entry.tools.as_ref(),
                    ctx.global_exec,
                    &n.path.key("tools"),
                    diags,
                ),
                skills: n
                    .entry
                    .skills
                    .clone()
                    .or_else(|| defaults.and_then(|d| d.skills.clone())),
                memory: {
                    let v3 = layer_memory(
                        &memory_defaults,
                        n.entry.memory_search.as_ref(),
                        &n.path.key("memorySearch"),
                        diags,
                    );
                    layer_memory(
                        &v3,
                        n.entry.memory.as_ref().and_then(|m| m.get("search")),
                        &n.path.key("memory").key("search"),
                        diags,
                    )
                },
            }
        })
        .collect::<Vec<_>>();

    let mut dirs: HashMap<&PathBuf, &str> = HashMap::new();
    for (agent, n) in agents.iter().zip(&named) {
        if let Some(other) = dirs.insert(&agent.agent_dir, &agent.id) {
            diags.error(
                n.path.key("agentDir"),
                format!(
                    "agent \"{}\" uses the same agentDir as agent \"{other}\" ({})",
                    agent.id,
                    agent.agent_dir.display()
                ),
            );
        }
    }

    let mut model_aliases = BTreeMap::new();
    let mut model_params = BTreeMap::new();
    if let Some(models) = defaults.and_then(|d| d.models.as_ref()) {
        for (model_ref, entry) in models {
            if let Some(params) = entry.params.as_ref().filter(|p| !p.is_empty()) {
                model_params.insert(model_ref.clone(), params.clone());
            }
            if let Some(alias) = entry
                .alias
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                && let Some(prev) = model_aliases.insert(alias.to_lowercase(), model_ref.clone())
            {
                diags.error(
                    at.key("defaults").key("models").key(model_ref).key("alias"),
                    format!("alias \"{alias}\" is already used by \"{prev}\""),
                );
            }
        }
    }

    AgentRoster {
        agents,
        default_agent,
        max_concurrent: defaults
            .and_then(|d| d.max_concurrent)
            .unwrap_or_else(default_max_concurrent),
        timeout_seconds: defaults
            .and_then(|d| d.timeout_seconds)
            .unwrap_or(DEFAULT_TURN_TIMEOUT_SECS),
        user_timezone: defaults
            .and_then(|d| d.user_timezone.as_deref())
            .and_then(|tz| match tz.trim().parse::<chrono_tz::Tz>() {
                Ok(_) => Some(tz.trim().to_owned()),
                Err(_) => {
                    diags.error(
                        at.key("defaults").key("userTimezone"),
                        format!("\"{tz}\" is not an IANA time zone (e.g. Asia/Shanghai)"),
                    );
                    None
                }
            }),
        model_aliases,
        model_params,
        skip_bootstrap: defaults.and_then(|d| d.skip_bootstrap).unwrap_or(false),
        image_model: defaults
            .and_then(|d| d.image_model.as_ref())
            .map(|m| ModelSelection {
                primary: m.primary().map(str::to_owned),
                fallbacks: m.fallbacks().map(<[String]>::to_vec).unwrap_or_default(),
            })
            .unwrap_or_default(),
        compaction: super::compaction::build_compaction(
            defaults.and_then(|d| d.compaction.as_ref()),
            &at.key("defaults").key("compaction"),
            diags,
        ),
    }
}

fn named_from_list<'a>(
    list: &'a [AgentEntry],
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> Vec<Named<'a>> {
    let mut out: Vec<Named<'a>> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let path = at.index(i);
        let Some(raw_id) = entry.id.as_deref() else {
            diags.error(path.key("id"), "required");
            continue;
        };
        let id = normalize_agent_id(raw_id);
        if out.iter().any(|n| n.id == id) {
            diags.error(path.key("id"), format!("duplicate agent id \"{id}\""));
            continue;
        }
        if !is_valid_id(raw_id) {
            diags.warn(
                path.key("id"),
                format!("\"{raw_id}\" is not a plain id; it is used as \"{id}\""),
            );
        }
        out.push(Named { id, path, entry });
    }
    out
}

fn named_from_entries<'a>(
    entries: &'a IndexMap<String, AgentEntry>,
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> Vec<Named<'a>> {
    if entries.is_empty() {
        diags.error(at.clone(), "must hold at least one agent");
    }
    let mut out: Vec<Named<'a>> = Vec::new();
    for (key, entry) in entries {
        let path = at.key(key);
        if !is_valid_id(key) {
            diags.error(
                path.clone(),
                "an agent id must be letters, digits, '_' or '-' (at most 64, starting with a letter or digit)",
            );
            continue;
        }
        let id = normalize_agent_id(key);
        if let Some(own) = entry.id.as_deref()
            && normalize_agent_id(own) != id
        {
            diags.error(
                path.key("id"),
                format!("\"{own}\" differs from the entry's key \"{key}\""),
            );
        }
        if out.iter().any(|n| n.id == id) {
            diags.error(path.clone(), format!("duplicate agent id \"{id}\""));
            continue;
        }
        out.push(Named { id, path, entry });
    }
    out
}

fn choose_default(
    section: &AgentsSection,
    named: &[Named<'_>],
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> String {
    let marked: Vec<&Named<'_>> = named
        .iter()
        .filter(|n| n.entry.default == Some(true))
        .collect();
    if section.entries.is_some() && marked.len() > 1 {
        diags.error(
            marked[1].path.key("default"),
            "at most one agent may be marked default",
        );
    } else if marked.len() > 1 {
        diags.warn(
            marked[1].path.key("default"),
            format!(
                "several agents are marked default; \"{}\" is used",
                marked[0].id
            ),
        );
    }
    if section.ownership == Some(Ownership::Explicit)
        && let Some(m) = marked.first()
    {
        diags.error(
            m.path.key("default"),
            "ownership \"explicit\" cannot be combined with a default marker; use agents.defaults.systemAgent",
        );
    }
    let system = section
        .defaults
        .as_ref()
        .and_then(|d| d.system_agent.as_ref())
        .and_then(|s| s.agent_id.as_deref());
    if let Some(system) = system {
        let id = normalize_agent_id(system);
        if named.iter().any(|n| n.id == id) {
            return id;
        }
        diags.error(
            at.key("defaults").key("systemAgent").key("agentId"),
            format!(
                "unknown agent \"{system}\" (known: {})",
                named
                    .iter()
                    .map(|n| n.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    marked
        .first()
        .copied()
        .or(named.first())
        .map(|n| n.id.clone())
        .unwrap_or_else(|| DEFAULT_AGENT_ID.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::MapEnv;
    use std::path::Path;

    fn roster(json: serde_json::Value) -> (AgentRoster, Diagnostics) {
        let section: AgentsSection = serde_json::from_value(json).unwrap();
        let mut d = Diagnostics::default();
        let env = MapEnv::new().with_home("/home/admin");
        let r = build_roster(
            Some(&section),
            &[],
            &RosterContext::for_tests(Path::new("/state"), &env),
            &mut d,
        );
        (r, d)
    }

    #[test]
    fn default_is_marked_then_first() {
        let (r, d) =
            roster(serde_json::json!({"list": [{"id": "a"}, {"id": "b", "default": true}]}));
        assert!(d.errors.is_empty());
        assert_eq!(r.default_agent, "b");
        let (r, _) = roster(serde_json::json!({"list": [{"id": "a"}, {"id": "b"}]}));
        assert_eq!(r.default_agent, "a");
    }

    #[test]
    fn workspaces_follow_openclaw_defaults() {
        let (r, _) = roster(serde_json::json!({
            "list": [{"id": "main"}, {"id": "bot2"}, {"id": "bot3", "workspace": "~/ws3"}]
        }));
        let ws: Vec<_> = r.agents.iter().map(|a| a.workspace.clone()).collect();
        assert_eq!(
            ws,
            vec![
                PathBuf::from("/state/workspace"),
                PathBuf::from("/state/workspace-bot2"),
                PathBuf::from("/home/admin/ws3"),
            ]
        );
        assert_eq!(
            r.agents[1].agent_dir,
            PathBuf::from("/state/agents/bot2/agent")
        );
    }

    #[test]
    fn model_falls_back_to_defaults_but_own_fallbacks_win() {
        let (r, _) = roster(serde_json::json!({
            "defaults": {"model": {"primary": "deepseek/deepseek-chat", "fallbacks": ["moonshot/kimi-k2.5"]}},
            "list": [{"id": "a"}, {"id": "b", "model": "zai/glm-5"}, {"id": "c", "model": {"primary": "x/y", "fallbacks": []}}]
        }));
        assert_eq!(
            r.agents[0].model.primary.as_deref(),
            Some("deepseek/deepseek-chat")
        );
        assert_eq!(r.agents[1].model.primary.as_deref(), Some("zai/glm-5"));
        assert_eq!(r.agents[1].model.fallbacks, vec!["moonshot/kimi-k2.5"]);
        assert!(r.agents[2].model.fallbacks.is_empty());
    }

    #[test]
    fn entries_shape_and_system_agent() {
        let (r, d) = roster(serde_json::json!({
            "ownership": "explicit",
            "defaults": {"systemAgent": {"agentId": "work"}},
            "entries": {"home": {}, "work": {"name": "Work"}}
        }));
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(r.default_agent, "work");
        assert_eq!(r.ids().collect::<Vec<_>>(), vec!["home", "work"]);
    }

    #[test]
    fn errors_name_their_paths() {
        let (_, d) = roster(serde_json::json!({
            "list": [{"id": "ding-bot1"}, {"id": "Ding-Bot1"}, {"name": "no id"},
                     {"id": "x", "agentDir": "/d"}, {"id": "y", "agentDir": "/d"}]
        }));
        let lines: Vec<_> = d.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "agents.list.1.id: duplicate agent id \"ding-bot1\"",
                "agents.list.2.id: required",
                "agents.list.4.agentDir: agent \"y\" uses the same agentDir as agent \"x\" (/d)",
            ]
        );
    }
}
