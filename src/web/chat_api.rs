//! `POST /api/chat`: the web page talks to an agent through the same router and sessions as
//! DingTalk (channel `webchat`). The answer streams back as server-sent events while the model
//! writes it: `event: partial` with the text so far, then `event: done` with the whole answer.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use bytes::Bytes;
use dingclaw_actors::actors::router::Inbound;
use dingclaw_actors::actors::webchat::{WebEvent, valid_thread};
use dingclaw_actors::dingtalk::redact::redact_text;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use super::WebState;
use super::auth::Operator;

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

fn bad(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": message}))
}

/// One server-sent event; robot tokens and signing secrets in the text are masked, as in
/// every transcript the operator is shown.
fn event(name: &str, text: &str) -> Bytes {
    Bytes::from(format!(
        "event: {name}\ndata: {}\n\n",
        json!({"text": redact_text(text)})
    ))
}

pub(super) async fn chat(
    _: Operator,
    state: web::Data<WebState>,
    body: web::Json<ChatRequest>,
) -> HttpResponse {
    if !valid_thread(&body.thread) {
        return bad("`thread` must be 1-64 letters, digits, - or _");
    }
    if body.text.trim().is_empty() || body.text.len() > MAX_TEXT {
        return bad("`text` must be 1-16000 bytes");
    }
    if state.rt.config().agents.get(&body.agent).is_none() {
        return bad(&format!("no agent \"{}\"", body.agent));
    }
    let Some(router) = state.rt.router() else {
        return HttpResponse::ServiceUnavailable()
            .json(json!({"error": "the router is not running"}));
    };
    let (tx, rx) = mpsc::unbounded_channel();
    router.do_send(Inbound::from_web(&body.agent, &body.thread, &body.text, tx));
    let deadline = tokio::time::Instant::now() + ANSWER_TIMEOUT;
    let stream = futures_util::stream::unfold(Some(rx), move |rx| async move {
        let mut rx = rx?;
        let next = tokio::time::timeout_at(deadline, rx.recv()).await;
        let bytes = match next {
            Ok(Some(WebEvent::Partial(t))) => {
                return Some((Ok::<_, actix_web::Error>(event("partial", &t)), Some(rx)));
            }
            Ok(Some(WebEvent::Done(t))) => event("done", &t),
            Ok(None) => event("error", "the gateway dropped the answer"),
            Err(_) => event("error", "no answer in time"),
        };
        Some((Ok(bytes), None))
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .streaming(stream)
}
