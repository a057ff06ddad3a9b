//! The operator's HTTP side on `gateway.port` (default 18789, loopback by default): health
//! endpoints and the token-protected operator API that `dingclaw cron` uses.
//!
//! - `token`: the operator secret (configured, or generated and kept in the state directory).
//! - `auth`: the bearer check every API handler takes as an argument.
//! - `cron_api`: scheduled jobs.

mod auth;
mod cron_api;
mod token;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use dingclaw_actors::actors::Runtime;

pub use auth::{Operator, is_operator};
pub use token::{OperatorAuth, client_token, operator_auth, token_file};

/// A running operator server.
pub struct WebServer {
    /// `http://<addr>:<port>`.
    pub url: String,
    pub addr: SocketAddr,
    handle: ServerHandle,
}

/// Liveness, as OpenClaw answers it (reference/openclaw-routing.md 7.4).
async fn health() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({"ok": true, "status": "live"}))
}

/// Every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health))
        .route("/healthz", web::get().to(health))
        .route("/api/cron/jobs", web::get().to(cron_api::list))
        .route("/api/cron/jobs/{id}", web::delete().to(cron_api::remove))
        .route("/api/cron/jobs/{id}/runs", web::get().to(cron_api::runs))
        .route("/api/cron/jobs/{id}/run", web::post().to(cron_api::run));
}

impl WebServer {
    /// Starts on `addr` (port 0 picks a free one) inside the current actix System.
    pub async fn start(
        rt: Arc<Runtime>,
        addr: SocketAddr,
        auth: OperatorAuth,
    ) -> std::io::Result<WebServer> {
        let rt = web::Data::new(rt);
        let auth = web::Data::new(auth);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(rt.clone())
                .app_data(auth.clone())
                .configure(routes)
        })
        .workers(1)
        .disable_signals()
        .bind(addr)?;
        let addr = server.addrs().first().copied().unwrap_or(addr);
        let running = server.run();
        let handle = running.handle();
        actix_rt::spawn(running);
        Ok(WebServer {
            url: format!("http://{addr}"),
            addr,
            handle,
        })
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}
