//! The custom group robot webhook (`https://oapi.dingtalk.com/robot/send?access_token=...`),
//! with its optional `SEC...` signature and its limit of 20 messages a minute per robot, kept
//! on our side by queueing, never by dropping (docs/dingtalk-protocol.md 5).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::config::Secret;
use crate::rate::{RateWindow, SlidingWindow};

use super::api::now_ms;
use super::error::{DingTalkError, ERRCODE_ROBOT_TOO_FAST};
use super::http::post_json;
use super::message::OutboundMessage;
use super::sign::url_sign;

/// DingTalk's limit: 20 messages per minute per robot.
pub const ROBOT_RATE: RateWindow = RateWindow {
    max: 20,
    per: Duration::from_secs(60),
};

/// How many times a message is sent again after "send too fast" (130101) or a network error.
pub const ROBOT_RETRIES: u32 = 3;

const API: &str = "robot/send";

/// A robot webhook: its URL (with `access_token`) and, if signing is on, its `SEC...` secret.
#[derive(Clone, Debug)]
pub struct RobotWebhook {
    /// The webhook URL, `access_token` included (a secret: it lets anyone post).
    pub url: Secret,
    /// The `SEC...` signing secret, when the robot signs.
    pub secret: Option<Secret>,
}

/// A sliding window per robot, shared by every sender in the process.
pub struct RobotLimiter {
    window: RateWindow,
    robots: Mutex<HashMap<String, Arc<SlidingWindow>>>,
}

impl RobotLimiter {
    /// A limiter keeping every robot to `window`.
    pub fn new(window: RateWindow) -> Self {
        Self {
            window,
            robots: Mutex::new(HashMap::new()),
        }
    }

    /// The limit it keeps.
    pub fn window(&self) -> RateWindow {
        self.window
    }

    /// The window of one robot.
    pub fn robot(&self, robot: &str) -> Arc<SlidingWindow> {
        let mut robots = self.robots.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(
            robots
                .entry(robot.to_owned())
                .or_insert_with(|| Arc::new(SlidingWindow::new(self.window))),
        )
    }
}

impl Default for RobotLimiter {
    fn default() -> Self {
        Self::new(ROBOT_RATE)
    }
}

/// The robot's identity for rate limiting: its access token.
fn robot_key(url: &str) -> String {
    url.split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|p| p.strip_prefix("access_token=")))
        .unwrap_or(url)
        .to_owned()
}

/// Sends one message to a custom robot. Retries "send too fast" after a window and network
/// errors; keyword, signature and IP failures (310000) and bad tokens are returned at once.
pub async fn send_robot(
    http: &awc::Client,
    limiter: &RobotLimiter,
    hook: &RobotWebhook,
    message: &OutboundMessage,
) -> Result<(), DingTalkError> {
    let window = limiter.robot(&robot_key(hook.url.expose()));
    let body = message.webhook_body(&[]);
    let mut attempt = 0;
    loop {
        let reserved = window.acquire().await;
        let url = match &hook.secret {
            Some(secret) => {
                let ts = now_ms();
                format!(
                    "{}&timestamp={ts}&sign={}",
                    hook.url.expose(),
                    url_sign(secret.expose(), ts)
                )
            }
            None => hook.url.expose().to_owned(),
        };
        let request = http
            .post(&url)
            .insert_header(("Content-Type", "application/json; charset=utf-8"));
        let result = match post_json(request, API, &body).await {
            Err(e) => Err(e),
            Ok((200, answer)) => match answer.get("errcode").and_then(Value::as_i64) {
                Some(0) => Ok(()),
                Some(errcode) => Err(DingTalkError::rejected(API, errcode, &answer)),
                None => Err(DingTalkError::Protocol {
                    api: API,
                    message: answer.to_string().chars().take(300).collect(),
                }),
            },
            Ok((status, answer)) => Err(DingTalkError::from_answer(API, status, &answer)),
        };
        window.settle(reserved);
        match result {
            Err(e) if e.is_retryable() && attempt < ROBOT_RETRIES => {
                attempt += 1;
                let wait = match &e {
                    DingTalkError::Rejected { errcode, .. }
                        if *errcode == ERRCODE_ROBOT_TOO_FAST =>
                    {
                        limiter.window().per
                    }
                    _ => Duration::from_secs(1 << attempt),
                };
                tracing::warn!(error = %e, attempt, retry_in = ?wait, "robot webhook send failed, retrying");
                actix_rt::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robots_are_keyed_by_access_token() {
        assert_eq!(
            robot_key("https://oapi.dingtalk.com/robot/send?access_token=abc"),
            "abc"
        );
        assert_eq!(
            robot_key("https://x/robot/send?a=1&access_token=t2&b=2"),
            "t2"
        );
    }

    #[actix_rt::test]
    async fn each_robot_has_its_own_window() {
        let limiter = RobotLimiter::new(RateWindow {
            max: 1,
            per: Duration::from_secs(60),
        });
        limiter.robot("r").acquire().await;
        assert!(limiter.robot("r").try_start().is_err());
        assert!(limiter.robot("r2").try_start().is_ok());
    }
}
