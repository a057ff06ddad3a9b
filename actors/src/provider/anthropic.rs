//! The Anthropic Messages protocol (`POST {baseUrl}/v1/messages`), spoken by MiniMax, Kimi
//! Coding and Anthropic among the catalogue's providers, with tool calling: the model's calls
//! come back as `tool_use` blocks (streamed as `input_json_delta` pieces), and their results
//! go back as `tool_result` blocks in a user message. The protocol wants user and assistant
//! turns to alternate, so consecutive messages of one side are merged.

use serde_json::{Map, Value, json};

use crate::config::ProviderConfig;

use super::chat::{ChatMessage, ChatRequest, ChatRole, Completion, StreamSink, ToolCall, Usage};
use super::error::ProviderError;
use super::http::{Events, post, read_body};

/// The API version header every call carries.
pub(super) const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Answer length asked for (the API requires one).
const MAX_TOKENS: u32 = 4096;

/// The content blocks of one message.
fn blocks(m: &ChatMessage) -> Vec<Value> {
    let mut out = Vec::new();
    match m.role {
        ChatRole::Tool => out.push(json!({
            "type": "tool_result",
            "tool_use_id": m.tool_call_id.as_deref().unwrap_or_default(),
            "content": m.content,
        })),
        _ => {
            for i in m.images.iter() {
                if let Some(data) = &i.data {
                    out.push(json!({"type": "image", "source": {
                        "type": "base64", "media_type": i.mime, "data": data.as_ref()}}));
                }
            }
            if !m.content.is_empty() {
                out.push(json!({"type": "text", "text": m.content}));
            }
            for c in &m.tool_calls {
                // The model wrote the arguments; anything but an object goes back as `{}`
                // (the API refuses other inputs), and the tool already answered with an error.
                let input = serde_json::from_str::<Value>(&c.arguments)
                    .ok()
                    .filter(Value::is_object)
                    .unwrap_or_else(|| json!({}));
                out.push(json!({"type": "tool_use", "id": c.id, "name": c.name, "input": input}));
            }
        }
    }
    out
}

/// The conversation as alternating user and assistant messages of content blocks.
fn messages(req: &ChatRequest) -> Vec<Value> {
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let role = match m.role {
            ChatRole::System => continue,
            ChatRole::User | ChatRole::Tool => "user",
            ChatRole::Assistant => "assistant",
        };
        let content = blocks(m);
        if content.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((r, existing)) if *r == role => existing.extend(content),
            _ => out.push((role, content)),
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

/// The Anthropic request for `req` (system prompt apart, tool results as user blocks).
pub fn request_body(req: &ChatRequest, stream: bool) -> Value {
    let system: Vec<&str> = req
        .messages
        .iter()
        .filter(|m| m.role == ChatRole::System)
        .map(|m| m.content.as_str())
        .collect();
    let mut body = Map::new();
    for (k, v) in &req.params {
        body.insert(k.clone(), v.clone());
    }
    body.insert("model".into(), json!(req.model));
    body.entry("max_tokens").or_insert(json!(MAX_TOKENS));
    body.insert("system".into(), json!(system.join("\n\n")));
    body.insert("messages".into(), Value::Array(messages(req)));
    body.insert("stream".into(), json!(stream));
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    Value::Object(body)
}

/// A `tool_use` block being streamed: its input arrives in JSON pieces.
struct PendingCall {
    index: u64,
    id: String,
    name: String,
    input: String,
}

/// Calls an Anthropic-messages endpoint (Kimi Coding, MiniMax), streaming when `stream` is given.
pub async fn call(
    http: &awc::Client,
    p: &ProviderConfig,
    req: &ChatRequest,
    sink: Option<&StreamSink>,
) -> Result<Completion, ProviderError> {
    let stream = sink.is_some() && p.streaming;
    let mut request = http
        .post(format!("{}/v1/messages", p.base_url))
        .insert_header(("anthropic-version", ANTHROPIC_VERSION));
    if let Some(key) = &p.api_key {
        request = request.insert_header(("x-api-key", key.expose()));
    }
    let mut answer = post(request, p, &request_body(req, stream)).await?;
    let protocol = |message: String| ProviderError::Protocol {
        provider: p.id.clone(),
        message,
    };
    if !stream {
        let v = read_body(&mut answer, &p.id).await?;
        return parse_answer(&v, &req.model).map_err(protocol);
    }
    let mut events = Events::new(answer, p);
    let mut c = Completion {
        model: req.model.clone(),
        ..Completion::default()
    };
    let mut stopped = false;
    let mut calls: Vec<PendingCall> = Vec::new();
    while let Some(event) = events.next().await? {
        let v: Value = serde_json::from_str(&event.data)
            .map_err(|e| protocol(format!("malformed event: {e}")))?;
        match v.get("type").and_then(Value::as_str) {
            Some("message_start") => {
                c.usage.prompt_tokens = v
                    .pointer("/message/usage/input_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
            }
            Some("content_block_start") => {
                let block = v.get("content_block").unwrap_or(&Value::Null);
                if block.get("type").and_then(Value::as_str) == Some("tool_use") {
                    let field = |k: &str| {
                        block
                            .get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    calls.push(PendingCall {
                        index: v.get("index").and_then(Value::as_u64).unwrap_or(0),
                        id: field("id"),
                        name: field("name"),
                        input: String::new(),
                    });
                }
            }
            Some("content_block_delta") => {
                let delta = v.get("delta").unwrap_or(&Value::Null);
                if let Some(text) = delta.get("text").and_then(Value::as_str) {
                    c.text.push_str(text);
                    if let Some(sink) = sink {
                        sink.send_modify(|t| t.push_str(text));
                    }
                } else if let Some(piece) = delta.get("partial_json").and_then(Value::as_str) {
                    let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                    if let Some(call) = calls.iter_mut().rev().find(|p| p.index == index) {
                        call.input.push_str(piece);
                    }
                }
            }
            Some("message_delta") => {
                c.usage.completion_tokens = v
                    .pointer("/usage/output_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or(c.usage.completion_tokens);
                c.finish_reason = v
                    .pointer("/delta/stop_reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            Some("message_stop") => {
                stopped = true;
                break;
            }
            Some("error") => {
                return Err(protocol(format!(
                    "error in stream: {}",
                    v.get("error").unwrap_or(&v)
                )));
            }
            _ => {}
        }
    }
    if !stopped {
        return Err(protocol("the stream ended before message_stop".to_owned()));
    }
    c.tool_calls = calls
        .into_iter()
        .map(|p| ToolCall {
            id: p.id,
            name: p.name,
            arguments: if p.input.trim().is_empty() {
                "{}".to_owned()
            } else {
                p.input
            },
        })
        .collect();
    c.usage.total_tokens = c.usage.prompt_tokens + c.usage.completion_tokens;
    Ok(c)
}

/// Reads an Anthropic answer as a `Completion`.
pub fn parse_answer(v: &Value, model: &str) -> Result<Completion, String> {
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or("no content in the answer")?;
    let text: String = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str).unwrap_or("text") == "text")
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    let tool_calls = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_use"))
        .map(|b| ToolCall {
            id: b
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            name: b
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            arguments: b
                .get("input")
                .map_or_else(|| "{}".to_owned(), Value::to_string),
        })
        .collect();
    let input = v
        .pointer("/usage/input_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let output = v
        .pointer("/usage/output_tokens")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(Completion {
        text,
        tool_calls,
        model: v
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(model)
            .to_owned(),
        usage: Usage {
            prompt_tokens: input,
            completion_tokens: output,
            total_tokens: input + output,
        },
        finish_reason: v
            .get("stop_reason")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::chat::ChatMessage;

    #[test]
    fn system_goes_apart_and_answers_parse() {
        let req = ChatRequest {
            model: "MiniMax-M2.5".into(),
            messages: vec![ChatMessage::system("be brief"), ChatMessage::user("hi")],
            ..ChatRequest::default()
        };
        let body = request_body(&req, false);
        assert_eq!(body["system"], "be brief");
        assert_eq!(
            body["messages"],
            json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
        );
        let c = parse_answer(&json!({"content": [{"type": "text", "text": "hello"}], "usage": {"input_tokens": 3, "output_tokens": 2}, "stop_reason": "end_turn"}), "m").unwrap();
        assert_eq!((c.text.as_str(), c.usage.total_tokens), ("hello", 5));
    }

    #[test]
    fn tool_turns_become_tool_use_and_tool_result_blocks() {
        let call = |id: &str| ToolCall {
            id: id.into(),
            name: "web_fetch".into(),
            arguments: "{\"url\":\"https://example.com\"}".into(),
        };
        let req = ChatRequest {
            model: "k2".into(),
            messages: vec![
                ChatMessage::system("s"),
                ChatMessage::user("weather?"),
                ChatMessage::assistant_calls("Looking.", vec![call("a"), call("b")]),
                ChatMessage::tool("a", "sunny"),
                ChatMessage::tool("b", "warm"),
                ChatMessage::assistant_calls(
                    "",
                    vec![ToolCall {
                        arguments: "not json".into(),
                        ..call("c")
                    }],
                ),
                ChatMessage::tool("c", "{\"error\":\"bad\"}"),
            ],
            tools: vec![crate::provider::ToolSpec::new(
                "web_fetch",
                "d",
                json!({"type": "object"}),
            )],
            params: [("temperature".to_owned(), json!(0.2))]
                .into_iter()
                .collect(),
        };
        let body = request_body(&req, true);
        let msgs = body["messages"].as_array().unwrap();
        let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
        assert_eq!(roles, ["user", "assistant", "user", "assistant", "user"]);
        assert_eq!(
            msgs[1]["content"][0],
            json!({"type": "text", "text": "Looking."})
        );
        assert_eq!(
            msgs[1]["content"][1]["input"],
            json!({"url": "https://example.com"})
        );
        assert_eq!(
            msgs[2]["content"].as_array().unwrap().len(),
            2,
            "results merged"
        );
        assert_eq!(
            msgs[2]["content"][1],
            json!({"type": "tool_result", "tool_use_id": "b", "content": "warm"})
        );
        assert_eq!(msgs[3]["content"][0]["input"], json!({}));
        assert_eq!(body["tools"][0]["input_schema"], json!({"type": "object"}));
        assert_eq!(body["temperature"], json!(0.2));

        let c = parse_answer(
            &json!({"content": [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "t1", "name": "web_fetch", "input": {"url": "u"}}
        ], "stop_reason": "tool_use"}),
            "m",
        )
        .unwrap();
        assert_eq!(c.text, "Let me check.");
        assert_eq!(c.tool_calls[0].arguments, "{\"url\":\"u\"}");
    }
}
