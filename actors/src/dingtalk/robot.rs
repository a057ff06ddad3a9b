//! The custom group robot webhook (`https://oapi.dingtalk.com/robot/send?access_token=...`),
//! with its optional `SEC...` signature and its limit of 20 messages a minute per robot, kept
//! on our side by queueing, never by dropping (reference/dingtalk-protocol.md 5).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::config::Secret;

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
    pub url: Secret,
    pub secret: Option<Secret>,
}

/// At most `max` sends per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateWindow {
    pub max: usize,
    pub per: Duration,
}

/// A sliding-window limiter per robot, shared by every sender in the process.
pub struct RobotLimiter {
    window: RateWindow,
    sent: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RobotLimiter {
    pub fn new(window: RateWindow) -> Self {
        Self {
            window,
            sent: Mutex::new(HashMap::new()),
        }
    }

    pub fn window(&self) -> RateWindow {
        self.window
    }

    /// Waits until `robot` may send, then counts the send; returns the reservation to pass
    /// to `settle` once the server has answered.
    pub async fn acquire(&self, robot: &str) -> Instant {
        loop {
            let wait = {
                let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
                let times = sent.entry(robot.to_owned()).or_default();
                let now = Instant::now();
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.window.per)
                {
                    times.pop_front();
                }
                if times.len() < self.window.max {
                    times.push_back(now);
                    return now;
                }
                // The oldest send leaves the window first.
                times
                    .front()
                    .map(|t| self.window.per.saturating_sub(now.duration_since(*t)))
                    .unwrap_or_default()
            };
            actix_rt::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }
}

impl RobotLimiter {
    /// Moves a reservation to now. DingTalk counts a send when it arrives, which is after we
    /// start it; counting it when the answer is back keeps our window behind DingTalk's, so
    /// network delay can never squeeze a 21st message into its minute.
    pub fn settle(&self, robot: &str, reserved: Instant) {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(times) = sent.get_mut(robot)
            && let Some(slot) = times.iter_mut().find(|t| **t == reserved)
        {
            *slot = Instant::now();
        }
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
    let key = robot_key(hook.url.expose());
    let body = message.webhook_body(&[]);
    let mut attempt = 0;
    loop {
        let reserved = limiter.acquire(&key).await;
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
        limiter.settle(&key, reserved);
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
    async fn limiter_queues_instead_of_dropping() {
        let limiter = RobotLimiter::new(RateWindow {
            max: 3,
            per: Duration::from_millis(300),
        });
        let start = Instant::now();
        for _ in 0..7 {
            limiter.acquire("r").await;
        }
        // 7 sends at 3 per 300 ms need at least two full windows.
        assert!(
            start.elapsed() >= Duration::from_millis(600),
            "{:?}",
            start.elapsed()
        );
        // Another robot is not held up.
        let other = Instant::now();
        limiter.acquire("r2").await;
        assert!(other.elapsed() < Duration::from_millis(50));
    }
}
