//! The dingclaw command line. Errors become `anyhow` only here, at the binary's edge.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = dingclaw::cli::Cli::parse();
    match dingclaw::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
