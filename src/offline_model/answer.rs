//! The offline model's deterministic answer: it names the agent (from the system prompt's
//! "You are ..."), the model, the turn number (user messages seen), echoes the last user
//! message and lists the user messages it saw, so a test can check each answer against its
//! own conversation and nothing else.
//!
//! Tools: when the request offers tools and the last user message is `/tool <name> [json
//! arguments]`, the answer is a call of that tool; once the tool's result is in the
//! conversation, the answer reports it.

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

/// What the model answers with.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Text(String),
    ToolCall { name: String, arguments: String },
}

/// The reply to a request: a tool call when asked for one (see the module comment), else
/// `answer`.
pub fn reply(model: &str, messages: &[Value], tools: &[Value]) -> Reply {
    let last = messages.last();
    let role = |m: &Value| {
        m.get("role")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    if let Some(m) = last.filter(|m| role(m) == "tool") {
        let result = m.get("content").and_then(Value::as_str).unwrap_or("");
        return Reply::Text(format!(
            "{}\ntool result: {result}",
            answer(model, messages)
        ));
    }
    let asked = last
        .filter(|m| role(m) == "user")
        .and_then(|m| m.get("content").and_then(Value::as_str))
        .and_then(|t| t.trim().strip_prefix("/tool "));
    if let Some(rest) = asked {
        let (name, args) = rest.trim().split_once(' ').unwrap_or((rest.trim(), "{}"));
        let offered = tools
            .iter()
            .any(|t| t.pointer("/function/name").and_then(Value::as_str) == Some(name));
        if offered {
            return Reply::ToolCall {
                name: name.to_owned(),
                arguments: args.trim().to_owned(),
            };
        }
    }
    Reply::Text(answer(model, messages))
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

    #[test]
    fn tool_calls_when_asked_and_offered_then_reports_the_result() {
        let tools = vec![json!({"type": "function", "function": {"name": "current_time"}})];
        let mut msgs =
            vec![json!({"role": "user", "content": "/tool current_time {\"timezone\": \"UTC\"}"})];
        assert_eq!(
            reply("m", &msgs, &tools),
            Reply::ToolCall {
                name: "current_time".into(),
                arguments: "{\"timezone\": \"UTC\"}".into()
            }
        );
        // Not offered: plain text.
        assert!(matches!(reply("m", &msgs, &[]), Reply::Text(_)));
        msgs.push(json!({"role": "tool", "tool_call_id": "c1", "content": "{\"now\":\"x\"}"}));
        match reply("m", &msgs, &tools) {
            Reply::Text(t) => assert!(t.ends_with("tool result: {\"now\":\"x\"}"), "{t}"),
            other => panic!("{other:?}"),
        }
    }
}
