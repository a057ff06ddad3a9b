//! The offline model's deterministic answer: it names the agent (from the system prompt's
//! "You are ..."), the model, the turn number (user messages seen), echoes the last user
//! message and lists the user messages it saw, so a test can check each answer against its
//! own conversation and nothing else.
//!
//! Tools: when the request offers tools and the last user message is `/tool <name> [json
//! arguments]`, the answer is a call of that tool; when it asks to "fetch" an http(s) address
//! and `web_fetch` is offered, a `web_fetch` call of that address (what a real model does with
//! "fetch https://... and tell me the forecast"). Once the tool's result is in the
//! conversation, the answer reports it: a fetched page's or search's text as text (never raw
//! JSON with its untrusted-content markers), other results as they are.

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
    /// Text.
    Text(String),
    /// A call of a tool.
    ToolCall {
        /// The tool.
        name: String,
        /// Its arguments, a JSON document in a string.
        arguments: String,
    },
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
            "{}\ntool result: {}",
            answer(model, messages),
            readable(result)
        ));
    }
    let offered = |name: &str| {
        tools
            .iter()
            .any(|t| t.pointer("/function/name").and_then(Value::as_str) == Some(name))
    };
    let asked = last
        .filter(|m| role(m) == "user")
        .and_then(|m| m.get("content").and_then(Value::as_str))
        .and_then(|t| {
            // In a group the gateway writes "<sender>: <text>".
            let t = t.trim();
            t.strip_prefix("/tool ")
                .or_else(|| t.split_once(": /tool ").map(|(_, rest)| rest))
        });
    if let Some(rest) = asked {
        let (name, args) = rest.trim().split_once(' ').unwrap_or((rest.trim(), "{}"));
        if offered(name) {
            return Reply::ToolCall {
                name: name.to_owned(),
                arguments: args.trim().to_owned(),
            };
        }
    }
    let wants_fetch = last
        .filter(|m| role(m) == "user")
        .and_then(|m| m.get("content").and_then(Value::as_str))
        .filter(|t| t.to_lowercase().contains("fetch"))
        .and_then(first_url);
    if let Some(url) = wants_fetch.filter(|_| offered("web_fetch")) {
        return Reply::ToolCall {
            name: "web_fetch".to_owned(),
            arguments: serde_json::json!({"url": url}).to_string(),
        };
    }
    Reply::Text(answer(model, messages))
}

/// A call of `current_time` while the turn (the messages after the last user message) has
/// had fewer than `rounds` tool results, when that tool is offered.
pub fn rounds_left(messages: &[Value], tools: &[Value], rounds: u32) -> Option<Reply> {
    const TOOL: &str = "current_time";
    let role = |m: &Value| m.get("role").and_then(Value::as_str) == Some("tool");
    let done = messages
        .iter()
        .rev()
        .take_while(|m| m.get("role").and_then(Value::as_str) != Some("user"))
        .filter(|m| role(m))
        .count();
    let offered = tools
        .iter()
        .any(|t| t.pointer("/function/name").and_then(Value::as_str) == Some(TOOL));
    (offered && (done as u32) < rounds).then(|| Reply::ToolCall {
        name: TOOL.to_owned(),
        arguments: "{}".to_owned(),
    })
}

/// The first http(s) address in `text`.
fn first_url(text: &str) -> Option<String> {
    let at = text.find("http://").or_else(|| text.find("https://"))?;
    let url: String = text[at..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '<' | '>' | '，' | '。'))
        .collect();
    Some(url.trim_end_matches(['.', ',', ')', ';']).to_owned())
}

/// A tool result as a person would want it read: a page's text without the markers around
/// it, search results as lines, an error as a sentence; anything else as it came.
fn readable(result: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(result) else {
        return result.to_owned();
    };
    if let Some(text) = v.get("text").and_then(Value::as_str) {
        let source = v
            .get("finalUrl")
            .or_else(|| v.get("url"))
            .and_then(Value::as_str);
        let body = dingclaw_actors::tools::untrusted::unwrap(text).trim();
        return match source {
            Some(u) => format!("{u}\n{body}"),
            None => body.to_owned(),
        };
    }
    if v.get("kind").and_then(Value::as_str) == Some("answer")
        && let Some(content) = v.get("content").and_then(Value::as_str)
    {
        return dingclaw_actors::tools::untrusted::unwrap(content)
            .trim()
            .to_owned();
    }
    if let Some(results) = v.get("results").and_then(Value::as_array)
        && v.get("query").is_some()
    {
        let lines: Vec<String> = results
            .iter()
            .map(|r| {
                let field = |k: &str| {
                    r.get(k)
                        .and_then(Value::as_str)
                        .map(|s| {
                            dingclaw_actors::tools::untrusted::unwrap(s)
                                .trim()
                                .to_owned()
                        })
                        .unwrap_or_default()
                };
                format!("- {} ({})", field("title"), field("url"))
            })
            .collect();
        return lines.join("\n");
    }
    result.to_owned()
}

/// A message's text: its `content` string, or the text parts of a content array.
fn content_text(m: &Value) -> String {
    match m.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The pictures of a message (`image_url` parts with data URLs): type, bytes, SHA-256.
fn images_of(m: &Value) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let Some(Value::Array(parts)) = m.get("content") else {
        return Vec::new();
    };
    parts
        .iter()
        .filter_map(|p| p.pointer("/image_url/url").and_then(Value::as_str))
        .map(|url| {
            let (head, data) = url.split_once(',').unwrap_or(("", url));
            let mime = head
                .strip_prefix("data:")
                .and_then(|h| h.split(';').next())
                .unwrap_or("?");
            match base64::engine::general_purpose::STANDARD.decode(data) {
                Ok(bytes) => {
                    let hash: String = Sha256::digest(&bytes)
                        .iter()
                        .take(8)
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    format!("{mime} {} bytes sha256:{hash}", bytes.len())
                }
                Err(_) => format!("{mime} (not base64)"),
            }
        })
        .collect()
}

/// `<file name="...">...</file>` blocks of a text: each name and the characters inside.
fn files_of(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<file name=\"") {
        let after = &rest[start + 12..];
        let name = after.split('"').next().unwrap_or("");
        let Some(body_start) = after.find(">\n") else {
            break;
        };
        let body = &after[body_start + 2..];
        let end = body.find("\n</file>").unwrap_or(body.len());
        out.push(format!("{name} {} chars", body[..end].chars().count()));
        rest = &body[end..];
    }
    out
}

/// The system prompt of a request (empty without one).
fn system_prompt(messages: &[Value]) -> String {
    messages
        .iter()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("system"))
        .map(content_text)
        .unwrap_or_default()
}

/// Whether a request is the gateway's compaction asking for a summary.
pub fn is_summary_request(messages: &[Value]) -> bool {
    system_prompt(messages).contains("running summary")
}

/// The answer to an OpenAI-style `messages` array. When the newest user message carries
/// pictures or files, a line says what reached the model: each picture's type, size and
/// hash, each file's extracted length.
pub fn answer(model: &str, messages: &[Value]) -> String {
    let system = system_prompt(messages);
    let user_messages: Vec<&Value> = messages
        .iter()
        .filter(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .collect();
    let users: Vec<String> = user_messages.iter().map(|m| content_text(m)).collect();
    let last = users.last().cloned().unwrap_or_default();
    // A summarising call (the gateway's compaction): a short summary a test can recognise.
    if system.contains("running summary") {
        let lines = last.lines().filter(|l| l.contains(": ")).count();
        let first: String = last
            .lines()
            .find(|l| l.contains(": "))
            .unwrap_or_default()
            .chars()
            .take(60)
            .collect();
        return format!("[summary · {model}] {lines} lines; it began with \"{first}\"");
    }
    let shown = &users[users.len().saturating_sub(HISTORY_SHOWN)..];
    let mut out = format!(
        "[{} · {model} · turn {}] You said: {last}\nhistory: {}",
        persona(&system),
        users.len(),
        shown.join(" | ")
    );
    if let Some(m) = user_messages.last() {
        let images = images_of(m);
        if !images.is_empty() {
            out.push_str(&format!("\nimages: {}", images.join("; ")));
        }
        let files = files_of(&last);
        if !files.is_empty() {
            out.push_str(&format!("\nfiles: {}", files.join("; ")));
        }
    }
    out
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
        let fetch = vec![json!({"type": "function", "function": {"name": "web_fetch"}})];
        let ask = vec![
            json!({"role": "user", "content": "Fetch http://127.0.0.1:9/weather and report."}),
        ];
        assert_eq!(
            reply("m", &ask, &fetch),
            Reply::ToolCall {
                name: "web_fetch".into(),
                arguments: "{\"url\":\"http://127.0.0.1:9/weather\"}".into()
            }
        );
        assert!(
            matches!(reply("m", &ask, &tools), Reply::Text(_)),
            "not offered"
        );
        let page = json!({"url": "http://x/", "text": dingclaw_actors::tools::untrusted::wrap("web_fetch", "北京 晴")});
        assert_eq!(readable(&page.to_string()), "http://x/\n北京 晴");
        match reply("m", &msgs, &tools) {
            Reply::Text(t) => assert!(t.ends_with("tool result: {\"now\":\"x\"}"), "{t}"),
            other => panic!("{other:?}"),
        }
    }
}
