//! `dingclaw demo`: the offline demo (README's first command), or, with `--config`, the
//! operator's own openclaw.json run offline.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;

use crate::demo::{Demo, DemoOptions, print_exchange, temp_state_dir};

use super::shutdown_signal;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulator port (a free one if taken).
    #[arg(long, default_value_t = 18790)]
    pub sim_port: u16,
    /// Web page port (a free one if taken).
    #[arg(long, default_value_t = 18789)]
    pub web_port: u16,
    /// Run the scripted conversation, then exit (0 when every bot answered).
    #[arg(long)]
    pub script_only: bool,
}

pub(super) fn run(args: DemoArgs, config: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let state_dir = temp_state_dir();
    dingclaw_actors::config::create_private_dir(&state_dir)?;
    // The log goes to a file, so the story on the terminal stays readable.
    let log_path = state_dir.join("demo.log");
    init_file_tracing(&log_path)?;
    actix_rt::System::new().block_on(async move {
        let demo = Demo::start(DemoOptions {
            sim_port: args.sim_port,
            web_port: args.web_port,
            state_dir: Some(state_dir),
            config,
        })
        .await?;
        print!("{}", demo.banner());
        println!("  log:           {}", log_path.display());
        println!();
        println!("Scripted conversation:");
        let mut exchanges = demo.script().await?;
        for e in &exchanges {
            print_exchange(&demo, e);
        }
        if demo.config.cron.enabled && !demo.accounts().is_empty() {
            println!();
            println!(
                "A scheduled task, created by chatting (the product document's weather example):"
            );
            let task = demo.weather_task().await?;
            for e in &task {
                print_exchange(&demo, e);
            }
            exchanges.extend(task);
        }
        let complete = exchanges.iter().all(|e| e.complete());
        println!();
        print!("{}", demo.provider_summary());
        println!();
        if args.script_only {
            demo.stop().await;
            return Ok(if complete {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        println!("{}", demo.instructions());
        shutdown_signal().await;
        demo.stop().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Logs (`RUST_LOG`, default info) to `path` instead of the terminal.
fn init_file_tracing(path: &std::path::Path) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    super::init_tracing_to(Arc::new(file), false);
    Ok(())
}
