//! `dingclaw mcp check`: one MCP server, reached exactly as the gateway reaches it
//! (`dingclaw_actors::mcp::connect`), its tools listed and optionally called.

use std::process::ExitCode;
use std::time::Duration;

use dingclaw_actors::config::mcp::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, safe_name};
use dingclaw_actors::config::{Config, McpServerConfig, McpTransport};
use dingclaw_actors::mcp::{MAX_RESULT_CHARS, connect, kill_group, result_for_model};
use rmcp::model::CallToolRequestParams;
use serde_json::{Map, Value, json};

/// Arguments for a tool made from its input schema: each required property gets a value of
/// its type (a number 1, a string, true, an empty list or object).
fn sample_arguments(schema: &Map<String, Value>) -> Map<String, Value> {
    let props = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut out = Map::new();
    for name in required {
        let kind = props
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("string");
        let value = match kind {
            "number" | "integer" => json!(1),
            "boolean" => json!(true),
            "array" => json!([]),
            "object" => json!({}),
            _ => json!("test"),
        };
        out.insert(name.to_owned(), value);
    }
    out
}

fn target_config(
    config: &Config,
    target: &str,
    transport: &str,
) -> anyhow::Result<McpServerConfig> {
    if let Some(s) = config.mcp.get(target) {
        return Ok(s.clone());
    }
    if !(target.starts_with("http://") || target.starts_with("https://")) {
        let names: Vec<&str> = config.mcp.servers.iter().map(|s| s.name.as_str()).collect();
        anyhow::bail!(
            "\"{target}\" is neither a configured MCP server ({}) nor an http(s) URL",
            if names.is_empty() {
                "none configured".to_owned()
            } else {
                names.join(", ")
            }
        );
    }
    let transport = match transport {
        "sse" => McpTransport::Sse {
            url: target.to_owned(),
            headers: Default::default(),
        },
        "streamable-http" | "http" => McpTransport::StreamableHttp {
            url: target.to_owned(),
            headers: Default::default(),
        },
        other => anyhow::bail!("--transport is streamable-http or sse, not {other}"),
    };
    Ok(McpServerConfig {
        name: "check".into(),
        prefix: safe_name("check", "mcp-", 30),
        enabled: true,
        transport,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        request_timeout: DEFAULT_REQUEST_TIMEOUT,
        include: Vec::new(),
        exclude: Vec::new(),
    })
}

pub(super) fn run(
    config: &Config,
    target: &str,
    transport: &str,
    call: Option<&str>,
    args: &str,
    call_all: bool,
) -> anyhow::Result<ExitCode> {
    let server = target_config(config, target, transport)?;
    let args: Value =
        serde_json::from_str(args).map_err(|e| anyhow::anyhow!("--args is not JSON: {e}"))?;
    let Value::Object(args) = args else {
        anyhow::bail!("--args must be a JSON object");
    };
    actix_rt::System::new().block_on(async move {
        let (events, _rx) = tokio::sync::mpsc::unbounded_channel();
        let conn = connect(&server, events)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", server.name))?;
        let peer = conn.service.peer().clone();
        let timeout = server.request_timeout;
        let tools = tokio::time::timeout(timeout, peer.list_all_tools())
            .await
            .map_err(|_| {
                anyhow::anyhow!("tools/list did not answer within {} s", timeout.as_secs())
            })?
            .map_err(|e| anyhow::anyhow!("tools/list: {e}"))?;
        println!("{}: {} tools", server.name, tools.len());
        for t in &tools {
            println!("  {}  {}", t.name, t.description.as_deref().unwrap_or(""));
        }
        let mut calls: Vec<(String, Map<String, Value>)> = Vec::new();
        if let Some(name) = call {
            calls.push((name.to_owned(), args));
        }
        if call_all {
            for t in &tools {
                calls.push((t.name.to_string(), sample_arguments(&t.input_schema)));
            }
        }
        let mut failed = false;
        for (name, arguments) in calls {
            let params = CallToolRequestParams::new(name.clone()).with_arguments(arguments);
            let outcome = match tokio::time::timeout(timeout, peer.call_tool(params)).await {
                Err(_) => Err(format!("did not answer within {} s", timeout.as_secs())),
                Ok(Err(e)) => Err(e.to_string()),
                Ok(Ok(r)) => serde_json::to_value(&r)
                    .map_err(|e| e.to_string())
                    .and_then(|v| {
                        result_for_model(&v, MAX_RESULT_CHARS).map_err(|e| e.to_string())
                    }),
            };
            match outcome {
                Ok(v) => println!("call {name}: {}", v["text"].as_str().unwrap_or("")),
                Err(e) => {
                    failed = true;
                    println!("call {name}: error: {e}");
                }
            }
        }
        let mut service = conn.service;
        let _ = service.close_with_timeout(Duration::from_secs(3)).await;
        if let Some(pid) = conn.pid {
            kill_group(pid);
        }
        Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
}
