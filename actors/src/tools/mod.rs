//! Tools an agent's model can call. A tool is a plain Rust type that implements `Tool`; adding
//! one is one file and one line in `ToolRegistry::builtin` (or, for a tool that needs the
//! runtime, in the runtime's start).
//!
//! A tool gets its arguments as JSON and a `ToolContext` saying who is asking (agent, session,
//! conversation, sender, whether the sender owns the gateway), with the config and the agent's
//! workspace. Whatever it returns, or the error it fails with, goes back to the model as the
//! call's result: a failing, hanging or panicking tool never ends the turn.
//!
//! Which tools a call is offered is decided per call (`offered`): the tool policy
//! (`config::tool_policy`), then what each tool needs (a search provider, an owner...).
//!
//! - `current_time`; `web_fetch` and `web_search` (with `untrusted` wrapping of what they
//!   bring back); `read`, `write`, `edit`, `apply_patch` (confined by `workspace`);
//!   `memory_search`, `memory_get`; `exec`, `process`.

mod apply_patch;
mod approvals;
mod catalog;
mod current_time;
mod edit;
pub mod exec;
mod memory_tools;
mod offered;
mod process;
mod read;
pub mod untrusted;
mod web_fetch;
pub mod web_search;
pub mod workspace;
mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

pub use apply_patch::ApplyPatch;
pub use approvals::{APPROVAL_TTL, Approvals, Decision, PendingApproval};
pub use catalog::{Catalog, McpServerStatus, McpState};
pub use current_time::CurrentTime;
pub use edit::Edit;
pub use exec::{Exec, exec_config};
pub use memory_tools::{MemoryGet, MemorySearch};
pub use offered::{Offer, OfferScope, Unavailable, availability, listing, offered};
pub use process::{Ended, Launch, Process, Processes, Running, tail};
pub use read::Read;
pub use web_fetch::WebFetch;
pub use web_search::WebSearch;
pub use write::Write;

use crate::config::Config;
use crate::provider::{ToolCall, ToolSpec};
use crate::routing::ChatType;

/// Why a tool call failed; the model sees the message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ToolError {
    /// The arguments do not fit the tool's schema.
    #[error("invalid arguments: {0}")]
    BadArguments(String),
    /// The tool ran and failed.
    #[error("{0}")]
    Failed(String),
    /// The caller may not do this (a path outside the workspace, an owner-only action).
    #[error("not allowed: {0}")]
    Forbidden(String),
}

/// Who called a tool, and with what around it.
#[derive(Clone, Debug)]
pub struct ToolContext {
    /// The agent whose turn it is.
    pub agent_id: String,
    /// Its session.
    pub session_key: String,
    /// The channel of the conversation.
    pub channel: String,
    /// The account (bot).
    pub account: String,
    /// A private chat or a group.
    pub chat: ChatType,
    /// The conversation.
    pub conversation_id: String,
    /// Who wrote the message the turn answers.
    pub sender_id: String,
    /// IANA time zone for dates and schedules (`agents.defaults.userTimezone`, else
    /// Asia/Shanghai).
    pub timezone: String,
    /// The scheduled job this turn runs for, if it is a scheduled run.
    pub job: Option<String>,
    /// The config the turn runs with.
    pub config: Arc<Config>,
    /// The agent's workspace folder.
    pub workspace: PathBuf,
    /// The sender owns the gateway (`commands.ownerAllowFrom`, or the operator's web chat):
    /// only owners' turns may run commands.
    pub owner: bool,
    /// Folders `read` may read outside the workspace (the skills' folders).
    pub read_roots: Arc<Vec<PathBuf>>,
}

/// Does `sender` own the gateway? Owners are named in `commands.ownerAllowFrom`; the web
/// chat is the operator, who signed in with the gateway's token.
pub fn sender_is_owner(config: &Config, channel: &str, sender: &str) -> bool {
    channel == crate::actors::webchat::WEBCHAT_CHANNEL
        || (!sender.is_empty() && config.commands.is_owner(channel, sender))
}

/// Where a tool comes from, for listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolSource {
    /// One of dingclaw's own.
    BuiltIn,
    /// An MCP server's.
    Mcp,
}

/// A tool.
pub trait Tool: Send + Sync + 'static {
    /// Its name, as the model calls it.
    fn name(&self) -> &str;
    /// What it does, for the model.
    fn description(&self) -> &str;
    /// JSON Schema of the arguments.
    fn parameters(&self) -> Value;
    /// Runs it; the model reads the value (or the error's message).
    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>>;
    /// How long one call may take before the model is told it did not finish.
    fn deadline(&self, _ctx: &ToolContext) -> Duration {
        DEFAULT_DEADLINE
    }
    /// Where it comes from.
    fn source(&self) -> ToolSource {
        ToolSource::BuiltIn
    }
}

/// The tools a gateway started with `config` has, for listings made without one (the
/// command line): the built-in ones, those the runtime adds, and `cron` when enabled.
pub fn standard_tools(config: &Config) -> Vec<(String, ToolSource)> {
    let builtin = ToolRegistry::builtin();
    let mut names: Vec<&str> = builtin.names();
    names.extend(["memory_search", "memory_get", "exec", "process"]);
    if config.cron.enabled {
        names.push("cron");
    }
    names.sort_unstable();
    names
        .into_iter()
        .map(|n| (n.to_owned(), ToolSource::BuiltIn))
        .collect()
}

/// A tool call's deadline unless the tool says otherwise.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// The tools available to agents.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
    /// Each tool's definition, built once (a call's offer copies them).
    specs: BTreeMap<String, ToolSpec>,
}

impl ToolRegistry {
    /// No tools.
    pub fn empty() -> Self {
        Self::default()
    }

    /// dingclaw's built-in tools that need nothing from the runtime (the runtime adds `cron`,
    /// the memory tools, `exec` and `process`).
    pub fn builtin() -> Self {
        let mut r = Self::empty();
        r.register(CurrentTime)
            .register(WebFetch::default())
            .register(WebSearch::default())
            .register(Read)
            .register(Write)
            .register(Edit)
            .register(ApplyPatch);
        r
    }

    /// Adds a tool (replacing one of the same name).
    pub fn register(&mut self, tool: impl Tool) -> &mut Self {
        self.register_shared(Arc::new(tool))
    }

    /// Adds a tool that is shared with other registries (an MCP server's tools are in every
    /// snapshot the runtime makes).
    pub fn register_shared(&mut self, tool: Arc<dyn Tool>) -> &mut Self {
        let name = tool.name().to_owned();
        self.specs.insert(
            name.clone(),
            ToolSpec::new(name.clone(), tool.description(), tool.parameters()),
        );
        self.tools.insert(name, tool);
        self
    }

    /// No tools.
    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    /// The tools' names.
    pub fn names(&self) -> Vec<&str> {
        self.tools.keys().map(String::as_str).collect()
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<dyn Tool>> {
        self.tools.get(name)
    }

    /// Every tool.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Tool>> {
        self.tools.values()
    }

    /// Each tool's name and source, for listings.
    pub fn entries(&self) -> Vec<(String, ToolSource)> {
        self.iter()
            .map(|t| (t.name().to_owned(), t.source()))
            .collect()
    }

    /// The function definitions of `names`, as sent to the model.
    pub fn specs_of<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> Vec<ToolSpec> {
        names
            .into_iter()
            .filter_map(|n| self.specs.get(n))
            .cloned()
            .collect()
    }

    /// Every tool's definition (no policy applied).
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.specs_of(self.names())
    }

    /// Runs one call the model made, if `offered` holds its name; the result is what the
    /// model reads (errors included, as `{"error": ..}`).
    pub async fn run(&self, call: &ToolCall, offered: &[ToolSpec], ctx: ToolContext) -> String {
        let tool = self
            .tools
            .get(call.name.as_str())
            .filter(|_| offered.iter().any(|s| s.name == call.name))
            .cloned();
        let Some(tool) = tool else {
            let names: Vec<&str> = offered.iter().map(|s| s.name.as_str()).collect();
            return json!({"error": format!("unknown tool \"{}\" (available: {})", call.name, names.join(", "))}).to_string();
        };
        let args: Value = match serde_json::from_str(if call.arguments.trim().is_empty() {
            "{}"
        } else {
            &call.arguments
        }) {
            Ok(v) => v,
            Err(e) => return json!({"error": format!("arguments are not JSON: {e}")}).to_string(),
        };
        let deadline = tool.deadline(&ctx);
        let run = crate::supervise::catch(tool.call(args, ctx));
        match tokio::time::timeout(deadline, run).await {
            Ok(Ok(Ok(v))) => v.to_string(),
            Ok(Ok(Err(e))) => {
                tracing::info!(tool = %call.name, error = %e, "tool call failed; the model is told");
                json!({"error": e.to_string()}).to_string()
            }
            Ok(Err(p)) => {
                tracing::error!(tool = %call.name, error = %p, "tool panicked; the model is told");
                json!({"error": "the tool crashed"}).to_string()
            }
            Err(_) => {
                tracing::warn!(tool = %call.name, ?deadline, "tool call timed out; the model is told");
                json!({"error": format!("the tool did not finish within {} s", deadline.as_secs())})
                    .to_string()
            }
        }
    }
}
