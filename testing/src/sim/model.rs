//! The simulator's data: what it knows about bots, users, groups and conversations, and the
//! shapes of its control API. Ids look like DingTalk's (docs/dingtalk-protocol.md 3.1).

use std::time::Duration;

use base64::Engine;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// `len` random bytes as DingTalk-looking base64.
pub fn random_b64(len: usize) -> String {
    let bytes: Vec<u8> = (0..len).map(|_| rand::rng().random()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A random lower-case hex string of `len` characters.
pub fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(rand::rng().random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A conversation id: `cid` + base64, case-sensitive.
pub fn conversation_id() -> String {
    format!("cid{}", random_b64(16))
}

/// An encrypted user id: `$:LWCP_v1:$` + base64.
pub fn encrypted_id() -> String {
    format!("$:LWCP_v1:${}", random_b64(24))
}

/// A user message id, stable across redeliveries.
pub fn msg_id() -> String {
    format!("msg{}", random_b64(12))
}

/// A delivery id, new for every push (shape of the observed `212b9d7c_165f_19bfa1a500a_1461def`).
pub fn delivery_id() -> String {
    format!(
        "{}_{}_{}_{}",
        random_hex(8),
        random_hex(4),
        random_hex(11),
        random_hex(7)
    )
}

/// A bot (a DingTalk app with the robot capability).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BotInfo {
    /// Its AppKey.
    pub client_id: String,
    /// Its AppSecret.
    #[serde(skip_serializing)]
    pub client_secret: String,
    /// Its name.
    pub name: String,
    /// The app's id in frame headers.
    pub app_id: String,
    /// The bot's encrypted user id, as it appears in `atUsers`.
    pub chatbot_user_id: String,
    /// Its organisation.
    pub corp_id: String,
    /// Stream connections open now.
    pub connections: usize,
}

/// A user the simulator knows.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// Staff id (`senderStaffId`); external users have none in their messages.
    pub user_id: String,
    /// Their encrypted id (`senderId`).
    pub sender_id: String,
    /// Their display name.
    pub name: String,
    /// From outside the organisation (no staff id).
    pub external: bool,
}

/// A group the simulator knows.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfo {
    /// Its id.
    pub conversation_id: String,
    /// Its name.
    pub title: String,
    /// Users in it.
    pub members: Vec<String>,
    /// Bots in it.
    pub bots: Vec<String>,
}

/// `POST /sim/bots`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewBot {
    /// Its AppKey (default: generated).
    pub client_id: Option<String>,
    /// Its AppSecret (default: generated).
    pub client_secret: Option<String>,
    /// Its name.
    pub name: Option<String>,
}

/// `POST /sim/users`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    /// Their staff id (default: generated).
    pub user_id: Option<String>,
    /// Their display name.
    pub name: Option<String>,
    /// An external contact: messages carry no `senderStaffId`.
    #[serde(default)]
    pub external: bool,
}

/// `POST /sim/groups`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGroup {
    /// Its id (default: generated).
    pub conversation_id: Option<String>,
    /// Its name.
    pub title: Option<String>,
    /// Users in it (staff ids).
    #[serde(default)]
    pub members: Vec<String>,
    /// Bots in it (clientIds).
    #[serde(default)]
    pub bots: Vec<String>,
}

/// `POST /sim/messages`: a user says something.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserMessage {
    /// The user (staff id); created if unknown.
    pub from: String,
    /// For a DM: the bot's clientId.
    pub bot: Option<String>,
    /// For a group: its conversationId.
    pub group: Option<String>,
    /// Bots @-mentioned in a group (clientIds); default: every bot of the group.
    pub mentions: Option<Vec<String>>,
    /// The text.
    pub text: String,
    /// `text` (default), `audio` (text becomes the recognition), `picture`, `file`,
    /// `richText`, `unknownMsgType`.
    pub msgtype: Option<String>,
    /// Append an unpaired UTF-16 surrogate escape (`\ud800`) to the text, as a client that
    /// cut an emoji in half makes DingTalk send.
    #[serde(default)]
    pub lone_surrogate: bool,
    /// The file of a `picture`, `file`, `audio`, `video` or `richText` message (a small
    /// built-in one when not given).
    pub attachment: Option<Attachment>,
    /// The msgId of an earlier message in the conversation this one quotes.
    pub quote: Option<String>,
}

/// A file a user sends.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attachment {
    /// Its file name.
    pub name: Option<String>,
    /// Its media type (default: sniffed).
    pub mime: Option<String>,
    /// The bytes, base64.
    pub data_base64: Option<String>,
    /// A file of this many bytes (zeros), served without being held in memory (big files).
    pub size: Option<u64>,
    /// Its downloadCode is already expired.
    #[serde(default)]
    pub expired: bool,
    /// Downloading it fails (HTTP 500 from the file server).
    #[serde(default)]
    pub fail: bool,
}

/// A file in a conversation entry: what a user sent, or what a bot uploaded and sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimMedia {
    /// Its file name.
    pub name: String,
    /// Its media type.
    pub mime: String,
    /// Its size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the bytes (of the zeros, for a synthetic file).
    pub sha256: String,
    /// The code a bot downloads it with (a user's file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_code: Option<String>,
    /// The media id a bot uploaded it as (a bot's file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

/// A reaction a bot put on (or took off) a user message.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    /// The bot (clientId).
    pub bot: String,
    /// The user message it is on.
    pub msg_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// The reaction's text.
    pub emotion_name: String,
    /// `reply` (added) or `recall` (taken off).
    pub action: String,
    /// When (ms since the epoch).
    pub at_ms: i64,
}

/// One push of a user message to one bot.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The bot (clientId).
    pub bot: String,
    /// Its conversation with the user.
    pub conversation_id: String,
    /// Delivery id of the first push; `None` when the bot had no connection (held).
    pub message_id: Option<String>,
}

/// What `say` did: the message and the bots it was pushed to.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injected {
    /// The message's `msgId`.
    pub msg_id: String,
    /// Its conversation.
    pub conversation_id: String,
    /// One per bot it went to.
    pub deliveries: Vec<Delivery>,
}

/// One line of a conversation: a user message or something a bot sent.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Global order of events in the simulator.
    pub seq: u64,
    /// The conversation.
    pub conversation_id: String,
    /// `user`, `sessionWebhook`, `groupMessages`, `oToMessages`, `robotWebhook`, `card` (an AI
    /// card, recorded with its final text when it is finished).
    pub via: String,
    /// The user (staff id) for user messages, the bot (clientId) otherwise.
    pub from: String,
    /// `text`, `markdown`, `picture`, `file`...
    pub msgtype: String,
    /// The text (a markdown's text, a card's final text).
    pub text: String,
    /// A markdown's title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Who was @-mentioned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_user_ids: Vec<String>,
    /// The user message this answers (sessionWebhook replies know it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// ms since the epoch.
    pub at_ms: i64,
    /// For a reply through a sessionWebhook: microseconds from the first push of the user
    /// message to this reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<u64>,
    /// The file of a user's picture or file message, or of a bot's image or file send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media: Option<SimMedia>,
}

/// An ACK the simulator received, kept for inspection.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AckRecord {
    /// The bot (clientId).
    pub bot: String,
    /// The frame acknowledged.
    pub message_id: String,
    /// `ping`, `callback`, `event`, `disconnect`.
    pub kind: String,
    /// The acknowledgement as sent.
    pub raw: String,
    /// Follows docs/dingtalk-protocol.md 2.2 exactly.
    pub conforms: bool,
    /// Arrived on the socket that carried the frame.
    pub same_socket: bool,
    /// From the push to the acknowledgement.
    pub latency_us: u64,
}

/// `POST /sim/chaos`: every field is optional and changes only that switch.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChaosRequest {
    /// Answer connections/open with this HTTP status (400, 401, 503...); `0` stops.
    pub reject_open: Option<u16>,
    /// How many opens to reject; unset = until cleared.
    pub reject_open_count: Option<u32>,
    /// Stop answering WebSocket pings on every connection.
    pub no_pong: Option<bool>,
    /// Answer the next N OpenAPI calls with 403 `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi`.
    pub throttle: Option<u32>,
    /// Redeliver callbacks not acknowledged within this many ms (new messageId, same msgId);
    /// `0` stops.
    pub redeliver_after_ms: Option<u64>,
    /// Expire every sessionWebhook handed out so far.
    pub expire_webhooks: Option<bool>,
    /// Forget every access token (the next OpenAPI call gets 401).
    pub revoke_tokens: Option<bool>,
    /// Lose the ACKs of the next N bot-message deliveries, as if they were lost in transit;
    /// with `redeliverAfterMs` this makes DingTalk redeliver them.
    pub lose_acks: Option<u32>,
    /// Hold messages for a bot with no connection until one connects (default true).
    pub hold_when_offline: Option<bool>,
    /// Card APIs answer 403 `Forbidden.AccessDenied.AccessTokenPermissionDenied`, as for an
    /// app without `Card.Instance.Write` / `Card.Streaming.Write`.
    pub card_permission_denied: Option<bool>,
    /// Answer the next N card API calls with 403 `QpsLimitForAppkeyAndApi`.
    pub card_throttle: Option<u32>,
    /// Card API calls allowed per second per app; more are throttled (403). `0` stops.
    pub card_qps: Option<u32>,
    /// Accept streaming updates after `isFinalize` (default false: rejected, as DingTalk may).
    pub card_streaming_after_finalize: Option<bool>,
    /// Reset every switch first.
    pub clear: Option<bool>,
}

/// `POST /sim/bots/{id}/raw`: push arbitrary text on every connection of a bot (malformed
/// frames, unknown topics). A `messageId` in the text is tracked for its ACK.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawFrame {
    /// The frame's text, sent as is.
    pub text: String,
}

/// `POST /sim/bots/{id}/disconnect`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisconnectRequest {
    /// Wait this long before closing TCP (default: the simulator's grace, 10 s).
    pub grace_ms: Option<u64>,
    /// The `reason` in the frame (default `connection is expired`).
    pub reason: Option<String>,
}

/// `POST /sim/robots`: a custom group robot (webhook) in a group.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRobot {
    /// The group it posts into.
    pub conversation_id: String,
    /// Turn on signing with this `SEC...` secret; `"generate"` makes one up.
    pub secret: Option<String>,
    /// Messages must contain one of these.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Its name.
    pub name: Option<String>,
    /// The robot's access token; made up when not given.
    pub access_token: Option<String>,
}

/// A custom robot the simulator knows.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RobotInfo {
    /// Its webhook URL (with `access_token`).
    pub webhook: String,
    /// The token.
    pub access_token: String,
    /// Its `SEC...` secret, when it signs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Its group.
    pub conversation_id: String,
}

/// Counters over the simulator's life.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimStats {
    /// `connections/open` calls answered.
    pub opens: u64,
    /// `connections/open` calls refused.
    pub rejected_opens: u64,
    /// Sockets opened.
    pub connections: u64,
    /// Sockets open now.
    pub open_connections: usize,
    /// Frames pushed.
    pub pushes: u64,
    /// Callbacks pushed again for want of an acknowledgement.
    pub redeliveries: u64,
    /// Messages held while a bot had no socket.
    pub held: u64,
    /// Acknowledgements received.
    pub acks: u64,
    /// Acknowledgements on another socket than the frame's.
    pub acks_wrong_socket: u64,
    /// Acknowledgements not following docs/dingtalk-protocol.md 2.2.
    pub acks_nonconforming: u64,
    /// Frames whose acknowledgement never came.
    pub acks_lost: u64,
    /// Frames waiting for one now.
    pub unacked: usize,
    /// JSON pings sent.
    pub pings_sent: u64,
    /// Pings answered with another `opaque`.
    pub ping_echo_mismatches: u64,
    /// Replies through sessionWebhooks.
    pub webhook_replies: u64,
    /// Replies to an expired sessionWebhook.
    pub webhook_expired: u64,
    /// Robot OpenAPI sends.
    pub openapi_sends: u64,
    /// OpenAPI calls refused for QPS.
    pub openapi_throttled: u64,
    /// OpenAPI calls with a bad token.
    pub openapi_unauthorized: u64,
    /// Custom robot posts.
    pub robot_sends: u64,
    /// Custom robot posts refused.
    pub robot_rejected: u64,
    /// AI cards created.
    pub cards_created: u64,
    /// AI cards finished.
    pub cards_finished: u64,
    /// Card streaming updates.
    pub card_stream_updates: u64,
    /// Card instance updates.
    pub card_instance_updates: u64,
    /// Card calls refused.
    pub card_rejected: u64,
    /// Card calls refused for QPS.
    pub card_throttled: u64,
    /// The slowest acknowledgement, in µs.
    pub max_ack_latency_us: u64,
    /// Files downloaded.
    pub downloads: u64,
    /// Downloads refused.
    pub download_refused: u64,
    /// Files uploaded.
    pub uploads: u64,
    /// Reactions put or taken.
    pub reactions: u64,
}

/// Timings and limits of a simulator run.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// SYSTEM ping frames on every connection.
    pub ping_interval: Duration,
    /// Between a SYSTEM `disconnect` and closing TCP (about 10 s in DingTalk).
    pub disconnect_grace: Duration,
    /// A ticket is good for this long and one connection.
    pub ticket_ttl: Duration,
    /// Lifetime of a sessionWebhook (90 minutes).
    pub webhook_ttl: Duration,
    /// Lifetime of an access token (7200 s).
    pub token_ttl: Duration,
    /// The custom robot limit: this many messages ...
    pub robot_rate_max: usize,
    /// ... per this window (20 per minute).
    pub robot_rate_window: Duration,
    /// Entries kept per conversation.
    pub conversation_cap: usize,
}

impl Default for SimOptions {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(15),
            disconnect_grace: Duration::from_secs(10),
            ticket_ttl: Duration::from_secs(90),
            webhook_ttl: Duration::from_secs(90 * 60),
            token_ttl: Duration::from_secs(7200),
            robot_rate_max: 20,
            robot_rate_window: Duration::from_secs(60),
            conversation_cap: 10_000,
        }
    }
}

/// An AI card as a user would see it (`GET /sim/cards`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardInfo {
    /// Its id.
    pub out_track_id: String,
    /// Its template.
    pub template_id: String,
    /// The bot (clientId).
    pub bot: String,
    /// Its conversation.
    pub conversation_id: String,
    /// `group` or `direct`.
    pub space: String,
    /// The user message it is taken to answer (the oldest unanswered one to this bot here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// `cardParamMap` as it stands.
    pub params: std::collections::BTreeMap<String, String>,
    /// The text shown: the streamed content of the template's content variable, else the
    /// variable itself.
    pub text: String,
    /// `flowStatus`: "1" processing, "2" inputing, "3" finished, "5" failed.
    pub flow_status: String,
    /// A final streaming update was made.
    pub finalized: bool,
    /// Streaming updates.
    pub stream_updates: u32,
    /// Instance updates.
    pub instance_updates: u32,
    /// Shortest time between two streaming updates, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_update_gap_ms: Option<u64>,
    /// When it was created (ms since the epoch).
    pub created_ms: i64,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<i64>,
}
