//! Skills, as OpenClaw has them: a folder with a `SKILL.md` whose front matter names and
//! describes it. The model sees the list of eligible skills in its system prompt and loads
//! one by reading its `SKILL.md` with `read` (docs/openclaw-agent.md 4).
//!
//! - `discover`: where skills are found, and what a `SKILL.md` says.
//! - `eligible`: which of them an agent sees (gating, `skills.entries`, the agent's list).
//! - `prompt`: the `<available_skills>` block, within the prompt budget.

mod discover;
mod eligible;
mod prompt;

pub use discover::{Skill, SkillSource, discover, roots};
pub use eligible::{Eligibility, eligibility, for_agent};
pub use prompt::prompt_block;
