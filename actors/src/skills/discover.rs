//! Finding skills: each root is searched up to six folder levels deep for `SKILL.md`, and a
//! folder holding one is not searched further. The same name from a higher root wins.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;

/// Folder levels searched under a root.
const MAX_DEPTH: usize = 6;

/// Where a skill was found, highest precedence first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkillSource {
    /// `<workspace>/skills`
    Workspace,
    /// `<workspace>/.agents/skills`
    WorkspaceAgents,
    /// `~/.agents/skills` (only with the default state folder, as OpenClaw 2026.9 does)
    Personal,
    /// `<stateDir>/skills`
    Managed,
    /// `skills.load.extraDirs`
    Extra,
}

/// A skill as its `SKILL.md` describes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skill {
    /// `name` in its front matter, else its folder's name.
    pub name: String,
    /// What the model reads to decide whether to use it.
    pub description: String,
    /// The `SKILL.md` file (absolute).
    pub location: PathBuf,
    /// Where it was found, which decides which of two skills of one name wins.
    pub source: SkillSource,
    /// `skills.entries` key: `metadata.openclaw.skillKey`, else the name.
    pub key: String,
    /// Hidden from the prompt list (`disable-model-invocation: true`).
    pub model_hidden: bool,
    /// `metadata.openclaw` (or the legacy `metadata.clawdbot`), for gating.
    #[serde(skip)]
    pub gating: Value,
}

impl Skill {
    /// The skill's folder.
    pub fn dir(&self) -> &Path {
        self.location.parent().unwrap_or(&self.location)
    }
}

/// The front matter keys dingclaw reads.
#[derive(Debug, Default, Deserialize)]
struct FrontMatter {
    name: Option<String>,
    description: Option<String>,
    #[serde(rename = "disable-model-invocation", default)]
    disable_model_invocation: Option<Value>,
    metadata: Option<Value>,
}

/// The roots searched for `agent_workspace`, highest precedence first.
pub fn roots(config: &Config, workspace: &Path) -> Vec<(SkillSource, PathBuf)> {
    let mut out = vec![
        (SkillSource::Workspace, workspace.join("skills")),
        (
            SkillSource::WorkspaceAgents,
            workspace.join(".agents/skills"),
        ),
    ];
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from)
        && config.state_dir == home.join(".openclaw")
    {
        out.push((SkillSource::Personal, home.join(".agents/skills")));
    }
    out.push((SkillSource::Managed, config.state_dir.join("skills")));
    for d in &config.skills.extra_dirs {
        out.push((SkillSource::Extra, d.clone()));
    }
    out
}

/// Every skill under the roots; a name found twice keeps its first (highest) source.
pub fn discover(config: &Config, workspace: &Path) -> Vec<Skill> {
    let limits = &config.skills;
    let mut out: Vec<Skill> = Vec::new();
    for (source, root) in roots(config, workspace) {
        let mut found = Vec::new();
        walk(&root, 0, limits.max_candidates_per_root, &mut found);
        for file in found {
            let Some(skill) = read_skill(&file, source, limits.max_skill_file_bytes) else {
                continue;
            };
            if !out.iter().any(|s| s.name == skill.name) {
                out.push(skill);
            }
        }
    }
    out
}

fn walk(dir: &Path, depth: usize, cap: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH || out.len() >= cap {
        return;
    }
    let file = dir.join("SKILL.md");
    if file.is_file() {
        out.push(file);
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    dirs.sort();
    for d in dirs {
        walk(&d, depth + 1, cap, out);
    }
}

/// Reads one `SKILL.md`; a file that is too big or has no description is skipped with a log
/// line (OpenClaw needs a description to list it).
fn read_skill(file: &Path, source: SkillSource, max_bytes: u64) -> Option<Skill> {
    let size = std::fs::metadata(file).ok()?.len();
    if size > max_bytes {
        tracing::warn!(file = %file.display(), size, max_bytes, "SKILL.md is over skills.limits.maxSkillFileBytes; skipped");
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let matter = gray_matter::Matter::<gray_matter::engine::YAML>::new();
    let fm: FrontMatter = match matter.parse::<FrontMatter>(&text) {
        Ok(parsed) => parsed.data.unwrap_or_default(),
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "SKILL.md front matter does not parse; skipped");
            return None;
        }
    };
    let dir_name = file
        .parent()
        .and_then(Path::file_name)
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = fm.name.filter(|n| !n.trim().is_empty()).unwrap_or(dir_name);
    let Some(description) = fm.description.filter(|d| !d.trim().is_empty()) else {
        tracing::warn!(file = %file.display(), "SKILL.md has no description; skipped");
        return None;
    };
    let gating = metadata(fm.metadata);
    let key = gating
        .get("skillKey")
        .and_then(Value::as_str)
        .map_or_else(|| name.clone(), str::to_owned);
    let model_hidden = match fm.disable_model_invocation {
        Some(Value::Bool(b)) => b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    Some(Skill {
        name: name.trim().to_owned(),
        description: description.trim().to_owned(),
        location: file.canonicalize().unwrap_or_else(|_| file.to_path_buf()),
        source,
        key,
        model_hidden,
        gating,
    })
}

/// `metadata.openclaw` (or `metadata.clawdbot`): a map in the YAML, or a JSON5 string.
fn metadata(raw: Option<Value>) -> Value {
    let raw = match raw {
        Some(Value::String(s)) => json5::from_str::<Value>(&s).unwrap_or(Value::Null),
        Some(v) => v,
        None => Value::Null,
    };
    raw.get("openclaw")
        .or_else(|| raw.get("clawdbot"))
        .cloned()
        .unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn write_skill(root: &Path, dir: &str, front: &str) {
        let d = root.join(dir);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("SKILL.md"),
            format!("---\n{front}\n---\n\nDo the thing.\n"),
        )
        .unwrap();
    }

    fn config(state: &Path) -> Config {
        let mut c = crate::config::empty_for_tests();
        c.state_dir = state.to_path_buf();
        c
    }

    #[test]
    fn finds_skills_by_precedence_and_reads_front_matter() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        let state = dir.path().join("state");
        write_skill(
            &ws.join("skills"),
            "weather",
            "name: weather\ndescription: Look up weather",
        );
        write_skill(
            &state.join("skills"),
            "weather",
            "name: weather\ndescription: Older copy",
        );
        write_skill(
            &state.join("skills"),
            "deep/nested/pdf",
            "description: Read PDFs\ndisable-model-invocation: true\nmetadata: '{ openclaw: { skillKey: \"pdf-tools\", requires: { bins: [\"pdftotext\"] } } }'",
        );
        write_skill(&ws.join("skills"), "broken", "name: [unclosed");
        write_skill(&ws.join("skills"), "nodesc", "name: nodesc");
        let skills = discover(&config(&state), &ws);
        let names: Vec<(&str, SkillSource)> =
            skills.iter().map(|s| (s.name.as_str(), s.source)).collect();
        assert_eq!(
            names,
            vec![
                ("weather", SkillSource::Workspace),
                ("pdf", SkillSource::Managed)
            ]
        );
        assert_eq!(skills[0].description, "Look up weather");
        let pdf = &skills[1];
        assert!(pdf.model_hidden);
        assert_eq!(pdf.key, "pdf-tools");
        assert_eq!(pdf.gating["requires"]["bins"][0], "pdftotext");
    }
}
