//! Sending to DingTalk as a bot: the sessionWebhook of a conversation, and the robot OpenAPI
//! (`groupMessages/send`, `oToMessages/batchSend`) when the webhook has expired
//! (docs/dingtalk-protocol.md 4).
//!
//! A `DingTalkApi` holds an awc client of the current arbiter and the account's shared
//! access-token cache; build one per arbiter and clone it freely there.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use awc::http::Method;
use serde::Serialize;
use serde_json::{Value, json};

use crate::backoff::Backoff;
use crate::config::DingTalkAccount;
use crate::routing::ChatType;

use super::bot_message::BotMessage;
use super::card::CardGate;
use super::chunk::chunk;
use super::error::{DingTalkError, ERRCODE_SESSION_EXPIRED};
use super::http::{self, post_json};
use super::message::OutboundMessage;
use super::token::AccessTokenCache;

/// Stop using a sessionWebhook this long before its stated expiry, so a reply that takes a
/// moment does not arrive just after.
pub const WEBHOOK_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// Where a reply goes: the conversation a bot message came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyTarget {
    /// A private chat or a group.
    pub chat: ChatType,
    /// The conversation (`openConversationId` for group sends).
    pub conversation_id: String,
    /// Needed to @ the sender in a group and to answer a DM through the OpenAPI.
    pub sender_staff_id: Option<String>,
    /// The reply URL DingTalk gave with the message.
    pub session_webhook: String,
    /// ms since the epoch.
    pub webhook_expires_at_ms: Option<i64>,
    /// More people to @-mention in a group (staff ids the answer names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
}

impl From<&BotMessage> for ReplyTarget {
    fn from(m: &BotMessage) -> Self {
        ReplyTarget {
            chat: m.chat,
            conversation_id: m.conversation_id.clone(),
            sender_staff_id: m.sender_staff_id.clone(),
            session_webhook: m.session_webhook.clone(),
            webhook_expires_at_ms: m.session_webhook_expired_time,
            mentions: Vec::new(),
        }
    }
}

impl ReplyTarget {
    /// True when the sessionWebhook can no longer be trusted at `now_ms`.
    pub fn webhook_expired(&self, now_ms: i64) -> bool {
        self.session_webhook.is_empty()
            || self
                .webhook_expires_at_ms
                .is_some_and(|t| now_ms + WEBHOOK_EXPIRY_MARGIN.as_millis() as i64 >= t)
    }
}

/// How a reply was delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplyOutcome {
    /// Messages the reply was split into.
    pub chunks: usize,
    /// Chunks sent through the OpenAPI because the sessionWebhook had expired.
    pub via_openapi: usize,
    /// The answer is in an AI card.
    pub via_card: bool,
    /// An AI card was wanted but the answer went out as markdown (card error or degraded).
    pub card_fallback: bool,
}

/// The DingTalk API of one account, on the current arbiter.
#[derive(Clone)]
pub struct DingTalkApi {
    http: awc::Client,
    account: Arc<DingTalkAccount>,
    tokens: Arc<AccessTokenCache>,
    cards: Arc<CardGate>,
}

/// Now, in ms since the epoch (how DingTalk writes times).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl DingTalkApi {
    /// Builds the API for the current thread.
    pub fn new(account: Arc<DingTalkAccount>, tokens: Arc<AccessTokenCache>) -> Self {
        let s = account.stream;
        Self {
            http: http::shared_client(s.connect_timeout, s.request_timeout),
            cards: Arc::new(CardGate::new(&account.card)),
            account,
            tokens,
        }
    }

    /// The account's AI card rate window and degraded state, shared by this API's clones.
    pub fn cards(&self) -> &CardGate {
        &self.cards
    }

    /// The account this API speaks for.
    pub fn account(&self) -> &DingTalkAccount {
        &self.account
    }

    /// The HTTP client of this thread.
    pub fn http(&self) -> &awc::Client {
        &self.http
    }

    /// The account's access token (cached).
    pub async fn token(&self) -> Result<crate::config::Secret, DingTalkError> {
        self.tokens.get(&self.http, &self.account).await
    }

    /// Replies in the conversation of `target`: split into chunks, through the sessionWebhook
    /// while it is valid and through the OpenAPI once it has expired. In groups the sender is
    /// @-mentioned.
    pub async fn reply(
        &self,
        target: &ReplyTarget,
        message: &OutboundMessage,
    ) -> Result<ReplyOutcome, DingTalkError> {
        let pieces = chunk(message.text(), self.account.text_chunk_limit);
        let mut mention: Vec<String> = match (target.chat, &target.sender_staff_id) {
            (ChatType::Group, Some(staff)) => vec![staff.clone()],
            _ => Vec::new(),
        };
        if target.chat == ChatType::Group {
            for m in &target.mentions {
                if !mention.contains(m) {
                    mention.push(m.clone());
                }
            }
        }
        let mut outcome = ReplyOutcome::default();
        let mut webhook_ok = !target.webhook_expired(now_ms());
        for (i, piece) in pieces.iter().enumerate() {
            let mut part = match message {
                OutboundMessage::Text(_) => OutboundMessage::Text(piece.clone()),
                OutboundMessage::Markdown { title, .. } => OutboundMessage::Markdown {
                    title: title.clone(),
                    text: piece.clone(),
                },
            };
            if i == 0
                && let Some(staff) = mention.first()
            {
                // The @ renders only when the id also appears in the text (custom robot rule).
                part = part.with_suffix(&format!(" @{staff}"));
            }
            if webhook_ok {
                match self
                    .send_session_webhook(&target.session_webhook, &part, &mention)
                    .await
                {
                    Ok(()) => {
                        outcome.chunks += 1;
                        continue;
                    }
                    Err(DingTalkError::WebhookExpired) => webhook_ok = false,
                    Err(e) => return Err(e),
                }
            }
            match target.chat {
                ChatType::Group => self.send_group(&target.conversation_id, &part).await?,
                ChatType::Direct => {
                    let staff = target
                        .sender_staff_id
                        .clone()
                        .ok_or(DingTalkError::NoStaffId)?;
                    self.send_direct(&[staff], &part).await?
                }
            }
            outcome.chunks += 1;
            outcome.via_openapi += 1;
        }
        Ok(outcome)
    }

    /// Posts to a conversation's sessionWebhook.
    pub async fn send_session_webhook(
        &self,
        url: &str,
        message: &OutboundMessage,
        at_user_ids: &[String],
    ) -> Result<(), DingTalkError> {
        const API: &str = "sessionWebhook";
        let body = message.webhook_body(at_user_ids);
        self.with_retries(API, || async {
            let (status, answer) = post_json(self.http.post(url), API, &body).await?;
            if status != 200 {
                return Err(DingTalkError::from_answer(API, status, &answer));
            }
            match answer.get("errcode").and_then(Value::as_i64).unwrap_or(0) {
                0 => Ok(()),
                ERRCODE_SESSION_EXPIRED => Err(DingTalkError::WebhookExpired),
                errcode => Err(DingTalkError::rejected(API, errcode, &answer)),
            }
        })
        .await
    }

    /// Sends to a group through `POST /v1.0/robot/groupMessages/send`.
    pub async fn send_group(
        &self,
        open_conversation_id: &str,
        message: &OutboundMessage,
    ) -> Result<(), DingTalkError> {
        let (msg_key, msg_param) = message.openapi_template();
        self.send_group_template(open_conversation_id, msg_key, &msg_param)
            .await
    }

    /// Sends one message template (`msgKey` and its `msgParam` JSON string) to a group.
    pub async fn send_group_template(
        &self,
        open_conversation_id: &str,
        msg_key: &str,
        msg_param: &str,
    ) -> Result<(), DingTalkError> {
        let body = json!({
            "robotCode": self.account.client_id,
            "openConversationId": open_conversation_id,
            "msgKey": msg_key,
            "msgParam": msg_param,
        });
        self.openapi_post(
            "groupMessages/send",
            "/v1.0/robot/groupMessages/send",
            &body,
        )
        .await
        .map(drop)
    }

    /// Sends to users (staff ids, at most 20) through `POST /v1.0/robot/oToMessages/batchSend`.
    pub async fn send_direct(
        &self,
        staff_ids: &[String],
        message: &OutboundMessage,
    ) -> Result<(), DingTalkError> {
        let (msg_key, msg_param) = message.openapi_template();
        self.send_direct_template(staff_ids, msg_key, &msg_param)
            .await
    }

    /// Sends one message template to users; a 200 that names failed users is an error.
    pub async fn send_direct_template(
        &self,
        staff_ids: &[String],
        msg_key: &str,
        msg_param: &str,
    ) -> Result<(), DingTalkError> {
        const API: &str = "oToMessages/batchSend";
        let body = json!({
            "robotCode": self.account.client_id,
            "userIds": staff_ids,
            "msgKey": msg_key,
            "msgParam": msg_param,
        });
        let answer = self
            .openapi_post(API, "/v1.0/robot/oToMessages/batchSend", &body)
            .await?;
        // A 200 can still carry per-user failures.
        for list in ["invalidStaffIdList", "flowControlledStaffIdList"] {
            if let Some(ids) = answer
                .get(list)
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
            {
                return Err(DingTalkError::Protocol {
                    api: API,
                    message: format!("{list}: {}", Value::Array(ids.clone())),
                });
            }
        }
        Ok(())
    }

    /// A POST to `api.dingtalk.com` with the access token: retried on throttling and server
    /// errors, and once with a fresh token after a 401.
    pub async fn openapi_post(
        &self,
        api: &'static str,
        path: &str,
        body: &Value,
    ) -> Result<Value, DingTalkError> {
        self.with_retries(api, || self.openapi_call(Method::POST, api, path, body))
            .await
    }

    /// One call to `api.dingtalk.com` with the access token, made again once with a fresh
    /// token if DingTalk refuses the cached one. Callers choose their own retry policy.
    pub async fn openapi_call(
        &self,
        method: Method,
        api: &'static str,
        path: &str,
        body: &Value,
    ) -> Result<Value, DingTalkError> {
        let url = format!("{}{path}", self.account.endpoint);
        let mut refreshed = false;
        loop {
            let token = self.tokens.get(&self.http, &self.account).await?;
            let request = self
                .http
                .request(method.clone(), &url)
                .insert_header(("x-acs-dingtalk-access-token", token.expose()));
            let (status, answer) = post_json(request, api, body).await?;
            if status == 200 {
                return Ok(answer);
            }
            let err = DingTalkError::from_answer(api, status, &answer);
            if err.is_token_invalid() && !refreshed {
                self.tokens.invalidate();
                refreshed = true;
                continue;
            }
            return Err(err);
        }
    }

    /// Runs `op`, retrying errors that are worth it with backoff (`stream.sendRetries`).
    async fn with_retries<T, F, Fut>(
        &self,
        api: &'static str,
        mut op: F,
    ) -> Result<T, DingTalkError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DingTalkError>>,
    {
        let s = self.account.stream;
        let mut backoff = Backoff::new(s.send_retry_initial, s.send_retry_initial * 16);
        let mut attempt = 0;
        loop {
            match op().await {
                Err(e) if e.is_retryable() && attempt < s.send_retries => {
                    attempt += 1;
                    let delay = backoff.next_delay();
                    tracing::warn!(account = %self.account.id, %api, error = %e, attempt, retry_in = ?delay, "send failed, retrying");
                    actix_rt::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }
}
