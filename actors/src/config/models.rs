//! `models`: model providers (reference/openclaw-routing.md 1.10, 5).

use std::collections::BTreeSet;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::agents::AgentRoster;
use super::environment::Environment;
use super::issue::{ConfigPath, Diagnostics};
use super::secret::{Secret, SecretInput, SecretState, resolve_secret};
use super::substitute::Unresolved;

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

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CatalogueMode {
    #[default]
    Merge,
    Replace,
}

/// One provider in `models.providers`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderEntry {
    /// Base URL of the API, e.g. `https://dashscope.aliyuncs.com/compatible-mode/v1`.
    pub base_url: Option<String>,
    /// The API key, usually `"${DASHSCOPE_API_KEY}"`.
    pub api_key: Option<SecretInput>,
    /// Wire protocol; dingclaw speaks `openai-completions` and `anthropic-messages`.
    pub api: Option<ModelApi>,
    /// Extra request headers. Their values are treated as secrets.
    pub headers: Option<IndexMap<String, String>>,
    /// Longest a model call may take.
    pub timeout_seconds: Option<u64>,
    /// Calls to this provider in flight at once.
    pub max_concurrent: Option<u32>,
    /// Calls to this provider started per minute.
    pub requests_per_minute: Option<u32>,
}

/// Every API kind OpenClaw knows, so that its configs load; `openai` is its legacy spelling of
/// `openai-completions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelApi {
    #[serde(alias = "openai")]
    OpenaiCompletions,
    AnthropicMessages,
    OpenaiResponses,
    OpenaiCodexResponses,
    OpenaiChatgptResponses,
    AzureOpenaiResponses,
    GoogleGenerativeAi,
    GoogleVertex,
    GithubCopilot,
    BedrockConverseStream,
    Ollama,
    PiMessages,
}

impl ModelApi {
    /// True for the wire protocols dingclaw implements.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            ModelApi::OpenaiCompletions | ModelApi::AnthropicMessages
        )
    }
}

// ---------------------------------------------------------------------------------------------
// What dingclaw runs with
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelsConfig {
    pub mode: CatalogueMode,
    /// Configured providers keyed by lower-cased id, in config order.
    pub providers: IndexMap<String, ProviderConfig>,
}

/// A provider from `models.providers`, before it is merged with the built-in catalogue.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ModelApi>,
    pub headers: IndexMap<String, Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_concurrent: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
}

/// The provider part of a `"provider/model"` reference, lower-cased; `None` for a bare name.
pub fn provider_of(model_ref: &str) -> Option<String> {
    model_ref
        .split_once('/')
        .map(|(p, _)| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
}

/// Providers that some agent uses (primary or fallback), so they would start.
fn used_providers(roster: &AgentRoster) -> BTreeSet<String> {
    roster
        .agents
        .iter()
        .flat_map(|a| a.model.primary.iter().chain(a.model.fallbacks.iter()))
        .filter_map(|r| provider_of(r))
        .collect()
}

pub(crate) fn build_models(
    section: Option<&ModelsSection>,
    roster: &AgentRoster,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> ModelsConfig {
    let Some(section) = section else {
        return ModelsConfig::default();
    };
    let used = used_providers(roster);
    let at = ConfigPath::root().key("models").key("providers");
    let mut providers = IndexMap::new();
    for (key, entry) in section.providers.iter().flatten() {
        let path = at.key(key);
        let id = key.trim().to_lowercase();
        if providers.contains_key(&id) {
            diags.error(path, format!("provider id \"{id}\" is used twice"));
            continue;
        }
        let starts = used.contains(&id);
        let api_key = entry.api_key.as_ref().map(|input| {
            let key_path = path.key("apiKey");
            let state = resolve_secret(input, &key_path, env, unresolved);
            if starts && let SecretState::Unavailable(why) = &state {
                diags.error(
                    key_path,
                    format!(
                        "{why}; provider \"{id}\" is used by an agent and cannot start without it"
                    ),
                );
            }
            state.into_secret()
        });
        if let Some(url) = entry.base_url.as_deref()
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            diags.error(
                path.key("baseUrl"),
                format!("\"{url}\" is not an http(s) URL"),
            );
        }
        if starts
            && let Some(api) = entry.api
            && !api.is_supported()
        {
            diags.error(
                path.key("api"),
                format!(
                    "{} is not supported by dingclaw (use openai-completions or anthropic-messages)",
                    serde_json::to_string(&api).unwrap_or_default()
                ),
            );
        }
        for (name, field) in [
            ("maxConcurrent", entry.max_concurrent),
            ("requestsPerMinute", entry.requests_per_minute),
        ] {
            if field == Some(0) {
                diags.error(path.key(name), "must be at least 1");
            }
        }
        providers.insert(
            id.clone(),
            ProviderConfig {
                id,
                base_url: entry
                    .base_url
                    .as_deref()
                    .map(|u| u.trim().trim_end_matches('/').to_owned()),
                api_key,
                api: entry.api,
                headers: entry
                    .headers
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), Secret::new(v.as_str())))
                    .collect(),
                timeout_seconds: entry.timeout_seconds,
                max_concurrent: entry.max_concurrent,
                requests_per_minute: entry.requests_per_minute,
            },
        );
    }
    ModelsConfig {
        mode: section.mode.unwrap_or_default(),
        providers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_is_split_at_the_first_slash() {
        assert_eq!(
            provider_of("dashscope-coding/qwen3.5-plus").as_deref(),
            Some("dashscope-coding")
        );
        assert_eq!(
            provider_of("OpenRouter/anthropic/claude-x").as_deref(),
            Some("openrouter")
        );
        assert_eq!(provider_of("sonnet"), None);
    }

    #[test]
    fn legacy_api_spelling_is_accepted() {
        let e: ProviderEntry =
            serde_json::from_value(serde_json::json!({"api": "openai"})).unwrap();
        assert_eq!(e.api, Some(ModelApi::OpenaiCompletions));
    }
}
