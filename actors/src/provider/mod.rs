//! Model providers: the wire protocols, and what a call needs around them.
//!
//! - `chat`: requests, answers, tool calls, independent of the protocol.
//! - `openai`, `anthropic`: the two protocols, plain and streamed; `http` is what they share.
//! - `call`: a call as the runtime makes it (key, circuit, limits, deadline, retries), with
//!   the per-provider state it needs: `limits`, `circuit`, `usage`.
//! - `model_ref`: `provider/model` references and aliases.
//! - `error`: what can go wrong, and what the user is told.
//! - `wait_notice`: telling a user their turn waits for a slot.
//! - `probe`: checking a provider's reachability and key without a turn (`doctor`).

pub mod anthropic;
mod call;
mod chat;
mod circuit;
mod error;
mod http;
mod limits;
mod model_ref;
pub mod openai;
mod probe;
mod usage;
mod wait_notice;

pub use call::{LastError, ProviderState, ProviderStatus};
pub use chat::{
    ChatMessage, ChatRequest, ChatRole, Completion, ImagePart, StreamSink, ToolCall, ToolSpec,
    Usage,
};
pub use circuit::{CircuitBreaker, CircuitSnapshot};
pub use error::ProviderError;
pub use limits::ProviderLimits;
pub use model_ref::ModelRef;
pub use openai::StreamAssembly;
pub use probe::{Probe, list_models, minimal_call};
pub use usage::{UsageCounters, UsageSnapshot};
pub use wait_notice::{NOTICE_AFTER, WaitNotice, noticed};
