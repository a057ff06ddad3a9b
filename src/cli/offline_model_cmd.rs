//! `dingclaw offline-model`: the deterministic OpenAI-compatible model on its own.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::offline_model::{ModelOptions, OfflineModel};

use super::shutdown_signal;

#[derive(Debug, Args)]
pub struct OfflineModelArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 18791)]
    pub port: u16,
    /// Delay before each answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Tool rounds per turn: answer with a `current_time` call until the turn has this many
    /// tool results (the benchmark's cost growth).
    #[arg(long, default_value_t = 0)]
    pub tool_rounds: u32,
    /// HTTP worker threads.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// Require this API key (`Authorization: Bearer ...`); without it any key, or none, works.
    #[arg(
        long,
        env = "DINGCLAW_OFFLINE_MODEL_KEY",
        hide_env_values = true,
        allow_hyphen_values = true
    )]
    pub api_key: Option<String>,
}

pub(super) fn run(args: OfflineModelArgs) -> anyhow::Result<ExitCode> {
    actix_rt::System::new().block_on(async move {
        let opts = ModelOptions {
            latency: Duration::from_millis(args.latency_ms),
            api_key: args.api_key,
            tool_rounds: args.tool_rounds,
        };
        let model = OfflineModel::start(opts, args.port, args.workers).await?;
        println!(
            "offline model on {} (baseUrl for models.providers); failure script: POST {}/offline/script",
            model.base_url,
            model.base_url.trim_end_matches("/v1")
        );
        shutdown_signal().await;
        model.stop().await;
        Ok(ExitCode::SUCCESS)
    })
}
