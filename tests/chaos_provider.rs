//! Chaos at the model provider, under steady traffic: rate limits (429 with Retry-After),
//! server errors, calls that outlive their timeout, answers that stall, break off, or are
//! not JSON. The provider actor's retries must absorb all of it: every message answered
//! once, by the model, not with an apology. (Text replies make plain calls; the same faults
//! in server-sent-event streams are covered by `tests/providers.rs` and the SSE fuzz target.)

mod support;

use std::time::{Duration, Instant};

use dingclaw::offline_model::{Action, ModelOptions, Step};
use support::chaos::{Tally, run_traffic_until_done, traffic};
use support::gateway::{Harness, TEST_ACCOUNT, test_sim};

const CONFIG: &str = r#"{ agents: { list: [ { id: "a", model: "offline/m" } ] },
    channels: { "dingtalk-connector": { TEST_ACCOUNT,
      accounts: { bot1: { clientId: "provbot1", clientSecret: "s1" }, bot2: { clientId: "provbot2", clientSecret: "s2" } } } },
    models: { providers: { offline: { baseUrl: "${MODEL}", apiKey: "test-key", retries: 6, retryInitialMs: 50,
      timeoutSeconds: 1, idleTimeoutSeconds: 1, circuitBreakerFailures: 1000 } } } }"#;

fn step(times: u32, action: Action) -> Step {
    Step {
        model: None,
        times: Some(times),
        action,
    }
}

#[actix_rt::test]
async fn provider_faults_under_traffic_are_retried_away() {
    let config = CONFIG.replace("TEST_ACCOUNT", TEST_ACCOUNT);
    let h = Harness::start_with(
        &config,
        ModelOptions {
            latency: Duration::from_millis(20),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await;
    h.sim
        .sim
        .start_load(traffic(&["provbot1", "provbot2"], 10, 20.0, 10))
        .expect("load run");
    let faults = [
        step(
            1,
            Action::Fail {
                status: 429,
                retry_after: Some(1),
                message: Some("rate limited".into()),
            },
        ),
        step(
            1,
            Action::Fail {
                status: 500,
                retry_after: None,
                message: None,
            },
        ),
        step(
            1,
            Action::Fail {
                status: 503,
                retry_after: None,
                message: None,
            },
        ),
        step(1, Action::Delay { ms: 1500 }),
        step(1, Action::Stall { ms: 1500 }),
        step(1, Action::Truncate),
        step(1, Action::Malformed),
    ];
    let start = Instant::now();
    let mut injected = 0u64;
    // A wave of every fault every 1.5 s while traffic flows: about one call in five fails.
    while start.elapsed() < Duration::from_secs(9) {
        h.model.script(faults.iter().cloned());
        injected += faults
            .iter()
            .map(|s| s.times.unwrap_or(1) as u64)
            .sum::<u64>();
        actix_rt::time::sleep(Duration::from_millis(1500)).await;
    }
    let report = run_traffic_until_done(&h.sim, Duration::from_secs(90)).await;
    let stats = h.rt.stats();
    let failed = h
        .model
        .stats
        .failed
        .load(std::sync::atomic::Ordering::Relaxed);
    Tally::from_report(
        "provider 429/5xx/timeouts/stalls/cut-off and malformed answers",
        &report,
    )
    .note("faults_scripted", injected)
    .note("model_errors_answered", failed)
    .note("apologies", stats.turn_errors)
    .check();
    assert_eq!(stats.turn_errors, 0, "every turn ended with a model answer");
    h.stop().await;
}
