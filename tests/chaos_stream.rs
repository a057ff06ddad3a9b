//! Chaos on the DingTalk side, under steady traffic: disconnect storms, connections dropped
//! without a word, connections/open failing for a while, zombie sockets, lost ACKs with
//! redeliveries; then, for replies, expired sessionWebhooks, QPS throttling and revoked
//! access tokens. Every message must be answered exactly once.

mod support;

use std::time::{Duration, Instant};

use dingclaw::offline_model::ModelOptions;
use dingclaw::sim::{ChaosRequest, DisconnectRequest};
use futures_util::future::join_all;
use support::chaos::{Tally, run_traffic_until_done, traffic};
use support::gateway::{Harness, TEST_PROVIDER, To, test_sim};

const CONFIG: &str = r#"{ agents: { list: [ { id: "a", model: "offline/m" } ] },
    channels: { "dingtalk-connector": { endpoint: "${SIM}", groupReplyMode: "text", dmReplyMode: "text",
      stream: { pingIntervalMs: 300, pongTimeoutMs: 1500, silenceTimeoutMs: 3000, reconnectInitialMs: 100,
                reconnectMaxMs: 400, sendRetryInitialMs: 100, sendRetries: 4 },
      accounts: { bot1: { clientId: "chaosbot1", clientSecret: "s1" }, bot2: { clientId: "chaosbot2", clientSecret: "s2" } } } },
    TEST_PROVIDER }"#;

const BOTS: [&str; 2] = ["chaosbot1", "chaosbot2"];

fn config() -> String {
    CONFIG.replace("TEST_PROVIDER", TEST_PROVIDER)
}

async fn at(start: Instant, ms: u64) {
    let due = start + Duration::from_millis(ms);
    if let Some(wait) = due.checked_duration_since(Instant::now()) {
        actix_rt::time::sleep(wait).await;
    }
}

#[actix_rt::test]
async fn connection_faults_under_traffic_lose_and_duplicate_nothing() {
    let h = Harness::start(&config()).await;
    h.sim.sim.chaos(&ChaosRequest {
        redeliver_after_ms: Some(2000),
        ..ChaosRequest::default()
    });
    h.sim
        .sim
        .start_load(traffic(&BOTS, 10, 30.0, 14))
        .expect("load run");
    let start = Instant::now();

    // A storm of `disconnect`s: each asks for a new connection while the last hand-over is
    // still going on.
    at(start, 1000).await;
    for _ in 0..3 {
        for b in BOTS {
            h.sim
                .sim
                .send_disconnect(
                    b,
                    &DisconnectRequest {
                        grace_ms: Some(300),
                        reason: Some("chaos storm".into()),
                    },
                )
                .await;
        }
        actix_rt::time::sleep(Duration::from_millis(250)).await;
    }
    // Connections dropped without a word.
    at(start, 3500).await;
    let dropped: usize = BOTS.iter().map(|b| h.sim.sim.drop_connections(b)).sum();
    // connections/open fails for a while (503), with the sockets gone.
    at(start, 5500).await;
    h.sim.sim.chaos(&ChaosRequest {
        reject_open: Some(503),
        reject_open_count: Some(6),
        ..ChaosRequest::default()
    });
    for b in BOTS {
        h.sim.sim.drop_connections(b);
    }
    // Zombie sockets: open, silent, no pongs.
    at(start, 8000).await;
    for b in BOTS {
        h.sim.sim.stall(b, true).expect("stall");
    }
    // ACKs lost on the way: DingTalk redelivers, the duplicate filter must drop them.
    at(start, 11000).await;
    h.sim.sim.chaos(&ChaosRequest {
        lose_acks: Some(10),
        ..ChaosRequest::default()
    });

    let report = run_traffic_until_done(&h.sim, Duration::from_secs(90)).await;
    let sim = h.sim.sim.stats();
    let streams = h.rt.account_states().await;
    let reconnects: u64 = streams.iter().map(|s| s.stream.reconnects).sum();
    let duplicates_dropped: u64 = streams.iter().map(|s| s.stream.duplicates).sum();
    Tally::from_report(
        "disconnect storms, drops, open failures, zombies, lost ACKs",
        &report,
    )
    .note("dropped_sockets", dropped as u64)
    .note("reconnects", reconnects)
    .note("rejected_opens", sim.rejected_opens)
    .note("redeliveries", sim.redeliveries)
    .note("redeliveries_dropped", duplicates_dropped)
    .check();
    assert!(sim.rejected_opens >= 1, "{sim:?}");
    assert!(
        sim.redeliveries >= 1,
        "the lost ACKs were redelivered: {sim:?}"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn expired_webhooks_throttling_and_revoked_tokens_lose_and_duplicate_nothing() {
    // Turns take long enough for the webhook to expire between a message and its reply.
    let h = Harness::start_with(
        &config(),
        ModelOptions {
            latency: Duration::from_millis(300),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await;
    let group = h.group(&["bot1", "bot2"], &["ann", "ben", "cat"]);
    let users = ["ann", "ben", "cat", "dan", "eve", "fay"];
    let mut sent = Vec::new();
    for round in 0..6 {
        let says = users.iter().enumerate().map(|(i, u)| {
            let h = &h;
            let group = group.clone();
            async move {
                let text = format!("{u} round {round}");
                // Half the users talk in DMs, the group members also @ the bots.
                if i < 3 && round % 2 == 1 {
                    h.say(u, To::Group(&group, &["bot1"]), &text).await
                } else {
                    h.say(u, To::Dm(if i % 2 == 0 { "bot1" } else { "bot2" }), &text)
                        .await
                }
            }
        });
        let batch = join_all(says).await;
        // While the model thinks: this round's sessionWebhooks expire, so the replies go
        // through the OpenAPI; in round 2 it throttles (403 QpsLimit) the first calls; in
        // round 4 every access token is revoked (401) first.
        let expire = |throttle, revoke| ChaosRequest {
            expire_webhooks: Some(true),
            throttle,
            revoke_tokens: revoke,
            ..ChaosRequest::default()
        };
        match round {
            1 | 3 => h.sim.sim.chaos(&expire(None, None)),
            2 => h.sim.sim.chaos(&expire(Some(4), None)),
            4 => h.sim.sim.chaos(&expire(None, Some(true))),
            _ => {}
        }
        for s in &batch {
            h.answered(s, 1).await;
        }
        sent.extend(batch);
    }
    // Quiet for a moment: a late second reply would show up now.
    actix_rt::time::sleep(Duration::from_millis(500)).await;
    let replies: Vec<usize> = sent.iter().map(|s| h.replies_to(s).len()).collect();
    let stats = h.sim.sim.stats();
    let tally = Tally {
        fault: "expired webhooks, QPS throttling, revoked tokens",
        sent: sent.len() as u64,
        answered: replies.iter().filter(|n| **n >= 1).count() as u64,
        lost: replies.iter().filter(|n| **n == 0).count() as u64,
        duplicated: replies.iter().map(|n| n.saturating_sub(1) as u64).sum(),
        ..Tally::default()
    }
    .note("openapi_sends", stats.openapi_sends)
    .note("webhook_expired", stats.webhook_expired)
    .note("throttled", stats.openapi_throttled)
    .note("unauthorized", stats.openapi_unauthorized);
    tally.check();
    assert!(
        stats.openapi_sends > 0 && stats.openapi_throttled > 0 && stats.openapi_unauthorized > 0,
        "{stats:?}"
    );
    h.stop().await;
}
