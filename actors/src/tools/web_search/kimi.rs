//! Kimi (Moonshot): a chat completion that offers the built-in `$web_search` function. The
//! model asks for it, the caller hands its arguments straight back as the result (Moonshot
//! runs the search on its side), and the model answers from what it found.

use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use crate::config::SearchProviderConfig;

use super::{SearchOutcome, SearchProvider, SearchRequest, answer_json};

pub struct Kimi;

/// OpenClaw 2026.3's default model for Kimi search.
const DEFAULT_MODEL: &str = "moonshot-v1-128k";

/// Rounds of `$web_search` before giving up on an answer.
const MAX_ROUNDS: usize = 3;

impl SearchProvider for Kimi {
    fn search<'a>(
        &'a self,
        http: &'a awc::Client,
        cfg: &'a SearchProviderConfig,
        req: &'a SearchRequest,
        timeout: Duration,
    ) -> LocalBoxFuture<'a, Result<SearchOutcome, String>> {
        Box::pin(async move {
            let mut messages = vec![json!({"role": "user", "content": req.query})];
            for _ in 0..MAX_ROUNDS {
                let body = json!({
                    "model": cfg.model.as_deref().unwrap_or(DEFAULT_MODEL),
                    "messages": messages,
                    "tools": [{"type": "builtin_function", "function": {"name": "$web_search"}}],
                });
                let mut request = http
                    .post(format!("{}/chat/completions", cfg.base_url))
                    .timeout(timeout);
                if let Some(key) = &cfg.api_key {
                    request = request
                        .insert_header(("Authorization", format!("Bearer {}", key.expose())));
                }
                let resp = request
                    .send_json(&body)
                    .await
                    .map_err(|e| format!("kimi: {e}"))?;
                let v = answer_json(resp, "kimi").await?;
                let choice = v
                    .pointer("/choices/0")
                    .ok_or("kimi: no choice in the answer")?;
                let message = choice.get("message").cloned().unwrap_or(Value::Null);
                let calls = message
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if choice.get("finish_reason").and_then(Value::as_str) != Some("tool_calls")
                    || calls.is_empty()
                {
                    let content = message
                        .get("content")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    return Ok(SearchOutcome::Answer {
                        content,
                        citations: Vec::new(),
                    });
                }
                messages.push(message);
                for call in calls {
                    messages.push(json!({
                        "role": "tool",
                        "tool_call_id": call.get("id").cloned().unwrap_or(Value::Null),
                        "name": call.pointer("/function/name").cloned().unwrap_or(json!("$web_search")),
                        "content": call.pointer("/function/arguments").and_then(Value::as_str).unwrap_or("{}"),
                    }));
                }
            }
            Err("kimi kept searching without answering".to_owned())
        })
    }
}
