//! What can go wrong calling a model, and the sentence a chat user sees for it.

use std::time::Duration;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The model reference names a provider that is neither configured nor built in.
    #[error("model provider \"{provider}\" is not configured (add models.providers.{provider})")]
    NotConfigured { provider: String },
    /// No model: neither the agent nor `agents.defaults` names one.
    #[error(
        "no model is configured for agent \"{agent}\" (set model.primary or agents.defaults.model)"
    )]
    NoModel { agent: String },
    /// The model reference cannot be read.
    #[error("\"{reference}\" is not a model reference (use provider/model or an alias)")]
    BadReference { reference: String },
    /// 401/403: the key was refused.
    #[error("{provider}: the API key was rejected (HTTP {status}): {message}")]
    Unauthorized {
        provider: String,
        status: u16,
        message: String,
    },
    /// 400 and other 4xx: the request was refused (unknown model, bad parameters...).
    #[error("{provider}: the request was rejected (HTTP {status}): {message}")]
    BadRequest {
        provider: String,
        status: u16,
        message: String,
    },
    /// 429.
    #[error("{provider}: rate limited: {message}")]
    RateLimited {
        provider: String,
        retry_after: Option<Duration>,
        message: String,
    },
    /// 5xx.
    #[error("{provider}: server error (HTTP {status}): {message}")]
    Server {
        provider: String,
        status: u16,
        message: String,
    },
    /// No answer within the call's deadline.
    #[error("{provider}: no answer within {after:?}")]
    Timeout { provider: String, after: Duration },
    /// Connect, TLS or reset.
    #[error("{provider}: {message}")]
    Transport { provider: String, message: String },
    /// An answer that does not follow the protocol.
    #[error("{provider}: unexpected answer: {message}")]
    Protocol { provider: String, message: String },
}

impl ProviderError {
    /// What the chat user is told: the failure in plain words, never silence, never a key.
    pub fn user_message(&self) -> String {
        match self {
            ProviderError::NotConfigured { provider } => {
                format!("⚠️ The model provider \"{provider}\" is not configured on this gateway.")
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
            ProviderError::RateLimited { provider, .. } => {
                format!(
                    "⚠️ The model provider {provider} is rate limiting us; please try again shortly."
                )
            }
            ProviderError::Server { provider, .. }
            | ProviderError::Transport { provider, .. }
            | ProviderError::Protocol { provider, .. } => {
                format!(
                    "⚠️ The model provider {provider} is unavailable right now; please try again shortly."
                )
            }
            ProviderError::Timeout { provider, .. } => {
                format!(
                    "⚠️ The model provider {provider} did not answer in time; please try again."
                )
            }
        }
    }

    /// Worth retrying (and, later, worth falling back to another model).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::Timeout { .. }
                | ProviderError::Transport { .. }
        )
    }
}
