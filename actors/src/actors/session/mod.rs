//! SessionActor: one per session key. Runs one turn at a time; messages that arrive during a
//! turn wait (up to `messages.queue.cap`) and are answered in order (`followup`) or together
//! (`collect`); `/new` and `/reset` start a fresh session. The transcript lives in the store:
//! the actor loads it when it starts, writes each entry as it happens, leaves memory when idle
//! and is rebuilt from the store on its next message. After a crash it reloads from the store
//! and redoes the turn it was in, so the message being handled is still answered.

mod commands;
mod compact;
mod freshness;
mod media;
mod messages;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::{oneshot, watch};

pub use compact::COMPACTION_PROMPT;
pub use messages::{GetSessionState, ResetSession, SessionSeed, SessionState, UserMessage};

use crate::config::{DINGTALK_CHANNEL, QueueMode, ReplyMode};
use crate::dingtalk::api::now_ms;
use crate::dingtalk::{DingTalkError, OutboundMessage, ReplyOutcome};
use crate::fault::{FaultPoint, check};
use crate::provider::{ChatMessage, StreamSink, Usage, WaitNotice};
use crate::routing::ChatType;
use crate::store::{
    Lease, Role, SessionMeta, SessionSettings, StoreError, StoredSession, TranscriptEntry, WriteOp,
};
use crate::supervise::{ActorKind, Panicked, Restarts, catch, guard, resume_after};
use crate::tools::{ToolContext, sender_is_owner};

use super::agent::{RunTurn, TurnError, TurnOutput};
use super::router::{Inbound, SessionIdle};
use super::runtime::{Runtime, RuntimeEvent};

/// Attempts at one turn whose agent or provider crashed, before the user gets an apology.
const MAX_TURN_ATTEMPTS: u32 = 3;

/// Pause before retrying a turn whose agent or provider crashed.
const TURN_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Reset words the DingTalk connector understands besides `session.resetTriggers`.
const DINGTALK_RESET_WORDS: [&str; 4] = ["/clear", "新会话", "重新开始", "清空对话"];

const RESET_REPLY: &str = "✅ 已开始新会话。New session started.";
const BUSY_REPLY: &str = "⏳ 我还在处理之前的消息，请稍后再发。I'm still working on your earlier messages; please send this again in a moment.";
const QUEUED_REPLY: &str = "⏳ 当前请求较多，您的消息正在排队，稍后回复。Many conversations are being answered right now; yours is queued and will be answered shortly.";
const STILL_WORKING_REPLY: &str =
    "⏳ 还在处理中，请稍候。Still working on it; the answer is coming.";
const CRASH_REPLY: &str = "⚠️ 抱歉，处理这条消息时出错了，请重试。Sorry, something went wrong while answering; please try again.";

/// The turn in progress.
struct Turn {
    /// One message (`followup`), several (`collect`), or a reset command.
    messages: Vec<Inbound>,
    reset: bool,
    /// The gateway answers this message itself (it is too long for a model).
    gateway_answer: Option<String>,
    attempts: u32,
    /// Set once the answer is known (and stored): a restart resends it instead of asking the
    /// model again.
    answer: Option<String>,
    /// The AI card this turn's answer streams into, if the reply mode is `aicard`.
    card: Option<CardLink>,
    /// `asyncMode`: the acknowledgement has been sent.
    acked: bool,
    /// The files of the new messages, downloaded and read, by msgId (`None`: not yet).
    ingested: Option<std::collections::HashMap<String, crate::media::Ingested>>,
    /// The "thinking" reaction put on a message: (msgId, its text).
    reaction: Option<(String, String)>,
    /// Ends the model call in flight (`/stop`).
    stop: Option<tokio_util::sync::CancellationToken>,
    /// `/compact [focus]`: this turn summarises the conversation and answers with what it did.
    compact: Option<String>,
    /// The context was checked against the model's window (and compacted if it had to be).
    context_checked: bool,
    /// The session was reset by `session.reset` before this turn: the answer says so first.
    fresh: Option<String>,
    /// The "still working" timer (set once per turn, however often the turn is redone). It is
    /// cancelled when the turn ends: a pending timer keeps the actor alive, so an evicted
    /// session's memory stayed in use up to a minute after its last turn.
    still_working: Option<SpawnHandle>,
}

/// An AI card reply opened for a turn. The model's text streams into `live`, the answer goes
/// into `done`, and `outcome` says how it was delivered. The reply itself runs on the
/// account's thread, detached from this actor, so a session restart does not cancel it.
struct CardLink {
    live: StreamSink,
    done: oneshot::Sender<String>,
    outcome: oneshot::Receiver<Result<ReplyOutcome, DingTalkError>>,
}

/// One conversation session: one turn at a time, its queue, its transcript and settings.
pub struct SessionActor {
    seed: SessionSeed,
    rt: Arc<Runtime>,
    session_id: String,
    created_ms: i64,
    /// The newest entries (at most twice the history limit), while `transcript_held`.
    transcript: Vec<TranscriptEntry>,
    /// The transcript is in memory. An idle resident session lets it go after
    /// `dingclaw.transcriptIdleSeconds` (the store has every entry) and reads it back before
    /// its next message: most resident sessions are quiet, and their history was most of
    /// what they held.
    transcript_held: bool,
    next_seq: u64,
    /// Tokens spent by this session's turns (kept with the session's metadata).
    usage: Usage,
    /// Boxed: most resident sessions are between turns, and a turn's state is a quarter of
    /// the actor's size.
    turn: Option<Box<Turn>>,
    queue: VecDeque<Inbound>,
    /// Messages received from the router, for the idle hand-shake.
    received: u64,
    /// The one idle timer, armed while the session is in memory; it is not re-armed per
    /// message (a timer per message was a measurable share of a message's cost): when it
    /// fires early it sleeps again for what is left since `touched`.
    idle_timer: Option<SpawnHandle>,
    /// The last message or start: idleness is counted from here.
    touched: actix_rt::time::Instant,
    restarts: Restarts,
    /// Display names of people seen in a group, to their ids (for @-mentions).
    names: std::collections::HashMap<String, String>,
    /// What people call this conversation (a group's name, the person's nick), for operators.
    title: Option<String>,
    /// What was set from the chat (`/model`, `/think`...), stored with the session.
    settings: SessionSettings,
    /// When the last turn started (the runtime's clock), for idle resets.
    last_active_ms: i64,
    /// Turns started by this actor: tells a late timer whether its turn is still the one.
    turns_started: u64,
    /// In a cluster: the session lease of the newest message (writes and replies are fenced
    /// by it).
    lease: Option<Lease>,
}

impl SessionActor {
    /// A session actor; it loads its transcript from the store when it starts.
    pub fn new(seed: SessionSeed, rt: Arc<Runtime>) -> Self {
        rt.counters.session_actors.fetch_add(1, Ordering::Relaxed);
        let now = rt.clock.now_ms();
        Self {
            seed,
            rt,
            session_id: String::new(),
            created_ms: now,
            last_active_ms: now,
            turns_started: 0,
            lease: None,
            transcript: Vec::new(),
            transcript_held: true,
            next_seq: 1,
            usage: Usage::default(),
            turn: None,
            queue: VecDeque::new(),
            received: 0,
            idle_timer: None,
            touched: actix_rt::time::Instant::now(),
            restarts: Restarts::default(),
            names: std::collections::HashMap::new(),
            title: None,
            settings: SessionSettings::default(),
        }
    }

    fn key(&self) -> Arc<str> {
        Arc::from(self.seed.key.as_str())
    }

    // -- loading and storing -------------------------------------------------------------

    /// Loads the session from the store before any message is handled (`ctx.wait`).
    fn load(&mut self, flush_first: bool, ctx: &mut Context<Self>) {
        let store = self.rt.store.clone();
        let key = self.seed.key.to_string();
        let window = self.window();
        let load = async move {
            if flush_first && let Err(e) = store.flush().await {
                tracing::warn!(error = %e, "session reload: store flush failed");
            }
            store.load_session(&key, window).await
        };
        ctx.wait(actix::fut::wrap_future::<_, Self>(load).map(|res, act, _| act.apply_loaded(res)));
    }

    fn apply_loaded(&mut self, res: Result<Option<StoredSession>, StoreError>) {
        match res {
            Ok(Some(stored)) => {
                self.session_id = stored.meta.session_id;
                self.created_ms = stored.meta.created_ms;
                self.last_active_ms = stored.meta.updated_ms;
                self.usage = Usage {
                    prompt_tokens: stored.meta.prompt_tokens,
                    completion_tokens: stored.meta.completion_tokens,
                    total_tokens: stored.meta.prompt_tokens + stored.meta.completion_tokens,
                };
                self.next_seq = stored.entries.last().map(|e| e.seq + 1).unwrap_or(1);
                self.settings = stored.meta.settings;
                self.title = stored.meta.title;
                self.transcript = stored.entries;
            }
            Ok(None) => {
                if self.session_id.is_empty() {
                    self.session_id = uuid::Uuid::new_v4().to_string();
                    self.write_meta();
                }
            }
            Err(e) => {
                tracing::error!(session = %self.seed.key, error = %e, "could not load the session; starting from memory");
                if self.session_id.is_empty() {
                    self.session_id = uuid::Uuid::new_v4().to_string();
                }
            }
        }
    }

    /// Reads the transcript an idle spell let go, then handles `msg`. Nothing else runs in
    /// between (`ctx.wait` holds the mailbox), so messages keep their order.
    fn read_transcript_back(&mut self, msg: Inbound, ctx: &mut Context<Self>) {
        let store = self.rt.store.clone();
        let key = self.seed.key.to_string();
        let window = self.window();
        let read = async move {
            // The entries were queued long before the transcript went; the flush makes the
            // read exact even if the writer is behind.
            if let Err(e) = store.flush().await {
                tracing::warn!(error = %e, "reading a transcript back: store flush failed");
            }
            store.load_session(&key, window).await
        };
        ctx.wait(
            actix::fut::wrap_future::<_, Self>(read).map(move |res, act, ctx| {
                // A failed read is tried again with the next message; this one goes without
                // the history rather than not at all.
                if let Err(e) = &res {
                    tracing::error!(session = %act.seed.key, error = %e, "could not read the transcript back; this turn goes without the history");
                }
                act.transcript_held = res.is_ok();
                act.apply_loaded(res);
                let key = act.key();
                guard(act, ctx, ActorKind::Session, &key, |act, ctx| {
                    act.accept_now(msg, ctx)
                });
            }),
        );
    }

    /// Lets the transcript go (the store has it); the next message reads it back.
    fn let_transcript_go(&mut self) {
        self.transcript = Vec::new();
        self.transcript_held = false;
        self.rt
            .counters
            .transcripts_released
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Entries kept in memory: twice the history limit, and room for tool rounds.
    fn window(&self) -> usize {
        self.rt.config().runtime.history_limit * 2 + 64
    }

    fn write_meta(&self) {
        self.rt.store.write(vec![
            WriteOp::Session(SessionMeta {
                key: self.seed.key.to_string(),
                session_id: self.session_id.clone(),
                agent_id: self.seed.agent_id.to_string(),
                channel: self.seed.channel.to_string(),
                account: self.seed.account.to_string(),
                chat: self.seed.chat.as_str().to_owned(),
                conversation_id: self.seed.conversation_id.clone(),
                created_ms: self.created_ms,
                updated_ms: self.rt.clock.now_ms(),
                prompt_tokens: self.usage.prompt_tokens,
                completion_tokens: self.usage.completion_tokens,
                settings: self.settings.clone(),
                title: self.title.clone(),
            })
            .fenced(self.lease.as_ref()),
        ]);
    }

    fn append(&mut self, role: Role, content: String, msg: Option<&Inbound>) {
        let mut entry = TranscriptEntry::message(self.next_seq, role, content, now_ms());
        entry.msg_id = msg.map(|m| m.msg_id.clone());
        entry.sender = msg.map(|m| m.sender_id.clone());
        self.push_entry(entry);
    }

    /// A tool round of the turn: the assistant's calls, or one tool's result.
    fn append_step(&mut self, step: ChatMessage) {
        let role = match step.role {
            crate::provider::ChatRole::Tool => Role::Tool,
            _ => Role::Assistant,
        };
        let mut entry = TranscriptEntry::message(self.next_seq, role, step.content, now_ms());
        entry.tool_calls = step.tool_calls;
        entry.tool_call_id = step.tool_call_id;
        self.push_entry(entry);
    }

    fn push_entry(&mut self, mut entry: TranscriptEntry) {
        entry.seq = self.next_seq;
        self.next_seq += 1;
        self.rt.store.write(vec![
            WriteOp::Entry {
                session_id: self.session_id.clone(),
                entry: entry.clone(),
            }
            .fenced(self.lease.as_ref()),
        ]);
        self.transcript.push(entry);
        let window = self.window();
        if self.transcript.len() > window {
            let extra = self.transcript.len() - window;
            self.transcript.drain(..extra);
        }
    }

    fn stored(&self, msg_id: &str) -> bool {
        self.transcript
            .iter()
            .rev()
            .any(|e| e.msg_id.as_deref() == Some(msg_id))
    }

    /// The transcript as the model sees it. In a group, each user line says who spoke.
    fn history(&self) -> Vec<ChatMessage> {
        let limit = self.rt.config().runtime.history_limit;
        history_window(&self.transcript, limit, self.seed.chat == ChatType::Group)
    }

    // -- messages and turns --------------------------------------------------------------

    fn is_reset(&self, text: &str) -> bool {
        let t = text.trim();
        self.rt.config().session.is_reset_trigger(t)
            || (&*self.seed.channel == DINGTALK_CHANNEL
                && DINGTALK_RESET_WORDS
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(t)))
    }

    /// In a cluster: this instance's lease on the session is no longer good, so whatever
    /// it would say or write now might repeat what the new holder says.
    pub(super) fn stale(&self) -> bool {
        match (&self.lease, self.rt.cluster()) {
            (Some(lease), Some(cluster)) => !cluster.may_act(lease),
            _ => false,
        }
    }

    /// Drops what a stale holder has in hand, unanswered and not marked done: the journal
    /// keeps it for the instance that holds the session now.
    fn let_go(&mut self, messages: usize) {
        let dropped = messages + self.queue.len();
        self.queue.clear();
        self.rt
            .counters
            .pending
            .fetch_sub(dropped as i64, Ordering::Relaxed);
        tracing::info!(session = %self.seed.key, messages = dropped, "left messages to the instance that holds the session now");
    }

    fn accept(&mut self, msg: Inbound, ctx: &mut Context<Self>) {
        if !self.transcript_held {
            return self.read_transcript_back(msg, ctx);
        }
        self.accept_now(msg, ctx);
    }

    /// `accept` with the transcript in memory (or not to be had: the store failed).
    fn accept_now(&mut self, msg: Inbound, ctx: &mut Context<Self>) {
        self.received += 1;
        self.touch(ctx);
        if msg.lease.is_some() {
            self.lease = msg.lease.clone();
        }
        if self.stale() {
            return self.let_go(1);
        }
        let title = match self.seed.chat {
            ChatType::Group => msg.conversation_title.clone(),
            ChatType::Direct => Some(msg.sender_nick.trim().to_owned()),
        }
        .filter(|t| !t.trim().is_empty() && *t != "operator");
        if title.is_some() && title != self.title {
            self.title = title;
        }
        // Names serve @-mentions, which only group answers make: a private chat keeps none
        // (a map with one entry was a tenth of an idle session's memory).
        if self.seed.chat == ChatType::Group
            && !msg.sender_nick.trim().is_empty()
            && !msg.sender_id.is_empty()
            && self.names.get(msg.sender_nick.trim()) != Some(&msg.sender_id)
        {
            self.names
                .insert(msg.sender_nick.trim().to_owned(), msg.sender_id.clone());
        }
        if self.command(&msg, ctx) {
            return;
        }
        if self.turn.is_none() {
            return self.start_turn(vec![msg], ctx);
        }
        let cap = self.rt.config().queue.cap;
        if self.queue.len() >= cap {
            // Never dropped in silence: the sender learns to try again.
            self.rt.counters.pending.fetch_sub(1, Ordering::Relaxed);
            self.spawn_send(
                msg.reply.clone(),
                OutboundMessage::Text(BUSY_REPLY.to_owned()),
                Some(msg),
                ctx,
            );
            return;
        }
        self.queue.push_back(msg);
    }

    fn start_turn(&mut self, messages: Vec<Inbound>, ctx: &mut Context<Self>) {
        if self.stale() {
            return self.let_go(messages.len());
        }
        let reset = messages.first().is_some_and(|m| self.is_reset(&m.text));
        let gateway_answer = messages.first().and_then(|m| m.gateway_answer.clone());
        let compact = messages
            .first()
            .and_then(|m| commands::compact_focus(&m.text));
        let fresh = if reset || compact.is_some() || gateway_answer.is_some() {
            None
        } else {
            self.expire_if_stale()
        };
        self.turns_started += 1;
        self.turn = Some(Box::new(Turn {
            messages,
            reset,
            gateway_answer,
            attempts: 0,
            answer: None,
            card: None,
            acked: false,
            ingested: None,
            reaction: None,
            stop: None,
            compact,
            context_checked: false,
            fresh,
            still_working: None,
        }));
        self.run_turn(ctx);
    }

    /// A new session id with an empty transcript; the settings made from the chat stay.
    fn start_new_session(&mut self) {
        self.session_id = uuid::Uuid::new_v4().to_string();
        self.created_ms = self.rt.clock.now_ms();
        self.transcript.clear();
        self.transcript_held = true;
        self.next_seq = 1;
        self.usage = Usage::default();
        self.write_meta();
        tracing::debug!(session = %self.seed.key, "new session");
    }

    /// `session.reset`: a session past its daily or idle reset point starts afresh before
    /// this message; the answer then says so.
    fn expire_if_stale(&mut self) -> Option<String> {
        let now = self.rt.clock.now_ms();
        let last = std::mem::replace(&mut self.last_active_ms, now);
        if self.transcript.is_empty() {
            return None;
        }
        let config = self.rt.config();
        let policy = config
            .session
            .reset_for(&self.seed.channel, self.seed.chat == ChatType::Group);
        let why = freshness::stale(policy, self.created_ms, last, now, config.agents.timezone())?;
        tracing::info!(session = %self.seed.key, ?why, "session reset by session.reset");
        self.start_new_session();
        Some(why.notice())
    }

    fn run_turn(&mut self, ctx: &mut Context<Self>) {
        let Some(turn) = self.turn.as_ref() else {
            return;
        };
        if let Some(answer) = turn.answer.clone() {
            return self.send_answer(answer, ctx);
        }
        if let Some(answer) = turn.gateway_answer.clone() {
            return self.answer(answer, false, ctx);
        }
        if turn.reset {
            self.start_new_session();
            return self.answer(RESET_REPLY.to_owned(), false, ctx);
        }
        if let Some(focus) = turn.compact.clone() {
            return self.compact(Some(focus), ctx);
        }
        if self.ingest_first(ctx) {
            return;
        }
        let Some(turn) = self.turn.as_ref() else {
            return;
        };
        let messages = turn.messages.clone();
        let mut ingested = turn.ingested.clone().unwrap_or_default();
        for m in &messages {
            if !self.stored(&m.msg_id) {
                let got = ingested.remove(&m.msg_id).unwrap_or_default();
                let mut entry = TranscriptEntry::message(
                    0,
                    Role::User,
                    format!("{}{}", m.text, got.text),
                    now_ms(),
                );
                entry.msg_id = Some(m.msg_id.clone());
                entry.sender = Some(m.sender_id.clone());
                entry.sender_name = Some(m.sender_nick.trim().to_owned()).filter(|n| !n.is_empty());
                entry.attachments = got.attachments;
                self.push_entry(entry);
            }
        }
        let lane = &self.rt.lanes[self.seed.lane];
        let Some(agent) = lane.agent(&self.seed.agent_id) else {
            let text = format!(
                "⚠️ The assistant \"{}\" is not running on this gateway.",
                self.seed.agent_id
            );
            return self.answer(text, false, ctx);
        };
        let config = self.rt.config();
        let extra_system = self.extra_system(&config);
        // Built once: the window check and the model call see the same history.
        let history = self.history();
        if self.context_over_window(&config, &history) {
            return self.compact(None, ctx);
        }
        let context = self.tool_context(&config);
        // `asyncMode`: acknowledge at once, answer later (no card, as the connector does).
        let ack = config
            .account(&self.seed.account)
            .filter(|a| a.async_mode)
            .map(|a| a.ack_text.clone());
        let wants_card = ack.is_none() && self.reply_mode() == ReplyMode::Aicard;
        if let Some(turn) = self.turn.as_mut() {
            if let Some(ack) = ack
                && !turn.acked
            {
                turn.acked = true;
                if let Some(reply) = turn.messages.last().map(|m| m.reply.clone()) {
                    self.spawn_send(reply, OutboundMessage::Text(ack), None, ctx);
                }
            } else if wants_card && turn.card.is_none() {
                turn.card = open_card(&self.rt, turn);
            }
        }
        let stream = self
            .turn
            .as_ref()
            .and_then(|t| t.card.as_ref())
            .map(|c| c.live.clone());
        // DingTalk only: the web page shows the reply streaming in, and a second message would
        // end its stream.
        let notice = messages
            .last()
            .map(|m| m.reply.clone())
            .filter(|r| matches!(r, super::router::ReplyTo::DingTalk { .. }))
            .map(|reply| {
                let rt = Arc::clone(&self.rt);
                WaitNotice::new(move || {
                    actix_rt::spawn(async move {
                        let queued = OutboundMessage::Text(QUEUED_REPLY.to_owned());
                        let _ = rt.send_reply(&reply, queued).await;
                    });
                })
            });
        let mode = self.reply_mode();
        self.react_start(mode);
        self.still_working_later(mode, &config, ctx);
        let stop = tokio_util::sync::CancellationToken::new();
        if let Some(turn) = self.turn.as_mut() {
            turn.stop = Some(stop.clone());
        }
        let request = RunTurn {
            session_key: self.seed.key.clone(),
            history,
            extra_system,
            context,
            stream,
            notice,
            settings: self.settings.clone(),
            stop,
            compact: false,
        };
        let call = catch(agent.send(request));
        ctx.spawn(
            actix::fut::wrap_future::<_, Self>(call).map(|res, act, ctx| {
                let key = act.key();
                guard(act, ctx, ActorKind::Session, &key, |act, ctx| {
                    act.on_model(res, ctx)
                });
            }),
        );
    }

    /// In the text and markdown modes of DingTalk, a turn still running after
    /// `dingclaw.stillWorkingSeconds` says so once (a card shows progress by itself, and the
    /// web page streams).
    fn still_working_later(
        &mut self,
        mode: ReplyMode,
        config: &crate::config::Config,
        ctx: &mut Context<Self>,
    ) {
        let after = match config
            .account(&self.seed.account)
            .and_then(|a| a.long_task_notice_delay_ms)
        {
            Some(0) => None,
            Some(ms) => Some(Duration::from_millis(ms)),
            None => config.runtime.still_working,
        };
        let Some(after) = after else {
            return;
        };
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        let Some(reply) = turn.messages.last().map(|m| m.reply.clone()) else {
            return;
        };
        if turn.still_working.is_some()
            || mode == ReplyMode::Aicard
            || turn.card.is_some()
            || !matches!(reply, super::router::ReplyTo::DingTalk { .. })
        {
            return;
        }
        let started = self.turns_started;
        let timer = ctx.run_later(after, move |act, ctx| {
            let running = act.turns_started == started
                && act.turn.as_ref().is_some_and(|t| t.answer.is_none());
            if running {
                act.spawn_send(
                    reply,
                    OutboundMessage::Text(STILL_WORKING_REPLY.to_owned()),
                    None,
                    ctx,
                );
            }
        });
        if let Some(turn) = self.turn.as_mut() {
            turn.still_working = Some(timer);
        }
    }

    /// The account's `systemPrompt`, then, in a group, the group's own (`groups.<cid>`, else
    /// `groups."*"`).
    fn extra_system(&self, config: &crate::config::Config) -> Option<String> {
        let account = config.account(&self.seed.account)?;
        let group = (self.seed.chat == ChatType::Group)
            .then(|| account.groups.resolve(&self.seed.conversation_id))
            .flatten()
            .and_then(|g| g.system_prompt);
        match (account.system_prompt.clone(), group) {
            (Some(a), Some(g)) => Some(format!("{a}\n\n{g}")),
            (a, g) => a.or(g),
        }
    }

    /// Who is asking, for tools: the sender of the turn's newest message.
    fn tool_context(&self, config: &Arc<crate::config::Config>) -> ToolContext {
        let sender_id = self
            .turn
            .as_ref()
            .and_then(|t| t.messages.last())
            .map(|m| m.sender_id.clone())
            .unwrap_or_default();
        ToolContext {
            agent_id: self.seed.agent_id.to_string(),
            session_key: self.seed.key.to_string(),
            channel: self.seed.channel.to_string(),
            account: self.seed.account.to_string(),
            chat: self.seed.chat,
            conversation_id: self.seed.conversation_id.clone(),
            owner: sender_is_owner(config, &self.seed.channel, &sender_id),
            sender_id,
            timezone: config.agents.timezone().to_owned(),
            job: None,
            workspace: config
                .agents
                .get(&self.seed.agent_id)
                .map(|a| a.workspace.clone())
                .unwrap_or_default(),
            read_roots: Arc::default(),
            config: Arc::clone(config),
        }
    }

    fn on_model(
        &mut self,
        res: Result<Result<Result<TurnOutput, TurnError>, MailboxError>, Panicked>,
        ctx: &mut Context<Self>,
    ) {
        match res {
            Ok(Ok(Ok(mut out))) => {
                check(FaultPoint::SessionMidTurn, self.seed.key.as_str());
                self.usage.add(out.usage);
                for step in std::mem::take(&mut out.steps) {
                    self.append_step(step);
                }
                self.append(Role::Assistant, out.text.clone(), None);
                let mut text = match self.settings.usage.as_deref() {
                    Some(mode) => format!("{}{}", out.text, usage_line(mode, &out)),
                    None => out.text,
                };
                if let Some(notice) = self.turn.as_mut().and_then(|t| t.fresh.take()) {
                    text = format!("{notice}\n\n{text}");
                }
                self.answer(text, true, ctx);
            }
            Ok(Ok(Err(TurnError::Stopped))) => {
                tracing::info!(session = %self.seed.key, "turn stopped from the chat");
                self.append(Role::Assistant, commands::STOPPED_REPLY.to_owned(), None);
                self.answer(commands::STOPPED_REPLY.to_owned(), false, ctx);
            }
            Ok(Ok(Err(TurnError::Provider(e)))) => {
                tracing::warn!(session = %self.seed.key, error = %e, "the model call failed");
                self.rt.counters.turn_errors.fetch_add(1, Ordering::Relaxed);
                self.answer(e.user_message(), false, ctx);
            }
            Ok(Ok(Err(TurnError::Crashed(why)))) => self.retry(why, ctx),
            Ok(Err(e)) => self.retry(e.to_string(), ctx),
            Err(p) => self.retry(p.to_string(), ctx),
        }
    }

    /// The agent or provider crashed under this turn: try again a few times, then apologise.
    fn retry(&mut self, why: String, ctx: &mut Context<Self>) {
        let Some(turn) = self.turn.as_mut() else {
            return;
        };
        turn.attempts += 1;
        if turn.attempts >= MAX_TURN_ATTEMPTS {
            tracing::error!(session = %self.seed.key, %why, "giving up on a turn after repeated crashes");
            self.rt.counters.turn_errors.fetch_add(1, Ordering::Relaxed);
            return self.answer(CRASH_REPLY.to_owned(), false, ctx);
        }
        tracing::warn!(session = %self.seed.key, %why, attempt = turn.attempts, "turn interrupted by a crash; retrying");
        ctx.run_later(TURN_RETRY_DELAY * turn.attempts, |act, ctx| {
            let key = act.key();
            guard(act, ctx, ActorKind::Session, &key, |act, ctx| {
                act.run_turn(ctx)
            });
        });
    }

    /// Records the answer of the current turn (it survives a restart) and sends it.
    fn answer(&mut self, text: String, counted: bool, ctx: &mut Context<Self>) {
        if let Some(turn) = self.turn.as_mut() {
            turn.answer = Some(text.clone());
            let took = turn.messages.first().map(|m| m.received_at.elapsed());
            let seed = &self.seed;
            self.rt.emit_with(|| RuntimeEvent::TurnFinished {
                agent: seed.agent_id.to_string(),
                session: seed.key.to_string(),
                ok: counted,
                took: took.unwrap_or_default(),
            });
        }
        if counted {
            self.rt.counters.turns.fetch_add(1, Ordering::Relaxed);
        }
        self.send_answer(text, ctx);
    }

    fn send_answer(&mut self, text: String, ctx: &mut Context<Self>) {
        let Some(mut reply) = self
            .turn
            .as_ref()
            .and_then(|t| t.messages.last())
            .map(|m| m.reply.clone())
        else {
            return;
        };
        let (mut text, files) = self.outgoing(text, &mut reply);
        // OpenClaw's silent answer: the `message` tool already said everything.
        let silent = text.trim() == "NO_REPLY";
        if silent && files.is_empty() && self.turn.as_ref().is_some_and(|t| t.card.is_none()) {
            return self.finish_turn(ctx);
        }
        if silent {
            text = "✅".to_owned();
        }
        if let Some(card) = self.turn.as_mut().and_then(|t| t.card.take()) {
            // If the card task is gone, `outcome` says so.
            let _ = card.done.send(text);
            ctx.spawn(
                actix::fut::wrap_future::<_, Self>(card.outcome).map(|res, act, ctx| {
                    match res {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::error!(session = %act.seed.key, error = %e, "the card reply could not be delivered"),
                        Err(_) => tracing::error!(session = %act.seed.key, "the card reply task ended without an outcome"),
                    }
                    act.send_files(files, ctx);
                    let key = act.key();
                    guard(act, ctx, ActorKind::Session, &key, |act, ctx| act.finish_turn(ctx));
                }),
            );
            return;
        }
        let message = self.format(text);
        let send = {
            let rt = Arc::clone(&self.rt);
            async move { rt.send_reply(&reply, message).await }
        };
        ctx.spawn(actix::fut::wrap_future::<_, Self>(catch(send)).map(|res, act, ctx| {
            match res {
                Ok(Ok(_)) => {}
                // Another instance answers it; the runtime said so already.
                Ok(Err(DingTalkError::Fenced)) => {}
                Ok(Err(e)) => tracing::error!(session = %act.seed.key, error = %e, "the reply could not be delivered"),
                Err(p) => tracing::error!(session = %act.seed.key, error = %p, "the reply task panicked"),
            }
            act.send_files(files, ctx);
            let key = act.key();
            guard(act, ctx, ActorKind::Session, &key, |act, ctx| act.finish_turn(ctx));
        }));
    }

    /// The account's reply mode for this kind of chat.
    fn reply_mode(&self) -> ReplyMode {
        self.rt
            .config()
            .account(&self.seed.account)
            .map(|a| {
                if self.seed.chat == ChatType::Group {
                    a.group_reply_mode
                } else {
                    a.dm_reply_mode
                }
            })
            .unwrap_or_default()
    }

    /// Text or markdown, per the reply mode (an `aicard` reply that is not a card is markdown).
    fn format(&self, text: String) -> OutboundMessage {
        match self.reply_mode() {
            ReplyMode::Text => OutboundMessage::Text(text),
            ReplyMode::Markdown | ReplyMode::Aicard => OutboundMessage::markdown(text),
        }
    }

    fn finish_turn(&mut self, ctx: &mut Context<Self>) {
        if let Some(mut turn) = self.turn.take() {
            if let Some(timer) = turn.still_working.take() {
                ctx.cancel_future(timer);
            }
            self.react_end(turn.reaction.take(), turn.messages.last().map(|m| &m.reply));
            // The index row first: queued before the done mark, it goes in the done mark's
            // commit (which does not wait) instead of waking the writer for one of its own.
            if !turn.reset {
                self.write_meta();
            }
            self.rt.journal_done(&turn.messages);
            self.rt
                .counters
                .pending
                .fetch_sub(turn.messages.len() as i64, Ordering::Relaxed);
            if let Some(first) = turn.messages.first() {
                crate::telemetry::reply_latency(&first.channel, first.received_at.elapsed());
            }
        }
        self.next(ctx);
    }

    fn next(&mut self, ctx: &mut Context<Self>) {
        let Some(first) = self.queue.pop_front() else {
            return;
        };
        let mut batch = vec![first];
        let collect = self.queue_mode(&self.rt.config()) == QueueMode::Collect;
        // A reset and a message the gateway answers itself go alone.
        let alone = |act: &Self, m: &Inbound| {
            act.is_reset(&m.text)
                || m.gateway_answer.is_some()
                || commands::compact_focus(&m.text).is_some()
        };
        if collect && !alone(self, &batch[0]) {
            while let Some(m) = self.queue.front() {
                if alone(self, m) {
                    break;
                }
                batch.extend(self.queue.pop_front());
            }
        }
        self.start_turn(batch, ctx);
    }

    // -- idle -----------------------------------------------------------------------------

    /// Counts idleness from now (and arms the timer if it is not).
    fn touch(&mut self, ctx: &mut Context<Self>) {
        self.touched = actix_rt::time::Instant::now();
        if self.idle_timer.is_none() {
            let wait = self.idle_wait(&self.rt.config().runtime, Duration::ZERO);
            self.idle_timer = Some(ctx.run_later(wait, |act, ctx| act.idle(ctx)));
        }
    }

    /// How long the idle timer sleeps after `quiet` without a message: until the transcript
    /// may go (while it is held), or until the session may leave memory.
    fn idle_wait(&self, runtime: &crate::config::RuntimeConfig, quiet: Duration) -> Duration {
        let leave = runtime.session_idle.saturating_sub(quiet);
        match runtime.transcript_idle {
            Some(t) if self.transcript_held && quiet < t => leave.min(t - quiet),
            _ => leave,
        }
    }

    fn idle(&mut self, ctx: &mut Context<Self>) {
        self.idle_timer = None;
        let config = self.rt.config();
        let quiet = self.touched.elapsed();
        let busy = self.turn.is_some() || !self.queue.is_empty();
        if !busy
            && self.transcript_held
            && config.runtime.transcript_idle.is_some_and(|t| quiet >= t)
        {
            self.let_transcript_go();
        }
        if quiet < config.runtime.session_idle {
            let wait = self.idle_wait(&config.runtime, quiet);
            self.idle_timer = Some(ctx.run_later(wait, |act, ctx| act.idle(ctx)));
            return;
        }
        if busy {
            return self.touch(ctx);
        }
        if let Some(router) = self.rt.router() {
            router.do_send(SessionIdle {
                key: self.seed.key.clone(),
                received: self.received,
            });
        }
    }

    /// Sends a reply that is not a turn's answer; `answers` is the message it settles, marked
    /// done in the journal once the send is over.
    fn spawn_send(
        &self,
        reply: super::router::ReplyTo,
        message: OutboundMessage,
        answers: Option<Inbound>,
        ctx: &mut Context<Self>,
    ) {
        let rt = Arc::clone(&self.rt);
        ctx.spawn(actix::fut::wrap_future::<_, Self>(async move {
            let _ = rt.send_reply(&reply, message).await;
            rt.journal_done(answers.as_ref());
        }));
    }
}

/// The line `/usage tokens|full` puts under an answer.
fn usage_line(mode: &str, out: &TurnOutput) -> String {
    let mut line = format!(
        "\n\n— 🔢 {} in / {} out",
        out.usage.prompt_tokens, out.usage.completion_tokens
    );
    if mode == "full" {
        line.push_str(&format!(" · {} · {} tool calls", out.model, out.tool_calls));
    }
    line
}

/// Starts the card reply of a turn on the account's side.
/// Characters kept of a tool result from an earlier turn: the model has already used it, and
/// the answer it gave is in the transcript.
const OLD_TOOL_RESULT_CHARS: usize = 2_000;

/// The newest `limit` messages of a transcript as model messages. Only user messages and
/// final answers count toward `limit` (`historyLimit`); a turn's tool calls and results come
/// along with it. The window starts at a user message, so no tool result is cut from the
/// call it answers; results of earlier turns are shortened. After a compaction the model
/// sees its summary first, then the entries it kept and everything since.
pub(crate) fn history_window(
    transcript: &[TranscriptEntry],
    limit: usize,
    group: bool,
) -> Vec<ChatMessage> {
    let summary = transcript
        .iter()
        .rposition(|e| e.role == Role::Compaction)
        .map(|i| &transcript[i]);
    let first_kept = summary.map_or(0, |c| c.first_kept.unwrap_or(c.seq));
    let active: Vec<&TranscriptEntry> = transcript
        .iter()
        .filter(|e| e.role != Role::Compaction && e.seq >= first_kept)
        .collect();
    let mut counted = 0;
    let mut start = active.len();
    for (i, e) in active.iter().enumerate().rev() {
        if e.role == Role::User || e.is_final_answer() {
            if counted == limit {
                break;
            }
            counted += 1;
        }
        start = i;
    }
    while start < active.len() && active[start].role != Role::User {
        start += 1;
    }
    let last_user = active.iter().rposition(|e| e.role == Role::User);
    let mut out = Vec::with_capacity(active.len() - start + 1);
    if let Some(c) = summary {
        out.push(ChatMessage::user(compact::summary_message(&c.content)));
    }
    out.extend(
        active[start..]
            .iter()
            .enumerate()
            .map(|(i, e)| match e.role {
                Role::Assistant if e.tool_calls.is_empty() => {
                    ChatMessage::assistant(e.content.clone())
                }
                Role::Assistant => {
                    ChatMessage::assistant_calls(e.content.clone(), e.tool_calls.clone())
                }
                Role::Tool => {
                    let old = last_user.is_some_and(|u| start + i < u);
                    let content = if old && e.content.chars().count() > OLD_TOOL_RESULT_CHARS {
                        let kept: String = e.content.chars().take(OLD_TOOL_RESULT_CHARS).collect();
                        format!("{kept}\n[…shortened: an earlier turn's tool result]")
                    } else {
                        e.content.clone()
                    };
                    ChatMessage::tool(e.tool_call_id.clone().unwrap_or_default(), content)
                }
                Role::User | Role::Compaction => {
                    let mut m = if group {
                        ChatMessage::user(format!(
                            "{}: {}",
                            e.sender_name
                                .as_deref()
                                .or(e.sender.as_deref())
                                .unwrap_or("user"),
                            e.content
                        ))
                    } else {
                        ChatMessage::user(e.content.clone())
                    };
                    m.images = e
                        .attachments
                        .iter()
                        .filter(|a| a.kind == crate::media::AttachmentKind::Image)
                        .map(|a| crate::provider::ImagePart {
                            mime: a.mime.clone(),
                            sha256: a.sha256.clone(),
                            size: a.size,
                            path: a.path.clone(),
                            name: a.name.clone(),
                            data: None,
                        })
                        .collect();
                    m
                }
            }),
    );
    out
}

fn open_card(rt: &Arc<Runtime>, turn: &Turn) -> Option<CardLink> {
    let reply = turn.messages.last()?.reply.clone();
    let (live, live_rx) = watch::channel(String::new());
    let (done, done_rx) = oneshot::channel();
    let (outcome_tx, outcome) = oneshot::channel();
    let rt = Arc::clone(rt);
    actix_rt::spawn(async move {
        let result = rt.stream_reply(&reply, live_rx, done_rx).await;
        let _ = outcome_tx.send(result);
    });
    Some(CardLink {
        live,
        done,
        outcome,
    })
}

impl Drop for SessionActor {
    fn drop(&mut self) {
        self.rt
            .counters
            .session_actors
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(0);
        if self.session_id.is_empty() {
            self.load(false, ctx);
        }
        self.touch(ctx);
    }
}

impl Supervised for SessionActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        // The old context's timer is gone with it; `started` arms a new one.
        self.idle_timer = None;
        let plan = self.restarts.record(ActorKind::Session);
        if plan.budget_exhausted
            && let Some(turn) = self.turn.as_mut()
            && turn.answer.is_none()
        {
            // The turn keeps crashing the session itself: answer it with an apology instead.
            turn.answer = Some(CRASH_REPLY.to_owned());
        }
        resume_after(ctx, plan.backoff, |act: &mut Self, ctx| {
            // State is reloaded from the store: what was committed is the truth. `load` waits,
            // so the turn is redone only once the transcript is back.
            act.load(true, ctx);
            resume_after(ctx, Duration::ZERO, |act: &mut Self, ctx| {
                let key = act.key();
                guard(act, ctx, ActorKind::Session, &key, |act, ctx| {
                    if act.turn.is_some() {
                        act.run_turn(ctx);
                    } else {
                        act.next(ctx);
                    }
                });
            });
        });
    }
}

impl Handler<UserMessage> for SessionActor {
    type Result = ();

    fn handle(&mut self, msg: UserMessage, ctx: &mut Self::Context) {
        let key = self.key();
        guard(self, ctx, ActorKind::Session, &key, |act, ctx| {
            act.accept(msg.0, ctx)
        });
    }
}

impl Handler<ResetSession> for SessionActor {
    type Result = String;

    /// Answers the new session id.
    fn handle(&mut self, _: ResetSession, _: &mut Self::Context) -> Self::Result {
        tracing::info!(session = %self.seed.key, "session reset by the operator");
        self.start_new_session();
        self.session_id.clone()
    }
}

impl Handler<GetSessionState> for SessionActor {
    type Result = MessageResult<GetSessionState>;

    fn handle(&mut self, _: GetSessionState, _: &mut Self::Context) -> Self::Result {
        MessageResult(SessionState {
            key: self.seed.key.to_string(),
            agent_id: self.seed.agent_id.to_string(),
            session_id: self.session_id.clone(),
            busy: self.turn.is_some(),
            queued: self.queue.len(),
            entries: self.transcript.len(),
            restarts: self.restarts.total(),
            prompt_tokens: self.usage.prompt_tokens,
            completion_tokens: self.usage.completion_tokens,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{ChatRole, ToolCall};

    fn entry(seq: u64, role: Role, text: &str) -> TranscriptEntry {
        TranscriptEntry::message(seq, role, text.into(), 0)
    }

    fn calls(seq: u64, id: &str) -> TranscriptEntry {
        let mut e = entry(seq, Role::Assistant, "");
        e.tool_calls = vec![ToolCall {
            id: id.into(),
            name: "web_fetch".into(),
            arguments: "{}".into(),
        }];
        e
    }

    fn result(seq: u64, id: &str, text: &str) -> TranscriptEntry {
        let mut e = entry(seq, Role::Tool, text);
        e.tool_call_id = Some(id.into());
        e
    }

    #[test]
    fn the_history_limit_counts_messages_and_keeps_tool_rounds_whole() {
        let long = "x".repeat(5_000);
        let t = vec![
            entry(1, Role::User, "q1"),
            calls(2, "c1"),
            result(3, "c1", &long),
            entry(4, Role::Assistant, "a1"),
            entry(5, Role::User, "q2"),
            calls(6, "c2"),
            result(7, "c2", &long),
            entry(8, Role::Assistant, "a2"),
            entry(9, Role::User, "q3"),
        ];
        // Three messages back: q2, a2, q3, with q2's tool round between them.
        let h = history_window(&t, 3, false);
        let roles: Vec<ChatRole> = h.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                ChatRole::User,
                ChatRole::Assistant,
                ChatRole::Tool,
                ChatRole::Assistant,
                ChatRole::User
            ]
        );
        assert_eq!(h[0].content, "q2");
        assert_eq!(h[2].tool_call_id.as_deref(), Some("c2"));
        assert!(
            h[2].content.len() < 2_100,
            "an earlier turn's result is shortened"
        );
        // A window that would start inside a tool round starts at the next user message.
        let h = history_window(&t, 4, false);
        assert_eq!(
            h[0].content, "q2",
            "no orphaned tool result or answer at the start"
        );
        // Everything when the limit is larger; the current turn's results stay whole.
        let mut t2 = t.clone();
        t2.extend([calls(10, "c3"), result(11, "c3", &long)]);
        let h = history_window(&t2, 50, true);
        assert_eq!(h.len(), 11);
        assert_eq!(h[0].content, "user: q1", "group lines say who spoke");
        assert_eq!(h[10].content.len(), 5_000);
    }
}
