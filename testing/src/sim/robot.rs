//! Custom group robots (docs/dingtalk-protocol.md 5): `POST /robot/send?access_token=...`
//! with the optional signature, keyword check and the 20-per-minute limit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use dingclaw_actors::dingtalk::api::now_ms;
use dingclaw_actors::dingtalk::sign;

use super::model::*;
use super::openapi::{at_user_ids, webhook_content};
use super::state::{Robot, Sim, SimError};

/// How far a signature's timestamp may be from the server's clock (1 hour).
const SIGN_WINDOW_MS: i64 = 3_600_000;

impl Sim {
    /// Adds a custom robot to a group.
    pub fn add_robot(&self, new: NewRobot) -> Result<RobotInfo, SimError> {
        let mut inner = self.lock();
        if !inner.groups.contains_key(&new.conversation_id) {
            return Err(SimError::NotFound(format!(
                "no group \"{}\"",
                new.conversation_id
            )));
        }
        let token = new.access_token.clone().unwrap_or_else(|| random_hex(64));
        if inner.robots.contains_key(&token) {
            return Err(SimError::Invalid(format!(
                "a robot with access token \"{token}\" exists"
            )));
        }
        let secret = match new.secret.as_deref() {
            Some("generate") => Some(format!("SEC{}", random_hex(64))),
            Some(s) => Some(s.to_owned()),
            None => None,
        };
        inner.robots.insert(
            token.clone(),
            Robot {
                conversation_id: new.conversation_id.clone(),
                secret: secret.clone(),
                keywords: new.keywords,
                name: new.name.unwrap_or_else(|| "custom-robot".to_owned()),
                sent: Default::default(),
            },
        );
        Ok(RobotInfo {
            webhook: format!("{}/robot/send?access_token={token}", self.base_url()),
            access_token: token,
            secret,
            conversation_id: new.conversation_id,
        })
    }

    fn robot_send(&self, q: &RobotQuery, body: &Value) -> Value {
        let mut inner = self.lock();
        let rate_max = self.opts.robot_rate_max;
        let window = self.opts.robot_rate_window;
        let token = q.access_token.clone().unwrap_or_default();
        let Some(robot) = inner.robots.get_mut(&token) else {
            inner.stats.robot_rejected += 1;
            return json!({"errcode": 300001, "errmsg": "token is not exist"});
        };
        let reject = |msg: &str| json!({"errcode": 310000, "errmsg": msg});
        if let Some(secret) = &robot.secret {
            let ts = q.timestamp.as_deref().and_then(|t| t.parse::<i64>().ok());
            let Some(ts) = ts.filter(|t| (now_ms() - t).abs() <= SIGN_WINDOW_MS) else {
                inner.stats.robot_rejected += 1;
                return reject("invalid timestamp");
            };
            if !sign::verify(secret, ts, q.sign.as_deref().unwrap_or("")) {
                inner.stats.robot_rejected += 1;
                return reject("sign not match");
            }
        }
        let Some(sent) = webhook_content(body) else {
            return json!({"errcode": 40035, "errmsg": "缺少参数 msgtype"});
        };
        if !robot.keywords.is_empty()
            && !robot.keywords.iter().any(|k| {
                sent.text.contains(k.as_str())
                    || sent
                        .title
                        .as_deref()
                        .is_some_and(|t| t.contains(k.as_str()))
            })
        {
            inner.stats.robot_rejected += 1;
            return reject("keywords not in content");
        }
        let now = Instant::now();
        while robot
            .sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            robot.sent.pop_front();
        }
        if robot.sent.len() >= rate_max {
            inner.stats.robot_rejected += 1;
            return json!({"errcode": 130101, "errmsg": format!("send too fast, exceed {rate_max} times per {}", human(window))});
        }
        robot.sent.push_back(now);
        let (cid, name) = (robot.conversation_id.clone(), robot.name.clone());
        inner.stats.robot_sends += 1;
        self.sent_entry(
            &mut inner,
            &cid,
            "robotWebhook",
            &name,
            sent,
            at_user_ids(body),
            None,
            None,
        );
        json!({"errcode": 0, "errmsg": "ok"})
    }
}

fn human(d: Duration) -> String {
    if d.as_secs() == 60 {
        "minute".to_owned()
    } else {
        format!("{d:?}")
    }
}

#[derive(Deserialize)]
pub(super) struct RobotQuery {
    access_token: Option<String>,
    timestamp: Option<String>,
    sign: Option<String>,
}

pub(super) async fn robot_send(
    sim: web::Data<Arc<Sim>>,
    q: web::Query<RobotQuery>,
    body: web::Json<Value>,
) -> HttpResponse {
    HttpResponse::Ok().json(sim.robot_send(&q, &body))
}
