//! What a SessionActor accepts.

use actix::prelude::*;
use serde::Serialize;

use crate::routing::{ChatType, Route, SessionKey};

use super::super::router::Inbound;

/// A user message for this session.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UserMessage(pub Inbound);

/// An operator's reset: the conversation starts afresh, as after `/new`, without a word in
/// the chat. A turn in progress finishes first; its answer goes to the old transcript.
#[derive(Message)]
#[rtype(result = "String")]
pub struct ResetSession;

/// A snapshot of the session, for status output.
#[derive(Message)]
#[rtype(result = "SessionState")]
pub struct GetSessionState;

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    pub key: String,
    pub agent_id: String,
    pub session_id: String,
    pub busy: bool,
    pub queued: usize,
    pub entries: usize,
    pub restarts: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

/// What a session needs to know about itself when it starts.
#[derive(Clone, Debug)]
pub struct SessionSeed {
    pub key: SessionKey,
    pub agent_id: String,
    pub channel: String,
    pub account: String,
    pub chat: ChatType,
    pub conversation_id: String,
    pub lane: usize,
}

impl SessionSeed {
    pub fn new(route: &Route, msg: &Inbound, lane: usize) -> Self {
        Self {
            key: route.session_key.clone(),
            agent_id: route.agent_id.clone(),
            channel: msg.channel.to_string(),
            account: msg.account.to_string(),
            chat: msg.chat,
            conversation_id: msg.conversation_id.clone(),
            lane,
        }
    }
}
