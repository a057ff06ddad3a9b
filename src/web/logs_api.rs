//! `GET /api/logs?level=&q=&after=&limit=`: the newest log lines kept in memory
//! (`log_ring`), for the page's Logs tab.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::auth::Operator;
use crate::log_ring::RING;

#[derive(Deserialize)]
pub(super) struct LogsQuery {
    level: Option<String>,
    q: Option<String>,
    after: Option<u64>,
    limit: Option<usize>,
}

pub(super) async fn logs(_: Operator, q: web::Query<LogsQuery>) -> HttpResponse {
    let lines = RING.query(
        q.level.as_deref().unwrap_or("info"),
        q.q.as_deref().unwrap_or(""),
        q.after.unwrap_or(0),
        q.limit.unwrap_or(500).clamp(1, crate::log_ring::CAPACITY),
    );
    HttpResponse::Ok().json(json!({"lines": lines}))
}
