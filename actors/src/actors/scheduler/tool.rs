//! The `cron` tool: scheduled tasks from a chat, with OpenClaw's argument shape
//! (docs/openclaw-routing.md 6.1) so prompts and skills written for OpenClaw work.
//! Actions: `add` (with `job`), `list`, `update` (`jobId` + `patch`), `remove`, `run` (now),
//! `runs` (the run log), `status`. Jobs belong to the conversation that created them: another
//! conversation can neither see nor change them.

use std::sync::{Arc, OnceLock};

use actix::Addr;
use chrono::TimeZone;
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};

use crate::cron::{CronError, Job, JobSpec, Owner, Schedule, parse_tz};
use crate::tools::{Tool, ToolContext, ToolError};

use super::SchedulerActor;
use super::messages::{AddJob, Caller, JobRuns, ListJobs, RemoveJob, RunJob, UpdateJob};

/// Runs shown by `runs`.
const RUNS_SHOWN: usize = 10;

/// The tool; the scheduler's address is filled in once the scheduler has started.
pub struct CronTool {
    scheduler: Arc<OnceLock<Addr<SchedulerActor>>>,
}

impl CronTool {
    /// The tool, sending to the scheduler once it runs.
    pub fn new(scheduler: Arc<OnceLock<Addr<SchedulerActor>>>) -> Self {
        Self { scheduler }
    }
}

fn owner(ctx: &ToolContext) -> Owner {
    Owner {
        channel: ctx.channel.clone(),
        account: ctx.account.clone(),
        chat: ctx.chat.as_str().to_owned(),
        conversation_id: ctx.conversation_id.clone(),
        sender_id: ctx.sender_id.clone(),
    }
}

/// A job as the model sees it: secrets hidden, the next run in the job's time zone.
pub fn shown(job: &Job, default_tz: &str) -> Value {
    let mut v = job.redacted();
    let tz_name = match &job.schedule {
        Schedule::Cron { tz: Some(tz), .. } => tz.clone(),
        _ => default_tz.to_owned(),
    };
    if let (Some(next), Ok(tz)) = (job.state.next_run_at_ms, parse_tz(&tz_name))
        && let Some(t) = tz.timestamp_millis_opt(next).single()
    {
        v["nextRun"] = json!(format!("{} ({tz_name})", t.format("%Y-%m-%d %H:%M:%S")));
    }
    v["scheduleText"] = json!(job.schedule.describe(default_tz));
    v
}

/// One line about a job, for the model to repeat to the user.
fn summary(verb: &str, job: &Job, shown: &Value) -> String {
    let next = shown["nextRun"]
        .as_str()
        .map(|n| format!("; next run {n}"))
        .unwrap_or_default();
    let to = match &job.delivery {
        crate::cron::Delivery::None => "kept in its log",
        crate::cron::Delivery::Announce => "posted in this chat",
        crate::cron::Delivery::Webhook { .. } => "posted by the group robot",
    };
    format!(
        "{verb} \"{}\" ({}){next}; results are {to}",
        job.name,
        shown["scheduleText"].as_str().unwrap_or_default()
    )
}

fn job_id(args: &Value) -> Result<String, ToolError> {
    args.get("jobId")
        .or_else(|| args.get("id"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ToolError::BadArguments("`jobId` is required".to_owned()))
}

fn tool_error(e: CronError) -> ToolError {
    match e {
        CronError::Forbidden(_) | CronError::HostNotAllowed { .. } => {
            ToolError::Forbidden(e.to_string())
        }
        CronError::BadSchedule(_) | CronError::BadJob(_) | CronError::BadWebhook(_) => {
            ToolError::BadArguments(e.to_string())
        }
        _ => ToolError::Failed(e.to_string()),
    }
}

async fn call(
    scheduler: Addr<SchedulerActor>,
    args: Value,
    ctx: ToolContext,
) -> Result<Value, ToolError> {
    let action = args
        .get("action")
        .and_then(Value::as_str)
        .ok_or_else(|| ToolError::BadArguments("`action` is required".to_owned()))?;
    let by = Caller::Conversation(owner(&ctx));
    let tz = ctx.timezone.clone();
    let mailbox =
        |e: actix::MailboxError| ToolError::Failed(format!("the scheduler is not running: {e}"));
    if ctx.job.is_some() && matches!(action, "add" | "update" | "remove" | "run") {
        return Err(ToolError::Forbidden(
            "a scheduled task cannot create, change or run scheduled tasks".to_owned(),
        ));
    }
    match action {
        "add" => {
            let spec =
                JobSpec::from_value(args.get("job").unwrap_or(&Value::Null)).map_err(tool_error)?;
            let job = scheduler
                .send(AddJob {
                    agent_id: ctx.agent_id.clone(),
                    owner: owner(&ctx),
                    spec,
                })
                .await
                .map_err(mailbox)?
                .map_err(tool_error)?;
            let v = shown(&job, &tz);
            Ok(json!({"ok": true, "summary": summary("scheduled", &job, &v), "job": v}))
        }
        "list" | "status" => {
            let include_disabled = args
                .get("includeDisabled")
                .and_then(Value::as_bool)
                .unwrap_or(action == "status");
            let jobs = scheduler
                .send(ListJobs {
                    by,
                    include_disabled,
                })
                .await
                .map_err(mailbox)?;
            let shown: Vec<Value> = jobs.iter().map(|j| shown(j, &tz)).collect();
            Ok(json!({"jobs": shown}))
        }
        "update" => {
            let patch = args
                .get("patch")
                .cloned()
                .ok_or_else(|| ToolError::BadArguments("`patch` is required".to_owned()))?;
            let job = scheduler
                .send(UpdateJob {
                    id: job_id(&args)?,
                    patch,
                    by,
                })
                .await
                .map_err(mailbox)?
                .map_err(tool_error)?;
            let v = shown(&job, &tz);
            Ok(json!({"ok": true, "summary": summary("changed", &job, &v), "job": v}))
        }
        "remove" => {
            let job = scheduler
                .send(RemoveJob {
                    id: job_id(&args)?,
                    by,
                })
                .await
                .map_err(mailbox)?
                .map_err(tool_error)?;
            Ok(json!({"ok": true, "removed": job.id, "name": job.name,
                      "summary": format!("removed \"{}\"", job.name)}))
        }
        "run" => {
            let job = scheduler
                .send(RunJob {
                    id: job_id(&args)?,
                    by,
                    done: None,
                })
                .await
                .map_err(mailbox)?
                .map_err(tool_error)?;
            Ok(json!({"ok": true, "started": job.id, "name": job.name,
                      "summary": format!("\"{}\" is running now; its result is delivered when it ends", job.name)}))
        }
        "runs" => {
            let runs = scheduler
                .send(JobRuns {
                    id: job_id(&args)?,
                    by,
                    limit: RUNS_SHOWN,
                })
                .await
                .map_err(mailbox)?
                .map_err(tool_error)?;
            Ok(json!({"runs": runs}))
        }
        other => Err(ToolError::BadArguments(format!(
            "unknown action \"{other}\" (add, list, update, remove, run, runs, status)"
        ))),
    }
}

impl Tool for CronTool {
    fn name(&self) -> &str {
        "cron"
    }

    fn description(&self) -> &str {
        "Scheduled tasks for this chat. action=add with job={name, schedule, payload, delivery}: \
         schedule is {kind:\"cron\", expr:\"0 9 * * *\", tz:\"Asia/Shanghai\"} (5 fields, or 6 with \
         seconds), {kind:\"every\", everyMs} or {kind:\"at\", at:\"2026-11-24T09:00:00+08:00\"}; \
         payload is {kind:\"agentTurn\", message:\"what to do at each run\"}; delivery is \
         {mode:\"webhook\", to:\"https://oapi.dingtalk.com/robot/send?access_token=...\", secret?:\"SEC...\"} \
         to post results to a DingTalk group robot, or {mode:\"announce\"} (default) to post them \
         here. action=list; action=update with jobId and patch (only the fields to change, e.g. \
         {schedule:{expr:\"0 8 * * *\"}}); action=remove with jobId; action=run with jobId runs \
         it now; action=runs with jobId shows recent runs."
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "action": {"type": "string", "enum": ["add", "list", "update", "remove", "run", "runs", "status"]},
                "job": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "schedule": {"type": "object", "properties": {
                            "kind": {"type": "string", "enum": ["cron", "every", "at"]},
                            "expr": {"type": "string"}, "tz": {"type": "string"},
                            "everyMs": {"type": "integer"}, "at": {"type": "string"}
                        }, "required": ["kind"]},
                        "payload": {"type": "object", "properties": {
                            "kind": {"type": "string", "enum": ["agentTurn"]},
                            "message": {"type": "string"}
                        }, "required": ["kind", "message"]},
                        "delivery": {"type": "object", "properties": {
                            "mode": {"type": "string", "enum": ["webhook", "announce", "none"]},
                            "to": {"type": "string"}, "secret": {"type": "string"}
                        }, "required": ["mode"]}
                    },
                    "required": ["schedule", "payload"]
                },
                "jobId": {"type": "string"},
                "patch": {"type": "object"},
                "includeDisabled": {"type": "boolean"}
            },
            "required": ["action"]
        })
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        let scheduler = self.scheduler.get().cloned();
        Box::pin(async move {
            let scheduler = scheduler.ok_or_else(|| {
                ToolError::Failed("the scheduler is not running on this gateway".to_owned())
            })?;
            call(scheduler, args, ctx).await
        })
    }
}
