//! Where a model reference leads: `provider/model` split at the first `/`, a bare name looked
//! up among the aliases (reference/openclaw-routing.md 5.1), the provider's settings from
//! `models.providers`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::{ModelApi, ModelsConfig, Secret};

use super::error::ProviderError;

/// A model call's deadline when the provider sets none: long answers take a while.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// A parsed model reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRef {
    /// Lower-cased provider id.
    pub provider: String,
    /// The model id, as the provider spells it (may contain `/`).
    pub model: String,
}

impl ModelRef {
    /// Parses `provider/model`, or an alias from `agents.defaults.models`.
    pub fn parse(
        reference: &str,
        aliases: &BTreeMap<String, String>,
    ) -> Result<ModelRef, ProviderError> {
        let reference = reference.trim();
        let full = match reference.split_once('/') {
            Some(_) => reference,
            None => aliases
                .get(&reference.to_lowercase())
                .map(String::as_str)
                .ok_or_else(|| ProviderError::BadReference {
                    reference: reference.to_owned(),
                })?,
        };
        match full.split_once('/') {
            Some((p, m)) if !p.trim().is_empty() && !m.trim().is_empty() => Ok(ModelRef {
                provider: p.trim().to_lowercase(),
                model: m.trim().to_owned(),
            }),
            _ => Err(ProviderError::BadReference {
                reference: reference.to_owned(),
            }),
        }
    }
}

impl std::fmt::Display for ModelRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// How to reach one provider.
#[derive(Clone, Debug)]
pub struct ProviderEndpoint {
    pub id: String,
    /// Without a trailing slash; `/chat/completions` is appended.
    pub base_url: String,
    pub api_key: Option<Secret>,
    pub api: ModelApi,
    pub headers: Vec<(String, Secret)>,
    pub timeout: Duration,
}

/// The endpoint of provider `id` from `models.providers`.
pub fn resolve_endpoint(
    id: &str,
    models: &ModelsConfig,
) -> Result<ProviderEndpoint, ProviderError> {
    let p = models
        .providers
        .get(id)
        .filter(|p| p.base_url.is_some())
        .ok_or_else(|| ProviderError::NotConfigured {
            provider: id.to_owned(),
        })?;
    Ok(ProviderEndpoint {
        id: id.to_owned(),
        base_url: p.base_url.clone().unwrap_or_default(),
        api_key: p.api_key.clone().filter(|k| !k.is_empty()),
        api: p.api.unwrap_or(ModelApi::OpenaiCompletions),
        headers: p
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        timeout: p
            .timeout_seconds
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_CALL_TIMEOUT),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_first_slash_and_aliases_resolve() {
        let aliases = BTreeMap::from([("fast".to_owned(), "deepseek/deepseek-chat".to_owned())]);
        assert_eq!(
            ModelRef::parse("DashScope-Coding/qwen3.5-plus", &aliases).unwrap(),
            ModelRef {
                provider: "dashscope-coding".into(),
                model: "qwen3.5-plus".into()
            }
        );
        assert_eq!(
            ModelRef::parse("openrouter/anthropic/claude-x", &aliases)
                .unwrap()
                .model,
            "anthropic/claude-x"
        );
        assert_eq!(
            ModelRef::parse("FAST", &aliases).unwrap().provider,
            "deepseek"
        );
        assert!(ModelRef::parse("unknown", &aliases).is_err());
        assert!(ModelRef::parse("p/", &aliases).is_err());
    }
}
