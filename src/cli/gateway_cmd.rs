//! `dingclaw gateway`: runs every enabled account, agent and provider until SIGTERM or
//! Ctrl-C, then drains in-flight turns (bounded) and exits 0.

use std::path::PathBuf;
use std::process::ExitCode;

use dingclaw_actors::actors::Runtime;
use dingclaw_actors::config::Environment;

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
        let rt = Runtime::start(config)?;
        tracing::info!(%summary, "dingclaw gateway started");
        let signal = shutdown_signal().await;
        tracing::info!(%signal, drain = ?drain, "shutting down");
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
