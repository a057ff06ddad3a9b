//! The offline model's Anthropic Messages endpoint (`POST /v1/messages`), so
//! `anthropic-messages` providers (MiniMax, Kimi Coding, Anthropic) can be tested offline:
//! the request's content blocks are read into the same conversation the OpenAI endpoint
//! answers (`answer::reply`), and the answer goes back as `text` or `tool_use` blocks, plain
//! or streamed as Anthropic streams them (`message_start`, `content_block_*` with
//! `text_delta` / `input_json_delta`, `message_delta`, `message_stop`).

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use serde_json::{Value, json};

use super::answer::{Reply, reply};
use super::script::Action;
use super::{InFlight, State, count_request};

/// An error as Anthropic shapes it.
fn error(status: u16, kind: &str, message: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .json(json!({"type": "error", "error": {"type": kind, "message": message}}))
}

fn kind_of(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// Text of a `content` that is a string or a list of blocks.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|b| b.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// The request as the OpenAI-style conversation `reply` reads.
fn conversation(body: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(system) = body.get("system") {
        out.push(json!({"role": "system", "content": text_of(system)}));
    }
    for m in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("user");
        let content = m.get("content").cloned().unwrap_or(Value::Null);
        let blocks = match &content {
            Value::Array(b) => b.clone(),
            other => vec![json!({"type": "text", "text": text_of(other)})],
        };
        let mut text = String::new();
        let mut calls = Vec::new();
        let mut images = Vec::new();
        for b in &blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("text") => text.push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
                Some("image") => images.push(json!({"type": "image_url", "image_url": {"url": format!(
                    "data:{};base64,{}",
                    b.pointer("/source/media_type").and_then(Value::as_str).unwrap_or("?"),
                    b.pointer("/source/data").and_then(Value::as_str).unwrap_or("")
                )}})),
                Some("tool_use") => calls.push(json!({
                    "id": b.get("id"), "type": "function",
                    "function": {"name": b.get("name"), "arguments": b.get("input").map(Value::to_string)}
                })),
                Some("tool_result") => out.push(json!({
                    "role": "tool",
                    "tool_call_id": b.get("tool_use_id"),
                    "content": text_of(b.get("content").unwrap_or(&Value::Null)),
                })),
                _ => {}
            }
        }
        if role == "assistant" {
            out.push(json!({"role": "assistant", "content": text, "tool_calls": calls}));
        } else if !images.is_empty() {
            let mut parts = vec![json!({"type": "text", "text": text})];
            parts.extend(images);
            out.push(json!({"role": "user", "content": parts}));
        } else if !text.is_empty() {
            out.push(json!({"role": "user", "content": text}));
        }
    }
    out
}

pub(super) async fn messages(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("offline")
        .to_owned();
    let in_flight = count_request(&state, &model);
    *state
        .stats
        .last_body
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(body.0.clone());
    if let Some(key) = &state.opts.api_key {
        let given = req.headers().get("x-api-key").and_then(|v| v.to_str().ok());
        if given != Some(key.as_str()) {
            state
                .stats
                .failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return error(401, "authentication_error", "invalid x-api-key");
        }
    }
    if body.get("max_tokens").and_then(Value::as_u64).is_none() {
        return error(400, "invalid_request_error", "max_tokens: Field required");
    }
    let conversation = conversation(&body);
    let tools: Vec<Value> = body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| json!({"type": "function", "function": {"name": t.get("name")}}))
        .collect();
    let mut answer = reply(&model, &conversation, &tools);
    let mut truncate = false;
    match state.script.take(&model) {
        None => {}
        Some(Action::Fail {
            status, message, ..
        }) => {
            state
                .stats
                .failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return error(
                status,
                kind_of(status),
                message.as_deref().unwrap_or("scripted failure"),
            );
        }
        Some(Action::Delay { ms } | Action::Stall { ms }) => {
            actix_rt::time::sleep(Duration::from_millis(ms)).await;
        }
        Some(Action::Truncate | Action::Malformed) => truncate = true,
        Some(Action::ToolCall { name, arguments }) => {
            answer = Reply::ToolCall {
                name,
                arguments: arguments.to_string(),
            };
        }
        Some(Action::Text { text }) => answer = Reply::Text(text),
    }
    let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let input_tokens = conversation
        .iter()
        .filter_map(|m| m.get("content").and_then(Value::as_str))
        .map(|c| c.chars().count() / 4 + 1)
        .sum::<usize>();
    let (block, stop) = match &answer {
        Reply::Text(t) => (json!({"type": "text", "text": t}), "end_turn"),
        Reply::ToolCall { name, arguments } => (
            json!({"type": "tool_use", "id": format!("toolu_{}", &id[id.len() - 10..]), "name": name,
                   "input": serde_json::from_str::<Value>(arguments).unwrap_or_else(|_| json!({}))}),
            "tool_use",
        ),
    };
    let output_tokens = block.to_string().chars().count() / 4 + 1;
    if body.get("stream").and_then(Value::as_bool) != Some(true) {
        drop(in_flight);
        return HttpResponse::Ok().json(json!({
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [block], "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
        }));
    }
    state
        .stats
        .streamed
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let events = stream_events(
        &id,
        &model,
        &answer,
        &block,
        stop,
        input_tokens,
        output_tokens,
        truncate,
    );
    respond(events, in_flight)
}

/// The answer as Anthropic's stream events: (event name, data).
#[allow(clippy::too_many_arguments)]
fn stream_events(
    id: &str,
    model: &str,
    answer: &Reply,
    block: &Value,
    stop: &str,
    input_tokens: usize,
    output_tokens: usize,
    truncate: bool,
) -> Vec<(&'static str, String)> {
    let mut out = vec![(
        "message_start",
        json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant",
               "model": model, "content": [], "stop_reason": null,
               "usage": {"input_tokens": input_tokens, "output_tokens": 1}}})
        .to_string(),
    )];
    let (start, pieces): (Value, Vec<Value>) = match answer {
        Reply::Text(t) => (
            json!({"type": "text", "text": ""}),
            halves(t)
                .into_iter()
                .map(|p| json!({"type": "text_delta", "text": p}))
                .collect(),
        ),
        Reply::ToolCall { arguments, .. } => {
            let mut start = block.clone();
            start["input"] = json!({});
            let normal = serde_json::from_str::<Value>(arguments)
                .map(|v| v.to_string())
                .unwrap_or_else(|_| "{}".to_owned());
            (
                start,
                halves(&normal)
                    .into_iter()
                    .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
                    .collect(),
            )
        }
    };
    out.push((
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": start}).to_string(),
    ));
    out.push(("ping", json!({"type": "ping"}).to_string()));
    for (i, p) in pieces.into_iter().enumerate() {
        out.push((
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": p}).to_string(),
        ));
        if truncate && i == 0 {
            return out;
        }
    }
    out.push((
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}).to_string(),
    ));
    out.push((
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
               "usage": {"output_tokens": output_tokens}})
        .to_string(),
    ));
    out.push(("message_stop", json!({"type": "message_stop"}).to_string()));
    out
}

/// A text in two parts (by characters).
fn halves(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let half = chars.len().div_ceil(2).max(1);
    chars.chunks(half).map(|c| c.iter().collect()).collect()
}

fn respond(events: Vec<(&'static str, String)>, guard: InFlight) -> HttpResponse {
    let body =
        futures_util::stream::unfold((events.into_iter(), guard), |(mut it, guard)| async move {
            let (name, data) = it.next()?;
            let bytes = Bytes::from(format!("event: {name}\ndata: {data}\n\n"));
            Some((Ok::<_, actix_web::Error>(bytes), (it, guard)))
        });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_become_the_conversation() {
        let body = json!({
            "system": "You are Kimi.",
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "web_fetch", "input": {"url": "u"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "page"}]}
            ]
        });
        let c = conversation(&body);
        assert_eq!(c[0]["role"], "system");
        assert_eq!(c[1], json!({"role": "user", "content": "hi"}));
        assert_eq!(c[2]["tool_calls"][0]["function"]["name"], "web_fetch");
        assert_eq!(
            c[3],
            json!({"role": "tool", "tool_call_id": "t1", "content": "page"})
        );
    }
}
