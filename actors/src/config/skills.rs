//! `skills`: where skills are found besides the workspace, which are on, their limits, and the
//! variables a skill's commands get (docs/openclaw-agent.md 4.4). An agent's own
//! `skills: [...]` list (or `agents.defaults.skills`) chooses among them.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::environment::{Environment, expand_home};
use super::issue::{ConfigPath, Diagnostics};
use super::secret::{Secret, SecretInput, resolve_secret};
use super::substitute::Unresolved;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillsSection {
    pub load: Option<SkillsLoadEntry>,
    pub limits: Option<SkillsLimitsEntry>,
    /// Per skill (by its key, usually its name): `{enabled, apiKey, env, config}`.
    pub entries: Option<IndexMap<String, SkillEntry>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillsLoadEntry {
    /// More folders to look in, after the workspace's and the state directory's.
    pub extra_dirs: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillsLimitsEntry {
    pub max_candidates_per_root: Option<usize>,
    pub max_skills_in_prompt: Option<usize>,
    pub max_skills_prompt_chars: Option<usize>,
    pub max_skill_file_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillEntry {
    pub enabled: Option<bool>,
    /// Set as the skill's `primaryEnv` variable for the commands it runs.
    pub api_key: Option<SecretInput>,
    /// Variables for the commands it runs.
    pub env: Option<IndexMap<String, SecretInput>>,
    /// The skill's own settings (`requires.config` checks them).
    pub config: Option<serde_json::Value>,
}

/// The effective `skills` settings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillsConfig {
    /// `load.extraDirs`: more folders to look in.
    pub extra_dirs: Vec<PathBuf>,
    /// `limits.maxCandidatesPerRoot`.
    pub max_candidates_per_root: usize,
    /// `limits.maxSkillsInPrompt` (150).
    pub max_skills_in_prompt: usize,
    /// `limits.maxSkillsPromptChars` (18,000).
    pub max_skills_prompt_chars: usize,
    /// `limits.maxSkillFileBytes`.
    pub max_skill_file_bytes: u64,
    /// `entries.<key>`.
    pub entries: IndexMap<String, SkillSettings>,
}

impl Default for SkillsConfig {
    /// OpenClaw 2026.3's limits, except the prompt budget, 2026.9's 18 000 characters.
    fn default() -> Self {
        Self {
            extra_dirs: Vec::new(),
            max_candidates_per_root: 300,
            max_skills_in_prompt: 150,
            max_skills_prompt_chars: 18_000,
            max_skill_file_bytes: 256_000,
            entries: IndexMap::new(),
        }
    }
}

/// `skills.entries.<key>`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillSettings {
    /// `enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `apiKey`, given to its commands as its primary variable (never shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// `env`, given to its commands (never shown).
    pub env: IndexMap<String, Secret>,
    /// `config`, for the skill's own use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
}

pub(crate) fn build_skills(
    section: Option<&SkillsSection>,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> SkillsConfig {
    let d = SkillsConfig::default();
    let Some(s) = section else { return d };
    let at = ConfigPath::root().key("skills");
    let limits = s.limits.as_ref();
    let mut entries = IndexMap::new();
    for (key, e) in s.entries.iter().flatten() {
        let path = at.key("entries").key(key);
        let secret = |input: &SecretInput, p: ConfigPath| {
            resolve_secret(input, &p, env, unresolved).into_secret()
        };
        entries.insert(
            key.clone(),
            SkillSettings {
                enabled: e.enabled,
                api_key: e
                    .api_key
                    .as_ref()
                    .map(|k| secret(k, path.key("apiKey")))
                    .filter(|k| !k.is_empty()),
                env: e
                    .env
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), secret(v, path.key("env").key(k))))
                    .collect(),
                config: e.config.clone(),
            },
        );
    }
    if s.load
        .as_ref()
        .and_then(|l| l.extra_dirs.as_ref())
        .is_some_and(|d| d.iter().any(|p| p.trim().is_empty()))
    {
        diags.error(at.key("load").key("extraDirs"), "an empty folder name");
    }
    SkillsConfig {
        extra_dirs: s
            .load
            .as_ref()
            .and_then(|l| l.extra_dirs.as_ref())
            .map(|dirs| {
                dirs.iter()
                    .filter(|p| !p.trim().is_empty())
                    .map(|p| expand_home(p, env))
                    .collect()
            })
            .unwrap_or_default(),
        max_candidates_per_root: limits
            .and_then(|l| l.max_candidates_per_root)
            .unwrap_or(d.max_candidates_per_root),
        max_skills_in_prompt: limits
            .and_then(|l| l.max_skills_in_prompt)
            .unwrap_or(d.max_skills_in_prompt),
        max_skills_prompt_chars: limits
            .and_then(|l| l.max_skills_prompt_chars)
            .unwrap_or(d.max_skills_prompt_chars),
        max_skill_file_bytes: limits
            .and_then(|l| l.max_skill_file_bytes)
            .unwrap_or(d.max_skill_file_bytes),
        entries,
    }
}
