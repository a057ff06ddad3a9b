//! `GET /metrics`: the Prometheus text format, from the `metrics` facade the library reports
//! to (`dingclaw_actors::telemetry`). One recorder per process, installed on first use; latency
//! histograms get real buckets (5 ms to 5 min) instead of summaries, so they can be aggregated
//! across gateways.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::{HttpResponse, web};
use dingclaw_actors::dingtalk::StreamStatus;
use dingclaw_actors::telemetry;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::WebState;
use super::auth::Operator;

/// Bucket bounds of every `*_seconds` histogram.
const SECONDS_BUCKETS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// How often the recorder's histograms are drained into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The name of the thread that drains them, one per process.
const UPKEEP_THREAD: &str = "metrics-upkeep";

/// The process's recorder; `None` if another recorder was installed first (an embedder's).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)
                .ok()?;
            let handle = builder.install_recorder().ok()?;
            telemetry::describe();
            start_upkeep(handle.clone());
            Some(handle)
        })
        .as_ref()
}

/// A recorder installed this way keeps every histogram sample until something drains it:
/// without upkeep, a gateway nobody scrapes grows by each message's latencies forever (an
/// 8-byte sample per histogram a message touches: turn, reply, provider, journal). A thread of
/// its own, so that it does not depend on any actix System living as long as the process.
fn start_upkeep(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name(UPKEEP_THREAD.to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "cannot start the metrics upkeep thread; histograms grow until /metrics is read");
    }
}

pub(super) async fn metrics(_: Operator, state: web::Data<WebState>) -> HttpResponse {
    let Some(handle) = prometheus() else {
        return HttpResponse::ServiceUnavailable()
            .body("metrics are recorded elsewhere in this process\n");
    };
    let rt = Arc::clone(&state.rt);
    let connected = rt
        .account_states()
        .await
        .iter()
        .filter(|s| s.stream.status == StreamStatus::Connected)
        .count();
    let stats = rt.stats();
    telemetry::levels(stats.sessions_resident, stats.pending, connected);
    if let Some(c) = rt.cluster_view().await {
        telemetry::cluster(&c.stats, c.acting);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Installing the recorder starts the one thread that drains its histograms.
    #[test]
    fn the_recorder_comes_with_its_upkeep_thread() {
        let threads = || {
            std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|t| std::fs::read_to_string(t.unwrap().path().join("comm")).ok())
                .filter(|name| name.trim() == UPKEEP_THREAD)
                .count()
        };
        assert!(prometheus().is_some());
        let _ = prometheus();
        // std names a thread from inside it, once it runs: until then `comm` is the parent's.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while threads() == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(threads(), 1);
    }
}
