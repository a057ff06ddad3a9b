//! What a SessionActor accepts.

use std::sync::Arc;

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

/// A session as status output shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// Its key.
    pub key: String,
    /// The agent that answers in it.
    pub agent_id: String,
    /// The id of the conversation's current run (changes with `/new` and resets).
    pub session_id: String,
    /// A turn is running.
    pub busy: bool,
    /// Messages waiting for the turn to end.
    pub queued: usize,
    /// Transcript entries in memory.
    pub entries: usize,
    /// Restarts after crashes.
    pub restarts: u64,
    /// Prompt tokens of every turn so far.
    pub prompt_tokens: u64,
    /// Completion tokens of every turn so far.
    pub completion_tokens: u64,
}

/// What a session needs to know about itself when it starts.
#[derive(Clone, Debug)]
pub struct SessionSeed {
    /// Its key.
    pub key: SessionKey,
    /// The agent that answers in it.
    pub agent_id: Arc<str>,
    /// The channel of its messages (shared with the messages: a seed is held twice per
    /// resident session, by the actor and by its restart closure).
    pub channel: Arc<str>,
    /// The account (bot) of its messages.
    pub account: Arc<str>,
    /// A private chat or a group.
    pub chat: ChatType,
    /// The conversation its answers go to.
    pub conversation_id: String,
    /// The worker it runs on.
    pub lane: usize,
}

impl SessionSeed {
    /// The seed of a session for a message routed to `route`, on worker `lane`.
    pub fn new(route: &Route, msg: &Inbound, lane: usize) -> Self {
        Self {
            key: route.session_key.clone(),
            agent_id: route.agent_id.as_str().into(),
            channel: Arc::clone(&msg.channel),
            account: Arc::clone(&msg.account),
            chat: msg.chat,
            conversation_id: msg.conversation_id.clone(),
            lane,
        }
    }
}
