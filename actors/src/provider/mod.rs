//! Model providers: OpenAI-compatible chat completions over awc, and how a model reference
//! (`provider/model`) finds its provider (reference/openclaw-routing.md 5).
//!
//! - `chat`: request and answer types.
//! - `endpoint`: a provider's base URL, key, headers and timeout, resolved from config.
//! - `openai`: the `POST {baseUrl}/chat/completions` call.
//! - `error`: what can go wrong, and what the user is told.

mod chat;
mod endpoint;
mod error;
mod openai;

pub use chat::{ChatMessage, ChatRole, Completion, Usage};
pub use endpoint::{ModelRef, ProviderEndpoint, resolve_endpoint};
pub use error::ProviderError;
pub use openai::chat_completion;
