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
    /// Where the reply goes: the sessionWebhook, else the robot OpenAPI.
    pub target: ReplyTarget,
    /// Text or markdown; long text is split into chunks.
    pub message: OutboundMessage,
}

/// Sends a reply that streams into an AI card: `live` carries the text so far, `done` the
/// whole answer (falls back to markdown when cards are off, degraded or failing).
#[derive(Message)]
#[rtype(result = "Result<ReplyOutcome, DingTalkError>")]
pub struct StreamReply {
    /// Where the card is delivered.
    pub target: ReplyTarget,
    /// The answer so far; each change is streamed into the card, at a bounded rate.
    pub live: watch::Receiver<String>,
    /// The whole answer; finishes the card.
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
    /// The Stream client's state (status, connections, reconnects, counts).
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

/// Opens (`true`) or closes the account's Stream connection, keeping the actor for replies:
/// in a cluster, only the instances a bot is placed on keep a connection for it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Connect(pub bool);

/// Downloads a user's file by its downloadCode, at most `max_bytes`.
#[derive(Message)]
#[rtype(result = "Result<Vec<u8>, DownloadError>")]
pub struct DownloadMedia {
    /// The code DingTalk gave with the message (`content.downloadCode`).
    pub download_code: String,
    /// Larger files are refused before they are read whole (`mediaMaxMb`).
    pub max_bytes: u64,
}

/// Uploads a file (`kind`: `image` or `file`) and sends it into a conversation.
#[derive(Message)]
#[rtype(result = "Result<(), DingTalkError>")]
pub struct SendMedia {
    /// The conversation it goes to.
    pub target: ReplyTarget,
    /// `image` or `file`: picks the upload type and the message template.
    pub kind: &'static str,
    /// The name users see.
    pub file_name: String,
    /// Its media type, as sniffed from the content.
    pub mime: String,
    /// The content.
    pub bytes: Vec<u8>,
}

/// Puts the "thinking" reaction on a user message (`add`), or takes it off.
#[derive(Message)]
#[rtype(result = "Result<(), DingTalkError>")]
pub struct React {
    /// The user message to react to (DingTalk's `msgId`).
    pub msg_id: String,
    /// The conversation it is in.
    pub conversation_id: String,
    /// The reaction's text (`channels.*.ackReaction`).
    pub text: String,
    /// Put it on (`true`) or take it off.
    pub add: bool,
}
