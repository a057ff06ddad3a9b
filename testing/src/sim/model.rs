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
    pub client_id: String,
    #[serde(skip_serializing)]
    pub client_secret: String,
    pub name: String,
    /// The app's id in frame headers.
    pub app_id: String,
    /// The bot's encrypted user id, as it appears in `atUsers`.
    pub chatbot_user_id: String,
    pub corp_id: String,
    /// Stream connections open now.
    pub connections: usize,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    /// Staff id (`senderStaffId`); external users have none in their messages.
    pub user_id: String,
    pub sender_id: String,
    pub name: String,
    pub external: bool,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInfo {
    pub conversation_id: String,
    pub title: String,
    pub members: Vec<String>,
    pub bots: Vec<String>,
}

/// `POST /sim/bots`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewBot {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub name: Option<String>,
}

/// `POST /sim/users`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUser {
    pub user_id: Option<String>,
    pub name: Option<String>,
    /// An external contact: messages carry no `senderStaffId`.
    #[serde(default)]
    pub external: bool,
}

/// `POST /sim/groups`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGroup {
    pub conversation_id: Option<String>,
    pub title: Option<String>,
    #[serde(default)]
    pub members: Vec<String>,
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
    pub name: Option<String>,
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
    pub name: String,
    pub mime: String,
    pub size: u64,
    /// Hex SHA-256 of the bytes (of the zeros, for a synthetic file).
    pub sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub download_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
}

/// A reaction a bot put on (or took off) a user message.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reaction {
    pub bot: String,
    pub msg_id: String,
    pub conversation_id: String,
    pub emotion_name: String,
    /// `reply` (added) or `recall` (taken off).
    pub action: String,
    pub at_ms: i64,
}

/// One push of a user message to one bot.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub bot: String,
    pub conversation_id: String,
    /// Delivery id of the first push; `None` when the bot had no connection (held).
    pub message_id: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Injected {
    pub msg_id: String,
    pub conversation_id: String,
    pub deliveries: Vec<Delivery>,
}

/// One line of a conversation: a user message or something a bot sent.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    /// Global order of events in the simulator.
    pub seq: u64,
    pub conversation_id: String,
    /// `user`, `sessionWebhook`, `groupMessages`, `oToMessages`, `robotWebhook`, `card` (an AI
    /// card, recorded with its final text when it is finished).
    pub via: String,
    /// The user (staff id) for user messages, the bot (clientId) otherwise.
    pub from: String,
    pub msgtype: String,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
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
    pub bot: String,
    pub message_id: String,
    /// `ping`, `callback`, `event`, `disconnect`.
    pub kind: String,
    pub raw: String,
    /// Follows docs/dingtalk-protocol.md 2.2 exactly.
    pub conforms: bool,
    /// Arrived on the socket that carried the frame.
    pub same_socket: bool,
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
    pub text: String,
}

/// `POST /sim/bots/{id}/disconnect`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DisconnectRequest {
    /// Wait this long before closing TCP (default: the simulator's grace, 10 s).
    pub grace_ms: Option<u64>,
    pub reason: Option<String>,
}

/// `POST /sim/robots`: a custom group robot (webhook) in a group.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewRobot {
    pub conversation_id: String,
    /// Turn on signing with this `SEC...` secret; `"generate"` makes one up.
    pub secret: Option<String>,
    /// Messages must contain one of these.
    #[serde(default)]
    pub keywords: Vec<String>,
    pub name: Option<String>,
    /// The robot's access token; made up when not given.
    pub access_token: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RobotInfo {
    pub webhook: String,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub conversation_id: String,
}

/// Counters over the simulator's life.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimStats {
    pub opens: u64,
    pub rejected_opens: u64,
    pub connections: u64,
    pub open_connections: usize,
    pub pushes: u64,
    pub redeliveries: u64,
    pub held: u64,
    pub acks: u64,
    pub acks_wrong_socket: u64,
    pub acks_nonconforming: u64,
    pub acks_lost: u64,
    pub unacked: usize,
    pub pings_sent: u64,
    pub ping_echo_mismatches: u64,
    pub webhook_replies: u64,
    pub webhook_expired: u64,
    pub openapi_sends: u64,
    pub openapi_throttled: u64,
    pub openapi_unauthorized: u64,
    pub robot_sends: u64,
    pub robot_rejected: u64,
    pub cards_created: u64,
    pub cards_finished: u64,
    pub card_stream_updates: u64,
    pub card_instance_updates: u64,
    pub card_rejected: u64,
    pub card_throttled: u64,
    pub max_ack_latency_us: u64,
    pub downloads: u64,
    pub download_refused: u64,
    pub uploads: u64,
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
    pub out_track_id: String,
    pub template_id: String,
    pub bot: String,
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
    pub finalized: bool,
    pub stream_updates: u32,
    pub instance_updates: u32,
    /// Shortest time between two streaming updates, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_update_gap_ms: Option<u64>,
    pub created_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_ms: Option<i64>,
}
