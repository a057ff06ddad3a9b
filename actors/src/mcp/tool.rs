//! One MCP tool as one of the agent's tools: the call goes to the server's actor, which runs
//! it on its live session under the server's request timeout.

use std::time::Duration;

use actix::Addr;
use futures_util::future::LocalBoxFuture;
use serde::Serialize;
use serde_json::Value;

use crate::actors::mcp::{CallMcpTool, McpServerActor};
use crate::tools::{Tool, ToolContext, ToolError, ToolSource};

/// What the model and listings know about an MCP tool.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct McpToolInfo {
    /// `<server>__<tool>`.
    pub name: String,
    /// The server's own name for it.
    pub tool: String,
    /// The server it comes from, as configured.
    pub server: String,
    /// The server's description of the tool, as the model reads it.
    pub description: String,
    /// The JSON Schema of its arguments.
    #[serde(skip)]
    pub parameters: Value,
}

/// An MCP server's tool, offered to agents like a built-in one.
pub struct McpTool {
    /// Its names, description and schema.
    pub info: McpToolInfo,
    /// The actor of its server.
    pub server: Addr<McpServerActor>,
    /// How long a call may take (`requestTimeoutMs`).
    pub timeout: Duration,
}

impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.info.name
    }

    fn description(&self) -> &str {
        &self.info.description
    }

    fn parameters(&self) -> Value {
        self.info.parameters.clone()
    }

    fn deadline(&self, _: &ToolContext) -> Duration {
        // The server's own timeout ends the call first; this only catches a lost actor.
        self.timeout + Duration::from_secs(5)
    }

    fn source(&self) -> ToolSource {
        ToolSource::Mcp
    }

    fn call(
        &self,
        args: Value,
        _ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        let (server, tool) = (self.server.clone(), self.info.tool.clone());
        Box::pin(async move {
            let arguments = match args {
                Value::Object(map) => map,
                Value::Null => serde_json::Map::new(),
                other => {
                    return Err(ToolError::BadArguments(format!(
                        "arguments must be a JSON object, not {other}"
                    )));
                }
            };
            server
                .send(CallMcpTool { tool, arguments })
                .await
                .map_err(|e| ToolError::Failed(format!("the MCP server's actor is gone: {e}")))?
                .map_err(|e| ToolError::Failed(e.to_string()))
        })
    }
}
