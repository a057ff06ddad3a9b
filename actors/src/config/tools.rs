//! `tools` (and an agent's own `tools`): which tools a model is offered, and how the tools
//! that touch the web, files and the machine behave (docs/openclaw-agent.md 1-2).
//!
//! The policy is OpenClaw's: a profile, `allow`/`alsoAllow`/`deny` lists of names, groups
//! and globs, per provider (`byProvider`) and per sender (`toolsBySender`), globally and per
//! agent; `tool_policy` evaluates it. The settings (`web`, `fs`, `exec`) keep OpenClaw's keys
//! from both versions, with dingclaw's safer defaults for a chat strangers join: workspace
//! files confined to the workspace, and no command execution unless the operator turns it on.

use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::environment::Environment;
use super::issue::{ConfigPath, Diagnostics};
use super::secret::{Secret, SecretInput, resolve_secret};
use super::substitute::Unresolved;
use super::tool_catalogue::{PROFILES, is_known, normalize, suggestions};

// ---------------------------------------------------------------------------------------------
// What users write
// ---------------------------------------------------------------------------------------------

/// `tools`, and the shape of `agents.list[].tools`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToolsSection {
    /// `minimal`, `coding`, `messaging` or `full`; unset offers every tool.
    pub profile: Option<String>,
    /// Only these (names, `group:*`, globs); empty means all.
    pub allow: Option<Vec<String>>,
    /// Added to the profile's list without removing anything.
    pub also_allow: Option<Vec<String>>,
    /// Never these; deny beats allow.
    pub deny: Option<Vec<String>>,
    /// Per provider or `provider/model`: `{profile?, allow?, alsoAllow?, deny?}`.
    pub by_provider: Option<IndexMap<String, PolicyEntry>>,
    /// Per sender (`id:<staffId>`, `channel:dingtalk-connector:<id>`, `*`, or a bare id).
    pub tools_by_sender: Option<IndexMap<String, PolicyEntry>>,
    pub web: Option<WebSection>,
    pub fs: Option<FsEntry>,
    pub exec: Option<ExecEntry>,
}

/// One layer of policy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyEntry {
    pub profile: Option<String>,
    pub allow: Option<Vec<String>>,
    pub also_allow: Option<Vec<String>>,
    pub deny: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebSection {
    pub search: Option<WebSearchEntry>,
    pub fetch: Option<WebFetchEntry>,
}

/// `tools.web.search`, with the credentials of both versions (2026.3 kept them here; 2026.9
/// keeps them in `plugins.entries.<plugin>.config.webSearch`, which is read too).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebSearchEntry {
    pub enabled: Option<bool>,
    /// `brave`, `tavily`, `searxng`, `kimi`, `minimax`; unset picks the first configured.
    pub provider: Option<String>,
    /// Brave's key (2026.3).
    pub api_key: Option<SecretInput>,
    pub max_results: Option<u32>,
    pub timeout_seconds: Option<u64>,
    pub cache_ttl_minutes: Option<f64>,
    pub brave: Option<SearchProviderEntry>,
    pub tavily: Option<SearchProviderEntry>,
    pub searxng: Option<SearchProviderEntry>,
    pub kimi: Option<SearchProviderEntry>,
    pub minimax: Option<SearchProviderEntry>,
}

/// One search provider's settings (every provider uses a subset).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SearchProviderEntry {
    pub api_key: Option<SecretInput>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    /// MiniMax: `global` or `cn`.
    pub region: Option<String>,
    /// Brave: `web` or `llm-context`.
    pub mode: Option<String>,
    /// SearXNG categories, e.g. `general,news`.
    pub categories: Option<String>,
    pub language: Option<String>,
}

/// `tools.web.fetch`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebFetchEntry {
    pub enabled: Option<bool>,
    pub max_chars: Option<usize>,
    pub max_chars_cap: Option<usize>,
    pub max_response_bytes: Option<usize>,
    pub timeout_seconds: Option<u64>,
    pub cache_ttl_minutes: Option<f64>,
    pub max_redirects: Option<u32>,
    pub readability: Option<bool>,
    pub user_agent: Option<String>,
    /// Extra request headers (treated as secrets).
    pub headers: Option<IndexMap<String, SecretInput>>,
    pub ssrf_policy: Option<SsrfPolicyEntry>,
}

/// `tools.web.fetch.ssrfPolicy` (2026.9's keys).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SsrfPolicyEntry {
    pub dangerously_allow_private_network: Option<bool>,
    /// Hosts (names or addresses) allowed even when they are, or resolve to, private
    /// addresses: an intranet wiki, a test server.
    pub allowed_hostnames: Option<Vec<String>>,
    pub blocked_hostnames: Option<Vec<String>>,
    pub allow_rfc2544_benchmark_range: Option<bool>,
    pub allow_ipv6_unique_local_range: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FsEntry {
    /// `true` (dingclaw's default): file tools stay inside the agent's workspace.
    pub workspace_only: Option<bool>,
}

/// `tools.exec`, with both versions' keys.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExecEntry {
    /// 2026.3: `deny` (dingclaw's default), `allowlist` or `full`.
    pub security: Option<ExecSecurity>,
    /// 2026.3: `off`, `on-miss` or `always`: ask an owner in the chat (`/approve`).
    pub ask: Option<ExecAsk>,
    /// 2026.9: `deny`, `allowlist`, `ask`, `auto`, `full`; not together with security/ask.
    pub mode: Option<String>,
    /// Executables that run without approval under `allowlist` (names like `ls`, `git`).
    pub safe_bins: Option<Vec<String>>,
    /// Folders put in front of PATH for commands.
    pub path_prepend: Option<Vec<String>>,
    /// 2026.3 spelling of `timeoutSeconds`.
    pub timeout_sec: Option<u64>,
    pub timeout_seconds: Option<u64>,
    /// A command still running after this long moves to the background (ms).
    pub background_ms: Option<u64>,
    pub apply_patch: Option<ApplyPatchEntry>,
    /// Where commands run: dingclaw runs them on the gateway host only.
    pub host: Option<String>,
}

/// `tools.exec.security`: what commands may run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecSecurity {
    /// None (dingclaw's default).
    #[default]
    Deny,
    /// Programs in `safeBins` only, each piece of a pipeline checked, no redirections.
    Allowlist,
    /// Anything (for a private bot on a machine of its own).
    Full,
}

/// `tools.exec.ask`: when an owner is asked to approve a command.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecAsk {
    /// Never.
    #[default]
    Off,
    /// When the allowlist does not cover it.
    OnMiss,
    /// Every time.
    Always,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApplyPatchEntry {
    pub enabled: Option<bool>,
    pub workspace_only: Option<bool>,
    /// Models (`provider/model`, globs allowed) offered `apply_patch` besides OpenAI's.
    pub allow_models: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// What dingclaw runs with
// ---------------------------------------------------------------------------------------------

/// One scope's policy, names normalised and validated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolPolicy {
    /// `profile`: `minimal`, `coding`, `messaging` or `full`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// `allow`: only these (names, `group:*`, globs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// `alsoAllow`: these as well as the profile's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also_allow: Vec<String>,
    /// `deny`: never these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    /// Keys lowercased: `provider` or `provider/model`.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub by_provider: IndexMap<String, ToolPolicy>,
    /// `toolsBySender`: policies for particular senders.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub by_sender: IndexMap<String, ToolPolicy>,
}

impl ToolPolicy {
    /// Nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == ToolPolicy::default()
    }
}

/// The effective `tools` settings, globally or as an agent overrides them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolsConfig {
    /// Which tools (`tools.profile`, `allow`, `deny`...).
    pub policy: ToolPolicy,
    /// `web_fetch` and `web_search` settings.
    pub web: WebConfig,
    /// Whether file tools stay inside the workspace (dingclaw's default: yes).
    pub workspace_only: bool,
    /// `exec` and `process` settings.
    pub exec: ExecConfig,
}

/// An agent's `tools`: its policy, and the settings it overrides.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentToolsConfig {
    /// The agent's own policy, applied after the global one.
    #[serde(skip_serializing_if = "ToolPolicy::is_empty")]
    pub policy: ToolPolicy,
    /// The agent's `tools.fs.workspaceOnly`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace_only: Option<bool>,
    /// The agent's `tools.exec`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecConfig>,
}

/// `tools.web`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebConfig {
    /// `tools.web.fetch`.
    pub fetch: WebFetchConfig,
    /// `tools.web.search`.
    pub search: WebSearchConfig,
}

/// `web_fetch`'s limits. Defaults are OpenClaw 2026.9's: 20 000 characters returned, 750 kB
/// read, 30 s, 3 redirects, a 15-minute cache.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebFetchConfig {
    /// `enabled` (default true).
    pub enabled: bool,
    /// `maxChars`: characters returned by default (20,000).
    pub max_chars: usize,
    /// `maxCharsCap`: the most a call may ask for.
    pub max_chars_cap: usize,
    /// `maxResponseBytes`: bytes read from a response at most.
    pub max_response_bytes: usize,
    /// `timeoutSeconds` (30).
    #[serde(with = "secs")]
    pub timeout: Duration,
    /// `cacheTtlMinutes` (15): how long a fetched page is reused.
    #[serde(with = "secs")]
    pub cache_ttl: Duration,
    /// `maxRedirects` (3).
    pub max_redirects: u32,
    /// `readability`: extract the main content of HTML (default true).
    pub readability: bool,
    /// `userAgent`.
    pub user_agent: String,
    /// `headers` sent with every fetch (secrets: never shown).
    pub headers: IndexMap<String, Secret>,
    /// `ssrfPolicy`: which addresses may be fetched.
    pub ssrf: SsrfPolicy,
}

/// A Chrome-like user agent, as OpenClaw sends: some sites refuse unknown clients.
pub const DEFAULT_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

impl Default for WebFetchConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_chars: 20_000,
            max_chars_cap: 20_000,
            max_response_bytes: 750_000,
            timeout: Duration::from_secs(30),
            cache_ttl: Duration::from_secs(15 * 60),
            max_redirects: 3,
            readability: true,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            headers: IndexMap::new(),
            ssrf: SsrfPolicy::default(),
        }
    }
}

/// Which addresses outbound calls the model can steer (web_fetch, webhooks) may reach.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SsrfPolicy {
    /// Private, loopback and link-local addresses allowed everywhere (tests, intranets).
    pub allow_private_network: bool,
    /// Hosts allowed even when private (lowercase; `*.corp.example` for subdomains).
    pub allowed_hostnames: Vec<String>,
    /// `blockedHostnames`: hosts never fetched.
    pub blocked_hostnames: Vec<String>,
    /// `allowRfc2544BenchmarkRange`: 198.18.0.0/15 allowed.
    pub allow_rfc2544: bool,
    /// `allowIpv6UniqueLocalRange`: fc00::/7 allowed.
    pub allow_ipv6_unique_local: bool,
}

/// `web_search`: which provider answers, and the settings of each configured one.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebSearchConfig {
    /// `enabled` (default true; without a provider the tool is not offered anyway).
    pub enabled: bool,
    /// Chosen explicitly; else the first configured in `SEARCH_ORDER`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// `maxResults` (5).
    pub max_results: u32,
    /// `timeoutSeconds` (30).
    #[serde(with = "secs")]
    pub timeout: Duration,
    /// `cacheTtlMinutes` (15).
    #[serde(with = "secs")]
    pub cache_ttl: Duration,
    /// Configured providers by id.
    pub providers: IndexMap<String, SearchProviderConfig>,
}

impl Default for WebSearchConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            provider: None,
            max_results: 5,
            timeout: Duration::from_secs(30),
            cache_ttl: Duration::from_secs(15 * 60),
            providers: IndexMap::new(),
        }
    }
}

/// The providers dingclaw speaks, in OpenClaw's auto-detect order.
pub const SEARCH_ORDER: [&str; 5] = ["brave", "minimax", "kimi", "tavily", "searxng"];

/// One search provider, ready to call.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchProviderConfig {
    /// Its API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// Where it is called.
    pub base_url: String,
    /// The model that answers (Kimi, MiniMax).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// SearXNG's `categories`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<String>,
    /// SearXNG's `language`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Brave's `mode`: `web` or `llm-context`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

impl WebSearchConfig {
    /// The provider `web_search` uses, if any is configured.
    pub fn active(&self) -> Option<(&str, &SearchProviderConfig)> {
        if !self.enabled {
            return None;
        }
        match &self.provider {
            Some(p) => self
                .providers
                .get_key_value(p)
                .map(|(k, v)| (k.as_str(), v)),
            None => SEARCH_ORDER
                .iter()
                .find_map(|p| self.providers.get_key_value(*p))
                .map(|(k, v)| (k.as_str(), v)),
        }
    }
}

/// `exec` and `process`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecConfig {
    /// `security`: none, allowlist or full (default none).
    pub security: ExecSecurity,
    /// `ask`: when an owner approves (default off).
    pub ask: ExecAsk,
    /// Executables allowed under `allowlist`.
    pub safe_bins: Vec<String>,
    /// `pathPrepend`: folders put before `PATH`.
    pub path_prepend: Vec<String>,
    /// `timeoutSeconds` (2026.3: `timeoutSec`): how long a command may run.
    #[serde(with = "secs")]
    pub timeout: Duration,
    /// `backgroundMs`: a command still running after this goes to the background (`process`).
    #[serde(with = "secs")]
    pub background_after: Duration,
    /// `applyPatch.enabled`.
    pub apply_patch_enabled: bool,
    /// `applyPatch.workspaceOnly` (default true).
    pub apply_patch_workspace_only: bool,
    /// `applyPatch.allowModels`: models offered `apply_patch`.
    pub apply_patch_models: Vec<String>,
}

impl Default for ExecConfig {
    fn default() -> Self {
        Self {
            security: ExecSecurity::Deny,
            ask: ExecAsk::Off,
            safe_bins: Vec::new(),
            path_prepend: Vec::new(),
            timeout: Duration::from_secs(1800),
            background_after: Duration::from_secs(10),
            apply_patch_enabled: true,
            apply_patch_workspace_only: true,
            apply_patch_models: Vec::new(),
        }
    }
}

mod secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }
}

// ---------------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------------

/// Search credentials found in 2026.9's `plugins.entries.<plugin>.config.webSearch`, keyed by
/// dingclaw's provider id (the plugin `moonshot` is `kimi`).
pub type PluginSearch = IndexMap<String, SearchProviderEntry>;

pub(crate) fn build_tools(
    section: Option<&ToolsSection>,
    plugin_search: &PluginSearch,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> ToolsConfig {
    let at = ConfigPath::root().key("tools");
    let empty = ToolsSection::default();
    let s = section.unwrap_or(&empty);
    ToolsConfig {
        policy: build_policy(s, &at, diags),
        web: WebConfig {
            fetch: build_fetch(
                s.web.as_ref().and_then(|w| w.fetch.as_ref()),
                &at.key("web").key("fetch"),
                env,
                unresolved,
                diags,
            ),
            search: build_search(
                s.web.as_ref().and_then(|w| w.search.as_ref()),
                plugin_search,
                &at.key("web").key("search"),
                env,
                unresolved,
                diags,
            ),
        },
        workspace_only: s.fs.as_ref().and_then(|f| f.workspace_only).unwrap_or(true),
        exec: build_exec(s.exec.as_ref(), None, &at.key("exec"), diags),
    }
}

/// An agent's `tools`, at `at`; `global` supplies what it does not override.
pub(crate) fn build_agent_tools(
    section: Option<&ToolsSection>,
    global_exec: &ExecConfig,
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> AgentToolsConfig {
    let Some(s) = section else {
        return AgentToolsConfig::default();
    };
    if s.web.is_some() {
        diags.warn(
            at.key("web"),
            "web settings are global in OpenClaw; set them under tools.web",
        );
    }
    AgentToolsConfig {
        policy: build_policy(s, at, diags),
        workspace_only: s.fs.as_ref().and_then(|f| f.workspace_only),
        exec: s
            .exec
            .as_ref()
            .map(|e| build_exec(Some(e), Some(global_exec), &at.key("exec"), diags)),
    }
}

fn build_policy(s: &ToolsSection, at: &ConfigPath, diags: &mut Diagnostics) -> ToolPolicy {
    let mut policy = layer(
        &PolicyEntry {
            profile: s.profile.clone(),
            allow: s.allow.clone(),
            also_allow: s.also_allow.clone(),
            deny: s.deny.clone(),
        },
        at,
        diags,
    );
    for (key, entry) in s.by_provider.iter().flatten() {
        let p = layer(entry, &at.key("byProvider").key(key), diags);
        policy.by_provider.insert(key.trim().to_lowercase(), p);
    }
    for (key, entry) in s.tools_by_sender.iter().flatten() {
        let p = layer(entry, &at.key("toolsBySender").key(key), diags);
        policy.by_sender.insert(key.trim().to_owned(), p);
    }
    policy
}

pub(crate) fn layer(e: &PolicyEntry, at: &ConfigPath, diags: &mut Diagnostics) -> ToolPolicy {
    let nonempty = |v: &Option<Vec<String>>| v.as_ref().is_some_and(|l| !l.is_empty());
    if nonempty(&e.allow) && nonempty(&e.also_allow) {
        diags.error(
            at.key("alsoAllow"),
            "allow and alsoAllow cannot both be set in one scope (merge alsoAllow into allow, or use profile + alsoAllow)",
        );
    }
    let profile = e.profile.as_ref().map(|p| p.trim().to_lowercase());
    if let Some(p) = &profile
        && !PROFILES.contains(&p.as_str())
    {
        let hint = super::strict::suggest(p, PROFILES)
            .map(|s| format!(" (did you mean \"{s}\"?)"))
            .unwrap_or_default();
        diags.error(
            at.key("profile"),
            format!(
                "unknown profile \"{p}\"{hint}; one of {}",
                PROFILES.join(", ")
            ),
        );
    }
    ToolPolicy {
        profile,
        allow: names(e.allow.as_deref(), &at.key("allow"), diags),
        also_allow: names(e.also_allow.as_deref(), &at.key("alsoAllow"), diags),
        deny: names(e.deny.as_deref(), &at.key("deny"), diags),
        ..ToolPolicy::default()
    }
}

/// A list of names, normalised. A name close to a known tool or group is a typo (an error
/// with "did you mean"); any other unknown name may be a plugin's, which dingclaw does not
/// load: a warning, and it matches nothing.
fn names(list: Option<&[String]>, at: &ConfigPath, diags: &mut Diagnostics) -> Vec<String> {
    let known = suggestions();
    let mut out = Vec::new();
    for (i, raw) in list.unwrap_or_default().iter().enumerate() {
        let name = normalize(raw);
        if name.is_empty() {
            diags.error(at.index(i), "an empty tool name");
            continue;
        }
        if !is_known(&name) {
            match typo_of(&name, &known) {
                Some(best) => diags.error(
                    at.index(i),
                    format!("unknown tool or group \"{raw}\" (did you mean \"{best}\"?)"),
                ),
                None => diags.warn(
                    at.index(i),
                    format!(
                        "\"{raw}\" is not a tool or group dingclaw knows (a plugin's?); it matches nothing"
                    ),
                ),
            }
        }
        out.push(name);
    }
    out
}

/// A known name this one is almost certainly a misspelling of.
fn typo_of<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score >= 0.9)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

fn build_fetch(
    e: Option<&WebFetchEntry>,
    at: &ConfigPath,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> WebFetchConfig {
    let d = WebFetchConfig::default();
    let Some(e) = e else { return d };
    let cap = e.max_chars_cap.unwrap_or(d.max_chars_cap).max(100);
    let headers = e
        .headers
        .iter()
        .flatten()
        .map(|(k, v)| {
            let path = at.key("headers").key(k);
            (
                k.clone(),
                resolve_secret(v, &path, env, unresolved).into_secret(),
            )
        })
        .collect();
    let ssrf = e.ssrf_policy.as_ref().map(|p| SsrfPolicy {
        allow_private_network: p.dangerously_allow_private_network.unwrap_or(false),
        allowed_hostnames: lower(p.allowed_hostnames.as_deref()),
        blocked_hostnames: lower(p.blocked_hostnames.as_deref()),
        allow_rfc2544: p.allow_rfc2544_benchmark_range.unwrap_or(false),
        allow_ipv6_unique_local: p.allow_ipv6_unique_local_range.unwrap_or(false),
    });
    if ssrf.as_ref().is_some_and(|p| p.allow_private_network) {
        diags.warn(
            at.key("ssrfPolicy").key("dangerouslyAllowPrivateNetwork"),
            "web_fetch may reach private addresses (this machine, its network, cloud metadata): anyone who can talk to the bot can make it read them",
        );
    }
    WebFetchConfig {
        enabled: e.enabled.unwrap_or(true),
        max_chars: e.max_chars.unwrap_or(d.max_chars).clamp(100, cap),
        max_chars_cap: cap,
        // OpenClaw clamps the download between 32 kB and 10 MB.
        max_response_bytes: e
            .max_response_bytes
            .unwrap_or(d.max_response_bytes)
            .clamp(32_000, 10_000_000),
        timeout: e
            .timeout_seconds
            .map(|s| Duration::from_secs(s.max(1)))
            .unwrap_or(d.timeout),
        cache_ttl: e
            .cache_ttl_minutes
            .map(|m| Duration::from_secs_f64(m.max(0.0) * 60.0))
            .unwrap_or(d.cache_ttl),
        max_redirects: e.max_redirects.unwrap_or(d.max_redirects).min(10),
        readability: e.readability.unwrap_or(true),
        user_agent: e.user_agent.clone().unwrap_or(d.user_agent),
        headers,
        ssrf: ssrf.unwrap_or_default(),
    }
}

fn lower(list: Option<&[String]>) -> Vec<String> {
    list.unwrap_or_default()
        .iter()
        .map(|h| h.trim().to_lowercase())
        .filter(|h| !h.is_empty())
        .collect()
}

/// Where each provider lives unless its settings say otherwise.
fn default_base_url(provider: &str, region: Option<&str>) -> &'static str {
    match (provider, region) {
        ("brave", _) => "https://api.search.brave.com",
        ("tavily", _) => "https://api.tavily.com",
        ("kimi", _) => "https://api.moonshot.ai/v1",
        ("minimax", Some("cn")) => "https://api.minimaxi.com",
        ("minimax", _) => "https://api.minimax.io",
        _ => "",
    }
}

/// Environment variables each provider's key is read from (OpenClaw's names).
fn key_vars(provider: &str) -> &'static [&'static str] {
    match provider {
        "brave" => &["BRAVE_API_KEY"],
        "tavily" => &["TAVILY_API_KEY"],
        "kimi" => &["KIMI_API_KEY", "MOONSHOT_API_KEY"],
        "minimax" => &[
            "MINIMAX_CODE_PLAN_KEY",
            "MINIMAX_CODING_API_KEY",
            "MINIMAX_OAUTH_TOKEN",
            "MINIMAX_API_KEY",
        ],
        _ => &[],
    }
}

fn build_search(
    e: Option<&WebSearchEntry>,
    plugin_search: &PluginSearch,
    at: &ConfigPath,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> WebSearchConfig {
    let d = WebSearchConfig::default();
    let empty = WebSearchEntry::default();
    let e = e.unwrap_or(&empty);
    let mut providers = IndexMap::new();
    for id in SEARCH_ORDER {
        let own = match id {
            "brave" => e.brave.clone().map(|mut b| {
                b.api_key = b.api_key.or(e.api_key.clone());
                b
            }),
            "tavily" => e.tavily.clone(),
            "searxng" => e.searxng.clone(),
            "kimi" => e.kimi.clone(),
            "minimax" => e.minimax.clone(),
            _ => None,
        }
        .or_else(|| {
            (id == "brave" && e.api_key.is_some()).then(|| SearchProviderEntry {
                api_key: e.api_key.clone(),
                ..SearchProviderEntry::default()
            })
        });
        // The tools section's own settings win over the plugin's, key by key.
        let plugin = plugin_search.get(id);
        let pick = |f: fn(&SearchProviderEntry) -> Option<String>| {
            own.as_ref().and_then(f).or_else(|| plugin.and_then(f))
        };
        let key_input = own
            .as_ref()
            .and_then(|o| o.api_key.clone())
            .or_else(|| plugin.and_then(|p| p.api_key.clone()));
        let key_path = at.key(id).key("apiKey");
        let api_key = match &key_input {
            Some(input) => Some(resolve_secret(input, &key_path, env, unresolved).into_secret())
                .filter(|s| !s.is_empty()),
            None => key_vars(id)
                .iter()
                .find_map(|v| env.var(v))
                .map(Secret::new),
        };
        let region = pick(|p| p.region.clone()).map(|r| r.to_lowercase());
        let base_url = pick(|p| p.base_url.clone())
            .map(|u| u.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| default_base_url(id, region.as_deref()).to_owned());
        let configured = if id == "searxng" {
            !base_url.is_empty()
        } else {
            api_key.is_some()
        };
        if !configured {
            continue;
        }
        providers.insert(
            id.to_owned(),
            SearchProviderConfig {
                api_key,
                base_url,
                model: pick(|p| p.model.clone()),
                categories: pick(|p| p.categories.clone()),
                language: pick(|p| p.language.clone()),
                mode: pick(|p| p.mode.clone()),
            },
        );
    }
    let provider = e.provider.as_ref().map(|p| {
        let p = p.trim().to_lowercase();
        if p == "moonshot" {
            "kimi".to_owned()
        } else {
            p
        }
    });
    if let Some(p) = &provider {
        if [
            "perplexity",
            "grok",
            "gemini",
            "openai-codex",
            "exa",
            "firecrawl",
            "duckduckgo",
            "parallel",
            "ollama",
        ]
        .contains(&p.as_str())
        {
            diags.warn(
                at.key("provider"),
                format!(
                    "\"{p}\" is not a search provider dingclaw speaks ({}); web_search is off",
                    SEARCH_ORDER.join(", ")
                ),
            );
        } else if !SEARCH_ORDER.contains(&p.as_str()) {
            let hint = super::strict::suggest(p, &SEARCH_ORDER)
                .map(|s| format!(" (did you mean \"{s}\"?)"))
                .unwrap_or_default();
            diags.error(
                at.key("provider"),
                format!("unknown search provider \"{p}\"{hint}"),
            );
        } else if !providers.contains_key(p) {
            diags.warn(
                at.key("provider"),
                format!("\"{p}\" is chosen but has no key (or baseUrl); web_search is off"),
            );
        }
    }
    WebSearchConfig {
        enabled: e.enabled.unwrap_or(true),
        provider,
        max_results: e.max_results.unwrap_or(d.max_results).clamp(1, 10),
        timeout: e
            .timeout_seconds
            .map(|s| Duration::from_secs(s.max(1)))
            .unwrap_or(d.timeout),
        cache_ttl: e
            .cache_ttl_minutes
            .map(|m| Duration::from_secs_f64(m.max(0.0) * 60.0))
            .unwrap_or(d.cache_ttl),
        providers,
    }
}

fn build_exec(
    e: Option<&ExecEntry>,
    base: Option<&ExecConfig>,
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> ExecConfig {
    let d = base.cloned().unwrap_or_default();
    let Some(e) = e else { return d };
    if e.mode.is_some() && (e.security.is_some() || e.ask.is_some()) {
        diags.error(
            at.key("mode"),
            "mode cannot be set together with security or ask",
        );
    }
    // 2026.9's `mode` maps onto the 2026.3 pair.
    let (security, ask) = match e.mode.as_deref().map(str::trim) {
        None => (e.security.unwrap_or(d.security), e.ask.unwrap_or(d.ask)),
        Some("deny") => (ExecSecurity::Deny, ExecAsk::Off),
        Some("allowlist") => (ExecSecurity::Allowlist, ExecAsk::Off),
        Some("ask") | Some("auto") => (ExecSecurity::Allowlist, ExecAsk::OnMiss),
        Some("full") => (ExecSecurity::Full, ExecAsk::Off),
        Some(other) => {
            diags.error(
                at.key("mode"),
                format!("unknown mode \"{other}\"; one of deny, allowlist, ask, auto, full"),
            );
            (d.security, d.ask)
        }
    };
    if let Some(host) = e.host.as_deref()
        && !matches!(host, "gateway" | "auto" | "sandbox")
    {
        diags.warn(
            at.key("host"),
            format!("\"{host}\": dingclaw runs commands on the gateway host only"),
        );
    }
    let patch = e.apply_patch.as_ref();
    ExecConfig {
        security,
        ask,
        safe_bins: e.safe_bins.clone().unwrap_or(d.safe_bins),
        path_prepend: e.path_prepend.clone().unwrap_or(d.path_prepend),
        timeout: e
            .timeout_seconds
            .or(e.timeout_sec)
            .map(|s| Duration::from_secs(s.max(1)))
            .unwrap_or(d.timeout),
        background_after: e
            .background_ms
            .map(Duration::from_millis)
            .unwrap_or(d.background_after),
        apply_patch_enabled: patch
            .and_then(|p| p.enabled)
            .unwrap_or(d.apply_patch_enabled),
        apply_patch_workspace_only: patch
            .and_then(|p| p.workspace_only)
            .unwrap_or(d.apply_patch_workspace_only),
        apply_patch_models: patch
            .and_then(|p| p.allow_models.clone())
            .unwrap_or(d.apply_patch_models),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment::MapEnv;

    fn build(json: serde_json::Value, env: &MapEnv) -> (ToolsConfig, Diagnostics) {
        let s: ToolsSection = serde_json::from_value(json).unwrap();
        let mut d = Diagnostics::default();
        let t = build_tools(
            Some(&s),
            &PluginSearch::new(),
            env,
            &Unresolved::new(),
            &mut d,
        );
        (t, d)
    }

    #[test]
    fn names_are_normalised_and_typos_are_errors() {
        let (t, d) = build(
            serde_json::json!({"allow": ["Bash", "group:web", "web_fetc", "feishu_doc", "docs__*"]}),
            &MapEnv::new(),
        );
        assert_eq!(
            t.policy.allow,
            vec!["exec", "group:web", "web_fetc", "feishu_doc", "docs__*"]
        );
        let errors: Vec<String> = d.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            vec!["tools.allow.2: unknown tool or group \"web_fetc\" (did you mean \"web_fetch\"?)"]
        );
        assert!(d.warnings[0].to_string().contains("\"feishu_doc\""));
    }

    #[test]
    fn profile_typos_and_allow_with_also_allow_are_errors() {
        let (_, d) = build(
            serde_json::json!({"profile": "codng", "allow": ["read"], "alsoAllow": ["write"]}),
            &MapEnv::new(),
        );
        let errors: Vec<String> = d.errors.iter().map(ToString::to_string).collect();
        assert!(
            errors[0].starts_with("tools.alsoAllow: allow and alsoAllow"),
            "{errors:?}"
        );
        assert!(errors[1].contains("did you mean \"coding\""), "{errors:?}");
    }

    #[test]
    fn defaults_are_safe() {
        let (t, _) = build(serde_json::json!({}), &MapEnv::new());
        assert!(t.workspace_only, "file tools stay in the workspace");
        assert_eq!(t.exec.security, ExecSecurity::Deny, "no commands");
        assert_eq!(t.web.fetch.max_chars, 20_000);
        assert!(!t.web.fetch.ssrf.allow_private_network);
        assert!(t.web.search.active().is_none(), "no provider, no search");
    }

    #[test]
    fn search_providers_come_from_either_version_or_the_environment() {
        let env = MapEnv::new().with_var("TAVILY_API_KEY", "tvly-123456");
        let (t, _) = build(
            serde_json::json!({"web": {"search": {"apiKey": "brave-key-1"}}}),
            &env,
        );
        assert_eq!(
            t.web.search.active().unwrap().0,
            "brave",
            "2026.3's key is Brave's"
        );
        assert!(t.web.search.providers.contains_key("tavily"));
        let mut plugin = PluginSearch::new();
        plugin.insert(
            "minimax".into(),
            SearchProviderEntry {
                api_key: Some(SecretInput::Plain("sk-cp-key".into())),
                region: Some("cn".into()),
                ..SearchProviderEntry::default()
            },
        );
        let s: ToolsSection =
            serde_json::from_value(serde_json::json!({"web": {"search": {"provider": "minimax"}}}))
                .unwrap();
        let mut d = Diagnostics::default();
        let t = build_tools(
            Some(&s),
            &plugin,
            &MapEnv::new(),
            &Unresolved::new(),
            &mut d,
        );
        let (id, p) = t.web.search.active().unwrap();
        assert_eq!(
            (id, p.base_url.as_str()),
            ("minimax", "https://api.minimaxi.com")
        );
    }

    #[test]
    fn exec_mode_maps_to_security_and_ask() {
        let (t, d) = build(
            serde_json::json!({"exec": {"mode": "ask", "safeBins": ["ls"]}}),
            &MapEnv::new(),
        );
        assert!(d.errors.is_empty());
        assert_eq!(
            (t.exec.security, t.exec.ask),
            (ExecSecurity::Allowlist, ExecAsk::OnMiss)
        );
        let (_, d) = build(
            serde_json::json!({"exec": {"mode": "full", "security": "deny"}}),
            &MapEnv::new(),
        );
        assert!(d.errors[0].to_string().contains("together"));
    }
}
