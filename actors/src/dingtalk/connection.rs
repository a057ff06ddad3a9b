//! One Stream WebSocket, as an actor: reads frames, acknowledges each one at once on this
//! socket, keeps the socket honest with pings, and reports upwards to its `StreamClient`.
//!
//! The ACK goes out before anything else happens to a frame (parsing the bot message,
//! dedup, routing), so a slow agent can never make DingTalk redeliver
//! (docs/dingtalk-protocol.md 2.6). The one exception is a bot message when the client
//! defers ACKs: it is acknowledged once the inbound journal holds it (a few ms later), so a
//! crash in between makes DingTalk redeliver instead of losing it.
//!
//! Frame sizes: frames up to `maxFrameBytes` are read; larger ones up to four times that are
//! still read far enough to be acknowledged and dropped with a log line (a frame that is
//! too big now will be too big when it comes back); beyond that the WebSocket codec gives up
//! on the socket, which is then reopened.

use std::sync::Arc;
use std::time::Instant;

use actix::io::SinkWrite;
use actix::prelude::*;
use actix_codec::Framed;
use actix_http::ws::Item;
use awc::BoxedSocket;
use awc::error::WsProtocolError;
use awc::ws::{Codec, Frame as WsFrame, Message as WsMessage};
use bytes::{Bytes, BytesMut};

use crate::config::StreamSettings;

use super::bot_message::BotMessage;
use super::client::{ConnEvent, FromConnection, StreamClient};
use super::frame::{Frame, FrameKind, TOPIC_BOT_MESSAGE, TOPIC_DISCONNECT, TOPIC_PING};
use super::ws_io::WsWriter;

/// Closes the connection on purpose (after a replacement is up, or at shutdown).
#[derive(Message)]
#[rtype(result = "()")]
pub struct CloseConnection;

/// Writes an ACK on the connection.
#[derive(Message)]
#[rtype(result = "()")]
struct SendAck(String);

/// The ACK of a bot message that waits for the journal. Sending it after the connection
/// closed does nothing: DingTalk will redeliver, and the duplicate filter knows the msgId.
#[derive(Clone, Debug)]
pub struct PendingAck {
    conn: Addr<StreamConnection>,
    ack: String,
}

impl PendingAck {
    /// Acknowledges the frame on the socket that carried it.
    pub fn send(&self) {
        self.conn.do_send(SendAck(self.ack.clone()));
    }
}

/// How much larger than `maxFrameBytes` a frame may be and still be read to be acknowledged.
pub const OVERSIZE_FACTOR: usize = 4;

/// One WebSocket to DingTalk.
pub struct StreamConnection {
    /// Sequence number within the account, for logs and for telling connections apart.
    id: u64,
    account: Arc<str>,
    parent: Addr<StreamClient>,
    sink: SinkWrite<WsMessage, WsWriter>,
    settings: StreamSettings,
    /// Last data frame of any kind; long silence means a zombie socket.
    last_frame: Instant,
    /// Last pong to our WebSocket ping; none for long means a dead socket.
    last_pong: Instant,
    /// When the heartbeat last ran, to notice that this thread was stalled.
    last_tick: Instant,
    /// A text message split over continuation frames, being reassembled.
    partial: Option<BytesMut>,
    /// Why the connection ended, reported to the parent when it stops.
    stop_reason: Option<String>,
    seen_frame: bool,
    /// Bot messages are acknowledged by the client through a `PendingAck`.
    defer_bot_acks: bool,
}

impl StreamConnection {
    /// Starts the actor on the current arbiter for an open socket.
    pub fn start(
        id: u64,
        account: Arc<str>,
        parent: Addr<StreamClient>,
        framed: Framed<BoxedSocket, Codec>,
        settings: StreamSettings,
        defer_bot_acks: bool,
    ) -> Addr<StreamConnection> {
        let (stream, sink) = super::ws_io::split(framed);
        StreamConnection::create(move |ctx| {
            StreamConnection::add_stream(stream, ctx);
            let now = Instant::now();
            StreamConnection {
                id,
                account,
                parent,
                sink: SinkWrite::new(sink, ctx),
                settings,
                last_frame: now,
                last_pong: now,
                last_tick: now,
                partial: None,
                stop_reason: None,
                seen_frame: false,
                defer_bot_acks,
            }
        })
    }

    fn stop_with(&mut self, reason: String, ctx: &mut Context<Self>) {
        if self.stop_reason.is_none() {
            self.stop_reason = Some(reason);
        }
        ctx.stop();
    }

    fn report(&self, event: ConnEvent) {
        self.parent.do_send(FromConnection {
            conn: self.id,
            event,
        });
    }

    /// Liveness: a missing pong or a long silence both mean the socket is gone even if TCP
    /// says otherwise (docs/dingtalk-protocol.md 2.4).
    fn heartbeat(&mut self, ctx: &mut Context<Self>) {
        let now = Instant::now();
        let since_tick = now.duration_since(self.last_tick);
        self.last_tick = now;
        if since_tick > self.settings.ping_interval * 2 {
            // This thread was stalled; frames that arrived meanwhile are still unread. Judge
            // the socket on the next tick, not on a stale clock.
            self.last_pong = now;
            self.last_frame = self.last_frame.max(now - self.settings.silence_timeout / 2);
            let _ = self.sink.write(WsMessage::Ping(Bytes::new()));
            return;
        }
        if now.duration_since(self.last_pong) > self.settings.pong_timeout {
            let reason = format!("no pong for {:?}", self.settings.pong_timeout);
            return self.stop_with(reason, ctx);
        }
        if now.duration_since(self.last_frame) > self.settings.silence_timeout {
            let reason = format!(
                "no frame for {:?} (zombie socket)",
                self.settings.silence_timeout
            );
            return self.stop_with(reason, ctx);
        }
        if self.sink.write(WsMessage::Ping(Bytes::new())).is_err() {
            self.stop_with("ping could not be written".to_owned(), ctx);
        }
    }

    fn on_text(&mut self, text: &[u8], ctx: &mut Context<Self>) {
        self.last_frame = Instant::now();
        if !self.seen_frame {
            self.seen_frame = true;
            self.report(ConnEvent::FirstFrame);
        }
        let too_big = text.len() > self.settings.max_frame_bytes;
        let text = String::from_utf8_lossy(text);
        let frame = match Frame::parse(&text) {
            // A user's message is read even over the limit (the codec still stops at four
            // times it), so that the user hears it was too long instead of nothing.
            Ok(f)
                if too_big
                    && !(f.kind == FrameKind::Callback && f.topic() == TOPIC_BOT_MESSAGE) =>
            {
                return self.oversized(Some(f.headers.message_id), text.len(), ctx);
            }
            Ok(f) if too_big => {
                tracing::warn!(
                    account = %self.account, conn = self.id, bytes = text.len(),
                    limit = self.settings.max_frame_bytes, message_id = %f.headers.message_id,
                    "a bot message larger than stream.maxFrameBytes"
                );
                crate::telemetry::oversized_frame(&self.account);
                f
            }
            Err(e) if too_big => return self.oversized(e.message_id, text.len(), ctx),
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(account = %self.account, conn = self.id, error = %e, "dropping a malformed frame");
                if let Some(id) = e.message_id.as_deref() {
                    // Acknowledge it anyway: a frame we cannot read will not read better when
                    // it comes back.
                    self.write_ack(&super::frame::Ack::ok(id, "{}".to_owned()).to_json(), ctx);
                }
                return;
            }
        };
        let ack = frame.ack().to_json();
        let deferred = self.defer_bot_acks
            && frame.kind == FrameKind::Callback
            && frame.topic() == TOPIC_BOT_MESSAGE;
        if !deferred {
            self.write_ack(&ack, ctx);
        }
        match (frame.kind, frame.topic()) {
            (FrameKind::System, TOPIC_PING) => {}
            (FrameKind::System, TOPIC_DISCONNECT) => {
                let reason = serde_json::from_str::<serde_json::Value>(&frame.data)
                    .ok()
                    .and_then(|v| v.get("reason")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                tracing::info!(account = %self.account, conn = self.id, %reason, "server asked to reconnect");
                self.report(ConnEvent::Disconnect { reason });
            }
            (FrameKind::Callback, TOPIC_BOT_MESSAGE) => match BotMessage::parse(&frame.data) {
                Ok(message) => {
                    let ack = deferred.then(|| PendingAck {
                        conn: ctx.address(),
                        ack,
                    });
                    self.report(ConnEvent::BotMessage {
                        delivery_id: frame.headers.message_id,
                        message: Box::new(message),
                        raw: frame.data,
                        received_at: self.last_frame,
                        ack,
                    })
                }
                Err(e) => {
                    if deferred {
                        self.write_ack(&ack, ctx);
                    }
                    tracing::warn!(
                        account = %self.account, conn = self.id, message_id = %frame.headers.message_id,
                        error = %e, "acknowledged a bot message that could not be read"
                    )
                }
            },
            (kind, topic) => tracing::info!(
                account = %self.account, conn = self.id, ?kind, %topic,
                message_id = %frame.headers.message_id, "acknowledged a frame with no handler"
            ),
        }
    }

    /// A frame over `maxFrameBytes` that is not a bot message: acknowledged when its
    /// messageId can be read, and dropped either way.
    fn oversized(&mut self, id: Option<String>, bytes: usize, ctx: &mut Context<Self>) {
        tracing::warn!(
            account = %self.account, conn = self.id, bytes,
            limit = self.settings.max_frame_bytes, message_id = id.as_deref().unwrap_or("unknown"),
            "dropped a frame larger than stream.maxFrameBytes"
        );
        crate::telemetry::oversized_frame(&self.account);
        if let Some(id) = id {
            let ack = super::frame::Ack::ok(&id, "{}".to_owned()).to_json();
            self.write_ack(&ack, ctx);
        }
    }

    /// A message split over continuation frames is held to the same hard limit as one frame.
    fn limit_partial(&mut self, ctx: &mut Context<Self>) {
        let hard = self
            .settings
            .max_frame_bytes
            .saturating_mul(OVERSIZE_FACTOR);
        if self.partial.as_ref().is_some_and(|p| p.len() > hard) {
            self.partial = None;
            self.stop_with(format!("a fragmented message exceeded {hard} bytes"), ctx);
        }
    }

    fn write_ack(&mut self, ack: &str, ctx: &mut Context<Self>) {
        if self
            .sink
            .write(WsMessage::Text(ack.to_owned().into()))
            .is_err()
        {
            self.stop_with("ACK could not be written".to_owned(), ctx);
        }
    }
}

impl Actor for StreamConnection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.settings.ping_interval, |act, ctx| act.heartbeat(ctx));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        let reason = self
            .stop_reason
            .take()
            .unwrap_or_else(|| "socket closed".to_owned());
        self.report(ConnEvent::Closed { reason });
    }
}

impl Handler<SendAck> for StreamConnection {
    type Result = ();

    fn handle(&mut self, msg: SendAck, ctx: &mut Self::Context) {
        self.write_ack(&msg.0, ctx);
    }
}

impl Handler<CloseConnection> for StreamConnection {
    type Result = ();

    fn handle(&mut self, _: CloseConnection, ctx: &mut Self::Context) {
        let _ = self.sink.write(WsMessage::Close(None));
        self.stop_with("closed by dingclaw".to_owned(), ctx);
    }
}

impl StreamHandler<Result<WsFrame, WsProtocolError>> for StreamConnection {
    fn handle(&mut self, item: Result<WsFrame, WsProtocolError>, ctx: &mut Self::Context) {
        match item {
            Ok(WsFrame::Text(bytes)) => self.on_text(&bytes, ctx),
            Ok(WsFrame::Ping(payload)) => {
                let _ = self.sink.write(WsMessage::Pong(payload));
            }
            Ok(WsFrame::Pong(_)) => self.last_pong = Instant::now(),
            Ok(WsFrame::Close(reason)) => {
                self.stop_with(format!("server closed the socket ({reason:?})"), ctx)
            }
            Ok(WsFrame::Binary(_)) => {
                tracing::debug!(account = %self.account, conn = self.id, "ignoring a binary frame")
            }
            Ok(WsFrame::Continuation(item)) => match item {
                Item::FirstText(b) => self.partial = Some(BytesMut::from(&b[..])),
                Item::FirstBinary(_) => self.partial = None,
                Item::Continue(b) => {
                    if let Some(p) = self.partial.as_mut() {
                        p.extend_from_slice(&b);
                    }
                    self.limit_partial(ctx);
                }
                Item::Last(b) => {
                    if let Some(mut p) = self.partial.take() {
                        p.extend_from_slice(&b);
                        self.on_text(&p, ctx);
                    }
                }
            },
            Err(e) => self.stop_with(format!("websocket error: {e}"), ctx),
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        self.stop_with("socket ended".to_owned(), ctx);
    }
}

impl actix::io::WriteHandler<WsProtocolError> for StreamConnection {}
