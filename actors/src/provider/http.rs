//! The HTTP side shared by the wire protocols: sending a JSON request, turning a non-200
//! answer into a `ProviderError`, and reading a server-sent event stream with an idle limit.

use std::time::Duration;

use std::pin::Pin;

use awc::ClientResponse;
use awc::error::SendRequestError;
use eventsource_stream::{Event, Eventsource};
use futures_util::{Stream, StreamExt};
use serde_json::Value;

use crate::config::ProviderConfig;

use super::error::ProviderError;

/// Largest non-streamed answer read.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// A streamed or plain answer that said 200.
pub type Answer = ClientResponse;

/// Sends `body` with the provider's configured `headers` and checks the status; the 200
/// answer is returned unread.
pub async fn post(
    mut request: awc::ClientRequest,
    p: &ProviderConfig,
    body: &impl serde::Serialize,
) -> Result<Answer, ProviderError> {
    for (name, value) in &p.headers {
        request = request.insert_header((name.as_str(), value.expose()));
    }
    let mut resp = request.send_json(body).await.map_err(|e| match e {
        SendRequestError::Timeout => ProviderError::Timeout {
            provider: p.id.clone(),
            after: p.timeout,
        },
        other => ProviderError::Transport {
            provider: p.id.clone(),
            message: other.to_string(),
        },
    })?;
    let status = resp.status().as_u16();
    if status == 200 {
        return Ok(resp);
    }
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = without_secrets(read_body(&mut resp, &p.id).await.unwrap_or(Value::Null), p);
    Err(ProviderError::from_status(
        &p.id,
        status,
        &body,
        retry_after,
    ))
}

/// An error body with the provider's key and header values replaced by `***`: some providers
/// quote the key they refused, and the message ends up in logs and in the user's reply.
fn without_secrets(body: Value, p: &ProviderConfig) -> Value {
    let secrets: Vec<&str> = p
        .api_key
        .iter()
        .chain(p.headers.values())
        .map(|s| s.expose())
        .filter(|s| s.len() >= 6)
        .collect();
    let text = body.to_string();
    if !secrets.iter().any(|s| text.contains(s)) {
        return body;
    }
    let mut clean = text;
    for s in secrets {
        clean = clean.replace(s, "***");
    }
    serde_json::from_str(&clean).unwrap_or(Value::String(clean))
}

/// Reads a whole (non-streamed) body as JSON, or as text when it is not JSON.
pub async fn read_body<S>(
    resp: &mut ClientResponse<S>,
    provider: &str,
) -> Result<Value, ProviderError>
where
    S: Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
{
    let bytes = resp
        .body()
        .limit(MAX_BODY)
        .await
        .map_err(|e| ProviderError::Transport {
            provider: provider.to_owned(),
            message: format!("reading the answer: {e}"),
        })?;
    Ok(serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        Value::String(String::from_utf8_lossy(&bytes).chars().take(500).collect())
    }))
}

type EventStream = Pin<Box<dyn Stream<Item = Result<Event, String>>>>;

/// The server-sent events of a streamed answer. A model that goes quiet for `idleTimeoutSeconds`
/// is a timeout, even if the whole-call deadline is far away.
pub struct Events<'a> {
    inner: EventStream,
    p: &'a ProviderConfig,
}

impl<'a> Events<'a> {
    pub fn new(answer: Answer, p: &'a ProviderConfig) -> Self {
        let inner = answer.eventsource().map(|e| e.map_err(|e| e.to_string()));
        Self {
            inner: Box::pin(inner),
            p,
        }
    }

    /// The next event; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Result<Option<Event>, ProviderError> {
        let next = tokio::time::timeout(self.p.idle_timeout, self.inner.next())
            .await
            .map_err(|_| ProviderError::Timeout {
                provider: self.p.id.clone(),
                after: self.p.idle_timeout,
            })?;
        next.transpose().map_err(|e| ProviderError::Transport {
            provider: self.p.id.clone(),
            message: format!("stream: {e}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MapEnv, load_str};
    use serde_json::json;

    #[test]
    fn refused_keys_quoted_in_error_bodies_are_hidden() {
        let config = load_str(
            r#"{ models: { providers: { p: { baseUrl: "http://127.0.0.1:1/v1", apiKey: "sk-live-123456" } } } }"#,
            std::path::Path::new("/"),
            &MapEnv::default(),
        )
        .unwrap()
        .config;
        let p = config.models.provider("p").unwrap();
        let body = json!({"error": {"message": "Incorrect API key provided: sk-live-123456"}});
        let err = ProviderError::from_status("p", 401, &without_secrets(body, p), None);
        assert!(!err.to_string().contains("sk-live"), "{err}");
        assert!(err.to_string().contains("provided: ***"), "{err}");
    }
}
