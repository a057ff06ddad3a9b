//! Opening a Stream connection (docs/dingtalk-protocol.md 1): register with
//! `POST {endpoint}/v1.0/gateway/connections/open`, then open the WebSocket at
//! `{endpoint from the answer}?ticket={ticket}`. A ticket is good for one connection only, so
//! every (re)connect registers again.

use std::net::UdpSocket;
use std::sync::LazyLock;

use actix_codec::Framed;
use awc::BoxedSocket;
use awc::ws::Codec;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::json;

use crate::config::DingTalkAccount;

use super::error::DingTalkError;
use super::frame::TOPIC_BOT_MESSAGE;
use super::http::{USER_AGENT, post_json};

const API: &str = "connections/open";

/// A registered connection: where to connect, and the one-time ticket.
#[derive(Clone, Deserialize)]
pub struct Ticket {
    /// The WebSocket URL to connect to.
    pub endpoint: String,
    /// The one-time ticket for it (about 90 seconds).
    pub ticket: String,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The address this host would use to reach the internet, sent as `localIp` for DingTalk's
/// diagnostics. Found by connecting a UDP socket, which sends nothing.
static LOCAL_IP: LazyLock<String> = LazyLock::new(|| {
    UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| {
            s.connect("8.8.8.8:80")?;
            s.local_addr()
        })
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|_| "127.0.0.1".to_owned())
});

/// Registers a connection and returns its ticket.
pub async fn open_ticket(
    http: &awc::Client,
    account: &DingTalkAccount,
) -> Result<Ticket, DingTalkError> {
    let body = json!({
        "clientId": account.client_id,
        "clientSecret": account.client_secret.expose(),
        "subscriptions": [
            { "type": "EVENT", "topic": "*" },
            { "type": "CALLBACK", "topic": TOPIC_BOT_MESSAGE },
        ],
        "ua": USER_AGENT,
        "localIp": LOCAL_IP.as_str(),
    });
    let url = format!("{}/v1.0/gateway/connections/open", account.endpoint);
    let request = http
        .post(&url)
        .insert_header(("Accept", "application/json"));
    let (status, value) = post_json(request, API, &body).await?;
    if status != 200 {
        return Err(DingTalkError::from_credentials_answer(
            API,
            &account.id,
            status,
            &value,
        ));
    }
    let ticket: Ticket = serde_json::from_value(value).map_err(|e| DingTalkError::Protocol {
        api: API,
        message: e.to_string(),
    })?;
    if ticket.endpoint.is_empty() || ticket.ticket.is_empty() {
        return Err(DingTalkError::Protocol {
            api: API,
            message: "empty endpoint or ticket".to_owned(),
        });
    }
    Ok(ticket)
}

/// Opens the WebSocket for a ticket.
pub async fn connect_socket(
    http: &awc::Client,
    ticket: &Ticket,
    max_frame_bytes: usize,
) -> Result<Framed<BoxedSocket, Codec>, DingTalkError> {
    let url = format!(
        "{}?ticket={}",
        ticket.endpoint,
        utf8_percent_encode(&ticket.ticket, NON_ALPHANUMERIC)
    );
    let (resp, framed) = http
        .ws(url)
        .max_frame_size(max_frame_bytes.saturating_mul(super::connection::OVERSIZE_FACTOR))
        .connect()
        .await
        .map_err(|e| DingTalkError::Transport {
            api: "stream websocket",
            message: e.to_string(),
        })?;
    tracing::debug!(status = %resp.status(), endpoint = %ticket.endpoint, "stream websocket open");
    Ok(framed)
}
