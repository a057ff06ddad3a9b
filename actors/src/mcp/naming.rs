//! Tool names as the model sees them, OpenClaw's way (docs/openclaw-agent.md 3.4):
//! `<server>__<tool>`, the tool part made safe like the server part (prefix `tool-`), the
//! whole name at most 64 characters, collisions within a server numbered `-2`, `-3`, ...

use crate::config::mcp::safe_name;

/// The longest tool name a model API accepts.
const MAX_NAME: usize = 64;

/// The model names of a server's tools, in order.
pub fn tool_names(prefix: &str, tools: &[&str]) -> Vec<String> {
    let room = MAX_NAME.saturating_sub(prefix.len() + 2).max(1);
    let mut out: Vec<String> = Vec::with_capacity(tools.len());
    for t in tools {
        let base = safe_name(t, "tool-", room);
        let mut part = base.clone();
        let mut n = 1;
        while out.iter().any(|o| o == &format!("{prefix}__{part}")) {
            n += 1;
            let suffix = format!("-{n}");
            part = format!(
                "{}{suffix}",
                base.chars()
                    .take(room.saturating_sub(suffix.len()))
                    .collect::<String>()
            );
        }
        out.push(format!("{prefix}__{part}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_bounded_and_distinct() {
        let long = "x".repeat(100);
        let names = tool_names(
            "Outlook-Graph",
            &["search mail", "search/mail", "9-lives", &long],
        );
        assert_eq!(names[0], "Outlook-Graph__search-mail");
        assert_eq!(names[1], "Outlook-Graph__search-mail-2");
        assert_eq!(names[2], "Outlook-Graph__tool-9-lives");
        assert_eq!(names[3].len(), 64);
        assert!(names.iter().all(|n| {
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }));
    }
}
