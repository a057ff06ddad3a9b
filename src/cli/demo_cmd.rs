//! `dingclaw demo`: the offline demo (README's first command).

use std::process::ExitCode;

use clap::Args;

use crate::demo::{Demo, DemoOptions, print_exchange};

use super::{init_tracing, shutdown_signal};

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

pub(super) fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    init_tracing();
    actix_rt::System::new().block_on(async move {
        let demo = Demo::start(DemoOptions {
            sim_port: args.sim_port,
            web_port: args.web_port,
            state_dir: None,
        })
        .await?;
        println!("{}", demo.banner());
        println!("Scripted conversation:");
        let mut exchanges = demo.script().await?;
        for e in &exchanges {
            print_exchange(&demo, e);
        }
        println!();
        println!("A scheduled task, created by chatting (the product document's weather example):");
        let task = demo.weather_task().await?;
        for e in &task {
            print_exchange(&demo, e);
        }
        exchanges.extend(task);
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
