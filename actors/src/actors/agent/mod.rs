//! AgentActor: one per agent on each worker thread. Builds the model request for a turn:
//! the system prompt (identity, workspace bootstrap files, the account's prompt), the
//! transcript, and the model (`model.primary`, else `agents.defaults.model`); and holds a
//! slot of `agents.defaults.maxConcurrent` (shared by all agents) while the model answers.

mod messages;
mod prompt;

use std::sync::Arc;

use actix::prelude::*;

pub use messages::{RunTurn, TurnError, TurnOutput};
pub use prompt::{BOOTSTRAP_FILES, persona, system_prompt};

use crate::config::Agent;
use crate::fault::{FaultPoint, check};
use crate::provider::{ChatMessage, ModelRef, ProviderError};
use crate::supervise::{ActorKind, Restarts, guard, resume_after};

use super::provider::{Complete, ProviderActor};
use super::runtime::Runtime;

pub struct AgentActor {
    agent: Agent,
    lane: usize,
    rt: Arc<Runtime>,
    system_prompt: String,
    restarts: Restarts,
}

/// A prepared model call.
struct Call {
    provider: Addr<ProviderActor>,
    model: ModelRef,
    messages: Vec<ChatMessage>,
}

impl AgentActor {
    pub fn new(agent: Agent, lane: usize, rt: Arc<Runtime>) -> Self {
        Self {
            agent,
            lane,
            rt,
            system_prompt: String::new(),
            restarts: Restarts::default(),
        }
    }

    fn prepare(&mut self, msg: RunTurn) -> Result<Call, ProviderError> {
        check(FaultPoint::AgentRunTurn, &self.agent.id);
        let config = self.rt.config();
        let reference =
            self.agent
                .model
                .primary
                .as_deref()
                .ok_or_else(|| ProviderError::NoModel {
                    agent: self.agent.id.clone(),
                })?;
        let model = ModelRef::parse(reference, &config.agents.model_aliases)?;
        let provider = self.rt.lanes[self.lane]
            .provider(&model.provider)
            .ok_or_else(|| ProviderError::NotConfigured {
                provider: model.provider.clone(),
            })?;
        let mut system = self.system_prompt.clone();
        if let Some(extra) = msg.extra_system.filter(|s| !s.trim().is_empty()) {
            system.push_str("\n\n");
            system.push_str(&extra);
        }
        let mut messages = Vec::with_capacity(msg.history.len() + 1);
        messages.push(ChatMessage::system(system));
        messages.extend(msg.history);
        Ok(Call {
            provider,
            model,
            messages,
        })
    }
}

impl Actor for AgentActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(0);
        let skip = self.rt.config().agents.skip_bootstrap;
        self.system_prompt = system_prompt(&self.agent, skip);
    }
}

impl Supervised for AgentActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        let plan = self.restarts.record(ActorKind::Agent);
        resume_after(ctx, plan.backoff, |_: &mut Self, _| {});
    }
}

impl Handler<RunTurn> for AgentActor {
    type Result = ResponseFuture<Result<TurnOutput, TurnError>>;

    fn handle(&mut self, msg: RunTurn, ctx: &mut Self::Context) -> Self::Result {
        let id = self.agent.id.clone();
        let prepared = guard(self, ctx, ActorKind::Agent, &id, |act, _| act.prepare(msg));
        let slots = Arc::clone(&self.rt.turn_slots);
        Box::pin(async move {
            let call = match prepared {
                None => return Err(TurnError::Crashed(format!("agent {id} restarted"))),
                Some(Err(e)) => return Err(TurnError::Provider(e)),
                Some(Ok(call)) => call,
            };
            // A closed semaphore only happens at shutdown; the turn then fails as a crash.
            let _slot = slots
                .acquire_owned()
                .await
                .map_err(|e| TurnError::Crashed(e.to_string()))?;
            let completion = call
                .provider
                .send(Complete {
                    model: call.model.model.clone(),
                    messages: call.messages,
                })
                .await
                .map_err(|e| {
                    TurnError::Crashed(format!("provider {}: {e}", call.model.provider))
                })??;
            Ok(TurnOutput {
                text: completion.text,
                model: call.model.to_string(),
                usage: completion.usage,
            })
        })
    }
}
