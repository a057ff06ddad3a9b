//! An embedder's own channel: `RuntimeHandle::ask` hands a message to an agent through the
//! same router and sessions as DingTalk users, and streams the answer back.
//!
//! Each (channel, agent, conversation) is one session, keyed as OpenClaw keys a direct chat
//! (`agent:<agentId>:<channel>:direct:<conversation>`, reference: docs/routing.md), so
//! history, `/new`, `/status` and the other chat commands work as they do in DingTalk.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use crate::routing::{ChatType, MatchedBy, Route, SessionKey};

use super::router::{Inbound, ReplyTo};
use super::webchat::AnswerPart;

/// The channel name `ask` uses unless the embedder names its own (`ask_on`).
pub const EMBEDDED_CHANNEL: &str = "embedded";

/// Longest conversation or sender id `ask` takes: they become part of a session key.
const MAX_ID: usize = 128;

/// Why a message could not be handed to an agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AskError {
    /// The agent named is not in the config.
    #[error("there is no agent \"{0}\" in the config")]
    NoAgent(String),
    /// Channel, conversation and sender ids must be 1-128 characters without `:` or
    /// whitespace, because they become part of the session key.
    #[error("{what} \"{value}\" must be 1-128 characters without ':' or spaces")]
    BadId {
        /// `channel`, `conversation` or `sender`.
        what: &'static str,
        /// The id given (at most 128 characters of it).
        value: String,
    },
    /// The text is empty or only spaces.
    #[error("the message text is empty")]
    EmptyText,
    /// The runtime was shut down.
    #[error("the runtime is not running (it was shut down)")]
    NotRunning,
}

/// Checks an id that becomes part of a session key.
pub(crate) fn check_id(what: &'static str, value: &str) -> Result<(), AskError> {
    let ok = (1..=MAX_ID).contains(&value.chars().count())
        && !value.chars().any(|c| c == ':' || c.is_whitespace());
    if ok {
        Ok(())
    } else {
        Err(AskError::BadId {
            what,
            value: value.chars().take(MAX_ID).collect(),
        })
    }
}

/// The route of a message asked on `channel`: the chosen agent, one session per conversation.
pub fn route(channel: &str, agent: &str, conversation: &str) -> Route {
    Route {
        agent_id: agent.to_owned(),
        matched_by: MatchedBy::Explicit,
        session_key: SessionKey::new(format!(
            "agent:{}:{}:direct:{}",
            agent.to_lowercase(),
            channel.to_lowercase(),
            conversation.to_lowercase()
        )),
        binding_index: None,
    }
}

/// Who sends a message through `ask`, and where.
pub(crate) struct Asker<'a> {
    pub channel: &'a str,
    pub agent: &'a str,
    pub conversation: &'a str,
    pub sender: &'a str,
}

impl Inbound {
    /// A message an embedder hands in; the answer goes to `events`.
    pub(crate) fn from_caller(
        who: &Asker<'_>,
        text: &str,
        events: mpsc::UnboundedSender<AnswerPart>,
    ) -> Inbound {
        let channel: Arc<str> = Arc::from(who.channel);
        Inbound {
            account: Arc::clone(&channel),
            channel: Arc::clone(&channel),
            chat: ChatType::Direct,
            conversation_id: who.conversation.to_owned(),
            conversation_title: None,
            sender_id: who.sender.to_owned(),
            sender_nick: who.sender.to_owned(),
            msg_id: uuid::Uuid::new_v4().to_string(),
            text: text.to_owned(),
            received_at: Instant::now(),
            agent: Some(who.agent.to_owned()),
            reply: ReplyTo::Caller {
                account: channel,
                events,
            },
            mentioned: true,
            lease: None,
            gateway_answer: None,
            media: Vec::new(),
        }
    }
}

/// An answer on its way: the text so far as the model writes it, then the whole answer.
///
/// Nothing is lost if it is dropped early: the turn completes and is stored in the session.
#[derive(Debug)]
pub struct Answer {
    events: mpsc::UnboundedReceiver<AnswerPart>,
    done: bool,
}

impl Answer {
    pub(crate) fn new(events: mpsc::UnboundedReceiver<AnswerPart>) -> Self {
        Self {
            events,
            done: false,
        }
    }

    /// The next part: `Partial` while a streaming agent writes (each replaces the one
    /// before), then one `Done`, then `None`. `None` before any `Done` means the runtime
    /// shut down without answering.
    pub async fn next(&mut self) -> Option<AnswerPart> {
        if self.done {
            return None;
        }
        let part = self.events.recv().await;
        self.done = !matches!(part, Some(AnswerPart::Partial(_)));
        part
    }

    /// Waits for the whole answer; `None` if the runtime shut down first.
    pub async fn text(mut self) -> Option<String> {
        while let Some(part) = self.next().await {
            if let AnswerPart::Done(text) = part {
                return Some(text);
            }
        }
        None
    }
}

/// Channel names that belong to dingclaw's own channels: an embedder's messages must not
/// land in their sessions.
const RESERVED_CHANNELS: [&str; 3] = [
    super::webchat::WEBCHAT_CHANNEL,
    crate::config::DINGTALK_CHANNEL,
    crate::config::DINGTALK_PLUGIN_CHANNEL,
];

impl super::runtime::Runtime {
    /// Hands `text` from `sender` in `conversation` to `agent`, on the `embedded` channel,
    /// and returns its answer as it is written. See `ask_on`.
    pub fn ask(
        &self,
        agent: &str,
        conversation: &str,
        sender: &str,
        text: &str,
    ) -> Result<Answer, AskError> {
        self.ask_on(EMBEDDED_CHANNEL, agent, conversation, sender, text)
    }

    /// Hands a message from an embedder's own channel to `agent`. The conversation is one
    /// session (`agent:<agent>:<channel>:direct:<conversation>`) with history, the queue
    /// and chat commands as in DingTalk; `sender` is checked against
    /// `commands.ownerAllowFrom` for owner-only commands under `channel`'s name.
    pub fn ask_on(
        &self,
        channel: &str,
        agent: &str,
        conversation: &str,
        sender: &str,
        text: &str,
    ) -> Result<Answer, AskError> {
        check_id("channel", channel)?;
        if RESERVED_CHANNELS.contains(&channel) {
            return Err(AskError::BadId {
                what: "channel",
                value: channel.to_owned(),
            });
        }
        check_id("conversation", conversation)?;
        check_id("sender", sender)?;
        if text.trim().is_empty() {
            return Err(AskError::EmptyText);
        }
        if self.config().agents.get(agent).is_none() {
            return Err(AskError::NoAgent(agent.to_owned()));
        }
        let router = match self.router() {
            Some(r) if !self.is_stopping() && r.connected() => r,
            _ => return Err(AskError::NotRunning),
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let who = Asker {
            channel,
            agent,
            conversation,
            sender,
        };
        router.do_send(Inbound::from_caller(&who, text, tx));
        Ok(Answer::new(rx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_that_would_break_a_session_key_are_refused() {
        assert!(check_id("conversation", "ticket-42").is_ok());
        assert!(check_id("conversation", "用户-甲").is_ok());
        for bad in ["", "a:b", "a b", &"x".repeat(129)] {
            assert!(check_id("conversation", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn each_channel_and_conversation_is_its_own_session() {
        let a = route("helpdesk", "Main", "T-1");
        assert_eq!(a.session_key.as_str(), "agent:main:helpdesk:direct:t-1");
        assert_ne!(a.session_key, route("helpdesk", "main", "t-2").session_key);
        assert_ne!(a.session_key, route("embedded", "main", "t-1").session_key);
    }
}
