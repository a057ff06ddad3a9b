//! ProviderActor: one per model provider on each worker thread, each with the thread's own
//! awc client (awc clients cannot cross threads; reference/actix-notes.md 2.1). Calls
//! `POST {baseUrl}/chat/completions` with the provider's key and headers, with a per-call
//! deadline instead of awc's 5 s default.

mod messages;

use std::time::Duration;

use actix::prelude::*;
use awc::{Client, Connector};

pub use messages::Complete;

use crate::fault::{FaultPoint, check};
use crate::provider::{ProviderEndpoint, chat_completion};
use crate::supervise::{ActorKind, Restarts, catch, guard, resume_after};

use super::agent::TurnError;

/// Connect and TLS handshake timeout towards a provider.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ProviderActor {
    endpoint: ProviderEndpoint,
    /// Built in `started`, on this actor's thread.
    http: Option<Client>,
    restarts: Restarts,
}

impl ProviderActor {
    pub fn new(endpoint: ProviderEndpoint) -> Self {
        Self {
            endpoint,
            http: None,
            restarts: Restarts::default(),
        }
    }
}

impl Actor for ProviderActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(0);
        if self.http.is_none() {
            // No pool limit here: concurrency is bounded by `maxConcurrent`, and awc's default
            // of 100 connections would queue calls to a slow model.
            let connector = Connector::new()
                .limit(0)
                .timeout(CONNECT_TIMEOUT)
                .handshake_timeout(CONNECT_TIMEOUT);
            self.http = Some(
                Client::builder()
                    .connector(connector)
                    .disable_timeout()
                    .finish(),
            );
        }
    }
}

impl Supervised for ProviderActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        let plan = self.restarts.record(ActorKind::Provider);
        resume_after(ctx, plan.backoff, |_: &mut Self, _| {});
    }
}

impl Handler<Complete> for ProviderActor {
    type Result = ResponseFuture<Result<crate::provider::Completion, TurnError>>;

    fn handle(&mut self, msg: Complete, ctx: &mut Self::Context) -> Self::Result {
        let id = self.endpoint.id.clone();
        let ready = guard(self, ctx, ActorKind::Provider, &id, |act, _| {
            check(FaultPoint::ProviderComplete, &act.endpoint.id);
            (act.http.clone(), act.endpoint.clone())
        });
        Box::pin(async move {
            let (Some(http), endpoint) =
                ready.ok_or_else(|| TurnError::Crashed(format!("provider {id} restarted")))?
            else {
                return Err(TurnError::Crashed(format!("provider {id} not started")));
            };
            catch(async move { chat_completion(&http, &endpoint, &msg.model, &msg.messages).await })
                .await
                .map_err(|p| TurnError::Crashed(p.to_string()))?
                .map_err(TurnError::Provider)
        })
    }
}
