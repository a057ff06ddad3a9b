//! `agents.defaults.compaction` (docs/openclaw-agent.md 7.1-7.2): when a conversation's
//! context nears its model's window, older turns are summarised and the model sees the
//! summary and the recent turns instead.

use serde::{Deserialize, Serialize};

use super::issue::{ConfigPath, Diagnostics};

/// OpenClaw's floor under the room kept free for the answer.
pub const DEFAULT_RESERVE_TOKENS_FLOOR: u64 = 20_000;
/// The pi runtime's own reserve, raised to the floor.
pub const DEFAULT_RESERVE_TOKENS: u64 = 16_384;
/// Recent context kept word for word.
pub const DEFAULT_KEEP_RECENT_TOKENS: u64 = 20_000;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CompactionSection {
    /// `default` or `safeguard`: dingclaw's one summary prompt asks for safeguard's sections.
    pub mode: Option<String>,
    /// OpenClaw 2026.9: `false` turns automatic compaction off (`/compact` still works).
    pub enabled: Option<bool>,
    pub reserve_tokens: Option<u64>,
    pub reserve_tokens_floor: Option<u64>,
    pub keep_recent_tokens: Option<u64>,
    /// The model that writes summaries (`provider/model`); else the conversation's own.
    pub model: Option<String>,
}

/// The effective settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionConfig {
    /// Compaction runs (default true).
    pub enabled: bool,
    /// Tokens kept free below the model's window: compaction starts past `window - reserve`.
    pub reserve_tokens: u64,
    /// `keepRecentTokens`: the recent part never summarised.
    pub keep_recent_tokens: u64,
    /// `model`: a different summariser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        CompactionConfig {
            enabled: true,
            reserve_tokens: DEFAULT_RESERVE_TOKENS.max(DEFAULT_RESERVE_TOKENS_FLOOR),
            keep_recent_tokens: DEFAULT_KEEP_RECENT_TOKENS,
            model: None,
        }
    }
}

pub(crate) fn build_compaction(
    section: Option<&CompactionSection>,
    at: &ConfigPath,
    diags: &mut Diagnostics,
) -> CompactionConfig {
    let Some(s) = section else {
        return CompactionConfig::default();
    };
    if let Some(mode) = s.mode.as_deref()
        && !matches!(mode, "default" | "safeguard")
    {
        diags.error(
            at.key("mode"),
            format!("\"{mode}\" is not a compaction mode (default, safeguard)"),
        );
    }
    let floor = s
        .reserve_tokens_floor
        .unwrap_or(DEFAULT_RESERVE_TOKENS_FLOOR);
    CompactionConfig {
        enabled: s.enabled.unwrap_or(true),
        reserve_tokens: s
            .reserve_tokens
            .unwrap_or(DEFAULT_RESERVE_TOKENS)
            .max(floor),
        keep_recent_tokens: s
            .keep_recent_tokens
            .unwrap_or(DEFAULT_KEEP_RECENT_TOKENS)
            .max(1),
        model: s
            .model
            .as_deref()
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned),
    }
}
