//! The control API under `/sim/`: set up bots, users and groups, make users talk, read what
//! the bots answered, and flip the chaos switches. Documented in the README.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::model::*;
use super::state::{Sim, SimError};

fn error(e: SimError) -> HttpResponse {
    match e {
        SimError::NotFound(m) => HttpResponse::NotFound().json(json!({"error": m})),
        SimError::Invalid(m) => HttpResponse::BadRequest().json(json!({"error": m})),
    }
}

pub(super) async fn add_bot(sim: web::Data<Arc<Sim>>, body: web::Json<NewBot>) -> HttpResponse {
    let bot = sim.add_bot(body.into_inner());
    let mut v = serde_json::to_value(&bot).unwrap_or_default();
    // The one place the secret is shown: the operator needs it for openclaw.json.
    v["clientSecret"] = json!(bot.client_secret);
    HttpResponse::Ok().json(v)
}

pub(super) async fn bots(sim: web::Data<Arc<Sim>>) -> HttpResponse {
    HttpResponse::Ok().json(sim.bots())
}

pub(super) async fn add_user(sim: web::Data<Arc<Sim>>, body: web::Json<NewUser>) -> HttpResponse {
    HttpResponse::Ok().json(sim.add_user(body.into_inner()))
}

pub(super) async fn add_group(sim: web::Data<Arc<Sim>>, body: web::Json<NewGroup>) -> HttpResponse {
    match sim.add_group(body.into_inner()) {
        Ok(g) => HttpResponse::Ok().json(g),
        Err(e) => error(e),
    }
}

pub(super) async fn groups(sim: web::Data<Arc<Sim>>) -> HttpResponse {
    HttpResponse::Ok().json(sim.groups())
}

pub(super) async fn message(
    sim: web::Data<Arc<Sim>>,
    body: web::Json<UserMessage>,
) -> HttpResponse {
    match sim.say(&body).await {
        Ok(injected) => HttpResponse::Ok().json(injected),
        Err(e) => error(e),
    }
}

pub(super) async fn conversation(
    sim: web::Data<Arc<Sim>>,
    path: web::Path<String>,
) -> HttpResponse {
    match sim.known_conversation(&path) {
        Some(log) => HttpResponse::Ok().json(log),
        None => HttpResponse::NotFound().json(serde_json::json!({
            "error": format!("no conversation \"{path}\" (a group's id, or the conversationId a DM answered with)")
        })),
    }
}

#[derive(Deserialize)]
pub(super) struct RepliesQuery {
    bot: Option<String>,
    conversation: Option<String>,
    since: Option<u64>,
}

pub(super) async fn replies(sim: web::Data<Arc<Sim>>, q: web::Query<RepliesQuery>) -> HttpResponse {
    HttpResponse::Ok().json(sim.replies(
        q.bot.as_deref(),
        q.conversation.as_deref(),
        q.since.unwrap_or(0),
    ))
}

#[derive(Deserialize)]
pub(super) struct BotQuery {
    bot: Option<String>,
}

pub(super) async fn acks(sim: web::Data<Arc<Sim>>, q: web::Query<BotQuery>) -> HttpResponse {
    HttpResponse::Ok().json(sim.acks(q.bot.as_deref()))
}

pub(super) async fn stats(sim: web::Data<Arc<Sim>>) -> HttpResponse {
    HttpResponse::Ok().json(sim.stats())
}

pub(super) async fn chaos(sim: web::Data<Arc<Sim>>, body: web::Json<ChaosRequest>) -> HttpResponse {
    sim.chaos(&body);
    HttpResponse::Ok().json(json!({"ok": true}))
}

pub(super) async fn disconnect(
    sim: web::Data<Arc<Sim>>,
    path: web::Path<String>,
    body: Option<web::Json<DisconnectRequest>>,
) -> HttpResponse {
    let req = body.map(|b| b.into_inner()).unwrap_or_default();
    let n = sim.send_disconnect(&path, &req).await;
    HttpResponse::Ok().json(json!({"connections": n}))
}

pub(super) async fn raw(
    sim: web::Data<Arc<Sim>>,
    path: web::Path<String>,
    body: web::Json<RawFrame>,
) -> HttpResponse {
    let n = sim.push_raw(&path, &body.text).await;
    HttpResponse::Ok().json(json!({"connections": n}))
}

pub(super) async fn drop_connections(
    sim: web::Data<Arc<Sim>>,
    path: web::Path<String>,
) -> HttpResponse {
    HttpResponse::Ok().json(json!({"connections": sim.drop_connections(&path)}))
}

#[derive(Deserialize)]
pub(super) struct StallRequest {
    on: bool,
}

pub(super) async fn stall(
    sim: web::Data<Arc<Sim>>,
    path: web::Path<String>,
    body: web::Json<StallRequest>,
) -> HttpResponse {
    match sim.stall(&path, body.on) {
        Ok(n) => HttpResponse::Ok().json(json!({"connections": n})),
        Err(e) => error(e),
    }
}

pub(super) async fn add_robot(sim: web::Data<Arc<Sim>>, body: web::Json<NewRobot>) -> HttpResponse {
    match sim.add_robot(body.into_inner()) {
        Ok(r) => HttpResponse::Ok().json(r),
        Err(e) => error(e),
    }
}
