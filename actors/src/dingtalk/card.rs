//! AI cards (docs/dingtalk-protocol.md 6): create and deliver a card into a conversation,
//! stream its text, finish it. The calls of one account share a rate window (`card.qps`), and
//! a card error puts the account in markdown-only mode for `card.degradeMs`: a bot without the
//! card permissions, or over its quota, must not fail every reply while the operator fixes it.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use awc::http::Method;
use serde_json::{Value, json};

use crate::config::CardSettings;
use crate::rate::{RateWindow, SlidingWindow};
use crate::routing::ChatType;

use super::api::{DingTalkApi, ReplyTarget};
use super::error::DingTalkError;

/// `flowStatus` values: card variables are strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowStatus {
    /// `"1"`: started, nothing written yet.
    Processing,
    /// `"2"`: the answer is being written.
    Inputing,
    /// `"3"`: done.
    Finished,
    /// `"5"`: failed; the card shows the error.
    Failed,
}

impl FlowStatus {
    /// The string DingTalk expects.
    pub fn as_str(self) -> &'static str {
        match self {
            FlowStatus::Processing => "1",
            FlowStatus::Inputing => "2",
            FlowStatus::Finished => "3",
            FlowStatus::Failed => "5",
        }
    }
}

/// The card calls of one account: their rate window and the degraded state.
pub struct CardGate {
    settings: CardSettings,
    window: SlidingWindow,
    degraded_until: Mutex<Option<Instant>>,
}

impl CardGate {
    /// A gate keeping `settings`' rate limit and degrading cards after permission errors.
    pub fn new(settings: &CardSettings) -> Self {
        Self {
            settings: settings.clone(),
            window: SlidingWindow::new(RateWindow {
                max: settings.qps as usize,
                per: Duration::from_secs(1),
            }),
            degraded_until: Mutex::new(None),
        }
    }

    /// The card settings in force.
    pub fn settings(&self) -> &CardSettings {
        &self.settings
    }

    /// How much longer replies go out as markdown, if they do.
    pub fn degraded(&self) -> Option<Duration> {
        let until = *self
            .degraded_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        until.and_then(|u| u.checked_duration_since(Instant::now()))
    }

    /// Markdown only, for `card.degradeMs`, after `why`.
    pub fn degrade(&self, account: &str, why: &DingTalkError) {
        let mut until = self
            .degraded_until
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let already = until.is_some_and(|u| u > Instant::now());
        *until = Some(Instant::now() + self.settings.degrade_for);
        if !already {
            tracing::warn!(
                account,
                error = %why,
                for_secs = self.settings.degrade_for.as_secs(),
                "AI card call failed; replying in markdown for a while"
            );
        }
    }
}

/// A card delivered into a conversation.
#[derive(Clone, Debug)]
pub struct Card {
    /// The client-chosen id that names the card in later calls.
    pub out_track_id: String,
}

impl DingTalkApi {
    /// Creates a card in state `status` showing `content` and delivers it to the
    /// conversation of `target` (`POST /v1.0/card/instances/createAndDeliver`): a card
    /// created `Finished` is a whole reply in one call.
    pub async fn card_create(
        &self,
        target: &ReplyTarget,
        status: FlowStatus,
        content: &str,
    ) -> Result<Card, DingTalkError> {
        const API: &str = "card/createAndDeliver";
        let account = self.account();
        let settings = &account.card;
        let out_track_id = uuid::Uuid::new_v4().to_string();
        let mut body = json!({
            "cardTemplateId": settings.template_id,
            "outTrackId": out_track_id,
            "cardData": {"cardParamMap": {
                "config": r#"{"autoLayout":true}"#,
                "flowStatus": status.as_str(),
                settings.content_key.as_str(): content,
            }},
            "callbackType": "STREAM",
            "userIdType": 1,
        });
        match target.chat {
            ChatType::Group => {
                body["openSpaceId"] =
                    json!(format!("dtv1.card//IM_GROUP.{}", target.conversation_id));
                body["imGroupOpenSpaceModel"] = json!({"supportForward": true});
                body["imGroupOpenDeliverModel"] = json!({"robotCode": account.client_id});
            }
            ChatType::Direct => {
                let staff = target
                    .sender_staff_id
                    .as_deref()
                    .ok_or(DingTalkError::NoStaffId)?;
                body["openSpaceId"] = json!(format!("dtv1.card//IM_ROBOT.{staff}"));
                body["imRobotOpenSpaceModel"] = json!({"supportForward": true});
                body["imRobotOpenDeliverModel"] = json!({
                    "spaceType": "IM_ROBOT",
                    "robotCode": account.client_id,
                    "extension": {"dynamicSummary": "true"},
                });
            }
        }
        let answer = self
            .card_call(
                Method::POST,
                API,
                "/v1.0/card/instances/createAndDeliver",
                &body,
            )
            .await?;
        // A 200 can still say the delivery failed.
        if let Some(failed) = answer
            .pointer("/result/deliverResults")
            .and_then(Value::as_array)
            .and_then(|r| {
                r.iter()
                    .find(|d| d.get("success").and_then(Value::as_bool) == Some(false))
            })
        {
            return Err(DingTalkError::Protocol {
                api: API,
                message: format!(
                    "delivery failed: {}",
                    failed
                        .get("errorMsg")
                        .and_then(Value::as_str)
                        .unwrap_or("no reason given")
                ),
            });
        }
        Ok(Card { out_track_id })
    }

    /// Replaces the card's text (`PUT /v1.0/card/streaming`, full text each time, as every
    /// connector sends it); `finalize` ends the stream.
    pub async fn card_stream(
        &self,
        card: &Card,
        content: &str,
        finalize: bool,
    ) -> Result<(), DingTalkError> {
        let body = json!({
            "outTrackId": card.out_track_id,
            "guid": uuid::Uuid::new_v4().to_string(),
            "key": self.account().card.content_key,
            "content": content,
            "isFull": true,
            "isFinalize": finalize,
            "isError": false,
        });
        self.card_call(Method::PUT, "card/streaming", "/v1.0/card/streaming", &body)
            .await
            .map(drop)
    }

    /// Sets the card's status and text (`PUT /v1.0/card/instances`).
    pub async fn card_update(
        &self,
        card: &Card,
        status: FlowStatus,
        content: &str,
    ) -> Result<(), DingTalkError> {
        let key = self.account().card.content_key.as_str();
        let body = json!({
            "outTrackId": card.out_track_id,
            "cardData": {"cardParamMap": {
                "flowStatus": status.as_str(),
                key: content,
            }},
            "cardUpdateOptions": {"updateCardDataByKey": true},
        });
        self.card_call(Method::PUT, "card/instances", "/v1.0/card/instances", &body)
            .await
            .map(drop)
    }

    /// One card call inside the account's rate window; a call DingTalk throttles anyway is
    /// made once more after `card.throttleRetryMs`. Any other error is returned at once: the
    /// caller degrades to markdown instead of retrying.
    async fn card_call(
        &self,
        method: Method,
        api: &'static str,
        path: &str,
        body: &Value,
    ) -> Result<Value, DingTalkError> {
        let gate = self.cards();
        let mut retried = false;
        loop {
            let reserved = gate.window.acquire().await;
            let result = self.openapi_call(method.clone(), api, path, body).await;
            gate.window.settle(reserved);
            match result {
                Err(e) if e.is_throttled() && !retried => {
                    retried = true;
                    tracing::info!(account = %self.account().id, %api, "card call throttled; retrying once");
                    actix_rt::time::sleep(gate.settings.throttle_retry).await;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrading_lasts_the_configured_time() {
        let settings = CardSettings {
            degrade_for: Duration::from_millis(50),
            ..CardSettings::default()
        };
        let gate = CardGate::new(&settings);
        assert!(gate.degraded().is_none());
        gate.degrade(
            "a",
            &DingTalkError::Transport {
                api: "card/streaming",
                message: "timeout".into(),
            },
        );
        assert!(gate.degraded().is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert!(gate.degraded().is_none());
    }
}
