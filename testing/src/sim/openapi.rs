//! Outbound APIs a bot calls (docs/dingtalk-protocol.md 4, 9.3-9.5): access tokens, the
//! robot OpenAPI sends, and the sessionWebhook. Every send is recorded in its conversation.

use std::sync::Arc;
use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use dingclaw_actors::dingtalk::api::now_ms;

use super::model::*;
use super::state::{Inner, Sim};

/// What a bot sent, taken apart for the conversation log.
pub(super) struct Sent {
    pub msgtype: String,
    pub text: String,
    pub title: Option<String>,
    /// The uploaded file an image or file send refers to.
    pub media: Option<SimMedia>,
}

/// Reads a webhook-style body `{msgtype, text|markdown|...}`.
pub(super) fn webhook_content(body: &Value) -> Option<Sent> {
    let msgtype = body.get("msgtype")?.as_str()?.to_owned();
    let (text, title) = match msgtype.as_str() {
        "text" => (body.pointer("/text/content")?.as_str()?.to_owned(), None),
        "markdown" => (
            body.pointer("/markdown/text")?.as_str()?.to_owned(),
            Some(body.pointer("/markdown/title")?.as_str()?.to_owned()),
        ),
        "link" | "actionCard" => (
            body.pointer(&format!("/{msgtype}/text"))?
                .as_str()?
                .to_owned(),
            body.pointer(&format!("/{msgtype}/title"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        ),
        "feedCard" => (body.pointer("/feedCard/links")?.to_string(), None),
        _ => return None,
    };
    Some(Sent {
        msgtype,
        text,
        title,
        media: None,
    })
}

pub(super) fn at_user_ids(body: &Value) -> Vec<String> {
    body.pointer("/at/atUserIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// An OpenAPI error answer: HTTP status and `{code, message, requestid}`.
pub(super) struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
    /// For a permission error: the scope the app lacks (`accessdenieddetail`).
    pub required_scope: Option<&'static str>,
}

pub(super) fn api_error(status: u16, code: &'static str, message: &'static str) -> ApiError {
    ApiError {
        status,
        code,
        message,
        required_scope: None,
    }
}

impl ApiError {
    pub(super) fn response(&self) -> HttpResponse {
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
        let mut body =
            json!({"code": self.code, "message": self.message, "requestid": random_hex(16)});
        if let Some(scope) = self.required_scope {
            body["accessdenieddetail"] = json!({"requiredScopes": [scope]});
        }
        HttpResponse::build(status).json(body)
    }
}

impl Sim {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sent_entry(
        &self,
        inner: &mut Inner,
        cid: &str,
        via: &str,
        from: &str,
        sent: Sent,
        at: Vec<String>,
        msg_id: Option<String>,
        latency_us: Option<u64>,
    ) {
        self.record(
            inner,
            Entry {
                seq: 0,
                conversation_id: cid.to_owned(),
                via: via.to_owned(),
                from: from.to_owned(),
                msgtype: sent.msgtype,
                text: sent.text,
                title: sent.title,
                at_user_ids: at,
                msg_id,
                at_ms: now_ms(),
                latency_us,
                media: sent.media,
            },
        );
    }

    /// `POST /robot/sendBySession?session=...`.
    fn session_webhook(&self, session: &str, body: &Value) -> Value {
        let mut inner = self.lock();
        let now = now_ms();
        let Some(s) = inner.sessions.get(session) else {
            inner.stats.webhook_expired += 1;
            return json!({"errcode": 300001, "errmsg": "session 不存在"});
        };
        if s.expired || now >= s.expires_ms {
            inner.stats.webhook_expired += 1;
            return json!({"errcode": 300001, "errmsg": "session 不存在"});
        }
        let (bot, cid, msg_id) = (s.bot.clone(), s.conversation_id.clone(), s.msg_id.clone());
        let load = s.load;
        let Some(sent) = webhook_content(body) else {
            return json!({"errcode": 40035, "errmsg": "缺少参数 msgtype/content"});
        };
        // A load run's message: timed and counted, not logged.
        if let Some(mut tag) = load {
            Sim::load_answered(&mut inner, tag.conv, session);
            Sim::load_reply(&mut inner, &mut tag, &msg_id);
            if let Some(s) = inner.sessions.get_mut(session) {
                s.load = Some(tag);
            }
            inner.stats.webhook_replies += 1;
            return json!({"errcode": 0, "errmsg": "ok"});
        }
        let latency = inner
            .first_push
            .get(&(msg_id.clone(), bot.clone()))
            .map(|t| t.elapsed().as_micros() as u64);
        inner.stats.webhook_replies += 1;
        self.sent_entry(
            &mut inner,
            &cid,
            "sessionWebhook",
            &bot,
            sent,
            at_user_ids(body),
            Some(msg_id),
            latency,
        );
        json!({"errcode": 0, "errmsg": "ok"})
    }

    /// `POST /v1.0/oauth2/accessToken`.
    fn access_token(&self, body: &Value) -> Result<Value, ApiError> {
        let mut inner = self.lock();
        let key = body.get("appKey").and_then(Value::as_str).unwrap_or("");
        let secret = body.get("appSecret").and_then(Value::as_str).unwrap_or("");
        match inner.bots.get(key) {
            Some(b) if b.client_secret == secret => {}
            _ => {
                return Err(api_error(
                    400,
                    "InvalidAuthentication",
                    "appKey or appSecret is invalid",
                ));
            }
        }
        let token = random_hex(32);
        let ttl = self.opts.token_ttl;
        inner
            .tokens
            .insert(token.clone(), (key.to_owned(), Instant::now() + ttl));
        Ok(json!({"accessToken": token, "expireIn": ttl.as_secs()}))
    }

    /// Checks the token, throttling and `robotCode` of an OpenAPI call; the bot it acts for.
    fn openapi_bot(
        &self,
        inner: &mut Inner,
        req: &HttpRequest,
        body: &Value,
    ) -> Result<String, ApiError> {
        let bot = self.token_bot(inner, req)?;
        if body.get("robotCode").and_then(Value::as_str) != Some(bot.as_str()) {
            return Err(api_error(
                400,
                "invalidParameter.robotCode.auth",
                "robotCode does not belong to the token's app",
            ));
        }
        Ok(bot)
    }

    /// Checks the access token header and the `throttle` switch; the bot the token is for.
    pub(super) fn token_bot(
        &self,
        inner: &mut Inner,
        req: &HttpRequest,
    ) -> Result<String, ApiError> {
        let token = req
            .headers()
            .get("x-acs-dingtalk-access-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let bot = match inner.tokens.get(token) {
            Some((bot, until)) if Instant::now() < *until => bot.clone(),
            _ => {
                inner.stats.openapi_unauthorized += 1;
                return Err(api_error(
                    401,
                    "InvalidAuthentication",
                    "不合法的access_token",
                ));
            }
        };
        if inner.chaos.throttle > 0 {
            inner.chaos.throttle -= 1;
            inner.stats.openapi_throttled += 1;
            return Err(api_error(
                403,
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                "QPS limit exceeded",
            ));
        }
        Ok(bot)
    }

    fn template(inner: &Inner, body: &Value) -> Result<Sent, ApiError> {
        let key = body.get("msgKey").and_then(Value::as_str).unwrap_or("");
        // msgParam is a JSON *string*, not an object (docs/dingtalk-protocol.md 4.3).
        let param: Value = body
            .get("msgParam")
            .and_then(Value::as_str)
            .and_then(|p| serde_json::from_str(p).ok())
            .filter(Value::is_object)
            .ok_or_else(|| {
                api_error(
                    400,
                    "invalidParameter.msgParam.invalid",
                    "msgParam must be a JSON string",
                )
            })?;
        let field = |k: &str| param.get(k).and_then(Value::as_str).map(str::to_owned);
        // An image or file send names an upload by its media id.
        let uploaded = |id: &str| {
            Sim::upload(inner, id)
                .map(|f| f.media(None, Some(id.to_owned())))
                .ok_or_else(|| {
                    api_error(400, "invalidParameter.mediaId.invalid", "unknown media id")
                })
        };
        match key {
            "sampleText" => Ok(Sent {
                msgtype: "text".into(),
                text: field("content").unwrap_or_default(),
                title: None,
                media: None,
            }),
            "sampleMarkdown" => Ok(Sent {
                msgtype: "markdown".into(),
                text: field("text").unwrap_or_default(),
                title: field("title"),
                media: None,
            }),
            "sampleLink" | "sampleActionCard" => Ok(Sent {
                msgtype: key.into(),
                text: field("text").unwrap_or_default(),
                title: field("title"),
                media: None,
            }),
            "sampleImageMsg" => {
                let url = field("photoURL").unwrap_or_default();
                let media = if url.starts_with('@') {
                    Some(uploaded(&url)?)
                } else {
                    None
                };
                Ok(Sent {
                    msgtype: "image".into(),
                    text: url,
                    title: None,
                    media,
                })
            }
            "sampleFile" => {
                let id = field("mediaId").unwrap_or_default();
                let media = uploaded(&id)?;
                Ok(Sent {
                    msgtype: "file".into(),
                    text: field("fileName").unwrap_or_default(),
                    title: field("fileType"),
                    media: Some(media),
                })
            }
            _ => Err(api_error(
                400,
                "invalidParameter.msgKey.invalid",
                "unknown msgKey",
            )),
        }
    }

    fn group_send(&self, req: &HttpRequest, body: &Value) -> HttpResponse {
        let mut inner = self.lock();
        let (bot, sent) = match self
            .openapi_bot(&mut inner, req, body)
            .and_then(|bot| Ok((bot, Self::template(&inner, body)?)))
        {
            Ok(v) => v,
            Err(e) => return e.response(),
        };
        let cid = body
            .get("openConversationId")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if !inner
            .groups
            .get(&cid)
            .is_some_and(|g| g.bots.contains(&bot))
        {
            return api_error(
                400,
                "invalidParameter.openConversationId.invalid",
                "unknown group or the robot is not in it",
            )
            .response();
        }
        inner.stats.openapi_sends += 1;
        let answers = oldest_unanswered(&mut inner, &cid, &bot);
        self.sent_entry(
            &mut inner,
            &cid,
            "groupMessages",
            &bot,
            sent,
            Vec::new(),
            answers,
            None,
        );
        HttpResponse::Ok().json(json!({"processQueryKey": random_b64(24)}))
    }

    fn oto_send(&self, req: &HttpRequest, body: &Value) -> HttpResponse {
        let mut inner = self.lock();
        let (bot, sent) = match self
            .openapi_bot(&mut inner, req, body)
            .and_then(|bot| Ok((bot, Self::template(&inner, body)?)))
        {
            Ok(v) => v,
            Err(e) => return e.response(),
        };
        let users: Vec<String> = body
            .get("userIds")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|u| u.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if users.is_empty() {
            return api_error(400, "invalidParameter.userIds.empty", "userIds is empty").response();
        }
        if users.len() > 20 {
            return api_error(
                400,
                "invalidParameter.userIds.invalid",
                "at most 20 userIds",
            )
            .response();
        }
        let mut invalid = Vec::new();
        for u in &users {
            if inner.users.get(u).is_none_or(|x| x.info.external) {
                invalid.push(u.clone());
                continue;
            }
            let cid = inner
                .dms
                .entry((bot.clone(), u.clone()))
                .or_insert_with(conversation_id)
                .clone();
            inner.stats.openapi_sends += 1;
            let one = Sent {
                msgtype: sent.msgtype.clone(),
                text: sent.text.clone(),
                title: sent.title.clone(),
                media: sent.media.clone(),
            };
            let answers = oldest_unanswered(&mut inner, &cid, &bot);
            self.sent_entry(
                &mut inner,
                &cid,
                "oToMessages",
                &bot,
                one,
                Vec::new(),
                answers,
                None,
            );
        }
        HttpResponse::Ok().json(json!({
            "processQueryKey": random_b64(24),
            "invalidStaffIdList": invalid,
            "flowControlledStaffIdList": [],
        }))
    }
}

#[derive(Deserialize)]
pub(super) struct SessionQuery {
    session: Option<String>,
}

pub(super) async fn send_by_session(
    sim: web::Data<Arc<Sim>>,
    q: web::Query<SessionQuery>,
    body: web::Json<Value>,
) -> HttpResponse {
    HttpResponse::Ok().json(sim.session_webhook(q.session.as_deref().unwrap_or(""), &body))
}

pub(super) async fn access_token(sim: web::Data<Arc<Sim>>, body: web::Json<Value>) -> HttpResponse {
    match sim.access_token(&body) {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => e.response(),
    }
}

pub(super) async fn group_messages_send(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    sim.group_send(&req, &body)
}

pub(super) async fn oto_messages_send(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    sim.oto_send(&req, &body)
}

/// The user message an OpenAPI send is taken to answer: the oldest one to this bot in this
/// conversation not answered yet (neither the message APIs nor the card APIs say; a gateway
/// answers in order).
pub(super) fn oldest_unanswered(inner: &mut Inner, cid: &str, bot: &str) -> Option<String> {
    inner
        .unanswered
        .get_mut(&(cid.to_owned(), bot.to_owned()))
        .and_then(|q| q.pop_front())
}
