//! Stream mode, server side (docs/dingtalk-protocol.md 1-2, 9.1-9.2): connections/open
//! with one-time tickets, the WebSocket with SYSTEM pings, random dispatch among a bot's
//! connections, ACK checking, `disconnect`, redelivery of unacknowledged callbacks, and the
//! zombie and drop switches.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use actix_ws::Message;
use rand::Rng;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Notify;

use dingclaw_actors::dingtalk::api::now_ms;

use super::model::*;

/// Unanswered user messages remembered per conversation and bot.
const UNANSWERED_KEPT: usize = 1000;
use super::state::{Conn, Inner, Pending, PendingKind, Sim, SimError, WebhookSession};

/// Redeliveries of one callback before the simulator gives up on it.
const MAX_REDELIVERIES: u32 = 3;

/// How often unacknowledged callbacks are checked.
const SWEEP_INTERVAL: Duration = Duration::from_millis(100);

/// A frame to send on one connection, outside the lock.
pub(super) struct Push {
    pub(super) session: actix_ws::Session,
    pub(super) text: String,
}

pub(super) async fn send_all(pushes: Vec<Push>) {
    for mut p in pushes {
        let _ = p.session.text(p.text).await;
    }
}

/// Stands for the lone surrogate escape of `UserMessage::lone_surrogate` until the payload
/// is written.
const LONE_SURROGATE_MARK: char = '\u{E000}';

fn frame(
    kind: &str,
    topic: &str,
    message_id: &str,
    bot: &BotInfo,
    connection_id: &str,
    data: &str,
) -> String {
    json!({
        "specVersion": "1.0",
        "type": kind,
        "headers": {
            "appId": bot.app_id,
            "connectionId": connection_id,
            "contentType": "application/json",
            "messageId": message_id,
            "time": now_ms().to_string(),
            "topic": topic,
        },
        "data": data,
    })
    .to_string()
}

impl Sim {
    // -- connections/open and tickets --------------------------------------------------------

    /// Registers a connection: a ticket for valid credentials, else the error answer.
    pub(super) fn open(&self, body: &Value) -> Result<String, (u16, Value)> {
        let mut inner = self.lock();
        inner.stats.opens += 1;
        if let Some((status, remaining)) = inner.chaos.reject_open {
            match remaining {
                Some(0) => inner.chaos.reject_open = None,
                _ => {
                    if let Some(n) = remaining {
                        inner.chaos.reject_open = Some((status, Some(n - 1)));
                    }
                    inner.stats.rejected_opens += 1;
                    let code = if status >= 500 {
                        "ServiceUnavailable"
                    } else {
                        "Forbidden.AccessDenied"
                    };
                    return Err((
                        status,
                        json!({"code": code, "message": "rejected by the simulator's chaos switch", "requestId": random_hex(16)}),
                    ));
                }
            }
        }
        let field = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or("");
        let (client_id, secret) = (field("clientId"), field("clientSecret"));
        let bad = |message: &str| {
            (
                400,
                json!({"code": "invalidParameter", "message": message, "requestId": random_hex(16)}),
            )
        };
        if client_id.is_empty() || secret.is_empty() {
            inner.stats.rejected_opens += 1;
            return Err(bad("clientId and clientSecret are required"));
        }
        if !body.get("subscriptions").is_some_and(Value::is_array) {
            inner.stats.rejected_opens += 1;
            return Err(bad("subscriptions must be an array"));
        }
        match inner.bots.get(client_id) {
            Some(b) if b.client_secret == secret => {}
            _ => {
                inner.stats.rejected_opens += 1;
                return Err((
                    401,
                    json!({"code": "InvalidAuthentication", "message": "clientId or clientSecret is invalid", "requestId": random_hex(16)}),
                ));
            }
        }
        let ticket = uuid::Uuid::new_v4().to_string();
        inner
            .tickets
            .insert(ticket.clone(), (client_id.to_owned(), Instant::now()));
        Ok(ticket)
    }

    /// Uses up a ticket: the bot it was issued to, or why it is refused.
    fn redeem(&self, ticket: &str) -> Result<String, &'static str> {
        let mut inner = self.lock();
        match inner.tickets.remove(ticket) {
            None => Err("unknown or already used ticket"),
            Some((_, at)) if at.elapsed() > self.opts.ticket_ttl => Err("expired ticket"),
            Some((bot, _)) => Ok(bot),
        }
    }

    fn register(
        &self,
        bot: &str,
        session: actix_ws::Session,
        kill: Arc<Notify>,
    ) -> (u64, Vec<Push>) {
        let mut inner = self.lock();
        let id = inner.next_conn;
        inner.next_conn += 1;
        inner.stats.connections += 1;
        inner.conns.insert(
            id,
            Conn {
                bot: bot.to_owned(),
                connection_id: uuid::Uuid::new_v4().to_string(),
                session,
                disconnecting: false,
                stalled: false,
                kill,
            },
        );
        // Messages held while the bot had no connection go out now.
        let held: Vec<(String, String)> =
            inner.backlog.remove(bot).map(Vec::from).unwrap_or_default();
        let pushes = held
            .into_iter()
            .filter_map(|(msg_id, data)| self.push_callback(&mut inner, bot, msg_id, data, 0).1)
            .collect();
        (id, pushes)
    }

    fn unregister(&self, conn: u64) {
        let mut inner = self.lock();
        inner.conns.remove(&conn);
    }

    // -- pushing -----------------------------------------------------------------------------

    /// Pushes a bot message to one of the bot's connections, chosen at random as DingTalk
    /// does (docs/dingtalk-protocol.md 1.2). A stalled connection swallows it. Returns
    /// the delivery id (none when held for an offline bot) and the frame to send.
    pub(super) fn push_callback(
        &self,
        inner: &mut Inner,
        bot: &str,
        msg_id: String,
        data: String,
        attempts: u32,
    ) -> (Option<String>, Option<Push>) {
        self.push_frame(inner, bot, msg_id, data, attempts, true)
    }

    /// `push_callback`; `track` records the first push of the msgId for reply latency (a load
    /// run keeps its own timings instead).
    pub(super) fn push_frame(
        &self,
        inner: &mut Inner,
        bot: &str,
        msg_id: String,
        data: String,
        attempts: u32,
        track: bool,
    ) -> (Option<String>, Option<Push>) {
        let live: Vec<u64> = inner
            .conns
            .iter()
            .filter(|(_, c)| c.bot == bot && !c.disconnecting)
            .map(|(id, _)| *id)
            .collect();
        if live.is_empty() {
            if inner.chaos.hold_when_offline {
                inner.stats.held += 1;
                inner
                    .backlog
                    .entry(bot.to_owned())
                    .or_default()
                    .push_back((msg_id, data));
            }
            return (None, None);
        }
        let conn_id = live[rand::rng().random_range(0..live.len())];
        let message_id = delivery_id();
        let (Some(bot_info), Some(conn)) =
            (inner.bots.get(bot).cloned(), inner.conns.get(&conn_id))
        else {
            return (None, None);
        };
        let text = frame(
            "CALLBACK",
            dingclaw_actors::dingtalk::frame::TOPIC_BOT_MESSAGE,
            &message_id,
            &bot_info,
            &conn.connection_id,
            &data,
        );
        let push = (!conn.stalled).then(|| Push {
            session: conn.session.clone(),
            text,
        });
        if track {
            inner
                .first_push
                .entry((msg_id.clone(), bot.to_owned()))
                .or_insert_with(Instant::now);
        }
        inner.pending.insert(
            message_id.clone(),
            Pending {
                bot: bot.to_owned(),
                conn: conn_id,
                kind: PendingKind::Callback {
                    msg_id,
                    data,
                    attempts,
                },
                pushed_at: Instant::now(),
            },
        );
        inner.stats.pushes += 1;
        (Some(message_id), push)
    }

    /// A user message: logged in its conversation and pushed to every bot it reaches.
    pub async fn say(&self, msg: &UserMessage) -> Result<Injected, SimError> {
        let (injected, pushes) = self.inject(msg)?;
        send_all(pushes).await;
        Ok(injected)
    }

    /// Sends `disconnect` on every connection of a bot; returns how many.
    pub async fn send_disconnect(self: &Arc<Self>, bot: &str, req: &DisconnectRequest) -> usize {
        let pushes = self.disconnect(bot, req);
        let n = pushes.len();
        send_all(pushes).await;
        n
    }

    fn inject(&self, msg: &UserMessage) -> Result<(Injected, Vec<Push>), SimError> {
        let mut inner = self.lock();
        let user = Sim::user_or_create(&mut inner, &msg.from);
        // A bot may be named by its clientId or its name (the gateway's account id, when
        // registered from a config), as a person would name it.
        let resolve = |inner: &super::state::Inner, id: &str| -> Result<String, SimError> {
            if inner.bots.contains_key(id) {
                return Ok(id.to_owned());
            }
            if let Some(b) = inner.bots.values().find(|b| b.name == id) {
                return Ok(b.client_id.clone());
            }
            let known: Vec<String> = inner
                .bots
                .values()
                .map(|b| format!("{} ({})", b.client_id, b.name))
                .collect();
            Err(SimError::NotFound(format!(
                "no bot \"{id}\" (bots: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )))
        };
        let mentions = match &msg.mentions {
            Some(list) => Some(
                list.iter()
                    .map(|m| resolve(&inner, m))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        let (cid, title, targets, group) = match (&msg.bot, &msg.group) {
            (Some(bot), None) => {
                let bot = &resolve(&inner, bot)?;
                let key = (bot.clone(), user.user_id.clone());
                let cid = inner.dms.entry(key).or_insert_with(conversation_id).clone();
                (cid, None, vec![bot.clone()], false)
            }
            (None, Some(gid)) => {
                let group = inner
                    .groups
                    .get_mut(gid)
                    .ok_or_else(|| SimError::NotFound(format!("no group \"{gid}\"")))?;
                if !group.members.contains(&user.user_id) {
                    group.members.push(user.user_id.clone());
                }
                let targets = mentions.clone().unwrap_or_else(|| group.bots.clone());
                if let Some(b) = targets.iter().find(|b| !group.bots.contains(b)) {
                    return Err(SimError::Invalid(format!(
                        "bot \"{b}\" is not in group \"{gid}\""
                    )));
                }
                if targets.is_empty() {
                    return Err(SimError::Invalid(
                        "a group message must @-mention a bot".to_owned(),
                    ));
                }
                (gid.clone(), Some(group.title.clone()), targets, true)
            }
            _ => {
                return Err(SimError::Invalid(
                    "give exactly one of \"bot\" (a DM) or \"group\"".to_owned(),
                ));
            }
        };
        let msg_id = super::model::msg_id();
        let msgtype = msg.msgtype.clone().unwrap_or_else(|| "text".to_owned());
        let now = now_ms();
        // A message with a file: the file is downloadable by a new downloadCode.
        let media = if matches!(
            msgtype.as_str(),
            "picture" | "file" | "audio" | "video" | "richText"
        ) {
            let file = super::media::user_file(&msgtype, &msg.text, msg.attachment.as_ref())
                .map_err(SimError::Invalid)?;
            let code = random_b64(18);
            let media = file.media(Some(code.clone()), None);
            inner.files.insert(code, file);
            Some(media)
        } else {
            None
        };
        let quoted = match &msg.quote {
            Some(q) => Some(
                inner
                    .conversations
                    .get(&cid)
                    .and_then(|c| {
                        c.iter()
                            .find(|e| e.via == "user" && e.msg_id.as_deref() == Some(q))
                    })
                    .cloned()
                    .ok_or_else(|| {
                        SimError::NotFound(format!(
                            "no message \"{q}\" in this conversation to quote"
                        ))
                    })?,
            ),
            None => None,
        };
        let quoted_sender = quoted
            .as_ref()
            .and_then(|e| inner.users.get(&e.from).map(|u| u.info.sender_id.clone()))
            .unwrap_or_default();
        let replied = quoted.map(|e| replied_msg(&e, &quoted_sender));
        self.record(
            &mut inner,
            Entry {
                seq: 0,
                conversation_id: cid.clone(),
                via: "user".to_owned(),
                from: user.user_id.clone(),
                msgtype: msgtype.clone(),
                text: msg.text.clone(),
                title: None,
                at_user_ids: Vec::new(),
                msg_id: Some(msg_id.clone()),
                at_ms: now,
                latency_us: None,
                media: media.clone(),
            },
        );
        let mut deliveries = Vec::new();
        let mut pushes = Vec::new();
        for bot_id in targets {
            let Some(bot) = inner.bots.get(&bot_id).cloned() else {
                continue;
            };
            let session = random_b64(24).replace(['+', '/', '='], "x");
            let expires = now + self.opts.webhook_ttl.as_millis() as i64;
            inner.sessions.insert(
                session.clone(),
                WebhookSession {
                    bot: bot_id.clone(),
                    conversation_id: cid.clone(),
                    msg_id: msg_id.clone(),
                    expires_ms: expires,
                    expired: false,
                    load: None,
                },
            );
            // A private-use character marks where the escape goes: serde_json cannot write a
            // lone surrogate, DingTalk can.
            let text = if msg.lone_surrogate {
                format!("{}{LONE_SURROGATE_MARK}", msg.text)
            } else {
                msg.text.clone()
            };
            let mut data = payload(
                &Payload {
                    bot: &bot,
                    user: &user,
                    cid: &cid,
                    title: title.as_deref(),
                    group,
                    msg_id: &msg_id,
                    msgtype: &msgtype,
                    text: &text,
                    session_webhook: &format!(
                        "{}/robot/sendBySession?session={session}",
                        self.base_url()
                    ),
                    create_at: now,
                    expires,
                    mentioned: mentions.as_deref().unwrap_or(std::slice::from_ref(&bot_id)),
                    media: media.as_ref(),
                    replied: replied.as_ref(),
                },
                &inner.bots,
            );
            if msg.lone_surrogate {
                data = data.replace(LONE_SURROGATE_MARK, "\\ud800");
            }
            inner
                .unanswered
                .entry((cid.clone(), bot_id.clone()))
                .or_default()
                .push_back(msg_id.clone());
            if let Some(q) = inner.unanswered.get_mut(&(cid.clone(), bot_id.clone()))
                && q.len() > UNANSWERED_KEPT
            {
                q.pop_front();
            }
            let (message_id, push) =
                self.push_callback(&mut inner, &bot_id, msg_id.clone(), data, 0);
            deliveries.push(Delivery {
                bot: bot_id.clone(),
                conversation_id: cid.clone(),
                message_id,
            });
            pushes.extend(push);
        }
        Ok((
            Injected {
                msg_id,
                conversation_id: cid,
                deliveries,
            },
            pushes,
        ))
    }

    /// Sends a SYSTEM `disconnect` on every connection of a bot, then closes TCP after the
    /// grace period; nothing more is delivered on those connections.
    fn disconnect(self: &Arc<Self>, bot: &str, req: &DisconnectRequest) -> Vec<Push> {
        let grace = req
            .grace_ms
            .map(Duration::from_millis)
            .unwrap_or(self.opts.disconnect_grace);
        let reason = req
            .reason
            .clone()
            .unwrap_or_else(|| "connection is expired".to_owned());
        let mut inner = self.lock();
        let Some(bot_info) = inner.bots.get(bot).cloned() else {
            return Vec::new();
        };
        let mut pushes = Vec::new();
        let ids: Vec<u64> = inner
            .conns
            .iter()
            .filter(|(_, c)| c.bot == bot && !c.disconnecting)
            .map(|(i, _)| *i)
            .collect();
        for id in ids {
            let message_id = delivery_id();
            let Some(conn) = inner.conns.get_mut(&id) else {
                continue;
            };
            conn.disconnecting = true;
            let text = frame(
                "SYSTEM",
                "disconnect",
                &message_id,
                &bot_info,
                &conn.connection_id,
                &json!({"reason": reason}).to_string(),
            );
            pushes.push(Push {
                session: conn.session.clone(),
                text,
            });
            inner.pending.insert(
                message_id,
                Pending {
                    bot: bot.to_owned(),
                    conn: id,
                    kind: PendingKind::Disconnect,
                    pushed_at: Instant::now(),
                },
            );
            // Callbacks still waiting for an ACK there would be redelivered elsewhere by the
            // sweep when redelivery is on; closing is the server's business after the grace.
            let sim = Arc::clone(self);
            actix_rt::spawn(async move {
                actix_rt::time::sleep(grace).await;
                let session = sim.lock().conns.get(&id).map(|c| c.session.clone());
                if let Some(s) = session {
                    let _ = s.close(None).await;
                }
            });
        }
        pushes
    }

    /// Pushes raw text on every connection of a bot; returns how many.
    pub async fn push_raw(&self, bot: &str, text: &str) -> usize {
        let pushes: Vec<Push> = {
            let mut inner = self.lock();
            let id = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.pointer("/headers/messageId")?.as_str().map(str::to_owned));
            let conns: Vec<(u64, actix_ws::Session)> = inner
                .conns
                .iter()
                .filter(|(_, c)| c.bot == bot && !c.stalled)
                .map(|(i, c)| (*i, c.session.clone()))
                .collect();
            if let (Some(id), Some((conn, _))) = (id, conns.first()) {
                let conn = *conn;
                inner.pending.insert(
                    id,
                    Pending {
                        bot: bot.to_owned(),
                        conn,
                        kind: PendingKind::Raw,
                        pushed_at: Instant::now(),
                    },
                );
            }
            conns
                .into_iter()
                .map(|(_, session)| Push {
                    session,
                    text: text.to_owned(),
                })
                .collect()
        };
        let n = pushes.len();
        send_all(pushes).await;
        n
    }

    // -- ACKs and pings ----------------------------------------------------------------------

    fn on_text(&self, conn: u64, text: &str) {
        let ack: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let id = ack
            .pointer("/headers/messageId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut inner = self.lock();
        if inner.chaos.lose_acks > 0
            && inner
                .pending
                .get(&id)
                .is_some_and(|p| matches!(p.kind, PendingKind::Callback { .. }))
        {
            inner.chaos.lose_acks -= 1;
            inner.stats.acks_lost += 1;
            return;
        }
        let Some(p) = inner.pending.remove(&id) else {
            tracing::debug!(conn, message_id = %id, "ACK for an unknown or already answered frame");
            return;
        };
        let base_ok = ack.get("code").and_then(Value::as_u64) == Some(200)
            && ack.pointer("/headers/contentType").and_then(Value::as_str)
                == Some("application/json")
            && ack.get("message").is_some_and(Value::is_string)
            && ack.get("data").is_some_and(Value::is_string);
        let data: Value = ack
            .get("data")
            .and_then(Value::as_str)
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or(Value::Null);
        let (kind, conforms) = match &p.kind {
            PendingKind::Ping { data: sent } => {
                let echoed = serde_json::from_str::<Value>(sent).ok() == Some(data.clone());
                if !echoed {
                    inner.stats.ping_echo_mismatches += 1;
                }
                ("ping", base_ok && echoed)
            }
            PendingKind::Callback { .. } => ("callback", base_ok && data.get("response").is_some()),
            PendingKind::Disconnect => ("disconnect", base_ok),
            PendingKind::Raw => ("raw", base_ok),
        };
        if let PendingKind::Callback { msg_id, .. } = &p.kind
            && msg_id.starts_with(super::load::LOAD_MSG_PREFIX)
        {
            Sim::load_ack(&mut inner, msg_id, p.pushed_at.elapsed().as_micros() as u64);
        }
        let record = AckRecord {
            bot: p.bot.clone(),
            message_id: id,
            kind: kind.to_owned(),
            raw: text.to_owned(),
            conforms,
            same_socket: p.conn == conn,
            latency_us: p.pushed_at.elapsed().as_micros() as u64,
        };
        self.record_ack(&mut inner, record);
    }

    fn ping(&self, conn: u64) -> Option<Push> {
        let mut inner = self.lock();
        let c = inner.conns.get(&conn)?;
        if c.stalled {
            return None;
        }
        let bot = inner.bots.get(&c.bot)?.clone();
        let message_id = delivery_id();
        let data = json!({"opaque": uuid::Uuid::new_v4().to_string()}).to_string();
        let push = Push {
            session: c.session.clone(),
            text: frame("SYSTEM", "ping", &message_id, &bot, &c.connection_id, &data),
        };
        let bot_id = c.bot.clone();
        inner.pending.insert(
            message_id,
            Pending {
                bot: bot_id,
                conn,
                kind: PendingKind::Ping { data },
                pushed_at: Instant::now(),
            },
        );
        inner.stats.pings_sent += 1;
        Some(push)
    }

    fn answers_pings(&self) -> bool {
        !self.lock().chaos.no_pong
    }

    /// Callbacks whose ACK is overdue go out again with a new messageId and the same msgId,
    /// as DingTalk was observed to do (docs/dingtalk-protocol.md 2.6).
    fn sweep(&self) -> Vec<Push> {
        let mut inner = self.lock();
        let now = Instant::now();
        inner
            .tickets
            .retain(|_, (_, at)| now.duration_since(*at) < self.opts.ticket_ttl);
        // Unanswered pings and disconnects are not kept forever.
        inner.pending.retain(|_, p| {
            matches!(p.kind, PendingKind::Callback { .. })
                || now.duration_since(p.pushed_at) < Duration::from_secs(120)
        });
        let Some(after) = inner.chaos.redeliver_after_ms.map(Duration::from_millis) else {
            return Vec::new();
        };
        let due: Vec<String> = inner
            .pending
            .iter()
            .filter(|(_, p)| {
                matches!(p.kind, PendingKind::Callback { .. })
                    && now.duration_since(p.pushed_at) >= after
            })
            .map(|(k, _)| k.clone())
            .collect();
        let mut pushes = Vec::new();
        for key in due {
            let Some(p) = inner.pending.remove(&key) else {
                continue;
            };
            if let PendingKind::Callback {
                msg_id,
                data,
                attempts,
            } = p.kind
            {
                if attempts >= MAX_REDELIVERIES {
                    continue;
                }
                inner.stats.redeliveries += 1;
                if let Some(run) = inner.load.as_mut() {
                    run.redelivered.insert(msg_id.clone());
                }
                pushes.extend(
                    self.push_callback(&mut inner, &p.bot, msg_id, data, attempts + 1)
                        .1,
                );
            }
        }
        pushes
    }
}

/// What one callback's `data` is made of.
pub(super) struct Payload<'a> {
    pub bot: &'a BotInfo,
    pub user: &'a UserInfo,
    pub cid: &'a str,
    pub title: Option<&'a str>,
    pub group: bool,
    pub msg_id: &'a str,
    pub msgtype: &'a str,
    pub text: &'a str,
    pub session_webhook: &'a str,
    pub create_at: i64,
    pub expires: i64,
    pub mentioned: &'a [String],
    /// The message's file (pictures, files, voice, video, rich text).
    pub media: Option<&'a SimMedia>,
    /// `repliedMsg` of a message that quotes an earlier one.
    pub replied: Option<&'a Value>,
}

/// `repliedMsg` for a quoted user message (docs/dingtalk-protocol.md 3.2).
fn replied_msg(e: &Entry, sender_id: &str) -> Value {
    let code = e.media.as_ref().and_then(|m| m.download_code.clone());
    let content = match e.msgtype.as_str() {
        "picture" => json!({"downloadCode": code}),
        "file" => {
            json!({"downloadCode": code, "fileName": e.media.as_ref().map(|m| m.name.clone())})
        }
        "richText" => {
            json!({"richText": [{"text": e.text}, {"type": "picture", "downloadCode": code}]})
        }
        _ => json!({"text": e.text}),
    };
    json!({
        "msgType": e.msgtype,
        "msgId": e.msg_id,
        "senderId": sender_id,
        "createdAt": e.at_ms,
        "content": content,
    })
}

/// The `data` of a bot message callback (docs/dingtalk-protocol.md 3.1).
pub(super) fn payload(p: &Payload<'_>, bots: &indexmap::IndexMap<String, BotInfo>) -> String {
    let Payload {
        bot,
        user,
        cid,
        title,
        group,
        msg_id,
        msgtype,
        text,
        session_webhook,
        create_at,
        expires,
        mentioned,
        ..
    } = *p;
    let mut d = json!({
        "conversationId": cid,
        "conversationType": if group { "2" } else { "1" },
        "chatbotCorpId": bot.corp_id,
        "chatbotUserId": bot.chatbot_user_id,
        "robotCode": bot.client_id,
        "msgId": msg_id,
        "msgtype": msgtype,
        "senderNick": user.name,
        "senderId": user.sender_id,
        "senderCorpId": if user.external { "dingexternalcorp" } else { "dingsimcorp" },
        "senderPlatform": "Mac",
        "isAdmin": false,
        "createAt": create_at,
        "sessionWebhook": session_webhook,
        "sessionWebhookExpiredTime": expires,
    });
    if !user.external {
        d["senderStaffId"] = json!(user.user_id);
    }
    if group {
        d["conversationTitle"] = json!(title.unwrap_or("group"));
        d["isInAtList"] = json!(true);
        d["atUsers"] = Value::Array(
            mentioned
                .iter()
                .filter_map(|m| bots.get(m))
                .map(|b| json!({"dingtalkId": b.chatbot_user_id}))
                .collect(),
        );
    }
    let code = p
        .media
        .and_then(|m| m.download_code.clone())
        .unwrap_or_else(|| random_b64(18));
    match msgtype {
        // The @bot token is removed from group text, leaving a leading space.
        "text" => {
            d["text"] =
                json!({"content": if group { format!(" {text}") } else { text.to_owned() }});
            if let Some(replied) = p.replied {
                d["text"]["isReplyMsg"] = json!(true);
                d["text"]["repliedMsg"] = replied.clone();
            }
        }
        "audio" => {
            d["content"] = json!({"downloadCode": code, "recognition": text, "duration": "3000"})
        }
        "picture" => d["content"] = json!({"downloadCode": code, "pictureDownloadCode": code}),
        "file" => {
            let name = p.media.map_or(text, |m| m.name.as_str());
            d["content"] =
                json!({"downloadCode": code, "fileName": name, "spaceId": "1", "fileId": "2"})
        }
        "video" => {
            d["content"] = json!({"downloadCode": code, "duration": "5000", "videoType": "mp4"})
        }
        "richText" => {
            d["content"] = json!({"richText": [{"text": text}, {"type": "picture", "downloadCode": code, "pictureDownloadCode": code}]})
        }
        _ => d["content"] = json!({"unknownMsgType": text}),
    }
    d.to_string()
}

// ---------------------------------------------------------------------------------------------
// HTTP handlers
// ---------------------------------------------------------------------------------------------

/// `POST /v1.0/gateway/connections/open`.
pub(super) async fn connections_open(
    sim: web::Data<Arc<Sim>>,
    body: web::Json<Value>,
) -> HttpResponse {
    match sim.open(&body) {
        Ok(ticket) => {
            let endpoint = format!("{}/connect", sim.base_url().replacen("http", "ws", 1));
            HttpResponse::Ok().json(json!({"endpoint": endpoint, "ticket": ticket}))
        }
        Err((status, body)) => HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
        )
        .json(body),
    }
}

#[derive(Deserialize)]
pub(super) struct TicketQuery {
    ticket: Option<String>,
}

/// `GET /connect?ticket=...`: the Stream WebSocket. A bad or used ticket is refused before
/// the upgrade.
pub(super) async fn connect(
    req: HttpRequest,
    body: web::Payload,
    query: web::Query<TicketQuery>,
    sim: web::Data<Arc<Sim>>,
) -> Result<HttpResponse, actix_web::Error> {
    let bot = match sim.redeem(query.ticket.as_deref().unwrap_or("")) {
        Ok(b) => b,
        Err(why) => {
            return Ok(
                HttpResponse::Unauthorized().json(json!({"code": "InvalidTicket", "message": why}))
            );
        }
    };
    let (response, session, stream) = actix_ws::handle(&req, body)?;
    let kill = Arc::new(Notify::new());
    let (conn, backlog) = sim.register(&bot, session.clone(), kill.clone());
    let sim: Arc<Sim> = Arc::clone(sim.get_ref());
    actix_web::rt::spawn(async move {
        send_all(backlog).await;
        run_connection(sim, conn, session, stream, kill).await;
    });
    Ok(response)
}

async fn run_connection(
    sim: Arc<Sim>,
    conn: u64,
    mut session: actix_ws::Session,
    stream: actix_ws::MessageStream,
    kill: Arc<Notify>,
) {
    let mut stream = stream.max_frame_size(4 * 1024 * 1024);
    let mut ping = actix_rt::time::interval(sim.opts.ping_interval);
    ping.tick().await;
    let mut graceful = true;
    loop {
        tokio::select! {
            _ = kill.notified() => { graceful = false; break; }
            _ = ping.tick() => {
                if let Some(p) = sim.ping(conn) {
                    send_all(vec![p]).await;
                }
            }
            msg = stream.recv() => match msg {
                Some(Ok(Message::Text(t))) => sim.on_text(conn, &t),
                Some(Ok(Message::Ping(b))) => {
                    if sim.answers_pings() {
                        let _ = session.pong(&b).await;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    }
    sim.unregister(conn);
    if graceful {
        let _ = session.close(None).await;
    }
    // Dropping the session and stream without a close frame ends the TCP connection.
}

/// Runs the redelivery sweep for the simulator's lifetime.
pub(super) fn spawn_sweeper(sim: Arc<Sim>) {
    actix_rt::spawn(async move {
        let mut tick = actix_rt::time::interval(SWEEP_INTERVAL);
        loop {
            tick.tick().await;
            let pushes = sim.sweep();
            send_all(pushes).await;
        }
    });
}
