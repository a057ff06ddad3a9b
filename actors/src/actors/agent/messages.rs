//! What an AgentActor accepts, and how a turn can fail.

use actix::prelude::*;

use crate::provider::{ChatMessage, ProviderError, StreamSink, Usage, WaitNotice};
use crate::routing::SessionKey;
use crate::tools::ToolContext;

/// Answer the next message of a session.
#[derive(Message)]
#[rtype(result = "Result<TurnOutput, TurnError>")]
pub struct RunTurn {
    /// The session asking, for logs and tools.
    pub session_key: SessionKey,
    /// The transcript window, oldest first, ending with the new user message(s).
    pub history: Vec<ChatMessage>,
    /// The account's `systemPrompt`, added to the agent's own.
    pub extra_system: Option<String>,
    /// Who is asking, for tools.
    pub context: ToolContext,
    /// Receives the answer's text as it streams in (AI card replies).
    pub stream: Option<StreamSink>,
    /// Fired once if the turn waits long for a slot (the gateway's or its provider's), so the
    /// user can be told it is queued.
    pub notice: Option<WaitNotice>,
    /// Set from the chat (`/model`, `/think`): a model instead of the agent's primary, and a
    /// reasoning level.
    pub settings: crate::store::SessionSettings,
    /// `/stop`: ends the turn wherever it is (a model call, a tool, a wait for a slot).
    pub stop: tokio_util::sync::CancellationToken,
    /// A summarising call (compaction): the summariser's prompt, no tools.
    pub compact: bool,
}

/// The assistant's answer.
#[derive(Clone, Debug)]
pub struct TurnOutput {
    /// What the user sees (a fallback's answer included).
    pub text: String,
    /// `provider/model` that answered (a fallback, if the primary failed).
    pub model: String,
    /// Tokens over every model call of the turn (tool rounds included).
    pub usage: Usage,
    /// Tool calls made during the turn.
    pub tool_calls: usize,
    /// The turn's tool rounds, in order: each assistant message that asked for tools, then
    /// the tools' results. Stored in the transcript before the answer.
    pub steps: Vec<ChatMessage>,
}

/// Why a turn produced no answer.
#[derive(Clone, Debug, thiserror::Error)]
pub enum TurnError {
    /// The model call failed; the user is told why.
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// An actor on the way crashed (and is restarting); the session retries.
    #[error("interrupted by a crash: {0}")]
    Crashed(String),
    /// Someone sent `/stop`.
    #[error("stopped from the chat")]
    Stopped,
}
