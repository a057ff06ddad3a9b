//! Which skills an agent sees: the agent's list (omitted = all, `[]` = none), then
//! `skills.entries.<key>.enabled`, then the skill's own requirements (`requires.bins`,
//! `anyBins`, `env`, `os`), unless it says `always`.

use serde::Serialize;
use serde_json::Value;

use super::discover::Skill;
use crate::config::{Agent, Config};

/// Whether a skill is offered, and why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reason", rename_all = "kebab-case")]
pub enum Eligibility {
    /// Offered to the agent.
    Eligible,
    /// Not in the agent's `skills` list.
    NotListed,
    /// `skills.entries.<key>.enabled: false`.
    Disabled,
    /// A requirement is missing (which one).
    Missing(String),
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Is `bin` an executable file on `PATH`?
fn on_path(bin: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| {
        let f = d.join(bin);
        f.is_file() && is_executable(&f)
    })
}

#[cfg(unix)]
fn is_executable(f: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(f).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &std::path::Path) -> bool {
    true
}

/// Why `skill` is or is not offered to `agent`.
pub fn eligibility(skill: &Skill, agent: &Agent, config: &Config) -> Eligibility {
    if let Some(list) = &agent.skills
        && !list.iter().any(|n| n == &skill.name || n == &skill.key)
    {
        return Eligibility::NotListed;
    }
    let entry = config.skills.entries.get(&skill.key);
    if entry.and_then(|e| e.enabled) == Some(false) {
        return Eligibility::Disabled;
    }
    let g = &skill.gating;
    if g.get("always").and_then(Value::as_bool) == Some(true) {
        return Eligibility::Eligible;
    }
    let os = strings(g.get("os"));
    let here = match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    };
    if !os.is_empty() && !os.iter().any(|o| o == here) {
        return Eligibility::Missing(format!("os {}", os.join("|")));
    }
    let requires = g.get("requires");
    for bin in strings(requires.and_then(|r| r.get("bins"))) {
        if !on_path(&bin) {
            return Eligibility::Missing(format!("command {bin}"));
        }
    }
    let any = strings(requires.and_then(|r| r.get("anyBins")));
    if !any.is_empty() && !any.iter().any(|b| on_path(b)) {
        return Eligibility::Missing(format!("one of {}", any.join(", ")));
    }
    let primary = g.get("primaryEnv").and_then(Value::as_str);
    for var in strings(requires.and_then(|r| r.get("env"))) {
        let configured = entry.is_some_and(|e| {
            e.env.contains_key(&var) || (primary == Some(var.as_str()) && e.api_key.is_some())
        });
        if !configured && std::env::var_os(&var).is_none() {
            return Eligibility::Missing(format!("environment variable {var}"));
        }
    }
    Eligibility::Eligible
}

/// The skills `agent` sees, in precedence order.
pub fn for_agent<'a>(skills: &'a [Skill], agent: &Agent, config: &Config) -> Vec<&'a Skill> {
    skills
        .iter()
        .filter(|s| eligibility(s, agent, config) == Eligibility::Eligible)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skills::discover::SkillSource;
    use serde_json::json;

    fn skill(name: &str, gating: Value) -> Skill {
        Skill {
            name: name.into(),
            description: "d".into(),
            location: "/s/SKILL.md".into(),
            source: SkillSource::Workspace,
            key: name.into(),
            model_hidden: false,
            gating,
        }
    }

    #[test]
    fn lists_entries_and_requirements_gate_skills() {
        let mut config = crate::config::empty_for_tests();
        let agent = Agent::new("a", "/tmp/ws");
        assert_eq!(
            eligibility(&skill("x", Value::Null), &agent, &config),
            Eligibility::Eligible
        );
        let needs_bin = skill(
            "y",
            json!({"requires": {"bins": ["no-such-binary-dingclaw"]}}),
        );
        assert!(matches!(
            eligibility(&needs_bin, &agent, &config),
            Eligibility::Missing(_)
        ));
        let always = skill(
            "z",
            json!({"always": true, "requires": {"bins": ["no-such-binary-dingclaw"]}}),
        );
        assert_eq!(eligibility(&always, &agent, &config), Eligibility::Eligible);
        let needs_env = skill(
            "w",
            json!({"requires": {"env": ["DINGCLAW_TEST_NO_SUCH_VAR"]}}),
        );
        assert!(matches!(
            eligibility(&needs_env, &agent, &config),
            Eligibility::Missing(_)
        ));
        config.skills.entries.insert(
            "w".into(),
            crate::config::SkillSettings {
                env: [(
                    "DINGCLAW_TEST_NO_SUCH_VAR".to_owned(),
                    crate::config::Secret::new("v"),
                )]
                .into_iter()
                .collect(),
                ..Default::default()
            },
        );
        assert_eq!(
            eligibility(&needs_env, &agent, &config),
            Eligibility::Eligible
        );
        config.skills.entries.insert(
            "x".into(),
            crate::config::SkillSettings {
                enabled: Some(false),
                ..Default::default()
            },
        );
        assert_eq!(
            eligibility(&skill("x", Value::Null), &agent, &config),
            Eligibility::Disabled
        );
        let mut listed = agent.clone();
        listed.skills = Some(vec!["w".into()]);
        assert_eq!(
            eligibility(&always, &listed, &config),
            Eligibility::NotListed
        );
        listed.skills = Some(vec![]);
        assert_eq!(
            eligibility(&needs_env, &listed, &config),
            Eligibility::NotListed
        );
    }
}
