//! Chat commands through the simulator: answered by the gateway, never by the model; `/model`
//! switches one conversation and survives a restart of the runtime; `/stop` ends a slow turn
//! while the message sent meanwhile stays queued; `/think` reaches the request;
//! `commands.allowFrom` drops commands from others without a word; an unknown `/word` goes
//! to the model.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use dingclaw::offline_model::{Action, Step};
use dingclaw_actors::actors::runtime::Runtime;
use support::gateway::{Harness, TEST_ACCOUNT, To, said};

fn config(extra: &str) -> String {
    format!(
        r#"{{ agents: {{ defaults: {{ models: {{ "offline/m2": {{ alias: "fast" }} }} }},
             list: [ {{ id: "a", model: "offline/m1" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "cmdbot1", clientSecret: "s1" }} }} }} }},
             models: {{ providers: {{ offline: {{ baseUrl: "${{MODEL}}", apiKey: "test-key",
               models: [ {{ id: "m1" }}, {{ id: "m2" }}, {{ id: "m3" }} ] }} }} }},
             {extra} }}"#
    )
}

fn requests(h: &Harness) -> u64 {
    h.model.stats.requests.load(Ordering::SeqCst)
}

/// Alice's message whose model call hangs for a minute, once the call has started. The
/// answer() wait gives up after 15 s, so only a working stop gets it answered.
async fn slow_turn(h: &Harness, text: &str) -> dingclaw::sim::Injected {
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Delay { ms: 60_000 },
    }]);
    let slow = h.say("alice", To::Dm("bot1"), text).await;
    let start = std::time::Instant::now();
    while h.model.stats.in_flight.load(Ordering::SeqCst) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the turn never reached the model"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    slow
}

#[actix_rt::test]
async fn status_help_whoami_and_models_are_answered_by_the_gateway() {
    let h = Harness::start(&config("")).await;
    let before = requests(&h);
    let help = h.ask("alice", To::Dm("bot1"), "/help").await;
    assert!(
        help.contains("可用命令 Commands") && help.contains("/stop"),
        "{help}"
    );
    let status = h.ask("alice", To::Dm("bot1"), "/status").await;
    assert!(status.contains("Agent: a"), "{status}");
    assert!(status.contains("Model: offline/m1"), "{status}");
    assert!(status.contains("Tokens: 0 in / 0 out"), "{status}");
    let me = h.ask("alice", To::Dm("bot1"), "/whoami").await;
    assert!(me.contains("User id: alice"), "{me}");
    assert!(me.contains("单聊 private chat"), "{me}");
    let list = h.ask("alice", To::Dm("bot1"), "/models").await;
    for m in ["1. offline/m1", "2. offline/m2 (fast)", "3. offline/m3"] {
        assert!(list.contains(m), "{m} in {list}");
    }
    assert_eq!(requests(&h), before, "no command reached the model");

    // A turn's tokens show up; an unknown /word is the model's.
    let answer = h.ask("alice", To::Dm("bot1"), "/weather Beijing").await;
    assert_eq!(said(&answer), "/weather Beijing");
    let status = h.ask("alice", To::Dm("bot1"), "/status").await;
    assert!(!status.contains("Tokens: 0 in"), "{status}");
    h.stop().await;
}

#[actix_rt::test]
async fn model_switches_one_conversation_and_survives_a_restart() {
    let h = Harness::start(&config("")).await;
    let refused = h.ask("alice", To::Dm("bot1"), "/model nosuch/model").await;
    assert!(refused.contains("No model \"nosuch/model\""), "{refused}");
    assert!(
        refused.contains("offline/m2"),
        "the list comes along: {refused}"
    );

    let switched = h.ask("alice", To::Dm("bot1"), "/model fast").await;
    assert!(switched.contains("offline/m2"), "{switched}");
    let answer = h.ask("alice", To::Dm("bot1"), "hello").await;
    assert!(answer.contains("· m2 ·"), "{answer}");
    // Someone else's conversation keeps the agent's model.
    let other = h.ask("bob", To::Dm("bot1"), "hello").await;
    assert!(other.contains("· m1 ·"), "{other}");
    // By number from the list.
    let third = h.ask("carol", To::Dm("bot1"), "/model 3").await;
    assert!(third.contains("offline/m3"), "{third}");

    // A new runtime on the same state directory: alice's choice is still there.
    h.rt.shutdown(Duration::from_secs(5)).await;
    let rt = Runtime::builder(h.config.clone())
        .store_from_config()
        .start()
        .expect("runtime");
    let again = h.ask("alice", To::Dm("bot1"), "still there?").await;
    assert!(again.contains("· m2 ·"), "{again}");
    let status = h.ask("alice", To::Dm("bot1"), "/status").await;
    assert!(status.contains("Model: offline/m2（本会话选择"), "{status}");
    let back = h.ask("alice", To::Dm("bot1"), "/model default").await;
    assert!(back.contains("offline/m1"), "{back}");
    let answer = h.ask("alice", To::Dm("bot1"), "and now?").await;
    assert!(answer.contains("· m1 ·"), "{answer}");
    rt.shutdown(Duration::from_secs(5)).await;
    h.model.stop().await;
    h.sim.stop().await;
}

#[actix_rt::test]
async fn stop_ends_a_slow_turn_and_the_next_message_is_answered() {
    let h = Harness::start(&config("")).await;
    let slow = slow_turn(&h, "write me a novel").await;
    let queued = h.say("alice", To::Dm("bot1"), "and a poem").await;
    let busy = h.ask("alice", To::Dm("bot1"), "/status").await;
    assert!(
        busy.contains("1 条等待 waiting · 正在回答 answering"),
        "{busy}"
    );
    let stop = h.say("alice", To::Dm("bot1"), "/stop").await;
    let stopped = h.answered(&slow, 1).await.remove(0).text;
    assert_eq!(stopped, "⏹ 已停止。Stopped.");
    assert!(
        h.replies_to(&stop).is_empty(),
        "the stopped turn's reply says it"
    );
    let poem = h.answered(&queued, 1).await.remove(0).text;
    assert_eq!(said(&poem), "and a poem");
    // With nothing running, /stop says so, and "stop" is an ordinary message.
    let nothing = h.ask("alice", To::Dm("bot1"), "/stop").await;
    assert!(nothing.contains("Nothing is being answered"), "{nothing}");
    let word = h.ask("alice", To::Dm("bot1"), "stop").await;
    assert_eq!(said(&word), "stop");
    h.stop().await;
}

#[actix_rt::test]
async fn a_bare_abort_word_stops_a_running_turn() {
    let h = Harness::start(&config("")).await;
    let slow = slow_turn(&h, "think about it").await;
    h.say("alice", To::Dm("bot1"), "停止").await;
    let stopped = h.answered(&slow, 1).await.remove(0).text;
    assert_eq!(stopped, "⏹ 已停止。Stopped.");
    h.stop().await;
}

#[actix_rt::test]
async fn think_usage_and_queue_are_kept_per_conversation() {
    let h = Harness::start(&config("")).await;
    let think = h.ask("alice", To::Dm("bot1"), "/think high").await;
    assert!(think.contains("reasoning_effort=\"high\""), "{think}");
    h.ask("alice", To::Dm("bot1"), "hi").await;
    let body = h.model.stats.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(body["reasoning_effort"], "high", "{body}");
    let bad = h.ask("alice", To::Dm("bot1"), "/think banana").await;
    assert!(bad.contains("Usage: /think"), "{bad}");

    let usage = h.ask("alice", To::Dm("bot1"), "/usage tokens").await;
    assert!(
        usage.contains("Usage line under answers: tokens"),
        "{usage}"
    );
    let answer = h.ask("alice", To::Dm("bot1"), "count me").await;
    assert!(
        answer.contains("— 🔢 ") && answer.contains(" out"),
        "{answer}"
    );
    let queue = h.ask("alice", To::Dm("bot1"), "/queue collect").await;
    assert!(queue.contains("collect"), "{queue}");
    let status = h.ask("alice", To::Dm("bot1"), "/status").await;
    assert!(status.contains("Queue: collect"), "{status}");
    assert!(status.contains("Think: high"), "{status}");
    h.ask("alice", To::Dm("bot1"), "/think off").await;
    h.ask("alice", To::Dm("bot1"), "quietly").await;
    let body = h.model.stats.last_body.lock().unwrap().clone().unwrap();
    assert!(body.get("reasoning_effort").is_none(), "{body}");
    h.stop().await;
}

#[actix_rt::test]
async fn commands_allow_from_drops_others_commands_silently() {
    let h = Harness::start(&config(
        r#"commands: { allowFrom: { "dingtalk-connector": ["alice"] } }"#,
    ))
    .await;
    let ok = h.ask("alice", To::Dm("bot1"), "/status").await;
    assert!(ok.contains("Agent: a"), "{ok}");
    let dropped = h.say("mallory", To::Dm("bot1"), "/status").await;
    // Her next, ordinary message is answered, and the command never was.
    let answer = h.ask("mallory", To::Dm("bot1"), "hello").await;
    assert_eq!(said(&answer), "hello");
    assert!(h.replies_to(&dropped).is_empty());
    h.stop().await;
}

#[actix_rt::test]
async fn a_long_conversation_is_compacted_near_the_window_and_on_request() {
    // A 2,000-token window: compaction starts past 1,000 (the reserve takes at most half).
    let text = config(r#"dingclaw: { store: "sqlite" }"#)
        .replace(r#"{ id: "m1" }"#, r#"{ id: "m1", contextWindow: 2000 }"#)
        .replace(
            r#"defaults: { models:"#,
            r#"defaults: { compaction: { keepRecentTokens: 300 }, models:"#,
        );
    let h = Harness::start(&text).await;
    let mut sizes = Vec::new();
    let mut summarised_at = None;
    for i in 0..12 {
        let words = format!("m{i} {}", "lorem ipsum ".repeat(40));
        let answer = h.ask("alice", To::Dm("bot1"), &words).await;
        assert_eq!(said(&answer), words.trim_end(), "{answer}");
        let body = h.last_request();
        let messages = body["messages"].as_array().unwrap().clone();
        sizes.push(body["messages"].to_string().len());
        if summarised_at.is_none()
            && messages.iter().any(|m| {
                m["content"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("[Summary of the earlier conversation]"))
            })
        {
            summarised_at = Some(i);
        }
    }
    let at = summarised_at.expect("a request carried the summary");
    println!("request sizes (chars of messages): {sizes:?}; first summary in request {at}");
    assert!(at > 0, "not before the context grew");
    assert!(
        sizes[at] < sizes[at - 1],
        "the request after compaction is smaller: {sizes:?}"
    );
    // Never past the window again: every later request stays small.
    assert!(sizes[at..].iter().all(|s| *s < 2000 * 4), "{sizes:?}");
    let status = h.ask("alice", To::Dm("bot1"), "/status").await;
    assert!(!status.contains("Compactions: 0"), "{status}");

    // On request, with a focus; the store still has every message.
    let compacted = h
        .ask("alice", To::Dm("bot1"), "/compact the lorem part")
        .await;
    assert!(compacted.contains("Compacted:"), "{compacted}");
    let asked = h.last_request();
    assert!(
        asked
            .to_string()
            .contains("paying most attention to: the lorem part"),
        "{asked}"
    );
    assert!(
        asked["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains("running summary"),
        "{asked}"
    );
    let stored =
        h.rt.store()
            .load_session("agent:a:dingtalk-connector:direct:alice", 1000)
            .await
            .unwrap()
            .unwrap();
    let users = stored
        .entries
        .iter()
        .filter(|e| e.role == dingclaw_actors::store::Role::User)
        .count();
    assert_eq!(users, 12, "every message is kept in the store");
    h.stop().await;
}

#[actix_rt::test]
async fn past_history_limit_the_oldest_messages_are_summarised_not_dropped() {
    let h = Harness::start(&config(r#"dingclaw: { historyLimit: 4 }"#)).await;
    for i in 0..4 {
        h.ask("alice", To::Dm("bot1"), &format!("fact {i}")).await;
    }
    let body = h.last_request();
    let first = body["messages"][1]["content"].as_str().unwrap_or_default();
    assert!(
        first.starts_with("[Summary of the earlier conversation]") && first.contains("fact 0"),
        "the first facts live on in the summary: {body}"
    );
    let users = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .count();
    assert!(users <= 3, "summary plus at most two kept turns: {body}");
    h.stop().await;
}

#[actix_rt::test]
async fn a_slow_turn_says_once_that_it_is_still_working() {
    let h = Harness::start(&config(r#"dingclaw: { stillWorkingSeconds: 1 }"#)).await;
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Delay { ms: 2_500 },
    }]);
    let slow = h.say("alice", To::Dm("bot1"), "take your time").await;
    let replies = h.answered(&slow, 2).await;
    assert_eq!(
        replies[0].text,
        "⏳ 还在处理中，请稍候。Still working on it; the answer is coming."
    );
    assert_eq!(said(&replies[1].text), "take your time");
    // A quick turn gets its answer only.
    let quick = h.say("alice", To::Dm("bot1"), "quick").await;
    h.answered(&quick, 1).await;
    actix_rt::time::sleep(Duration::from_millis(1_300)).await;
    assert_eq!(h.replies_to(&quick).len(), 1);
    assert_eq!(h.replies_to(&slow).len(), 2, "once only");
    h.stop().await;
}
