//! What an AccountActor accepts (besides `BotMessageReceived` from its Stream client).

use actix::prelude::*;
use serde::Serialize;

use tokio::sync::{oneshot, watch};

use crate::dingtalk::{
    DingTalkError, DownloadError, OutboundMessage, ReplyOutcome, ReplyTarget, StreamState,
};

/// The account's settings changed in ways that keep its connection (see
/// `DingTalkAccount::same_connection`): replies use the new ones from now on.
#[derive(Message)]
#[rtype(result = "()")]
pub struct UpdateAccount(pub std::sync::Arc<crate::config::DingTalkAccount>);

/// Sends a reply into a conversation of this account.
#[derive(Message)]
#[rtype(result = "Result<ReplyOutcome, DingTalkError>")]
pub struct SendReply {
    pub target: ReplyTarget,
    pub message: OutboundMessage,
}

/// Sends a reply that streams into an AI card: `live` carries the text so far, `done` the
/// whole answer (falls back to markdown when cards are off, degraded or failing).
#[derive(Message)]
#[rtype(result = "Result<ReplyOutcome, DingTalkError>")]
pub struct StreamReply {
    pub target: ReplyTarget,
    pub live: watch::Receiver<String>,
    pub done: oneshot::Receiver<String>,
}

/// The account's Stream connection state and whether its AI cards are degraded.
#[derive(Message)]
#[rtype(result = "Option<AccountState>")]
pub struct GetAccountState;

/// One account as status output shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountState {
    #[serde(flatten)]
    pub stream: StreamState,
    /// Replies go out as markdown for this much longer after an AI card error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cards_degraded_for_ms: Option<u64>,
}

/// Closes the Stream connection: no new messages (shutdown, account removed).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopAccount;

/// Downloads a user's file by its downloadCode, at most `max_bytes`.
#[derive(Message)]
#[rtype(result = "Result<Vec<u8>, DownloadError>")]
pub struct DownloadMedia {
    pub download_code: String,
    pub max_bytes: u64,
}

/// Uploads a file (`kind`: `image` or `file`) and sends it into a conversation.
#[derive(Message)]
#[rtype(result = "Result<(), DingTalkError>")]
pub struct SendMedia {
    pub target: ReplyTarget,
    pub kind: &'static str,
    pub file_name: String,
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// Puts the "thinking" reaction on a user message (`add`), or takes it off.
#[derive(Message)]
#[rtype(result = "Result<(), DingTalkError>")]
pub struct React {
    pub msg_id: String,
    pub conversation_id: String,
    pub text: String,
    pub add: bool,
}
