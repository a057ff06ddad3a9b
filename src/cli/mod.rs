//! `dingclaw <command>`: one enum dispatching to one file per command.

mod config_cmd;
mod route_cmd;
mod sim_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dingclaw_actors::config::{
    ConfigError, Environment, Loaded, ProcessEnv, load_file, resolve_config_path,
};

pub use config_cmd::ConfigCommand;
pub use route_cmd::RouteArgs;
pub use sim_cmd::SimArgs;

/// Self-hosted gateway that connects many DingTalk bots to AI agents.
#[derive(Debug, Parser)]
#[command(name = "dingclaw", version, about)]
pub struct Cli {
    /// Config file (openclaw.json). Default: $OPENCLAW_CONFIG_PATH, else ./openclaw.json,
    /// else ~/.openclaw/openclaw.json.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check or print the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Show which agent and session a message would be routed to.
    Route(RouteArgs),
    /// Run the local DingTalk simulator (for tests, benchmarks and the offline demo).
    Sim(SimArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let env = ProcessEnv;
    match cli.command {
        Command::Config(cmd) => config_cmd::run(cmd, cli.config, &env),
        Command::Route(args) => route_cmd::run(args, cli.config, &env),
        Command::Sim(args) => sim_cmd::run(args, &env),
    }
}

/// Loads the config the command line points at, printing warnings to stderr.
/// On an invalid config every problem is printed and `Err(exit code)` is returned.
pub(crate) fn load_config(
    explicit: Option<PathBuf>,
    env: &dyn Environment,
) -> Result<Loaded, ExitCode> {
    let path = match resolve_config_path(explicit, env) {
        Ok(p) => p,
        Err(tried) => {
            eprintln!("error: {}", ConfigError::NotFound { tried });
            return Err(ExitCode::FAILURE);
        }
    };
    match load_file(&path, env) {
        Ok(loaded) => {
            for w in &loaded.warnings {
                eprintln!("warning: {w}");
            }
            Ok(loaded)
        }
        Err(ConfigError::Invalid {
            file,
            errors,
            warnings,
        }) => {
            for w in &warnings {
                eprintln!("warning: {w}");
            }
            eprintln!(
                "{}: invalid config ({} {}):",
                file.display(),
                errors.len(),
                if errors.len() == 1 { "error" } else { "errors" }
            );
            for e in &errors {
                eprintln!("{e}");
            }
            Err(ExitCode::FAILURE)
        }
        Err(other) => {
            eprintln!("error: {other}");
            Err(ExitCode::FAILURE)
        }
    }
}
