//! End to end through the simulator, the gateway and the offline model: each bot answered by
//! its own agent, and sessions shared or kept apart exactly as the scope flags say.

mod support;

use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, history, turn};

/// The seed's two-bot example, unchanged except for where DingTalk and the model are, and the
/// credentials (`config/two-bots.json5` takes them from the environment).
fn seed_config() -> String {
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/two-bots.json5"
    ))
    .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&seed).unwrap();
    let connector = &mut v["channels"]["dingtalk-connector"];
    connector["endpoint"] = "${SIM}".into();
    for bot in ["bot1", "bot2"] {
        connector["accounts"][bot]["clientId"] = format!("routing{bot}").into();
        connector["accounts"][bot]["clientSecret"] = format!("routing-{bot}-secret").into();
    }
    connector["groupReplyMode"] = "text".into();
    connector["dmReplyMode"] = "text".into();
    v["models"] = serde_json::json!({"providers": {"dashscope-coding": {"baseUrl": "${MODEL}", "apiKey": "k"}}});
    v["dingclaw"] = serde_json::json!({"store": "memory"});
    v.to_string()
}

#[actix_rt::test]
async fn seed_example_each_bot_is_answered_by_its_own_agent() {
    let h = Harness::start(&seed_config()).await;
    let group = h.group(&["bot1", "bot2"], &["alice"]);
    let sent = h
        .say("alice", To::Group(&group, &["bot1", "bot2"]), "hello both")
        .await;
    let replies = h.answered(&sent, 2).await;
    let from = |account: &str| {
        let id = h.client_id(account);
        replies
            .iter()
            .find(|r| r.from == id)
            .map(|r| r.text.clone())
            .unwrap_or_default()
    };
    assert!(
        from("bot1").starts_with("[Service Assistant · qwen3.5-plus · turn 1]"),
        "{}",
        from("bot1")
    );
    assert!(
        from("bot2").starts_with("[Tech Expert · qwen3.5-plus · turn 1]"),
        "{}",
        from("bot2")
    );
    let dm = h.ask("bob", To::Dm("bot2"), "help").await;
    assert!(dm.starts_with("[Tech Expert"), "{dm}");
    let keys: Vec<String> =
        h.rt.resident_sessions()
            .iter()
            .map(|k| k.to_string())
            .collect();
    assert!(
        keys.contains(&format!("agent:ding-bot1:dingtalk-connector:group:{group}")),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"agent:ding-bot2:dingtalk-connector:direct:bob".to_owned()),
        "{keys:?}"
    );
    h.stop().await;
}

fn scoped(flags: &str) -> String {
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT}, {flags}
               accounts: {{ bot1: {{ clientId: "scopebot1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER}, dingclaw: {{ store: "memory" }} }}"#
    )
}

#[actix_rt::test]
async fn group_scope_shares_one_session_per_group() {
    let h = Harness::start(&scoped(r#"groupSessionScope: "group","#)).await;
    let g = h.group(&["bot1"], &["alice", "bob"]);
    h.ask("alice", To::Group(&g, &["bot1"]), "a1").await;
    let r = h.ask("bob", To::Group(&g, &["bot1"]), "b1").await;
    assert_eq!((turn(&r), history(&r)), (2, "alice: a1 | bob: b1"), "{r}");
    // DMs of two users are two more sessions, apart from the group and each other.
    let a = h.ask("alice", To::Dm("bot1"), "dm-a").await;
    let b = h.ask("bob", To::Dm("bot1"), "dm-b").await;
    assert_eq!((turn(&a), history(&a)), (1, "dm-a"));
    assert_eq!((turn(&b), history(&b)), (1, "dm-b"));
    h.stop().await;
}

#[actix_rt::test]
async fn group_sender_scope_gives_each_member_a_session() {
    let h = Harness::start(&scoped(r#"groupSessionScope: "group_sender","#)).await;
    let g = h.group(&["bot1"], &["alice", "bob"]);
    h.ask("alice", To::Group(&g, &["bot1"]), "a1").await;
    let b = h.ask("bob", To::Group(&g, &["bot1"]), "b1").await;
    let a = h.ask("alice", To::Group(&g, &["bot1"]), "a2").await;
    assert_eq!((turn(&b), history(&b)), (1, "bob: b1"), "{b}");
    assert_eq!((turn(&a), history(&a)), (2, "alice: a1 | alice: a2"), "{a}");
    assert!(
        h.rt.resident_sessions()
            .iter()
            .any(|k| k.as_str() == format!("agent:a:dingtalk-connector:group:{g}:bob"))
    );
    h.stop().await;
}

#[actix_rt::test]
async fn shared_memory_is_one_session_for_the_whole_account() {
    let h = Harness::start(&scoped("sharedMemoryAcrossConversations: true,")).await;
    let g = h.group(&["bot1"], &["alice", "bob"]);
    h.ask("alice", To::Dm("bot1"), "x").await;
    let r = h.ask("bob", To::Group(&g, &["bot1"]), "y").await;
    assert_eq!(turn(&r), 2, "{r}");
    let keys: Vec<String> =
        h.rt.resident_sessions()
            .iter()
            .map(|k| k.to_string())
            .collect();
    assert_eq!(keys, vec!["agent:a:dingtalk-connector:shared:bot1"]);
    h.stop().await;
}

#[actix_rt::test]
async fn no_separation_by_conversation_is_one_session_per_sender() {
    let h = Harness::start(&scoped("separateSessionByConversation: false,")).await;
    let g = h.group(&["bot1"], &["alice", "bob"]);
    h.ask("alice", To::Dm("bot1"), "x").await;
    let a = h.ask("alice", To::Group(&g, &["bot1"]), "y").await;
    let b = h.ask("bob", To::Group(&g, &["bot1"]), "z").await;
    assert_eq!(
        turn(&a),
        2,
        "alice's DM and group message share a session: {a}"
    );
    assert_eq!(turn(&b), 1, "bob has his own: {b}");
    h.stop().await;
}
