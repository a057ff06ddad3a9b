//! The DingTalk wire protocol (docs/dingtalk-protocol.md), client side.
//!
//! - Inbound, Stream mode: `open` registers and opens the WebSocket; `connection` is one
//!   socket (ACK first, pings, zombie detection) over `ws_io`'s halves; `client` is one
//!   account (reconnect with backoff, hand-over on `disconnect`, `dedup` by msgId); `frame`
//!   and `bot_message` are the typed payloads.
//! - Outbound: `api` replies through the sessionWebhook and falls back to the robot OpenAPI
//!   (`token` caches the access token; `chunk` splits long replies; `message` builds bodies);
//!   `robot` posts to custom group robot webhooks with their signature (`sign`) and rate limit.
//! - AI cards: `card` creates, streams and finishes cards (with the account's rate window and
//!   degrade-to-markdown state); `card_reply` streams a model's answer into one.
//!
//! Every base URL comes from the account's `endpoint` or from the message itself, so the whole
//! module runs unchanged against DingTalk or against `dingclaw sim`.

pub mod api;
pub mod bot_message;
pub mod card;
pub mod card_reply;
pub mod chunk;
pub mod client;
mod connection;
pub mod dedup;
pub mod error;
pub mod files;
pub mod frame;
pub mod http;
pub mod lossy_json;
pub mod message;
pub mod open;
pub mod redact;
pub mod robot;
pub mod sign;
pub mod token;
mod ws_io;

pub use crate::rate::RateWindow;
pub use api::{DingTalkApi, ReplyOutcome, ReplyTarget};
pub use bot_message::{BotMessage, MediaKind, MediaRef, MessageContent, Quote};
pub use card::{Card, CardGate, FlowStatus};
pub use card_reply::reply_streaming;
pub use client::{
    BotMessageReceived, GetStreamState, Shutdown, StatusChanged, StreamClient, StreamState,
    StreamStatus,
};
pub use connection::PendingAck;
pub use error::DingTalkError;
pub use files::{DownloadError, MediaMessage};
pub use message::OutboundMessage;
pub use robot::{RobotLimiter, RobotWebhook, send_robot};
pub use token::AccessTokenCache;
