//! McpServerActor: one per configured MCP server, on the runtime's MCP thread. It starts the
//! server (a child process or an HTTP session, `mcp::connect`), lists its tools and publishes
//! them in the runtime's `Catalog` as `<server>__<tool>`, lists them again when the server
//! says they changed, and runs the calls agents make, each under the server's request
//! timeout. A server that cannot start, or that crashes or disconnects, is started again
//! after a pause that doubles (0.5 s to 30 s); more than 5 failures in 10 minutes and it is
//! left failed (its tools absent, the reason in `dingclaw mcp list`) until its config
//! changes. The gateway never goes down with a server.
//!
//! Calls do not wait on one another: the actor hands each one the live session and goes on.

mod messages;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{Peer, RoleClient, RunningServiceCancellationToken};
use serde_json::Value;
use tokio::sync::mpsc;

pub use messages::{CallMcpTool, StopMcpServer};
use messages::{Connect, Connected, Disconnected, Relist};

use crate::config::McpServerConfig;
use crate::mcp::{
    ClientEvents, MAX_RESULT_CHARS, McpError, McpTool, McpToolInfo, connect, kill_group,
    result_for_model, tool_names,
};
use crate::supervise::{ActorKind, RestartPolicy, Restarts, resume_after};
use crate::tools::{Catalog, McpServerStatus, McpState, Tool};

/// How often a server may fail before it is left failed, and the pauses between attempts.
pub const SERVER_RESTARTS: RestartPolicy = RestartPolicy {
    max_restarts: 5,
    window: Duration::from_secs(600),
    initial_backoff: Duration::from_millis(500),
    max_backoff: Duration::from_secs(30),
};

/// The live session.
struct Live {
    peer: Peer<RoleClient>,
    cancel: RunningServiceCancellationToken,
    pid: Option<u32>,
    generation: u64,
}

/// One MCP server: starts it (or connects to it), lists its tools, calls them, restarts it.
pub struct McpServerActor {
    cfg: McpServerConfig,
    catalog: Arc<Catalog>,
    live: Option<Live>,
    /// Counts connection attempts, so news from an older session is ignored.
    generation: u64,
    connecting: bool,
    stopped: bool,
    started_once: bool,
    server_restarts: Restarts,
    restarts: Restarts,
}

impl McpServerActor {
    /// `policy`: how often the server may be started again (`SERVER_RESTARTS`).
    pub fn new(cfg: McpServerConfig, catalog: Arc<Catalog>, policy: RestartPolicy) -> Self {
        Self {
            cfg,
            catalog,
            live: None,
            generation: 0,
            connecting: false,
            stopped: false,
            started_once: false,
            server_restarts: Restarts::new(policy),
            restarts: Restarts::default(),
        }
    }

    fn status(&self, state: McpState, last_error: Option<String>) {
        let name = self.cfg.name.clone();
        let transport = self.cfg.transport.kind();
        if self.catalog.mcp_statuses().iter().any(|s| s.name == name) {
            self.catalog.update_mcp_status(&name, |s| {
                s.state = state;
                if last_error.is_some() {
                    s.last_error = last_error;
                }
                if state != McpState::Ready {
                    s.tools.clear();
                    s.pid = None;
                }
            });
        } else {
            self.catalog.set_mcp_status(McpServerStatus {
                name,
                transport,
                state,
                pid: None,
                tools: Vec::new(),
                last_error,
                restarts: 0,
                calls: 0,
                errors: 0,
            });
        }
    }

    /// Ends the live session, if any, and whatever its child started.
    fn end_session(&mut self) {
        if let Some(live) = self.live.take() {
            live.cancel.cancel();
            if let Some(pid) = live.pid {
                kill_group(pid);
            }
        }
    }

    /// Ends the session and takes its tools away from agents.
    fn drop_live(&mut self) {
        self.end_session();
        self.catalog.set_mcp_tools(&self.cfg.name, Vec::new());
    }

    /// Tries again after the backoff, or gives up when the budget is spent.
    fn retry(&mut self, why: String, ctx: &mut Context<Self>) {
        if self.stopped {
            return;
        }
        let plan = self.server_restarts.record(ActorKind::McpServer);
        if plan.budget_exhausted {
            tracing::error!(server = %self.cfg.name, error = %why, "MCP server failed too often; left failed until its config changes");
            self.status(McpState::Failed, Some(why));
            return;
        }
        tracing::warn!(server = %self.cfg.name, error = %why, retry_in = ?plan.backoff, "MCP server is down; starting it again");
        self.status(McpState::Restarting, Some(why));
        self.catalog
            .update_mcp_status(&self.cfg.name, |s| s.restarts += 1);
        ctx.run_later(plan.backoff, |_, ctx| ctx.notify(Connect));
    }

    /// The tools as agents get them.
    fn publish(&mut self, tools: Vec<rmcp::model::Tool>, ctx: &mut Context<Self>) {
        let kept: Vec<rmcp::model::Tool> = tools
            .into_iter()
            .filter(|t| self.cfg.keeps(&t.name))
            .collect();
        let raw: Vec<&str> = kept.iter().map(|t| t.name.as_ref()).collect();
        let names = tool_names(&self.cfg.prefix, &raw);
        let infos: Vec<McpToolInfo> = kept
            .iter()
            .zip(names)
            .map(|(t, name)| McpToolInfo {
                name,
                tool: t.name.to_string(),
                server: self.cfg.name.clone(),
                description: t
                    .description
                    .as_deref()
                    .or(t.title.as_deref())
                    .unwrap_or("")
                    .to_owned(),
                parameters: Value::Object((*t.input_schema).clone()),
            })
            .collect();
        let addr = ctx.address();
        let tools: Vec<Arc<dyn Tool>> = infos
            .iter()
            .map(|info| {
                Arc::new(McpTool {
                    info: info.clone(),
                    server: addr.clone(),
                    timeout: self.cfg.request_timeout,
                }) as Arc<dyn Tool>
            })
            .collect();
        tracing::info!(server = %self.cfg.name, tools = tools.len(), "MCP server ready");
        self.catalog.set_mcp_tools(&self.cfg.name, tools);
        self.status(McpState::Ready, None);
        let pid = self.live.as_ref().and_then(|l| l.pid);
        self.catalog.update_mcp_status(&self.cfg.name, |s| {
            s.tools = infos;
            s.pid = pid;
            s.last_error = None;
        });
    }

    /// Lists the tools of the live session.
    fn relist(&mut self, ctx: &mut Context<Self>) {
        let Some(live) = &self.live else { return };
        let (peer, generation, timeout) =
            (live.peer.clone(), live.generation, self.cfg.request_timeout);
        let listing = async move { tokio::time::timeout(timeout, peer.list_all_tools()).await };
        ctx.spawn(listing.into_actor(self).map(move |res, act, ctx| {
            if act.live.as_ref().map(|l| l.generation) != Some(generation) {
                return;
            }
            match res {
                Ok(Ok(tools)) => act.publish(tools, ctx),
                Ok(Err(e)) => tracing::warn!(server = %act.cfg.name, error = %e, "listing the MCP server's tools failed"),
                Err(_) => tracing::warn!(server = %act.cfg.name, "listing the MCP server's tools timed out"),
            }
        }));
    }
}

impl Actor for McpServerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        self.status(McpState::Starting, None);
        ctx.notify(Connect);
    }

    /// Stopped by `StopMcpServer` or with its thread: the runtime has already replaced or
    /// forgotten this server in the catalog, so only the session is ended here.
    fn stopped(&mut self, _: &mut Self::Context) {
        self.end_session();
    }
}

impl Supervised for McpServerActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        let plan = self.restarts.record(ActorKind::McpServer);
        self.drop_live();
        self.connecting = false;
        resume_after(ctx, plan.backoff, |_, ctx| ctx.notify(Connect));
    }
}

impl Handler<Connect> for McpServerActor {
    type Result = ();

    fn handle(&mut self, _: Connect, ctx: &mut Self::Context) {
        if self.stopped || self.connecting || self.live.is_some() {
            return;
        }
        self.connecting = true;
        self.generation += 1;
        let generation = self.generation;
        if self.started_once {
            self.status(McpState::Restarting, None);
        }
        self.started_once = true;
        let cfg = self.cfg.clone();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let addr = ctx.address();
        actix_rt::spawn(async move {
            while let Some(ClientEvents::ToolsChanged) = rx.recv().await {
                addr.do_send(Relist { generation });
            }
        });
        let timeout = cfg.request_timeout;
        let starting = async move {
            let conn = connect(&cfg, tx).await?;
            let tools = tokio::time::timeout(timeout, conn.service.peer().list_all_tools())
                .await
                .map_err(|_| McpError::CallTimeout(timeout.as_secs()))?
                .map_err(|e| McpError::Protocol(format!("tools/list: {e}")));
            match tools {
                Ok(tools) => Ok((conn, tools)),
                Err(e) => {
                    if let Some(pid) = conn.pid {
                        kill_group(pid);
                    }
                    Err(e)
                }
            }
        };
        ctx.spawn(starting.into_actor(self).map(move |res, act, ctx| {
            act.connecting = false;
            match res {
                Ok((conn, tools)) => ctx.notify(Connected {
                    generation,
                    conn: Some(conn),
                    tools,
                }),
                Err(e) => act.retry(e.to_string(), ctx),
            }
        }));
    }
}

impl Handler<Connected> for McpServerActor {
    type Result = ();

    fn handle(&mut self, mut msg: Connected, ctx: &mut Self::Context) {
        let Some(conn) = msg.conn.take() else { return };
        if self.stopped || msg.generation != self.generation {
            conn.service.cancellation_token().cancel();
            if let Some(pid) = conn.pid {
                kill_group(pid);
            }
            return;
        }
        let generation = msg.generation;
        self.live = Some(Live {
            peer: conn.service.peer().clone(),
            cancel: conn.service.cancellation_token(),
            pid: conn.pid,
            generation,
        });
        // The session's end, whatever its cause, comes back as `Disconnected`.
        let addr = ctx.address();
        actix_rt::spawn(async move {
            let reason = conn.service.waiting().await;
            addr.do_send(Disconnected {
                generation,
                reason: format!("{reason:?}"),
            });
        });
        self.publish(msg.tools, ctx);
    }
}

impl Handler<Disconnected> for McpServerActor {
    type Result = ();

    fn handle(&mut self, msg: Disconnected, ctx: &mut Self::Context) {
        if self.live.as_ref().map(|l| l.generation) != Some(msg.generation) {
            return;
        }
        self.drop_live();
        if self.stopped {
            return;
        }
        self.retry(format!("the connection ended ({})", msg.reason), ctx);
    }
}

impl Handler<Relist> for McpServerActor {
    type Result = ();

    fn handle(&mut self, msg: Relist, ctx: &mut Self::Context) {
        if self.live.as_ref().map(|l| l.generation) == Some(msg.generation) {
            self.relist(ctx);
        }
    }
}

impl Handler<CallMcpTool> for McpServerActor {
    type Result = ResponseFuture<Result<Value, McpError>>;

    fn handle(&mut self, msg: CallMcpTool, _: &mut Self::Context) -> Self::Result {
        let server = self.cfg.name.clone();
        let catalog = Arc::clone(&self.catalog);
        let timeout = self.cfg.request_timeout;
        let Some(live) = &self.live else {
            let why = catalog
                .mcp_statuses()
                .into_iter()
                .find(|s| s.name == server)
                .and_then(|s| s.last_error)
                .unwrap_or_else(|| "it is starting".to_owned());
            return Box::pin(async move { Err(McpError::NotRunning(why)) });
        };
        let peer = live.peer.clone();
        Box::pin(async move {
            let started = Instant::now();
            let params = CallToolRequestParams::new(msg.tool).with_arguments(msg.arguments);
            let result = match tokio::time::timeout(timeout, peer.call_tool(params)).await {
                Err(_) => Err(McpError::CallTimeout(timeout.as_secs())),
                Ok(Err(rmcp::ServiceError::TransportClosed)) => Err(McpError::Closed),
                Ok(Err(e)) => Err(McpError::Protocol(e.to_string())),
                Ok(Ok(r)) => serde_json::to_value(&r)
                    .map_err(|e| McpError::Protocol(e.to_string()))
                    .and_then(|v| result_for_model(&v, MAX_RESULT_CHARS)),
            };
            // A tool's own error is a successful exchange with the server.
            let ok = matches!(result, Ok(_) | Err(McpError::Tool(_)));
            crate::telemetry::mcp_call(&server, started.elapsed(), ok);
            catalog.update_mcp_status(&server, |s| {
                s.calls += 1;
                if !ok {
                    s.errors += 1;
                }
            });
            result
        })
    }
}

impl Handler<StopMcpServer> for McpServerActor {
    type Result = ();

    fn handle(&mut self, _: StopMcpServer, ctx: &mut Self::Context) {
        self.stopped = true;
        self.end_session();
        ctx.stop();
    }
}
