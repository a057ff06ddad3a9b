//! `dingclaw status [--json]`: the running gateway in the terminal (bots and their streams,
//! agents, model providers and their circuits, sessions, messages, scheduled jobs), from the
//! operator API's `GET /api/status`.

use std::process::ExitCode;

use clap::Args;
use dingclaw_actors::config::Config;
use serde_json::Value;

use super::operator_api::{Api, OperatorArgs};
use super::table::render;

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub operator: OperatorArgs,
    /// The API's JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn run(args: StatusArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let status = actix_rt::System::new().block_on(async {
        let api = Api::new(&args.operator, config, std::time::Duration::from_secs(10));
        api.call(awc::http::Method::GET, "/api/status").await
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", summary(&status));
    }
    Ok(ExitCode::SUCCESS)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

fn summary(s: &Value) -> String {
    let stats = &s["stats"];
    let mut out = format!(
        "up {} s · messages {} in, {} replies ({} failed) · turns {} ({} errors) · sessions {} in memory, {} waiting\n\n",
        s["uptimeMs"].as_u64().unwrap_or(0) / 1000,
        text(&stats["messagesIn"]),
        text(&stats["repliesOut"]),
        text(&stats["replyFailures"]),
        text(&stats["turns"]),
        text(&stats["turnErrors"]),
        text(&stats["sessionsResident"]),
        text(&stats["pending"]),
    );
    // What is wrong first, in the same words as the web page's badge.
    for p in s["health"]["problems"].as_array().into_iter().flatten() {
        let subject = text(&p["subject"]);
        let what = match p["kind"].as_str().unwrap_or("") {
            "bot_refused" => format!("bot {subject}: DingTalk refused its credentials"),
            "bot_offline" => format!("bot {subject}: not connected"),
            "circuit_open" => format!("provider {subject}: paused after repeated failures"),
            "circuit_half_open" => format!("provider {subject}: trying again"),
            "reload_refused" => "the config file was not applied".to_owned(),
            "mcp_failed" => format!("MCP server {subject} failed"),
            "cluster_lapsed" => format!(
                "instance {subject}: its cluster heartbeat lapsed; it does not answer until it is renewed"
            ),
            "instance_down" => format!("cluster instance {subject} is silent (taken for dead)"),
            other => format!("{other}: {subject}"),
        };
        let detail = p["detail"]
            .as_str()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}: {what}{detail}\n",
            text(&p["level"]).to_uppercase()
        ));
    }
    if s["health"]["problems"]
        .as_array()
        .is_some_and(|p| !p.is_empty())
    {
        out.push('\n');
    }
    let bots: Vec<Vec<String>> = s["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            vec![
                text(&a["id"]),
                text(&a["clientId"]),
                if a["enabled"] == Value::Bool(false) {
                    "disabled".to_owned()
                } else {
                    text(&a["stream"]["status"]["state"])
                },
                text(&a["stream"]["lastError"]),
            ]
        })
        .collect();
    out.push_str("Bots / 机器人\n");
    out.push_str(&render(
        &["ACCOUNT", "CLIENT ID", "STREAM", "LAST ERROR"],
        &bots,
    ));
    let providers: Vec<Vec<String>> = s["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            vec![
                text(&p["id"]),
                text(&p["circuit"]["state"]),
                text(&p["inFlight"]),
                text(&p["waiting"]),
            ]
        })
        .collect();
    out.push_str("\nModel providers / 模型服务\n");
    out.push_str(&render(
        &["PROVIDER", "CIRCUIT", "IN FLIGHT", "WAITING"],
        &providers,
    ));
    let agents: Vec<String> = s["agents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| text(&a["id"]))
        .collect();
    out.push_str(&format!("\nAgents / 助手: {}\n", agents.join(", ")));
    match s["cron"]["jobs"].as_u64() {
        Some(n) => out.push_str(&format!("Scheduled jobs / 定时任务: {n}\n")),
        None => out.push_str("Scheduled jobs / 定时任务: off\n"),
    }
    if s["cluster"].is_object() {
        out.push_str(&cluster(&s["cluster"]));
    }
    out
}

/// The cluster part: every instance with its bots and sessions, then this one's counters.
fn cluster(c: &Value) -> String {
    let store = &c["store"];
    let rows: Vec<Vec<String>> = store["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            let me = i["id"] == c["instance"];
            let bots: Vec<String> = i["info"]["bots"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            vec![
                format!("{}{}", text(&i["id"]), if me { " *" } else { "" }),
                if i["live"] == true { "live" } else { "silent" }.to_owned(),
                format!("{} ms", text(&i["heartbeatAgeMs"])),
                text(&i["sessions"]),
                bots.join(" "),
            ]
        })
        .collect();
    let st = &c["stats"];
    let mut out = format!(
        "\nCluster / 集群: instance {} ({}), store {}, {} leases, {} messages open\n",
        text(&c["instance"]),
        if c["acting"] == true {
            "answering"
        } else {
            "NOT answering: heartbeat lapsed"
        },
        text(&c["storeTarget"]),
        text(&store["leases"]),
        text(&store["openMessages"]),
    );
    out.push_str(&render(
        &[
            "INSTANCE",
            "STATE",
            "HEARTBEAT",
            "SESSIONS",
            "BOTS CONNECTED",
        ],
        &rows,
    ));
    out.push_str(&format!(
        "here: {} taken over, {} wake-ups sent, {} received, {} fenced writes, {} fenced replies, {} duplicates dropped\n",
        text(&st["leasesTaken"]),
        text(&st["wakeupsSent"]),
        text(&st["wakeupsReceived"]),
        text(&st["fencedWrites"]),
        text(&st["fencedReplies"]),
        text(&st["duplicates"]),
    ));
    if let Some(e) = c["storeError"].as_str() {
        out.push_str(&format!("store: {e}\n"));
    }
    out
}
