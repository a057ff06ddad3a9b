//! The cluster preset: the same load, first on one gateway with its SQLite store, then on
//! three gateways sharing a throwaway PostgreSQL server (`dingclaw.cluster`), so the report
//! sets what sharing costs next to what one machine does. PostgreSQL's commit counter gives
//! the commits per message (heartbeats and sweeps included: they are part of the cost).

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use dingclaw_testing::postgres::TestPostgres;

use super::plan::Plan;
use super::report::{ClusterFigures, Report};
use super::{Mode, measure};

/// Gateways in the cluster run.
const GATEWAYS: usize = 3;

/// Transactions committed in the current database so far.
async fn commits(url: &str) -> anyhow::Result<i64> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .context("connect to the benchmark's PostgreSQL server")?;
    let driver = actix_rt::spawn(connection);
    let row = client
        .query_one(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await?;
    drop(client);
    let _ = driver.await;
    Ok(row.get(0))
}

/// Runs both and returns the cluster's report with the single gateway's figures beside it.
pub(super) async fn compare(
    plan: &Plan,
    exe: &Path,
    dir: &Path,
    quiet: bool,
) -> anyhow::Result<Report> {
    let single = measure(plan, exe, &dir.join("single"), &Mode::Single, quiet).await?;
    let pg = TestPostgres::start().context(
        "the cluster preset starts a PostgreSQL server of its own (apt-get install postgresql)",
    )?;
    let url = pg.database()?;
    // The statistics reach pg_stat_database within a second of each commit.
    let before = commits(&url).await?;
    let mode = Mode::Cluster {
        url: url.clone(),
        instances: GATEWAYS,
    };
    let mut report = measure(plan, exe, &dir.join("cluster"), &mode, quiet).await?;
    actix_rt::time::sleep(Duration::from_millis(1500)).await;
    let pg_commits = commits(&url).await? - before;
    report.cluster = Some(ClusterFigures {
        gateways: GATEWAYS,
        single_sustained_per_s: single.sustained_per_s,
        single_latency_us: single.latency_us.clone(),
        single_cpu_ms_per_1000: single.gateway.cpu_ms_per_1000,
        single_lost: single.lost + single.unpushed,
        single_duplicated: single.duplicated,
        cpu_ms_per_1000: report.gateway.cpu_ms_per_1000,
        pg_commits,
        pg_commits_per_message: pg_commits as f64 / report.answered.max(1) as f64,
    });
    pg.stop();
    Ok(report)
}
