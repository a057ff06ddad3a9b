//! `dingclaw dashboard`: the web page's login URL (the operator token in its fragment), for
//! an operator at a terminal; `--open` opens it in the desktop's browser. The gateway prints
//! it itself only on a terminal, since under systemd or Docker its stdout is the journal.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use dingclaw_actors::config::{AuthMode, Environment};

use crate::web::{client_token, token_file};

use super::load_config_or_default;

#[derive(Debug, Args)]
pub struct DashboardArgs {
    /// Open the URL in the desktop's browser (xdg-open) as well as printing it.
    #[arg(long)]
    pub open: bool,
}

pub(super) fn run(
    args: DashboardArgs,
    config: Option<PathBuf>,
    env: &dyn Environment,
) -> anyhow::Result<ExitCode> {
    let config = match load_config_or_default(config, env) {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let g = &config.gateway;
    // A gateway on every interface is reached locally at 127.0.0.1.
    let host = if g.bind.is_unspecified() {
        "127.0.0.1".to_owned()
    } else if g.bind.is_ipv6() {
        format!("[{}]", g.bind)
    } else {
        g.bind.to_string()
    };
    let base = g.base_path.trim_end_matches('/');
    let page = format!("http://{host}:{}{base}/", g.port);
    let url = match (g.auth.mode, client_token(&config)) {
        (AuthMode::None, _) => page,
        (_, Some(token)) => format!("{page}#token={}", token.expose()),
        (_, None) => {
            eprintln!(
                "error: no operator token yet: start the gateway once (it generates one in {}), or set gateway.auth.token",
                token_file(&config).display()
            );
            return Ok(ExitCode::FAILURE);
        }
    };
    println!("{url}");
    if args.open {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        match std::process::Command::new(opener).arg(&url).status() {
            Ok(s) if s.success() => {}
            Ok(s) => eprintln!("warning: {opener} exited with {s}; open the URL above by hand"),
            Err(e) => eprintln!("warning: cannot run {opener} ({e}); open the URL above by hand"),
        }
    }
    Ok(ExitCode::SUCCESS)
}
