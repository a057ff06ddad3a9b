//! `dingclaw mcp list [--json]`: each MCP server of the running gateway with its transport,
//! state, tools, calls, errors, restarts and last error (never its env or headers), through
//! the operator API like `cron list`. Without a running gateway, the configured servers.
//!
//! `dingclaw mcp check <server or URL>`: connects to one server the way the gateway would,
//! lists its tools and, with `--call`, runs one (or, with `--call-all`, each with arguments
//! made from its schema): a server can be tried before it goes into the config. The MCP
//! conformance suite drives this as its client under test.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use dingclaw_actors::config::Environment;
use serde_json::{Value, json};

use super::load_config_or_default;
use super::operator_api::{Api, OperatorArgs};

#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(subcommand)]
    pub command: McpCommand,
}

#[derive(Debug, Subcommand)]
pub enum McpCommand {
    /// Every MCP server: transport, state, tools, calls, errors, restarts, last error.
    List {
        /// One JSON array instead of the table.
        #[arg(long)]
        json: bool,
        /// List every tool of every server too.
        #[arg(long)]
        tools: bool,
    },
    /// Connect to a configured server (by name) or a URL, list its tools, optionally call.
    Check {
        /// A server name from mcp.servers, or an http(s) URL.
        target: String,
        /// For a URL: streamable-http (default) or sse.
        #[arg(long, default_value = "streamable-http")]
        transport: String,
        /// Call this tool (the server's own name for it).
        #[arg(long)]
        call: Option<String>,
        /// The call's arguments as JSON.
        #[arg(long, default_value = "{}")]
        args: String,
        /// Call every tool, with arguments made from its input schema.
        #[arg(long)]
        call_all: bool,
    },
}

pub(super) fn run(
    args: McpArgs,
    config: Option<PathBuf>,
    env: &dyn Environment,
) -> anyhow::Result<ExitCode> {
    let config = match load_config_or_default(config, env) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let (json, tools) = match args.command {
        McpCommand::List { json, tools } => (json, tools),
        McpCommand::Check {
            target,
            transport,
            call,
            args: call_args,
            call_all,
        } => {
            return super::mcp_check::run(
                &config,
                &target,
                &transport,
                call.as_deref(),
                &call_args,
                call_all,
            );
        }
    };
    let live = actix_rt::System::new().block_on(async {
        let api = Api::new(&args.operator, &config, std::time::Duration::from_secs(10));
        api.call(awc::http::Method::GET, "/api/mcp")
            .await
            .map_err(|e| e.to_string())
    });
    let (servers, note) = match live {
        Ok(v) => (v, None),
        Err(why) => {
            // No gateway: what the config says, so the command still answers something.
            let configured: Vec<Value> = config
                .mcp
                .servers
                .iter()
                .map(|s| {
                    json!({"name": s.name, "transport": s.transport.kind(),
                           "state": if s.enabled { "not running" } else { "disabled" },
                           "tools": [], "calls": 0, "errors": 0, "restarts": 0})
                })
                .collect();
            (Value::Array(configured), Some(why))
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&servers)?);
    } else {
        print!("{}", table(&servers, tools));
    }
    if let Some(why) = note {
        eprintln!("{why}; showing the configured servers");
    }
    Ok(ExitCode::SUCCESS)
}

fn table(servers: &Value, with_tools: bool) -> String {
    let s = |v: &Value| match v {
        Value::String(t) => t.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    };
    let rows: Vec<[String; 8]> = servers
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            [
                s(&m["name"]),
                s(&m["transport"]),
                s(&m["state"]),
                m["tools"].as_array().map_or(0, Vec::len).to_string(),
                s(&m["calls"]),
                s(&m["errors"]),
                s(&m["restarts"]),
                m["lastError"].as_str().unwrap_or("").to_owned(),
            ]
        })
        .collect();
    let mut out = super::table::render(
        &[
            "SERVER",
            "TRANSPORT",
            "STATE",
            "TOOLS",
            "CALLS",
            "ERRORS",
            "RESTARTS",
            "LAST ERROR",
        ],
        &rows,
    );
    if rows.is_empty() {
        out.push_str("(no MCP servers configured: see mcp.servers)\n");
    }
    if with_tools {
        for m in servers.as_array().into_iter().flatten() {
            for t in m["tools"].as_array().into_iter().flatten() {
                out.push_str(&format!("  {}  {}\n", s(&t["name"]), s(&t["description"])));
            }
        }
    }
    out
}
