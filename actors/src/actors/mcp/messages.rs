//! What an McpServerActor accepts.

use actix::prelude::*;
use serde_json::{Map, Value};

use crate::mcp::{Connection, McpError};

/// Run one of the server's tools (`tool` is the server's own name for it).
#[derive(Message)]
#[rtype(result = "Result<Value, McpError>")]
pub struct CallMcpTool {
    /// The tool's name on its server (not the `<server>__<tool>` name the model sees).
    pub tool: String,
    /// The model's arguments, already checked against the tool's schema.
    pub arguments: Map<String, Value>,
}

/// Stop the server for good (removed from the config, or the gateway stops).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopMcpServer;

/// Start (or start again) the server.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Connect;

/// A session is up, with its tools.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Connected {
    pub generation: u64,
    pub conn: Option<Connection>,
    pub tools: Vec<rmcp::model::Tool>,
}

/// The session of `generation` ended.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Disconnected {
    pub generation: u64,
    pub reason: String,
}

/// The server's tools changed: list them again.
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct Relist {
    pub generation: u64,
}
