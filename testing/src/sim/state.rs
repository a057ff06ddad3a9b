//! The simulator's state: one lock around everything, held only for map updates (never
//! across an await), so handlers on any worker thread can share it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use indexmap::IndexMap;
use tokio::sync::Notify;

use super::model::*;

/// Why a control request failed; becomes HTTP 400/404 with this text.
#[derive(Debug)]
pub enum SimError {
    /// No such bot, user, group or robot.
    NotFound(String),
    /// The request does not make sense.
    Invalid(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::NotFound(s) | SimError::Invalid(s) => f.write_str(s),
        }
    }
}

/// One Stream connection of a bot.
pub(super) struct Conn {
    pub bot: String,
    pub connection_id: String,
    pub session: actix_ws::Session,
    /// A `disconnect` was sent: no more deliveries here.
    pub disconnecting: bool,
    /// Zombie: no frames go out, pongs still do.
    pub stalled: bool,
    /// Wakes the connection task to drop the socket without a close frame.
    pub kill: Arc<Notify>,
}

/// A pushed frame waiting for its ACK.
pub(super) struct Pending {
    pub bot: String,
    pub conn: u64,
    pub kind: PendingKind,
    pub pushed_at: Instant,
}

pub(super) enum PendingKind {
    /// A bot message; kept so it can be redelivered.
    Callback {
        msg_id: String,
        data: String,
        attempts: u32,
    },
    /// A SYSTEM ping; the ACK must echo `data`.
    Ping {
        data: String,
    },
    Disconnect,
    /// Something pushed with `/sim/bots/{id}/raw`.
    Raw,
}

/// A sessionWebhook handed out with a bot message.
pub(super) struct WebhookSession {
    pub bot: String,
    pub conversation_id: String,
    pub msg_id: String,
    pub expires_ms: i64,
    pub expired: bool,
    /// Set for the messages of a load run.
    pub load: Option<super::load::LoadTag>,
}

/// A custom group robot.
pub(super) struct Robot {
    pub conversation_id: String,
    pub secret: Option<String>,
    pub keywords: Vec<String>,
    pub name: String,
    pub sent: VecDeque<Instant>,
}

pub(super) struct User {
    pub info: UserInfo,
}

#[derive(Default)]
pub(super) struct Chaos {
    pub reject_open: Option<(u16, Option<u32>)>,
    pub no_pong: bool,
    pub throttle: u32,
    pub redeliver_after_ms: Option<u64>,
    pub hold_when_offline: bool,
    pub lose_acks: u32,
    pub card_permission_denied: bool,
    pub card_throttle: u32,
    pub card_qps: Option<u32>,
    pub card_streaming_after_finalize: bool,
}

#[derive(Default)]
pub(super) struct Inner {
    pub bots: IndexMap<String, BotInfo>,
    pub users: HashMap<String, User>,
    pub groups: IndexMap<String, GroupInfo>,
    /// (bot, user) to the DM's conversation id.
    pub dms: HashMap<(String, String), String>,
    pub tickets: HashMap<String, (String, Instant)>,
    pub conns: HashMap<u64, Conn>,
    pub next_conn: u64,
    pub pending: HashMap<String, Pending>,
    /// Bot messages for bots with no connection (held, pushed when one connects).
    pub backlog: HashMap<String, VecDeque<(String, String)>>,
    pub sessions: HashMap<String, WebhookSession>,
    /// msgId and bot to the instant of its first push, for reply latency.
    pub first_push: HashMap<(String, String), Instant>,
    pub tokens: HashMap<String, (String, Instant)>,
    pub robots: HashMap<String, Robot>,
    pub conversations: HashMap<String, VecDeque<Entry>>,
    /// Bot sends by the msgId they answer, oldest messages forgotten first.
    pub replies_by_msg: HashMap<String, Vec<Entry>>,
    /// (conversation, bot) to the user messages it has not answered yet, oldest first: an AI
    /// card is taken to answer the oldest (the card API does not say which message it answers).
    pub unanswered: HashMap<(String, String), VecDeque<String>>,
    /// The current or last load run.
    pub load: Option<super::load::LoadRun>,
    /// AI cards by outTrackId.
    pub cards: IndexMap<String, super::card::Card>,
    /// Card calls per bot in the last second (`cardQps`).
    pub card_calls: HashMap<String, VecDeque<Instant>>,
    pub reply_index_order: VecDeque<String>,
    pub seq: u64,
    pub acks: VecDeque<AckRecord>,
    pub chaos: Chaos,
    pub stats: SimStats,
    /// Users' files by downloadCode.
    pub files: HashMap<String, super::media::SimFile>,
    /// Download URLs handed out: id to (downloadCode, valid until ms).
    pub file_urls: HashMap<String, (String, i64)>,
    /// Bots' uploads by media id.
    pub uploads: HashMap<String, super::media::SimFile>,
    pub reactions: Vec<Reaction>,
}

/// The simulated DingTalk Open Platform.
pub struct Sim {
    pub(super) opts: SimOptions,
    pub(super) base_url: OnceLock<String>,
    pub(super) inner: Mutex<Inner>,
}

/// ACK records kept for inspection.
const ACKS_KEPT: usize = 2000;

/// User messages whose replies stay indexed by msgId.
const REPLY_INDEX_KEPT: usize = 1_000_000;

impl Sim {
    /// A simulator with `opts` and nothing in it.
    pub fn new(opts: SimOptions) -> Arc<Sim> {
        let inner = Inner {
            next_conn: 1,
            chaos: Chaos {
                hold_when_offline: true,
                ..Chaos::default()
            },
            ..Inner::default()
        };
        Arc::new(Sim {
            opts,
            base_url: OnceLock::new(),
            inner: Mutex::new(inner),
        })
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `http://127.0.0.1:<port>`, once the server is bound.
    pub fn base_url(&self) -> &str {
        self.base_url
            .get()
            .map(String::as_str)
            .unwrap_or("http://127.0.0.1:0")
    }

    /// Its options.
    pub fn options(&self) -> &SimOptions {
        &self.opts
    }

    // -- bots, users, groups -------------------------------------------------------------

    /// Adds a bot (an app with Stream mode).
    pub fn add_bot(&self, new: NewBot) -> BotInfo {
        let mut inner = self.lock();
        let client_id = new
            .client_id
            .unwrap_or_else(|| format!("ding{}", random_hex(16)));
        let bot = inner
            .bots
            .entry(client_id.clone())
            .or_insert_with(|| BotInfo {
                client_id: client_id.clone(),
                client_secret: String::new(),
                name: String::new(),
                app_id: uuid::Uuid::new_v4().to_string(),
                chatbot_user_id: encrypted_id(),
                corp_id: "dingsimcorp".to_owned(),
                connections: 0,
            });
        bot.client_secret = new
            .client_secret
            .unwrap_or_else(|| random_b64(32).replace(['+', '/', '='], "x"));
        bot.name = new
            .name
            .unwrap_or_else(|| format!("bot-{}", &client_id[..client_id.len().min(8)]));
        let mut info = bot.clone();
        info.client_secret = bot.client_secret.clone();
        info
    }

    /// Every bot.
    pub fn bots(&self) -> Vec<BotInfo> {
        let inner = self.lock();
        inner
            .bots
            .values()
            .map(|b| BotInfo {
                connections: inner
                    .conns
                    .values()
                    .filter(|c| c.bot == b.client_id)
                    .count(),
                ..b.clone()
            })
            .collect()
    }

    /// Adds a user.
    pub fn add_user(&self, new: NewUser) -> UserInfo {
        let mut inner = self.lock();
        let id = new
            .user_id
            .unwrap_or_else(|| format!("user{}", random_hex(6)));
        let name = new.name;
        let external = new.external;
        let user = inner.users.entry(id.clone()).or_insert_with(|| User {
            info: UserInfo {
                user_id: id.clone(),
                sender_id: encrypted_id(),
                name: id.clone(),
                external,
            },
        });
        if let Some(n) = name {
            user.info.name = n;
        }
        user.info.external = external;
        user.info.clone()
    }

    pub(super) fn user_or_create(inner: &mut Inner, id: &str) -> UserInfo {
        inner
            .users
            .entry(id.to_owned())
            .or_insert_with(|| User {
                info: UserInfo {
                    user_id: id.to_owned(),
                    sender_id: encrypted_id(),
                    name: id.to_owned(),
                    external: false,
                },
            })
            .info
            .clone()
    }

    /// Adds a group.
    pub fn add_group(&self, new: NewGroup) -> Result<GroupInfo, SimError> {
        let mut inner = self.lock();
        for b in &new.bots {
            if !inner.bots.contains_key(b) {
                return Err(SimError::NotFound(format!("no bot \"{b}\"")));
            }
        }
        for m in &new.members {
            Self::user_or_create(&mut inner, m);
        }
        let cid = new.conversation_id.unwrap_or_else(conversation_id);
        let group = GroupInfo {
            conversation_id: cid.clone(),
            title: new.title.unwrap_or_else(|| "Test group".to_owned()),
            members: new.members,
            bots: new.bots,
        };
        inner.groups.insert(cid, group.clone());
        Ok(group)
    }

    /// Every group.
    pub fn groups(&self) -> Vec<GroupInfo> {
        self.lock().groups.values().cloned().collect()
    }

    // -- conversation log ------------------------------------------------------------------

    /// Appends to a conversation's log and returns the entry's sequence number.
    pub(super) fn record(&self, inner: &mut Inner, mut entry: Entry) -> u64 {
        inner.seq += 1;
        entry.seq = inner.seq;
        if entry.via != "user"
            && let Some(msg_id) = entry.msg_id.clone()
        {
            if !inner.replies_by_msg.contains_key(&msg_id) {
                inner.reply_index_order.push_back(msg_id.clone());
                if inner.reply_index_order.len() > REPLY_INDEX_KEPT
                    && let Some(old) = inner.reply_index_order.pop_front()
                {
                    inner.replies_by_msg.remove(&old);
                }
            }
            if let Some(queue) = inner
                .unanswered
                .get_mut(&(entry.conversation_id.clone(), entry.from.clone()))
            {
                queue.retain(|m| *m != msg_id);
            }
            inner
                .replies_by_msg
                .entry(msg_id)
                .or_default()
                .push(entry.clone());
        }
        let log = inner
            .conversations
            .entry(entry.conversation_id.clone())
            .or_default();
        log.push_back(entry);
        while log.len() > self.opts.conversation_cap {
            log.pop_front();
        }
        inner.seq
    }

    /// Everything said in a conversation, oldest first.
    pub fn conversation(&self, cid: &str) -> Vec<Entry> {
        self.lock()
            .conversations
            .get(cid)
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The log of a conversation the simulator knows (a group, a DM, or one with messages),
    /// `None` for an id it never saw.
    pub fn known_conversation(&self, cid: &str) -> Option<Vec<Entry>> {
        let inner = self.lock();
        let known = inner.conversations.contains_key(cid)
            || inner.groups.contains_key(cid)
            || inner.dms.values().any(|d| d == cid);
        known.then(|| {
            inner
                .conversations
                .get(cid)
                .map(|l| l.iter().cloned().collect())
                .unwrap_or_default()
        })
    }

    /// Bot sends that answer user message `msg_id`.
    pub fn replies_to(&self, msg_id: &str) -> Vec<Entry> {
        self.lock()
            .replies_by_msg
            .get(msg_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Bot sends (not user messages), optionally for one bot or conversation, after `since`.
    pub fn replies(&self, bot: Option<&str>, cid: Option<&str>, since: u64) -> Vec<Entry> {
        let inner = self.lock();
        let mut out: Vec<Entry> = inner
            .conversations
            .iter()
            .filter(|(c, _)| cid.is_none_or(|want| want == c.as_str()))
            .flat_map(|(_, log)| log.iter())
            .filter(|e| e.via != "user" && e.seq > since && bot.is_none_or(|b| b == e.from))
            .cloned()
            .collect();
        out.sort_by_key(|e| e.seq);
        out
    }

    pub(super) fn record_ack(&self, inner: &mut Inner, ack: AckRecord) {
        inner.stats.acks += 1;
        if !ack.same_socket {
            inner.stats.acks_wrong_socket += 1;
        }
        if !ack.conforms {
            inner.stats.acks_nonconforming += 1;
        }
        inner.stats.max_ack_latency_us = inner.stats.max_ack_latency_us.max(ack.latency_us);
        inner.acks.push_back(ack);
        while inner.acks.len() > ACKS_KEPT {
            inner.acks.pop_front();
        }
    }

    /// The most recent ACKs received, optionally for one bot.
    pub fn acks(&self, bot: Option<&str>) -> Vec<AckRecord> {
        self.lock()
            .acks
            .iter()
            .filter(|a| bot.is_none_or(|b| b == a.bot))
            .cloned()
            .collect()
    }

    /// Its counters.
    pub fn stats(&self) -> SimStats {
        let inner = self.lock();
        SimStats {
            open_connections: inner.conns.len(),
            unacked: inner
                .pending
                .values()
                .filter(|p| matches!(p.kind, PendingKind::Callback { .. }))
                .count(),
            ..inner.stats.clone()
        }
    }

    // -- chaos -----------------------------------------------------------------------------

    /// Turns failure switches on or off (refused opens, dropped sockets, throttling...).
    pub fn chaos(&self, req: &ChaosRequest) {
        let mut inner = self.lock();
        if req.clear == Some(true) {
            inner.chaos = Chaos {
                hold_when_offline: true,
                ..Chaos::default()
            };
            for c in inner.conns.values_mut() {
                c.stalled = false;
            }
        }
        if let Some(status) = req.reject_open {
            inner.chaos.reject_open = (status != 0).then_some((status, req.reject_open_count));
        }
        if let Some(v) = req.no_pong {
            inner.chaos.no_pong = v;
        }
        if let Some(n) = req.throttle {
            inner.chaos.throttle = n;
        }
        if let Some(ms) = req.redeliver_after_ms {
            inner.chaos.redeliver_after_ms = (ms != 0).then_some(ms);
        }
        if let Some(n) = req.lose_acks {
            inner.chaos.lose_acks = n;
        }
        if let Some(v) = req.hold_when_offline {
            inner.chaos.hold_when_offline = v;
        }
        if let Some(v) = req.card_permission_denied {
            inner.chaos.card_permission_denied = v;
        }
        if let Some(n) = req.card_throttle {
            inner.chaos.card_throttle = n;
        }
        if let Some(n) = req.card_qps {
            inner.chaos.card_qps = (n != 0).then_some(n);
        }
        if let Some(v) = req.card_streaming_after_finalize {
            inner.chaos.card_streaming_after_finalize = v;
        }
        if req.expire_webhooks == Some(true) {
            for s in inner.sessions.values_mut() {
                s.expired = true;
            }
        }
        if req.revoke_tokens == Some(true) {
            inner.tokens.clear();
        }
    }

    /// Stalls (zombie) or un-stalls every connection of a bot.
    pub fn stall(&self, bot: &str, on: bool) -> Result<usize, SimError> {
        let mut inner = self.lock();
        if !inner.bots.contains_key(bot) {
            return Err(SimError::NotFound(format!("no bot \"{bot}\"")));
        }
        let mut n = 0;
        for c in inner.conns.values_mut().filter(|c| c.bot == bot) {
            c.stalled = on;
            n += 1;
        }
        Ok(n)
    }

    /// Drops every connection of a bot without a close frame.
    pub fn drop_connections(&self, bot: &str) -> usize {
        let inner = self.lock();
        let mut n = 0;
        for c in inner.conns.values().filter(|c| c.bot == bot) {
            c.kill.notify_one();
            n += 1;
        }
        n
    }
}
