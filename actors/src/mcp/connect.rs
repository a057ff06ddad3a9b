//! Starting one configured server and initialising an MCP session with it.
//!
//! A stdio server is a child process dingclaw owns: it gets only the environment given here
//! (`PATH`, `HOME`, `LANG`, `TMPDIR` and the server's configured `env`; none of dingclaw's
//! own secrets), runs in its own process group, and on Linux is told to die with the gateway
//! (`PR_SET_PDEATHSIG`), so no server outlives a gateway that is killed. Its stderr is logged
//! line by line under the server's name. HTTP servers get the configured headers on every
//! request.

use std::collections::HashMap;
use std::process::Stdio;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc::UnboundedSender;

use super::error::McpError;
use super::handler::{ClientEvents, Handler};
use super::legacy_sse;
use crate::config::{McpServerConfig, McpTransport, Secret};

/// Characters of one stderr line logged.
const STDERR_LINE: usize = 2_000;

/// A live session.
pub struct Connection {
    /// The rmcp client session.
    pub service: RunningService<RoleClient, Handler>,
    /// The child's process id (its process group's too), for a stdio server.
    pub pid: Option<u32>,
}

/// The environment a stdio server starts with.
fn child_env(configured: &indexmap::IndexMap<String, Secret>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = ["PATH", "HOME", "LANG", "TMPDIR", "USER"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
        .collect();
    if !env.iter().any(|(k, _)| k == "LANG") {
        env.push(("LANG".into(), "C.UTF-8".into()));
    }
    for (k, v) in configured {
        env.retain(|(name, _)| name != k);
        env.push((k.clone(), v.expose().to_owned()));
    }
    env
}

fn header_map(headers: &indexmap::IndexMap<String, Secret>) -> Result<HeaderMap, McpError> {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| McpError::Start(format!("\"{k}\" is not a header name")))?;
        let value = HeaderValue::from_str(v.expose())
            .map_err(|_| McpError::Start(format!("the value of header \"{k}\" is not valid")))?;
        map.insert(name, value);
    }
    Ok(map)
}

fn http_client(cfg: &McpServerConfig) -> Result<reqwest::Client, McpError> {
    crate::tls::ensure_crypto_provider();
    reqwest::Client::builder()
        .connect_timeout(cfg.connect_timeout)
        .build()
        .map_err(|e| McpError::Start(format!("HTTP client: {e}")))
}

/// Starts the server and initialises the session, within `connect_timeout`.
pub async fn connect(
    cfg: &McpServerConfig,
    events: UnboundedSender<ClientEvents>,
) -> Result<Connection, McpError> {
    let handler = Handler {
        server: cfg.name.clone(),
        events,
    };
    let timeout = cfg.connect_timeout;
    let started = match &cfg.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            let mut cmd = tokio::process::Command::new(command);
            cmd.args(args)
                .env_clear()
                .envs(child_env(env))
                .kill_on_drop(true);
            if let Some(dir) = cwd {
                cmd.current_dir(dir);
            }
            #[cfg(unix)]
            cmd.process_group(0);
            #[cfg(target_os = "linux")]
            // SAFETY: between fork and exec only async-signal-safe calls are allowed; prctl
            // is one, and it touches no memory of the parent.
            unsafe {
                cmd.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let (transport, stderr) = TokioChildProcess::builder(cmd)
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| McpError::Start(format!("`{command}`: {e}")))?;
            let pid = transport.id();
            if let Some(stderr) = stderr {
                let server = cfg.name.clone();
                tokio::spawn(async move {
                    let mut lines = BufReader::new(stderr).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let line: String = line.chars().take(STDERR_LINE).collect();
                        tracing::info!(mcp_server = %server, "{line}");
                    }
                });
            }
            let service = tokio::time::timeout(timeout, rmcp::serve_client(handler, transport))
                .await
                .map_err(|_| McpError::ConnectTimeout(timeout.as_secs()))?;
            let service = service.map_err(|e| McpError::Start(e.to_string()))?;
            Connection { service, pid }
        }
        McpTransport::StreamableHttp { url, headers } => {
            let mut custom = HashMap::new();
            for (k, v) in header_map(headers)?.iter() {
                custom.insert(k.clone(), v.clone());
            }
            let config =
                StreamableHttpClientTransportConfig::with_uri(url.as_str()).custom_headers(custom);
            let transport = StreamableHttpClientTransport::with_client(http_client(cfg)?, config);
            let service = tokio::time::timeout(timeout, rmcp::serve_client(handler, transport))
                .await
                .map_err(|_| McpError::ConnectTimeout(timeout.as_secs()))?
                .map_err(|e| McpError::Start(e.to_string()))?;
            Connection { service, pid: None }
        }
        McpTransport::Sse { url, headers } => {
            let transport =
                legacy_sse::open(http_client(cfg)?, url, header_map(headers)?, timeout).await?;
            let service = tokio::time::timeout(timeout, rmcp::serve_client(handler, transport))
                .await
                .map_err(|_| McpError::ConnectTimeout(timeout.as_secs()))?
                .map_err(|e| McpError::Start(e.to_string()))?;
            Connection { service, pid: None }
        }
    };
    Ok(started)
}

/// Ends a stdio server's whole process group (what it started too).
pub fn kill_group(pid: u32) {
    #[cfg(unix)]
    // SAFETY: kill(2) on the process group we created for the server; no memory involved.
    unsafe {
        libc::kill(-(pid as i32), libc::SIGKILL);
    }
}
