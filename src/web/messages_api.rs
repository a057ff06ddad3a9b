//! `POST /api/messages {account, to, text, markdown?}`: an operator (or a script) sends a
//! message from a bot to a person (`user:<staffId>`) or a group (`group:<conversationId>`)
//! through the robot OpenAPI. Operators are trusted: unlike the agent's `message` tool, the
//! target need not have talked with the bot before.

use actix_web::{HttpResponse, web};
use dingclaw_actors::actors::runtime::{ProactiveError, Target};
use dingclaw_actors::dingtalk::OutboundMessage;
use serde::Deserialize;
use serde_json::json;

use super::WebState;
use super::auth::Operator;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SendRequest {
    account: String,
    to: String,
    text: String,
    /// Send as Markdown (default: plain text).
    #[serde(default)]
    markdown: bool,
}

pub(super) async fn send(
    _: Operator,
    state: web::Data<WebState>,
    body: web::Json<SendRequest>,
) -> HttpResponse {
    let req = body.into_inner();
    let target = match Target::parse(&req.to) {
        Ok(t) => t,
        Err(e) => return HttpResponse::BadRequest().json(json!({"error": e.to_string()})),
    };
    let message = if req.markdown {
        OutboundMessage::markdown(req.text)
    } else {
        OutboundMessage::Text(req.text)
    };
    match state
        .rt
        .send_to(&req.account, &target, message, false)
        .await
    {
        Ok(()) => HttpResponse::Ok().json(json!({"sent": true, "to": target.to_string()})),
        Err(e @ (ProactiveError::NoAccount(_) | ProactiveError::Unknown { .. })) => {
            HttpResponse::NotFound().json(json!({"error": e.to_string()}))
        }
        Err(e @ (ProactiveError::BadTarget(_) | ProactiveError::Empty)) => {
            HttpResponse::BadRequest().json(json!({"error": e.to_string()}))
        }
        Err(e @ ProactiveError::Send(_)) => {
            HttpResponse::BadGateway().json(json!({"error": e.to_string()}))
        }
    }
}
