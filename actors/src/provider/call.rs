//! One model call as the runtime makes it: key and circuit checked, a slot taken, the call
//! made in the provider's protocol under an overall deadline, and retried with backoff (and
//! `Retry-After`) while the error is worth it.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::backoff::Backoff;
use crate::config::{ModelApi, ProviderConfig};

use super::chat::{ChatRequest, Completion, StreamSink};
use super::circuit::{CircuitBreaker, CircuitSnapshot};
use super::error::ProviderError;
use super::limits::ProviderLimits;
use super::usage::{UsageCounters, UsageSnapshot};
use super::wait_notice::{NOTICE_AFTER, WaitNotice, noticed};
use super::{anthropic, openai};

/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A provider's settings and shared state (limits, circuit, usage), one per provider for the
/// whole process, shared by its actors on every thread.
pub struct ProviderState {
    /// Its settings from the config.
    pub config: ProviderConfig,
    /// Its concurrency and rate limits.
    pub limits: ProviderLimits,
    /// Its circuit breaker.
    pub circuit: CircuitBreaker,
    /// Its calls and tokens.
    pub usage: UsageCounters,
    /// The newest failed call, for operators; kept (with its time) after later successes.
    last_error: std::sync::Mutex<Option<LastError>>,
}

/// A provider's newest failure, as operators see it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastError {
    /// `ProviderError::kind`: `auth`, `rate_limited`, `server`, `timeout`, `transport`...
    pub kind: &'static str,
    /// The error, as logged (no key in it: error bodies are cleaned of the provider's secrets).
    pub message: String,
    /// ms since the epoch.
    pub at_ms: i64,
}

/// For status output.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    /// The provider's id.
    pub id: String,
    /// Where it is called.
    pub base_url: String,
    /// It has an API key (never the key).
    pub key_present: bool,
    /// Its circuit breaker's state.
    pub circuit: CircuitSnapshot,
    /// Calls running now.
    pub in_flight: u32,
    /// Calls waiting for a slot.
    pub waiting: u32,
    /// Calls and tokens so far.
    pub usage: UsageSnapshot,
    /// The newest failed call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<LastError>,
}

impl ProviderState {
    /// The state of a provider, with its limits and circuit from `config`.
    pub fn new(config: ProviderConfig) -> Arc<ProviderState> {
        Arc::new(ProviderState {
            limits: ProviderLimits::new(
                &config.id,
                config.max_concurrent,
                config.requests_per_minute,
                config.max_queue,
            ),
            circuit: CircuitBreaker::new(config.circuit_failures, config.circuit_cooldown),
            usage: UsageCounters::default(),
            last_error: std::sync::Mutex::new(None),
            config,
        })
    }

    /// Its status for operators.
    pub fn status(&self) -> ProviderStatus {
        ProviderStatus {
            id: self.config.id.clone(),
            base_url: self.config.base_url.clone(),
            key_present: self.config.api_key.is_some(),
            circuit: self.circuit.snapshot(),
            in_flight: self.limits.in_flight(),
            waiting: self.limits.waiting(),
            usage: self.usage.snapshot(),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        }
    }

    /// Closes an open circuit at once (an operator's "try now"); the next call goes through.
    pub fn retry_now(&self) {
        self.circuit.reset();
        tracing::info!(provider = %self.config.id, "circuit closed by the operator");
    }

    fn note(&self, error: &ProviderError) {
        let mut last = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        *last = Some(LastError {
            kind: error.kind(),
            message: error.to_string(),
            at_ms: chrono::Utc::now().timestamp_millis(),
        });
    }

    /// Makes the call, with retries. When streaming, `sink` gets the text as it grows (and is
    /// reset at each retry).
    pub async fn complete(
        &self,
        http: &awc::Client,
        req: &ChatRequest,
        sink: Option<&StreamSink>,
        notice: Option<&WaitNotice>,
    ) -> Result<Completion, ProviderError> {
        let started = std::time::Instant::now();
        let result = self.attempts(http, req, sink, notice).await;
        let error = result.as_ref().err().map(ProviderError::kind);
        crate::telemetry::provider_call(&self.config.id, started.elapsed(), error);
        if let Ok(c) = &result {
            crate::telemetry::tokens(
                &self.config.id,
                c.usage.prompt_tokens,
                c.usage.completion_tokens,
            );
        }
        result
    }

    async fn attempts(
        &self,
        http: &awc::Client,
        req: &ChatRequest,
        sink: Option<&StreamSink>,
        notice: Option<&WaitNotice>,
    ) -> Result<Completion, ProviderError> {
        let p = &self.config;
        if p.needs_key && p.api_key.is_none() {
            return Err(ProviderError::NoKey {
                provider: p.id.clone(),
            });
        }
        let _slot = noticed(self.limits.acquire(), notice, NOTICE_AFTER).await?;
        let mut backoff = Backoff::new(
            p.retry_initial,
            p.retry_initial.saturating_mul(32).min(MAX_RETRY_AFTER),
        );
        let mut attempt = 0;
        loop {
            self.circuit
                .check()
                .map_err(|retry_in| ProviderError::CircuitOpen {
                    provider: p.id.clone(),
                    retry_in,
                })?;
            if let Some(sink) = sink {
                sink.send_replace(String::new());
            }
            let call = async {
                match p.api {
                    ModelApi::AnthropicMessages => anthropic::call(http, p, req, sink).await,
                    _ => openai::call(http, p, req, sink).await,
                }
            };
            let result = tokio::time::timeout(p.timeout, call).await.unwrap_or(Err(
                ProviderError::Timeout {
                    provider: p.id.clone(),
                    after: p.timeout,
                },
            ));
            match result {
                Ok(c) => {
                    if self.circuit.success() {
                        tracing::info!(provider = %p.id, "provider recovered; circuit closed");
                    }
                    self.usage.record(c.usage);
                    return Ok(c);
                }
                Err(e) => {
                    self.usage.error();
                    self.note(&e);
                    if !e.is_health_failure() {
                        self.circuit.neutral();
                    } else if let Some(cooldown) = self.circuit.failure() {
                        tracing::warn!(provider = %p.id, error = %e, ?cooldown, "provider keeps failing; skipped during the cooldown");
                    }
                    if !e.is_retryable() || attempt >= p.retries {
                        return Err(e);
                    }
                    attempt += 1;
                    let delay = match &e {
                        ProviderError::RateLimited {
                            retry_after: Some(d),
                            ..
                        } => (*d).min(MAX_RETRY_AFTER),
                        _ => backoff.next_delay(),
                    };
                    tracing::warn!(provider = %p.id, error = %e, attempt, retry_in = ?delay, "model call failed, retrying");
                    actix_rt::time::sleep(delay).await;
                }
            }
        }
    }
}
