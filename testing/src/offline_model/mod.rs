//! The built-in offline model: an OpenAI-compatible `POST /v1/chat/completions` (and an
//! Anthropic-compatible `POST /v1/messages`, `anthropic`) on 127.0.0.1 that answers
//! deterministically (see `answer`), with an optional delay to stand in for a
//! real model's latency. It speaks both the plain and the streaming (server-sent events)
//! forms, tool calls included, so unmodified OpenAI clients work against it.
//!
//! For tests and benchmarks it can require an API key, fail on script (`script`: rate limits,
//! server errors, hangs, broken streams) and counts requests, per model and in flight.
//! Control: `POST /offline/script` (steps to queue), `DELETE /offline/script`,
//! `GET /offline/stats`.

mod answer;
mod anthropic;
mod script;
mod stream;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde::Serialize;
use serde_json::{Value, json};

pub use answer::{Reply, answer, persona, reply};
pub use script::{Action, Script, Step};

use stream::{Ending, StreamAnswer};

/// How the offline model behaves.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// Delay before answering (spread over the chunks when streaming).
    pub latency: Duration,
    /// Requests must carry `Authorization: Bearer <key>`; others get 401 as OpenAI answers.
    pub api_key: Option<String>,
    /// Tool rounds per turn (the load benchmark's cost growth): while a turn has had fewer
    /// tool results than this since its user message, the answer is a call of
    /// `current_time` (when offered).
    pub tool_rounds: u32,
}

/// Counters of a running offline model.
#[derive(Default)]
pub struct ModelStats {
    /// Requests answered.
    pub requests: AtomicU64,
    /// Requests answered as a stream.
    pub streamed: AtomicU64,
    /// Request bodies' bytes (what the client serialised and sent).
    pub request_bytes: AtomicU64,
    /// Summarising requests (the gateway's compaction), counted in `requests` too.
    pub summaries: AtomicU64,
    /// Requests answered with an error (scripted or refused key).
    pub failed: AtomicU64,
    /// Requests being answered now.
    pub in_flight: AtomicU64,
    /// Most requests in flight at once.
    pub max_in_flight: AtomicU64,
    /// Requests by `model`.
    pub by_model: Mutex<HashMap<String, u64>>,
    /// The body of the latest request (tests check what the gateway sent).
    pub last_body: Mutex<Option<Value>>,
}

/// The counters as numbers (`GET /offline/stats`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    /// Requests answered.
    pub requests: u64,
    /// Streamed ones.
    pub streamed: u64,
    /// Request bodies' bytes.
    pub request_bytes: u64,
    /// Summarising requests (compaction).
    pub summaries: u64,
    /// Failed ones (scripted failures included).
    pub failed: u64,
    /// Being answered now.
    pub in_flight: u64,
    /// The most at once so far.
    pub max_in_flight: u64,
    /// Requests per model.
    pub by_model: HashMap<String, u64>,
    /// Scripted steps not yet used.
    pub script_steps: usize,
}

impl ModelStats {
    /// Requests for `model` so far.
    pub fn requests_for(&self, model: &str) -> u64 {
        self.by_model
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(model)
            .copied()
            .unwrap_or(0)
    }
}

struct State {
    opts: ModelOptions,
    stats: Arc<ModelStats>,
    script: Arc<Script>,
}

/// Counts a request in flight until dropped (for a streamed answer: until its body ends).
struct InFlight(Arc<ModelStats>);

impl InFlight {
    fn new(stats: &Arc<ModelStats>) -> Self {
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(stats))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running offline model.
pub struct OfflineModel {
    /// `http://127.0.0.1:<port>/v1`: the `baseUrl` to configure.
    pub base_url: String,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// What it was asked.
    pub stats: Arc<ModelStats>,
    /// The steps it will follow for the next requests.
    pub script: Arc<Script>,
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
        let script = Arc::new(Script::default());
        let state = web::Data::new(State {
            opts,
            stats: Arc::clone(&stats),
            script: Arc::clone(&script),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::JsonConfig::default().limit(16 * 1024 * 1024))
                .route("/v1/chat/completions", web::post().to(chat_completions))
                .route("/chat/completions", web::post().to(chat_completions))
                .route("/v1/messages", web::post().to(anthropic::messages))
                .route("/v1/models", web::get().to(models))
                .route("/offline/script", web::post().to(push_script))
                .route("/offline/script", web::delete().to(clear_script))
                .route("/offline/stats", web::get().to(stats_handler))
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
            script,
            handle,
        })
    }

    /// Queues scripted behaviours for the next requests.
    pub fn script(&self, steps: impl IntoIterator<Item = Step>) {
        self.script.push(steps);
    }

    /// Stops the server.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// The model listing, behind the key as at OpenAI (`Authorization: Bearer`) and Anthropic
/// (`x-api-key`): `dingclaw doctor` checks keys with it.
async fn models(state: web::Data<State>, req: HttpRequest) -> HttpResponse {
    if let Some(key) = &state.opts.api_key {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let bearer = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
        if bearer != Some(key.as_str()) && header("x-api-key") != Some(key.as_str()) {
            return error(
                401,
                "Incorrect API key provided.",
                "invalid_request_error",
                "invalid_api_key",
            );
        }
    }
    HttpResponse::Ok().json(json!({"object": "list", "data": [{"id": "offline", "object": "model", "owned_by": "dingclaw"}]}))
}

async fn push_script(state: web::Data<State>, body: web::Json<Vec<Step>>) -> HttpResponse {
    state.script.push(body.into_inner());
    HttpResponse::Ok().json(json!({"steps": state.script.len()}))
}

async fn clear_script(state: web::Data<State>) -> HttpResponse {
    state.script.clear();
    HttpResponse::Ok().json(json!({"steps": 0}))
}

async fn stats_handler(state: web::Data<State>) -> HttpResponse {
    let s = &state.stats;
    HttpResponse::Ok().json(StatsSnapshot {
        requests: s.requests.load(Ordering::Relaxed),
        streamed: s.streamed.load(Ordering::Relaxed),
        request_bytes: s.request_bytes.load(Ordering::Relaxed),
        summaries: s.summaries.load(Ordering::Relaxed),
        failed: s.failed.load(Ordering::Relaxed),
        in_flight: s.in_flight.load(Ordering::Relaxed),
        max_in_flight: s.max_in_flight.load(Ordering::Relaxed),
        by_model: s.by_model.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        script_steps: state.script.len(),
    })
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

/// An error answer as OpenAI shapes it.
fn error(status: u16, message: &str, kind: &str, code: &str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .json(json!({"error": {"message": message, "type": kind, "param": null, "code": code}}))
}

/// The OpenAI error type and code usual for a status.
fn error_kind(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("invalid_request_error", "invalid_request"),
        401 => ("invalid_request_error", "invalid_api_key"),
        403 => ("invalid_request_error", "permission_denied"),
        404 => ("invalid_request_error", "model_not_found"),
        429 => ("rate_limit_error", "rate_limit_exceeded"),
        _ => ("server_error", "server_error"),
    }
}

/// Counts a request for `model`; it is in flight while the result lives.
fn count_request(state: &State, model: &str) -> InFlight {
    let stats = &state.stats;
    stats.requests.fetch_add(1, Ordering::Relaxed);
    *stats
        .by_model
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(model.to_owned())
        .or_default() += 1;
    InFlight::new(stats)
}

async fn chat_completions(
    state: web::Data<State>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let stats = &state.stats;
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("offline")
        .to_owned();
    let in_flight = count_request(&state, &model);
    let length = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .unwrap_or(0);
    stats.request_bytes.fetch_add(length, Ordering::Relaxed);
    *stats.last_body.lock().unwrap_or_else(|p| p.into_inner()) = Some(body.0.clone());
    if let Some(key) = &state.opts.api_key {
        let given = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(key.as_str()) {
            stats.failed.fetch_add(1, Ordering::Relaxed);
            return error(
                401,
                "Incorrect API key provided.",
                "invalid_request_error",
                "invalid_api_key",
            );
        }
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array).cloned() else {
        return error(
            400,
            "messages is required",
            "invalid_request_error",
            "invalid_request",
        );
    };
    if answer::is_summary_request(&messages) {
        stats.summaries.fetch_add(1, Ordering::Relaxed);
    }
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut answer = reply(&model, &messages, &tools);
    if state.opts.tool_rounds > 0 && matches!(answer, Reply::Text(_)) {
        answer = answer::rounds_left(&messages, &tools, state.opts.tool_rounds).unwrap_or(answer);
    }
    let mut ending = Ending::Normal;
    match state.script.take(&model) {
        None => {}
        Some(Action::Fail {
            status,
            retry_after,
            message,
        }) => {
            stats.failed.fetch_add(1, Ordering::Relaxed);
            let (kind, code) = error_kind(status);
            let mut resp = error(
                status,
                message.as_deref().unwrap_or("scripted failure"),
                kind,
                code,
            );
            if let Some(secs) = retry_after
                && let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string())
            {
                resp.headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, v);
            }
            return resp;
        }
        Some(Action::Delay { ms }) => actix_rt::time::sleep(Duration::from_millis(ms)).await,
        Some(Action::Stall { ms }) => ending = Ending::Stall(Duration::from_millis(ms)),
        Some(Action::Truncate) => ending = Ending::Truncate,
        Some(Action::Malformed) => ending = Ending::Malformed,
        Some(Action::ToolCall { name, arguments }) => {
            answer = Reply::ToolCall {
                name,
                arguments: arguments.to_string(),
            };
        }
        Some(Action::Text { text }) => answer = Reply::Text(text),
    }
    let text = match &answer {
        Reply::Text(t) => t.clone(),
        Reply::ToolCall { arguments, .. } => arguments.clone(),
    };
    let usage = usage(&messages, &text);
    let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let created = dingclaw_actors::dingtalk::api::now_ms() / 1000;
    if body.get("stream").and_then(Value::as_bool) == Some(true) {
        stats.streamed.fetch_add(1, Ordering::Relaxed);
        let include_usage = body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        return stream::respond(
            StreamAnswer {
                id,
                created,
                model,
                reply: answer,
                usage,
                include_usage,
                latency: state.opts.latency,
                ending,
            },
            in_flight,
        );
    }
    if !state.opts.latency.is_zero() {
        actix_rt::time::sleep(state.opts.latency).await;
    }
    match ending {
        Ending::Normal => {}
        Ending::Stall(d) => actix_rt::time::sleep(d).await,
        // A plain answer cut short, or not JSON at all.
        Ending::Truncate => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("{\"id\": \"chatcmpl-");
        }
        Ending::Malformed => {
            return HttpResponse::Ok()
                .content_type("application/json")
                .body("this is not json");
        }
    }
    let (message, finish) = match answer {
        Reply::Text(text) => (json!({"role": "assistant", "content": text}), "stop"),
        Reply::ToolCall { name, arguments } => (
            json!({"role": "assistant", "content": null, "tool_calls": [{
                "id": format!("call_{}", &id[id.len() - 8..]), "type": "function",
                "function": {"name": name, "arguments": arguments}}]}),
            "tool_calls",
        ),
    };
    drop(in_flight);
    HttpResponse::Ok().json(json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }))
}
