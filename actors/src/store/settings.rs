//! What a person set for their session from the chat (`/model`, `/think`, `/queue`, `/usage`).
//! Kept with the session's index row, so a gateway restart or the session leaving memory
//! does not undo it, and carried over by `/new` as OpenClaw carries its session settings.

use serde::{Deserialize, Serialize};

/// What was set from the chat for one conversation (`/model`, `/think`, `/queue`, `/usage`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSettings {
    /// `provider/model` (or an alias) that answers instead of the agent's primary model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Reasoning effort: `off`, `low`, `medium`, `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think: Option<String>,
    /// `followup` or `collect`, instead of `messages.queue.mode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// Usage line under each answer: `tokens` or `full` (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<String>,
}

impl SessionSettings {
    /// Nothing was set.
    pub fn is_empty(&self) -> bool {
        self == &SessionSettings::default()
    }

    /// As stored: `None` when nothing was set.
    pub fn to_json(&self) -> Option<String> {
        (!self.is_empty()).then(|| serde_json::to_string(self).unwrap_or_default())
    }

    /// A row that does not parse loses its settings, never the session.
    pub fn from_json(text: Option<&str>) -> SessionSettings {
        text.and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_bad_rows() {
        let s = SessionSettings {
            model: Some("dashscope/qwen-max".into()),
            think: Some("high".into()),
            ..SessionSettings::default()
        };
        assert_eq!(SessionSettings::from_json(s.to_json().as_deref()), s);
        assert_eq!(SessionSettings::default().to_json(), None);
        assert!(SessionSettings::from_json(Some("{not json")).is_empty());
    }
}
