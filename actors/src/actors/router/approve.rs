//! `/approve <id> allow-once|allow-always|deny`: an owner's answer to a command `exec`
//! parked for approval (`tools::approvals`). The router answers it itself, before routing:
//! the session that asked may be busy, and no model should see or rewrite the decision.
//! An approved command runs at once; its output is posted in the chat where the owner
//! answered.

use std::sync::Arc;
use std::time::Duration;

use crate::dingtalk::OutboundMessage;
use crate::dingtalk::redact::redact_text;
use crate::tools::{Decision, sender_is_owner, tail};

use super::super::runtime::Runtime;
use super::Inbound;

/// Longest the gateway waits for an approved command before it posts what it has.
const MAX_WAIT: Duration = Duration::from_secs(600);

/// Characters of output posted in the chat.
const SHOWN: usize = 3_000;

const USAGE: &str = "用法 Usage: /approve <id> allow-once|allow-always|deny";
const NOT_OWNER: &str = "⛔ 只有网关所有者（commands.ownerAllowFrom）可以批准命令。Only the gateway's owners (commands.ownerAllowFrom) can approve commands.";

/// Is `text` an approval command?
pub fn is_approve(text: &str) -> bool {
    let t = text.trim_start();
    t.strip_prefix("/approve")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(char::is_whitespace))
}

/// Answers an approval command; the reply (and any command) runs detached.
pub fn handle(rt: &Arc<Runtime>, msg: Inbound) {
    let rt = Arc::clone(rt);
    actix_rt::spawn(async move {
        let text = answer(&rt, &msg).await;
        let _ = rt.send_reply(&msg.reply, OutboundMessage::Text(text)).await;
        rt.journal_done([&msg]);
    });
}

async fn answer(rt: &Arc<Runtime>, msg: &Inbound) -> String {
    let config = rt.config();
    if !sender_is_owner(&config, &msg.channel, &msg.sender_id) {
        tracing::info!(sender = %msg.sender_id, "refused /approve from a non-owner");
        return NOT_OWNER.to_owned();
    }
    let mut words = msg.text.split_whitespace().skip(1);
    let (Some(id), Some(decision)) = (words.next(), words.next().and_then(Decision::parse)) else {
        return USAGE.to_owned();
    };
    let Some(pending) = rt.approvals.take(id) else {
        return format!(
            "❓ 没有编号为 {id} 的待批准命令（可能已过期或已处理）。No command waits for approval under {id} (it may have expired or been answered)."
        );
    };
    let command = redact_text(&pending.launch.command).into_owned();
    tracing::info!(id, ?decision, agent = %pending.launch.agent, "command approval answered");
    if decision == Decision::Deny {
        return format!("🚫 已拒绝 Denied: `{command}`");
    }
    if decision == Decision::AllowAlways
        && let Some(program) = &pending.program
    {
        rt.approvals.allow_always(&pending.launch.agent, program);
    }
    let running = match rt.processes.start(pending.launch) {
        Ok(r) => r,
        Err(e) => return format!("⚠️ 无法执行 Could not run `{command}`: {e}"),
    };
    let ended = running.wait(MAX_WAIT).await;
    let output = redact_text(&tail(&running.output(), SHOWN)).into_owned();
    let status = match ended {
        Some(e) => format!("{e:?}"),
        None => format!("still running as {} (process poll)", running.id),
    };
    format!("✅ 已批准并执行 Approved and ran: `{command}` → {status}\n```\n{output}\n```")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_command() {
        assert!(is_approve("/approve abc allow-once"));
        assert!(is_approve("  /approve"));
        assert!(!is_approve("/approved"));
        assert!(!is_approve("please /approve"));
    }
}
