//! The dingclaw command line. Errors become `anyhow` only here, at the binary's edge.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc: the load benchmark's profile had glibc's allocator
/// (`_int_malloc`, `free`, `malloc_consolidate`) as the largest single cost, and glibc keeps
/// freed memory per thread arena, which inflates RSS per session (README: Performance).
/// `dingclaw::allocator` gives its freed pages back when the gateway is quiet.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    dingclaw::allocator::small_pages();
    let cli = dingclaw::cli::Cli::parse();
    if cli.command.prints_and_exits() {
        dingclaw::cli::die_quietly_on_closed_pipe();
    }
    match dingclaw::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
