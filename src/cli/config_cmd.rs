//! `dingclaw config check|show`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use dingclaw_actors::config::Environment;

use super::load_config;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the config: exit 0 with a one-line summary, or exit 1 listing every
    /// `path: message`.
    Check {
        /// Also list every ignored OpenClaw setting, one per place (the warnings group them
        /// by feature).
        #[arg(long, short)]
        verbose: bool,
    },
    /// Print the effective config (includes, variables, defaults and account inheritance
    /// applied) as JSON, with every secret shown as ***.
    Show,
}

pub(super) fn run(
    cmd: ConfigCommand,
    config: Option<PathBuf>,
    env: &dyn Environment,
) -> anyhow::Result<ExitCode> {
    let loaded = match load_config(config, env) {
        Ok(l) => l,
        Err(code) => return Ok(code),
    };
    match cmd {
        ConfigCommand::Check { verbose } => {
            let source = loaded
                .config
                .source
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            println!("{source}: ok: {}", loaded.config.summary());
            // The connector's own section needs no saying; `channels.dingtalk` has two owners.
            for r in loaded.recognised.iter().filter(|r| r.evidence_matters()) {
                println!("  {}", r.describe());
            }
            for line in super::tools_cmd::agent_lines(&loaded.config) {
                println!("  {line}");
            }
            if verbose && !loaded.ignored.is_empty() {
                println!("ignored OpenClaw settings ({}):", loaded.ignored.len());
                for i in &loaded.ignored {
                    println!("  {i}");
                }
            }
        }
        ConfigCommand::Show => {
            println!("{}", serde_json::to_string_pretty(&loaded.config)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}
