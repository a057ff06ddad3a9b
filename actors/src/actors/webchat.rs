//! The web page's chat as a channel: an operator talks to any agent through the same router
//! and sessions as DingTalk users, in a thread of their own (`agent:<agentId>:dashboard:<thread>`,
//! as OpenClaw's dashboard threads). The reply streams back as `AnswerPart`s to the HTTP response
//! that carries the message.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot, watch};

use crate::routing::{ChatType, MatchedBy, Route, SessionKey};

use super::router::{Inbound, ReplyTo};

/// The web chat's channel id.
pub const WEBCHAT_CHANNEL: &str = "webchat";

/// The account of web chat sessions (no DingTalk account is involved).
pub const WEBCHAT_ACCOUNT: &str = "web";

/// What a caller (the web page, an embedder's `ask`) receives while an answer is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnswerPart {
    /// The answer so far (each one replaces the previous one).
    Partial(String),
    /// The whole answer (or a notice: a reset, the queue full, a refusal).
    Done(String),
}

/// Thread ids the page may use: they become part of a session key.
pub fn valid_thread(thread: &str) -> bool {
    (1..=64).contains(&thread.len())
        && thread
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The route of a web chat message: the agent the page chose, in the page's thread.
pub fn route(agent: &str, thread: &str) -> Route {
    Route {
        agent_id: agent.to_owned(),
        matched_by: MatchedBy::Explicit,
        session_key: SessionKey::new(format!(
            "agent:{}:dashboard:{}",
            agent.to_lowercase(),
            thread.to_lowercase()
        )),
        binding_index: None,
    }
}

impl Inbound {
    /// A message typed on the web page.
    pub fn from_web(
        agent: &str,
        thread: &str,
        text: &str,
        events: mpsc::UnboundedSender<AnswerPart>,
    ) -> Inbound {
        Inbound {
            channel: Arc::from(WEBCHAT_CHANNEL),
            account: Arc::from(WEBCHAT_ACCOUNT),
            chat: ChatType::Direct,
            conversation_id: thread.to_owned(),
            conversation_title: None,
            sender_id: "operator".to_owned(),
            sender_nick: "operator".to_owned(),
            msg_id: uuid::Uuid::new_v4().to_string(),
            text: text.to_owned(),
            received_at: Instant::now(),
            agent: Some(agent.to_owned()),
            reply: ReplyTo::Caller {
                account: Arc::from(WEBCHAT_ACCOUNT),
                events,
            },
            mentioned: true,
            lease: None,
            gateway_answer: None,
            media: Vec::new(),
        }
    }
}

/// Forwards a streamed answer to its caller: each change of `live`, then the answer from `done`.
pub async fn stream_to_caller(
    events: mpsc::UnboundedSender<AnswerPart>,
    mut live: watch::Receiver<String>,
    done: oneshot::Receiver<String>,
) -> bool {
    tokio::pin!(done);
    loop {
        tokio::select! {
            answer = &mut done => {
                return match answer {
                    Ok(text) => events.send(AnswerPart::Done(text)).is_ok(),
                    Err(_) => false,
                };
            }
            changed = live.changed() => {
                if changed.is_err() {
                    // The model side is gone; the answer (or nothing) comes through `done`.
                    let answer = (&mut done).await;
                    return answer.is_ok_and(|t| events.send(AnswerPart::Done(t)).is_ok());
                }
                let text = live.borrow_and_update().clone();
                if !text.is_empty() {
                    let _ = events.send(AnswerPart::Partial(text));
                }
            }
        }
    }
}
