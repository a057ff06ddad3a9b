//! Checking a provider without running a turn, for `dingclaw doctor`: is it reachable, and
//! does it take the key? Listing the models answers both for free on most OpenAI-compatible
//! APIs and on Anthropic's; a provider without a listing is reachable but its key is known
//! good only after one minimal call (`live`), which costs a few tokens.

use serde_json::{Value, json};

use crate::config::{ModelApi, ProviderConfig};

use super::anthropic::ANTHROPIC_VERSION;
use super::chat::{ChatMessage, ChatRequest};
use super::error::ProviderError;
use super::http::{read_body, send_error, without_secrets};

/// What a probe learnt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The model listing answered 200 to this key.
    KeyAccepted {
        /// Models it lists.
        models: usize,
    },
    /// The server answered, but has no model listing (this HTTP status): the key is unchecked.
    Reachable {
        /// What it answered.
        status: u16,
    },
    /// A minimal call was answered by this model.
    Answered {
        /// The model, as the provider names it.
        model: String,
    },
}

/// Lists the provider's models with its key and headers.
pub async fn list_models(http: &awc::Client, p: &ProviderConfig) -> Result<Probe, ProviderError> {
    let mut request = match p.api {
        ModelApi::AnthropicMessages => {
            let mut r = http
                .get(format!("{}/v1/models", p.base_url))
                .insert_header(("anthropic-version", ANTHROPIC_VERSION));
            if let Some(key) = &p.api_key {
                r = r.insert_header(("x-api-key", key.expose()));
            }
            r
        }
        _ => {
            let mut r = http.get(format!("{}/models", p.base_url));
            if let Some(key) = &p.api_key {
                r = r.insert_header(("Authorization", format!("Bearer {}", key.expose())));
            }
            r
        }
    };
    for (name, value) in &p.headers {
        request = request.insert_header((name.as_str(), value.expose()));
    }
    let mut resp = request
        .timeout(p.timeout.min(std::time::Duration::from_secs(15)))
        .send()
        .await
        .map_err(|e| send_error(p, e))?;
    let status = resp.status().as_u16();
    let body = without_secrets(read_body(&mut resp, &p.id).await.unwrap_or(Value::Null), p);
    match status {
        200 => Ok(Probe::KeyAccepted {
            models: body
                .get("data")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
        }),
        404 | 405 => Ok(Probe::Reachable { status }),
        _ => Err(ProviderError::from_status(&p.id, status, &body, None)),
    }
}

/// One minimal, non-streamed call to `model`: a few tokens at most.
pub async fn minimal_call(
    http: &awc::Client,
    p: &ProviderConfig,
    model: &str,
) -> Result<Probe, ProviderError> {
    let req = ChatRequest {
        model: model.to_owned(),
        messages: vec![ChatMessage::user("Reply with OK.")],
        tools: Vec::new(),
        params: json!({"max_tokens": 8})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    };
    let answer = match p.api {
        ModelApi::AnthropicMessages => super::anthropic::call(http, p, &req, None).await,
        _ => super::openai::call(http, p, &req, None).await,
    }?;
    Ok(Probe::Answered {
        model: if answer.model.is_empty() {
            model.to_owned()
        } else {
            answer.model
        },
    })
}
