//! What an AccountActor accepts (besides `BotMessageReceived` from its Stream client).

use actix::prelude::*;

use crate::dingtalk::{DingTalkError, OutboundMessage, ReplyOutcome, ReplyTarget, StreamState};

/// Sends a reply into a conversation of this account.
#[derive(Message)]
#[rtype(result = "Result<ReplyOutcome, DingTalkError>")]
pub struct SendReply {
    pub target: ReplyTarget,
    pub message: OutboundMessage,
}

/// The account's Stream connection state.
#[derive(Message)]
#[rtype(result = "Option<StreamState>")]
pub struct GetAccountState;

/// Closes the Stream connection: no new messages (shutdown, account removed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopAccount;
