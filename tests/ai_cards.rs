//! AI card replies end to end (docs/dingtalk-protocol.md 6): the model's answer streams
//! into a card in the simulator, which checks every call and records what a user sees; card
//! errors degrade the account to markdown and the user still gets the whole answer.

mod support;

use std::time::{Duration, Instant};

use dingclaw::offline_model::{Action, ModelOptions, Step};
use dingclaw::sim::{CardInfo, ChaosRequest};
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, said, test_sim};

const CARD: &str = r#"groupReplyMode: "aicard", dmReplyMode: "aicard",
    card: { updateIntervalMs: 200, throttleRetryMs: 100, degradeMs: 1500 }"#;

fn config(account_extra: &str, provider_extra: &str) -> String {
    let provider = if provider_extra.is_empty() {
        TEST_PROVIDER.to_owned()
    } else {
        format!(
            r#"models: {{ providers: {{ offline: {{ baseUrl: "${{MODEL}}", apiKey: "k", {provider_extra} }} }} }}"#
        )
    };
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "cardbot1", clientSecret: "s1", {account_extra} }} }} }} }},
             {provider}, dingclaw: {{ store: "memory" }} }}"#
    )
}

async fn start(account_extra: &str, provider_extra: &str, latency_ms: u64) -> Harness {
    Harness::start_with(
        &config(account_extra, provider_extra),
        ModelOptions {
            latency: Duration::from_millis(latency_ms),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await
}

fn chaos(h: &Harness, req: ChaosRequest) {
    h.sim.sim.chaos(&req);
}

fn cards(h: &Harness) -> Vec<CardInfo> {
    h.sim.sim.cards(None)
}

#[actix_rt::test]
async fn an_answer_streams_into_a_card_that_is_finished_with_the_whole_text() {
    // 1.6 s spread over the stream's events: several updates at the 200 ms interval.
    let h = start(CARD, "", 1_600).await;
    let cid = h.group(&["bot1"], &["alice"]);
    let sent = h
        .say("alice", To::Group(&cid, &["bot1"]), "stream me")
        .await;
    let reply = h.answered(&sent, 1).await.remove(0);
    assert_eq!(reply.via, "card", "{reply:?}");
    assert_eq!(said(&reply.text), "alice: stream me", "{}", reply.text);
    let all = cards(&h);
    assert_eq!(all.len(), 1);
    let card = &all[0];
    assert_eq!(card.conversation_id, cid);
    assert_eq!(card.space, "group");
    assert_eq!(card.msg_id.as_deref(), Some(sent.msg_id.as_str()));
    assert_eq!(
        card.template_id,
        "382e4302-551d-4880-bf29-a30acfab2e71.schema"
    );
    assert_eq!(card.flow_status, "3");
    assert!(card.finalized);
    assert_eq!(card.text, reply.text);
    assert_eq!(card.params.get("msgContent"), Some(&reply.text));
    // Opened after `holdMs` (the interval) showing the text so far, or "processing" and
    // then "inputing" on the first text; streamed; finalized and set "finished".
    assert!((1..=2).contains(&card.instance_updates), "{card:?}");
    assert!(card.stream_updates >= 2, "streamed as it grew: {card:?}");
    assert!(
        card.min_update_gap_ms.is_some_and(|g| g >= 190),
        "at most one update per interval: {card:?}"
    );
    let stats = h.sim.sim.stats();
    assert_eq!((stats.cards_created, stats.card_rejected), (1, 0));

    // A DM card goes to the user's robot space.
    let reply = h.ask("bob", To::Dm("bot1"), "dm card").await;
    assert_eq!(said(&reply), "dm card");
    assert_eq!(cards(&h)[1].space, "direct");
    h.stop().await;
}

#[actix_rt::test]
async fn without_card_permission_the_account_replies_in_markdown_for_a_while() {
    let h = start(CARD, "", 0).await;
    chaos(
        &h,
        ChaosRequest {
            card_permission_denied: Some(true),
            ..ChaosRequest::default()
        },
    );
    let sent = h.say("alice", To::Dm("bot1"), "first").await;
    let reply = h.answered(&sent, 1).await.remove(0);
    assert_eq!(
        (reply.via.as_str(), reply.msgtype.as_str()),
        ("sessionWebhook", "markdown")
    );
    assert_eq!(said(&reply.text), "first");
    assert_eq!(h.sim.sim.stats().card_rejected, 1);
    // Degraded: the next reply does not even try a card, though permission is back.
    chaos(
        &h,
        ChaosRequest {
            card_permission_denied: Some(false),
            ..ChaosRequest::default()
        },
    );
    let sent = h.say("alice", To::Dm("bot1"), "second").await;
    assert_eq!(h.answered(&sent, 1).await[0].via, "sessionWebhook");
    assert_eq!(h.sim.sim.stats().cards_created, 0);
    // After `degradeMs`, cards again.
    actix_rt::time::sleep(Duration::from_millis(1_600)).await;
    let sent = h.say("alice", To::Dm("bot1"), "third").await;
    let reply = h.answered(&sent, 1).await.remove(0);
    assert_eq!((reply.via.as_str(), said(&reply.text)), ("card", "third"));
    h.stop().await;
}

#[actix_rt::test]
async fn a_throttled_card_call_is_retried_once_then_degrades() {
    let h = start(CARD, "", 0).await;
    chaos(
        &h,
        ChaosRequest {
            card_throttle: Some(1),
            ..ChaosRequest::default()
        },
    );
    let reply = h
        .answered(&h.say("alice", To::Dm("bot1"), "one").await, 1)
        .await;
    assert_eq!(reply[0].via, "card", "one throttle is retried");
    assert_eq!(h.sim.sim.stats().card_throttled, 1);
    chaos(
        &h,
        ChaosRequest {
            card_throttle: Some(2),
            ..ChaosRequest::default()
        },
    );
    let reply = h
        .answered(&h.say("alice", To::Dm("bot1"), "two").await, 1)
        .await;
    assert_eq!(
        (reply[0].via.as_str(), said(&reply[0].text)),
        ("sessionWebhook", "two"),
        "throttled again after the retry: markdown"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn a_card_that_breaks_mid_stream_still_delivers_the_whole_answer() {
    let h = start(CARD, "", 2_000).await;
    let sent = h.say("alice", To::Dm("bot1"), "long answer").await;
    let start = Instant::now();
    while cards(&h).first().is_none_or(|c| c.flow_status != "2") {
        assert!(start.elapsed() < Duration::from_secs(5), "{:?}", cards(&h));
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    chaos(
        &h,
        ChaosRequest {
            card_permission_denied: Some(true),
            ..ChaosRequest::default()
        },
    );
    let reply = h.answered(&sent, 1).await.remove(0);
    assert_eq!(reply.via, "sessionWebhook");
    assert_eq!(said(&reply.text), "long answer");
    assert!(
        reply.text.contains("history: long answer"),
        "whole: {}",
        reply.text
    );
    let card = &cards(&h)[0];
    assert_eq!(card.flow_status, "2", "the broken card was left as it was");
    assert!(
        reply.text.starts_with(&card.text),
        "the card showed a prefix"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn a_stalled_stream_is_abandoned_and_the_card_restarts_with_the_retry() {
    let h = start(CARD, "idleTimeoutSeconds: 1, retries: 1", 0).await;
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Stall { ms: 5_000 },
    }]);
    let start = Instant::now();
    let reply = h.ask("alice", To::Dm("bot1"), "stall").await;
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(
        reply, "[a · m · turn 1] You said: stall\nhistory: stall",
        "the card ends with the retry's whole answer, nothing of the stalled attempt"
    );
    assert_eq!(h.model.stats.requests_for("m"), 2);
    h.stop().await;
}

#[actix_rt::test]
async fn streaming_false_turns_cards_off() {
    let h = start(&format!("{CARD}, streaming: false"), "", 0).await;
    let reply = h
        .answered(&h.say("alice", To::Dm("bot1"), "plain").await, 1)
        .await;
    assert_eq!(
        (reply[0].via.as_str(), reply[0].msgtype.as_str()),
        ("sessionWebhook", "markdown")
    );
    assert_eq!(h.sim.sim.stats().cards_created, 0);
    h.stop().await;
}

#[actix_rt::test]
async fn async_mode_acknowledges_at_once_then_answers_without_a_card() {
    let h = start(
        &format!(r#"{CARD}, asyncMode: true, ackText: "收到，处理中""#),
        "",
        500,
    )
    .await;
    let sent = h.say("alice", To::Dm("bot1"), "slow job").await;
    let replies = h.answered(&sent, 2).await;
    assert_eq!(
        (replies[0].text.as_str(), replies[0].msgtype.as_str()),
        ("收到，处理中", "text")
    );
    assert_eq!(
        (said(&replies[1].text), replies[1].msgtype.as_str()),
        ("slow job", "markdown")
    );
    assert_eq!(h.sim.sim.stats().cards_created, 0);
    h.stop().await;
}

#[actix_rt::test]
async fn stop_finishes_the_card_as_stopped() {
    let h = start(CARD, "", 0).await;
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Delay { ms: 60_000 },
    }]);
    let slow = h.say("alice", To::Dm("bot1"), "a long essay").await;
    let begin = Instant::now();
    while cards(&h).is_empty() {
        assert!(
            begin.elapsed() < Duration::from_secs(10),
            "no card was opened"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    h.say("alice", To::Dm("bot1"), "/stop").await;
    let reply = h.answered(&slow, 1).await.remove(0);
    assert_eq!(reply.via, "card", "{reply:?}");
    assert_eq!(reply.text, "⏹ 已停止。Stopped.");
    let card = &cards(&h)[0];
    assert_eq!(card.flow_status, "3");
    assert_eq!(card.text, reply.text);
    assert_eq!(
        (card.stream_updates, card.finalized),
        (0, false),
        "nothing was streamed, so there was no stream to finalize: {card:?}"
    );
    h.stop().await;
}

/// Cards with `card.holdMs: hold_ms`, and an offline model that answers at once.
async fn start_holding(hold_ms: u64) -> Harness {
    let card = format!(
        r#"groupReplyMode: "aicard", dmReplyMode: "aicard",
           card: {{ updateIntervalMs: 200, holdMs: {hold_ms} }}"#
    );
    start(&card, "", 0).await
}

/// Card calls the simulator received, whatever became of them.
fn card_calls(h: &Harness) -> u64 {
    let s = h.sim.sim.stats();
    s.cards_created + s.card_stream_updates + s.card_instance_updates + s.card_rejected
}

#[actix_rt::test]
async fn an_answer_ready_within_the_hold_is_one_finished_card_in_one_call() {
    // The offline model answers at once, well within the hold (long here, so that a slow
    // test machine cannot turn the test into the streaming case).
    let h = start_holding(3_000).await;
    let cid = h.group(&["bot1"], &["alice"]);
    for (i, text) in ["quick one", "quick two", "quick three"].iter().enumerate() {
        let sent = h.say("alice", To::Group(&cid, &["bot1"]), text).await;
        let reply = h.answered(&sent, 1).await.remove(0);
        // In a group the model reads "<sender>: <text>".
        let heard = format!("alice: {text}");
        assert_eq!(
            (reply.via.as_str(), said(&reply.text)),
            ("card", heard.as_str())
        );
        let card = &cards(&h)[i];
        assert_eq!(card.flow_status, "3", "{card:?}");
        assert_eq!(card.text, reply.text);
        assert_eq!(card.msg_id.as_deref(), Some(sent.msg_id.as_str()));
        assert_eq!((card.instance_updates, card.stream_updates), (0, 0));
    }
    assert_eq!(card_calls(&h), 3, "one createAndDeliver per reply");
    h.stop().await;
}

#[actix_rt::test]
async fn hold_zero_opens_a_processing_card_at_once() {
    let h = start_holding(0).await;
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Delay { ms: 1_500 },
    }]);
    let sent = h.say("alice", To::Dm("bot1"), "take your time").await;
    let begin = Instant::now();
    while cards(&h).is_empty() {
        assert!(begin.elapsed() < Duration::from_secs(1), "no card at once");
        actix_rt::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        cards(&h)[0].flow_status,
        "1",
        "processing while the model thinks"
    );
    let reply = h.answered(&sent, 1).await.remove(0);
    assert_eq!(
        (reply.via.as_str(), said(&reply.text)),
        ("card", "take your time")
    );
    let card = &cards(&h)[0];
    assert_eq!(card.flow_status, "3");
    // Created, then the whole answer at once ("inputing" too if a tick fell between the
    // last chunk and the end of the turn); nothing streamed, so nothing to finalize.
    assert!((1..=2).contains(&card.instance_updates), "{card:?}");
    assert_eq!(card.stream_updates, 0, "{card:?}");
    h.stop().await;
}
