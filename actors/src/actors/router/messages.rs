//! What the RouterActor accepts.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use tokio::sync::mpsc;

use crate::dingtalk::{BotMessageReceived, ReplyTarget};
use crate::routing::{ChatType, SessionKey};

use super::super::webchat::AnswerPart;

/// Where the answer to a message goes.
#[derive(Clone, Debug)]
pub enum ReplyTo {
    /// Back into a DingTalk conversation of `account`.
    DingTalk {
        account: Arc<str>,
        target: ReplyTarget,
    },
    /// Back to the caller that sent the message (the web page, an embedder's `ask`), streamed
    /// as it is written.
    Caller {
        /// Counted under this name in reply statistics (`web`, an embedder's channel).
        account: Arc<str>,
        events: mpsc::UnboundedSender<AnswerPart>,
    },
}

/// A user message from any channel, on its way to its session.
#[derive(Message, Clone, Debug)]
#[rtype(result = "()")]
pub struct Inbound {
    pub channel: Arc<str>,
    pub account: Arc<str>,
    pub chat: ChatType,
    pub conversation_id: String,
    /// A group's name, as DingTalk gives it (`conversationTitle`).
    pub conversation_title: Option<String>,
    /// `senderStaffId`, else `senderId`.
    pub sender_id: String,
    pub sender_nick: String,
    /// DingTalk's msgId: stable across redeliveries.
    pub msg_id: String,
    pub text: String,
    pub received_at: Instant,
    /// The agent, when the channel chose it (web chat, an embedder's `ask`); else routing
    /// decides.
    pub agent: Option<String>,
    /// Files to download for the turn (pictures, files, voice, a quoted picture).
    pub media: Vec<crate::dingtalk::MediaRef>,
    pub reply: ReplyTo,
    /// The gateway's own answer to a message that must not reach a model (too long); the
    /// session sends it instead of running a turn.
    pub gateway_answer: Option<String>,
    /// The bot was @-mentioned (always, outside groups).
    pub mentioned: bool,
}

impl Inbound {
    /// A DingTalk message to `channel` (its account's: `dingtalk-connector` or `dingtalk`).
    pub fn from_dingtalk(m: &BotMessageReceived, channel: &'static str) -> Inbound {
        let msg = &m.message;
        Inbound {
            channel: Arc::from(channel),
            account: Arc::clone(&m.account),
            chat: msg.chat,
            conversation_id: msg.conversation_id.clone(),
            conversation_title: msg.conversation_title.clone(),
            sender_id: msg.sender().to_owned(),
            sender_nick: msg.sender_nick.clone(),
            msg_id: msg.msg_id.clone(),
            text: msg.text_for_agent(),
            gateway_answer: msg.gateway_answer(),
            received_at: m.received_at,
            agent: None,
            media: msg.media(),
            mentioned: msg.mentioned,
            reply: ReplyTo::DingTalk {
                account: Arc::clone(&m.account),
                target: ReplyTarget::from(msg.as_ref()),
            },
        }
    }
}

/// A session with nothing to do asks to leave memory. The router retires it only if it has
/// handed it no message since (`received` equals what was dispatched), so a message never
/// reaches a session on its way out.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SessionIdle {
    pub key: SessionKey,
    pub received: u64,
}
