//! Memory search settings: 2026.3's `agents.defaults.memorySearch` / an agent's
//! `memorySearch`, and 2026.9's `memory.search` / an agent's `memory.search`
//! (docs/openclaw-agent.md 2.5). dingclaw searches by keywords (SQLite FTS5 with a
//! trigram tokenizer, so Chinese works); the embedding settings (`provider`, `remote`,
//! `model`, ...) are accepted and reported as not used.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use super::issue::{ConfigPath, Diagnostics};

/// The keys dingclaw reads; everything else in the object is reported once.
const READ: &[&str] = &["enabled", "extraPaths", "query"];

/// What a memory search setting becomes.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryConfig {
    /// Memory tools are offered.
    pub enabled: bool,
    /// More Markdown files or folders to index, relative to the workspace.
    pub extra_paths: Vec<PathBuf>,
    /// Results a search returns at most.
    pub max_results: usize,
    /// Least score (the share of the query's terms a chunk holds, 0-1) a result needs.
    pub min_score: f64,
}

impl Default for MemoryConfig {
    /// OpenClaw's defaults: 6 results, score at least 0.35.
    fn default() -> Self {
        Self {
            enabled: true,
            extra_paths: Vec::new(),
            max_results: 6,
            min_score: 0.35,
        }
    }
}

/// Lays `entry` (an object as written, at `at`) over `base`.
pub(crate) fn layer_memory(
    base: &MemoryConfig,
    entry: Option<&Value>,
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> MemoryConfig {
    let Some(entry) = entry else {
        return base.clone();
    };
    let Some(obj) = entry.as_object() else {
        diags.error(at.clone(), "must be an object");
        return base.clone();
    };
    let mut out = base.clone();
    let unused: Vec<&str> = obj
        .keys()
        .map(String::as_str)
        .filter(|k| !READ.contains(k))
        .collect();
    if !unused.is_empty() {
        diags.warn(
            at.clone(),
            format!(
                "ignored: {} (dingclaw's memory search is keyword search, FTS5 with a trigram tokenizer; no embeddings)",
                unused.join(", ")
            ),
        );
    }
    if let Some(v) = obj.get("enabled") {
        match v.as_bool() {
            Some(b) => out.enabled = b,
            None => diags.error(at.key("enabled"), "must be true or false"),
        }
    }
    if let Some(v) = obj.get("extraPaths") {
        match v
            .as_array()
            .map(|a| a.iter().map(Value::as_str).collect::<Option<Vec<_>>>())
        {
            Some(Some(paths)) => out.extra_paths = paths.into_iter().map(PathBuf::from).collect(),
            _ => diags.error(at.key("extraPaths"), "must be a list of paths"),
        }
    }
    if let Some(q) = obj.get("query").and_then(Value::as_object) {
        query(&mut out, q, &at.key("query"), diags);
    }
    out
}

fn query(out: &mut MemoryConfig, q: &Map<String, Value>, at: &ConfigPath, diags: &mut Diagnostics) {
    if let Some(v) = q.get("maxResults") {
        match v.as_u64() {
            Some(n) if n >= 1 => out.max_results = n.min(50) as usize,
            _ => diags.error(at.key("maxResults"), "must be a whole number from 1"),
        }
    }
    if let Some(v) = q.get("minScore") {
        match v.as_f64() {
            Some(s) if (0.0..=1.0).contains(&s) => out.min_score = s,
            _ => diags.error(at.key("minScore"), "must be between 0 and 1"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn known_keys_apply_and_embedding_keys_are_reported() {
        let mut d = Diagnostics::default();
        let m = layer_memory(
            &MemoryConfig::default(),
            Some(
                &json!({"enabled": true, "provider": "openai", "query": {"maxResults": 3, "minScore": 0.5}}),
            ),
            &ConfigPath::parse("agents.defaults.memorySearch"),
            &mut d,
        );
        assert_eq!((m.max_results, m.min_score), (3, 0.5));
        assert!(
            d.warnings[0].to_string().contains("ignored: provider"),
            "{:?}",
            d.warnings
        );
        let off = layer_memory(
            &m,
            Some(&json!({"enabled": false})),
            &ConfigPath::root(),
            &mut d,
        );
        assert!(!off.enabled);
        assert_eq!(off.max_results, 3, "layers keep what they do not set");
    }
}
