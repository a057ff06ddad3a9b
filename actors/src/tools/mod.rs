//! Tools an agent's model can call (OpenAI function calling). A tool is a plain Rust type that
//! implements `Tool`; adding one is one file and one line in `ToolRegistry::builtin`.
//!
//! A tool gets its arguments as JSON and a `ToolContext` saying who is asking (agent, session,
//! conversation, sender), so a tool can act for the conversation that called it. Whatever it
//! returns, or the error it fails with, goes back to the model as the call's result: a failing
//! tool never ends the turn.

mod current_time;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

pub use current_time::CurrentTime;

use crate::provider::{ToolCall, ToolSpec};
use crate::routing::ChatType;

/// Why a tool call failed; the model sees the message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ToolError {
    #[error("invalid arguments: {0}")]
    BadArguments(String),
    #[error("{0}")]
    Failed(String),
    #[error("not allowed: {0}")]
    Forbidden(String),
}

/// Who called a tool.
#[derive(Clone, Debug)]
pub struct ToolContext {
    pub agent_id: String,
    pub session_key: String,
    pub channel: String,
    pub account: String,
    pub chat: ChatType,
    pub conversation_id: String,
    pub sender_id: String,
    /// IANA time zone for dates and schedules (`agents.defaults.userTimezone`, else
    /// Asia/Shanghai).
    pub timezone: String,
    /// The scheduled job this turn runs for, if it is a scheduled run.
    pub job: Option<String>,
}

/// A tool.
pub trait Tool: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn description(&self) -> &'static str;
    /// JSON Schema of the arguments.
    fn parameters(&self) -> Value;
    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>>;
}

/// The tools available to agents.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<&'static str, Arc<dyn Tool>>,
}

impl ToolRegistry {
    /// No tools.
    pub fn empty() -> Self {
        Self::default()
    }

    /// dingclaw's built-in tools.
    pub fn builtin() -> Self {
        let mut r = Self::empty();
        r.register(CurrentTime);
        r
    }

    pub fn register(&mut self, tool: impl Tool) -> &mut Self {
        self.tools.insert(tool.name(), Arc::new(tool));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.tools.keys().copied().collect()
    }

    /// The function definitions sent to the model.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.tools
            .values()
            .map(|t| ToolSpec {
                name: t.name().to_owned(),
                description: t.description().to_owned(),
                parameters: t.parameters(),
            })
            .collect()
    }

    /// Runs one call; the result is what the model reads (errors included, as `{"error": ..}`).
    pub async fn run(&self, call: &ToolCall, ctx: ToolContext) -> String {
        let Some(tool) = self.tools.get(call.name.as_str()).cloned() else {
            return json!({"error": format!("unknown tool \"{}\" (available: {})", call.name, self.names().join(", "))}).to_string();
        };
        let args: Value = match serde_json::from_str(if call.arguments.trim().is_empty() {
            "{}"
        } else {
            &call.arguments
        }) {
            Ok(v) => v,
            Err(e) => return json!({"error": format!("arguments are not JSON: {e}")}).to_string(),
        };
        match crate::supervise::catch(tool.call(args, ctx)).await {
            Ok(Ok(v)) => v.to_string(),
            Ok(Err(e)) => {
                tracing::info!(tool = %call.name, error = %e, "tool call failed; the model is told");
                json!({"error": e.to_string()}).to_string()
            }
            Err(p) => {
                tracing::error!(tool = %call.name, error = %p, "tool panicked; the model is told");
                json!({"error": "the tool crashed"}).to_string()
            }
        }
    }
}
