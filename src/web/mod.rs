//! The operator's HTTP side on `gateway.port` (default 18789, loopback by default): the web
//! page, the token-protected JSON API, `/metrics`, and the unauthenticated `/health` and
//! `/ready`.
//!
//! - `token`: the operator secret (configured, or generated and kept in the state directory);
//!   `auth` checks it on every API request, `lockout` slows down guessing.
//! - `status_api`, `sessions_api`, `chat_api`, `cron_api`, `config_api`: the JSON API.
//! - `metrics`: Prometheus text format. `reloader`: hot reload. `page`: the web page.

mod auth;
mod chat_api;
mod config_api;
mod config_file;
mod cron_api;
mod events_api;
mod lockout;
mod logs_api;
mod markdown;
mod messages_api;
mod metrics;
mod page;
mod pairing_api;
mod reloader;
mod sessions_api;
mod status_api;
mod token;

use std::net::SocketAddr;
use std::sync::Arc;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use dingclaw_actors::actors::Runtime;

pub use auth::{Operator, is_operator};
pub use lockout::Lockout;
pub use markdown::to_safe_html;
pub use metrics::prometheus;
pub use reloader::{ReloadStatus, Reloader, Watch};
pub use status_api::health_of;
pub use token::{OperatorAuth, client_token, operator_auth, token_file};

/// What the handlers share.
pub struct WebState {
    pub rt: Arc<Runtime>,
    pub auth: OperatorAuth,
    pub lockout: Lockout,
    /// `None` when the gateway did not start from a file (tests, embedders).
    pub reloader: Option<Arc<Reloader>>,
}

/// A running operator server.
pub struct WebServer {
    /// `http://<addr>:<port>`.
    pub url: String,
    pub addr: SocketAddr,
    /// Where the page is (`gateway.controlUi.basePath`, without a trailing slash).
    pub base_path: String,
    handle: ServerHandle,
}

/// The web page's routes, under `gateway.controlUi.basePath`.
fn page_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(page::index))
        .route("/index.html", web::get().to(page::index))
        .route("/app.js", web::get().to(page::app_js))
        .route("/i18n.js", web::get().to(page::i18n_js))
        .route("/style.css", web::get().to(page::style));
}

/// A probe answers GET and HEAD (OpenClaw's probes do; load balancers often send HEAD), and
/// 405 with `Allow` to anything else.
fn probe<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args> + Clone,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler.clone()))
        .route(web::head().to(handler))
        .default_service(web::to(|| async {
            actix_web::HttpResponse::MethodNotAllowed()
                .insert_header(("Allow", "GET, HEAD"))
                .finish()
        }))
}

/// Headers on every answer: API answers hold transcripts and settings, which no cache should
/// keep, and no answer should be sniffed into another type.
fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add(("Cache-Control", "no-store"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
}

/// The API and probes, always at the root.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(probe("/health", status_api::health))
        .service(probe("/healthz", status_api::health))
        .service(probe("/ready", status_api::ready))
        .service(probe("/readyz", status_api::ready))
        .route("/metrics", web::get().to(metrics::metrics))
        .route("/api/status", web::get().to(status_api::status))
        .route("/api/mcp", web::get().to(status_api::mcp))
        .route("/api/sessions", web::get().to(sessions_api::list))
        .route(
            "/api/sessions/transcript",
            web::get().to(sessions_api::transcript),
        )
        .route("/api/sessions/reset", web::post().to(sessions_api::reset))
        .route("/api/chat", web::post().to(chat_api::chat))
        .route("/api/chat/history", web::get().to(chat_api::history))
        .route("/api/chat/threads", web::get().to(chat_api::threads))
        .route("/api/chat/stop", web::post().to(chat_api::stop))
        .route("/api/events", web::get().to(events_api::events))
        .route("/api/logs", web::get().to(logs_api::logs))
        .route(
            "/api/providers/{id}/retry",
            web::post().to(status_api::retry_provider),
        )
        .route("/api/config", web::get().to(config_api::config))
        .route("/api/reload", web::post().to(config_api::reload))
        .route("/api/config/file", web::get().to(config_file::get))
        .route("/api/config/file", web::put().to(config_file::save))
        .route("/api/config/file/check", web::post().to(config_file::check))
        .route("/api/cluster", web::get().to(status_api::cluster))
        .route("/api/cron/jobs", web::get().to(cron_api::list))
        .route("/api/cron/jobs", web::post().to(cron_api::create))
        .route("/api/cron/jobs/{id}", web::delete().to(cron_api::remove))
        .route("/api/cron/jobs/{id}", web::patch().to(cron_api::update))
        .route("/api/cron/jobs/{id}/runs", web::get().to(cron_api::runs))
        .route("/api/cron/jobs/{id}/run", web::post().to(cron_api::run))
        .route("/api/messages", web::post().to(messages_api::send))
        .route("/api/pairing", web::get().to(pairing_api::list))
        .route(
            "/api/pairing/{code}/approve",
            web::post().to(pairing_api::approve),
        )
        .route(
            "/api/pairing/{code}/deny",
            web::post().to(pairing_api::deny),
        );
}

impl WebServer {
    /// Starts on `addr` (port 0 picks a free one) inside the current actix System.
    pub async fn start(
        rt: Arc<Runtime>,
        addr: SocketAddr,
        auth: OperatorAuth,
        reloader: Option<Arc<Reloader>>,
    ) -> std::io::Result<WebServer> {
        // The recorder must exist before the first metric is reported.
        let _ = prometheus();
        dingclaw_actors::telemetry::zero(&rt.config());
        let gateway = rt.config().gateway.clone();
        let lockout = Lockout::new(&gateway.auth);
        // `controlUi.basePath` moves the page (not the API); `controlUi.enabled: false` hides it.
        let base = gateway.base_path.trim_end_matches('/').to_owned();
        let page = gateway.control_ui_enabled;
        let state = web::Data::new(WebState {
            rt,
            auth,
            lockout,
            reloader,
        });
        let server = HttpServer::new(move || {
            let app = App::new()
                .wrap(security_headers())
                .app_data(state.clone())
                // A config file sent back from the page may be large; other bodies are small.
                .app_data(web::JsonConfig::default().limit(1024 * 1024))
                .configure(routes);
            match (page, base.is_empty()) {
                (false, _) => app,
                (true, true) => app.configure(page_routes),
                (true, false) => {
                    let slash = format!("{base}/");
                    app.route(
                        &base,
                        web::get().to(move || {
                            let to = slash.clone();
                            async move {
                                actix_web::HttpResponse::PermanentRedirect()
                                    .insert_header(("Location", to))
                                    .finish()
                            }
                        }),
                    )
                    .service(web::scope(&base).configure(page_routes))
                }
            }
        })
        .workers(2)
        .disable_signals()
        .bind(addr)?;
        let addr = server.addrs().first().copied().unwrap_or(addr);
        let running = server.run();
        let handle = running.handle();
        actix_rt::spawn(running);
        Ok(WebServer {
            url: format!("http://{addr}"),
            addr,
            base_path: gateway.base_path.trim_end_matches('/').to_owned(),
            handle,
        })
    }

    /// The page's address with the token in its fragment (never sent to the server).
    pub fn login_url(&self, auth: &OperatorAuth) -> String {
        let page = format!("{}{}/", self.url, self.base_path);
        match auth {
            OperatorAuth::None => page,
            OperatorAuth::Secret(s) => format!("{page}#token={}", s.expose()),
        }
    }

    pub async fn stop(&self) {
        self.handle.stop(true).await;
    }
}
