//! `models`: model providers (docs/openclaw-routing.md 1.10, 5). The built-in catalogue
//! (`catalogue`) merged with `models.providers`, key by key.

use std::collections::BTreeSet;
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::agents::AgentRoster;
use super::catalogue::{BUILTIN_PROVIDERS, builtin, canonical_provider_id};
use super::environment::Environment;
use super::http_url::normalize_base_url;
use super::issue::{ConfigPath, Diagnostics};
use super::secret::{
    Secret, SecretInput, SecretState, is_placeholder, placeholder_error, resolve_secret,
};
use super::substitute::Unresolved;

/// A model call's deadline when the provider sets none: long answers take a while.
pub const DEFAULT_CALL_TIMEOUT_SECS: u64 = 120;
/// Longest pause between two streamed chunks before the call counts as stalled.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
/// Calls in flight per provider.
pub const DEFAULT_MAX_CONCURRENT: u32 = 64;
/// Calls waiting for a slot per provider; past it the user is told the model is busy.
pub const DEFAULT_MAX_QUEUE: u32 = 1000;
/// Retries of a failed call (429, 5xx, timeouts, connection errors) before falling back.
pub const DEFAULT_RETRIES: u32 = 2;
pub const DEFAULT_RETRY_INITIAL_MS: u64 = 1000;
/// Consecutive failed calls that open the circuit breaker.
pub const DEFAULT_CIRCUIT_FAILURES: u32 = 5;
/// First cooldown of an open circuit; it doubles while the provider keeps failing, up to
/// five minutes (OpenClaw's 30 s, 60 s, 5 min).
pub const DEFAULT_CIRCUIT_COOLDOWN_SECS: u64 = 30;

// ---------------------------------------------------------------------------------------------
// What users write
// ---------------------------------------------------------------------------------------------

/// The `models` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelsSection {
    /// `merge` (default): providers here add to and override the built-in catalogue.
    /// `replace`: only the providers here exist.
    pub mode: Option<CatalogueMode>,
    /// Providers keyed by id; the id is the part before `/` in `"provider/model"`.
    pub providers: Option<IndexMap<String, ProviderEntry>>,
}

/// `models.mode`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogueMode {
    /// Add to the built-in catalog.
    #[default]
    Merge,
    /// Use only the configured providers.
    Replace,
}

/// One provider in `models.providers`. For a built-in provider every key is optional and
/// overrides the catalogue's value.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderEntry {
    /// Base URL of the API, e.g. `https://dashscope.aliyuncs.com/compatible-mode/v1`.
    pub base_url: Option<String>,
    /// The API key, usually `"${DASHSCOPE_API_KEY}"`. Built-in providers also read their
    /// environment variables.
    pub api_key: Option<SecretInput>,
    /// Wire protocol: `openai-completions` or `anthropic-messages`.
    pub api: Option<ModelApi>,
    /// Extra request headers. Their values are treated as secrets.
    pub headers: Option<IndexMap<String, String>>,
    /// Longest a model call may take (default 120).
    pub timeout_seconds: Option<u64>,
    /// Longest pause between streamed chunks (default 60).
    pub idle_timeout_seconds: Option<u64>,
    /// Calls in flight at once (default 64).
    pub max_concurrent: Option<u32>,
    /// Calls started per minute (default: no limit).
    pub requests_per_minute: Option<u32>,
    /// Calls waiting for a slot before new ones are refused as busy (default 1000).
    pub max_queue: Option<u32>,
    /// Retries of a failed call before the fallbacks (default 2).
    pub retries: Option<u32>,
    /// First retry delay; doubles each time (default 1000).
    pub retry_initial_ms: Option<u64>,
    /// Consecutive failures that put the provider in cooldown (default 5).
    pub circuit_breaker_failures: Option<u32>,
    /// First cooldown (default 30).
    pub circuit_breaker_cooldown_seconds: Option<u64>,
    /// Stream answers as they are generated (default true).
    pub streaming: Option<bool>,
    /// The provider's models as OpenClaw lists them (`{id, input: ["text", "image"], ...}`);
    /// dingclaw reads `id` and `input` (which models take pictures).
    pub models: Option<Vec<serde_json::Value>>,
}

/// Every API kind OpenClaw knows, so that its configs load; `openai` is its legacy spelling of
/// `openai-completions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelApi {
    /// OpenAI chat completions (`openai-completions`; most providers, China's included).
    #[serde(alias = "openai")]
    OpenaiCompletions,
    /// Anthropic messages (Kimi Coding, MiniMax).
    AnthropicMessages,
    /// Accepted and reported: not spoken by dingclaw.
    OpenaiResponses,
    /// Accepted and reported: not spoken by dingclaw.
    OpenaiCodexResponses,
    /// Accepted and reported: not spoken by dingclaw.
    OpenaiChatgptResponses,
    /// Accepted and reported: not spoken by dingclaw.
    AzureOpenaiResponses,
    /// Accepted and reported: not spoken by dingclaw.
    GoogleGenerativeAi,
    /// Accepted and reported: not spoken by dingclaw.
    GoogleVertex,
    /// Accepted and reported: not spoken by dingclaw.
    GithubCopilot,
    /// Accepted and reported: not spoken by dingclaw.
    BedrockConverseStream,
    /// Accepted and reported: not spoken by dingclaw.
    Ollama,
    /// Accepted and reported: not spoken by dingclaw.
    PiMessages,
}

impl ModelApi {
    /// True for the wire protocols dingclaw implements.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            ModelApi::OpenaiCompletions | ModelApi::AnthropicMessages | ModelApi::Ollama
        )
    }
}

// ---------------------------------------------------------------------------------------------
// What dingclaw runs with
// ---------------------------------------------------------------------------------------------

/// `models`: the providers dingclaw may call.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelsConfig {
    /// `mode`: add to the built-in catalog (`merge`) or use only these (`replace`).
    pub mode: CatalogueMode,
    /// Built-in and configured providers, keyed by canonical id.
    pub providers: IndexMap<String, ProviderConfig>,
}

impl ModelsConfig {
    /// The provider for an id or alias.
    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.providers.get(&canonical_provider_id(id))
    }
}

/// Where a provider's API key came from (for `models list`; never the key itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "from", content = "name")]
pub enum KeySource {
    /// The config's `apiKey`.
    Config,
    /// This environment variable.
    Env(String),
    /// No key.
    None,
}

/// One provider as dingclaw calls it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    /// Its id (lowercase, aliases resolved).
    pub id: String,
    /// Its name for people.
    pub title: String,
    /// From dingclaw's built-in catalog (DashScope, DeepSeek, Kimi, GLM...).
    pub builtin: bool,
    /// Which API it speaks.
    pub api: ModelApi,
    /// Without a trailing slash; empty for a configured provider that gave none.
    pub base_url: String,
    /// Its key (never shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// Where the key came from.
    pub key_source: KeySource,
    /// It needs a key (local servers may not).
    pub needs_key: bool,
    /// `headers` sent with every call (never shown).
    pub headers: IndexMap<String, Secret>,
    /// `timeoutSeconds`: a call may take this long.
    #[serde(serialize_with = "secs")]
    pub timeout: Duration,
    /// A streamed answer silent this long is given up.
    #[serde(serialize_with = "secs")]
    pub idle_timeout: Duration,
    /// `maxConcurrent`: calls at once.
    pub max_concurrent: u32,
    /// `requestsPerMinute`: calls a minute, if limited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
    /// Calls that may wait for a slot; past that the turn is told the provider is busy.
    pub max_queue: u32,
    /// Retries of a failed call (rate limits, 5xx, timeouts).
    pub retries: u32,
    /// The first pause between retries.
    #[serde(serialize_with = "millis")]
    pub retry_initial: Duration,
    /// Failures in a row that open the circuit.
    pub circuit_failures: u32,
    /// How long the circuit stays open at first.
    #[serde(serialize_with = "secs")]
    pub circuit_cooldown: Duration,
    /// Ask for streamed answers.
    pub streaming: bool,
    /// Models whose `input` was declared: id and whether it includes `"image"`.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub model_inputs: IndexMap<String, bool>,
    /// Every model the entry lists (`models[].id`), in order, for `/models`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// `models[].contextWindow`, where given.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub context_windows: IndexMap<String, u64>,
}

/// The context window of a model nobody described: what DeepSeek, GLM, Qwen-Plus and most
/// of their peers take today, so compaction starts before a call would fail.
pub const DEFAULT_CONTEXT_WINDOW: u64 = 128_000;

impl ProviderConfig {
    /// An OpenAI-compatible provider `id` at `base_url`, with every other setting as the
    /// loader gives it (limits, retries, circuit, streaming), so that a provider made in code
    /// behaves as a configured one. Refused, with the loader's words, when `base_url` is not
    /// a URL. A built-in id (`deepseek`, `dashscope`...) keeps its catalogue settings.
    pub fn openai_compatible(
        id: &str,
        base_url: &str,
        api_key: &str,
    ) -> Result<ProviderConfig, super::ConfigError> {
        let text = serde_json::json!({
            "agents": { "list": [ { "id": "main", "model": format!("{id}/model") } ] },
            "models": { "providers": { id: { "baseUrl": base_url, "apiKey": api_key } } },
        })
        .to_string();
        let loaded = super::load_str(&text, std::path::Path::new("."), &super::MapEnv::new())?;
        loaded
            .config
            .models
            .provider(id)
            .cloned()
            .ok_or_else(|| super::ConfigError::Invalid {
                file: std::path::PathBuf::from("<code>"),
                errors: vec![super::Issue::new(
                    super::ConfigPath::root()
                        .key("models")
                        .key("providers")
                        .key(id),
                    "the provider was not built",
                )],
                warnings: Vec::new(),
                digest: loaded.digest,
            })
    }

    /// Tokens `model` takes in one request (`contextWindow`, else a common default).
    pub fn context_window(&self, model: &str) -> u64 {
        self.context_windows
            .get(model)
            .copied()
            .unwrap_or(DEFAULT_CONTEXT_WINDOW)
    }

    /// Has it what a call needs (a key, where the API wants one)?
    pub fn usable(&self) -> bool {
        !self.needs_key || self.api_key.is_some()
    }

    /// Does `model` take pictures? The declared `input` decides; without one, models whose
    /// names say vision (`-vl`, `vision`, `4v`, `gpt-4o`, `claude`, `omni`...) are taken to.
    pub fn takes_images(&self, model: &str) -> bool {
        if let Some(declared) = self.model_inputs.get(model) {
            return *declared;
        }
        let m = model.to_ascii_lowercase();
        [
            "-vl", "vl-", "vision", "4v", "4.5v", "4.6v", "gpt-4o", "gpt-4.1", "gpt-5", "claude",
            "omni", "gemini",
        ]
        .iter()
        .any(|k| m.contains(k))
    }
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_secs())
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

/// The provider part of a `"provider/model"` reference, canonical; `None` for a bare name.
pub fn provider_of(model_ref: &str) -> Option<String> {
    model_ref
        .split_once('/')
        .map(|(p, _)| canonical_provider_id(p))
        .filter(|p| !p.is_empty())
}

impl AgentRoster {
    /// Providers some agent's model chain names (primary or fallback, aliases resolved), in
    /// id order.
    pub fn used_providers(&self) -> Vec<String> {
        let mut ids: Vec<String> = used_providers(self).into_iter().map(|(p, _)| p).collect();
        ids.dedup();
        ids
    }
}

/// Providers some agent uses (primary or fallback), with the agents that use them.
fn used_providers(roster: &AgentRoster) -> BTreeSet<(String, String)> {
    roster
        .agents
        .iter()
        .flat_map(|a| {
            a.model
                .primary
                .iter()
                .chain(a.model.fallbacks.iter())
                .filter_map(|r| {
                    let full = if r.contains('/') {
                        r.clone()
                    } else {
                        roster.model_aliases.get(&r.to_lowercase())?.clone()
                    };
                    provider_of(&full)
                })
                .map(|p| (p, a.id.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

pub(crate) fn build_models(
    section: Option<&ModelsSection>,
    roster: &AgentRoster,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> ModelsConfig {
    let empty = ModelsSection::default();
    let section = section.unwrap_or(&empty);
    let mode = section.mode.unwrap_or_default();
    let used = used_providers(roster);
    let is_used = |id: &str| used.iter().any(|(p, _)| p == id);
    let at = ConfigPath::root().key("models").key("providers");

    let mut providers: IndexMap<String, ProviderConfig> = IndexMap::new();
    if mode == CatalogueMode::Merge {
        for b in BUILTIN_PROVIDERS {
            providers.insert(
                b.id.to_owned(),
                provider(b.id, None, &at.key(b.id), env, unresolved, false, diags),
            );
        }
    }
    let mut configured: IndexMap<String, &String> = IndexMap::new();
    for (key, entry) in section.providers.iter().flatten() {
        let id = canonical_provider_id(key);
        let path = at.key(key);
        if let Some(first) = configured.insert(id.clone(), key) {
            diags.error(
                path,
                format!("provider \"{id}\" is already configured as \"{first}\""),
            );
            continue;
        }
        let p = provider(
            &id,
            Some(entry),
            &path,
            env,
            unresolved,
            is_used(&id),
            diags,
        );
        if p.base_url.is_empty() && is_used(&id) {
            diags.error(
                path.key("baseUrl"),
                "required for a provider that is not built in",
            );
        }
        if is_used(&id) && !p.api.is_supported() {
            diags.error(
                path.key("api"),
                format!(
                    "{} is not supported by dingclaw (use openai-completions or anthropic-messages)",
                    serde_json::to_string(&p.api).unwrap_or_default()
                ),
            );
        }
        providers.insert(id, p);
    }
    for (id, agent) in &used {
        match providers.get(id) {
            None => diags.warn(
                ConfigPath::root().key("agents"),
                format!("agent \"{agent}\" uses provider \"{id}\", which is neither built in nor in models.providers; its turns will fail"),
            ),
            Some(p) if p.needs_key && p.api_key.is_none() => {
                let hint = builtin(id)
                    .map(|b| b.key_vars.join(" or "))
                    .map(|v| format!("set {v} or models.providers.{id}.apiKey"))
                    .unwrap_or_else(|| format!("set models.providers.{id}.apiKey"));
                diags.warn(
                    at.key(id),
                    format!("agent \"{agent}\" uses \"{id}\" but it has no API key ({hint}); its turns will fail"),
                );
            }
            Some(_) => {}
        }
    }
    ModelsConfig { mode, providers }
}

/// `models[].input` of a provider: which declared models take pictures.
fn model_inputs(
    models: Option<&Vec<serde_json::Value>>,
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> IndexMap<String, bool> {
    let mut out = IndexMap::new();
    for (i, m) in models.into_iter().flatten().enumerate() {
        let Some(id) = m.get("id").and_then(serde_json::Value::as_str) else {
            diags.error(at.index(i), "a model needs an \"id\"");
            continue;
        };
        if let Some(input) = m.get("input").and_then(serde_json::Value::as_array) {
            out.insert(
                id.to_owned(),
                input.iter().any(|v| v.as_str() == Some("image")),
            );
        }
    }
    out
}

/// One provider: the catalogue's values, then the entry's, then defaults.
fn provider(
    id: &str,
    entry: Option<&ProviderEntry>,
    path: &ConfigPath,
    env: &dyn Environment,
    unresolved: &Unresolved,
    used: bool,
    diags: &mut Diagnostics,
) -> ProviderConfig {
    let base = builtin(id);
    let e = |f: fn(&ProviderEntry) -> Option<u64>| entry.and_then(f);
    // Offline (the demo) the key is never sent: only real runs check it.
    let used = used && !env.offline();
    let (mut api_key, mut key_source) = (None, KeySource::None);
    if let Some(input) = entry.and_then(|e| e.api_key.as_ref()) {
        let key_path = path.key("apiKey");
        match resolve_secret(input, &key_path, env, unresolved) {
            SecretState::Ready(s) if used && is_placeholder(s.expose()) => diags.error(
                key_path,
                placeholder_error("API key", &format!("provider \"{id}\" (used by an agent)")),
            ),
            SecretState::Ready(s) => {
                api_key = Some(s);
                key_source = KeySource::Config;
            }
            SecretState::Unavailable(why) if used => diags.error(
                key_path,
                format!("{why}; provider \"{id}\" is used by an agent and cannot start without it"),
            ),
            SecretState::Unavailable(_) => {}
        }
    }
    if api_key.is_none()
        && let Some(b) = base
        && let Some((var, value)) = b
            .key_vars
            .iter()
            .find_map(|v| env.var(v).map(|val| (*v, val)))
    {
        if used && is_placeholder(&value) {
            diags.error(
                path.key("apiKey"),
                format!(
                    "${var} {}",
                    placeholder_error("API key", &format!("provider \"{id}\" (used by an agent)"))
                ),
            );
        }
        api_key = Some(Secret::new(value));
        key_source = KeySource::Env(var.to_owned());
    }
    let base_url = entry
        .and_then(|e| e.base_url.as_deref())
        .or(base.map(|b| b.base_url))
        .map(|u| {
            normalize_base_url(u).unwrap_or_else(|message| {
                diags.error(path.key("baseUrl"), message);
                u.trim().to_owned()
            })
        })
        .unwrap_or_default();
    if let Some(entry) = entry {
        for (name, field) in [
            ("maxConcurrent", entry.max_concurrent),
            ("requestsPerMinute", entry.requests_per_minute),
            ("maxQueue", entry.max_queue),
            ("circuitBreakerFailures", entry.circuit_breaker_failures),
        ] {
            if field == Some(0) {
                diags.error(path.key(name), "must be at least 1");
            }
        }
    }
    let api = entry
        .and_then(|e| e.api)
        .or(base.map(|b| b.api))
        .unwrap_or(ModelApi::OpenaiCompletions);
    ProviderConfig {
        id: id.to_owned(),
        title: base
            .map(|b| b.title.to_owned())
            .unwrap_or_else(|| id.to_owned()),
        builtin: base.is_some(),
        api,
        base_url,
        api_key,
        key_source,
        // Ollama and custom local servers may run without a key.
        needs_key: base.is_some_and(|b| b.needs_key) && api != ModelApi::Ollama,
        headers: entry
            .and_then(|e| e.headers.as_ref())
            .iter()
            .flat_map(|h| h.iter())
            .map(|(k, v)| (k.clone(), Secret::new(v.as_str())))
            .collect(),
        timeout: Duration::from_secs(
            e(|e| e.timeout_seconds)
                .unwrap_or(DEFAULT_CALL_TIMEOUT_SECS)
                .max(1),
        ),
        idle_timeout: Duration::from_secs(
            e(|e| e.idle_timeout_seconds)
                .unwrap_or(DEFAULT_IDLE_TIMEOUT_SECS)
                .max(1),
        ),
        max_concurrent: entry
            .and_then(|e| e.max_concurrent)
            .unwrap_or(DEFAULT_MAX_CONCURRENT)
            .max(1),
        requests_per_minute: entry.and_then(|e| e.requests_per_minute).filter(|n| *n > 0),
        max_queue: entry
            .and_then(|e| e.max_queue)
            .unwrap_or(DEFAULT_MAX_QUEUE)
            .max(1),
        retries: entry.and_then(|e| e.retries).unwrap_or(DEFAULT_RETRIES),
        retry_initial: Duration::from_millis(
            e(|e| e.retry_initial_ms)
                .unwrap_or(DEFAULT_RETRY_INITIAL_MS)
                .max(1),
        ),
        circuit_failures: entry
            .and_then(|e| e.circuit_breaker_failures)
            .unwrap_or(DEFAULT_CIRCUIT_FAILURES)
            .max(1),
        circuit_cooldown: Duration::from_secs(
            e(|e| e.circuit_breaker_cooldown_seconds)
                .unwrap_or(DEFAULT_CIRCUIT_COOLDOWN_SECS)
                .max(1),
        ),
        streaming: entry.and_then(|e| e.streaming).unwrap_or(true),
        model_inputs: model_inputs(
            entry.and_then(|e| e.models.as_ref()),
            &path.key("models"),
            diags,
        ),
        models: entry
            .and_then(|e| e.models.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("id").and_then(serde_json::Value::as_str))
            .map(str::to_owned)
            .collect(),
        context_windows: entry
            .and_then(|e| e.models.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|m| {
                let id = m.get("id").and_then(serde_json::Value::as_str)?;
                let window = m.get("contextWindow").and_then(serde_json::Value::as_u64)?;
                Some((id.to_owned(), window.max(1)))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_provider_made_in_code_equals_a_configured_one() {
        let made =
            super::ProviderConfig::openai_compatible("mine", "http://127.0.0.1:9/v1", "k-123456")
                .unwrap();
        let text = r#"{ agents: { list: [ { id: "a", model: "mine/m" } ] },
                       models: { providers: { mine: { baseUrl: "http://127.0.0.1:9/v1", apiKey: "k-123456" } } } }"#;
        let loaded = super::super::load_str(
            text,
            std::path::Path::new("."),
            &super::super::MapEnv::new(),
        )
        .unwrap();
        assert_eq!(&made, loaded.config.models.provider("mine").unwrap());
        let err = super::ProviderConfig::openai_compatible("mine", "not a url", "k").unwrap_err();
        assert!(err.to_string().contains("baseUrl"), "{err}");
    }

    use super::*;
    use crate::config::environment::MapEnv;
    use crate::config::{MapEnv as Env, load_str};

    #[test]
    fn provider_is_split_at_the_first_slash_and_aliases_resolve() {
        assert_eq!(
            provider_of("dashscope-coding/qwen3.5-plus").as_deref(),
            Some("dashscope-coding")
        );
        assert_eq!(
            provider_of("OpenRouter/anthropic/claude-x").as_deref(),
            Some("openrouter")
        );
        assert_eq!(
            provider_of("modelstudio/qwen3.5-plus").as_deref(),
            Some("dashscope-coding")
        );
        assert_eq!(provider_of("sonnet"), None);
    }

    #[test]
    fn legacy_api_spelling_is_accepted() {
        let e: ProviderEntry =
            serde_json::from_value(serde_json::json!({"api": "openai"})).unwrap();
        assert_eq!(e.api, Some(ModelApi::OpenaiCompletions));
    }

    #[test]
    fn builtins_read_keys_from_the_environment_and_config_overrides_key_by_key() {
        let env = MapEnv::new().with_var("DEEPSEEK_API_KEY", "sk-env");
        let text = r#"{ agents: { list: [ { id: "a", model: "deepseek/deepseek-chat" } ] },
                       models: { providers: { deepseek: { baseUrl: "http://127.0.0.1:9/v1", maxConcurrent: 3 } } } }"#;
        let loaded = load_str(text, std::path::Path::new("/"), &env).unwrap();
        let p = loaded.config.models.provider("deepseek").unwrap();
        assert_eq!(p.base_url, "http://127.0.0.1:9/v1");
        assert_eq!(p.api_key.as_ref().unwrap().expose(), "sk-env");
        assert_eq!(p.key_source, KeySource::Env("DEEPSEEK_API_KEY".into()));
        assert_eq!(p.max_concurrent, 3);
        assert_eq!(p.retries, DEFAULT_RETRIES);
        let coding = loaded.config.models.provider("modelstudio").unwrap();
        assert_eq!(coding.base_url, "https://coding.dashscope.aliyuncs.com/v1");
    }

    #[test]
    fn a_used_provider_without_a_key_is_a_warning_and_replace_mode_drops_builtins() {
        let text =
            r#"{ agents: { list: [ { id: "a", model: "dashscope-coding/qwen3.5-plus" } ] } }"#;
        let loaded = load_str(text, std::path::Path::new("/"), &Env::new()).unwrap();
        assert!(loaded.warnings.iter().any(|w| w.to_string().contains("has no API key (set DASHSCOPE_CODING_API_KEY or MODELSTUDIO_API_KEY or DASHSCOPE_API_KEY")), "{:?}", loaded.warnings);
        let text = r#"{ models: { mode: "replace", providers: { mine: { baseUrl: "http://x.invalid" } } } }"#;
        let loaded = load_str(text, std::path::Path::new("/"), &Env::new()).unwrap();
        assert_eq!(
            loaded.config.models.providers.keys().collect::<Vec<_>>(),
            vec!["mine"]
        );
    }

    #[test]
    fn a_custom_provider_used_without_base_url_is_an_error() {
        let text = r#"{ agents: { list: [ { id: "a", model: "mine/m" } ] }, models: { providers: { mine: { apiKey: "k" } } } }"#;
        let err = load_str(text, std::path::Path::new("/"), &Env::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("models.providers.mine.baseUrl: required"),
            "{err}"
        );
    }
}
