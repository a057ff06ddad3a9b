//! What can go wrong calling a model, and the sentence a chat user sees for it.

use std::time::Duration;

/// Why a model call failed; `user_message` is the sentence a chat user sees.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The model reference names a provider that is neither configured nor built in.
    #[error("model provider \"{provider}\" is not configured (add models.providers.{provider})")]
    NotConfigured {
        /// The provider named.
        provider: String,
    },
    /// The provider needs an API key and has none.
    #[error("model provider \"{provider}\" has no API key")]
    NoKey {
        /// The provider's id.
        provider: String,
    },
    /// No model: neither the agent nor `agents.defaults` names one.
    #[error(
        "no model is configured for agent \"{agent}\" (set model.primary or agents.defaults.model)"
    )]
    NoModel {
        /// The agent.
        agent: String,
    },
    /// The model reference cannot be read.
    #[error("\"{reference}\" is not a model reference (use provider/model or an alias)")]
    BadReference {
        /// The reference as written.
        reference: String,
    },
    /// 401/403: the key was refused.
    #[error("{provider}: the API key was rejected (HTTP {status}): {message}")]
    Unauthorized {
        /// The provider's id.
        provider: String,
        /// The HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// 400 and other 4xx: the request was refused (unknown model, bad parameters...).
    #[error("{provider}: the request was rejected (HTTP {status}): {message}")]
    BadRequest {
        /// The provider's id.
        provider: String,
        /// The HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// 429.
    #[error("{provider}: rate limited: {message}")]
    RateLimited {
        /// The provider's id.
        provider: String,
        /// How long the provider asked to wait (`Retry-After`), capped at a minute.
        retry_after: Option<Duration>,
        /// The provider's message.
        message: String,
    },
    /// 5xx.
    #[error("{provider}: server error (HTTP {status}): {message}")]
    Server {
        /// The provider's id.
        provider: String,
        /// The HTTP status.
        status: u16,
        /// The provider's message.
        message: String,
    },
    /// No answer (or no chunk, when streaming) within the deadline.
    #[error("{provider}: no answer within {after:?}")]
    Timeout {
        /// The provider's id.
        provider: String,
        /// The deadline.
        after: Duration,
    },
    /// Connect, TLS or reset.
    #[error("{provider}: {message}")]
    Transport {
        /// The provider's id.
        provider: String,
        /// What failed.
        message: String,
    },
    /// An answer that does not follow the protocol (including a broken stream).
    #[error("{provider}: unexpected answer: {message}")]
    Protocol {
        /// The provider's id.
        provider: String,
        /// What was wrong.
        message: String,
    },
    /// Too many calls already waiting for this provider.
    #[error("{provider}: too many calls waiting")]
    Busy {
        /// The provider's id.
        provider: String,
    },
    /// The model kept asking for tools past the last round (which offers none).
    #[error("the model kept calling tools after {rounds} rounds")]
    ToolLoop {
        /// Tool rounds run.
        rounds: usize,
    },
    /// The provider failed repeatedly and is in cooldown.
    #[error("{provider}: in cooldown after repeated failures (retry in {retry_in:?})")]
    CircuitOpen {
        /// The provider's id.
        provider: String,
        /// How long until a trial call.
        retry_in: Duration,
    },
}

impl ProviderError {
    /// A short name for metrics and retry rules.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderError::NotConfigured { .. } => "not_configured",
            ProviderError::NoKey { .. } => "no_key",
            ProviderError::NoModel { .. } => "no_model",
            ProviderError::BadReference { .. } => "bad_reference",
            ProviderError::Unauthorized { .. } => "auth",
            ProviderError::BadRequest { .. } => "bad_request",
            ProviderError::RateLimited { .. } => "rate_limit",
            ProviderError::Server { .. } => "server_error",
            ProviderError::Timeout { .. } => "timeout",
            ProviderError::Transport { .. } => "network",
            ProviderError::Protocol { .. } => "protocol",
            ProviderError::Busy { .. } => "overloaded",
            ProviderError::CircuitOpen { .. } => "circuit_open",
            ProviderError::ToolLoop { .. } => "tool_loop",
        }
    }

    /// The error for an HTTP answer other than 200: `{"error": {"message": ...}}` (OpenAI,
    /// Anthropic) or any other body.
    pub fn from_status(
        provider: &str,
        status: u16,
        body: &serde_json::Value,
        retry_after: Option<Duration>,
    ) -> Self {
        let message = body
            .pointer("/error/message")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| body.to_string().chars().take(300).collect());
        let provider = provider.to_owned();
        match status {
            401 | 403 => ProviderError::Unauthorized {
                provider,
                status,
                message,
            },
            429 => ProviderError::RateLimited {
                provider,
                retry_after,
                message,
            },
            // Anthropic's 529 "overloaded" and every 5xx: the server's trouble.
            s if s >= 500 => ProviderError::Server {
                provider,
                status,
                message,
            },
            _ => ProviderError::BadRequest {
                provider,
                status,
                message,
            },
        }
    }

    /// What the chat user is told: the failure in plain words, never silence, never a key.
    pub fn user_message(&self) -> String {
        match self {
            ProviderError::NotConfigured { provider } => {
                format!("⚠️ The model provider \"{provider}\" is not configured on this gateway.")
            }
            ProviderError::NoKey { provider } => {
                format!("⚠️ No API key is configured for the model provider {provider}.")
            }
            ProviderError::NoModel { .. } => {
                "⚠️ No model is configured for this assistant.".to_owned()
            }
            ProviderError::BadReference { reference } => {
                format!("⚠️ The configured model \"{reference}\" is not valid.")
            }
            ProviderError::Unauthorized { provider, .. } => {
                format!("⚠️ The model provider rejected the API key for {provider}.")
            }
            ProviderError::BadRequest {
                provider, message, ..
            } => {
                format!("⚠️ The model provider {provider} refused the request: {message}")
            }
            ProviderError::RateLimited { provider, .. } | ProviderError::Busy { provider } => {
                format!(
                    "⚠️ The model provider {provider} is busy right now; please try again shortly."
                )
            }
            ProviderError::Server { provider, .. }
            | ProviderError::Transport { provider, .. }
            | ProviderError::Protocol { provider, .. }
            | ProviderError::CircuitOpen { provider, .. } => {
                format!(
                    "⚠️ The model provider {provider} is unavailable right now; please try again shortly."
                )
            }
            ProviderError::Timeout { provider, .. } => {
                format!(
                    "⚠️ The model provider {provider} did not answer in time; please try again."
                )
            }
            ProviderError::ToolLoop { .. } => {
                "⚠️ The assistant kept using tools without answering; please rephrase and try again."
                    .to_owned()
            }
        }
    }

    /// Worth trying the same provider again after a pause.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::Timeout { .. }
                | ProviderError::Transport { .. }
                | ProviderError::Protocol { .. }
        )
    }

    /// Says something about the provider's health (counts for its circuit breaker).
    pub fn is_health_failure(&self) -> bool {
        self.is_retryable()
    }

    /// Worth moving on to the next model in `fallbacks`. A refused key or request is not: the
    /// user is told at once (the fix is in the config, not in another model).
    pub fn allows_fallback(&self) -> bool {
        self.is_retryable()
            || matches!(
                self,
                ProviderError::Busy { .. }
                    | ProviderError::CircuitOpen { .. }
                    | ProviderError::NotConfigured { .. }
                    | ProviderError::NoKey { .. }
            )
    }
}
