//! The Anthropic Messages protocol (`POST {baseUrl}/v1/messages`), spoken by MiniMax and Kimi
//! Coding among the catalogue's providers. Text only: tool calling goes through
//! `openai-completions` providers.

use serde_json::{Value, json};

use crate::config::ProviderConfig;

use super::chat::{ChatRequest, ChatRole, Completion, StreamSink, Usage};
use super::error::ProviderError;
use super::http::{Events, post, read_body};

/// The API version header every call carries.
const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Answer length asked for (the API requires one).
const MAX_TOKENS: u32 = 4096;

pub fn request_body(req: &ChatRequest, stream: bool) -> Value {
    let system: Vec<&str> = req
        .messages
        .iter()
        .filter(|m| m.role == ChatRole::System)
        .map(|m| m.content.as_str())
        .collect();
    let messages: Vec<Value> = req
        .messages
        .iter()
        .filter(|m| matches!(m.role, ChatRole::User | ChatRole::Assistant) && !m.content.is_empty())
        .map(|m| json!({"role": m.role, "content": m.content}))
        .collect();
    json!({
        "model": req.model,
        "max_tokens": MAX_TOKENS,
        "system": system.join("\n\n"),
        "messages": messages,
        "stream": stream,
    })
}

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
            Some("content_block_delta") => {
                if let Some(text) = v.pointer("/delta/text").and_then(Value::as_str) {
                    c.text.push_str(text);
                    if let Some(sink) = sink {
                        sink.send_modify(|t| t.push_str(text));
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
    c.usage.total_tokens = c.usage.prompt_tokens + c.usage.completion_tokens;
    Ok(c)
}

pub fn parse_answer(v: &Value, model: &str) -> Result<Completion, String> {
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or("no content in the answer")?;
    let text: String = blocks
        .iter()
        .filter_map(|b| b.get("text").and_then(Value::as_str))
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
        tool_calls: Vec::new(),
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
            tools: Vec::new(),
        };
        let body = request_body(&req, false);
        assert_eq!(body["system"], "be brief");
        assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
        let c = parse_answer(&json!({"content": [{"type": "text", "text": "hello"}], "usage": {"input_tokens": 3, "output_tokens": 2}, "stop_reason": "end_turn"}), "m").unwrap();
        assert_eq!((c.text.as_str(), c.usage.total_tokens), ("hello", 5));
    }
}
