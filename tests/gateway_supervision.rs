//! Crashes mid-traffic (test-only fault injection): a session, an agent, a provider, an
//! account and the router each panic once while conversations run. Each must restart, the
//! message it was handling must still be answered exactly once, transcripts must stay intact,
//! and the other conversations must not notice.

mod support;

use std::collections::HashMap;

use dingclaw_actors::fault::{FaultPoint, arm, fired};
use dingclaw_actors::store::Role;
use dingclaw_actors::supervise::{ActorKind, restart_count};
use futures_util::future::join_all;
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, turn};

const CONFIG: &str = r#"{ agents: { list: [ { id: "a", model: "offline/m" } ] },
    channels: { "dingtalk-connector": { TEST_ACCOUNT,
      accounts: { bot1: { clientId: "supbot1", clientSecret: "s1" }, bot2: { clientId: "supbot2", clientSecret: "s2" } } } },
    bindings: [ { agentId: "a", match: { channel: "dingtalk-connector", accountId: "*" } } ],
    TEST_PROVIDER }"#;

/// Runs `rounds` more messages in each of `users`' DMs (alternating bots) at once and checks
/// every answer against what that conversation has said so far.
async fn traffic(
    h: &Harness,
    users: &[&str],
    said: &mut HashMap<String, Vec<String>>,
    rounds: usize,
) {
    for _ in 0..rounds {
        let sends = users.iter().enumerate().map(|(i, u)| {
            let bot = if i % 2 == 0 { "bot1" } else { "bot2" };
            let n = said.get(*u).map_or(0, Vec::len);
            let text = format!("{u}-{n}");
            async move {
                let sent = h.say(u, To::Dm(bot), &text).await;
                (u.to_string(), text, h.answered(&sent, 1).await, sent)
            }
        });
        for (user, text, replies, sent) in join_all(sends).await {
            assert_eq!(replies.len(), 1, "{user}: answered once");
            let history = said.entry(user.clone()).or_default();
            history.push(text);
            let reply = &replies[0].text;
            assert_eq!(
                turn(reply),
                history.len(),
                "{user}: turn count kept across the crash: {reply}"
            );
            // The offline model lists the last 8 user messages it saw.
            let shown = &history[history.len().saturating_sub(8)..];
            assert!(
                reply.ends_with(&format!("history: {}", shown.join(" | "))),
                "{user}: {reply}"
            );
            assert!(h.replies_to(&sent).len() == 1);
        }
    }
}

#[actix_rt::test]
async fn every_actor_kind_recovers_from_a_crash_mid_traffic() {
    let config = CONFIG
        .replace("TEST_ACCOUNT", TEST_ACCOUNT)
        .replace("TEST_PROVIDER", TEST_PROVIDER);
    let h = Harness::start(&config).await;
    let users = ["victim", "u1", "u2", "u3", "u4", "u5"];
    let mut said: HashMap<String, Vec<String>> = HashMap::new();
    traffic(&h, &users, &mut said, 1).await;

    let victim_key = "agent:a:dingtalk-connector:direct:victim";
    let scenarios = [
        (
            FaultPoint::SessionMidTurn,
            Some(victim_key),
            ActorKind::Session,
        ),
        (FaultPoint::AgentRunTurn, Some("a"), ActorKind::Agent),
        (
            FaultPoint::ProviderComplete,
            Some("offline"),
            ActorKind::Provider,
        ),
        (FaultPoint::AccountInbound, Some("bot1"), ActorKind::Account),
        (FaultPoint::RouterDispatch, None, ActorKind::Router),
    ];
    for (point, id, kind) in scenarios {
        let restarts = restart_count(kind);
        arm(point, 1, id);
        traffic(&h, &users, &mut said, 2).await;
        assert_eq!(fired(point), 1, "{point:?} fired once");
        assert!(
            restart_count(kind) > restarts,
            "{kind:?} restarted after {point:?}"
        );
    }

    // The victim's transcript: every message once, answers in between, nothing lost.
    h.rt.store().flush().await.unwrap();
    let stored =
        h.rt.store()
            .load_session(victim_key, 1000)
            .await
            .unwrap()
            .expect("victim session stored");
    let users_said: Vec<&str> = stored
        .entries
        .iter()
        .filter(|e| e.role == Role::User)
        .map(|e| e.content.as_str())
        .collect();
    assert_eq!(
        users_said,
        said["victim"]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    let roles: Vec<Role> = stored.entries.iter().map(|e| e.role).collect();
    assert!(
        roles.chunks(2).all(|p| p == [Role::User, Role::Assistant]),
        "{roles:?}"
    );
    let stats = h.rt.stats();
    assert_eq!(stats.pending, 0);
    assert_eq!(stats.turn_errors, 0, "no user ever saw an error");
    h.stop().await;
}
