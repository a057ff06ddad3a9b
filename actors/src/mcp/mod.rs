//! Model Context Protocol clients: what a `McpServerActor` (`actors::mcp`) uses to reach one
//! configured server. The protocol itself is the official Rust SDK's (`rmcp`): its stdio and
//! streamable HTTP transports, initialisation, paging and JSON-RPC; dingclaw adds
//!
//! - `connect`: starting a stdio server as a child we own (its own process group, killed with
//!   the gateway, stderr logged line by line, an explicit environment) or opening an HTTP
//!   session with the configured headers;
//! - `legacy_sse`: the 2024-11-05 HTTP+SSE transport, which the SDK no longer ships and many
//!   deployed servers (and OpenClaw's default `transport`) still use;
//! - `handler`: the client side of the session (who we are; a changed tool list is reported);
//! - `naming`: OpenClaw's `<server>__<tool>` names;
//! - `content`: a tool result as the model reads it (text, structured content, images
//!   described, oversized results cut);
//! - `tool`: an MCP tool as one of the agent's `Tool`s.

mod connect;
mod content;
mod error;
mod handler;
mod legacy_sse;
mod naming;
mod tool;

pub use connect::{Connection, connect, kill_group};
pub use content::{MAX_RESULT_CHARS, result_for_model};
pub use error::McpError;
pub use handler::ClientEvents;
pub use naming::tool_names;
pub use tool::{McpTool, McpToolInfo};
