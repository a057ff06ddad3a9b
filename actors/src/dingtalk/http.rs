//! The awc HTTP client for DingTalk, one per arbiter (awc clients are `!Send`;
//! docs/actix-notes.md 2.1), with timeouts from the account's settings instead of awc's
//! 5 s defaults.

use std::time::Duration;

use awc::{Client, Connector};

/// User agent sent to DingTalk, as the official SDKs send theirs.
pub const USER_AGENT: &str = concat!("dingclaw/", env!("CARGO_PKG_VERSION"));

/// Builds a client for the current thread.
pub fn client(connect_timeout: Duration, request_timeout: Duration) -> Client {
    // The provider must be in place before `Connector::new()`, which builds TLS settings.
    let tls = crate::tls::client_tls();
    Client::builder()
        .connector(
            Connector::new()
                .rustls_0_23(tls)
                .timeout(connect_timeout)
                .handshake_timeout(connect_timeout),
        )
        .timeout(request_timeout)
        // DingTalk's APIs do not redirect; a redirect would carry the access token elsewhere.
        .disable_redirects()
        .add_default_header(("User-Agent", USER_AGENT))
        .finish()
}

/// Largest answer body read from DingTalk.
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Sends `body` as JSON with the prepared request (any method) and returns the status and the
/// answer
/// (JSON, or the text of a non-JSON answer). Failing to get an answer at all is a transport
/// error of `api`.
pub async fn post_json(
    request: awc::ClientRequest,
    api: &'static str,
    body: &serde_json::Value,
) -> Result<(u16, serde_json::Value), super::error::DingTalkError> {
    let mut resp =
        request
            .send_json(body)
            .await
            .map_err(|e| super::error::DingTalkError::Transport {
                api,
                message: e.to_string(),
            })?;
    let status = resp.status().as_u16();
    Ok((status, read_json(&mut resp, MAX_ANSWER_BYTES).await))
}

/// Reads a response body as JSON, tolerating an empty or non-JSON body (kept as text).
pub async fn read_json<S>(resp: &mut awc::ClientResponse<S>, limit: usize) -> serde_json::Value
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
{
    match resp.body().limit(limit).await {
        Ok(body) => serde_json::from_slice(&body).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&body).into_owned())
        }),
        Err(e) => serde_json::Value::String(format!("unreadable body: {e}")),
    }
}
