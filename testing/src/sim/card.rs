//! The AI card APIs (docs/dingtalk-protocol.md 6.1, 9.6): create, deliver (or both at
//! once), streaming updates and variable updates, with each card's state kept by outTrackId.
//! A card that reaches a final `flowStatus` is written to its conversation's log with the text
//! a user would see, linked to the oldest user message its bot had not answered there.
//!
//! Switches (`/sim/chaos`): permission denied, throttling (next N calls, or a real per-second
//! limit), and whether streaming after `isFinalize` is accepted.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use dingclaw_actors::dingtalk::api::now_ms;

use super::model::*;
use super::openapi::{ApiError, Sent, api_error};
use super::state::{Inner, Sim};

/// Template ids the connectors use, with the variable that holds the text.
const TEMPLATE_CONTENT_KEYS: [(&str, &str); 3] = [
    ("382e4302-551d-4880-bf29-a30acfab2e71.schema", "msgContent"),
    ("02fcf2f4-5e02-4a85-b672-46d1f715543e.schema", "msgContent"),
    ("675cde2f-f526-40cb-b828-f5b2b57b8b77.schema", "content"),
];

/// Cards remembered; the oldest are forgotten first.
const CARDS_KEPT: usize = 100_000;

/// One card's state.
pub(super) struct Card {
    pub info: CardInfo,
    /// `guid`s of streaming updates seen (each must be new).
    guids: HashSet<String>,
    /// Streamed content by variable.
    streams: BTreeMap<String, String>,
    last_update: Option<Instant>,
    delivered: bool,
}

impl Card {
    fn content_key(&self) -> &str {
        TEMPLATE_CONTENT_KEYS
            .iter()
            .find(|(t, _)| *t == self.info.template_id)
            .map(|(_, k)| *k)
            .or_else(|| self.streams.keys().next().map(String::as_str))
            .unwrap_or("msgContent")
    }

    /// What the card shows: while it streams, the streamed text; once its variables are set
    /// after streaming, those.
    fn refresh_text(&mut self) {
        let key = self.content_key().to_owned();
        let param = self.info.params.get(&key).cloned().unwrap_or_default();
        let streamed = self.streams.get(&key).cloned().unwrap_or_default();
        self.info.text = if self.info.flow_status == "3" && !param.is_empty() {
            param
        } else if !streamed.is_empty() {
            streamed
        } else {
            param
        };
    }
}

/// `cardParamMap` values must all be strings.
fn param_map(body: &Value) -> Result<BTreeMap<String, String>, ApiError> {
    let Some(map) = body.pointer("/cardData/cardParamMap") else {
        return Ok(BTreeMap::new());
    };
    let obj = map.as_object().ok_or_else(|| {
        api_error(
            400,
            "invalidParameter.cardData",
            "cardParamMap must be an object",
        )
    })?;
    obj.iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_owned())),
            None => Err(api_error(
                400,
                "invalidParameter.cardParamMap",
                "cardParamMap values must be strings",
            )),
        })
        .collect()
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The deliver model's `robotCode` must be the app the token belongs to.
fn check_robot_code(body: &Value, model: &str, bot: &str) -> Result<(), ApiError> {
    let code = body
        .get(model)
        .and_then(|m| m.get("robotCode"))
        .and_then(Value::as_str);
    if code == Some(bot) {
        Ok(())
    } else {
        Err(api_error(
            400,
            "invalidParameter.robotCode",
            "the deliver model's robotCode must be the token's app",
        ))
    }
}

/// 403 for an app without the card scopes, with the detail DingTalk gives.
fn permission_denied(scope: &'static str) -> ApiError {
    ApiError {
        required_scope: Some(scope),
        ..api_error(
            403,
            "Forbidden.AccessDenied.AccessTokenPermissionDenied",
            "没有调用该接口的权限 (no permission for this API)",
        )
    }
}

impl Sim {
    /// The checks every card call passes: token, permission, throttling.
    fn card_gate(
        &self,
        inner: &mut Inner,
        req: &HttpRequest,
        scope: &'static str,
    ) -> Result<String, ApiError> {
        let bot = self.token_bot(inner, req)?;
        if inner.chaos.card_permission_denied {
            inner.stats.card_rejected += 1;
            return Err(permission_denied(scope));
        }
        let throttled = if inner.chaos.card_throttle > 0 {
            inner.chaos.card_throttle -= 1;
            true
        } else if let Some(qps) = inner.chaos.card_qps {
            let now = Instant::now();
            let calls = inner.card_calls.entry(bot.clone()).or_default();
            while calls
                .front()
                .is_some_and(|t| now.duration_since(*t).as_millis() >= 1000)
            {
                calls.pop_front();
            }
            calls.push_back(now);
            calls.len() > qps as usize
        } else {
            false
        };
        if throttled {
            inner.stats.card_throttled += 1;
            return Err(api_error(
                403,
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                "QPS limit exceeded",
            ));
        }
        Ok(bot)
    }

    fn create_card(&self, inner: &mut Inner, bot: &str, body: &Value) -> Result<(), ApiError> {
        let out_track_id = str_field(body, "outTrackId").ok_or_else(|| {
            api_error(400, "invalidParameter.outTrackId", "outTrackId is required")
        })?;
        let template_id = str_field(body, "cardTemplateId").ok_or_else(|| {
            api_error(
                400,
                "invalidParameter.cardTemplateId",
                "cardTemplateId is required",
            )
        })?;
        if inner.cards.contains_key(out_track_id) {
            return Err(api_error(
                400,
                "invalidParameter.outTrackId.duplicate",
                "outTrackId already used",
            ));
        }
        let params = param_map(body)?;
        let flow_status = params.get("flowStatus").cloned().unwrap_or_default();
        let mut card = Card {
            info: CardInfo {
                out_track_id: out_track_id.to_owned(),
                template_id: template_id.to_owned(),
                bot: bot.to_owned(),
                conversation_id: String::new(),
                space: String::new(),
                msg_id: None,
                params,
                text: String::new(),
                flow_status,
                finalized: false,
                stream_updates: 0,
                instance_updates: 0,
                min_update_gap_ms: None,
                created_ms: now_ms(),
                finished_ms: None,
            },
            guids: HashSet::new(),
            streams: BTreeMap::new(),
            last_update: None,
            delivered: false,
        };
        card.refresh_text();
        inner.cards.insert(out_track_id.to_owned(), card);
        while inner.cards.len() > CARDS_KEPT {
            inner.cards.shift_remove_index(0);
        }
        inner.stats.cards_created += 1;
        Ok(())
    }

    /// Delivers a created card to the space `openSpaceId` names.
    fn deliver_card(&self, inner: &mut Inner, bot: &str, body: &Value) -> Result<Value, ApiError> {
        let out_track_id = str_field(body, "outTrackId").unwrap_or_default().to_owned();
        if !inner.cards.contains_key(&out_track_id) {
            return Err(api_error(
                400,
                "invalidParameter.outTrackId",
                "unknown outTrackId",
            ));
        }
        let space = str_field(body, "openSpaceId").unwrap_or_default();
        let (kind, cid) = if let Some(cid) = space.strip_prefix("dtv1.card//IM_GROUP.") {
            let in_group = inner
                .groups
                .get(cid)
                .is_some_and(|g| g.bots.iter().any(|b| b == bot))
                || Sim::load_card_space(inner, bot, true, cid).is_some();
            if !in_group {
                return Err(api_error(
                    400,
                    "invalidParameter.openSpaceId",
                    "unknown group or the robot is not in it",
                ));
            }
            check_robot_code(body, "imGroupOpenDeliverModel", bot)?;
            ("group", cid.to_owned())
        } else if let Some(staff) = space.strip_prefix("dtv1.card//IM_ROBOT.") {
            check_robot_code(body, "imRobotOpenDeliverModel", bot)?;
            if let Some(cid) = Sim::load_card_space(inner, bot, false, staff) {
                ("direct", cid)
            } else if inner.users.get(staff).is_none_or(|u| u.info.external) {
                return Err(api_error(
                    400,
                    "invalidParameter.openSpaceId",
                    "unknown user",
                ));
            } else {
                let cid = inner
                    .dms
                    .entry((bot.to_owned(), staff.to_owned()))
                    .or_insert_with(conversation_id)
                    .clone();
                ("direct", cid)
            }
        } else {
            return Err(api_error(
                400,
                "invalidParameter.openSpaceId",
                "openSpaceId must be dtv1.card//IM_GROUP.<cid> or dtv1.card//IM_ROBOT.<userId>",
            ));
        };
        let msg_id = super::openapi::oldest_unanswered(inner, &cid, bot);
        if let Some(card) = inner.cards.get_mut(&out_track_id) {
            card.delivered = true;
            card.info.space = kind.to_owned();
            card.info.conversation_id = cid.clone();
            card.info.msg_id = msg_id;
        }
        let space_type = if kind == "group" {
            "IM_GROUP"
        } else {
            "IM_ROBOT"
        };
        Ok(
            json!({"deliverResults": [{"spaceType": space_type, "spaceId": cid, "success": true, "carrierId": random_b64(16)}]}),
        )
    }

    fn streaming(&self, inner: &mut Inner, body: &Value) -> Result<(), ApiError> {
        let out_track_id = str_field(body, "outTrackId").unwrap_or_default();
        let guid = str_field(body, "guid")
            .ok_or_else(|| api_error(400, "invalidParameter.guid", "guid is required"))?
            .to_owned();
        let key = str_field(body, "key")
            .ok_or_else(|| api_error(400, "invalidParameter.key", "key is required"))?
            .to_owned();
        let content = body
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let full = body.get("isFull").and_then(Value::as_bool).unwrap_or(false);
        let finalize = body
            .get("isFinalize")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let after_finalize = inner.chaos.card_streaming_after_finalize;
        let card = inner
            .cards
            .get_mut(out_track_id)
            .filter(|c| c.delivered)
            .ok_or_else(|| {
                api_error(
                    400,
                    "invalidParameter.outTrackId",
                    "unknown or undelivered card",
                )
            })?;
        if card.info.finalized && !after_finalize {
            return Err(api_error(
                400,
                "invalidParameter.card.finalized",
                "the card's stream is finalized",
            ));
        }
        if !card.guids.insert(guid) {
            return Err(api_error(
                400,
                "invalidParameter.guid.duplicate",
                "guid already used",
            ));
        }
        let now = Instant::now();
        if let Some(last) = card.last_update {
            let gap = now.duration_since(last).as_millis() as u64;
            card.info.min_update_gap_ms =
                Some(card.info.min_update_gap_ms.map_or(gap, |g| g.min(gap)));
        }
        card.last_update = Some(now);
        let text = card.streams.entry(key).or_default();
        if full {
            *text = content;
        } else {
            text.push_str(&content);
        }
        card.info.stream_updates += 1;
        card.info.finalized |= finalize;
        card.refresh_text();
        inner.stats.card_stream_updates += 1;
        Ok(())
    }

    fn update_instance(&self, inner: &mut Inner, body: &Value) -> Result<(), ApiError> {
        let out_track_id = str_field(body, "outTrackId").unwrap_or_default().to_owned();
        let params = param_map(body)?;
        let by_key = body
            .pointer("/cardUpdateOptions/updateCardDataByKey")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let card = inner
            .cards
            .get_mut(&out_track_id)
            .ok_or_else(|| api_error(400, "invalidParameter.outTrackId", "unknown outTrackId"))?;
        if by_key {
            card.info.params.extend(params);
        } else {
            card.info.params = params;
        }
        card.info.flow_status = card
            .info
            .params
            .get("flowStatus")
            .cloned()
            .unwrap_or_default();
        card.info.instance_updates += 1;
        card.refresh_text();
        inner.stats.card_instance_updates += 1;
        self.end_if_final(inner, &out_track_id);
        Ok(())
    }

    /// A card whose `flowStatus` became final (finished or failed), by an update or already
    /// at its creation, is what the user sees as the reply: written to its conversation's log
    /// once.
    fn end_if_final(&self, inner: &mut Inner, out_track_id: &str) {
        let Some(card) = inner.cards.get_mut(out_track_id) else {
            return;
        };
        let ended = card.delivered
            && matches!(card.info.flow_status.as_str(), "3" | "5")
            && card.info.finished_ms.is_none();
        if !ended {
            return;
        }
        card.info.finished_ms = Some(now_ms());
        let info = card.info.clone();
        inner.stats.cards_finished += 1;
        // A load run's reply: timed and counted, not logged.
        if Sim::load_card_reply(inner, &info.conversation_id, &info.bot) {
            return;
        }
        let latency = info
            .msg_id
            .as_ref()
            .and_then(|m| inner.first_push.get(&(m.clone(), info.bot.clone())))
            .map(|t| t.elapsed().as_micros() as u64);
        let sent = Sent {
            msgtype: "card".to_owned(),
            text: info.text.clone(),
            title: None,
            media: None,
        };
        self.sent_entry(
            inner,
            &info.conversation_id,
            "card",
            &info.bot,
            sent,
            Vec::new(),
            info.msg_id.clone(),
            latency,
        );
    }

    /// Cards, newest last, optionally of one conversation.
    pub fn cards(&self, cid: Option<&str>) -> Vec<CardInfo> {
        self.lock()
            .cards
            .values()
            .filter(|c| cid.is_none_or(|want| want == c.info.conversation_id))
            .map(|c| c.info.clone())
            .collect()
    }
}

/// Runs one card call: the gate, then `op` under the lock; `ok` builds the success body.
fn card_call(
    sim: &Sim,
    req: &HttpRequest,
    scope: &'static str,
    op: impl FnOnce(&Sim, &mut Inner, &str) -> Result<Value, ApiError>,
) -> HttpResponse {
    let mut inner = sim.lock();
    let bot = match sim.card_gate(&mut inner, req, scope) {
        Ok(bot) => bot,
        Err(e) => return e.response(),
    };
    match op(sim, &mut inner, &bot) {
        Ok(result) => HttpResponse::Ok().json(json!({"success": true, "result": result})),
        Err(e) => {
            inner.stats.card_rejected += 1;
            e.response()
        }
    }
}

const INSTANCE_SCOPE: &str = "Card.Instance.Write";
const STREAMING_SCOPE: &str = "Card.Streaming.Write";

pub(super) async fn create(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    card_call(&sim, &req, INSTANCE_SCOPE, |sim, inner, bot| {
        sim.create_card(inner, bot, &body)?;
        Ok(json!(str_field(&body, "outTrackId")))
    })
}

pub(super) async fn deliver(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    card_call(&sim, &req, INSTANCE_SCOPE, |sim, inner, bot| {
        let result = sim.deliver_card(inner, bot, &body)?;
        sim.end_if_final(inner, str_field(&body, "outTrackId").unwrap_or_default());
        Ok(result)
    })
}

pub(super) async fn create_and_deliver(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    card_call(&sim, &req, INSTANCE_SCOPE, |sim, inner, bot| {
        sim.create_card(inner, bot, &body)?;
        match sim.deliver_card(inner, bot, &body) {
            Ok(mut result) => {
                let id = str_field(&body, "outTrackId").unwrap_or_default();
                sim.end_if_final(inner, id);
                result["outTrackId"] = json!(id);
                Ok(result)
            }
            Err(e) => {
                // Nothing was delivered: forget the card, as one call did both.
                if let Some(id) = str_field(&body, "outTrackId") {
                    inner.cards.shift_remove(id);
                }
                Err(e)
            }
        }
    })
}

pub(super) async fn streaming(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    card_call(&sim, &req, STREAMING_SCOPE, |sim, inner, _| {
        sim.streaming(inner, &body)?;
        Ok(json!(true))
    })
}

pub(super) async fn update(
    sim: web::Data<Arc<Sim>>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    card_call(&sim, &req, INSTANCE_SCOPE, |sim, inner, _| {
        sim.update_instance(inner, &body)?;
        Ok(json!(true))
    })
}

#[derive(serde::Deserialize)]
pub(super) struct CardsQuery {
    conversation: Option<String>,
}

pub(super) async fn list(sim: web::Data<Arc<Sim>>, q: web::Query<CardsQuery>) -> HttpResponse {
    HttpResponse::Ok().json(sim.cards(q.conversation.as_deref()))
}
