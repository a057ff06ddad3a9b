//! Session behaviour end to end: one turn at a time in order, `collect` merging, `/new`,
//! the queue cap, idle eviction and rebuilding from the store, and policy refusals.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use dingclaw::offline_model::ModelOptions;
use dingclaw::sim::DisconnectRequest;
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, said, test_sim, turn};

fn config(extra: &str, account_extra: &str) -> String {
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT}, {account_extra}
               accounts: {{ bot1: {{ clientId: "sessbot1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER}, {extra} }}"#
    )
}

async fn slow_model(text: &str, ms: u64) -> Harness {
    Harness::start_with(
        text,
        ModelOptions {
            latency: Duration::from_millis(ms),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await
}

#[actix_rt::test]
async fn messages_during_a_turn_are_answered_in_order() {
    let h = slow_model(&config(r#"dingclaw: { store: "memory" }"#, ""), 200).await;
    let sent = [
        h.say("alice", To::Dm("bot1"), "m1").await,
        h.say("alice", To::Dm("bot1"), "m2").await,
        h.say("alice", To::Dm("bot1"), "m3").await,
    ];
    let mut seqs = Vec::new();
    for (i, s) in sent.iter().enumerate() {
        let r = h.answered(s, 1).await.remove(0);
        assert_eq!(
            (said(&r.text), turn(&r.text)),
            (format!("m{}", i + 1).as_str(), i + 1),
            "{}",
            r.text
        );
        seqs.push(r.seq);
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "answered in order: {seqs:?}"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn collect_mode_merges_waiting_messages_into_one_turn() {
    let h = slow_model(
        &config(
            r#"messages: { queue: { mode: "collect" } }, dingclaw: { store: "memory" }"#,
            "",
        ),
        300,
    )
    .await;
    let m1 = h.say("alice", To::Dm("bot1"), "m1").await;
    actix_rt::time::sleep(Duration::from_millis(50)).await;
    let m2 = h.say("alice", To::Dm("bot1"), "m2").await;
    let m3 = h.say("alice", To::Dm("bot1"), "m3").await;
    assert_eq!(turn(&h.answered(&m1, 1).await[0].text), 1);
    let r = h.answered(&m3, 1).await.remove(0).text;
    assert!(
        r.contains("turn 3") && r.contains("history: m1 | m2 | m3"),
        "{r}"
    );
    actix_rt::time::sleep(Duration::from_millis(200)).await;
    assert!(
        h.replies_to(&m2).is_empty(),
        "m2 was answered together with m3"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn new_starts_a_fresh_session_and_keeps_the_old_transcript() {
    let h = Harness::start(&config("", "")).await;
    h.ask("alice", To::Dm("bot1"), "one").await;
    h.ask("alice", To::Dm("bot1"), "two").await;
    let r = h.ask("alice", To::Dm("bot1"), "/new").await;
    assert!(r.contains("New session started"), "{r}");
    let r = h.ask("alice", To::Dm("bot1"), "three").await;
    assert_eq!((turn(&r), said(&r)), (1, "three"));
    // The connector's Chinese reset word works too.
    let r = h.ask("alice", To::Dm("bot1"), "新会话").await;
    assert!(r.contains("新会话"), "{r}");
    h.rt.store().flush().await.unwrap();
    let sessions = h.rt.store().sessions(Default::default()).await.unwrap();
    assert_eq!(sessions.len(), 1);
    h.stop().await;
}

#[actix_rt::test]
async fn past_the_queue_cap_the_sender_is_told_to_wait_not_ignored() {
    let h = slow_model(
        &config(
            r#"messages: { queue: { cap: 2 } }, dingclaw: { store: "memory" }"#,
            "",
        ),
        400,
    )
    .await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(h.say("alice", To::Dm("bot1"), &format!("m{i}")).await);
    }
    let mut busy = 0;
    for s in &sent {
        let r = h.answered(s, 1).await.remove(0).text;
        if r.contains("still working") {
            busy += 1;
        }
    }
    assert_eq!(busy, 2, "one in the turn, two queued, two told to wait");
    h.stop().await;
}

#[actix_rt::test]
async fn idle_sessions_leave_memory_and_come_back_from_the_store() {
    let h = Harness::start(&config("dingclaw: { sessionIdleSeconds: 1 }", "")).await;
    h.ask("alice", To::Dm("bot1"), "first").await;
    h.ask("alice", To::Dm("bot1"), "second").await;
    assert_eq!(h.rt.resident_sessions().len(), 1);
    let start = Instant::now();
    while !h.rt.resident_sessions().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "session not evicted"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    // The evicted actor ends: nothing (a timer, a pending send) keeps it and its memory.
    let start = Instant::now();
    while h.rt.stats().session_actors != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "an evicted session's actor is still alive: {:?}",
            h.rt.stats()
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    let r = h.ask("alice", To::Dm("bot1"), "third").await;
    assert_eq!(turn(&r), 3, "rebuilt with its history: {r}");
    assert!(r.contains("history: first | second | third"), "{r}");
    assert_eq!(h.rt.stats().sessions_started, 2);
    h.stop().await;
}

/// A resident session lets its transcript go after `transcriptIdleSeconds` and reads it
/// back with its next message: the model still sees the whole history, in order.
#[actix_rt::test]
async fn a_quiet_resident_session_lets_its_transcript_go_and_reads_it_back() {
    let h = Harness::start(&config(
        "dingclaw: { sessionIdleSeconds: 600, transcriptIdleSeconds: 2 }",
        "",
    ))
    .await;
    h.ask("alice", To::Dm("bot1"), "first").await;
    h.ask("alice", To::Dm("bot1"), "second").await;
    let key = h.rt.resident_sessions().remove(0);
    let entries = || async {
        let session = h.rt.session(&key).expect("resident");
        session
            .send(dingclaw_actors::actors::session::GetSessionState)
            .await
            .expect("state")
            .entries
    };
    assert_eq!(entries().await, 4, "two turns in memory");
    let start = Instant::now();
    while entries().await != 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the transcript stayed in memory"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        h.rt.resident_sessions(),
        vec![key.clone()],
        "still resident"
    );
    let r = h.ask("alice", To::Dm("bot1"), "third").await;
    assert_eq!(turn(&r), 3, "read back with its history: {r}");
    assert!(r.contains("history: first | second | third"), "{r}");
    assert_eq!(entries().await, 6);
    assert_eq!(h.rt.stats().sessions_started, 1, "the actor never left");
    h.stop().await;
}

#[actix_rt::test]
async fn refused_senders_get_one_polite_reply_and_reach_no_agent() {
    let h = Harness::start(&config(
        r#"dingclaw: { store: "memory" }"#,
        r#"dmPolicy: "allowlist", allowFrom: ["alice"], groupPolicy: "allowlist", groupAllowFrom: ["cidAllowed=="],"#,
    ))
    .await;
    let r = h.ask("bob", To::Dm("bot1"), "let me in").await;
    assert!(r.contains("not allowed"), "{r}");
    assert!(
        h.ask("alice", To::Dm("bot1"), "hi")
            .await
            .contains("turn 1")
    );
    let other = h.group(&["bot1"], &["alice"]);
    assert!(
        h.ask("alice", To::Group(&other, &["bot1"]), "hi")
            .await
            .contains("not enabled for this group")
    );
    let requests = h
        .model
        .stats
        .requests
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(requests, 1, "refused messages never reached the model");
    assert_eq!(h.rt.stats().refused, 2);
    h.stop().await;
}

/// A quiet gateway gives freed memory back once per quiet spell: after its sessions have
/// left memory (that is activity too), not again while nothing happens, and once more after
/// the next message.
#[actix_rt::test]
async fn a_quiet_gateway_gives_memory_back_once_per_quiet_spell() {
    static PER_THREAD: AtomicU64 = AtomicU64::new(0);
    static ONCE: AtomicU64 = AtomicU64::new(0);
    let h = Harness::start_with_options(
        &config(
            r#"dingclaw: { store: "memory", sessionIdleSeconds: 1, memoryReleaseSeconds: 1 }"#,
            "",
        ),
        ModelOptions::default(),
        test_sim(),
        |b| {
            b.release_memory_with(|| {
                PER_THREAD.fetch_add(1, Ordering::Relaxed);
            })
            .after_memory_release(|| {
                ONCE.fetch_add(1, Ordering::Relaxed);
            })
        },
    )
    .await;
    let releases = || h.rt.stats().memory_releases;
    assert!(
        h.ask("alice", To::Dm("bot1"), "hi")
            .await
            .contains("turn 1")
    );
    until("the session left memory", || {
        let s = h.rt.stats();
        s.sessions_resident == 0 && s.session_actors == 0
    })
    .await;
    let after_eviction = releases();
    until("memory given back after the eviction", || {
        releases() > after_eviction
    })
    .await;
    let n = releases();
    actix_rt::time::sleep(Duration::from_millis(3_500)).await;
    assert_eq!(releases(), n, "nothing happened: nothing more to give back");
    // A bot reconnecting is activity too (a mass reconnect allocates like a burst).
    let connects = h.rt.stats().stream_connects;
    assert!(connects >= 1, "the bot's connection was counted");
    let asked = DisconnectRequest {
        grace_ms: Some(200),
        reason: None,
    };
    assert_eq!(
        h.sim
            .sim
            .send_disconnect(&h.client_id("bot1"), &asked)
            .await,
        1
    );
    until("the bot reconnected", || {
        h.rt.stats().stream_connects > connects
    })
    .await;
    until("memory given back after the reconnection", || {
        releases() > n
    })
    .await;
    let n = releases();
    assert!(
        h.ask("alice", To::Dm("bot1"), "again")
            .await
            .contains("turn")
    );
    until("memory given back after the next message", || {
        releases() > n
    })
    .await;
    // The binary's hooks: the once-per-release one after every thread's release.
    until("the last release's hooks ran", || {
        ONCE.load(Ordering::Relaxed) == releases()
    })
    .await;
    let threads = PER_THREAD.load(Ordering::Relaxed);
    assert!(
        threads >= 3 * releases(),
        "{threads} per-thread releases for {} releases (the store's thread, the lanes, the runtime's)",
        releases()
    );
    h.stop().await;
}

/// Waits (at most 15 s, without blocking the System's thread) until `done`.
async fn until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(15), "{what}");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}
