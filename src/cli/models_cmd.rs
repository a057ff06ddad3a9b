//! `dingclaw models list`: every provider dingclaw can call (built in and configured), with
//! its protocol, base URL, where its API key comes from (never the key) and the agents using
//! it. Works without a config file, to check which built-in providers the environment's keys
//! already enable.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use dingclaw_actors::config::{Config, Environment, KeySource, ProviderConfig, provider_of};
use serde::Serialize;

use super::load_config_or_default;

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the providers: id, API, base URL, key source, agents using it.
    List {
        /// One JSON array instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// One row of the listing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Row<'a> {
    id: &'a str,
    title: &'a str,
    builtin: bool,
    api: String,
    base_url: &'a str,
    key: String,
    key_present: bool,
    used_by: Vec<&'a str>,
}

pub(super) fn run(
    cmd: ModelsCommand,
    config: Option<PathBuf>,
    env: &dyn Environment,
) -> anyhow::Result<ExitCode> {
    let ModelsCommand::List { json } = cmd;
    // Without any config file: the built-in catalogue and the environment's keys.
    let config = match load_config_or_default(config, env) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let rows = rows(&config);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

fn rows(config: &Config) -> Vec<Row<'_>> {
    config
        .models
        .providers
        .values()
        .map(|p| Row {
            id: &p.id,
            title: &p.title,
            builtin: p.builtin,
            api: serde_json::to_value(p.api)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            base_url: &p.base_url,
            key: key_text(p),
            key_present: p.api_key.is_some(),
            used_by: config
                .agents
                .agents
                .iter()
                .filter(|a| {
                    a.model
                        .primary
                        .iter()
                        .chain(&a.model.fallbacks)
                        .any(|m| provider_of(m).as_deref() == Some(p.id.as_str()))
                })
                .map(|a| a.id.as_str())
                .collect(),
        })
        .collect()
}

fn key_text(p: &ProviderConfig) -> String {
    match (&p.key_source, p.needs_key) {
        (KeySource::Config, _) => "config".to_owned(),
        (KeySource::Env(var), _) => format!("env {var}"),
        (KeySource::None, false) => "not needed".to_owned(),
        (KeySource::None, true) => "MISSING".to_owned(),
    }
}

fn table(rows: &[Row<'_>]) -> String {
    let header = ["PROVIDER", "API", "BASE URL", "KEY", "USED BY"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.id.to_owned(),
                r.api.clone(),
                if r.base_url.is_empty() {
                    "(no baseUrl)".to_owned()
                } else {
                    r.base_url.to_owned()
                },
                r.key.clone(),
                if r.used_by.is_empty() {
                    "-".to_owned()
                } else {
                    r.used_by.join(", ")
                },
            ]
        })
        .collect();
    super::table::render(&header, &cells)
}
