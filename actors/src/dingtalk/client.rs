//! The Stream-mode client of one DingTalk account, as an actor: keeps one connection up,
//! reconnects with backoff, hands over to a fresh connection when the server says
//! `disconnect`, and passes each new bot message on after duplicate suppression.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix::prelude::*;
use serde::Serialize;

use crate::backoff::Backoff;
use crate::config::DingTalkAccount;

use super::bot_message::BotMessage;
use super::connection::{CloseConnection, PendingAck, StreamConnection};
use super::dedup::Dedup;
use super::error::DingTalkError;
use super::http;
use super::open::{connect_socket, open_ticket};

/// A connection that stayed up this long was healthy: the next reconnect starts from the
/// shortest delay again.
const HEALTHY_CONNECTION: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// A new bot message for this account (duplicates already removed).
#[derive(Message, Clone, Debug)]
#[rtype(result = "()")]
pub struct BotMessageReceived {
    /// The account that received it.
    pub account: Arc<str>,
    /// `headers.messageId` of the delivery that carried it.
    pub delivery_id: String,
    /// The message, parsed.
    pub message: Arc<BotMessage>,
    /// The callback's `data` as it arrived, for the inbound journal.
    pub raw: Arc<str>,
    /// When the frame was read, for latency measurements.
    pub received_at: Instant,
    /// With deferred ACKs, the receiver sends it (once the message is safe).
    pub ack: Option<PendingAck>,
}

/// What a connection reports to its client.
#[derive(Message)]
#[rtype(result = "()")]
pub(crate) struct FromConnection {
    pub conn: u64,
    pub event: ConnEvent,
}

pub(crate) enum ConnEvent {
    /// The first frame arrived: the socket really works.
    FirstFrame,
    /// SYSTEM `disconnect`: the server will drop this socket in about 10 s.
    Disconnect { reason: String },
    BotMessage {
        delivery_id: String,
        message: Box<BotMessage>,
        raw: String,
        received_at: Instant,
        /// Set when ACKs are deferred: not sent yet.
        ack: Option<PendingAck>,
    },
    /// The connection actor stopped.
    Closed { reason: String },
}

/// Asks for the connection state (for status output and tests).
#[derive(Message)]
#[rtype(result = "StreamState")]
pub struct GetStreamState;

/// Closes every connection and stops the client.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// Sent to a client's observer (`StreamClient::reporting_to`) when its connection comes up,
/// is refused or is lost, so an embedder learns of it without polling `GetStreamState`.
/// `Connected` comes for every new socket, including one that takes over from the previous
/// socket after DingTalk's `disconnect`.
#[derive(Message, Clone, Debug)]
#[rtype(result = "()")]
pub struct StatusChanged {
    /// The account whose connection changed.
    pub account: Arc<str>,
    /// Where it stands now.
    pub status: StreamStatus,
    /// Why, when the connection was refused or lost (DingTalk's words, secrets redacted).
    pub error: Option<String>,
}

/// Where an account's Stream connection stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum StreamStatus {
    /// Asking for a ticket or opening the socket, with none up.
    Connecting,
    /// A socket is up.
    Connected,
    /// Waiting before the next attempt after a failure.
    BackingOff {
        /// How long until the next attempt.
        retry_in_ms: u64,
    },
    /// DingTalk refused the credentials; retried slowly.
    AuthFailed {
        /// How long until the next attempt.
        retry_in_ms: u64,
    },
    /// Shut down.
    Stopped,
}

/// A snapshot of one account's Stream client.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamState {
    /// The account's id in the config.
    pub account: String,
    /// Where its connection stands.
    pub status: StreamStatus,
    /// Connections open now (two during a hand-over).
    pub connections: usize,
    /// Connection attempts that failed or connections that were lost.
    pub reconnects: u64,
    /// New bot messages handed on.
    pub delivered: u64,
    /// Redeliveries dropped (same bot, same `msgId`).
    pub duplicates: u64,
    /// The most recent failure, kept after recovery so status output can show what happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the current connection came up, ms since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connected_since_ms: Option<u64>,
}

impl StreamState {
    /// Connected, or failing for a reason it can state (refused credentials, an endpoint out
    /// of reach): either way, waiting longer will not tell more.
    pub fn settled(&self) -> bool {
        match self.status {
            StreamStatus::Connected => true,
            StreamStatus::AuthFailed { .. } | StreamStatus::BackingOff { .. } => {
                self.last_error.is_some()
            }
            StreamStatus::Connecting | StreamStatus::Stopped => false,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The actor
// ---------------------------------------------------------------------------------------------

struct Live {
    id: u64,
    addr: Addr<StreamConnection>,
    opened: Instant,
    opened_wall_ms: u64,
    seen_frame: bool,
}

/// The Stream client of one account.
pub struct StreamClient {
    account: Arc<DingTalkAccount>,
    account_id: Arc<str>,
    deliver: Recipient<BotMessageReceived>,
    dedup: Dedup,
    /// A timer will tidy `dedup` (one at a time, armed while it holds ids).
    dedup_tidy_armed: bool,
    backoff: Backoff,
    next_conn: u64,
    active: Option<Live>,
    /// Connections replaced after a `disconnect`, closing.
    retiring: Vec<Live>,
    /// A connect attempt is in flight.
    connecting: bool,
    /// The active connection asked to be replaced; connect even though one is up.
    replace_active: bool,
    status: StreamStatus,
    reconnects: u64,
    delivered: u64,
    duplicates: u64,
    last_error: Option<String>,
    stopping: bool,
    /// Bot messages are acknowledged by the receiver (`BotMessageReceived::ack`).
    defer_acks: bool,
    /// Told of every change of `status` that matters (connected, refused, lost).
    observer: Option<Recipient<StatusChanged>>,
}

impl StreamClient {
    /// A client for `account` that hands each new bot message to `deliver`; it connects when
    /// started.
    pub fn new(account: Arc<DingTalkAccount>, deliver: Recipient<BotMessageReceived>) -> Self {
        let s = account.stream;
        Self {
            account_id: Arc::from(account.id.as_str()),
            dedup: Dedup::new(s.dedup_ttl, s.dedup_capacity),
            dedup_tidy_armed: false,
            backoff: Backoff::new(s.reconnect_initial, s.reconnect_max),
            account,
            deliver,
            next_conn: 1,
            active: None,
            retiring: Vec::new(),
            connecting: false,
            replace_active: false,
            status: StreamStatus::Connecting,
            reconnects: 0,
            delivered: 0,
            duplicates: 0,
            last_error: None,
            stopping: false,
            defer_acks: false,
            observer: None,
        }
    }

    /// Tells `observer` whenever the connection comes up, is refused or is lost.
    pub fn reporting_to(mut self, observer: Recipient<StatusChanged>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Sets the status and tells the observer.
    fn report(&mut self, status: StreamStatus, error: Option<String>) {
        self.status = status.clone();
        if let Some(o) = &self.observer {
            o.do_send(StatusChanged {
                account: Arc::clone(&self.account_id),
                status,
                error,
            });
        }
    }

    /// Leaves the ACK of each new bot message to the receiver, who sends it once the message
    /// is stored (the inbound journal). Duplicates are still acknowledged here.
    pub fn deferring_acks(mut self) -> Self {
        self.defer_acks = true;
        self
    }

    /// Remembers msgIds seen before this client started (by an earlier process, from the
    /// journal), each with how long ago it arrived, so their redeliveries are dropped.
    pub fn remembering(mut self, seen: impl IntoIterator<Item = (String, Duration)>) -> Self {
        let now = Instant::now();
        for (id, age) in seen {
            let at = now.checked_sub(age).unwrap_or(now);
            self.dedup.remember(&id, at);
        }
        self
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        if self.stopping || self.connecting || (self.active.is_some() && !self.replace_active) {
            return;
        }
        // A client per attempt, dropped with it: the gateway-open request's keep-alive
        // socket, the pools and the headers would otherwise stay with every idle bot for
        // nothing until its next reconnect (about 3 KiB and a socket per bot).
        let s = self.account.stream;
        let http = http::client(s.connect_timeout, s.request_timeout);
        self.connecting = true;
        if self.active.is_none() {
            self.status = StreamStatus::Connecting;
        }
        let account = self.account.clone();
        let max_frame = account.stream.max_frame_bytes;
        let attempt = async move {
            let ticket = open_ticket(&http, &account).await?;
            connect_socket(&http, &ticket, max_frame).await
        };
        ctx.spawn(attempt.into_actor(self).map(|result, act, ctx| {
            act.connecting = false;
            match result {
                Ok(framed) if !act.stopping => act.attach(framed, ctx),
                Ok(_) => {}
                Err(e) => act.attempt_failed(e, ctx),
            }
        }));
    }

    fn attach(
        &mut self,
        framed: actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>,
        ctx: &mut Context<Self>,
    ) {
        let id = self.next_conn;
        self.next_conn += 1;
        let addr = StreamConnection::start(
            id,
            self.account_id.clone(),
            ctx.address(),
            framed,
            self.account.stream,
            self.defer_acks,
        );
        // Hand-over: the new socket is up, so the old one can go without a gap.
        if let Some(old) = self.active.take() {
            old.addr.do_send(CloseConnection);
            tracing::info!(account = %self.account_id, old = old.id, new = id, "handed over to a new connection");
            self.retiring.push(old);
        } else {
            tracing::info!(account = %self.account_id, conn = id, "connected to DingTalk");
        }
        // Every new socket is reported, a hand-over's too: observers count connections.
        self.report(StreamStatus::Connected, None);
        self.replace_active = false;
        self.active = Some(Live {
            id,
            addr,
            opened: Instant::now(),
            opened_wall_ms: now_ms(),
            seen_frame: false,
        });
        self.status = StreamStatus::Connected;
    }

    fn attempt_failed(&mut self, e: DingTalkError, ctx: &mut Context<Self>) {
        self.reconnects += 1;
        crate::telemetry::reconnect(&self.account_id);
        self.last_error = Some(e.to_string());
        if self.active.is_some() {
            // A hand-over attempt failed; the old connection still works until the server
            // drops it, and its loss will trigger the normal reconnect.
            tracing::warn!(account = %self.account_id, error = %e, "could not open a replacement connection");
            self.replace_active = false;
            return;
        }
        let delay = match e {
            DingTalkError::AuthRejected { .. } => {
                let d = self.account.stream.auth_retry;
                tracing::error!(account = %self.account_id, error = %e, retry_in = ?d, "DingTalk refused the account's credentials");
                self.report(
                    StreamStatus::AuthFailed {
                        retry_in_ms: d.as_millis() as u64,
                    },
                    Some(e.to_string()),
                );
                d
            }
            _ => {
                let d = self.backoff.next_delay();
                tracing::warn!(account = %self.account_id, error = %e, retry_in = ?d, "could not connect to DingTalk");
                self.status = StreamStatus::BackingOff {
                    retry_in_ms: d.as_millis() as u64,
                };
                d
            }
        };
        ctx.run_later(delay, |act, ctx| act.connect(ctx));
    }

    fn connection_closed(&mut self, conn: u64, reason: String, ctx: &mut Context<Self>) {
        if let Some(i) = self.retiring.iter().position(|l| l.id == conn) {
            self.retiring.remove(i);
            return;
        }
        let Some(live) = self.active.take_if(|l| l.id == conn) else {
            return;
        };
        if self.stopping {
            return;
        }
        self.reconnects += 1;
        crate::telemetry::reconnect(&self.account_id);
        self.last_error = Some(reason.clone());
        if live.seen_frame || live.opened.elapsed() >= HEALTHY_CONNECTION {
            self.backoff.reset();
        }
        let delay = self.backoff.next_delay();
        tracing::warn!(account = %self.account_id, conn, %reason, retry_in = ?delay, "connection lost");
        self.report(
            StreamStatus::BackingOff {
                retry_in_ms: delay.as_millis() as u64,
            },
            Some(reason),
        );
        self.replace_active = false;
        ctx.run_later(delay, |act, ctx| act.connect(ctx));
    }

    fn bot_message(
        &mut self,
        delivery_id: String,
        message: Box<BotMessage>,
        raw: String,
        received_at: Instant,
        ack: Option<PendingAck>,
        ctx: &mut Context<Self>,
    ) {
        let first = self.dedup.first_time(&message.msg_id, received_at);
        if !self.dedup_tidy_armed {
            self.tidy_dedup(ctx);
        }
        if !first {
            if let Some(ack) = ack {
                ack.send();
            }
            self.duplicates += 1;
            tracing::debug!(account = %self.account_id, msg_id = %message.msg_id, %delivery_id, "dropped a duplicate delivery");
            return;
        }
        self.delivered += 1;
        self.deliver.do_send(BotMessageReceived {
            account: self.account_id.clone(),
            delivery_id,
            message: Arc::from(message),
            raw: Arc::from(raw),
            received_at,
            ack,
        });
    }
}

impl StreamClient {
    /// Forgets msgIds whose window has passed, then sleeps until the next one's ends: the
    /// ids of a burst leave memory on time even if no message follows them.
    fn tidy_dedup(&mut self, ctx: &mut Context<Self>) {
        self.dedup_tidy_armed = false;
        if let Some(next) = self.dedup.tidy(Instant::now()) {
            self.dedup_tidy_armed = true;
            // A second's slack gathers the ids of one second into one wake-up.
            ctx.run_later(next + Duration::from_secs(1), |act, ctx| {
                act.tidy_dedup(ctx)
            });
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Actor for StreamClient {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // The ids an earlier process journaled (`remembering`) expire on time too.
        self.tidy_dedup(ctx);
        self.connect(ctx);
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        for live in self
            .active
            .take()
            .into_iter()
            .chain(self.retiring.drain(..))
        {
            live.addr.do_send(CloseConnection);
        }
    }
}

impl Handler<FromConnection> for StreamClient {
    type Result = ();

    fn handle(&mut self, msg: FromConnection, ctx: &mut Self::Context) {
        match msg.event {
            ConnEvent::FirstFrame => {
                if let Some(live) = self.active.as_mut().filter(|l| l.id == msg.conn) {
                    live.seen_frame = true;
                    self.backoff.reset();
                }
            }
            ConnEvent::Disconnect { reason } => {
                if self.active.as_ref().is_some_and(|l| l.id == msg.conn) && !self.stopping {
                    tracing::debug!(account = %self.account_id, conn = msg.conn, %reason, "replacing the connection DingTalk is retiring");
                    self.replace_active = true;
                    self.connect(ctx);
                }
            }
            ConnEvent::BotMessage {
                delivery_id,
                message,
                raw,
                received_at,
                ack,
            } => self.bot_message(delivery_id, message, raw, received_at, ack, ctx),
            ConnEvent::Closed { reason } => self.connection_closed(msg.conn, reason, ctx),
        }
    }
}

impl Handler<GetStreamState> for StreamClient {
    type Result = MessageResult<GetStreamState>;

    fn handle(&mut self, _: GetStreamState, _: &mut Self::Context) -> Self::Result {
        MessageResult(StreamState {
            account: self.account.id.clone(),
            status: self.status.clone(),
            connections: self.active.iter().count() + self.retiring.len(),
            reconnects: self.reconnects,
            delivered: self.delivered,
            duplicates: self.duplicates,
            last_error: self.last_error.clone(),
            connected_since_ms: self.active.as_ref().map(|l| l.opened_wall_ms),
        })
    }
}

impl Handler<Shutdown> for StreamClient {
    type Result = ();

    fn handle(&mut self, _: Shutdown, ctx: &mut Self::Context) {
        self.stopping = true;
        self.status = StreamStatus::Stopped;
        ctx.stop();
    }
}
