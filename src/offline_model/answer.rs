//! The offline model's deterministic answer: it names the agent (from the system prompt's
//! "You are ..."), the model, the turn number (user messages seen), echoes the last user
//! message and lists the user messages it saw, so a test can check each answer against its
//! own conversation and nothing else.

use serde_json::Value;

/// User messages listed in the answer's history line.
const HISTORY_SHOWN: usize = 8;

/// The persona named by a system prompt that starts "You are X, ..." or "You are X.".
pub fn persona(system: &str) -> &str {
    system
        .strip_prefix("You are ")
        .map(|rest| rest.split([',', '.', '\n']).next().unwrap_or(rest).trim())
        .filter(|p| !p.is_empty())
        .unwrap_or("assistant")
}

/// The answer to an OpenAI-style `messages` array.
pub fn answer(model: &str, messages: &[Value]) -> String {
    let text = |m: &Value| {
        m.get("content")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let system = messages
        .iter()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("system"))
        .map(text)
        .unwrap_or_default();
    let users: Vec<String> = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(text)
        .collect();
    let last = users.last().cloned().unwrap_or_default();
    let shown = &users[users.len().saturating_sub(HISTORY_SHOWN)..];
    format!(
        "[{} · {model} · turn {}] You said: {last}\nhistory: {}",
        persona(&system),
        users.len(),
        shown.join(" | ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_agent_model_turn_and_history() {
        let msgs = vec![
            json!({"role": "system", "content": "You are Service Assistant, a Customer Service assistant."}),
            json!({"role": "user", "content": "hi"}),
            json!({"role": "assistant", "content": "hello"}),
            json!({"role": "user", "content": "order 42?"}),
        ];
        assert_eq!(
            answer("qwen3.5-plus", &msgs),
            "[Service Assistant · qwen3.5-plus · turn 2] You said: order 42?\nhistory: hi | order 42?"
        );
        assert_eq!(persona("no persona here"), "assistant");
    }
}
