//! `POST /api/chat`: the web page talks to an agent through the same router and sessions as
//! DingTalk (channel `webchat`). The answer streams back as server-sent events while the model
//! writes it: `event: partial` with the text so far, then `event: done` with the whole answer
//! and its markdown rendered to safe HTML. Errors carry a `code` the page words in the
//! reader's language.
//!
//! `GET /api/chat/history` gives a thread back after a reload, `GET /api/chat/threads` the
//! page's earlier threads with an agent, `POST /api/chat/stop` stops the thread's turn.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use bytes::Bytes;
use dingclaw_actors::actors::router::Inbound;
use dingclaw_actors::actors::webchat::{AnswerPart, WEBCHAT_CHANNEL, route, valid_thread};
use dingclaw_actors::dingtalk::redact::redact_text;
use dingclaw_actors::store::{Role, SessionFilter};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::WebState;
use super::auth::Operator;
use super::markdown::to_safe_html;

/// Longest a page waits for an answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);
/// Longest message accepted from the page.
const MAX_TEXT: usize = 16_000;

#[derive(Deserialize)]
pub(super) struct ChatRequest {
    agent: String,
    /// The page's conversation thread (letters, digits, `-`, `_`).
    thread: String,
    text: String,
}

fn bad(code: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": message, "code": code}))
}

/// One server-sent event; robot tokens and signing secrets in the text are masked, as in
/// every transcript the operator is shown. The final answer also comes as safe HTML.
fn event(name: &str, text: &str) -> Bytes {
    let text = redact_text(text);
    let data = match name {
        "done" => json!({"text": text, "html": to_safe_html(&text)}),
        _ => json!({"text": text}),
    };
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

fn error_event(code: &str, text: &str) -> Bytes {
    Bytes::from(format!(
        "event: error\ndata: {}\n\n",
        json!({"text": text, "code": code})
    ))
}

/// The refusal of a request whose thread or agent is not valid, if it is not.
fn refusal(state: &WebState, agent: &str, thread: &str) -> Option<HttpResponse> {
    if !valid_thread(thread) {
        return Some(bad(
            "bad_thread",
            "`thread` must be 1-64 letters, digits, - or _",
        ));
    }
    if state.rt.config().agents.get(agent).is_none() {
        return Some(bad("no_agent", &format!("no agent \"{agent}\"")));
    }
    None
}

pub(super) async fn chat(
    _: Operator,
    state: web::Data<WebState>,
    body: web::Json<ChatRequest>,
) -> HttpResponse {
    if let Some(resp) = refusal(&state, &body.agent, &body.thread) {
        return resp;
    }
    if body.text.trim().is_empty() || body.text.len() > MAX_TEXT {
        return bad("bad_text", "`text` must be 1-16000 bytes");
    }
    let Some(router) = state.rt.router() else {
        return HttpResponse::ServiceUnavailable()
            .json(json!({"error": "the router is not running", "code": "not_running"}));
    };
    let (tx, rx) = mpsc::unbounded_channel();
    router.do_send(Inbound::from_web(&body.agent, &body.thread, &body.text, tx));
    let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
    let stream = futures_util::stream::unfold(Some(rx), move |rx| async move {
        let mut rx = rx?;
        let next = tokio::time::timeout_at(deadline, rx.recv()).await;
        let bytes = match next {
            Ok(Some(AnswerPart::Partial(t))) => {
                return Some((Ok::<_, actix_web::Error>(event("partial", &t)), Some(rx)));
            }
            Ok(Some(AnswerPart::Done(t))) => event("done", &t),
            Ok(None) => error_event("dropped", "the gateway dropped the answer"),
            Err(_) => error_event("timeout", "no answer in time"),
        };
        Some((Ok(bytes), None))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(stream)
}

#[derive(Deserialize)]
pub(super) struct ThreadQuery {
    agent: String,
    thread: String,
}

/// Most entries a thread gives back.
const MAX_HISTORY: usize = 400;

/// `GET /api/chat/history?agent=&thread=`: the thread's transcript as the page shows it, the
/// agent's answers rendered, tool calls with their (masked) arguments.
pub(super) async fn history(
    _: Operator,
    state: web::Data<WebState>,
    q: web::Query<ThreadQuery>,
) -> HttpResponse {
    if let Some(resp) = refusal(&state, &q.agent, &q.thread) {
        return resp;
    }
    let key = route(&q.agent, &q.thread).session_key;
    let stored = match state
        .rt
        .store()
        .load_session(key.as_str(), MAX_HISTORY)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            return HttpResponse::InternalServerError()
                .json(json!({"error": e.to_string(), "code": "store"}));
        }
    };
    let entries: Vec<serde_json::Value> = stored
        .map(|s| s.entries)
        .unwrap_or_default()
        .iter()
        .map(|e| {
            let content = redact_text(&e.content);
            let calls: Vec<serde_json::Value> = e
                .tool_calls
                .iter()
                .map(|c| json!({"name": c.name, "arguments": redact_text(&c.arguments)}))
                .collect();
            json!({
                "role": e.role,
                "text": content,
                "html": (e.role == Role::Assistant).then(|| to_safe_html(&content)),
                "toolCalls": calls,
                "atMs": e.at_ms,
            })
        })
        .collect();
    HttpResponse::Ok().json(json!({"agent": q.agent, "thread": q.thread, "entries": entries}))
}

#[derive(Deserialize)]
pub(super) struct ThreadsQuery {
    agent: String,
}

/// Most earlier threads listed.
const MAX_THREADS: usize = 30;

/// `GET /api/chat/threads?agent=`: the page's threads with an agent, newest first, each with
/// its first words as a title.
pub(super) async fn threads(
    _: Operator,
    state: web::Data<WebState>,
    q: web::Query<ThreadsQuery>,
) -> HttpResponse {
    if state.rt.config().agents.get(&q.agent).is_none() {
        return bad("no_agent", &format!("no agent \"{}\"", q.agent));
    }
    let filter = SessionFilter {
        agent_id: Some(q.agent.clone()),
        account: None,
        limit: 500,
    };
    let metas = match state.rt.store().sessions(filter).await {
        Ok(m) => m,
        Err(e) => {
            return HttpResponse::InternalServerError()
                .json(json!({"error": e.to_string(), "code": "store"}));
        }
    };
    let mut out = Vec::new();
    for m in metas
        .iter()
        .filter(|m| m.channel == WEBCHAT_CHANNEL)
        .take(MAX_THREADS)
    {
        let title = match state.rt.store().load_session(&m.key, 20).await {
            Ok(Some(s)) => s
                .entries
                .iter()
                .find(|e| e.role == Role::User)
                .map(|e| redact_text(&e.content).chars().take(80).collect::<String>())
                .unwrap_or_default(),
            _ => String::new(),
        };
        out.push(json!({"thread": m.conversation_id, "updatedMs": m.updated_ms, "title": title}));
    }
    HttpResponse::Ok().json(out)
}

/// `POST /api/chat/stop {agent, thread}`: the thread's `/stop`, answered at once.
pub(super) async fn stop(
    _: Operator,
    state: web::Data<WebState>,
    body: web::Json<ThreadQuery>,
) -> HttpResponse {
    if let Some(resp) = refusal(&state, &body.agent, &body.thread) {
        return resp;
    }
    let Some(router) = state.rt.router() else {
        return HttpResponse::ServiceUnavailable()
            .json(json!({"error": "the router is not running", "code": "not_running"}));
    };
    let (tx, mut rx) = mpsc::unbounded_channel();
    router.do_send(Inbound::from_web(&body.agent, &body.thread, "/stop", tx));
    let answer = loop {
        match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            Ok(Some(AnswerPart::Done(t))) => break t,
            Ok(Some(AnswerPart::Partial(_))) => continue,
            _ => break String::new(),
        }
    };
    HttpResponse::Ok().json(json!({"ok": true, "text": answer}))
}
