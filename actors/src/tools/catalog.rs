//! The tools the running gateway offers: the registry it started with, plus each MCP
//! server's tools while that server is up. A turn takes a snapshot (`current`), so a server
//! that restarts or changes its tools mid-turn never changes the tools of a turn in flight.
//! MCP servers' states live here too, for `dingclaw mcp list`, the web page and `/metrics`.

use std::sync::{Arc, RwLock};

use dashmap::DashMap;
use serde::Serialize;

use super::{Tool, ToolRegistry};
use crate::mcp::McpToolInfo;

/// Where an MCP server is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum McpState {
    /// Starting or handshaking.
    Starting,
    /// Its tools are offered.
    Ready,
    /// Lost or failed; trying again after a pause.
    Restarting,
    /// Failed too often: not tried again until its config changes.
    Failed,
    /// Disabled in the config, or shut down.
    Stopped,
}

/// One server's state, as listings show it (never its env or headers).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpServerStatus {
    /// Its name in the config.
    pub name: String,
    /// `stdio`, `streamable-http` or `sse`.
    pub transport: &'static str,
    /// Where it is.
    pub state: McpState,
    /// A stdio server's process id while it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The tools it offers now.
    pub tools: Vec<McpToolInfo>,
    /// The newest failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Times it was (re)started after the first start.
    pub restarts: u64,
    /// Tool calls made.
    pub calls: u64,
    /// Tool calls that failed.
    pub errors: u64,
}

/// The tools agents may call: the built-in registry and the MCP servers' live tools; a turn takes a
/// snapshot.
pub struct Catalog {
    base: ToolRegistry,
    current: RwLock<Arc<ToolRegistry>>,
    mcp_tools: DashMap<String, Vec<Arc<dyn Tool>>>,
    mcp: DashMap<String, McpServerStatus>,
}

impl Catalog {
    /// A catalog of `base` and, later, the MCP servers' tools.
    pub fn new(base: ToolRegistry) -> Catalog {
        Catalog {
            current: RwLock::new(Arc::new(base.clone())),
            base,
            mcp_tools: DashMap::new(),
            mcp: DashMap::new(),
        }
    }

    /// The tools now.
    pub fn current(&self) -> Arc<ToolRegistry> {
        Arc::clone(&self.current.read().unwrap_or_else(|p| p.into_inner()))
    }

    fn rebuild(&self) {
        let mut next = self.base.clone();
        let mut servers: Vec<_> = self
            .mcp_tools
            .iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect();
        servers.sort_by(|a, b| a.0.cmp(&b.0));
        for (_, tools) in servers {
            for t in tools {
                // A built-in tool keeps its name; `<server>__` names cannot collide with it.
                if next.get(t.name()).is_none() {
                    next.register_shared(t);
                }
            }
        }
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }

    /// A server's tools changed (listed, re-listed, or gone with the server).
    pub fn set_mcp_tools(&self, server: &str, tools: Vec<Arc<dyn Tool>>) {
        if tools.is_empty() {
            self.mcp_tools.remove(server);
        } else {
            self.mcp_tools.insert(server.to_owned(), tools);
        }
        self.rebuild();
    }

    /// Records a server's state.
    pub fn set_mcp_status(&self, status: McpServerStatus) {
        self.mcp.insert(status.name.clone(), status);
    }

    /// Changes a server's recorded state in place.
    pub fn update_mcp_status(&self, server: &str, f: impl FnOnce(&mut McpServerStatus)) {
        if let Some(mut s) = self.mcp.get_mut(server) {
            f(&mut s);
        }
    }

    /// Forgets a server (removed from the config).
    pub fn remove_mcp(&self, server: &str) {
        self.mcp.remove(server);
        self.set_mcp_tools(server, Vec::new());
    }

    /// Every server's state, by name.
    pub fn mcp_statuses(&self) -> Vec<McpServerStatus> {
        let mut v: Vec<McpServerStatus> = self.mcp.iter().map(|e| e.value().clone()).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}
