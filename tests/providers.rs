//! Model providers end to end, against the offline model's failure script: retries of 429
//! (with `Retry-After`), 5xx and timeouts; the fallback chain; the circuit breaker; refused
//! keys told to the user; broken streams; per-provider concurrency and queue limits; token
//! usage per session and agent.

mod support;

use std::time::{Duration, Instant};

use dingclaw::offline_model::{Action, ModelOptions, Step};
use dingclaw_actors::actors::session::GetSessionState;
use support::gateway::{Harness, TEST_ACCOUNT, To, said, test_sim};

/// One agent on `primary` (with `fallbacks`), two providers on the offline model: `offline`
/// and `backup`, each with `provider_extra` settings.
fn config(primary: &str, fallbacks: &[&str], provider_extra: &str) -> String {
    let fallbacks = fallbacks
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: {{ primary: "{primary}", fallbacks: [{fallbacks}] }} }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "provbot1", clientSecret: "s1" }} }} }} }},
             models: {{ providers: {{
               offline: {{ baseUrl: "${{MODEL}}", apiKey: "test-key", retryInitialMs: 50, {provider_extra} }},
               backup: {{ baseUrl: "${{MODEL}}", apiKey: "test-key", retryInitialMs: 50, {provider_extra} }},
             }} }},
             dingclaw: {{ store: "memory" }} }}"#
    )
}

fn step(model: Option<&str>, times: u32, action: Action) -> Step {
    Step {
        model: model.map(str::to_owned),
        times: Some(times),
        action,
    }
}

fn fail(status: u16, retry_after: Option<u64>) -> Action {
    Action::Fail {
        status,
        retry_after,
        message: Some(format!("scripted {status}")),
    }
}

#[actix_rt::test]
async fn rate_limits_are_retried_after_retry_after_and_server_errors_with_backoff() {
    // Five failures in a row would open the circuit; this test is about retries.
    let h = Harness::start(&config("offline/m", &[], "circuitBreakerFailures: 10")).await;
    h.model.script([step(None, 1, fail(429, Some(1)))]);
    let start = Instant::now();
    let reply = h.ask("alice", To::Dm("bot1"), "hello").await;
    assert_eq!(said(&reply), "hello", "{reply}");
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "Retry-After honoured: {:?}",
        start.elapsed()
    );
    // Two 5xx, then success: within the default two retries.
    h.model.script([
        step(None, 2, fail(503, None)),
        step(None, 1, fail(500, None)),
    ]);
    let before = h.model.stats.requests_for("m");
    let reply = h.ask("alice", To::Dm("bot1"), "again").await;
    assert!(
        reply.contains("unavailable right now"),
        "three failures exhaust two retries: {reply}"
    );
    assert_eq!(h.model.stats.requests_for("m") - before, 3);
    h.model.script([step(None, 2, fail(502, None))]);
    let reply = h.ask("alice", To::Dm("bot1"), "third").await;
    assert_eq!(said(&reply), "third", "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn a_call_over_its_deadline_or_idle_in_its_stream_is_retried() {
    let h = Harness::start(&config(
        "offline/m",
        &[],
        "timeoutSeconds: 1, idleTimeoutSeconds: 1, retries: 1",
    ))
    .await;
    h.model.script([step(None, 1, Action::Delay { ms: 3_000 })]);
    let start = Instant::now();
    let reply = h.ask("alice", To::Dm("bot1"), "slow").await;
    assert_eq!(said(&reply), "slow", "{reply}");
    assert!(
        start.elapsed() < Duration::from_millis(2_900),
        "the hung call was abandoned"
    );
    assert_eq!(h.model.stats.requests_for("m"), 2);
    h.stop().await;
}

#[actix_rt::test]
async fn the_fallback_chain_answers_when_the_primary_keeps_failing() {
    let h = Harness::start(&config(
        "offline/primary",
        &["offline/second", "backup/third"],
        "retries: 1",
    ))
    .await;
    h.model.script([
        step(Some("primary"), 2, fail(500, None)),
        step(Some("second"), 2, Action::Truncate),
    ]);
    let reply = h.ask("alice", To::Dm("bot1"), "hi").await;
    assert!(
        reply.contains("· third ·"),
        "answered by the last fallback: {reply}"
    );
    assert_eq!(h.model.stats.requests_for("primary"), 2);
    assert_eq!(h.model.stats.requests_for("second"), 2);
    // The next turn starts at the primary again.
    let reply = h.ask("alice", To::Dm("bot1"), "next").await;
    assert!(reply.contains("· primary ·"), "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn a_refused_key_is_told_to_the_user_without_retries_or_fallbacks() {
    let text = config("offline/m", &["backup/m2"], "").replace(
        r#"offline: { baseUrl: "${MODEL}", apiKey: "test-key""#,
        r#"offline: { baseUrl: "${MODEL}", apiKey: "wrong-key""#,
    );
    let h = Harness::start_with(
        &text,
        ModelOptions {
            api_key: Some("test-key".to_owned()),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await;
    let reply = h.ask("alice", To::Dm("bot1"), "hi").await;
    assert_eq!(
        reply,
        "⚠️ The model provider rejected the API key for offline."
    );
    assert_eq!(h.model.stats.requests_for("m"), 1, "not retried");
    assert_eq!(h.model.stats.requests_for("m2"), 0, "no fallback");
    assert!(!reply.contains("wrong-key"));
    h.stop().await;
}

#[actix_rt::test]
async fn a_bad_request_is_reported_without_retries() {
    let h = Harness::start(&config("offline/m", &["backup/m2"], "")).await;
    h.model.script([step(None, 1, fail(400, None))]);
    let reply = h.ask("bob", To::Dm("bot1"), "hi").await;
    assert_eq!(
        reply,
        "⚠️ The model provider offline refused the request: scripted 400"
    );
    assert_eq!(h.model.stats.requests_for("m"), 1);
    assert_eq!(h.model.stats.requests_for("m2"), 0);
    h.stop().await;
}

#[actix_rt::test]
async fn a_failing_provider_is_put_in_cooldown_and_skipped() {
    let h = Harness::start(&config(
        "offline/m",
        &["backup/b"],
        "retries: 0, circuitBreakerFailures: 2, circuitBreakerCooldownSeconds: 2",
    ))
    .await;
    h.model.script([step(Some("m"), 2, fail(500, None))]);
    for (user, text) in [("u1", "one"), ("u2", "two")] {
        let reply = h.ask(user, To::Dm("bot1"), text).await;
        assert!(reply.contains("· b ·"), "fell back: {reply}");
    }
    let offline =
        h.rt.provider_states()
            .into_iter()
            .find(|p| p.id == "offline")
            .expect("offline provider status");
    assert_eq!(offline.circuit.state, "open", "{offline:?}");
    // In cooldown: the primary is not called at all.
    let reply = h.ask("u3", To::Dm("bot1"), "three").await;
    assert!(reply.contains("· b ·"), "{reply}");
    assert_eq!(h.model.stats.requests_for("m"), 2);
    // After the cooldown a trial call goes through and closes the circuit.
    actix_rt::time::sleep(Duration::from_millis(2_100)).await;
    let reply = h.ask("u4", To::Dm("bot1"), "four").await;
    assert!(reply.contains("· m ·"), "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn concurrency_is_capped_per_provider_and_the_queue_is_bounded() {
    let text = config("offline/m", &[], "maxConcurrent: 3, maxQueue: 100");
    let h = Harness::start_with(
        &text,
        ModelOptions {
            latency: Duration::from_millis(150),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await;
    let mut sent = Vec::new();
    for i in 0..30 {
        sent.push(
            h.say(&format!("user{i}"), To::Dm("bot1"), &format!("m{i}"))
                .await,
        );
    }
    for (i, s) in sent.iter().enumerate() {
        let r = h.answered(s, 1).await.remove(0);
        assert_eq!(said(&r.text), format!("m{i}"), "{}", r.text);
    }
    let max = h
        .model
        .stats
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(max <= 3, "at most 3 calls at once, saw {max}");
    assert!(max >= 2, "calls did run in parallel ({max})");
    h.stop().await;

    // One slot, room for two waiting: the rest are told the provider is busy.
    let text = config(
        "offline/m",
        &[],
        "maxConcurrent: 1, maxQueue: 2, retries: 0",
    );
    let h = Harness::start_with(
        &text,
        ModelOptions {
            latency: Duration::from_millis(600),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await;
    let mut sent = Vec::new();
    for i in 0..6 {
        sent.push(
            h.say(&format!("user{i}"), To::Dm("bot1"), &format!("m{i}"))
                .await,
        );
    }
    let mut answered = 0;
    let mut busy = 0;
    for s in &sent {
        let r = h.answered(s, 1).await.remove(0);
        if r.text.contains("is busy right now") {
            busy += 1;
        } else {
            answered += 1;
        }
    }
    assert_eq!(
        (answered, busy),
        (3, 3),
        "one running, two queued, three refused"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn tokens_are_counted_per_call_session_and_agent() {
    let h = Harness::start(&config("offline/m", &[], "")).await;
    let sent = h.say("alice", To::Dm("bot1"), "count me").await;
    h.answered(&sent, 1).await;
    let sent = h.say("alice", To::Dm("bot1"), "and me").await;
    h.answered(&sent, 1).await;
    let usage = h.rt.agent_usages();
    let (agent, a) = usage.first().expect("agent usage");
    assert_eq!(agent, "a");
    assert_eq!(a.calls, 2);
    assert!(a.prompt_tokens > 0 && a.completion_tokens > 0, "{a:?}");
    let provider =
        h.rt.provider_states()
            .into_iter()
            .find(|p| p.id == "offline")
            .expect("provider");
    assert_eq!(provider.usage.prompt_tokens, a.prompt_tokens);
    let key = h.rt.resident_sessions().pop().expect("a session");
    let session = h.rt.session(&key).expect("resident");
    let state = session.send(GetSessionState).await.expect("session state");
    assert_eq!(
        (state.prompt_tokens, state.completion_tokens),
        (a.prompt_tokens, a.completion_tokens)
    );
    h.stop().await;
}

/// Found by probing a running gateway: a turn waiting on a hung provider held one of the
/// gateway's `maxConcurrent` slots, so agents on healthy providers queued behind it (28.9 s
/// instead of 0.1 s). Now a wait for a model holds no gateway slot; a turn queued long for
/// its provider's slot is told so once, and answered when the slot frees.
#[actix_rt::test]
async fn a_hung_provider_holds_up_no_other_agent_and_queued_users_are_told() {
    let text = format!(
        r#"{{ agents: {{ defaults: {{ maxConcurrent: 1 }},
                      list: [ {{ id: "a", model: "offline/slow" }}, {{ id: "b", model: "backup/fast" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "hungbot1", clientSecret: "s1" }},
                           bot2: {{ clientId: "hungbot2", clientSecret: "s2" }} }} }} }},
             bindings: [ {{ agentId: "a", match: {{ channel: "dingtalk-connector", accountId: "bot1" }} }},
                         {{ agentId: "b", match: {{ channel: "dingtalk-connector", accountId: "bot2" }} }} ],
             models: {{ providers: {{
               offline: {{ baseUrl: "${{MODEL}}", apiKey: "test-key", maxConcurrent: 1 }},
               backup: {{ baseUrl: "${{MODEL}}", apiKey: "test-key" }},
             }} }},
             dingclaw: {{ store: "memory" }} }}"#
    );
    let h = Harness::start(&text).await;
    // The first call to the slow model hangs for 10 s.
    h.model
        .script([step(Some("slow"), 1, Action::Delay { ms: 10_000 })]);
    let hung = h.say("alice", To::Dm("bot1"), "first").await;
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    let queued = h.say("bob", To::Dm("bot1"), "second").await;
    let start = Instant::now();
    let reply = h.ask("carol", To::Dm("bot2"), "anyone there?").await;
    assert_eq!(said(&reply), "anyone there?", "{reply}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "the healthy provider's agent answered in {:?}",
        start.elapsed()
    );
    // Bob waits for the slow provider's one slot: told after 8 s, answered after alice.
    let replies = h.answered(&queued, 2).await;
    assert!(
        replies[0].text.contains("queued") && replies[0].text.contains("排队"),
        "{replies:?}"
    );
    assert_eq!(said(&replies[1].text), "second", "{replies:?}");
    assert_eq!(said(&h.answered(&hung, 1).await[0].text), "first");
    assert!(
        h.replies_to(&hung).len() == 1,
        "alice was not waiting for a slot"
    );
    h.stop().await;
}
