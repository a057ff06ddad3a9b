//! Agent and account ids, normalised exactly as OpenClaw does (`src/routing/account-id.ts`,
//! `normalizeAgentId` in `src/routing/session-key.ts`; docs/openclaw-routing.md 2.1, 3.1):
//! lowercased, runs of characters outside `[a-z0-9_-]` become `-`, leading and trailing dashes
//! are dropped, at most 64 characters.
//!
//! DingTalk conversation and sender ids are *not* normalised here or anywhere: they are
//! case-sensitive (docs/dingtalk-protocol.md 3.2) and keep their case in session keys.

use std::sync::LazyLock;

use regex::Regex;

/// The account id used when a binding names none, and for a connector without `accounts`.
pub const DEFAULT_ACCOUNT_ID: &str = "default";

/// The agent id used when the roster is empty.
pub const DEFAULT_AGENT_ID: &str = "main";

/// The longest id OpenClaw keeps.
const MAX_ID_LEN: usize = 64;

// Both patterns are literals that compile; the unit tests below exercise them.
static VALID_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$").expect("literal regex"));
static INVALID_RUN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[^a-z0-9_-]+").expect("literal regex"));

/// Keys OpenClaw refuses because they would pollute a JavaScript object's prototype; kept so
/// that the same config gives the same ids in both implementations.
const BLOCKED_KEYS: [&str; 3] = ["__proto__", "prototype", "constructor"];

fn canonical(value: &str) -> String {
    let lower = value.to_lowercase();
    if VALID_ID.is_match(value) {
        return lower;
    }
    let replaced = INVALID_RUN.replace_all(&lower, "-");
    // OpenClaw trims only dashes: a leading underscore is part of a real id (`accounts._prod`).
    replaced
        .trim_matches('-')
        .chars()
        .take(MAX_ID_LEN)
        .collect()
}

/// Normalises an account id; empty or unusable ids become `default`.
pub fn normalize_account_id(value: &str) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return DEFAULT_ACCOUNT_ID.to_owned();
    }
    let c = canonical(trimmed);
    if c.is_empty()
        || BLOCKED_KEYS.contains(&trimmed.to_lowercase().as_str())
        || BLOCKED_KEYS.contains(&c.as_str())
    {
        return DEFAULT_ACCOUNT_ID.to_owned();
    }
    c
}

/// Normalises an agent id; empty or unusable ids become `main`.
pub fn normalize_agent_id(value: &str) -> String {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return DEFAULT_AGENT_ID.to_owned();
    }
    let c = canonical(trimmed);
    if c.is_empty() {
        DEFAULT_AGENT_ID.to_owned()
    } else {
        c
    }
}

/// True when an agent id is already in canonical form (used to warn about ids that change).
pub fn is_valid_id(value: &str) -> bool {
    VALID_ID.is_match(value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_follow_openclaw() {
        let cases = [
            ("", "default"),
            ("   ", "default"),
            ("Bot1", "bot1"),
            ("biz", "biz"),
            ("My Bot!", "my-bot"),
            ("--x--", "x"),
            ("_prod", "_prod"),
            ("a..b", "a-b"),
            ("__proto__", "default"),
            ("CONSTRUCTOR", "default"),
            ("!!!", "default"),
            ("钉钉", "default"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_account_id(input), want, "input {input:?}");
        }
        let long = "a".repeat(80);
        assert_eq!(normalize_account_id(&long).len(), 64);
    }

    #[test]
    fn agent_ids_follow_openclaw() {
        let cases = [
            ("", "main"),
            ("Ding-Bot1", "ding-bot1"),
            ("ding bot 2", "ding-bot-2"),
            ("!!!", "main"),
            (" Support ", "support"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_agent_id(input), want, "input {input:?}");
        }
        assert!(is_valid_id("ding-bot1"));
        assert!(!is_valid_id("ding bot"));
    }
}
