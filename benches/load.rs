//! `cargo bench --bench load`: the load benchmark of `dingclaw bench` (README: Performance),
//! with the `dingclaw` binary cargo just built. The preset comes from `DINGCLAW_BENCH_PRESET`
//! (default `standard`); the report goes to `target/bench/`.

use clap::Parser;
use dingclaw::bench::BenchArgs;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    bench: BenchArgs,
}

fn main() -> anyhow::Result<()> {
    // cargo bench passes `--bench` (and any filter) to every bench target; only our flags count.
    let preset = std::env::var("DINGCLAW_BENCH_PRESET").unwrap_or_else(|_| "standard".into());
    let cli = Cli::parse_from(["load", "--preset", preset.as_str(), "--quiet"]);
    let exe = std::path::PathBuf::from(env!("CARGO_BIN_EXE_dingclaw"));
    let report = dingclaw::bench::run_blocking(cli.bench, exe)?;
    anyhow::ensure!(report.clean(), "messages were lost or answered twice");
    Ok(())
}
