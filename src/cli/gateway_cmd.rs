//! `dingclaw gateway`: runs every enabled account, agent, provider and the scheduler, and the
//! operator server on `gateway.port`, until SIGTERM or Ctrl-C; then drains in-flight turns
//! (bounded) and exits 0.

use std::path::PathBuf;
use std::process::ExitCode;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use dingclaw_actors::actors::Runtime;
use dingclaw_actors::config::Environment;

use crate::web::{OperatorAuth, WebServer, operator_auth, token_file};

use super::{init_tracing, load_config, shutdown_signal};

pub(super) fn run(config: Option<PathBuf>, env: &dyn Environment) -> anyhow::Result<ExitCode> {
    init_tracing();
    let loaded = match load_config(config, env) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let config = loaded.config;
    let drain = config.runtime.drain;
    actix_rt::System::new().block_on(async move {
        let summary = config.summary();
        let addr = SocketAddr::new(config.gateway.bind, config.gateway.port);
        let auth = operator_auth(&config)?;
        let token_note = match (&auth, config.gateway.auth.token.is_some()) {
            (OperatorAuth::None, _) => "no operator auth (gateway.auth.mode: none)".to_owned(),
            (_, true) => "operator token from the config".to_owned(),
            (_, false) => format!("operator token in {}", token_file(&config).display()),
        };
        let rt = Runtime::start(config)?;
        let web = WebServer::start(Arc::clone(&rt), addr, auth)
            .await
            .with_context(|| format!("cannot listen on {addr} (gateway.port)"))?;
        tracing::info!(%summary, url = %web.url, %token_note, "dingclaw gateway started");
        let signal = shutdown_signal().await;
        tracing::info!(%signal, drain = ?drain, "shutting down");
        web.stop().await;
        rt.shutdown(drain).await;
        for p in rt.provider_states() {
            tracing::info!(
                provider = %p.id,
                calls = p.usage.calls,
                errors = p.usage.errors,
                prompt_tokens = p.usage.prompt_tokens,
                completion_tokens = p.usage.completion_tokens,
                circuit = p.circuit.state,
                "provider totals"
            );
        }
        tracing::info!("stopped");
        Ok(ExitCode::SUCCESS)
    })
}
