//! `dingclaw sim`: the local DingTalk simulator on 127.0.0.1, and `dingclaw sim say` to talk
//! to a bot through it from the shell.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use dingclaw_actors::config::{Environment, load_file, resolve_config_path};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::sim::{NewBot, SimOptions, SimServer};

#[derive(Debug, Args)]
pub struct SimArgs {
    #[command(subcommand)]
    pub action: Option<SimAction>,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 18790)]
    pub port: u16,
    /// A bot to create at start, as CLIENT_ID:CLIENT_SECRET (repeatable).
    #[arg(long = "bot", value_name = "ID:SECRET")]
    pub bots: Vec<String>,
    /// Create a bot for every DingTalk account of this openclaw.json (same id and secret).
    #[arg(long = "bots-from", value_name = "PATH")]
    pub bots_from: Option<PathBuf>,
    /// Seconds between SYSTEM ping frames.
    #[arg(long, default_value_t = 15)]
    pub ping_interval: u64,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
}

#[derive(Debug, Subcommand)]
pub enum SimAction {
    /// Send a user message through a running simulator and print the bot's replies.
    Say(SayArgs),
}

#[derive(Debug, Args)]
pub struct SayArgs {
    /// The simulator's URL.
    #[arg(long, default_value = "http://127.0.0.1:18790")]
    pub url: String,
    /// The user who speaks (staff id).
    #[arg(long, default_value = "alice")]
    pub from: String,
    /// A direct message to this bot (its clientId, or its account id from the config).
    #[arg(long, conflicts_with = "group")]
    pub bot: Option<String>,
    /// A group message in this conversation id.
    #[arg(long)]
    pub group: Option<String>,
    /// In a group, the bots @-mentioned, by clientId or account id (default: every bot of
    /// the group).
    #[arg(long = "mention")]
    pub mentions: Vec<String>,
    /// Seconds to wait for replies.
    #[arg(long, default_value_t = 30)]
    pub wait: u64,
    /// Send this picture (a picture message; the text, if any, is ignored by DingTalk).
    #[arg(long, value_name = "PATH", conflicts_with = "file")]
    pub image: Option<std::path::PathBuf>,
    /// Send this file (a file message).
    #[arg(long, value_name = "PATH")]
    pub file: Option<std::path::PathBuf>,
    /// Quote an earlier message of the conversation (its msgId).
    #[arg(long, value_name = "MSGID")]
    pub quote: Option<String>,
    /// What the user says.
    pub text: Vec<String>,
}

pub(super) fn run(args: SimArgs, env: &dyn Environment) -> anyhow::Result<ExitCode> {
    let system = actix_rt::System::new();
    match args.action {
        Some(SimAction::Say(say)) => system.block_on(run_say(say)),
        None => system.block_on(serve(args, env)),
    }
}

async fn serve(args: SimArgs, env: &dyn Environment) -> anyhow::Result<ExitCode> {
    let opts = SimOptions {
        ping_interval: Duration::from_secs(args.ping_interval.max(1)),
        ..SimOptions::default()
    };
    let server = SimServer::start(opts, args.port, args.workers).await?;
    for spec in &args.bots {
        let (id, secret) = spec.split_once(':').ok_or_else(|| {
            anyhow::anyhow!("--bot wants CLIENT_ID:CLIENT_SECRET, got \"{spec}\"")
        })?;
        server.sim.add_bot(NewBot {
            client_id: Some(id.into()),
            client_secret: Some(secret.into()),
            name: None,
        });
    }
    if let Some(path) = args.bots_from {
        let path = resolve_config_path(Some(path), env)
            .map_err(|tried| anyhow::anyhow!("no config at {}", tried[0].display()))?;
        let loaded = load_file(&path, env)?;
        for a in loaded.config.channels.dingtalk.accounts.values() {
            server.sim.add_bot(NewBot {
                client_id: Some(a.client_id.clone()),
                client_secret: Some(a.client_secret.expose().to_owned()),
                name: a.name.clone().or(Some(a.id.clone())),
            });
        }
    }
    print_banner(&server);
    actix_rt::signal::ctrl_c().await?;
    server.stop().await;
    Ok(ExitCode::SUCCESS)
}

fn print_banner(server: &SimServer) {
    let url = &server.url;
    println!("dingclaw DingTalk simulator on {url}");
    println!("  point an account at it:   \"endpoint\": \"{url}\"");
    println!("  or the official SDKs:     DINGTALK_OPENAPI_ENDPOINT={url}");
    for b in server.sim.bots() {
        println!("  bot {} ({})", b.client_id, b.name);
    }
    println!();
    println!("Try:");
    println!(
        "  curl -s -XPOST {url}/sim/bots -H 'content-type: application/json' -d '{{\"clientId\":\"dingbot1\",\"clientSecret\":\"secret1\"}}'"
    );
    println!(
        "  curl -s -XPOST {url}/sim/groups -H 'content-type: application/json' -d '{{\"bots\":[\"dingbot1\"],\"members\":[\"alice\"]}}'"
    );
    println!(
        "  curl -s -XPOST {url}/sim/messages -H 'content-type: application/json' -d '{{\"from\":\"alice\",\"bot\":\"dingbot1\",\"text\":\"hello\"}}'"
    );
    println!("  curl -s '{url}/sim/replies?bot=dingbot1'");
    println!("Ctrl-C stops it.");
}

/// A conversation's log from the simulator.
async fn read_log(http: &awc::Client, url: &str) -> anyhow::Result<Vec<Value>> {
    let mut resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let body: Value = resp.json().limit(16 * 1024 * 1024).await?;
    if !resp.status().is_success() {
        anyhow::bail!(
            "{}",
            body["error"].as_str().unwrap_or("the simulator refused")
        );
    }
    Ok(serde_json::from_value(body)?)
}

async fn run_say(args: SayArgs) -> anyhow::Result<ExitCode> {
    let http = dingclaw_actors::tls::client(Duration::from_secs(30));
    let text = args.text.join(" ");
    let attachment = args.image.as_ref().or(args.file.as_ref());
    anyhow::ensure!(
        !text.trim().is_empty() || attachment.is_some(),
        "say what? (give the text as arguments, or --image / --file)"
    );
    anyhow::ensure!(
        args.bot.is_some() || args.group.is_some(),
        "give --bot (a DM) or --group"
    );
    let mut body = json!({"from": args.from, "text": text});
    if let Some(path) = attachment {
        use base64::Engine;
        let bytes = std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_owned());
        body["msgtype"] = json!(if args.image.is_some() {
            "picture"
        } else {
            "file"
        });
        body["text"] = json!(name);
        body["attachment"] = json!({
            "name": name,
            "dataBase64": base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    }
    if let Some(q) = &args.quote {
        body["quote"] = json!(q);
    }
    if let Some(b) = &args.bot {
        body["bot"] = json!(b);
    }
    if let Some(g) = &args.group {
        body["group"] = json!(g);
        if !args.mentions.is_empty() {
            body["mentions"] = json!(args.mentions);
        }
    }
    let mut resp = http
        .post(format!("{}/sim/messages", args.url))
        .send_json(&body)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the simulator at {}: {e}", args.url))?;
    let sent: Value = resp.json().await?;
    if !resp.status().is_success() {
        anyhow::bail!(
            "the simulator refused the message: {}",
            sent["error"].as_str().unwrap_or(&sent.to_string())
        );
    }
    let cid = sent["conversationId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let msg_id = sent["msgId"].as_str().unwrap_or_default().to_owned();
    let expected = sent["deliveries"].as_array().map(Vec::len).unwrap_or(1);
    println!(
        "{} -> {}: {text}  (msgId {msg_id}, for --quote)",
        args.from,
        args.bot.as_deref().unwrap_or(&cid)
    );
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    // Replies already printed (by sequence number), and the bots that answered.
    let mut printed = std::collections::HashSet::new();
    let mut answered = std::collections::HashSet::new();
    // Conversation ids are base64: `/` and `+` must be escaped in the path.
    let log_url = format!(
        "{}/sim/conversations/{}",
        args.url,
        utf8_percent_encode(&cid, NON_ALPHANUMERIC)
    );
    while Instant::now() < deadline && answered.len() < expected {
        actix_rt::time::sleep(Duration::from_millis(200)).await;
        // The message is delivered; a failure from here on must not read as "try again"
        // (a retried scheduling request would make a second job).
        let log: Vec<Value> = match read_log(&http, &log_url).await {
            Ok(log) => log,
            Err(e) => {
                println!(
                    "(the message was delivered, msgId {msg_id}; its replies could not be read: {e})"
                );
                return Ok(ExitCode::FAILURE);
            }
        };
        for r in log
            .iter()
            .filter(|r| r["via"] != "user" && r["msgId"] == msg_id.as_str())
        {
            if printed.insert(r["seq"].as_u64().unwrap_or_default()) {
                let bot = r["from"].as_str().unwrap_or("?");
                println!(
                    "{} <- {bot}: {}",
                    args.from,
                    r["text"].as_str().unwrap_or("")
                );
                answered.insert(bot.to_owned());
            }
        }
    }
    if answered.is_empty() {
        println!("(no reply within {} s)", args.wait);
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
