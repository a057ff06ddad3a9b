//! `dingclaw bench`: the load benchmark (see `crate::bench`).

use std::process::ExitCode;

use crate::bench::{BenchArgs, run_blocking};

pub(super) fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe()?;
    let report = run_blocking(args, exe)?;
    Ok(if report.clean() {
        ExitCode::SUCCESS
    } else {
        eprintln!("messages were lost, answered twice or not pushed");
        ExitCode::FAILURE
    })
}
