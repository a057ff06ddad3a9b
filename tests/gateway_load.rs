//! 1,000 concurrent conversations over four bots (DMs and groups): every message answered
//! exactly once, and every answer matches its own conversation's history (no cross-talk).
//! Bounded: three messages per conversation, a deadline on the whole run.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To};

const CONVERSATIONS: usize = 1000;
const MESSAGES: usize = 3;
const BOTS: [&str; 4] = ["bot1", "bot2", "bot3", "bot4"];

fn config() -> String {
    let accounts: Vec<String> = BOTS
        .iter()
        .map(|b| format!(r#"{b}: {{ clientId: "load{b}", clientSecret: "s-{b}" }}"#))
        .collect();
    let bindings: Vec<String> = BOTS
        .iter()
        .enumerate()
        .map(|(i, b)| format!(r#"{{ agentId: "agent{}", match: {{ channel: "dingtalk-connector", accountId: "{b}" }} }}"#, i % 2))
        .collect();
    format!(
        r#"{{ agents: {{ defaults: {{ maxConcurrent: 256 }},
                        list: [ {{ id: "agent0", model: "offline/m0" }}, {{ id: "agent1", model: "offline/m1" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT}, groupSessionScope: "group_sender",
               accounts: {{ {} }} }} }},
             bindings: [ {} ],
             {TEST_PROVIDER}, dingclaw: {{ store: "sqlite" }} }}"#,
        accounts.join(", "),
        bindings.join(", ")
    )
}

#[actix_rt::test]
async fn a_thousand_concurrent_conversations_get_their_own_answers_exactly_once() {
    let h = Harness::start(&config()).await;
    // A quarter of the conversations are members of shared groups (one group per bot,
    // `group_sender` scope gives each member a session); the rest are DMs.
    let groups: Vec<String> = BOTS.iter().map(|b| h.group(&[b], &[])).collect();
    let start = Instant::now();
    let runs = (0..CONVERSATIONS).map(|c| {
        let h = &h;
        let groups = &groups;
        async move {
            let bot = BOTS[c % BOTS.len()];
            let user = format!("user{c}");
            let mut seen = Vec::new();
            let mut ids = Vec::new();
            for m in 0..MESSAGES {
                let text = format!("c{c}-m{m}");
                let to = if c % 4 == 0 {
                    To::Group(&groups[c % BOTS.len()], std::slice::from_ref(&bot))
                } else {
                    To::Dm(bot)
                };
                let sent = h.say(&user, to, &text).await;
                let reply = h.answered(&sent, 1).await.remove(0).text;
                seen.push(if c % 4 == 0 {
                    format!("{user}: {text}")
                } else {
                    text.clone()
                });
                let expect_turn = format!("· turn {}]", m + 1);
                let expect_history = format!("history: {}", seen.join(" | "));
                assert!(
                    reply.contains(&expect_turn) && reply.contains(&expect_history),
                    "conversation {c} message {m}: cross-talk or lost turn:\n{reply}"
                );
                ids.push(sent);
            }
            ids
        }
    });
    let all = tokio::time::timeout(Duration::from_secs(120), join_all(runs))
        .await
        .expect("load run within 2 minutes");
    let elapsed = start.elapsed();
    // Exactly once: give stragglers a moment, then count replies per message.
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    let mut per_message: HashMap<String, usize> = HashMap::new();
    for sent in all.iter().flatten() {
        *per_message.entry(sent.msg_id.clone()).or_default() += h.replies_to(sent).len();
    }
    let total = CONVERSATIONS * MESSAGES;
    assert_eq!(per_message.len(), total);
    let wrong: Vec<_> = per_message.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        wrong.is_empty(),
        "messages not answered exactly once: {:?}",
        &wrong[..wrong.len().min(5)]
    );
    let stats = h.rt.stats();
    assert_eq!(stats.turns as usize, total);
    assert_eq!(stats.pending, 0);
    eprintln!(
        "{total} messages in {CONVERSATIONS} conversations answered in {elapsed:?} ({:.0} msg/s, debug build)",
        total as f64 / elapsed.as_secs_f64()
    );
    h.stop().await;
}
