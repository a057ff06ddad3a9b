//! Load runs: the simulator itself plays many users, so a benchmark measures the gateway
//! through real sockets without an HTTP request per message. `POST /sim/load` starts a run
//! (bots, conversations, the DM/group mix, messages per conversation, an open-loop rate or a
//! closed loop, a duration); `GET /sim/load` reports it. Every message is a real bot callback
//! frame with its own sessionWebhook; a reply is timed from the push of the frame to its
//! arrival at that webhook (hdrhistogram), ACKs from push to ACK. Replies that never come are
//! lost, second replies to one message are duplicates.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use dingclaw_actors::dingtalk::api::now_ms;
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use super::model::*;
use super::state::{Inner, Sim, SimError, WebhookSession};
use super::stream::{Payload, Push, payload, send_all};

/// msgIds of load messages start with this.
pub(super) const LOAD_MSG_PREFIX: &str = "msgload";

/// Longest latency kept in the histograms (µs).
const MAX_LATENCY_US: u64 = 600_000_000;
/// How often an open-loop run releases the messages that are due.
const TICK: Duration = Duration::from_millis(2);

/// `POST /sim/load`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoadRequest {
    /// Bots (clientIds) the users talk to; each must exist.
    pub bots: Vec<String>,
    /// Conversations per bot.
    pub conversations_per_bot: usize,
    /// Share of conversations that are groups (the rest are DMs), 0-100.
    #[serde(default)]
    pub group_percent: u8,
    /// Share of messages that are pictures, 0-100.
    #[serde(default)]
    pub picture_percent: u8,
    /// Messages per conversation; 0: no limit (until `durationMs`).
    #[serde(default)]
    pub messages_per_conversation: usize,
    /// Messages per second (open loop); 0: closed loop, each conversation sending its next
    /// message when the previous one is answered.
    #[serde(default)]
    pub rate: f64,
    /// How long messages are sent.
    pub duration_ms: u64,
    /// How long to wait for the last replies after sending stops.
    #[serde(default = "default_drain_ms")]
    pub drain_ms: u64,
    /// Messages a conversation sends each time its turn comes (open loop), `burstGapMs`
    /// apart: 0 or 1 is one message. The rate then counts bursts.
    #[serde(default)]
    pub burst: usize,
    /// The pause between the messages of a burst.
    #[serde(default)]
    pub burst_gap_ms: u64,
}

fn default_drain_ms() -> u64 {
    30_000
}

/// Latency percentiles in microseconds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Their mean.
    pub mean: f64,
    /// The median.
    pub p50: u64,
    /// 90 % were at most this.
    pub p90: u64,
    /// 99 % were at most this.
    pub p99: u64,
    /// 99.9 % were at most this.
    pub p999: u64,
    /// The largest.
    pub max: u64,
}

impl Percentiles {
    /// The percentiles of `h`.
    pub fn of(h: &Histogram<u64>) -> Self {
        Self {
            count: h.len(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// One second of a run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Second {
    /// Messages sent in that second.
    pub sent: u64,
    /// Answers received in that second.
    pub answered: u64,
    /// Median latency of those answers.
    pub p50_us: u64,
    /// 99th percentile latency of those answers.
    pub p99_us: u64,
}

/// `GET /sim/load`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    /// The run has not ended.
    pub running: bool,
    /// Messages are still being sent.
    pub sending: bool,
    /// Time since the start.
    pub elapsed_ms: u64,
    /// When sending stopped, ms after the start.
    pub send_ms: u64,
    /// Conversations in the run.
    pub conversations: usize,
    /// Messages sent.
    pub sent: u64,
    /// Messages answered.
    pub answered: u64,
    /// Sent and never answered (known when the run has ended).
    pub lost: u64,
    /// Messages answered more than once.
    pub duplicated: u64,
    /// Answers that came after the answer to a later message of the same conversation,
    /// though the gateway had acknowledged them first: it answered out of order.
    #[serde(default)]
    pub out_of_order: u64,
    /// Answers that came after a later message's because the gateway acknowledged them
    /// later (DingTalk pushed them again, or they reached a slower connection): the order
    /// the gateway took them in, kept.
    #[serde(default)]
    pub taken_out_of_order: u64,
    /// For each message answered twice, when (Unix ms) its first answer arrived: a chaos test
    /// checks these against the moments it killed the gateway.
    #[serde(default)]
    pub duplicates_first_answered_ms: Vec<i64>,
    /// Messages that could not be pushed (no connection, and holding is off).
    pub unpushed: u64,
    /// From a message's push to its answer, in µs.
    pub latency_us: Percentiles,
    /// From a push to its acknowledgement, in µs.
    pub ack_us: Percentiles,
    /// Each second of the run.
    pub seconds: Vec<Second>,
}

/// One simulated conversation.
struct Conv {
    bot: String,
    user: UserInfo,
    cid: String,
    group: bool,
    sent: usize,
    /// The newest message (by its number in the conversation) answered so far.
    answered_upto: usize,
    /// Its msgId.
    answered_upto_msg: String,
    /// The sessionWebhooks of its messages not answered yet, oldest first: an AI card does
    /// not say which message it answers, so a finished card is taken to answer the oldest,
    /// as outside load runs.
    awaiting: std::collections::VecDeque<String>,
}

/// A run in progress, kept in the simulator's state.
pub(super) struct LoadRun {
    req: LoadRequest,
    started: Instant,
    sending_until: Option<Duration>,
    ended: bool,
    convs: Vec<Conv>,
    report: LoadReport,
    latency: Histogram<u64>,
    ack: Histogram<u64>,
    per_second: Vec<(u64, u64, Histogram<u64>)>,
    /// Conversations whose message was answered (closed loop).
    ready: Option<mpsc::UnboundedSender<usize>>,
    /// Messages pushed again because no ACK came in time.
    pub(super) redelivered: std::collections::HashSet<String>,
    /// When each message was first acknowledged.
    acked: std::collections::HashMap<String, Instant>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("constant histogram bounds are valid")
}

/// The load part of a sessionWebhook: which conversation, and when its frame was pushed.
#[derive(Clone, Copy, Debug)]
pub(super) struct LoadTag {
    pub conv: usize,
    /// The message's number in its conversation, from 1.
    pub n: usize,
    pub pushed: Instant,
    pub answered: bool,
    /// When (Unix ms) the first answer arrived.
    pub answered_ms: i64,
}

impl LoadRun {
    fn second(&mut self) -> &mut (u64, u64, Histogram<u64>) {
        let i = self.started.elapsed().as_secs() as usize;
        while self.per_second.len() <= i {
            self.per_second.push((0, 0, histogram()));
        }
        &mut self.per_second[i]
    }

    fn snapshot(&self) -> LoadReport {
        let mut r = self.report.clone();
        r.running = !self.ended;
        r.sending = self.sending_until.is_none();
        r.elapsed_ms = self.started.elapsed().as_millis() as u64;
        r.send_ms = self
            .sending_until
            .map_or(r.elapsed_ms, |d| d.as_millis() as u64);
        r.conversations = self.convs.len();
        r.latency_us = Percentiles::of(&self.latency);
        r.ack_us = Percentiles::of(&self.ack);
        r.seconds = self
            .per_second
            .iter()
            .map(|(sent, answered, h)| Second {
                sent: *sent,
                answered: *answered,
                p50_us: if h.is_empty() {
                    0
                } else {
                    h.value_at_quantile(0.5)
                },
                p99_us: if h.is_empty() {
                    0
                } else {
                    h.value_at_quantile(0.99)
                },
            })
            .collect();
        if self.ended {
            r.lost = r.sent.saturating_sub(r.answered);
        }
        r
    }
}

impl Sim {
    /// A reply reached the sessionWebhook of a load message.
    pub(super) fn load_reply(inner: &mut Inner, tag: &mut LoadTag, msg_id: &str) {
        let Some(run) = inner.load.as_mut() else {
            return;
        };
        if tag.answered {
            run.report.duplicated += 1;
            run.report
                .duplicates_first_answered_ms
                .push(tag.answered_ms);
            return;
        }
        tag.answered = true;
        tag.answered_ms = dingclaw_actors::dingtalk::api::now_ms();
        if let Some(conv) = run.convs.get_mut(tag.conv) {
            if tag.n < conv.answered_upto {
                // The gateway's order is the order it took messages in (acknowledged them):
                // one DingTalk pushed again, or that reached a slower connection, came after
                // its successor, and answering it later is right.
                let acked = |id: &str| run.acked.get(id).copied();
                let taken_later = match (acked(msg_id), acked(&conv.answered_upto_msg)) {
                    (Some(mine), Some(newer)) => mine > newer,
                    _ => run.redelivered.contains(msg_id),
                };
                if taken_later {
                    run.report.taken_out_of_order += 1;
                } else {
                    run.report.out_of_order += 1;
                }
            } else {
                conv.answered_upto = tag.n;
                conv.answered_upto_msg = msg_id.to_owned();
            }
        }
        let us = (tag.pushed.elapsed().as_micros() as u64).clamp(1, MAX_LATENCY_US);
        let _ = run.latency.record(us);
        run.report.answered += 1;
        let second = run.second();
        second.1 += 1;
        let _ = second.2.record(us);
        if let Some(ready) = &run.ready {
            let _ = ready.send(tag.conv);
        }
    }

    /// The sessionWebhook `session` of a message of load conversation `conv` was answered.
    pub(super) fn load_answered(inner: &mut Inner, conv: usize, session: &str) {
        if let Some(queue) = inner
            .load
            .as_mut()
            .and_then(|r| r.convs.get_mut(conv))
            .map(|c| &mut c.awaiting)
            && let Some(at) = queue.iter().position(|s| s == session)
        {
            queue.remove(at);
        }
    }

    /// The load conversation an AI card is delivered to: a load group `id` the bot is in, or
    /// the DM of the load user whose staff id is `id`.
    pub(super) fn load_card_space(
        inner: &Inner,
        bot: &str,
        group: bool,
        id: &str,
    ) -> Option<String> {
        let run = inner.load.as_ref()?;
        run.convs
            .iter()
            .find(|c| {
                c.bot == bot
                    && c.group == group
                    && if group {
                        c.cid == id
                    } else {
                        c.user.user_id == id
                    }
            })
            .map(|c| c.cid.clone())
    }

    /// A card finished in load conversation (`cid`, `bot`): it answers the oldest message
    /// there not answered yet. False when `cid` has none (not a load conversation).
    pub(super) fn load_card_reply(inner: &mut Inner, cid: &str, bot: &str) -> bool {
        let Some(session) = inner
            .load
            .as_mut()
            .and_then(|r| r.convs.iter_mut().find(|c| c.bot == bot && c.cid == cid))
            .and_then(|c| c.awaiting.pop_front())
        else {
            return false;
        };
        let Some((msg_id, mut tag)) = inner
            .sessions
            .get(&session)
            .and_then(|s| Some((s.msg_id.clone(), s.load?)))
        else {
            return false;
        };
        Sim::load_reply(inner, &mut tag, &msg_id);
        if let Some(s) = inner.sessions.get_mut(&session) {
            s.load = Some(tag);
        }
        true
    }

    /// An ACK of a frame pushed during a load run.
    pub(super) fn load_ack(inner: &mut Inner, msg_id: &str, latency_us: u64) {
        if let Some(run) = inner.load.as_mut() {
            let _ = run.ack.record(latency_us.clamp(1, MAX_LATENCY_US));
            run.acked
                .entry(msg_id.to_owned())
                .or_insert_with(Instant::now);
        }
    }

    /// Sends the next message of conversation `i`, if it has one left.
    /// Sends conversation `i`'s next message: `None` when the conversation has sent all it
    /// should, else the frame to push (none when its connection is stalled or it is held).
    fn load_send(&self, inner: &mut Inner, i: usize) -> Option<Option<Push>> {
        let run = inner.load.as_mut()?;
        let limit = run.req.messages_per_conversation;
        let conv = run.convs.get_mut(i)?;
        if limit > 0 && conv.sent >= limit {
            return None;
        }
        conv.sent += 1;
        let (bot, user, cid, group, n) = (
            conv.bot.clone(),
            conv.user.clone(),
            conv.cid.clone(),
            conv.group,
            conv.sent,
        );
        run.report.sent += 1;
        run.second().0 += 1;
        let Some(bot_info) = inner.bots.get(&bot).cloned() else {
            return Some(None);
        };
        let msg_id = format!("{LOAD_MSG_PREFIX}{}", random_b64(12));
        let session = random_b64(24).replace(['+', '/', '='], "x");
        let now = now_ms();
        let expires = now + self.opts.webhook_ttl.as_millis() as i64;
        let text = format!("message {n} from {}", user.user_id);
        let webhook = format!("{}/robot/sendBySession?session={session}", self.base_url());
        // Every so many messages a picture (spread over the run, not random, so runs compare).
        let pct = u64::from(run_picture_percent(inner));
        let sent_total = inner.load.as_ref().map_or(0, |r| r.report.sent);
        let media = (pct > 0 && (sent_total * 37) % 100 < pct).then(|| {
            let code = random_b64(18);
            let file = super::media::SimFile {
                name: "photo.png".into(),
                mime: "image/png".into(),
                data: Some(bench_picture()),
                size: BENCH_PICTURE_BYTES as u64,
                expires_ms: now + super::media::CODE_TTL_MS,
                fail: false,
            };
            let m = file.media(Some(code.clone()), None);
            inner.files.insert(code, file);
            m
        });
        let data = payload(
            &Payload {
                bot: &bot_info,
                user: &user,
                cid: &cid,
                title: group.then_some("load group"),
                group,
                msg_id: &msg_id,
                msgtype: if media.is_some() { "picture" } else { "text" },
                text: &text,
                session_webhook: &webhook,
                create_at: now,
                expires,
                mentioned: std::slice::from_ref(&bot),
                media: media.as_ref(),
                replied: None,
            },
            &inner.bots,
        );
        let (delivered, push) = self.push_frame(inner, &bot, msg_id.clone(), data, 0, false);
        // With no connection the message is either held for the bot (and pushed when it
        // reconnects, so it still counts) or refused.
        if delivered.is_none() && !inner.chaos.hold_when_offline {
            if let Some(run) = inner.load.as_mut() {
                run.report.unpushed += 1;
            }
            return Some(None);
        }
        if let Some(conv) = inner.load.as_mut().and_then(|r| r.convs.get_mut(i)) {
            conv.awaiting.push_back(session.clone());
        }
        inner.sessions.insert(
            session,
            WebhookSession {
                bot,
                conversation_id: cid,
                msg_id,
                expires_ms: expires,
                expired: false,
                load: Some(LoadTag {
                    conv: i,
                    n,
                    pushed: Instant::now(),
                    answered: false,
                    answered_ms: 0,
                }),
            },
        );
        Some(push)
    }

    /// Starts a run; refused while another runs.
    pub fn start_load(self: &Arc<Self>, req: LoadRequest) -> Result<(), SimError> {
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut inner = self.lock();
            if inner.load.as_ref().is_some_and(|r| !r.ended) {
                return Err(SimError::Invalid("a load run is in progress".to_owned()));
            }
            for b in &req.bots {
                if !inner.bots.contains_key(b) {
                    return Err(SimError::NotFound(format!("no bot \"{b}\"")));
                }
            }
            // Old load sessions are dropped with the old run.
            inner.sessions.retain(|_, s| s.load.is_none());
            let mut convs = Vec::with_capacity(req.bots.len() * req.conversations_per_bot);
            for (b, bot) in req.bots.iter().enumerate() {
                for i in 0..req.conversations_per_bot {
                    let group = (i * 100) < req.group_percent as usize * req.conversations_per_bot;
                    let user = UserInfo {
                        user_id: format!("load{b}u{i}"),
                        sender_id: format!("$:LWCP_v1:$load{b}u{i}"),
                        name: format!("load user {i}"),
                        external: false,
                    };
                    let cid = if group {
                        format!("cidLoad{b}g{i}==")
                    } else {
                        format!("cidLoad{b}d{i}==")
                    };
                    convs.push(Conv {
                        bot: bot.clone(),
                        user,
                        cid,
                        group,
                        sent: 0,
                        answered_upto: 0,
                        answered_upto_msg: String::new(),
                        awaiting: std::collections::VecDeque::new(),
                    });
                }
            }
            inner.load = Some(LoadRun {
                ready: (req.rate <= 0.0).then(|| tx.clone()),
                req: req.clone(),
                started: Instant::now(),
                sending_until: None,
                ended: false,
                convs,
                report: LoadReport::default(),
                latency: histogram(),
                ack: histogram(),
                per_second: Vec::new(),
                redelivered: std::collections::HashSet::new(),
                acked: std::collections::HashMap::new(),
            });
        }
        let sim = Arc::clone(self);
        actix_rt::spawn(async move { sim.drive(req, rx).await });
        Ok(())
    }

    async fn drive(self: Arc<Self>, req: LoadRequest, mut ready: mpsc::UnboundedReceiver<usize>) {
        let started = Instant::now();
        let duration = Duration::from_millis(req.duration_ms);
        let total = req.bots.len() * req.conversations_per_bot;
        if total > 0 && req.rate > 0.0 {
            // Open loop: messages go out at the rate, round-robin over the conversations.
            let (mut sent, mut next, mut exhausted) = (0u64, 0usize, 0usize);
            while started.elapsed() < duration && exhausted < total {
                let due = (started.elapsed().as_secs_f64() * req.rate) as u64;
                let mut pushes = Vec::new();
                {
                    let mut inner = self.lock();
                    while sent < due && exhausted < total {
                        match self.load_send(&mut inner, next) {
                            Some(p) => {
                                pushes.extend(p);
                                exhausted = 0;
                                if req.burst > 1 {
                                    self.burst_rest(next, req.burst - 1, req.burst_gap_ms);
                                }
                            }
                            None => exhausted += 1,
                        }
                        sent += 1;
                        next = (next + 1) % total;
                    }
                }
                send_all(pushes).await;
                actix_rt::time::sleep(TICK).await;
            }
        } else if total > 0 {
            // Closed loop: one message per conversation in flight, until the duration is up
            // or every conversation has sent its `messagesPerConversation`.
            let mut exhausted = 0usize;
            let first: Vec<Push> = {
                let mut inner = self.lock();
                (0..total)
                    .filter_map(|i| match self.load_send(&mut inner, i) {
                        Some(push) => push,
                        None => {
                            exhausted += 1;
                            None
                        }
                    })
                    .collect()
            };
            send_all(first).await;
            let deadline = tokio::time::Instant::now() + duration;
            while exhausted < total {
                let Ok(Some(i)) = tokio::time::timeout_at(deadline, ready.recv()).await else {
                    break;
                };
                let push = {
                    let mut inner = self.lock();
                    self.load_send(&mut inner, i)
                };
                match push {
                    Some(Some(p)) => send_all(vec![p]).await,
                    Some(None) => {}
                    None => exhausted += 1,
                }
            }
        }
        let stopped = started.elapsed();
        {
            let mut inner = self.lock();
            if let Some(run) = inner.load.as_mut() {
                run.sending_until = Some(stopped);
                run.ready = None;
            }
        }
        // The last replies.
        let drain_until = Instant::now() + Duration::from_millis(req.drain_ms);
        while Instant::now() < drain_until {
            let done = self
                .lock()
                .load
                .as_ref()
                .is_none_or(|r| r.report.answered >= r.report.sent);
            if done {
                break;
            }
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
        if let Some(run) = self.lock().load.as_mut() {
            run.ended = true;
        }
    }

    /// The rest of a burst: `left` more messages of conversation `i`, `gap_ms` apart.
    fn burst_rest(self: &Arc<Self>, i: usize, left: usize, gap_ms: u64) {
        let sim = Arc::clone(self);
        actix_rt::spawn(async move {
            for _ in 0..left {
                actix_rt::time::sleep(Duration::from_millis(gap_ms)).await;
                let push = {
                    let mut inner = sim.lock();
                    if inner.load.as_ref().is_none_or(|r| r.ended) {
                        return;
                    }
                    sim.load_send(&mut inner, i).flatten()
                };
                send_all(push.into_iter().collect()).await;
            }
        });
    }

    /// The report of the run in progress (or the last one).
    pub fn load_report(&self) -> Option<LoadReport> {
        self.lock().load.as_ref().map(LoadRun::snapshot)
    }
}

pub(super) async fn start(sim: web::Data<Arc<Sim>>, body: web::Json<LoadRequest>) -> HttpResponse {
    match sim.start_load(body.into_inner()) {
        Ok(()) => HttpResponse::Accepted().json(json!({"started": true})),
        Err(SimError::NotFound(m)) => HttpResponse::NotFound().json(json!({"error": m})),
        Err(SimError::Invalid(m)) => HttpResponse::Conflict().json(json!({"error": m})),
    }
}

pub(super) async fn report(sim: web::Data<Arc<Sim>>) -> HttpResponse {
    match sim.load_report() {
        Some(r) => HttpResponse::Ok().json(r),
        None => HttpResponse::NotFound().json(json!({"error": "no load run yet"})),
    }
}

/// Size of the picture load runs send.
const BENCH_PICTURE_BYTES: usize = 24 * 1024;

/// A 24 KB "picture" (a PNG header and padding), shared by every message that sends one.
fn bench_picture() -> std::sync::Arc<Vec<u8>> {
    static PICTURE: std::sync::OnceLock<std::sync::Arc<Vec<u8>>> = std::sync::OnceLock::new();
    std::sync::Arc::clone(PICTURE.get_or_init(|| {
        let mut bytes = super::media::TINY_PNG.to_vec();
        bytes.resize(BENCH_PICTURE_BYTES, 0x5a);
        std::sync::Arc::new(bytes)
    }))
}

fn run_picture_percent(inner: &Inner) -> u8 {
    inner.load.as_ref().map_or(0, |r| r.req.picture_percent)
}
