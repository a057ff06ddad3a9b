//! Sessions for the operator: the stored index (newest first, filtered by agent or account),
//! which are in memory now and how many messages wait in each, one session's transcript, and
//! a reset.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use dingclaw_actors::actors::session::{GetSessionState, ResetSession};
use dingclaw_actors::dingtalk::redact::redact_text;
use dingclaw_actors::routing::SessionKey;
use dingclaw_actors::store::{SessionFilter, WriteOp};
use futures_util::future::join_all;
use serde::Deserialize;
use serde_json::{Value, json};

use super::WebState;
use super::auth::Operator;

/// Most sessions listed at once.
const MAX_LIST: usize = 500;
/// Most transcript entries returned.
const MAX_ENTRIES: usize = 500;

#[derive(Deserialize)]
pub(super) struct ListQuery {
    agent: Option<String>,
    account: Option<String>,
    limit: Option<usize>,
}

pub(super) async fn list(
    _: Operator,
    state: web::Data<WebState>,
    q: web::Query<ListQuery>,
) -> HttpResponse {
    let rt = Arc::clone(&state.rt);
    let filter = SessionFilter {
        agent_id: q.agent.clone(),
        account: q.account.clone(),
        limit: q.limit.unwrap_or(100).clamp(1, MAX_LIST),
    };
    let metas = match rt.store().sessions(filter).await {
        Ok(m) => m,
        Err(e) => return HttpResponse::InternalServerError().json(json!({"error": e.to_string()})),
    };
    let live = metas.iter().map(|m| {
        let addr = rt.session(&SessionKey::new(m.key.as_str()));
        async move {
            match addr {
                Some(a) => a.send(GetSessionState).await.ok(),
                None => None,
            }
        }
    });
    let live = join_all(live).await;
    let rows: Vec<Value> = metas
        .iter()
        .zip(live)
        .map(|(m, live)| {
            let mut row = serde_json::to_value(m).unwrap_or(Value::Null);
            row["resident"] = json!(live.is_some());
            if let Some(s) = live {
                row["busy"] = json!(s.busy);
                row["queued"] = json!(s.queued);
            }
            row
        })
        .collect();
    HttpResponse::Ok().json(rows)
}

#[derive(Deserialize)]
pub(super) struct TranscriptQuery {
    key: String,
}

pub(super) async fn transcript(
    _: Operator,
    state: web::Data<WebState>,
    q: web::Query<TranscriptQuery>,
) -> HttpResponse {
    match state.rt.store().load_session(&q.key, MAX_ENTRIES).await {
        Ok(Some(mut s)) => {
            // Users paste robot addresses and signing secrets for scheduled tasks; the store
            // keeps them (the model needs them), the operator sees them masked.
            // Tool calls carry the same (a cron tool call's webhook, a fetched page's URL).
            for e in &mut s.entries {
                if let std::borrow::Cow::Owned(masked) = redact_text(&e.content) {
                    e.content = masked;
                }
                for call in &mut e.tool_calls {
                    if let std::borrow::Cow::Owned(masked) = redact_text(&call.arguments) {
                        call.arguments = masked;
                    }
                }
            }
            HttpResponse::Ok().json(json!({"session": s.meta, "entries": s.entries}))
        }
        Ok(None) => {
            HttpResponse::NotFound().json(json!({"error": format!("no session \"{}\"", q.key)}))
        }
        Err(e) => HttpResponse::InternalServerError().json(json!({"error": e.to_string()})),
    }
}

#[derive(Deserialize)]
pub(super) struct ResetRequest {
    key: String,
}

/// `POST /api/sessions/reset {key}`: the conversation starts afresh (its old transcript stays
/// stored under the old session id). A session in memory resets itself; a stored one gets a
/// new session id in the index.
pub(super) async fn reset(
    _: Operator,
    state: web::Data<WebState>,
    body: web::Json<ResetRequest>,
) -> HttpResponse {
    let rt = Arc::clone(&state.rt);
    let resident = rt.session(&SessionKey::new(body.key.as_str()));
    if let Some(addr) = resident {
        return match addr.send(ResetSession).await {
            Ok(id) => {
                // Written behind; what the page reads next must show the fresh session.
                let _ = rt.store().flush().await;
                HttpResponse::Ok().json(json!({"ok": true, "sessionId": id}))
            }
            Err(e) => HttpResponse::ServiceUnavailable()
                .json(json!({"error": e.to_string(), "code": "not_running"})),
        };
    }
    match rt.store().load_session(&body.key, 1).await {
        Ok(Some(s)) => {
            let mut meta = s.meta;
            meta.session_id = uuid::Uuid::new_v4().to_string();
            meta.created_ms = chrono::Utc::now().timestamp_millis();
            meta.updated_ms = meta.created_ms;
            meta.prompt_tokens = 0;
            meta.completion_tokens = 0;
            let id = meta.session_id.clone();
            rt.store().write_now(vec![WriteOp::Session(meta)]);
            HttpResponse::Ok().json(json!({"ok": true, "sessionId": id}))
        }
        Ok(None) => HttpResponse::NotFound()
            .json(json!({"error": format!("no session \"{}\"", body.key), "code": "no_session"})),
        Err(e) => HttpResponse::InternalServerError()
            .json(json!({"error": e.to_string(), "code": "store"})),
    }
}
