//! Configs written for the two other OpenClaw DingTalk plugins (`channels.dingtalk`: soimy's
//! `@soimy/dingtalk` and `@openclaw-china/dingtalk`) start their bots unchanged: the examples
//! in `config/` run against the simulator, with only where DingTalk and the model are, and the
//! credentials, filled in.

mod support;

use support::gateway::{Harness, To};

/// `config/<name>.json5` pointed at the simulator and the offline model: `endpoint` and the
/// test stream timings are dingclaw settings, which work under `channels.dingtalk` too.
fn example(name: &str, credentials: &[(&str, &str)]) -> String {
    let path = format!("{}/config/{name}.json5", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap();
    for (var, value) in credentials {
        text = text.replace(&format!("${{{var}}}"), value);
    }
    let text = text
        .replace(
            "    dingtalk: {\n",
            &format!(
                "    dingtalk: {{\n      endpoint: \"${{SIM}}\", stream: {},\n",
                r#"{ pingIntervalMs: 500, pongTimeoutMs: 3000, silenceTimeoutMs: 5000, reconnectInitialMs: 100, sendRetryInitialMs: 100 }"#
            ),
        )
        .replace(
            "https://dashscope.aliyuncs.com/compatible-mode/v1",
            "${MODEL}",
        )
        .replace("  bindings: [", "  dingclaw: { store: \"memory\" },\n  bindings: [");
    assert!(
        text.contains("${SIM}"),
        "the example has no channels.dingtalk"
    );
    text
}

const SOIMY_CREDENTIALS: &[(&str, &str)] = &[
    ("DINGTALK_CLIENT_SECRET", "soimy-shared-secret"),
    ("TEAM_CLIENT_ID", "dingsoimyteam"),
    ("ONCALL_CLIENT_ID", "dingsoimyoncall"),
    ("ONCALL_CLIENT_SECRET", "soimy-oncall-secret"),
    ("DASHSCOPE_API_KEY", "sk-test-soimy"),
];

#[actix_rt::test]
async fn a_soimy_config_starts_its_bots_and_keeps_its_meaning() {
    let h = Harness::start(&example("soimy", SOIMY_CREDENTIALS)).await;
    let sessions = |h: &Harness| -> Vec<String> {
        h.rt.resident_sessions()
            .iter()
            .map(|k| k.to_string())
            .collect()
    };

    // Bindings with channel "dingtalk" pick the agent; session keys carry that channel.
    let sent = h.say("alice", To::Dm("team"), "hello").await;
    let reply = h.answered(&sent, 1).await.remove(0);
    assert!(reply.text.starts_with("[Helper"), "{}", reply.text);
    // soimy's messageType defaults to markdown.
    assert_eq!(reply.msgtype, "markdown", "{reply:?}");
    assert!(
        sessions(&h).contains(&"agent:helper:dingtalk:direct:alice".to_owned()),
        "{:?}",
        sessions(&h)
    );

    let group = h.group(&["team"], &["alice", "bob"]);
    let answer = h.ask("bob", To::Group(&group, &["team"]), "hi all").await;
    assert!(answer.starts_with("[Helper"), "{answer}");
    assert!(sessions(&h).contains(&format!("agent:helper:dingtalk:group:{group}")));

    // allowFrom: soimy's "dingtalk:"/"dd:" prefixes are dropped and case does not matter.
    for allowed in ["manager01", "sre02"] {
        let answer = h.ask(allowed, To::Dm("oncall"), "status?").await;
        assert!(answer.starts_with("[Ops"), "{allowed}: {answer}");
    }
    let refused = h.ask("mallory", To::Dm("oncall"), "status?").await;
    assert!(refused.contains("not allowed"), "{refused}");
    assert_eq!(
        h.model
            .stats
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        4,
        "the refused sender reached no model"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn an_openclaw_china_config_starts_its_bots_including_the_implicit_default() {
    let credentials = [
        ("DINGTALK_CLIENT_ID", "dingchinamain"),
        ("DINGTALK_CLIENT_SECRET", "china-main-secret"),
        ("SALES_CLIENT_ID", "dingchinasales"),
        ("SALES_CLIENT_SECRET", "china-sales-secret"),
        ("DASHSCOPE_API_KEY", "sk-test-china"),
    ];
    let h = Harness::start(&example("openclaw-china", &credentials)).await;
    // Both bots are connected: the listed account and the top level's "default".
    assert_eq!(
        h.sim
            .sim
            .bots()
            .iter()
            .filter(|b| b.connections > 0)
            .count(),
        2
    );
    let sent = h.say("carol", To::Dm("default"), "hello").await;
    let reply = h.answered(&sent, 1).await.remove(0);
    assert!(reply.text.starts_with("[Assistant"), "{}", reply.text);
    // enableAICard: false keeps plain messages.
    assert_ne!(reply.via, "card", "{reply:?}");
    let sales = h.ask("carol", To::Dm("sales"), "price?").await;
    assert!(
        !sales.starts_with("[Assistant"),
        "the sales binding decides: {sales}"
    );
    let keys: Vec<String> =
        h.rt.resident_sessions()
            .iter()
            .map(|k| k.to_string())
            .collect();
    assert!(
        keys.contains(&"agent:main:dingtalk:direct:carol".to_owned()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"agent:sales:dingtalk:direct:carol".to_owned()),
        "{keys:?}"
    );
    h.stop().await;
}
