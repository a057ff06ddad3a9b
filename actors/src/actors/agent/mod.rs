//! AgentActor: one per agent on each worker thread. Builds a turn's model request (system
//! prompt from the identity, the workspace's bootstrap files and the account's prompt; the
//! transcript), walks the model chain (`model.primary`, then `model.fallbacks`) when a
//! provider fails, and runs the tool-calling loop. Each model in the chain is offered the
//! tools its provider and the turn allow (`tools::offered`); the turn's tool output is
//! capped as a whole. A turn holds one of the gateway's
//! `agents.defaults.maxConcurrent` slots only while the gateway itself works for it (running
//! its tools), never while it waits for a model: a hung provider must not take the slots of
//! agents whose providers are healthy. Waits for a model are bounded by the provider's own
//! limits.

mod images;
mod messages;
mod prompt;
pub mod think;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

pub use messages::{RunTurn, TurnError, TurnOutput};
pub use prompt::{BOOTSTRAP_FILES, MemoryFileCache, persona, system_prompt};

use crate::config::{Agent, Config};
use crate::fault::{FaultPoint, check};
use crate::provider::{
    ChatMessage, ChatRequest, Completion, ModelRef, NOTICE_AFTER, ProviderError, StreamSink,
    ToolSpec, Usage, WaitNotice, noticed,
};
use crate::routing::ChatType;
use crate::skills::Skill;
use crate::supervise::{ActorKind, Restarts, guard, resume_after};
use crate::tools::{OfferScope, ToolContext, ToolRegistry, offered};

use super::provider::{Complete, ProviderActor};
use super::runtime::Runtime;

/// Model calls that may ask for tools in one turn; the call after the last one gets no tools,
/// so the model has to answer.
pub const MAX_TOOL_ROUNDS: usize = 6;

/// Characters of tool output one turn may feed back to the model; past it, results are cut
/// and then refused, so a model that fetches page after page cannot fill its context.
pub const MAX_TURN_TOOL_OUTPUT: usize = 150_000;

/// How long a list of skills is reused before the folders are looked at again.
const SKILLS_FRESH_FOR: Duration = Duration::from_secs(5);

/// Request fields a model's `params` may not replace.
const RESERVED_PARAMS: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "tools",
    "system",
];

/// One agent on one worker: builds the prompt, calls its model and runs tool rounds.
pub struct AgentActor {
    agent: Agent,
    lane: usize,
    rt: Arc<Runtime>,
    system_prompt: String,
    /// The skills found, and when.
    skills: Option<(Instant, Arc<Vec<Skill>>)>,
    /// `MEMORY.md`, re-read when it changes.
    memory_file: MemoryFileCache,
    restarts: Restarts,
}

/// A model in the chain, with this thread's actor for its provider (if it runs), the tools
/// it is offered and its extra request fields.
struct Candidate {
    model: ModelRef,
    provider: Option<Addr<ProviderActor>>,
    tools: Vec<ToolSpec>,
    params: Map<String, Value>,
    /// The model takes pictures (its `input`, else its name).
    takes_images: bool,
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
    /// `agents.defaults.imageModel`, for models that cannot see pictures.
    image_model: Option<Candidate>,
    /// Earlier pictures re-sent (`dingclaw.historyImages`).
    history_images: usize,
    descriptions: images::Descriptions,
    /// `/stop` from the chat.
    stop: tokio_util::sync::CancellationToken,
}

impl AgentActor {
    /// The agent actor of `agent` on worker `lane`.
    pub fn new(agent: Agent, lane: usize, rt: Arc<Runtime>) -> Self {
        Self {
            agent,
            lane,
            rt,
            system_prompt: String::new(),
            skills: None,
            memory_file: MemoryFileCache::default(),
            restarts: Restarts::default(),
        }
    }

    /// The skills under the agent's roots, looked up again at most every few seconds (a
    /// `SKILL.md` added or edited shows up on a later turn without a restart).
    fn skills(&mut self, config: &Config) -> Arc<Vec<Skill>> {
        if let Some((at, skills)) = &self.skills
            && at.elapsed() < SKILLS_FRESH_FOR
        {
            return Arc::clone(skills);
        }
        let found = Arc::new(crate::skills::discover(config, &self.agent.workspace));
        self.skills = Some((Instant::now(), Arc::clone(&found)));
        found
    }

    fn prepare(&mut self, mut msg: RunTurn) -> Result<Job, ProviderError> {
        check(FaultPoint::AgentRunTurn, &self.agent.id);
        let config = self.rt.config();
        let tools = self.rt.tools();
        let primary =
            self.agent
                .model
                .primary
                .as_deref()
                .ok_or_else(|| ProviderError::NoModel {
                    agent: self.agent.id.clone(),
                })?;
        // `/model`: the session's choice answers first, then the agent's own chain. A choice
        // the configuration no longer allows is skipped (and said in the log).
        let chosen = msg.settings.model.as_deref().filter(|m| {
            let usable = ModelRef::parse(m, &config.agents.model_aliases)
                .is_ok_and(|r| config.models.provider(&r.provider).is_some());
            if !usable {
                tracing::warn!(agent = %self.agent.id, model = %m, "the session's /model choice is not configured any more; using the agent's model");
            }
            usable
        });
        let think = msg
            .settings
            .think
            .as_deref()
            .and_then(think::ThinkLevel::parse);
        let lane = &self.rt.lanes[self.lane];
        // A group's own tool policy (`groups.<cid>.tools`) narrows what its turns are offered.
        let group = (msg.context.chat == ChatType::Group)
            .then(|| config.account(&msg.context.account))
            .flatten()
            .and_then(|a| a.groups.resolve(&msg.context.conversation_id));
        let group_tools = group.as_ref().and_then(|g| g.tools.as_ref());
        let mut candidates: Vec<Candidate> = Vec::new();
        let chain = chosen
            .into_iter()
            .chain(std::iter::once(primary))
            .chain(self.agent.model.fallbacks.iter().map(String::as_str));
        for reference in chain {
            let model = ModelRef::parse(reference, &config.agents.model_aliases)?;
            if candidates.iter().any(|c| c.model == model) {
                continue;
            }
            let provider = lane.provider(&model.provider);
            let offer = offered(
                &tools,
                &OfferScope {
                    config: &config,
                    agent: &self.agent,
                    provider: &model.provider,
                    model: &model.model,
                    channel: &msg.context.channel,
                    sender: Some(msg.context.sender_id.as_str()).filter(|s| !s.is_empty()),
                    chat: Some(msg.context.chat),
                    owner: msg.context.owner,
                    group: group_tools,
                },
            );
            let params = config
                .agents
                .model_params
                .get(&model.to_string())
                .map(|p| {
                    p.iter()
                        .filter(|(k, _)| !RESERVED_PARAMS.contains(&k.as_str()))
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            let mut params: Map<String, Value> = params;
            if let (Some(level), Some(p)) = (think, config.models.provider(&model.provider)) {
                params.extend(think::params(level, p));
            }
            let takes_images = config
                .models
                .provider(&model.provider)
                .is_some_and(|p| p.takes_images(&model.model));
            candidates.push(Candidate {
                model,
                provider,
                tools: offer,
                params,
                takes_images,
            });
        }
        let image_model = config
            .agents
            .image_model
            .primary
            .as_deref()
            .and_then(|r| ModelRef::parse(r, &config.agents.model_aliases).ok())
            .map(|model| Candidate {
                provider: lane.provider(&model.provider),
                tools: Vec::new(),
                params: Map::new(),
                takes_images: true,
                model,
            });
        let skills = self.skills(&config);
        let eligible = crate::skills::for_agent(&skills, &self.agent, &config);
        msg.context.read_roots = Arc::new(eligible.iter().map(|s| s.dir().to_path_buf()).collect());
        msg.context.workspace = self.agent.workspace.clone();
        let offered_first = candidates.first().map_or(&[][..], |c| c.tools.as_slice());
        let has = |name: &str| offered_first.iter().any(|t| t.name == name);
        let mut system = self.system_prompt.clone();
        if has("read")
            && let Some(block) = crate::skills::prompt_block(
                &eligible,
                config.skills.max_skills_in_prompt,
                config.skills.max_skills_prompt_chars,
            )
        {
            system.push_str("\n\n");
            system.push_str(&block);
        }
        // Memory is private: MEMORY.md and the memory tools only in private chats.
        if msg.context.chat == ChatType::Direct && self.agent.memory.enabled {
            if has("memory_search") {
                system.push_str("\n\n");
                system.push_str(prompt::MEMORY_RECALL);
            }
            if let Some(text) = self.memory_file.read(&self.agent.workspace) {
                system.push_str("\n\n# MEMORY.md\n\n");
                system.push_str(&text);
            }
        }
        if let Some(extra) = msg.extra_system.filter(|s| !s.trim().is_empty()) {
            system.push_str("\n\n");
            system.push_str(&extra);
        }
        if msg.compact {
            system = crate::actors::session::COMPACTION_PROMPT.to_owned();
            candidates.iter_mut().for_each(|c| c.tools.clear());
        }
        let mut messages = Vec::with_capacity(msg.history.len() + 1);
        messages.push(ChatMessage::system(system));
        messages.extend(msg.history);
        Ok(Job {
            candidates,
            messages,
            tools,
            context: msg.context,
            sink: msg.stream,
            slots: Arc::clone(&self.rt.turn_slots),
            notice: msg.notice,
            image_model,
            history_images: config.runtime.history_images,
            descriptions: Arc::clone(&self.rt.image_descriptions),
            stop: msg.stop,
        })
    }
}

impl Job {
    /// The tool loop: call the model; run the tools it asks for; call again with the results.
    async fn run(mut self) -> Result<TurnOutput, TurnError> {
        if self.messages.iter().any(|m| !m.images.is_empty()) {
            images::load_images(&mut self.messages, self.history_images);
            if let Some(describer) = &self.image_model
                && self.candidates.iter().any(|c| !c.takes_images)
            {
                images::describe(&self.messages, describer, &self.descriptions).await;
            }
        }
        let mut usage = Usage::default();
        let mut tool_calls = 0;
        let mut steps = Vec::new();
        let mut budget = MAX_TURN_TOOL_OUTPUT;
        for round in 0..=MAX_TOOL_ROUNDS {
            let last = round == MAX_TOOL_ROUNDS;
            let (completion, model, answered_by) = self.failover(last).await?;
            usage.add(completion.usage);
            if completion.tool_calls.is_empty() {
                return Ok(TurnOutput {
                    text: completion.text,
                    model,
                    usage,
                    tool_calls,
                    steps,
                });
            }
            if last {
                break;
            }
            tool_calls += completion.tool_calls.len();
            let asked =
                ChatMessage::assistant_calls(completion.text, completion.tool_calls.clone());
            self.messages.push(asked.clone());
            steps.push(asked);
            // A closed semaphore only happens at shutdown; the turn then fails as a crash.
            let _slot = noticed(
                Arc::clone(&self.slots).acquire_owned(),
                self.notice.as_ref(),
                NOTICE_AFTER,
            )
            .await
            .map_err(|e| TurnError::Crashed(e.to_string()))?;
            let offered = &self.candidates[answered_by].tools;
            for call in &completion.tool_calls {
                let result = if budget == 0 {
                    serde_json::json!({"error": "this turn's tool output limit is used up; answer with what you have"}).to_string()
                } else {
                    let full = self.tools.run(call, offered, self.context.clone()).await;
                    cut_to_budget(full, &mut budget)
                };
                let answer = ChatMessage::tool(call.id.clone(), result);
                self.messages.push(answer.clone());
                steps.push(answer);
            }
        }
        Err(too_many_rounds())
    }

    /// The primary model, then each fallback while the failure allows it
    /// (docs/openclaw-routing.md 5.3). Refused keys and requests end the turn at once.
    /// Returns the answer, the model that gave it and its place in the chain. `final_round`: the
    /// final round, offered no tools.
    async fn failover(&self, final_round: bool) -> Result<(Completion, String, usize), TurnError> {
        let mut last = None;
        for (i, c) in self.candidates.iter().enumerate() {
            let Some(provider) = &c.provider else {
                last = Some(ProviderError::NotConfigured {
                    provider: c.model.provider.clone(),
                });
                continue;
            };
            let messages = if c.takes_images {
                self.messages.clone()
            } else {
                images::text_only(&self.messages, &self.descriptions)
            };
            let request = ChatRequest {
                model: c.model.model.clone(),
                messages,
                tools: if final_round {
                    Vec::new()
                } else {
                    c.tools.clone()
                },
                params: c.params.clone(),
            };
            let result = provider
                .send(Complete {
                    request,
                    sink: self.sink.clone(),
                    notice: self.notice.clone(),
                    stop: self.stop.clone(),
                })
                .await
                .map_err(|e| TurnError::Crashed(format!("provider {}: {e}", c.model.provider)))?;
            match result {
                Ok(completion) => return Ok((completion, c.model.to_string(), i)),
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

/// Cuts a tool's result to what is left of the turn's budget.
fn cut_to_budget(result: String, budget: &mut usize) -> String {
    let len = result.chars().count();
    if len <= *budget {
        *budget -= len;
        return result;
    }
    let kept: String = result.chars().take(*budget).collect();
    *budget = 0;
    serde_json::json!({
        "truncated": true,
        "note": "cut: this turn's tool output limit was reached",
        "partial": kept,
    })
    .to_string()
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
            // A stop drops the whole turn wherever it is: a model call, a tool, a wait.
            let stop = job.stop.clone();
            let result = stop
                .run_until_cancelled(job.run())
                .await
                .unwrap_or(Err(TurnError::Stopped));
            crate::telemetry::turn(&id, started.elapsed());
            if let Ok(out) = &result {
                rt.agent_usage(&id).record(out.usage);
            }
            result
        })
    }
}
