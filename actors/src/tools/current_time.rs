//! `current_time`: today's date and time in the user's time zone. Models do not know the date.

use chrono::Utc;
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use super::{Tool, ToolContext, ToolError};

/// The `session_status`-style clock: now, in the user's time zone.
pub struct CurrentTime;

impl Tool for CurrentTime {
    fn name(&self) -> &str {
        "current_time"
    }

    fn description(&self) -> &str {
        "The current date, time and weekday. Pass an IANA time zone (e.g. Asia/Shanghai) or leave it out for the user's own."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": { "timezone": { "type": "string", "description": "IANA time zone, e.g. Asia/Shanghai" } },
            "additionalProperties": false
        })
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        Box::pin(async move {
            let name = args
                .get("timezone")
                .and_then(Value::as_str)
                .unwrap_or(&ctx.timezone)
                .to_owned();
            let tz: chrono_tz::Tz = name
                .parse()
                .map_err(|_| ToolError::BadArguments(format!("unknown time zone \"{name}\"")))?;
            let now = Utc::now().with_timezone(&tz);
            Ok(json!({
                "timezone": name,
                "iso": now.to_rfc3339(),
                "date": now.format("%Y-%m-%d").to_string(),
                "time": now.format("%H:%M").to_string(),
                "weekday": now.format("%A").to_string(),
            }))
        })
    }
}
