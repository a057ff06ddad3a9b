//! What the ClusterActor accepts.

use actix::prelude::*;

use crate::dingtalk::BotMessageReceived;

/// A message this instance journaled for a session it holds: handed to the session in
/// session order (at once when it is the next one, else after reading the gap).
#[derive(Message)]
#[rtype(result = "()")]
pub struct JournaledHere {
    /// The session key.
    pub key: String,
    /// The lease's epoch the journal saw.
    pub epoch: u64,
    /// The message's place in its session.
    pub session_seq: u64,
    /// The lease generation when the journal commit began: an answer from before a lapse
    /// is not acted on (the message stays open for whoever holds the session now).
    pub generation: u64,
    /// The message.
    pub message: BotMessageReceived,
}

/// Another instance journaled a message for a session this one holds (a notification), or
/// the listener reconnected (`key` empty: look for missed work).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Wake {
    /// The session key; empty after the listener reconnected.
    pub key: String,
}

/// Leave the cluster: free the leases and the instance row (a clean shutdown, after the
/// drain).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Leave;
