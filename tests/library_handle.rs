//! The runtime as an embedder holds it: `Runtime::builder(..).start()` gives a handle whose
//! `ask` is a channel of the embedder's own (sessions, streaming, errors), whose `events`
//! report connections, refusals, turns and failed replies, which keeps its store in memory
//! unless told otherwise, and which stops everything when dropped.

mod support;

use std::time::{Duration, Instant};

use dingclaw_actors::actors::{AnswerPart, AskError, Runtime, RuntimeEvent};
use dingclaw_actors::tokio::sync::broadcast;
use support::gateway::{Harness, Servers, TEST_ACCOUNT, TEST_PROVIDER, turn};

fn config(extra: &str) -> String {
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "handlebot1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER} {extra} }}"#
    )
}

/// The next event `pick` accepts, within five seconds.
async fn next_event<T>(
    events: &mut broadcast::Receiver<RuntimeEvent>,
    mut pick: impl FnMut(RuntimeEvent) -> Option<T>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(event)) => {
                if let Some(found) = pick(event) {
                    return found;
                }
            }
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            other => panic!("no such event in time: {other:?}"),
        }
    }
}

#[actix_rt::test]
async fn ask_is_a_channel_of_its_own_with_sessions_and_a_streamed_answer() {
    let h = Harness::start(&config("")).await;
    let mut events = h.rt.events();

    let mut answer = h.rt.ask("a", "ticket-1", "alice", "hello").unwrap();
    let mut parts = Vec::new();
    while let Some(part) = answer.next().await {
        parts.push(part);
    }
    let Some(AnswerPart::Done(first)) = parts.last().cloned() else {
        panic!("no whole answer: {parts:?}");
    };
    assert!(first.contains("You said: hello"), "{first}");
    assert_eq!(turn(&first), 1, "{first}");
    // Streamed: what came before the whole answer were growing beginnings of it.
    for p in &parts[..parts.len() - 1] {
        let AnswerPart::Partial(so_far) = p else {
            panic!("{parts:?}")
        };
        assert!(
            first.starts_with(so_far.trim_end()),
            "{so_far:?} / {first:?}"
        );
    }
    let (agent, session, ok) = next_event(&mut events, |e| match e {
        RuntimeEvent::TurnFinished {
            agent, session, ok, ..
        } => Some((agent, session, ok)),
        _ => None,
    })
    .await;
    assert_eq!(
        (agent.as_str(), session.as_str(), ok),
        ("a", "agent:a:embedded:direct:ticket-1", true)
    );

    // The same conversation is the same session; another one starts afresh; so does the
    // same conversation on another channel.
    let second = h.rt.ask("a", "ticket-1", "alice", "again").unwrap();
    assert_eq!(turn(&second.text().await.unwrap()), 2);
    let other = h.rt.ask("a", "ticket-2", "alice", "hi").unwrap();
    assert_eq!(turn(&other.text().await.unwrap()), 1);
    let helpdesk =
        h.rt.ask_on("helpdesk", "a", "ticket-1", "alice", "hi")
            .unwrap();
    assert_eq!(turn(&helpdesk.text().await.unwrap()), 1);
    let mut keys: Vec<String> =
        h.rt.resident_sessions()
            .iter()
            .map(|k| k.to_string())
            .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "agent:a:embedded:direct:ticket-1",
            "agent:a:embedded:direct:ticket-2",
            "agent:a:helpdesk:direct:ticket-1"
        ]
    );
    // Chat commands work there as in DingTalk.
    let reset = h.rt.ask("a", "ticket-1", "alice", "/new").unwrap();
    assert!(!reset.text().await.unwrap().is_empty());
    let fresh =
        h.rt.ask("a", "ticket-1", "alice", "after the reset")
            .unwrap();
    assert_eq!(turn(&fresh.text().await.unwrap()), 1);
    h.stop().await;
}

#[actix_rt::test]
async fn ask_refuses_what_would_break_a_session_and_says_why() {
    let h = Harness::start(&config("")).await;
    let err = |r: Result<_, AskError>| r.map(|_| ()).unwrap_err();
    assert_eq!(
        err(h.rt.ask("nobody", "t", "alice", "hi")),
        AskError::NoAgent("nobody".into())
    );
    assert!(matches!(
        err(h.rt.ask("a", "a:b", "alice", "hi")),
        AskError::BadId {
            what: "conversation",
            ..
        }
    ));
    assert!(matches!(
        err(h.rt.ask("a", "t", "", "hi")),
        AskError::BadId { what: "sender", .. }
    ));
    assert_eq!(err(h.rt.ask("a", "t", "alice", "  ")), AskError::EmptyText);
    // dingclaw's own channels are not an embedder's to write into.
    for channel in ["dingtalk-connector", "dingtalk", "webchat"] {
        assert!(
            matches!(
                err(h.rt.ask_on(channel, "a", "t", "alice", "hi")),
                AskError::BadId {
                    what: "channel",
                    ..
                }
            ),
            "{channel}"
        );
    }
    h.rt.shutdown(Duration::from_secs(2)).await;
    assert_eq!(err(h.rt.ask("a", "t", "alice", "hi")), AskError::NotRunning);
    h.model.stop().await;
    h.sim.stop().await;
}

#[actix_rt::test]
async fn events_report_connections_refusals_and_failed_replies() {
    let servers = Servers::start("evgood", "good-secret").await;
    let sim = &servers.sim;
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               stream: {{ reconnectInitialMs: 100, authRetryMs: 60000 }},
               accounts: {{ good: {{ clientId: "evgood", clientSecret: "good-secret" }},
                           bad: {{ clientId: "evbad", clientSecret: "wrong-secret" }} }} }} }},
             {TEST_PROVIDER} }}"#
    );
    let config = servers.config(&text);
    let rt = Runtime::builder(config).start().unwrap();
    // Subscribed before the first await: nothing has happened yet.
    let mut events = rt.events();
    let mut connected = None;
    let mut refused = None;
    while connected.is_none() || refused.is_none() {
        match next_event(&mut events, Some).await {
            RuntimeEvent::Connected { account } => connected = Some(account.to_string()),
            RuntimeEvent::AuthFailed { account, reason } => {
                assert!(!reason.contains("wrong-secret"), "{reason}");
                refused = Some((account.to_string(), reason));
            }
            _ => {}
        }
    }
    assert_eq!(connected.as_deref(), Some("good"));
    let (account, reason) = refused.unwrap();
    assert_eq!(account, "bad");
    assert!(reason.contains("refused the credentials"), "{reason}");

    // A caller that stops listening: the answer cannot be delivered, and that is an event.
    drop(rt.ask("a", "t", "alice", "anyone there?").unwrap());
    let (account, error) = next_event(&mut events, |e| match e {
        RuntimeEvent::ReplyFailed { account, error } => Some((account, error)),
        _ => None,
    })
    .await;
    assert_eq!(account, "embedded");
    assert!(error.contains("stopped listening"), "{error}");

    // A lost connection.
    sim.sim.drop_connections("evgood");
    let account = next_event(&mut events, |e| match e {
        RuntimeEvent::Disconnected { account, .. } => Some(account),
        _ => None,
    })
    .await;
    assert_eq!(&*account, "good");
    rt.shutdown(Duration::from_secs(2)).await;
    servers.stop().await;
}
