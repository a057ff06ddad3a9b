//! The HTTP+SSE transport of MCP's 2024-11-05 protocol, which `rmcp` no longer ships: the
//! client opens `GET <url>` as a server-sent event stream; the server's first event,
//! `endpoint`, names where to `POST` the client's messages; the server's messages arrive as
//! `message` events on the stream. Events are parsed by `eventsource-stream`; the messages are
//! `rmcp`'s types, so all JSON-RPC handling stays the SDK's.

use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::{Sink, Stream, StreamExt};
use reqwest::header::HeaderMap;
use rmcp::service::{RoleClient, RxJsonRpcMessage, TxJsonRpcMessage};

use super::error::McpError;

pub type LegacySink = Pin<Box<dyn Sink<TxJsonRpcMessage<RoleClient>, Error = McpError> + Send>>;
pub type LegacyStream = Pin<Box<dyn Stream<Item = RxJsonRpcMessage<RoleClient>> + Send>>;

/// Opens the event stream and waits (up to `connect_timeout`) for the `endpoint` event.
pub async fn open(
    client: reqwest::Client,
    url: &str,
    headers: HeaderMap,
    connect_timeout: Duration,
) -> Result<(LegacySink, LegacyStream), McpError> {
    let base = url::Url::parse(url).map_err(|e| McpError::Start(format!("bad url: {e}")))?;
    let opening = async {
        let resp = client
            .get(base.as_str())
            .headers(headers.clone())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| McpError::Start(format!("GET {base}: {}", without_url(&e))))?;
        if !resp.status().is_success() {
            return Err(McpError::Start(format!(
                "GET {base}: HTTP {}",
                resp.status()
            )));
        }
        let mut events = resp.bytes_stream().eventsource();
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| McpError::Start(format!("event stream: {e}")))?;
            if event.event == "endpoint" {
                let endpoint = base.join(event.data.trim()).map_err(|e| {
                    McpError::Protocol(format!("endpoint \"{}\": {e}", event.data.trim()))
                })?;
                return Ok((endpoint, events));
            }
        }
        Err(McpError::Start(
            "the event stream ended before the endpoint event".into(),
        ))
    };
    let (endpoint, events) = tokio::time::timeout(connect_timeout, opening)
        .await
        .map_err(|_| McpError::ConnectTimeout(connect_timeout.as_secs()))??;
    let stream = events
        .take_while(|e| std::future::ready(e.is_ok()))
        .filter_map(|e| async move {
            let event = e.ok()?;
            if event.event != "message" && !event.event.is_empty() {
                return None;
            }
            match serde_json::from_str::<RxJsonRpcMessage<RoleClient>>(&event.data) {
                Ok(m) => Some(m),
                Err(err) => {
                    tracing::warn!(error = %err, "MCP server sent an SSE message that is not JSON-RPC");
                    None
                }
            }
        });
    let sink = futures_util::sink::unfold(
        (client, endpoint, headers),
        |(client, endpoint, headers), msg: TxJsonRpcMessage<RoleClient>| async move {
            let resp = client
                .post(endpoint.as_str())
                .headers(headers.clone())
                .json(&msg)
                .send()
                .await
                .map_err(|e| McpError::Protocol(format!("POST: {}", without_url(&e))))?;
            if !resp.status().is_success() {
                return Err(McpError::Protocol(format!("POST: HTTP {}", resp.status())));
            }
            Ok((client, endpoint, headers))
        },
    );
    Ok((Box::pin(sink), Box::pin(stream)))
}

/// A reqwest error without the URL it carries (a session URL may hold a token).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(u) = e.url() {
        text = text.replace(u.as_str(), "<url>");
    }
    text
}
