//! Model references: `provider/model` split at the first `/`, a bare name looked up among the
//! aliases of `agents.defaults.models` (docs/openclaw-routing.md 5.1).

use std::collections::BTreeMap;

use crate::config::canonical_provider_id;

use super::error::ProviderError;

/// A parsed model reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelRef {
    /// Canonical provider id (aliases resolved).
    pub provider: String,
    /// The model id, as the provider spells it (may contain `/`).
    pub model: String,
}

impl ModelRef {
    /// Parses `provider/model`, or an alias.
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
                provider: canonical_provider_id(p),
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
            ModelRef::parse("modelstudio/qwen3.5-plus", &aliases)
                .unwrap()
                .provider,
            "dashscope-coding"
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
