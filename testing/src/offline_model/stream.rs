//! The answer as server-sent events, as OpenAI streams it: a role chunk, the content (or the
//! tool call's arguments) in parts, a chunk with `finish_reason`, an optional usage chunk,
//! then `data: [DONE]`. `Ending` breaks the stream the ways real providers do.

use std::time::Duration;

use actix_web::HttpResponse;
use bytes::Bytes;
use serde_json::{Value, json};

use super::answer::Reply;

/// How the stream ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Normal,
    /// After the first parts, silence for this long, then close.
    Stall(Duration),
    /// Close after the first parts, without `finish_reason` or `[DONE]`.
    Truncate,
    /// An event that is not JSON after the first parts.
    Malformed,
}

pub struct StreamAnswer {
    pub id: String,
    pub created: i64,
    pub model: String,
    pub reply: Reply,
    pub usage: Value,
    pub include_usage: bool,
    pub latency: Duration,
    pub ending: Ending,
}

/// One event per item; `None` marks the pause of a stall.
fn events(a: &StreamAnswer) -> Vec<Option<String>> {
    let chunk = |delta: Value, finish: Value| {
        Some(
            json!({"id": a.id, "object": "chat.completion.chunk", "created": a.created, "model": a.model,
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
            .to_string(),
        )
    };
    let mut out = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    let (parts, finish): (Vec<Option<String>>, &str) = match &a.reply {
        Reply::Text(text) => (
            thirds(text)
                .into_iter()
                .map(|p| chunk(json!({"content": p}), Value::Null))
                .collect(),
            "stop",
        ),
        Reply::ToolCall { name, arguments } => {
            let id = format!("call_{}", &a.id[a.id.len().saturating_sub(8)..]);
            let mut parts = vec![chunk(
                json!({"tool_calls": [{"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                Value::Null,
            )];
            for p in thirds(arguments) {
                parts.push(chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
                    Value::Null,
                ));
            }
            (parts, "tool_calls")
        }
    };
    let first = parts.len().min(2);
    out.extend(parts[..first].iter().cloned());
    match a.ending {
        Ending::Truncate => return out,
        Ending::Malformed => {
            out.push(Some("{\"choices\": [ this is not json".to_owned()));
            return out;
        }
        Ending::Stall(_) => {
            out.push(None);
            return out;
        }
        Ending::Normal => {}
    }
    out.extend(parts[first..].iter().cloned());
    out.push(chunk(json!({}), json!(finish)));
    if a.include_usage {
        out.push(Some(
            json!({"id": a.id, "object": "chat.completion.chunk", "created": a.created, "model": a.model, "choices": [], "usage": a.usage})
                .to_string(),
        ));
    }
    out.push(Some("[DONE]".to_owned()));
    out
}

/// A text in three parts (by characters, never splitting one).
fn thirds(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let third = chars.len().div_ceil(3).max(1);
    chars.chunks(third).map(|c| c.iter().collect()).collect()
}

/// The streaming response; `latency` is spread over the events. `guard` lives as long as the
/// body does (the request counts as in flight until its last event).
pub fn respond<G: 'static>(a: StreamAnswer, guard: G) -> HttpResponse {
    let events = events(&a);
    let pause = a.latency / events.len().max(1) as u32;
    let stall = match a.ending {
        Ending::Stall(d) => d,
        _ => Duration::ZERO,
    };
    let body = futures_util::stream::unfold(
        (events.into_iter(), guard),
        move |(mut it, guard)| async move {
            let event = it.next()?;
            if !pause.is_zero() {
                actix_rt::time::sleep(pause).await;
            }
            let bytes = match event {
                Some(e) => Bytes::from(format!("data: {e}\n\n")),
                None => {
                    actix_rt::time::sleep(stall).await;
                    Bytes::new()
                }
            };
            Some((Ok::<_, actix_web::Error>(bytes), (it, guard)))
        },
    );
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(body)
}
