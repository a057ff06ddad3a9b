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
    let mut resp = request
        .send_json(body)
        .await
        .map_err(|e| send_error(p, e))?;
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

/// A request that got no answer: its deadline passed, or the connection failed.
pub(super) fn send_error(p: &ProviderConfig, e: SendRequestError) -> ProviderError {
    match e {
        SendRequestError::Timeout => ProviderError::Timeout {
            provider: p.id.clone(),
            after: p.timeout,
        },
        other => ProviderError::Transport {
            provider: p.id.clone(),
            message: other.to_string(),
        },
    }
}

/// An error body with the provider's key and header values replaced by `***`: some providers
/// quote the key they refused, and the message ends up in logs and in the user's reply.
pub(super) fn without_secrets(body: Value, p: &ProviderConfig) -> Value {
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

/// Longest line of a streamed answer. One line carries one JSON chunk, a few kilobytes at
/// most; a server that sends one endless line must fail fast, not fill memory.
pub const MAX_SSE_LINE: usize = 1024 * 1024;

/// Largest event (its lines up to the blank line that ends it).
pub const MAX_SSE_EVENT: usize = 4 * 1024 * 1024;

/// The events of a server-sent event stream, read in linear time with bounded memory: the
/// bytes are cut into lines first (tokio-util's `LinesCodec`, which scans each byte once and
/// refuses lines past `MAX_SSE_LINE`), and the SSE parser sees one whole line at a time. Fed
/// raw chunks, the parser rescans its whole buffer on every chunk, so one long line arriving
/// in small pieces costs quadratic time.
pub fn sse_events<S, B, E>(body: S) -> impl Stream<Item = Result<Event, String>>
where
    S: Stream<Item = Result<B, E>>,
    B: bytes::Buf,
    E: std::fmt::Display,
{
    use tokio_util::codec::{FramedRead, LinesCodec};
    let reader = tokio_util::io::StreamReader::new(
        body.map(|chunk| chunk.map_err(|e| std::io::Error::other(e.to_string()))),
    );
    let mut event_bytes = 0usize;
    FramedRead::new(reader, LinesCodec::new_with_max_length(MAX_SSE_LINE))
        .map(move |line| {
            let line = line.map_err(|e| match e {
                tokio_util::codec::LinesCodecError::MaxLineLengthExceeded => {
                    format!("a line of the stream is longer than {MAX_SSE_LINE} bytes")
                }
                other => other.to_string(),
            })?;
            event_bytes = if line.is_empty() {
                0
            } else {
                event_bytes + line.len()
            };
            if event_bytes > MAX_SSE_EVENT {
                return Err(format!(
                    "an event of the stream is larger than {MAX_SSE_EVENT} bytes"
                ));
            }
            let mut framed = line.into_bytes();
            framed.push(b'\n');
            Ok::<_, String>(bytes::Bytes::from(framed))
        })
        .eventsource()
        .map(|e| e.map_err(|e| e.to_string()))
}

/// The server-sent events of a streamed answer. A model that goes quiet for `idleTimeoutSeconds`
/// is a timeout, even if the whole-call deadline is far away.
pub struct Events<'a> {
    inner: EventStream,
    p: &'a ProviderConfig,
}

impl<'a> Events<'a> {
    pub fn new(answer: Answer, p: &'a ProviderConfig) -> Self {
        let inner = sse_events(answer);
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

    fn events_of(chunks: Vec<Vec<u8>>) -> Vec<Result<String, String>> {
        use futures_util::FutureExt;
        let stream = futures_util::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::convert::Infallible>(bytes::Bytes::from(c))),
        );
        let mut events = Box::pin(sse_events(stream));
        let mut out = Vec::new();
        while let Some(Some(e)) = events.next().now_or_never() {
            let failed = e.is_err();
            out.push(e.map(|e| e.data));
            if failed {
                break;
            }
        }
        out
    }

    #[test]
    fn events_split_anywhere_are_read_whole() {
        let body =
            b"data: {\"a\":1}\r\n\r\n: comment\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
        let one_byte_chunks = body.iter().map(|b| vec![*b]).collect();
        let got = events_of(one_byte_chunks);
        assert_eq!(
            got,
            vec![
                Ok("{\"a\":1}".to_owned()),
                Ok("line1\nline2".to_owned()),
                Ok("[DONE]".to_owned())
            ]
        );
    }

    /// Found by probing a running gateway: a provider streaming one endless line made the
    /// parser rescan its growing buffer on every chunk (quadratic), pinning a worker until the
    /// call's deadline. Now the line is refused once it passes the limit.
    #[test]
    fn an_endless_line_is_refused_at_the_limit() {
        let mut chunks = vec![b"data: ".to_vec()];
        chunks.extend(std::iter::repeat_n(vec![b'x'; 512], MAX_SSE_LINE / 512 + 8));
        let got = events_of(chunks);
        assert_eq!(got.len(), 1);
        let err = got[0].clone().unwrap_err();
        assert!(err.contains("longer than"), "{err}");
    }

    #[test]
    fn an_endless_event_is_refused_at_the_limit() {
        let line = format!("data: {}\n", "y".repeat(1000));
        let chunks = std::iter::repeat_n(line.into_bytes(), MAX_SSE_EVENT / 1000 + 8).collect();
        let got = events_of(chunks);
        let err = got.last().cloned().unwrap().unwrap_err();
        assert!(err.contains("larger than"), "{err}");
    }

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
