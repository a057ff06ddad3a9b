//! `dingclaw pairing list|approve CODE|deny CODE`: the people waiting for approval under
//! `dmPolicy: "pairing"`, decided through the running gateway's operator API.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use dingclaw_actors::config::Config;
use serde_json::Value;

use super::operator_api::{Api, OperatorArgs};
use super::table::render;

#[derive(Debug, Args)]
pub struct PairingArgs {
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(subcommand)]
    pub command: PairingCommand,
}

#[derive(Debug, Subcommand)]
pub enum PairingCommand {
    /// Requests and decisions: account, person, code, status.
    List {
        /// JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Let the person with this code talk to the bot (they are told).
    Approve { code: String },
    /// Refuse the person with this code.
    Deny { code: String },
}

pub(super) fn run(args: PairingArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let (path, method) = match &args.command {
        PairingCommand::List { .. } => ("/api/pairing".to_owned(), awc::http::Method::GET),
        PairingCommand::Approve { code } => (
            format!("/api/pairing/{}/approve", code.trim()),
            awc::http::Method::POST,
        ),
        PairingCommand::Deny { code } => (
            format!("/api/pairing/{}/deny", code.trim()),
            awc::http::Method::POST,
        ),
    };
    let answer = actix_rt::System::new().block_on(async {
        let api = Api::new(&args.operator, config, std::time::Duration::from_secs(10));
        api.call(method, &path).await
    })?;
    match args.command {
        PairingCommand::List { json: true } => {
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
        PairingCommand::List { json: false } => print!("{}", table(&answer)),
        PairingCommand::Approve { .. } | PairingCommand::Deny { .. } => println!(
            "{} {} ({}) on {}",
            answer["status"].as_str().unwrap_or("?"),
            answer["sender"].as_str().unwrap_or("?"),
            answer["name"].as_str().unwrap_or(""),
            answer["account"].as_str().unwrap_or("?"),
        ),
    }
    Ok(ExitCode::SUCCESS)
}

fn table(records: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
    let rows: Vec<Vec<String>> = records
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            vec![
                s(&r["code"]),
                s(&r["status"]),
                s(&r["account"]),
                s(&r["sender"]),
                s(&r["name"]),
            ]
        })
        .collect();
    if rows.is_empty() {
        return "no pairing requests / 暂无配对请求\n".to_owned();
    }
    render(&["CODE", "STATUS", "ACCOUNT", "SENDER", "NAME"], &rows)
}
