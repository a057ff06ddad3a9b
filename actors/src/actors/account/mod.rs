//! AccountActor: one per DingTalk account. Owns the account's Stream client (a child actor
//! that keeps the connection) and its outbound API; hands each new bot message to the
//! router and sends replies.
//!
//! Replies run as tasks detached from the actor, on its thread: a restart of the actor (after
//! a panic) does not cancel a reply in flight.

mod messages;

use std::future::Future;
use std::sync::Arc;

use actix::prelude::*;

pub use messages::{AccountState, GetAccountState, SendReply, StopAccount, StreamReply};

use crate::config::DingTalkAccount;
use crate::dingtalk::{
    AccessTokenCache, BotMessageReceived, DingTalkApi, DingTalkError, GetStreamState, ReplyOutcome,
    Shutdown, StreamClient, reply_streaming,
};
use crate::fault::{FaultPoint, check};
use crate::supervise::{ActorKind, Restarts, catch, guard, resume_after};

use super::router::Inbound;
use super::runtime::Runtime;

pub struct AccountActor {
    account: Arc<DingTalkAccount>,
    rt: Arc<Runtime>,
    /// Built in `started`, on this actor's thread.
    api: Option<DingTalkApi>,
    tokens: Arc<AccessTokenCache>,
    stream: Option<Addr<StreamClient>>,
    /// The message being handed over, redone after a restart.
    in_flight: Option<BotMessageReceived>,
    restarts: Restarts,
}

impl AccountActor {
    pub fn new(account: Arc<DingTalkAccount>, rt: Arc<Runtime>) -> Self {
        Self {
            account,
            rt,
            api: None,
            tokens: Arc::new(AccessTokenCache::new()),
            stream: None,
            in_flight: None,
            restarts: Restarts::default(),
        }
    }

    fn forward(&mut self, msg: BotMessageReceived) {
        self.in_flight = Some(msg.clone());
        check(FaultPoint::AccountInbound, &self.account.id);
        if let Some(router) = self.rt.router() {
            router.do_send(Inbound::from_dingtalk(&msg));
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
        if self.stream.is_none() {
            let client = StreamClient::new(Arc::clone(&self.account), ctx.address().recipient());
            self.stream = Some(client.start());
        }
    }
}

impl Supervised for AccountActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        let plan = self.restarts.record(ActorKind::Account);
        let redo = self.in_flight.take();
        resume_after(ctx, plan.backoff, move |act: &mut Self, ctx| {
            if let Some(msg) = redo {
                let id = act.account.id.clone();
                guard(act, ctx, ActorKind::Account, &id, |act, _| act.forward(msg));
            }
        });
    }
}

impl Handler<BotMessageReceived> for AccountActor {
    type Result = ();

    fn handle(&mut self, msg: BotMessageReceived, ctx: &mut Self::Context) {
        let id = self.account.id.clone();
        guard(self, ctx, ActorKind::Account, &id, |act, _| {
            act.forward(msg)
        });
    }
}

/// Runs a send with the account's API as a task detached from the actor, so a restart does
/// not cancel it; a panic in it becomes an error.
fn detached_send<F, Fut>(
    api: Option<DingTalkApi>,
    send: F,
) -> ResponseFuture<Result<ReplyOutcome, DingTalkError>>
where
    F: FnOnce(DingTalkApi) -> Fut + 'static,
    Fut: Future<Output = Result<ReplyOutcome, DingTalkError>> + 'static,
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

impl Handler<StopAccount> for AccountActor {
    type Result = ();

    fn handle(&mut self, _: StopAccount, _: &mut Self::Context) {
        if let Some(s) = self.stream.take() {
            s.do_send(Shutdown);
        }
    }
}
