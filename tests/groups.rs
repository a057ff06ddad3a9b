//! Per-group behaviour (docs/dingtalk-protocol.md 7.2, 7.3): `groups.<cid>` gives a
//! group its own system prompt and tool policy, turns the bot off in a group, and limits who
//! may use it there; `groupAllowFrom` takes conversation ids and sender ids alike; a group's
//! history shows people by name.

mod support;

use dingclaw::sim::{NewGroup, NewUser};
use serde_json::Value;
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, said};

fn group(h: &Harness, cid: &str, members: &[&str]) {
    h.sim
        .sim
        .add_group(NewGroup {
            conversation_id: Some(cid.into()),
            title: Some(cid.into()),
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            bots: vec![h.client_id("bot1")],
        })
        .expect("group");
}

fn tools_offered(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
        .collect()
}

#[actix_rt::test]
async fn each_group_gets_its_own_prompt_tools_switch_and_senders() {
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "groupsbot1", clientSecret: "s1",
                 groupPolicy: "allowlist", groupAllowFrom: ["cidOpen", "cidTeam"],
                 groups: {{
                   cidFin: {{ systemPrompt: "Answer as the finance desk.", tools: {{ deny: ["web_fetch"] }} }},
                   cidOff: {{ enabled: false }},
                   cidTeam: {{ groupAllowFrom: ["alice"] }},
                 }} }} }} }} }},
             {TEST_PROVIDER} }}"#
    );
    let h = Harness::start(&text).await;
    for cid in ["cidFin", "cidOpen", "cidOff", "cidTeam", "cidStranger"] {
        group(&h, cid, &["alice", "bob"]);
    }

    let fin = h
        .ask("alice", To::Group("cidFin", &["bot1"]), "budget?")
        .await;
    assert_eq!(said(&fin), "alice: budget?");
    let body = h.last_request();
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(system.contains("Answer as the finance desk."), "{system}");
    assert!(
        !tools_offered(&body).contains(&"web_fetch".to_owned()),
        "{body}"
    );

    h.ask("alice", To::Group("cidOpen", &["bot1"]), "hello")
        .await;
    let body = h.last_request();
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(
        !system.contains("finance desk"),
        "only that group: {system}"
    );
    assert!(
        tools_offered(&body).contains(&"web_fetch".to_owned()),
        "{body}"
    );

    let off = h
        .ask("alice", To::Group("cidOff", &["bot1"]), "anyone?")
        .await;
    assert!(off.contains("not enabled for this group"), "{off}");
    let stranger = h
        .ask("alice", To::Group("cidStranger", &["bot1"]), "hi")
        .await;
    assert!(
        stranger.contains("not enabled for this group"),
        "{stranger}"
    );

    let bob = h
        .ask("bob", To::Group("cidTeam", &["bot1"]), "me too")
        .await;
    assert!(
        bob.contains("not allowed to use this bot in this group"),
        "{bob}"
    );
    let alice = h.ask("alice", To::Group("cidTeam", &["bot1"]), "me").await;
    assert_eq!(said(&alice), "alice: me");
    h.stop().await;
}

#[actix_rt::test]
async fn group_history_names_people_and_sender_entries_limit_every_group() {
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "groupsbot2", clientSecret: "s1",
                 groupAllowFrom: ["u-wang"] }} }} }} }},
             {TEST_PROVIDER} }}"#
    );
    let h = Harness::start(&text).await;
    h.sim.sim.add_user(NewUser {
        user_id: Some("u-wang".into()),
        name: Some("王小明".into()),
        external: false,
    });
    group(&h, "cidAny", &["u-wang", "carol"]);
    let answer = h
        .ask("u-wang", To::Group("cidAny", &["bot1"]), "周报")
        .await;
    assert_eq!(said(&answer), "王小明: 周报", "{answer}");
    // soimy's schema: a sender id in groupAllowFrom limits who may use the bot in groups.
    let carol = h.ask("carol", To::Group("cidAny", &["bot1"]), "me?").await;
    assert!(
        carol.contains("not allowed to use this bot in this group"),
        "{carol}"
    );
    h.stop().await;
}
