//! The awc HTTP client for DingTalk (awc clients are `!Send`; docs/actix-notes.md 2.1), with
//! timeouts from the account's settings instead of awc's 5 s defaults.
//!
//! The accounts' API calls share one client per thread and timeout pair: a client with its
//! connection pool cost each idle bot about 2 KiB, and every account calls the same few
//! DingTalk hosts, so a shared pool also reuses more of its kept-alive sockets.

use std::cell::RefCell;
use std::time::Duration;

use awc::{Client, Connector};

/// User agent sent to DingTalk, as the official SDKs send theirs.
pub const USER_AGENT: &str = concat!("dingclaw/", env!("CARGO_PKG_VERSION"));

/// Connections a shared client may hold open at once (awc's default is 100 per client, which
/// was per bot when every account had its own).
const SHARED_POOL_LIMIT: usize = 1024;

thread_local! {
    /// The shared clients of this thread, by (connect, request) timeout.
    static SHARED: RefCell<Vec<((Duration, Duration), Client)>> = const { RefCell::new(Vec::new()) };
}

/// The client this thread's accounts share for these timeouts.
pub fn shared_client(connect_timeout: Duration, request_timeout: Duration) -> Client {
    let key = (connect_timeout, request_timeout);
    SHARED.with(|cell| {
        let mut clients = cell.borrow_mut();
        if let Some((_, c)) = clients.iter().find(|(k, _)| *k == key) {
            return c.clone();
        }
        let client = build(connect_timeout, request_timeout, SHARED_POOL_LIMIT);
        clients.push((key, client.clone()));
        client
    })
}

/// Builds a client of its own, for one task (the Stream client's connection attempt).
pub fn client(connect_timeout: Duration, request_timeout: Duration) -> Client {
    build(connect_timeout, request_timeout, 100)
}

fn build(connect_timeout: Duration, request_timeout: Duration, pool_limit: usize) -> Client {
    // The provider must be in place before `Connector::new()`, which builds TLS settings.
    let tls = crate::tls::client_tls();
    Client::builder()
        .connector(
            Connector::new()
                .rustls_0_23(tls)
                .timeout(connect_timeout)
                .handshake_timeout(connect_timeout)
                .limit(pool_limit),
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
