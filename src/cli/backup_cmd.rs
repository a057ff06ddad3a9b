//! `dingclaw backup FILE` and `dingclaw restore FILE`: the store (sessions, transcripts, jobs,
//! pairings, memory index) copied out while the gateway runs, and copied back while it does
//! not. Agent workspaces are plain files: copy them with the state directory (docs/
//! getting-started.md, "Back up and upgrade").

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use dingclaw_actors::config::{Config, StoreKind};
use dingclaw_actors::store::{StoreSummary, backup, restore};

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Where to write the copy (replaced if it exists).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A copy written by `dingclaw backup`.
    pub file: PathBuf,
}

fn describe(s: &StoreSummary) -> String {
    format!(
        "{} sessions, {} transcript entries, {} scheduled jobs, {:.1} MB (store schema {})",
        s.sessions,
        s.entries,
        s.jobs,
        s.bytes as f64 / 1_048_576.0,
        s.schema_version
    )
}

fn sqlite_only(config: &Config) -> anyhow::Result<()> {
    match config.runtime.store {
        StoreKind::Sqlite => Ok(()),
        StoreKind::Memory => anyhow::bail!(
            "dingclaw.store is \"memory\": nothing is stored, so there is nothing to back up or restore"
        ),
        StoreKind::Postgres => anyhow::bail!(
            "dingclaw.store is \"postgres\": back it up with PostgreSQL's own tools (pg_dump, or your provider's snapshots), which copy it consistently while gateways run"
        ),
    }
}

pub(super) fn run_backup(args: BackupArgs, config: &Config) -> anyhow::Result<ExitCode> {
    sqlite_only(config)?;
    let store = &config.runtime.store_path;
    let summary = backup(store, &args.file)?;
    println!(
        "backed up {} to {}: {}",
        store.display(),
        args.file.display(),
        describe(&summary)
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_restore(args: RestoreArgs, config: &Config) -> anyhow::Result<ExitCode> {
    sqlite_only(config)?;
    let store = &config.runtime.store_path;
    let (summary, kept) = restore(store, &args.file)?;
    println!(
        "restored {} into {}: {}",
        args.file.display(),
        store.display(),
        describe(&summary)
    );
    if let Some(kept) = kept {
        println!("the store it replaced is kept at {}", kept.display());
    }
    Ok(ExitCode::SUCCESS)
}
