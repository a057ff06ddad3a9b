//! The failure script: behaviours queued for the next requests, so tests and the load
//! benchmark can make the offline model fail the way real providers do (rate limits, server
//! errors, hangs, broken streams) or answer with a tool call. Set in process with
//! `OfflineModel::script`, or over HTTP with `POST /offline/script`.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::Value;

/// One scripted behaviour, written flat: `{"do": "fail", "status": 429, "retryAfter": 1,
/// "model": "m", "times": 2}`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(try_from = "RawStep")]
pub struct Step {
    /// Only requests for this model; any model when unset.
    pub model: Option<String>,
    /// How many matching requests it applies to (default 1).
    pub times: Option<u32>,
    /// What happens.
    pub action: Action,
}

/// What happens to a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Answer with this HTTP status and an OpenAI-style error body; `retry_after` in seconds.
    Fail {
        /// The HTTP status.
        status: u16,
        /// `Retry-After`, in seconds.
        retry_after: Option<u64>,
        /// The error's message.
        message: Option<String>,
    },
    /// Wait this long before answering normally (a slow or hung provider).
    Delay {
        /// How long.
        ms: u64,
    },
    /// Stream the first part of the answer, then go quiet for this long before closing.
    Stall {
        /// How long.
        ms: u64,
    },
    /// Stream part of the answer and close without finishing it.
    Truncate,
    /// Stream an event that is not JSON.
    Malformed,
    /// Answer with a call of this tool.
    ToolCall {
        /// The tool.
        name: String,
        /// Its arguments.
        arguments: Value,
    },
    /// Answer with this text.
    Text {
        /// The text.
        text: String,
    },
}

/// The wire form: every key of every action, each checked against the action named.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawStep {
    #[serde(rename = "do")]
    kind: String,
    model: Option<String>,
    times: Option<u32>,
    status: Option<u16>,
    retry_after: Option<u64>,
    message: Option<String>,
    ms: Option<u64>,
    name: Option<String>,
    arguments: Option<Value>,
    text: Option<String>,
}

impl TryFrom<RawStep> for Step {
    type Error = String;

    fn try_from(r: RawStep) -> Result<Step, String> {
        let need = |what: &str| format!("\"do\": \"{}\" needs \"{what}\"", r.kind);
        let action = match r.kind.as_str() {
            "fail" => Action::Fail {
                status: r
                    .status
                    .filter(|s| (400..600).contains(s))
                    .ok_or_else(|| need("status (400-599)"))?,
                retry_after: r.retry_after,
                message: r.message,
            },
            "delay" => Action::Delay {
                ms: r.ms.ok_or_else(|| need("ms"))?,
            },
            "stall" => Action::Stall {
                ms: r.ms.ok_or_else(|| need("ms"))?,
            },
            "truncate" => Action::Truncate,
            "malformed" => Action::Malformed,
            "toolCall" => Action::ToolCall {
                name: r.name.ok_or_else(|| need("name"))?,
                arguments: r
                    .arguments
                    .unwrap_or_else(|| Value::Object(Default::default())),
            },
            "text" => Action::Text {
                text: r.text.ok_or_else(|| need("text"))?,
            },
            other => {
                return Err(format!(
                    "unknown \"do\": \"{other}\" (fail, delay, stall, truncate, malformed, toolCall, text)"
                ));
            }
        };
        Ok(Step {
            model: r.model,
            times: r.times,
            action,
        })
    }
}

/// The queue of steps; the first that matches a request is used.
#[derive(Default)]
pub struct Script {
    steps: Mutex<VecDeque<(Step, u32)>>,
}

impl Script {
    /// Queues `steps` after those already queued.
    pub fn push(&self, steps: impl IntoIterator<Item = Step>) {
        let mut q = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        for s in steps {
            let times = s.times.unwrap_or(1).max(1);
            q.push_back((s, times));
        }
    }

    /// Forgets every step.
    pub fn clear(&self) {
        self.steps.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Steps queued.
    pub fn len(&self) -> usize {
        self.steps.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// No step is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The action for a request to `model`, used up by one.
    pub fn take(&self, model: &str) -> Option<Action> {
        let mut q = self.steps.lock().unwrap_or_else(|p| p.into_inner());
        let i = q
            .iter()
            .position(|(s, _)| s.model.as_deref().is_none_or(|m| m == model))?;
        let (step, left) = q.get_mut(i)?;
        let action = step.action.clone();
        *left -= 1;
        if *left == 0 {
            q.remove(i);
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn steps_match_by_model_and_are_used_up() {
        let script = Script::default();
        let steps: Vec<Step> = serde_json::from_value(json!([
            {"do": "fail", "status": 429, "retryAfter": 1, "model": "a", "times": 2},
            {"do": "text", "text": "hello"},
        ]))
        .unwrap();
        script.push(steps);
        assert_eq!(
            script.take("b"),
            Some(Action::Text {
                text: "hello".into()
            })
        );
        assert!(matches!(
            script.take("a"),
            Some(Action::Fail { status: 429, .. })
        ));
        assert!(matches!(
            script.take("a"),
            Some(Action::Fail { status: 429, .. })
        ));
        assert_eq!(script.take("a"), None);
        assert!(script.is_empty());
    }

    #[test]
    fn unknown_actions_are_refused() {
        assert!(serde_json::from_value::<Step>(json!({"do": "explode"})).is_err());
        assert!(serde_json::from_value::<Step>(json!({"do": "fail"})).is_err());
        assert!(serde_json::from_value::<Step>(json!({"do": "truncate", "bogus": 1})).is_err());
    }
}
