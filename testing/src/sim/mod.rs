//! A local DingTalk Open Platform for tests, benchmarks and the offline demo
//! (docs/dingtalk-protocol.md 9). It speaks the real wire protocol on 127.0.0.1: the
//! official Python Stream SDK connects to it unchanged (`DINGTALK_OPENAPI_ENDPOINT`).
//!
//! - `stream`: connections/open, tickets, the Stream WebSocket, pings, ACK checks,
//!   `disconnect`, redelivery, zombie and drop switches.
//! - `openapi`: access tokens, robot OpenAPI sends, sessionWebhooks.
//! - `card`: AI cards (create, deliver, stream, update), with what the user sees.
//! - `robot`: custom group robot webhooks (signature, keywords, 20 per minute).
//! - `control`: the `/sim/` control API; `load`: load runs for benchmarks.
//! - `state` and `model`: what the simulator knows and remembers.

mod card;
mod control;
mod load;
pub mod media;
pub mod model;
mod openapi;
mod robot;
mod state;
mod stream;

use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};

pub use load::{LoadReport, LoadRequest, Percentiles, Second};
pub use model::*;
pub use state::{Sim, SimError};

/// Largest request body accepted (bot replies can be long).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// Every route: DingTalk's APIs at their real paths, the control API under `/sim/`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/v1.0/gateway/connections/open",
        web::post().to(stream::connections_open),
    )
    .route("/connect", web::get().to(stream::connect))
    .route(
        "/v1.0/oauth2/accessToken",
        web::post().to(openapi::access_token),
    )
    .route(
        "/v1.0/robot/groupMessages/send",
        web::post().to(openapi::group_messages_send),
    )
    .route(
        "/v1.0/robot/oToMessages/batchSend",
        web::post().to(openapi::oto_messages_send),
    )
    .route(
        "/robot/sendBySession",
        web::post().to(openapi::send_by_session),
    )
    .route("/v1.0/card/instances", web::post().to(card::create))
    .route("/v1.0/card/instances", web::put().to(card::update))
    .route(
        "/v1.0/card/instances/deliver",
        web::post().to(card::deliver),
    )
    .route(
        "/v1.0/card/instances/createAndDeliver",
        web::post().to(card::create_and_deliver),
    )
    .route("/v1.0/card/streaming", web::put().to(card::streaming))
    .route("/robot/send", web::post().to(robot::robot_send))
    .route(
        "/v1.0/robot/messageFiles/download",
        web::post().to(media::download),
    )
    .route("/sim/files/{id}", web::get().to(media::file))
    .route("/media/upload", web::post().to(media::upload))
    .route(
        "/v1.0/robot/emotion/reply",
        web::post().to(media::emotion_reply),
    )
    .route(
        "/v1.0/robot/emotion/recall",
        web::post().to(media::emotion_recall),
    )
    .route("/sim/reactions", web::get().to(media::reactions))
    .route("/sim/cards", web::get().to(card::list))
    .route("/sim/load", web::post().to(load::start))
    .route("/sim/load", web::get().to(load::report))
    .route("/sim/bots", web::post().to(control::add_bot))
    .route("/sim/bots", web::get().to(control::bots))
    .route(
        "/sim/bots/{id}/disconnect",
        web::post().to(control::disconnect),
    )
    .route(
        "/sim/bots/{id}/drop",
        web::post().to(control::drop_connections),
    )
    .route("/sim/bots/{id}/stall", web::post().to(control::stall))
    .route("/sim/bots/{id}/raw", web::post().to(control::raw))
    .route("/sim/users", web::post().to(control::add_user))
    .route("/sim/groups", web::post().to(control::add_group))
    .route("/sim/groups", web::get().to(control::groups))
    .route("/sim/messages", web::post().to(control::message))
    // Conversation ids are base64 and may hold `/`: the tail of the path is the id.
    .route(
        "/sim/conversations/{cid:.*}",
        web::get().to(control::conversation),
    )
    .route("/sim/replies", web::get().to(control::replies))
    .route("/sim/acks", web::get().to(control::acks))
    .route("/sim/stats", web::get().to(control::stats))
    .route("/sim/chaos", web::post().to(control::chaos))
    .route("/sim/robots", web::post().to(control::add_robot));
}

/// A running simulator.
pub struct SimServer {
    /// The simulator's state: bots, users, groups, what was sent.
    pub sim: Arc<Sim>,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    handle: ServerHandle,
}

impl SimServer {
    /// Starts the simulator on 127.0.0.1 (`port` 0 picks a free one) inside the current
    /// actix System.
    pub async fn start(opts: SimOptions, port: u16, workers: usize) -> std::io::Result<SimServer> {
        let sim = Sim::new(opts);
        let data = web::Data::new(Arc::clone(&sim));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(MAX_BODY)
                        .error_handler(|err, _| {
                            let body = serde_json::json!({"error": err.to_string()});
                            actix_web::error::InternalError::from_response(
                                err,
                                HttpResponse::BadRequest().json(body),
                            )
                            .into()
                        }),
                )
                .configure(routes)
                .default_service(web::to(|req: actix_web::HttpRequest| async move {
                    HttpResponse::NotFound().json(serde_json::json!({
                        "error": format!("the simulator has no {} {}", req.method(), req.path())
                    }))
                }))
        })
        .workers(workers.max(1))
        .disable_signals()
        .bind(("127.0.0.1", port))?;
        let port = server.addrs().first().map(|a| a.port()).unwrap_or(port);
        let url = format!("http://127.0.0.1:{port}");
        let _ = sim.base_url.set(url.clone());
        let running = server.run();
        let handle = running.handle();
        actix_rt::spawn(running);
        stream::spawn_sweeper(Arc::clone(&sim));
        Ok(SimServer {
            sim,
            url,
            port,
            handle,
        })
    }

    /// Stops accepting connections and closes the server.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}
