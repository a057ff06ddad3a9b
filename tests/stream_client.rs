//! The Stream-mode client against the simulator, through real sockets: ACKs, pings,
//! hand-over on `disconnect`, zombie and dead-socket detection, backoff, dedup and multi-bot.

mod support;

use std::time::{Duration, Instant};

use dingclaw::sim::{ChaosRequest, DisconnectRequest, NewGroup, UserMessage};
use dingclaw_actors::dingtalk::StreamStatus;
use support::*;

fn dm(bot: &str, from: &str, text: &str) -> UserMessage {
    UserMessage {
        from: from.to_owned(),
        bot: Some(bot.to_owned()),
        text: text.to_owned(),
        ..UserMessage::default()
    }
}

#[actix_rt::test]
async fn acks_every_frame_at_once_in_the_spec_shapes() {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "ackbot");
    // The collector takes 3 s per message, like a slow model; ACKs must not wait for it.
    let (client, got) = client(
        account(&server.url, &id, &secret, FAST_STREAM),
        Duration::from_secs(3),
    );
    wait_connected(&client, Duration::from_secs(5)).await;

    for i in 0..3 {
        server
            .sim
            .say(&dm(&id, "u1", &format!("hello {i}")))
            .await
            .unwrap();
    }
    wait_until("three callback ACKs", Duration::from_secs(3), || {
        server
            .sim
            .acks(Some(&id))
            .iter()
            .filter(|a| a.kind == "callback")
            .count()
            == 3
    })
    .await;
    wait_until("a ping ACK", Duration::from_secs(3), || {
        server.sim.acks(Some(&id)).iter().any(|a| a.kind == "ping")
    })
    .await;
    for ack in server.sim.acks(Some(&id)) {
        assert!(ack.conforms, "ACK does not follow the spec: {}", ack.raw);
        assert!(ack.same_socket, "ACK on another socket: {}", ack.raw);
        assert!(
            ack.latency_us < 1_000_000,
            "ACK took {} us while the handler was busy",
            ack.latency_us
        );
        let v: serde_json::Value = serde_json::from_str(&ack.raw).unwrap();
        assert_eq!(v["code"], 200);
        assert_eq!(v["headers"]["contentType"], "application/json");
        assert_eq!(v["headers"]["messageId"], ack.message_id);
    }
    let stats = server.sim.stats();
    assert_eq!(stats.ping_echo_mismatches, 0);
    // All three were ACKed long before the slow handler got through them.
    assert!(got.lock().unwrap().len() < 3 || stats.max_ack_latency_us < 1_000_000);
    wait_until("all three delivered", Duration::from_secs(12), || {
        got.lock().unwrap().len() == 3
    })
    .await;
}

#[actix_rt::test]
async fn malformed_frames_and_unknown_topics_do_not_kill_the_connection() {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "robust");
    let (client, got) = client(
        account(&server.url, &id, &secret, FAST_STREAM),
        Duration::ZERO,
    );
    wait_connected(&client, Duration::from_secs(5)).await;

    server.sim.push_raw(&id, "this is not json").await;
    server.sim.push_raw(&id, r#"{"type":"CALLBACK","headers":{"topic":"/v1.0/im/bot/messages/get","messageId":"bad-1"},"data":"{\"msgId\":1}"}"#).await;
    server.sim.push_raw(&id, r#"{"specVersion":"1.0","type":"CALLBACK","headers":{"topic":"/v1.0/card/instances/callback","messageId":"card-1","contentType":"application/json","time":"1"},"data":"{}"}"#).await;
    server.sim.push_raw(&id, r#"{"specVersion":"1.0","type":"EVENT","headers":{"topic":"*","messageId":"ev-1","eventType":"chat_update","contentType":"application/json","time":"1"},"data":"{}"}"#).await;
    server
        .sim
        .say(&dm(&id, "u1", "still there?"))
        .await
        .unwrap();

    wait_until(
        "the real message after the bad ones",
        Duration::from_secs(3),
        || got.lock().unwrap().len() == 1,
    )
    .await;
    wait_until(
        "ACKs of the unreadable, unknown and event frames",
        Duration::from_secs(3),
        || {
            let acks = server.sim.acks(Some(&id));
            ["bad-1", "card-1", "ev-1"]
                .iter()
                .all(|m| acks.iter().any(|a| a.message_id == *m))
        },
    )
    .await;
    let ev = server
        .sim
        .acks(Some(&id))
        .into_iter()
        .find(|a| a.message_id == "ev-1")
        .unwrap();
    let data: serde_json::Value = serde_json::from_str(
        serde_json::from_str::<serde_json::Value>(&ev.raw).unwrap()["data"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(data["status"], "SUCCESS");
    let s = state(&client).await;
    assert_eq!((s.reconnects, s.connections), (0, 1), "{s:?}");
}

#[actix_rt::test]
async fn disconnect_hands_over_without_losing_a_message() {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "handover");
    let (client, got) = client(
        account(&server.url, &id, &secret, FAST_STREAM),
        Duration::ZERO,
    );
    wait_connected(&client, Duration::from_secs(5)).await;

    let total = 60;
    for i in 0..total {
        if i == 20 {
            let n = server
                .sim
                .send_disconnect(
                    &id,
                    &DisconnectRequest {
                        grace_ms: Some(1500),
                        reason: None,
                    },
                )
                .await;
            assert_eq!(n, 1);
        }
        server
            .sim
            .say(&dm(&id, &format!("user{}", i % 7), &format!("m{i}")))
            .await
            .unwrap();
        actix_rt::time::sleep(Duration::from_millis(25)).await;
    }
    wait_until("every message delivered", Duration::from_secs(5), || {
        got.lock().unwrap().len() == total
    })
    .await;
    let mut texts: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|m| m.message.text_for_agent())
        .collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), total, "each message exactly once");
    // The old socket closes after the grace period; one connection remains.
    wait_until("old connection closed", Duration::from_secs(4), || {
        server.sim.stats().open_connections == 1
    })
    .await;
    let stats = server.sim.stats();
    assert_eq!(
        stats.connections, 2,
        "exactly one new connection was opened: {stats:?}"
    );
    assert_eq!(stats.unacked, 0);
    let s = wait_connected(&client, Duration::from_secs(2)).await;
    assert_eq!(s.delivered, total as u64);
}

#[actix_rt::test]
async fn zombie_socket_is_detected_and_replaced() {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "zombie");
    let (client, got) = client(
        account(&server.url, &id, &secret, FAST_STREAM),
        Duration::ZERO,
    );
    wait_connected(&client, Duration::from_secs(5)).await;

    // The socket still answers WebSocket pings but no frame arrives any more.
    server.sim.stall(&id, true).unwrap();
    let stalled_at = Instant::now();
    wait_until("a second connection", Duration::from_secs(5), || {
        server.sim.stats().connections >= 2
    })
    .await;
    assert!(
        stalled_at.elapsed() >= Duration::from_millis(1400),
        "reconnected before the silence timeout"
    );
    let s = wait_connected(&client, Duration::from_secs(3)).await;
    assert!(s.reconnects >= 1);
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("zombie"),
        "{s:?}"
    );
    server
        .sim
        .say(&dm(&id, "u1", "after the zombie"))
        .await
        .unwrap();
    wait_until("delivery on the new socket", Duration::from_secs(3), || {
        got.lock()
            .unwrap()
            .iter()
            .any(|m| m.message.text_for_agent() == "after the zombie")
    })
    .await;
}

#[actix_rt::test]
async fn missing_pongs_mean_a_dead_socket() {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "nopong");
    let (client, _got) = client(
        account(&server.url, &id, &secret, FAST_STREAM),
        Duration::ZERO,
    );
    wait_connected(&client, Duration::from_secs(5)).await;
    server.sim.chaos(&ChaosRequest {
        no_pong: Some(true),
        ..ChaosRequest::default()
    });
    wait_until(
        "reconnect after missing pongs",
        Duration::from_secs(5),
        || server.sim.stats().connections >= 2,
    )
    .await;
    let s = state(&client).await;
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("no pong"),
        "{s:?}"
    );
}

#[actix_rt::test]
async fn bad_credentials_are_reported_and_retried_slowly() {
    let server = start_sim(fast_sim()).await;
    let (id, _) = bot(&server, "authbot");
    let (client, _got) = client(
        account(&server.url, &id, "wrong-secret", FAST_STREAM),
        Duration::ZERO,
    );
    actix_rt::time::sleep(Duration::from_millis(3600)).await;
    let s = state(&client).await;
    assert!(
        matches!(s.status, StreamStatus::AuthFailed { retry_in_ms: 1500 }),
        "{s:?}"
    );
    let error = s.last_error.unwrap_or_default();
    assert!(error.contains("account acct"), "{error}");
    assert!(
        error.contains("clientId or clientSecret is invalid"),
        "{error}"
    );
    assert!(
        !error.contains("wrong-secret"),
        "the secret leaked into the error: {error}"
    );
    // 3.6 s at one attempt per 1.5 s: 3 attempts, never a tight loop.
    let opens = server.sim.stats().opens;
    assert!((2..=4).contains(&opens), "{opens} attempts");
}

#[actix_rt::test]
async fn unavailable_server_means_exponential_backoff_then_recovery() {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "backoff");
    server.sim.chaos(&ChaosRequest {
        reject_open: Some(503),
        ..ChaosRequest::default()
    });
    let (client, _got) = client(
        account(&server.url, &id, &secret, FAST_STREAM),
        Duration::ZERO,
    );
    actix_rt::time::sleep(Duration::from_millis(1800)).await;
    // 100, 200, 400, 800 ms (+ up to 20 %): about 4 attempts in 1.8 s.
    let opens = server.sim.stats().opens;
    assert!((3..=6).contains(&opens), "{opens} attempts");
    assert!(matches!(
        state(&client).await.status,
        StreamStatus::BackingOff { .. }
    ));
    server.sim.chaos(&ChaosRequest {
        reject_open: Some(0),
        ..ChaosRequest::default()
    });
    wait_connected(&client, Duration::from_secs(3)).await;
}

#[actix_rt::test]
async fn redeliveries_with_a_new_message_id_are_dropped_by_msg_id() {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "dedup");
    let (client, got) = client(
        account(&server.url, &id, &secret, FAST_STREAM),
        Duration::ZERO,
    );
    wait_connected(&client, Duration::from_secs(5)).await;
    // The next five ACKs get lost, so the simulator redelivers those messages.
    server.sim.chaos(&ChaosRequest {
        lose_acks: Some(5),
        redeliver_after_ms: Some(200),
        ..ChaosRequest::default()
    });
    for i in 0..10 {
        server
            .sim
            .say(&dm(&id, "u1", &format!("m{i}")))
            .await
            .unwrap();
    }
    wait_until("redeliveries happened", Duration::from_secs(4), || {
        server.sim.stats().redeliveries >= 5
    })
    .await;
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(got.lock().unwrap().len(), 10, "each message once");
    let s = state(&client).await;
    assert!(s.duplicates >= 5, "{s:?}");
}

#[actix_rt::test]
async fn one_message_to_two_bots_is_delivered_to_each() {
    let server = start_sim(fast_sim()).await;
    let (id1, s1) = bot(&server, "bot-one");
    let (id2, s2) = bot(&server, "bot-two");
    let group = server
        .sim
        .add_group(NewGroup {
            bots: vec![id1.clone(), id2.clone()],
            members: vec!["u1".into()],
            ..NewGroup::default()
        })
        .unwrap();
    let (c1, got1) = client(account(&server.url, &id1, &s1, FAST_STREAM), Duration::ZERO);
    let (c2, got2) = client(account(&server.url, &id2, &s2, FAST_STREAM), Duration::ZERO);
    wait_connected(&c1, Duration::from_secs(5)).await;
    wait_connected(&c2, Duration::from_secs(5)).await;
    let sent = server
        .sim
        .say(&UserMessage {
            from: "u1".into(),
            group: Some(group.conversation_id.clone()),
            text: "both of you".into(),
            ..UserMessage::default()
        })
        .await
        .unwrap();
    wait_until("each bot got it", Duration::from_secs(3), || {
        got1.lock().unwrap().len() == 1 && got2.lock().unwrap().len() == 1
    })
    .await;
    let (m1, m2) = (
        got1.lock().unwrap()[0].message.clone(),
        got2.lock().unwrap()[0].message.clone(),
    );
    assert_eq!(m1.msg_id, sent.msg_id);
    assert_eq!(m2.msg_id, sent.msg_id);
    assert_ne!(m1.session_webhook, m2.session_webhook);
    assert_eq!(
        m1.text_for_agent(),
        "both of you",
        "group text arrives trimmed"
    );
}

#[actix_rt::test]
async fn a_stalled_thread_does_not_mistake_a_live_socket_for_dead() {
    let server = start_sim(fast_sim()).await;
    let (id, secret) = bot(&server, "stalled");
    let (client, got) = client(
        account(&server.url, &id, &secret, FAST_STREAM),
        Duration::ZERO,
    );
    wait_connected(&client, Duration::from_secs(5)).await;
    // Block the client's thread for longer than the pong timeout (1 s) while the server
    // keeps pinging and pushing: on resumption the socket must be judged on fresh evidence.
    server
        .sim
        .say(&dm(&id, "u1", "during the stall"))
        .await
        .unwrap();
    std::thread::sleep(Duration::from_millis(1800));
    actix_rt::time::sleep(Duration::from_millis(600)).await;
    let s = state(&client).await;
    assert_eq!(
        (s.reconnects, server.sim.stats().connections),
        (0, 1),
        "{s:?}"
    );
    wait_until("the message from the stall", Duration::from_secs(2), || {
        got.lock().unwrap().len() == 1
    })
    .await;
}
