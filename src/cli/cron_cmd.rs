//! `dingclaw cron list|runs|run|remove`: the operator's hand on scheduled jobs, through the
//! running gateway's operator API (the scheduler lives there; `operator_api`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use dingclaw_actors::config::Environment;
use serde_json::Value;

use super::load_config_or_default;
use super::operator_api::{Api, OperatorArgs};

#[derive(Debug, Args)]
pub struct CronArgs {
    #[command(flatten)]
    pub operator: OperatorArgs,
    #[command(subcommand)]
    pub command: CronCommand,
}

#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// Every job: id, name, schedule, next run, last status, where results go.
    List {
        /// Print the jobs as JSON (secrets hidden).
        #[arg(long)]
        json: bool,
    },
    /// A job's recent runs.
    Runs { id: String },
    /// Run a job now and print how it went.
    Run {
        id: String,
        /// Start it and return at once.
        #[arg(long)]
        no_wait: bool,
    },
    /// Remove a job and its run log.
    Remove { id: String },
}

/// Longest wait for a run started with `cron run`.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);

pub(super) fn run(
    args: CronArgs,
    config: Option<PathBuf>,
    env: &dyn Environment,
) -> anyhow::Result<ExitCode> {
    let loaded = match load_config_or_default(config, env) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    actix_rt::System::new().block_on(async move {
        let api = Api::new(&args.operator, &loaded, RUN_TIMEOUT);
        match args.command {
            CronCommand::List { json } => {
                let jobs = api.call(awc::http::Method::GET, "/api/cron/jobs").await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&jobs)?);
                } else {
                    print!("{}", table(&jobs));
                }
            }
            CronCommand::Runs { id } => {
                let runs = api
                    .call(awc::http::Method::GET, &format!("/api/cron/jobs/{id}/runs"))
                    .await?;
                println!("{}", serde_json::to_string_pretty(&runs)?);
            }
            CronCommand::Run { id, no_wait } => {
                let path = format!("/api/cron/jobs/{id}/run?wait={}", !no_wait);
                let record = api.call(awc::http::Method::POST, &path).await?;
                println!("{}", serde_json::to_string_pretty(&record)?);
                if record.get("status").and_then(Value::as_str) == Some("error") {
                    return Ok(ExitCode::FAILURE);
                }
            }
            CronCommand::Remove { id } => {
                let removed = api
                    .call(awc::http::Method::DELETE, &format!("/api/cron/jobs/{id}"))
                    .await?;
                println!(
                    "removed {} ({})",
                    removed["removed"].as_str().unwrap_or(&id),
                    removed["name"].as_str().unwrap_or("")
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The jobs as an aligned table.
fn table(jobs: &Value) -> String {
    let header = ["ID", "NAME", "SCHEDULE", "NEXT RUN", "LAST", "DELIVERY"];
    let rows: Vec<[String; 6]> = jobs
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| {
            let s = |v: &Value| v.as_str().unwrap_or("-").to_owned();
            let delivery = match j["delivery"]["mode"].as_str() {
                Some("webhook") => format!("webhook {}", s(&j["delivery"]["to"])),
                Some(mode) => mode.to_owned(),
                None => "-".to_owned(),
            };
            let enabled = j["enabled"].as_bool().unwrap_or(true);
            [
                s(&j["id"]),
                s(&j["name"]),
                s(&j["scheduleText"]),
                if enabled {
                    s(&j["nextRun"])
                } else {
                    "(disabled)".to_owned()
                },
                s(&j["state"]["lastRunStatus"]),
                delivery,
            ]
        })
        .collect();
    let mut out = super::table::render(&header, &rows);
    if rows.is_empty() {
        out.push_str("(no scheduled jobs)\n");
    }
    out
}
