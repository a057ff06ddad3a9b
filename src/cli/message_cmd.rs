//! `dingclaw message send --account ID --to user:STAFFID|group:CID TEXT`: a bot sends a
//! message now, through the running gateway's operator API (`POST /api/messages`), for
//! operators and scripts (a deploy finished, an alert fired).

use std::process::ExitCode;

use clap::{Args, Subcommand};
use dingclaw_actors::config::Config;
use serde_json::json;

use super::operator_api::{Api, OperatorArgs};

#[derive(Debug, Args)]
pub struct MessageArgs {
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(subcommand)]
    pub command: MessageCommand,
}

#[derive(Debug, Subcommand)]
pub enum MessageCommand {
    /// Send a message from a bot to a person or a group.
    Send {
        /// The DingTalk account (bot) that sends.
        #[arg(long)]
        account: String,
        /// user:<staffId> or group:<conversationId>.
        #[arg(long)]
        to: String,
        /// Send as Markdown.
        #[arg(long)]
        markdown: bool,
        /// The text.
        text: String,
    },
}

pub(super) fn run(args: MessageArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let MessageCommand::Send {
        account,
        to,
        markdown,
        text,
    } = args.command;
    let body = json!({"account": account, "to": to, "text": text, "markdown": markdown});
    let sent = actix_rt::System::new().block_on(async {
        let api = Api::new(&args.operator, config, std::time::Duration::from_secs(30));
        api.post("/api/messages", &body).await
    })?;
    println!(
        "sent to {} / 已发送",
        sent["to"].as_str().unwrap_or(to.as_str())
    );
    Ok(ExitCode::SUCCESS)
}
