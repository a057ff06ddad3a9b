//! AgentActor: one per agent on each worker thread. Builds a turn's model request (system
//! prompt from the identity, the workspace's bootstrap files and the account's prompt; the
//! transcript), walks the model chain (`model.primary`, then `model.fallbacks`) when a
//! provider fails, and runs the tool-calling loop. A turn holds one of the gateway's
//! `agents.defaults.maxConcurrent` slots only while the gateway itself works for it (running
//! its tools), never while it waits for a model: a hung provider must not take the slots of
//! agents whose providers are healthy. Waits for a model are bounded by the provider's own
//! limits.

mod messages;
mod prompt;

use std::sync::Arc;

use actix::prelude::*;
use tokio::sync::Semaphore;

pub use messages::{RunTurn, TurnError, TurnOutput};
pub use prompt::{BOOTSTRAP_FILES, persona, system_prompt};

use crate::config::Agent;
use crate::fault::{FaultPoint, check};
use crate::provider::{
    ChatMessage, ChatRequest, Completion, ModelRef, NOTICE_AFTER, ProviderError, StreamSink, Usage,
    WaitNotice, noticed,
};
use crate::supervise::{ActorKind, Restarts, guard, resume_after};
use crate::tools::{ToolContext, ToolRegistry};

use super::provider::{Complete, ProviderActor};
use super::runtime::Runtime;

/// Model calls that may ask for tools in one turn; the call after the last one gets no tools,
/// so the model has to answer.
pub const MAX_TOOL_ROUNDS: usize = 6;

pub struct AgentActor {
    agent: Agent,
    lane: usize,
    rt: Arc<Runtime>,
    system_prompt: String,
    restarts: Restarts,
}

/// A model in the chain, with this thread's actor for its provider (if it runs).
struct Candidate {
    model: ModelRef,
    provider: Option<Addr<ProviderActor>>,
}

/// A turn, prepared on the actor and run as a detached task.
struct Job {
    candidates: Vec<Candidate>,
    messages: Vec<ChatMessage>,
    tools: Arc<ToolRegistry>,
    context: ToolContext,
    sink: Option<StreamSink>,
    /// The gateway's turn slots (`agents.defaults.maxConcurrent`).
    slots: Arc<Semaphore>,
    notice: Option<WaitNotice>,
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

    fn prepare(&mut self, msg: RunTurn) -> Result<Job, ProviderError> {
        check(FaultPoint::AgentRunTurn, &self.agent.id);
        let config = self.rt.config();
        let primary =
            self.agent
                .model
                .primary
                .as_deref()
                .ok_or_else(|| ProviderError::NoModel {
                    agent: self.agent.id.clone(),
                })?;
        let lane = &self.rt.lanes[self.lane];
        let mut candidates = Vec::new();
        for reference in
            std::iter::once(primary).chain(self.agent.model.fallbacks.iter().map(String::as_str))
        {
            let model = ModelRef::parse(reference, &config.agents.model_aliases)?;
            let provider = lane.provider(&model.provider);
            candidates.push(Candidate { model, provider });
        }
        let mut system = self.system_prompt.clone();
        if let Some(extra) = msg.extra_system.filter(|s| !s.trim().is_empty()) {
            system.push_str("\n\n");
            system.push_str(&extra);
        }
        let mut messages = Vec::with_capacity(msg.history.len() + 1);
        messages.push(ChatMessage::system(system));
        messages.extend(msg.history);
        Ok(Job {
            candidates,
            messages,
            tools: Arc::clone(&self.rt.tools),
            context: msg.context,
            sink: msg.stream,
            slots: Arc::clone(&self.rt.turn_slots),
            notice: msg.notice,
        })
    }
}

impl Job {
    /// The tool loop: call the model; run the tools it asks for; call again with the results.
    async fn run(mut self) -> Result<TurnOutput, TurnError> {
        let specs = self.tools.specs();
        let mut usage = Usage::default();
        let mut tool_calls = 0;
        for round in 0..=MAX_TOOL_ROUNDS {
            let last = round == MAX_TOOL_ROUNDS;
            let tools = if last { Vec::new() } else { specs.clone() };
            let (completion, model) = self.failover(tools).await?;
            usage.add(completion.usage);
            if completion.tool_calls.is_empty() {
                return Ok(TurnOutput {
                    text: completion.text,
                    model,
                    usage,
                    tool_calls,
                });
            }
            if last {
                break;
            }
            tool_calls += completion.tool_calls.len();
            self.messages.push(ChatMessage::assistant_calls(
                completion.text,
                completion.tool_calls.clone(),
            ));
            // A closed semaphore only happens at shutdown; the turn then fails as a crash.
            let _slot = noticed(
                Arc::clone(&self.slots).acquire_owned(),
                self.notice.as_ref(),
                NOTICE_AFTER,
            )
            .await
            .map_err(|e| TurnError::Crashed(e.to_string()))?;
            for call in &completion.tool_calls {
                let result = self.tools.run(call, self.context.clone()).await;
                self.messages
                    .push(ChatMessage::tool(call.id.clone(), result));
            }
        }
        Err(too_many_rounds())
    }

    /// The primary model, then each fallback while the failure allows it
    /// (reference/openclaw-routing.md 5.3). Refused keys and requests end the turn at once.
    async fn failover(
        &self,
        tools: Vec<crate::provider::ToolSpec>,
    ) -> Result<(Completion, String), TurnError> {
        let mut last = None;
        for (i, c) in self.candidates.iter().enumerate() {
            let Some(provider) = &c.provider else {
                last = Some(ProviderError::NotConfigured {
                    provider: c.model.provider.clone(),
                });
                continue;
            };
            let request = ChatRequest {
                model: c.model.model.clone(),
                messages: self.messages.clone(),
                tools: tools.clone(),
            };
            let result = provider
                .send(Complete {
                    request,
                    sink: self.sink.clone(),
                    notice: self.notice.clone(),
                })
                .await
                .map_err(|e| TurnError::Crashed(format!("provider {}: {e}", c.model.provider)))?;
            match result {
                Ok(completion) => return Ok((completion, c.model.to_string())),
                Err(TurnError::Provider(e)) if e.allows_fallback() => {
                    if i + 1 < self.candidates.len() {
                        tracing::warn!(model = %c.model, error = %e, "model failed; falling back");
                    }
                    last = Some(e);
                }
                Err(other) => return Err(other),
            }
        }
        Err(TurnError::Provider(last.unwrap_or(
            ProviderError::NotConfigured {
                provider: String::new(),
            },
        )))
    }
}

/// The last round offers no tools, so a model that still asks for them is misbehaving.
fn too_many_rounds() -> TurnError {
    TurnError::Provider(ProviderError::ToolLoop {
        rounds: MAX_TOOL_ROUNDS,
    })
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
        let rt = Arc::clone(&self.rt);
        Box::pin(async move {
            let job = match prepared {
                None => return Err(TurnError::Crashed(format!("agent {id} restarted"))),
                Some(Err(e)) => return Err(TurnError::Provider(e)),
                Some(Ok(job)) => job,
            };
            let started = std::time::Instant::now();
            let result = job.run().await;
            crate::telemetry::turn(&id, started.elapsed());
            if let Ok(out) = &result {
                rt.agent_usage(&id).record(out.usage);
            }
            result
        })
    }
}
