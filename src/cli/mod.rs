//! `dingclaw <command>`: one enum dispatching to one file per command.

mod backup_cmd;
mod bench_cmd;
mod config_cmd;
mod cron_cmd;
mod dashboard_cmd;
mod demo_cmd;
mod doctor_cmd;
mod gateway_cmd;
mod mcp_check;
mod mcp_cmd;
mod message_cmd;
mod models_cmd;
mod offline_model_cmd;
mod operator_api;
mod pairing_cmd;
mod route_cmd;
mod sim_cmd;
mod status_cmd;
mod table;
mod tools_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dingclaw_actors::config::{
    ConfigError, Environment, Loaded, ProcessEnv, load_file, load_str, resolve_config_path,
};

pub use backup_cmd::{BackupArgs, RestoreArgs};
pub use config_cmd::ConfigCommand;
pub use cron_cmd::{CronArgs, CronCommand};
pub use dashboard_cmd::DashboardArgs;
pub use demo_cmd::DemoArgs;
pub use doctor_cmd::DoctorArgs;
pub use mcp_cmd::McpArgs;
pub use message_cmd::{MessageArgs, MessageCommand};
pub use models_cmd::ModelsCommand;
pub use offline_model_cmd::OfflineModelArgs;
pub use pairing_cmd::{PairingArgs, PairingCommand};
pub use route_cmd::RouteArgs;
pub use sim_cmd::SimArgs;
pub use status_cmd::StatusArgs;
pub use tools_cmd::ToolsArgs;

/// Self-hosted gateway that connects many DingTalk bots to AI agents.
#[derive(Debug, Parser)]
#[command(name = "dingclaw", version = VERSION, about)]
pub struct Cli {
    /// Config file (openclaw.json). Default: $OPENCLAW_CONFIG_PATH, else ./openclaw.json,
    /// else ~/.openclaw/openclaw.json.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Colours in log output: `auto` (on a terminal, unless NO_COLOR is set), `always`, `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Log lines as `text` (default) or `json` (one object per line, for log shippers).
    #[arg(
        long,
        global = true,
        value_enum,
        env = "DINGCLAW_LOG_FORMAT",
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything offline on 127.0.0.1: DingTalk simulator, offline model and gateway.
    Demo(DemoArgs),
    /// Run the gateway: every enabled DingTalk account, agent and provider.
    Gateway,
    /// Check or print the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Scheduled jobs on the running gateway: list, runs, run now, remove.
    Cron(CronArgs),
    /// Print the web page's login URL (with the operator token); --open opens it.
    Dashboard(DashboardArgs),
    /// List the model providers (built in and configured) and where their keys come from.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// MCP servers of the running gateway: state, tools, calls, last error.
    Mcp(McpArgs),
    /// Send a message from a bot now (through the running gateway).
    Message(MessageArgs),
    /// People waiting for approval under dmPolicy "pairing": list, approve, deny.
    Pairing(PairingArgs),
    /// The running gateway: bots, providers, sessions, jobs.
    Status(StatusArgs),
    /// Can this machine run this config? Config, files, state directory, port, DingTalk
    /// credentials, model providers, clock.
    Doctor(DoctorArgs),
    /// Copy the store (sessions, transcripts, jobs) to FILE; safe while the gateway runs.
    Backup(BackupArgs),
    /// Replace the store with a copy made by `backup` (the gateway must be stopped).
    Restore(RestoreArgs),
    /// Show which agent and session a message would be routed to.
    Route(RouteArgs),
    /// Each agent's tools and skills, and whether the config offers them.
    Tools(ToolsArgs),
    /// Run the local DingTalk simulator (for tests, benchmarks and the offline demo).
    Sim(SimArgs),
    /// Load benchmark: simulator, offline model and gateway as separate processes.
    Bench(crate::bench::BenchArgs),
    /// Run the deterministic offline model (an OpenAI-compatible endpoint).
    OfflineModel(OfflineModelArgs),
}

impl Command {
    /// Commands that print and exit, as Unix tools do: piped into `head`, they should end
    /// quietly when the pipe closes. Long-running servers keep Rust's default (a write to a
    /// closed pipe is an error, not a signal that kills them).
    pub fn prints_and_exits(&self) -> bool {
        match self {
            Command::Config(_)
            | Command::Cron(_)
            | Command::Dashboard(_)
            | Command::Models(_)
            | Command::Route(_)
            | Command::Mcp(_)
            | Command::Message(_)
            | Command::Pairing(_)
            | Command::Status(_)
            | Command::Doctor(_)
            | Command::Backup(_)
            | Command::Restore(_)
            | Command::Tools(_) => true,
            Command::Sim(args) => args.action.is_some(),
            Command::Demo(_) | Command::Gateway | Command::Bench(_) | Command::OfflineModel(_) => {
                false
            }
        }
    }
}

/// Lets a closed stdout pipe end the process quietly, the way `ls | head -1` ends `ls`: Rust
/// ignores SIGPIPE, so `println!` to a closed pipe panics (exit 101) instead.
pub fn die_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called at the start of `main`, before any thread exists; it only resets the
    // disposition of SIGPIPE to the default, which is what C programs start with.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The version and the commit the binary was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("DINGCLAW_COMMIT"),
    ")"
);

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The command line's `--log-format`, for `init_tracing`.
static LOG_FORMAT: std::sync::OnceLock<LogFormat> = std::sync::OnceLock::new();

/// When log lines are coloured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (https://no-color.org).
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to stderr.
    pub fn enabled(self) -> bool {
        use std::io::IsTerminal;
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stderr().is_terminal()
            }
        }
    }
}

/// The command line's `--color`, for `init_tracing`.
static COLOR: std::sync::OnceLock<ColorChoice> = std::sync::OnceLock::new();

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let _ = COLOR.set(cli.color);
    let _ = LOG_FORMAT.set(cli.log_format);
    let env = ProcessEnv;
    match cli.command {
        Command::Config(cmd) => config_cmd::run(cmd, cli.config, &env),
        Command::Route(args) => route_cmd::run(args, cli.config, &env),
        Command::Models(cmd) => models_cmd::run(cmd, cli.config, &env),
        Command::Tools(args) => tools_cmd::run(args, cli.config, &env),
        Command::Mcp(args) => mcp_cmd::run(args, cli.config, &env),
        Command::Message(args) => with_config(cli.config, &env, |c| message_cmd::run(args, &c)),
        Command::Pairing(args) => with_config(cli.config, &env, |c| pairing_cmd::run(args, &c)),
        Command::Status(args) => with_config(cli.config, &env, |c| status_cmd::run(args, &c)),
        Command::Doctor(args) => doctor_cmd::run(args, cli.config, &env),
        Command::Backup(args) => {
            with_config(cli.config, &env, |c| backup_cmd::run_backup(args, &c))
        }
        Command::Restore(args) => {
            with_config(cli.config, &env, |c| backup_cmd::run_restore(args, &c))
        }
        Command::Cron(args) => cron_cmd::run(args, cli.config, &env),
        Command::Dashboard(args) => dashboard_cmd::run(args, cli.config, &env),
        Command::Sim(args) => sim_cmd::run(args, &env),
        Command::Demo(args) => demo_cmd::run(args, cli.config),
        Command::Gateway => gateway_cmd::run(cli.config, &env),
        Command::OfflineModel(args) => offline_model_cmd::run(args),
        Command::Bench(args) => bench_cmd::run(args),
    }
}

/// Logs to stderr; `RUST_LOG` chooses what (default: dingclaw at `info`, the HTTP server's own
/// start-up chatter only from `warn`), coloured as `--color` says.
pub(crate) fn init_tracing() {
    let color = COLOR.get().copied().unwrap_or_default().enabled();
    init_tracing_to(std::io::stderr, color);
}

/// `init_tracing` into another writer (the demo logs to a file). The file watcher's own crates
/// stay at `info` even under `RUST_LOG=trace`: they log every event they see, and a log
/// written into the watched folder would feed itself.
pub(crate) fn init_tracing_to<W>(writer: W, ansi: bool)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let verbose = filter
        .max_level_hint()
        .is_none_or(|l| l > tracing_subscriber::filter::LevelFilter::INFO);
    if verbose {
        for quiet in ["notify=info", "notify_debouncer_full=info", "inotify=info"] {
            if let Ok(d) = quiet.parse() {
                filter = filter.add_directive(d);
            }
        }
    }
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // The web page's Logs tab reads the same lines from memory.
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(crate::log_ring::RingLayer);
    let _ = match LOG_FORMAT.get().copied().unwrap_or_default() {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(writer)
                    .with_ansi(ansi),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(false)
                    .with_writer(writer),
            )
            .try_init(),
    };
}

/// Waits for Ctrl-C or SIGTERM; returns which.
pub(crate) async fn shutdown_signal() -> &'static str {
    let mut term =
        match actix_rt::signal::unix::signal(actix_rt::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = actix_rt::signal::ctrl_c().await;
                return "ctrl-c";
            }
        };
    tokio::select! {
        _ = actix_rt::signal::ctrl_c() => "ctrl-c",
        _ = term.recv() => "SIGTERM",
    }
}

/// Runs a command with the config (its defaults when there is no file); a config that does
/// not load ends the command with its errors printed.
fn with_config(
    explicit: Option<PathBuf>,
    env: &dyn Environment,
    command: impl FnOnce(dingclaw_actors::config::Config) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    match load_config_or_default(explicit, env) {
        Ok(config) => command(config),
        Err(code) => Ok(code),
    }
}

/// Like `load_config`, but when no config file exists anywhere (and none was named) the
/// defaults are used: for commands that are useful without one.
pub(crate) fn load_config_or_default(
    explicit: Option<PathBuf>,
    env: &dyn Environment,
) -> Result<dingclaw_actors::config::Config, ExitCode> {
    if explicit.is_none() && resolve_config_path(None, env).is_err() {
        return load_str("{}", std::path::Path::new("."), env)
            .map(|l| l.config)
            .map_err(|e| {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            });
    }
    load_config(explicit, env).map(|l| l.config)
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
            for e in dingclaw_actors::config::exposures(&loaded.config) {
                eprintln!("warning: {e}");
            }
            Ok(loaded)
        }
        Err(ConfigError::Invalid {
            file,
            errors,
            warnings,
            ..
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
