//! The `message` tool (docs/openclaw-agent.md 2.6): the agent sends a message to a
//! person or group its account knows, or to the conversation it is in. OpenClaw's argument
//! shape (`action: "send"`, `target`, `message`); the target syntax is the DingTalk
//! plugins' business, and dingclaw's is `user:<staffId>` / `group:<conversationId>`.
//! A stranger in a group could otherwise make the bot write to anyone in the company, so a
//! target the account has never talked with is refused.

use std::sync::{Arc, OnceLock, Weak};

use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use crate::dingtalk::OutboundMessage;
use crate::routing::ChatType;
use crate::tools::{Tool, ToolContext, ToolError};

use super::Runtime;
use super::proactive::{ProactiveError, Target};

/// The tool; the runtime is filled in once it exists (weakly: the runtime holds the tool).
pub struct MessageTool {
    rt: Arc<OnceLock<Weak<Runtime>>>,
}

impl MessageTool {
    pub fn new(rt: Arc<OnceLock<Weak<Runtime>>>) -> Self {
        Self { rt }
    }
}

impl Tool for MessageTool {
    fn name(&self) -> &str {
        "message"
    }

    fn description(&self) -> &str {
        "Send a DingTalk message now, to this conversation or to another person or group this bot already talks with. target: user:<staffId> or group:<conversationId> (leave it out for this conversation). If this delivered everything you wanted to say, answer only NO_REPLY."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "action": { "type": "string", "enum": ["send"] },
                "target": { "type": "string", "description": "user:<staffId> or group:<conversationId>; default: this conversation" },
                "message": { "type": "string", "description": "The text (Markdown) to send" }
            },
            "required": ["message"],
            "additionalProperties": true
        })
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        let rt = self.rt.get().and_then(Weak::upgrade);
        Box::pin(async move {
            let rt = rt.ok_or_else(|| ToolError::Failed("the gateway is stopping".into()))?;
            let action = args.get("action").and_then(Value::as_str).unwrap_or("send");
            if action != "send" {
                return Err(ToolError::BadArguments(format!(
                    "only action \"send\" is available on DingTalk, not \"{action}\""
                )));
            }
            let text = args
                .get("message")
                .or_else(|| args.get("text"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if let Some(other) = args.get("accountId").and_then(Value::as_str)
                && other != ctx.account
            {
                return Err(ToolError::Forbidden(format!(
                    "this conversation is on account {}; it cannot send as {other}",
                    ctx.account
                )));
            }
            let here = match ctx.chat {
                ChatType::Group => Target::Group(ctx.conversation_id.clone()),
                ChatType::Direct => Target::User(ctx.sender_id.clone()),
            };
            let target = match args
                .get("target")
                .or_else(|| args.get("to"))
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
            {
                Some(t) => Target::parse(t).map_err(|e| ToolError::BadArguments(e.to_string()))?,
                None => here.clone(),
            };
            let known_only = target != here;
            rt.send_to(
                &ctx.account,
                &target,
                OutboundMessage::markdown(text),
                known_only,
            )
            .await
            .map_err(|e| match e {
                ProactiveError::Unknown { .. } | ProactiveError::NoAccount(_) => {
                    ToolError::Forbidden(e.to_string())
                }
                ProactiveError::BadTarget(_) | ProactiveError::Empty => {
                    ToolError::BadArguments(e.to_string())
                }
                ProactiveError::Send(e) => ToolError::Failed(e.to_string()),
            })?;
            Ok(json!({ "sent": true, "target": target.to_string() }))
        })
    }
}
