//! `dingclaw gateway`: runs every enabled account, agent, provider and the scheduler, and the
//! operator server on `gateway.port`, until SIGTERM or Ctrl-C; then drains in-flight turns
//! (bounded) and exits 0.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use dingclaw_actors::actors::Runtime;
use std::time::Duration;

use dingclaw_actors::config::{Environment, ProcessEnv, ReloadMode, StoreKind};
use dingclaw_actors::store::{GatewayLock, PostgresGatewayLock};

use crate::web::{OperatorAuth, Reloader, WebServer, operator_auth, token_file};

use super::{init_tracing, load_config};

pub(super) fn run(config: Option<PathBuf>, env: &dyn Environment) -> anyhow::Result<ExitCode> {
    init_tracing();
    let loaded = match load_config(config, env) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let digest = loaded.digest;
    let config = loaded.config;
    let drain = config.runtime.drain;
    // One gateway per store (or a cluster on PostgreSQL): a second lone one would answer
    // every message twice.
    let _file_lock = (config.runtime.store == StoreKind::Sqlite)
        .then(|| GatewayLock::acquire(&config.runtime.store_path))
        .transpose()?;
    let _postgres_lock = match (&config.runtime.store, &config.runtime.store_url) {
        (StoreKind::Postgres, Some(url)) if config.runtime.cluster.is_some() => Some(
            PostgresGatewayLock::acquire_shared(url, config.runtime.store_ca_file.as_deref())?,
        ),
        (StoreKind::Postgres, Some(url)) => Some(PostgresGatewayLock::acquire(
            url,
            config.runtime.store_ca_file.as_deref(),
        )?),
        _ => None,
    };
    actix_rt::System::new().block_on(async move {
        // Listen for the stop signals before starting anything: a SIGTERM that arrives while
        // the gateway starts (a service manager stopping it early) is then read once it has
        // started and stops it cleanly, instead of killing it with the store half opened.
        use actix_rt::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let summary = config.summary();
        let addr = SocketAddr::new(config.gateway.bind, config.gateway.port);
        let (auth, generated) = operator_auth(&config)?;
        let token_note = match (&auth, &config.gateway.auth.token_source) {
            (OperatorAuth::None, _) => "no operator auth (gateway.auth.mode: none)".to_owned(),
            (_, _) if config.gateway.auth.mode == dingclaw_actors::config::AuthMode::Password => {
                "operator password from the config".to_owned()
            }
            (_, Some(source)) => format!("operator token: {source}"),
            (_, None) => format!("operator token in {}", token_file(&config).display()),
        };
        let token_path = token_file(&config);
        let source = config.source.clone();
        let reload = (config.gateway.reload, Duration::from_millis(config.gateway.reload_debounce_ms));
        // The gateway keeps its sessions where the config says (SQLite by default).
        let handle = crate::allocator::with_memory_release(
            Runtime::builder(config).store_from_config(),
        )
        .start()?;
        let rt = Arc::clone(handle.runtime());
        let reloader = source.map(|path| Arc::new(Reloader::new(Arc::clone(&rt), path, Box::new(ProcessEnv), digest)));
        let _watch = match (&reloader, reload.0) {
            (Some(r), ReloadMode::Hybrid) => match r.watch(reload.1) {
                Ok(w) => Some(w),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch the config file; SIGHUP and the web page still reload it");
                    None
                }
            },
            _ => None,
        };
        let web = WebServer::start(Arc::clone(&rt), addr, auth.clone(), reloader.clone())
            .await
            .with_context(|| format!("cannot listen on {addr} (gateway.port)"))?;
        tracing::info!(%summary, url = %web.url, %token_note, "dingclaw gateway started");
        if generated {
            // Once, and only to a terminal: under systemd or Docker stdout is the journal,
            // and the URL carries the token. Elsewhere, where to find it.
            if std::io::stdout().is_terminal() {
                println!("Open the dingclaw web page: {}", web.login_url(&auth));
            } else {
                println!(
                    "The operator token was generated and kept in {}; `dingclaw dashboard` prints the web page's login URL.",
                    token_path.display()
                );
            }
        }
        let signal = loop {
            tokio::select! {
                _ = term.recv() => break "SIGTERM",
                _ = interrupt.recv() => break "ctrl-c",
                _ = hangup.recv() => match reloader.clone() {
                    Some(r) => {
                        let _ = actix_rt::task::spawn_blocking(move || r.reload_now("SIGHUP")).await;
                    }
                    None => tracing::warn!("SIGHUP: no config file to reload"),
                },
            }
        };
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
