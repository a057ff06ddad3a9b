//! ProviderActor: one per model provider on each worker thread, each with that thread's own
//! awc client (awc clients cannot cross threads; docs/actix-notes.md 2.1). The provider's
//! limits, circuit breaker and usage counters are one `ProviderState` shared by all of them.
//! Calls run as tasks detached from the actor, so a restart does not cancel calls in flight.

mod messages;

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use awc::{Client, Connector};

pub use messages::Complete;

use crate::fault::{FaultPoint, check};
use crate::provider::ProviderState;
use crate::supervise::{ActorKind, Restarts, catch, guard, resume_after};

use super::agent::TurnError;

/// Connect and TLS handshake timeout towards a provider.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One model provider on one worker: its HTTP client, the provider's limits and circuit.
pub struct ProviderActor {
    state: Arc<ProviderState>,
    /// Built in `started`, on this actor's thread.
    http: Option<Client>,
    restarts: Restarts,
}

impl ProviderActor {
    /// A provider actor sharing `state` (limits, circuit, usage) with its peers on other workers.
    pub fn new(state: Arc<ProviderState>) -> Self {
        Self {
            state,
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
            // No pool limit here: `maxConcurrent` bounds the calls, and awc's default of 100
            // connections would queue calls to a slow model behind it.
            let tls = crate::tls::client_tls();
            let connector = Connector::new()
                .rustls_0_23(tls)
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
        let id = self.state.config.id.clone();
        let ready = guard(self, ctx, ActorKind::Provider, &id, |act, _| {
            check(FaultPoint::ProviderComplete, &act.state.config.id);
            act.http.clone().map(|http| (http, Arc::clone(&act.state)))
        });
        Box::pin(async move {
            let Some(Some((http, state))) = ready else {
                return Err(TurnError::Crashed(format!("provider {id} restarted")));
            };
            let stop = msg.stop.clone();
            let call = catch(async move {
                state
                    .complete(&http, &msg.request, msg.sink.as_ref(), msg.notice.as_ref())
                    .await
            });
            stop.run_until_cancelled(call)
                .await
                .ok_or(TurnError::Stopped)?
                .map_err(|p| TurnError::Crashed(p.to_string()))?
                .map_err(TurnError::Provider)
        })
    }
}
