//! What the RouterActor accepts.

use std::sync::Arc;
use std::time::Instant;

use actix::prelude::*;
use tokio::sync::mpsc;

use crate::dingtalk::{BotMessageReceived, ReplyTarget};
use crate::routing::{ChatType, SessionKey};
use crate::store::Lease;

use super::super::webchat::AnswerPart;

/// Where the answer to a message goes.
#[derive(Clone, Debug)]
pub enum ReplyTo {
    /// Back into a DingTalk conversation of `account`.
    DingTalk {
        /// The account that received the message.
        account: Arc<str>,
        /// Where in DingTalk the answer goes.
        target: ReplyTarget,
        /// In a cluster, the session lease the answer is sent under: not sent once it is no
        /// longer good (another instance may be answering).
        lease: Option<Lease>,
    },
    /// Back to the caller that sent the message (the web page, an embedder's `ask`), streamed
    /// as it is written.
    Caller {
        /// Counted under this name in reply statistics (`web`, an embedder's channel).
        account: Arc<str>,
        /// The answer's parts, as they are written.
        events: mpsc::UnboundedSender<AnswerPart>,
    },
}

/// A user message from any channel, on its way to its session.
#[derive(Message, Clone, Debug)]
#[rtype(result = "()")]
pub struct Inbound {
    /// The channel it came through (`dingtalk-connector`, `dingtalk`, `webchat`, an embedder's).
    pub channel: Arc<str>,
    /// The account (bot) that received it.
    pub account: Arc<str>,
    /// A private chat or a group.
    pub chat: ChatType,
    /// DingTalk's `conversationId` (a web thread, an embedder's conversation).
    pub conversation_id: String,
    /// A group's name, as DingTalk gives it (`conversationTitle`).
    pub conversation_title: Option<String>,
    /// `senderStaffId`, else `senderId`.
    pub sender_id: String,
    /// Their display name.
    pub sender_nick: String,
    /// DingTalk's msgId: stable across redeliveries.
    pub msg_id: String,
    /// What the agent is given: the text, with quotes and transcripts folded in.
    pub text: String,
    /// When it arrived, for latency figures.
    pub received_at: Instant,
    /// The agent, when the channel chose it (web chat, an embedder's `ask`); else routing
    /// decides.
    pub agent: Option<String>,
    /// Files to download for the turn (pictures, files, voice, a quoted picture).
    pub media: Vec<crate::dingtalk::MediaRef>,
    /// Where the answer goes.
    pub reply: ReplyTo,
    /// The gateway's own answer to a message that must not reach a model (too long); the
    /// session sends it instead of running a turn.
    pub gateway_answer: Option<String>,
    /// The bot was @-mentioned (always, outside groups).
    pub mentioned: bool,
    /// In a cluster, the lease of its session this instance answers under: the session's
    /// writes and replies are fenced by it.
    pub lease: Option<Lease>,
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
                lease: None,
            },
            lease: None,
        }
    }

    /// This message, answered under `lease` (a cluster's session lease).
    pub fn with_lease(mut self, lease: Lease) -> Inbound {
        if let ReplyTo::DingTalk { lease: l, .. } = &mut self.reply {
            *l = Some(lease.clone());
        }
        self.lease = Some(lease);
        self
    }

    /// What the routing rules look at.
    pub fn routing(&self) -> crate::routing::Inbound<'_> {
        crate::routing::Inbound {
            channel: &self.channel,
            account: &self.account,
            chat: self.chat,
            conversation_id: &self.conversation_id,
            sender_id: &self.sender_id,
        }
    }
}

/// Forget a session's actor (or every DingTalk session's, `None`): this instance no longer
/// holds its lease in the cluster. A turn in flight ends on its own, fenced; the next
/// message starts a fresh actor that reads the session from the store.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Evict {
    /// The session key; `None`: every session of a DingTalk channel.
    pub key: Option<String>,
}

/// A session with nothing to do asks to leave memory. The router retires it only if it has
/// handed it no message since (`received` equals what was dispatched), so a message never
/// reaches a session on its way out.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SessionIdle {
    /// The session that went idle.
    pub key: SessionKey,
    /// How many messages the router had sent it when it went idle: if more were sent since, it
    /// stays.
    pub received: u64,
}
