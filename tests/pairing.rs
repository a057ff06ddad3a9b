//! `dmPolicy: "pairing"` end to end: a stranger gets a code and no model turn; the operator
//! lists and approves it with the real binary; the person is told and is answered from then
//! on, also after the runtime restarts (approvals are in the store); a denied person is
//! refused; people in `allowFrom` never need a code. `dingclaw status` shows the gateway.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use dingclaw_actors::actors::Runtime;
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, said};
use support::process::run_cli;

const TOKEN: &str = "operator-test-token-3";

fn pairing(url: &str, rest: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ["pairing", "--url", url, "--token", TOKEN]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    v.extend(rest.iter().map(|s| (*s).to_owned()));
    v
}

/// The code in a pairing reply.
fn code_in(reply: &str) -> String {
    reply
        .split("配对码 ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_default()
        .trim_end_matches('。')
        .to_owned()
}

#[actix_rt::test]
async fn strangers_pair_with_a_code_an_operator_approves() {
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT}, dmPolicy: "pairing", allowFrom: ["boss"],
               accounts: {{ bot1: {{ clientId: "pairbot1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER} }}"#
    );
    let h = Harness::start(&text).await;
    let web = h.operator_web(TOKEN).await;
    let before = h.model.stats.requests.load(Ordering::SeqCst);
    let first = h.ask("alice", To::Dm("bot1"), "hi there").await;
    let code = code_in(&first);
    assert_eq!(code.len(), 8, "{first}");
    // The same code again while it waits; no model turn for a stranger.
    let again = h.ask("alice", To::Dm("bot1"), "hello?").await;
    assert_eq!(code_in(&again), code);
    assert_eq!(h.model.stats.requests.load(Ordering::SeqCst), before);
    // allowFrom needs no code.
    let boss = h.ask("boss", To::Dm("bot1"), "status").await;
    assert_eq!(said(&boss), "status");

    let (ok, out, err) = run_cli(pairing(&web.url, &["list"])).await;
    assert!(ok, "{err}");
    assert!(
        out.contains(&code) && out.contains("pending") && out.contains("alice"),
        "{out}"
    );
    let (ok, out, err) = run_cli(pairing(&web.url, &["approve", &code.to_lowercase()])).await;
    assert!(ok, "{err}");
    assert!(out.contains("approved alice"), "{out}");
    // Alice is told, then answered.
    let start = std::time::Instant::now();
    while !h
        .sim
        .sim
        .replies(Some(&h.client_id("bot1")), None, 0)
        .iter()
        .any(|e| e.via == "oToMessages" && e.text.contains("approved"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "alice was not told"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    let answered = h.ask("alice", To::Dm("bot1"), "now?").await;
    assert_eq!(said(&answered), "now?");

    // Mallory is denied.
    let m = h.ask("mallory", To::Dm("bot1"), "let me in").await;
    let (ok, _, err) = run_cli(pairing(&web.url, &["deny", &code_in(&m)])).await;
    assert!(ok, "{err}");
    let refused = h.ask("mallory", To::Dm("bot1"), "please").await;
    assert!(refused.contains("not allowed to chat"), "{refused}");
    let (ok, _, err) = run_cli(pairing(&web.url, &["approve", "NOSUCHCD"])).await;
    assert!(!ok && err.contains("HTTP 404"), "{err}");

    // `dingclaw status` shows the running gateway.
    let (ok, out, err) = run_cli(
        ["status", "--url", &web.url, "--token", TOKEN]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    )
    .await;
    assert!(ok, "{err}");
    for needle in [
        "bot1",
        "pairbot1",
        "connected",
        "offline",
        "closed",
        "Agents / 助手: a",
    ] {
        assert!(out.contains(needle), "{needle} in {out}");
    }

    // A new runtime on the same store still knows Alice.
    web.stop().await;
    h.rt.shutdown(Duration::from_secs(5)).await;
    let rt = Runtime::builder(h.config.clone())
        .store_from_config()
        .start()
        .expect("runtime");
    let after = h.ask("alice", To::Dm("bot1"), "still me").await;
    assert_eq!(said(&after), "still me");
    rt.shutdown(Duration::from_secs(5)).await;
    h.model.stop().await;
    h.sim.stop().await;
}
