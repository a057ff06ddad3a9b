//! The built-in offline model: an OpenAI-compatible `POST /v1/chat/completions` on 127.0.0.1
//! that answers deterministically (see `answer`), with an optional delay to stand in for a
//! real model's latency. It speaks both the plain and the streaming (server-sent events)
//! forms, so unmodified OpenAI clients work against it.

mod answer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use bytes::Bytes;
use serde_json::{Value, json};

pub use answer::{answer, persona};

/// How the offline model behaves.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// Delay before answering (spread over the chunks when streaming).
    pub latency: Duration,
}

/// Counters of a running offline model.
#[derive(Default)]
pub struct ModelStats {
    pub requests: AtomicU64,
    pub streamed: AtomicU64,
}

struct State {
    opts: ModelOptions,
    stats: Arc<ModelStats>,
}

/// A running offline model.
pub struct OfflineModel {
    /// `http://127.0.0.1:<port>/v1`: the `baseUrl` to configure.
    pub base_url: String,
    pub port: u16,
    pub stats: Arc<ModelStats>,
    handle: ServerHandle,
}

impl OfflineModel {
    /// Starts on 127.0.0.1 (`port` 0 picks a free one) inside the current actix System.
    pub async fn start(
        opts: ModelOptions,
        port: u16,
        workers: usize,
    ) -> std::io::Result<OfflineModel> {
        let stats = Arc::new(ModelStats::default());
        let state = web::Data::new(State {
            opts,
            stats: Arc::clone(&stats),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::JsonConfig::default().limit(16 * 1024 * 1024))
                .route("/v1/chat/completions", web::post().to(chat_completions))
                .route("/chat/completions", web::post().to(chat_completions))
                .route("/v1/models", web::get().to(models))
        })
        .workers(workers.max(1))
        .disable_signals()
        .bind(("127.0.0.1", port))?;
        let port = server.addrs().first().map(|a| a.port()).unwrap_or(port);
        let running = server.run();
        let handle = running.handle();
        actix_rt::spawn(running);
        Ok(OfflineModel {
            base_url: format!("http://127.0.0.1:{port}/v1"),
            port,
            stats,
            handle,
        })
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

async fn models() -> HttpResponse {
    HttpResponse::Ok().json(json!({"object": "list", "data": [{"id": "offline", "object": "model", "owned_by": "dingclaw"}]}))
}

fn usage(messages: &[Value], text: &str) -> Value {
    let prompt: usize = messages
        .iter()
        .filter_map(|m| m.get("content").and_then(Value::as_str))
        .map(|c| c.chars().count() / 4 + 1)
        .sum();
    let completion = text.chars().count() / 4 + 1;
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

async fn chat_completions(state: web::Data<State>, body: web::Json<Value>) -> HttpResponse {
    state.stats.requests.fetch_add(1, Ordering::Relaxed);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("offline")
        .to_owned();
    let Some(messages) = body.get("messages").and_then(Value::as_array).cloned() else {
        return HttpResponse::BadRequest().json(
            json!({"error": {"message": "messages is required", "type": "invalid_request_error"}}),
        );
    };
    let text = answer(&model, &messages);
    let usage = usage(&messages, &text);
    let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let created = dingclaw_actors::dingtalk::api::now_ms() / 1000;
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        state.stats.streamed.fetch_add(1, Ordering::Relaxed);
        let include_usage = body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        return stream(
            id,
            created,
            model,
            text,
            usage,
            include_usage,
            state.opts.latency,
        );
    }
    if !state.opts.latency.is_zero() {
        actix_rt::time::sleep(state.opts.latency).await;
    }
    HttpResponse::Ok().json(json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage,
    }))
}

/// The answer as server-sent events: a role chunk, content in three parts, a final chunk,
/// an optional usage chunk, then `[DONE]`.
fn stream(
    id: String,
    created: i64,
    model: String,
    text: String,
    usage: Value,
    include_usage: bool,
    latency: Duration,
) -> HttpResponse {
    let chars: Vec<char> = text.chars().collect();
    let third = chars.len().div_ceil(3).max(1);
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut events: Vec<String> =
        vec![chunk(json!({"role": "assistant", "content": ""}), Value::Null).to_string()];
    for part in chars.chunks(third) {
        events.push(
            chunk(
                json!({"content": part.iter().collect::<String>()}),
                Value::Null,
            )
            .to_string(),
        );
    }
    events.push(chunk(json!({}), json!("stop")).to_string());
    if include_usage {
        events.push(json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model, "choices": [], "usage": usage}).to_string());
    }
    events.push("[DONE]".to_owned());
    let pause = latency / events.len() as u32;
    let body = futures_util::stream::unfold(events.into_iter(), move |mut it| async move {
        let event = it.next()?;
        if !pause.is_zero() {
            actix_rt::time::sleep(pause).await;
        }
        Some((
            Ok::<_, actix_web::Error>(Bytes::from(format!("data: {event}\n\n"))),
            it,
        ))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(body)
}
