//! AccountActor: one per DingTalk account. Owns the account's Stream client (a child actor
//! that keeps the connection) and its outbound API; hands each new bot message to the
//! router and sends replies.
//!
//! With the inbound journal on (`dingclaw.journal`, the default) a new bot message is
//! written to the store first and acknowledged and routed once that commit is done. Messages
//! that arrive during a commit wait and go together in the next one, so one account has one
//! commit in flight, messages keep their arrival order, and a burst costs one transaction.
//! If the store fails (disk full), the messages are answered anyway, without the journal's
//! crash protection: a user should not pay for a full disk.
//!
//! Replies run as tasks detached from the actor, on its thread: a restart of the actor (after
//! a panic) does not cancel a reply in flight.
//!
//! In a cluster (`dingclaw.cluster`) the actor runs on every instance, for replies, and its
//! connection only where the ClusterActor places the bot. A message is journaled with its
//! session key (the routing rules are the same everywhere); the journal's answer says
//! whether it is new and who holds its session. Only journaled messages are acknowledged: a
//! failed journal commit is tried again, and DingTalk redelivers meanwhile, so an ACKed
//! message is always in the shared journal.

mod messages;

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;

pub use messages::{
    AccountState, Connect, DownloadMedia, GetAccountState, React, SendMedia, SendReply,
    StopAccount, StreamReply, UpdateAccount,
};

use crate::config::DingTalkAccount;
use crate::dingtalk::{
    AccessTokenCache, BotMessageReceived, DingTalkApi, DingTalkError, DownloadError,
    GetStreamState, MediaMessage, ReplyOutcome, Shutdown, StatusChanged, StreamClient,
    StreamStatus, reply_streaming,
};
use crate::fault::{FaultPoint, check};
use crate::store::{JournalEntry, WriteOp};
use crate::supervise::{ActorKind, Restarts, catch, guard, resume_after};

use super::router::Inbound;
use super::runtime::{Runtime, RuntimeEvent};

/// One DingTalk account: its Stream client, its OpenAPI calls and its inbound journal.
pub struct AccountActor {
    account: Arc<DingTalkAccount>,
    rt: Arc<Runtime>,
    /// Built in `started`, on this actor's thread.
    api: Option<DingTalkApi>,
    tokens: Arc<AccessTokenCache>,
    stream: Option<Addr<StreamClient>>,
    /// Journal on: messages are acknowledged and routed after their journal commit.
    journal: bool,
    /// msgIds an earlier process journaled, with their age, for the duplicate filter.
    seen: Vec<(String, Duration)>,
    /// Received, waiting for the next journal commit.
    waiting: Vec<BotMessageReceived>,
    /// In the journal commit running now; committed again after a restart.
    committing: Vec<BotMessageReceived>,
    /// Committed, to be acknowledged and routed in order.
    ready: VecDeque<BotMessageReceived>,
    /// The message being handed over, redone after a restart.
    in_flight: Option<BotMessageReceived>,
    /// In a cluster: the connection waits for `Connect(true)`.
    clustered: bool,
    /// Committed in a cluster: who holds each message's session (`None`: a duplicate).
    placed: VecDeque<Option<Placed>>,
    restarts: Restarts,
}

/// Room kept in the emptied queue of committed messages.
const QUEUE_ROOM_KEPT: usize = 256;

/// Where a message journaled in a cluster goes.
struct Placed {
    key: String,
    /// `Some(epoch)`: this instance holds the session.
    here: Option<u64>,
    session_seq: u64,
    /// The lease generation the commit began in.
    generation: u64,
}

/// Pause before a failed cluster journal commit is tried again.
const JOURNAL_RETRY: Duration = Duration::from_millis(200);

impl AccountActor {
    /// An account actor for `account`; its Stream client starts with the actor.
    pub fn new(account: Arc<DingTalkAccount>, rt: Arc<Runtime>) -> Self {
        let journal = rt.config().runtime.journal;
        Self {
            account,
            rt,
            api: None,
            tokens: Arc::new(AccessTokenCache::new()),
            stream: None,
            journal,
            seen: Vec::new(),
            waiting: Vec::new(),
            committing: Vec::new(),
            ready: VecDeque::new(),
            in_flight: None,
            clustered: false,
            placed: VecDeque::new(),
            restarts: Restarts::default(),
        }
    }

    /// In a cluster: connect only when told to (`Connect`), journal through the cluster.
    pub fn clustered(mut self) -> Self {
        self.clustered = true;
        self
    }

    /// msgIds from the journal of an earlier process, with how long ago each arrived.
    pub fn remembering(mut self, seen: Vec<(String, Duration)>) -> Self {
        self.seen = seen;
        self
    }

    fn receive(&mut self, msg: BotMessageReceived, ctx: &mut Context<Self>) {
        // Without a pending ACK (journal off) the connection has acknowledged it already.
        if msg.ack.is_none() {
            return self.forward(msg);
        }
        self.waiting.push(msg);
        self.commit_next(ctx);
    }

    /// Starts the next journal commit, unless one is running.
    fn commit_next(&mut self, ctx: &mut Context<Self>) {
        if !self.committing.is_empty() || self.waiting.is_empty() {
            return;
        }
        self.committing = std::mem::take(&mut self.waiting);
        if self.clustered {
            return self.commit_clustered(ctx);
        }
        let ops = self.committing.iter().map(journal_entry).collect();
        let store = self.rt.store.clone();
        let started = Instant::now();
        let commit = async move { store.commit(ops).await };
        ctx.spawn(commit.into_actor(self).map(move |res, act, ctx| {
            crate::telemetry::journal_commit(started.elapsed());
            if let Err(e) = res {
                tracing::error!(
                    account = %act.account.id, error = %e, messages = act.committing.len(),
                    "could not journal messages; answering them without crash protection"
                );
            }
            act.ready.extend(act.committing.drain(..));
            let id = act.account.id.clone();
            guard(act, ctx, ActorKind::Account, &id, |act, _| act.release());
            act.commit_next(ctx);
        }));
    }

    /// The cluster's journal commit: each message with its session key, in one transaction.
    fn commit_clustered(&mut self, ctx: &mut Context<Self>) {
        let (Some(cluster), Some(store)) = (self.rt.cluster(), self.rt.store.cluster()) else {
            return;
        };
        let routes = self.rt.routes();
        let channel = self.account.channel();
        let rows: Vec<crate::store::RoutedEntry> = self
            .committing
            .iter()
            .map(|m| crate::store::RoutedEntry {
                // Only what routing reads: the message itself is parsed by its holder.
                session_key: routes
                    .route(&crate::routing::Inbound {
                        channel,
                        account: &m.account,
                        chat: m.message.chat,
                        conversation_id: &m.message.conversation_id,
                        sender_id: m.message.sender(),
                    })
                    .session_key
                    .to_string(),
                entry: journal_row(m),
            })
            .collect();
        let keys: Vec<String> = rows.iter().map(|r| r.session_key.clone()).collect();
        let generation = cluster.generation();
        let commit = store.journal(&cluster.me, cluster.ttl_ms(), rows);
        let started = Instant::now();
        ctx.spawn(commit.into_actor(self).map(move |res, act, ctx| {
            crate::telemetry::journal_commit(started.elapsed());
            match res {
                Ok(outcomes) => {
                    for (key, outcome) in keys.into_iter().zip(outcomes) {
                        act.placed.push_back(act.place(key, outcome, generation));
                    }
                    act.ready.extend(act.committing.drain(..));
                    let id = act.account.id.clone();
                    guard(act, ctx, ActorKind::Account, &id, |act, _| act.release());
                    act.commit_next(ctx);
                }
                Err(e) => {
                    tracing::error!(
                        account = %act.account.id, error = %e, messages = act.committing.len(),
                        "could not journal messages in the shared store; not acknowledged, trying again"
                    );
                    act.waiting.splice(0..0, act.committing.drain(..));
                    ctx.run_later(JOURNAL_RETRY, |act, ctx| act.commit_next(ctx));
                }
            }
        }));
    }

    /// What the cluster journal said about one message.
    fn place(
        &self,
        key: String,
        outcome: crate::store::Journaled,
        generation: u64,
    ) -> Option<Placed> {
        use crate::store::{Journaled, LeaseHolder};
        use std::sync::atomic::Ordering::Relaxed;
        let cluster = self.rt.cluster()?;
        match outcome {
            Journaled::Duplicate => {
                cluster.counters.duplicates.fetch_add(1, Relaxed);
                None
            }
            Journaled::New { session_seq, owner } => {
                let here = match owner {
                    LeaseHolder::Me { epoch } => Some(epoch),
                    LeaseHolder::Other { .. } => {
                        cluster.counters.wakeups_sent.fetch_add(1, Relaxed);
                        None
                    }
                };
                Some(Placed {
                    key,
                    here,
                    session_seq,
                    generation,
                })
            }
        }
    }

    /// Acknowledges and routes committed messages, in order.
    fn release(&mut self) {
        while let Some(msg) = self.ready.pop_front() {
            if let Some(ack) = &msg.ack {
                ack.send();
            }
            if self.clustered {
                self.hand_to_holder(msg);
            } else {
                self.forward(msg);
            }
        }
        // A burst's batch grew the queue; an emptied queue keeps only a small one's room
        // (one allocation per large batch, where a kept queue held megabytes for good).
        if self.ready.capacity() > QUEUE_ROOM_KEPT {
            self.ready.shrink_to(QUEUE_ROOM_KEPT);
        }
        if self.placed.is_empty() && self.placed.capacity() > QUEUE_ROOM_KEPT {
            self.placed.shrink_to(QUEUE_ROOM_KEPT);
        }
    }

    /// A message journaled in a cluster goes to this instance's ClusterActor when its
    /// session is held here; otherwise the holder was woken by the journal's notification.
    fn hand_to_holder(&mut self, msg: BotMessageReceived) {
        let Some(Some(placed)) = self.placed.pop_front() else {
            return;
        };
        let (Some(epoch), Some(addr)) = (placed.here, self.rt.cluster_addr()) else {
            return;
        };
        addr.do_send(super::cluster::JournaledHere {
            key: placed.key,
            epoch,
            session_seq: placed.session_seq,
            generation: placed.generation,
            message: msg,
        });
    }

    fn forward(&mut self, msg: BotMessageReceived) {
        self.in_flight = Some(msg.clone());
        check(FaultPoint::AccountInbound, &self.account.id);
        if let Some(router) = self.rt.router() {
            router.do_send(Inbound::from_dingtalk(&msg, self.account.channel()));
        }
        self.in_flight = None;
    }
}

impl Actor for AccountActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(0);
        if self.api.is_none() {
            self.api = Some(DingTalkApi::new(
                Arc::clone(&self.account),
                Arc::clone(&self.tokens),
            ));
        }
        if self.stream.is_none() && !self.clustered {
            self.open_stream(ctx);
        }
    }
}

impl AccountActor {
    fn open_stream(&mut self, ctx: &mut Context<Self>) {
        let mut client = StreamClient::new(Arc::clone(&self.account), ctx.address().recipient())
            .remembering(std::mem::take(&mut self.seen))
            .reporting_to(ctx.address().recipient());
        if self.journal {
            client = client.deferring_acks();
        }
        self.stream = Some(client.start());
    }
}

impl Supervised for AccountActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        let plan = self.restarts.record(ActorKind::Account);
        let redo = self.in_flight.take();
        resume_after(ctx, plan.backoff, move |act: &mut Self, ctx| {
            let id = act.account.id.clone();
            guard(act, ctx, ActorKind::Account, &id, |act, _| {
                if let Some(msg) = redo {
                    act.forward(msg);
                }
                act.release();
            });
            // The commit that was running went with the restart; the journal ignores a
            // second write of a message, so it is simply run again.
            act.waiting.splice(0..0, act.committing.drain(..));
            act.commit_next(ctx);
        });
    }
}

impl Handler<BotMessageReceived> for AccountActor {
    type Result = ();

    fn handle(&mut self, msg: BotMessageReceived, ctx: &mut Self::Context) {
        let id = self.account.id.clone();
        guard(self, ctx, ActorKind::Account, &id, |act, ctx| {
            act.receive(msg, ctx)
        });
    }
}

fn journal_entry(m: &BotMessageReceived) -> WriteOp {
    WriteOp::Inbound(journal_row(m))
}

fn journal_row(m: &BotMessageReceived) -> JournalEntry {
    JournalEntry {
        seq: 0,
        account: m.account.to_string(),
        msg_id: m.message.msg_id.clone(),
        received_ms: crate::dingtalk::api::now_ms(),
        payload: Arc::clone(&m.raw),
    }
}

/// Runs a send with the account's API as a task detached from the actor, so a restart does
/// not cancel it; a panic in it becomes an error.
fn detached_send<T, F, Fut>(
    api: Option<DingTalkApi>,
    send: F,
) -> ResponseFuture<Result<T, DingTalkError>>
where
    T: 'static,
    F: FnOnce(DingTalkApi) -> Fut + 'static,
    Fut: Future<Output = Result<T, DingTalkError>> + 'static,
{
    Box::pin(async move {
        let api = api.ok_or(DingTalkError::Transport {
            api: "reply",
            message: "account not started".to_owned(),
        })?;
        catch(send(api)).await.unwrap_or_else(|p| {
            Err(DingTalkError::Transport {
                api: "reply",
                message: p.to_string(),
            })
        })
    })
}

/// The Stream client's news, published as runtime events.
impl Handler<StatusChanged> for AccountActor {
    type Result = ();

    fn handle(&mut self, msg: StatusChanged, _: &mut Self::Context) {
        let account = msg.account;
        let reason = msg.error.unwrap_or_default();
        let event = match msg.status {
            StreamStatus::Connected => {
                self.rt
                    .counters
                    .stream_connects
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                RuntimeEvent::Connected { account }
            }
            StreamStatus::AuthFailed { .. } => RuntimeEvent::AuthFailed { account, reason },
            StreamStatus::BackingOff { .. } => RuntimeEvent::Disconnected { account, reason },
            StreamStatus::Connecting | StreamStatus::Stopped => return,
        };
        self.rt.emit(event);
    }
}

impl Handler<SendReply> for AccountActor {
    type Result = ResponseFuture<Result<ReplyOutcome, DingTalkError>>;

    fn handle(&mut self, msg: SendReply, _: &mut Self::Context) -> Self::Result {
        detached_send(self.api.clone(), |api| async move {
            api.reply(&msg.target, &msg.message).await
        })
    }
}

impl Handler<StreamReply> for AccountActor {
    type Result = ResponseFuture<Result<ReplyOutcome, DingTalkError>>;

    fn handle(&mut self, msg: StreamReply, _: &mut Self::Context) -> Self::Result {
        detached_send(self.api.clone(), |api| async move {
            reply_streaming(&api, &msg.target, msg.live, msg.done).await
        })
    }
}

impl Handler<DownloadMedia> for AccountActor {
    type Result = ResponseFuture<Result<Vec<u8>, DownloadError>>;

    fn handle(&mut self, msg: DownloadMedia, _: &mut Self::Context) -> Self::Result {
        let api = self.api.clone();
        Box::pin(async move {
            let api = api.ok_or_else(|| DownloadError::Failed("account not started".to_owned()))?;
            catch(async move { api.download(&msg.download_code, msg.max_bytes).await })
                .await
                .unwrap_or_else(|p| Err(DownloadError::Failed(p.to_string())))
        })
    }
}

impl Handler<SendMedia> for AccountActor {
    type Result = ResponseFuture<Result<(), DingTalkError>>;

    fn handle(&mut self, msg: SendMedia, _: &mut Self::Context) -> Self::Result {
        detached_send(self.api.clone(), move |api| async move {
            let id = api
                .upload(msg.kind, &msg.file_name, &msg.mime, msg.bytes)
                .await?;
            let media = if msg.kind == "image" {
                MediaMessage::Image { photo: id }
            } else {
                let file_type = msg
                    .file_name
                    .rsplit_once('.')
                    .map(|(_, ext)| ext.to_ascii_lowercase())
                    .unwrap_or_else(|| "file".to_owned());
                MediaMessage::File {
                    media_id: id,
                    file_name: msg.file_name,
                    file_type,
                }
            };
            api.send_media(&msg.target, &media).await
        })
    }
}

impl Handler<React> for AccountActor {
    type Result = ResponseFuture<Result<(), DingTalkError>>;

    fn handle(&mut self, msg: React, _: &mut Self::Context) -> Self::Result {
        detached_send(self.api.clone(), move |api| async move {
            api.react(&msg.msg_id, &msg.conversation_id, &msg.text, msg.add)
                .await
        })
    }
}

impl Handler<GetAccountState> for AccountActor {
    type Result = ResponseFuture<Option<AccountState>>;

    fn handle(&mut self, _: GetAccountState, _: &mut Self::Context) -> Self::Result {
        let stream = self.stream.clone();
        let degraded = self
            .api
            .as_ref()
            .and_then(|api| api.cards().degraded())
            .map(|d| d.as_millis() as u64);
        Box::pin(async move {
            let stream = stream?.send(GetStreamState).await.ok()?;
            Some(AccountState {
                stream,
                cards_degraded_for_ms: degraded,
            })
        })
    }
}

impl Handler<UpdateAccount> for AccountActor {
    type Result = ();

    fn handle(&mut self, msg: UpdateAccount, _: &mut Self::Context) {
        self.api = Some(DingTalkApi::new(
            Arc::clone(&msg.0),
            Arc::clone(&self.tokens),
        ));
        self.account = msg.0;
    }
}

impl Handler<Connect> for AccountActor {
    type Result = ();

    fn handle(&mut self, msg: Connect, ctx: &mut Self::Context) {
        match (msg.0, self.stream.take()) {
            (true, None) => self.open_stream(ctx),
            (true, Some(s)) => self.stream = Some(s),
            (false, Some(s)) => s.do_send(Shutdown),
            (false, None) => {}
        }
    }
}

impl Handler<StopAccount> for AccountActor {
    type Result = ();

    fn handle(&mut self, _: StopAccount, _: &mut Self::Context) {
        if let Some(s) = self.stream.take() {
            s.do_send(Shutdown);
        }
    }
}
