//! `dingclaw route`: which agent, which binding tier and which session key a message would get.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use dingclaw_actors::config::{DINGTALK_CHANNEL, Environment};
use dingclaw_actors::routing::{ChatType, Inbound, Routes, admit};

use super::load_config;

#[derive(Debug, Args)]
pub struct RouteArgs {
    /// DingTalk account id (a key of channels.dingtalk-connector.accounts or
    /// channels.dingtalk.accounts, or `default`).
    #[arg(long)]
    pub account: String,
    /// Direct message or group.
    #[arg(long, value_enum)]
    pub chat: Chat,
    /// DingTalk conversationId (case-sensitive); required for a group, where it names the
    /// group. A DM's conversationId does not change the route.
    #[arg(long, default_value = "", required_if_eq("chat", "group"))]
    pub conversation: String,
    /// Sender: senderStaffId, else senderId (case-sensitive).
    #[arg(long)]
    pub sender: String,
    /// Print exactly one JSON object {"agentId","matchedBy","sessionKey"}.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Chat {
    Direct,
    Group,
}

pub(super) fn run(
    args: RouteArgs,
    config: Option<PathBuf>,
    env: &dyn Environment,
) -> anyhow::Result<ExitCode> {
    let loaded = match load_config(config, env) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    let config = &loaded.config;
    let accounts = &config.channels.dingtalk.accounts;
    let account = config.account(&args.account);
    if account.is_none() && !accounts.is_empty() {
        let known: Vec<&str> = accounts.keys().map(String::as_str).collect();
        anyhow::bail!(
            "unknown account \"{}\" (known: {})",
            args.account,
            known.join(", ")
        );
    }
    let chat = match args.chat {
        Chat::Direct => ChatType::Direct,
        Chat::Group => ChatType::Group,
    };
    // Without one the sender would silently stand in for the group.
    anyhow::ensure!(
        chat == ChatType::Direct || !args.conversation.trim().is_empty(),
        "--chat group needs --conversation (the group's conversationId)"
    );
    let route = Routes::new(config).route(&Inbound {
        channel: account.map_or(DINGTALK_CHANNEL, |a| a.channel()),
        account: &args.account,
        chat,
        conversation_id: &args.conversation,
        sender_id: &args.sender,
    });
    if args.json {
        println!("{}", serde_json::to_string(&route)?);
        return Ok(ExitCode::SUCCESS);
    }
    let tier = match route.binding_index {
        Some(i) => format!("{} (bindings.{i})", route.matched_by.as_str()),
        None => route.matched_by.as_str().to_owned(),
    };
    let policy = match account.map(|a| admit(a, chat, &args.conversation, &args.sender)) {
        Some(Err(refusal)) => format!("refused ({})", refusal.as_str()),
        _ => "allowed".to_owned(),
    };
    println!("agent:       {}", route.agent_id);
    println!("matched by:  {tier}");
    println!("session key: {}", route.session_key);
    println!("policy:      {policy}");
    Ok(ExitCode::SUCCESS)
}
