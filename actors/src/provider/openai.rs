//! `POST {baseUrl}/chat/completions`, non-streaming, OpenAI wire format.

use std::time::Duration;

use serde_json::{Value, json};

use super::chat::{ChatMessage, Completion, Usage};
use super::endpoint::ProviderEndpoint;
use super::error::ProviderError;

/// Largest answer body read (a long answer with usage fits easily).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Asks `model` at `ep` for the next assistant message.
pub async fn chat_completion(
    http: &awc::Client,
    ep: &ProviderEndpoint,
    model: &str,
    messages: &[ChatMessage],
) -> Result<Completion, ProviderError> {
    let provider = || ep.id.clone();
    let mut req = http
        .post(format!("{}/chat/completions", ep.base_url))
        .timeout(ep.timeout)
        .insert_header(("Accept", "application/json"));
    if let Some(key) = &ep.api_key {
        req = req.insert_header(("Authorization", format!("Bearer {}", key.expose())));
    }
    for (name, value) in &ep.headers {
        req = req.insert_header((name.as_str(), value.expose()));
    }
    let body = json!({ "model": model, "messages": messages, "stream": false });
    let mut resp = req.send_json(&body).await.map_err(|e| match e {
        awc::error::SendRequestError::Timeout => ProviderError::Timeout {
            provider: provider(),
            after: ep.timeout,
        },
        other => ProviderError::Transport {
            provider: provider(),
            message: other.to_string(),
        },
    })?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = resp
        .body()
        .limit(MAX_BODY)
        .await
        .map_err(|e| ProviderError::Transport {
            provider: provider(),
            message: format!("reading the answer: {e}"),
        })?;
    let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        Value::String(String::from_utf8_lossy(&bytes).chars().take(500).collect())
    });
    if status != 200 {
        let message = value
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string().chars().take(300).collect());
        return Err(match status {
            401 | 403 => ProviderError::Unauthorized {
                provider: provider(),
                status,
                message,
            },
            429 => ProviderError::RateLimited {
                provider: provider(),
                retry_after,
                message,
            },
            s if s >= 500 => ProviderError::Server {
                provider: provider(),
                status,
                message,
            },
            _ => ProviderError::BadRequest {
                provider: provider(),
                status,
                message,
            },
        });
    }
    let choice = value
        .pointer("/choices/0")
        .ok_or_else(|| ProviderError::Protocol {
            provider: provider(),
            message: "no choices in the answer".to_owned(),
        })?;
    Ok(Completion {
        text: choice
            .pointer("/message/content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        model: value
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or(model)
            .to_owned(),
        usage: value
            .get("usage")
            .and_then(|u| serde_json::from_value::<Usage>(u.clone()).ok())
            .unwrap_or_default(),
        finish_reason: choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}
