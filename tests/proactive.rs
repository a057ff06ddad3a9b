//! Proactive messages: the agent's `message` tool sends to a group its bot already talks in
//! and is refused for a stranger; `NO_REPLY` keeps the turn silent; an operator sends through
//! `dingclaw message send` (the real binary against `POST /api/messages`).

mod support;

use std::sync::atomic::Ordering;

use dingclaw::offline_model::{Action, Step};
use dingclaw_actors::store::Role;
use serde_json::json;
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, said};
use support::process::run_cli;

const TOKEN: &str = "operator-test-token-2";

fn config() -> String {
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "proactivebot", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER} }}"#
    )
}

fn call(name: &str, arguments: serde_json::Value) -> Step {
    Step {
        model: None,
        times: Some(1),
        action: Action::ToolCall {
            name: name.into(),
            arguments,
        },
    }
}

/// Sends by `bot` through the OpenAPI (not as a reply), with their text.
fn proactive(h: &Harness) -> Vec<(String, String, String)> {
    h.sim
        .sim
        .replies(Some(&h.client_id("bot1")), None, 0)
        .into_iter()
        .filter(|e| e.via == "groupMessages" || e.via == "oToMessages")
        .map(|e| (e.via, e.conversation_id, e.text))
        .collect()
}

#[actix_rt::test]
async fn the_message_tool_sends_to_known_groups_only() {
    let h = Harness::start(&config()).await;
    let known = h.group(&["bot1"], &["alice"]);
    let stranger = h.group(&["bot1"], &["mallory"]);
    // The bot has talked in `known` (a session exists), never in `stranger`.
    h.ask("alice", To::Group(&known, &["bot1"]), "hello team")
        .await;

    h.model.script([
        call(
            "message",
            json!({"action": "send", "target": format!("group:{known}"), "message": "会议改到三点 The meeting moved to 3 pm"}),
        ),
        call(
            "message",
            json!({"target": format!("group:{stranger}"), "message": "spam"}),
        ),
        Step {
            model: None,
            times: Some(1),
            action: Action::Text {
                text: "NO_REPLY".into(),
            },
        },
    ]);
    let before = h.model.stats.requests.load(Ordering::SeqCst);
    let sent = h
        .say("alice", To::Dm("bot1"), "tell the team the meeting moved")
        .await;
    // The turn ends without a reply of its own (NO_REPLY) once the tools have run: three
    // model calls, then nothing pending.
    let start = std::time::Instant::now();
    while h.model.stats.requests.load(Ordering::SeqCst) < before + 3 || h.rt.stats().pending > 0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(h.replies_to(&sent).is_empty(), "{:?}", h.replies_to(&sent));
    let out = proactive(&h);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, "groupMessages");
    assert_eq!(out[0].1, known);
    assert!(out[0].2.contains("会议改到三点"), "{out:?}");
    // The refusal reached the model as the tool's result. The store is written behind the
    // turn, so under load the entries may land a moment after the turn ended.
    let start = std::time::Instant::now();
    loop {
        let stored =
            h.rt.store()
                .load_session("agent:a:dingtalk-connector:direct:alice", 100)
                .await
                .unwrap()
                .unwrap();
        let results: Vec<String> = stored
            .entries
            .iter()
            .filter(|e| e.role == Role::Tool)
            .map(|e| e.content.clone())
            .collect();
        if results.iter().any(|r| r.contains("has never talked with")) {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "{results:?}"
        );
        actix_rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Without a target it answers in the conversation it is in.
    h.model
        .script([call("message", json!({"message": "right here"}))]);
    let here = h.ask("alice", To::Dm("bot1"), "ping me").await;
    assert_eq!(said(&here), "ping me");
    assert!(
        proactive(&h)
            .iter()
            .any(|(via, _, text)| via == "oToMessages" && text.contains("right here"))
    );
    h.stop().await;
}

fn send(url: &str, rest: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["message", "--url", url, "--token", TOKEN, "send"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    v.extend(rest.iter().map(|s| (*s).to_owned()));
    v
}

#[actix_rt::test]
async fn an_operator_sends_from_the_command_line() {
    let h = Harness::start(&config()).await;
    let web = h.operator_web(TOKEN).await;
    let cid = h.group(&["bot1"], &["alice"]);
    let (ok, out, err) = run_cli(send(
        &web.url,
        &[
            "--account",
            "bot1",
            "--to",
            &format!("group:{cid}"),
            "部署完成 deploy done",
        ],
    ))
    .await;
    assert!(ok, "{out}{err}");
    assert!(out.contains(&format!("sent to group:{cid}")), "{out}");
    let (ok, _, err) = run_cli(send(
        &web.url,
        &[
            "--account",
            "bot1",
            "--to",
            "user:alice",
            "--markdown",
            "**hi**",
        ],
    ))
    .await;
    assert!(ok, "{err}");
    let out = proactive(&h);
    assert!(
        out.iter()
            .any(|(via, c, t)| via == "groupMessages" && *c == cid && t.contains("deploy done")),
        "{out:?}"
    );
    assert!(
        out.iter()
            .any(|(via, _, t)| via == "oToMessages" && t.contains("**hi**")),
        "{out:?}"
    );
    let (ok, _, err) = run_cli(send(
        &web.url,
        &["--account", "nobot", "--to", "user:alice", "x"],
    ))
    .await;
    assert!(
        !ok && err.contains("HTTP 404") && err.contains("no DingTalk account \"nobot\""),
        "{err}"
    );
    let (ok, _, err) = run_cli(send(
        &web.url,
        &["--account", "bot1", "--to", "email:a@b.c", "x"],
    ))
    .await;
    assert!(!ok && err.contains("HTTP 400"), "{err}");
    web.stop().await;
    h.stop().await;
}
