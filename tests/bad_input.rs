//! Bad input from outside: frames over the size limit (acknowledged, dropped with a log
//! line, connection kept), frames far over it (connection reopened), deeply nested JSON,
//! messages too long for a model, lone surrogate escapes, and a config with 100,000
//! bindings. Nothing may crash, every user message gets an answer, and the next message is
//! answered.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use dingclaw::sim::{ChaosRequest, UserMessage};
use dingclaw_actors::config::{MapEnv, load_str};
use dingclaw_actors::routing::{ChatType, Inbound, Routes};
use support::gateway::{Harness, TEST_PROVIDER, To};

const CONFIG: &str = r#"{ agents: { list: [ { id: "a", model: "offline/m" } ] },
    channels: { "dingtalk-connector": { endpoint: "${SIM}", dmReplyMode: "text",
      stream: { pingIntervalMs: 500, pongTimeoutMs: 3000, silenceTimeoutMs: 5000, reconnectInitialMs: 100, maxFrameBytes: 65536 },
      accounts: { bot1: { clientId: "badbot", clientSecret: "s1" } } } },
    TEST_PROVIDER }"#;

fn frame(message_id: &str, data: &str) -> String {
    serde_json::json!({
        "specVersion": "1.0", "type": "CALLBACK",
        "headers": {"topic": "/v1.0/im/bot/messages/get", "messageId": message_id,
                    "contentType": "application/json", "time": "1"},
        "data": data,
    })
    .to_string()
}

#[actix_rt::test]
async fn oversized_and_deeply_nested_frames_are_survived() {
    let h = Harness::start(&CONFIG.replace("TEST_PROVIDER", TEST_PROVIDER)).await;
    // As DingTalk does: a callback pushed onto a socket that died before it could answer
    // comes again (the socket the huge frame breaks may still look open to the server).
    h.sim.sim.chaos(&ChaosRequest {
        redeliver_after_ms: Some(1000),
        ..ChaosRequest::default()
    });
    // Over the 64 KiB limit: acknowledged and dropped, on the same connection.
    let big = frame("big-1", &"x".repeat(100 * 1024));
    h.sim.sim.push_raw("badbot", &big).await;
    // Nested far deeper than any parser's recursion limit.
    let deep = format!(
        r#"{{"type":"CALLBACK","headers":{{"messageId":"deep-1"}},"data":{}1{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    h.sim.sim.push_raw("badbot", &deep).await;
    let start = Instant::now();
    while !h
        .sim
        .sim
        .acks(Some("badbot"))
        .iter()
        .any(|a| a.message_id == "big-1")
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the oversized frame was acknowledged"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    let reply = h.ask("ann", To::Dm("bot1"), "still there?").await;
    assert!(reply.contains("still there?"), "{reply}");
    let before = h.rt.account_states().await[0].stream.reconnects;
    assert_eq!(before, 0, "the connection survived both");

    // Far over the limit (more than four times it): the codec gives up on the socket, the
    // client opens a new one, and messages flow again.
    let huge = frame("huge-1", &"y".repeat(300 * 1024));
    h.sim.sim.push_raw("badbot", &huge).await;
    let start = Instant::now();
    while h.rt.account_states().await[0].stream.reconnects == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the socket was reopened"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    h.wait_connected().await;
    let reply = h.ask("ann", To::Dm("bot1"), "and now?").await;
    assert!(reply.contains("and now?"), "{reply}");
    h.stop().await;
}

/// Found by probing: an oversized message and a message with a lone surrogate escape got no
/// reply at all. A message too long for a model is answered that it is too long (also when
/// its frame is over `maxFrameBytes`); a lone surrogate is read as U+FFFD.
#[actix_rt::test]
async fn too_long_and_broken_unicode_messages_are_answered() {
    let h = Harness::start(&CONFIG.replace("TEST_PROVIDER", TEST_PROVIDER)).await;
    // Over the 20,000-character limit, in a frame under the 64 KiB frame limit.
    let reply = h.ask("ann", To::Dm("bot1"), &"长".repeat(20_001)).await;
    assert!(
        reply.contains("too long (20001 characters; the limit is 20000)")
            && reply.contains("消息太长"),
        "{reply}"
    );
    // In a frame over the frame limit (and under four times it): read, and answered.
    let reply = h.ask("ann", To::Dm("bot1"), &"z".repeat(100_000)).await;
    assert!(reply.contains("too long (100000 characters"), "{reply}");
    assert_eq!(
        h.model
            .stats
            .requests
            .load(std::sync::atomic::Ordering::SeqCst),
        0,
        "neither reached the model"
    );

    // A lone surrogate escape: answered, the broken character read as U+FFFD.
    let sent = h
        .sim
        .sim
        .say(&UserMessage {
            from: "ann".into(),
            bot: Some(h.client_id("bot1")),
            text: "half an emoji:".into(),
            lone_surrogate: true,
            ..UserMessage::default()
        })
        .await
        .unwrap();
    let reply = h.answered(&sent, 1).await.remove(0).text;
    assert!(
        reply.contains("You said: half an emoji:\u{fffd}"),
        "{reply}"
    );
    let reply = h.ask("ann", To::Dm("bot1"), "and a normal one").await;
    assert!(reply.contains("You said: and a normal one"), "{reply}");
    h.stop().await;
}

#[test]
fn a_config_with_100000_bindings_loads_and_routes() {
    let bindings: Vec<String> = (0..100_000u32)
        .map(|i| {
            format!(
                r#"{{ agentId: "{}", match: {{ channel: "dingtalk-connector", accountId: "bot1", peer: {{ kind: "direct", id: "user{i}" }} }} }}"#,
                if i.is_multiple_of(2) { "a" } else { "b" }
            )
        })
        .collect();
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }}, {{ id: "b", model: "offline/m" }} ] }},
            channels: {{ "dingtalk-connector": {{ accounts: {{ bot1: {{ clientId: "c", clientSecret: "s" }} }} }} }},
            bindings: [ {} ],
            models: {{ providers: {{ offline: {{ baseUrl: "http://127.0.0.1:9", apiKey: "k" }} }} }} }}"#,
        bindings.join(",\n")
    );
    let started = Instant::now();
    let config = load_str(&text, Path::new("/"), &MapEnv::new())
        .expect("loads")
        .config;
    let loaded = started.elapsed();
    let started = Instant::now();
    let routes = Routes::new(&config);
    let route = |peer: &str| {
        routes
            .route(&Inbound {
                channel: "dingtalk-connector",
                account: "bot1",
                chat: ChatType::Direct,
                conversation_id: "cid",
                sender_id: peer,
            })
            .agent_id
    };
    assert_eq!(route("user99999"), "b");
    assert_eq!(route("user12344"), "a");
    println!(
        "100,000 bindings ({} KiB): loaded in {loaded:?}, indexed and routed in {:?}",
        text.len() / 1024,
        started.elapsed()
    );
}
