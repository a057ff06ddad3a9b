//! `dmPolicy: "pairing"` for operators: `GET /api/pairing` lists requests and decisions,
//! `POST /api/pairing/{code}/approve` and `/deny` decide one.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::WebState;
use super::auth::Operator;

pub(super) async fn list(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    HttpResponse::Ok().json(state.rt.pairings().list())
}

fn decide(state: &WebState, code: &str, approve: bool) -> HttpResponse {
    match state.rt.pairing_decide(code, approve) {
        Some(record) => HttpResponse::Ok().json(record),
        None => HttpResponse::NotFound()
            .json(json!({"error": format!("no pairing request has the code {code}")})),
    }
}

pub(super) async fn approve(
    _: Operator,
    state: web::Data<WebState>,
    code: web::Path<String>,
) -> HttpResponse {
    decide(&state, &code, true)
}

pub(super) async fn deny(
    _: Operator,
    state: web::Data<WebState>,
    code: web::Path<String>,
) -> HttpResponse {
    decide(&state, &code, false)
}
