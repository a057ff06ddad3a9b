//! The skills section of the system prompt: a short instruction, then `<available_skills>`
//! with each skill's name, description and `SKILL.md` location, XML-escaped. Over
//! `skills.limits.maxSkillsPromptChars`, descriptions are shortened, then dropped, and
//! skills past the budget are left out (names and locations matter most: the model can read
//! the file).

use super::discover::Skill;

const INTRO: &str = "## Skills (mandatory)\nBefore replying, scan the descriptions in <available_skills>. If exactly one skill clearly applies, read its SKILL.md at <location> with the `read` tool and follow it; resolve relative paths in it against the skill's folder. If none applies, do not read any. Never read more than one skill up front.";

/// Characters a description keeps when the full list does not fit.
const SHORT_DESCRIPTION: usize = 120;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn entry(s: &Skill, description: Option<usize>) -> String {
    let desc = match description {
        Some(n) if s.description.chars().count() > n => {
            let cut: String = s.description.chars().take(n).collect();
            format!("<description>{}…</description>", escape(&cut))
        }
        Some(_) => format!("<description>{}</description>", escape(&s.description)),
        None => String::new(),
    };
    format!(
        "<skill><name>{}</name>{desc}<location>{}</location></skill>",
        escape(&s.name),
        escape(&s.location.display().to_string())
    )
}

/// The section for `skills` (already filtered for the agent), or `None` when there are none.
pub fn prompt_block(skills: &[&Skill], max_skills: usize, max_chars: usize) -> Option<String> {
    let listed: Vec<&Skill> = skills
        .iter()
        .copied()
        .filter(|s| !s.model_hidden)
        .take(max_skills)
        .collect();
    if listed.is_empty() {
        return None;
    }
    for description in [Some(usize::MAX), Some(SHORT_DESCRIPTION), None] {
        let entries: Vec<String> = listed.iter().map(|s| entry(s, description)).collect();
        let body = entries.join("\n");
        if INTRO.len() + body.len() + 40 <= max_chars {
            return Some(format!(
                "{INTRO}\n<available_skills>\n{body}\n</available_skills>"
            ));
        }
    }
    // Even bare entries do not fit: keep as many as do.
    let mut body = String::new();
    for s in &listed {
        let e = entry(s, None);
        if INTRO.len() + body.len() + e.len() + 41 > max_chars {
            break;
        }
        body.push_str(&e);
        body.push('\n');
    }
    Some(format!(
        "{INTRO}\n<available_skills>\n{body}</available_skills>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skills::SkillSource;

    fn skill(name: &str, desc: &str) -> Skill {
        Skill {
            name: name.into(),
            description: desc.into(),
            location: format!("/skills/{name}/SKILL.md").into(),
            source: SkillSource::Workspace,
            key: name.into(),
            model_hidden: false,
            gating: serde_json::Value::Null,
        }
    }

    #[test]
    fn lists_escaped_skills_and_fits_the_budget() {
        let a = skill("weather", "Forecasts <and> \"alerts\"");
        let mut hidden = skill("secret", "x");
        hidden.model_hidden = true;
        let block = prompt_block(&[&a, &hidden], 150, 18_000).unwrap();
        assert!(block.contains("<skill><name>weather</name><description>Forecasts &lt;and&gt; &quot;alerts&quot;</description><location>/skills/weather/SKILL.md</location></skill>"));
        assert!(!block.contains("secret"));
        assert!(prompt_block(&[&hidden], 150, 18_000).is_none());

        let many: Vec<Skill> = (0..100)
            .map(|i| skill(&format!("s{i}"), &"d".repeat(400)))
            .collect();
        let refs: Vec<&Skill> = many.iter().collect();
        let block = prompt_block(&refs, 150, 18_000).unwrap();
        assert!(block.len() <= 18_000, "{}", block.len());
        assert!(block.contains("<name>s99</name>"), "names are kept first");
        let tiny = prompt_block(&refs, 150, 2_000).unwrap();
        assert!(tiny.len() <= 2_000 && tiny.contains("<name>s0</name>"));
        assert_eq!(
            prompt_block(&refs, 3, 18_000)
                .unwrap()
                .matches("<skill>")
                .count(),
            3
        );
    }
}
