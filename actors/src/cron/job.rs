//! A scheduled job in OpenClaw's shape (docs/openclaw-routing.md 6.2), so prompts and
//! skills written for OpenClaw's `cron` tool work: `name`, `schedule`, `payload`, `delivery`,
//! `state`. dingclaw adds `owner`: the conversation that created the job, the only one (with
//! the operator) allowed to change it, and where `announce` delivers.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::dingtalk::redact::{redact_text, redact_url};

use super::error::CronError;
use super::schedule::Schedule;

/// What a run does. Both kinds run the agent on the text in the job's own session;
/// OpenClaw's `systemEvent` (meant for its main session) is treated as a turn too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Payload {
    /// Run the agent on `message`.
    AgentTurn {
        /// What the agent is asked.
        message: String,
    },
    /// OpenClaw's main-session event, run as a turn on `text`.
    SystemEvent {
        /// What the agent is asked.
        text: String,
    },
}

impl Payload {
    /// The text the agent is given.
    pub fn message(&self) -> &str {
        match self {
            Payload::AgentTurn { message } => message,
            Payload::SystemEvent { text } => text,
        }
    }
}

/// Where a run's result goes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "camelCase")]
pub enum Delivery {
    /// Kept in the run log only.
    None,
    /// Back to the conversation that created the job, through the robot OpenAPI (OpenClaw's
    /// default for isolated jobs).
    #[default]
    Announce,
    /// POST to a URL: a DingTalk custom robot gets a markdown robot message (signed with
    /// `secret` when it has one); another allowed host gets OpenClaw's cron event JSON.
    Webhook {
        /// The address.
        to: String,
        /// The `SEC...` signing secret of a DingTalk robot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        secret: Option<String>,
    },
}

/// The conversation that created a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// The channel.
    pub channel: String,
    /// The account (bot).
    pub account: String,
    /// `direct` or `group`.
    pub chat: String,
    /// The conversation.
    pub conversation_id: String,
    /// Staff id when DingTalk gave one, else the sender id.
    pub sender_id: String,
}

impl Owner {
    /// The conversation as one key: who the scheduler shares its runs out between.
    pub fn tenant(&self) -> String {
        format!("{}/{}/{}", self.channel, self.account, self.conversation_id)
    }

    /// Same conversation: the same chat of the same bot.
    pub fn same_conversation(&self, other: &Owner) -> bool {
        self.channel == other.channel
            && self.account == other.account
            && self.conversation_id == other.conversation_id
    }
}

/// How a run went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// The agent answered.
    Ok,
    /// The run failed.
    Error,
    /// The run did not happen (OpenClaw writes this status; dingclaw reads it in imported logs).
    Skipped,
}

/// Whether a run's answer reached its destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStatus {
    /// It did.
    Delivered,
    /// It did not (see `delivery_error`).
    NotDelivered,
    /// The job has no delivery.
    NotRequested,
}

/// What the scheduler knows about a job's runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct JobState {
    /// When it runs next (ms since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_run_at_ms: Option<i64>,
    /// When the run in progress started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_at_ms: Option<i64>,
    /// When it last ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run_at_ms: Option<i64>,
    /// How the last run went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run_status: Option<RunStatus>,
    /// The last run's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Whether the last run's answer was delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_delivery_status: Option<DeliveryStatus>,
    /// How long the last run took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_duration_ms: Option<u64>,
    /// Failed runs in a row (the backoff grows with them).
    pub consecutive_errors: u32,
    /// Failed attempts of a one-shot job (retried on transient errors).
    pub attempts: u32,
    /// Times the next run could not be computed; the job is disabled after 3.
    pub schedule_errors: u32,
}

/// A scheduled task, as OpenClaw's `cron` tool shapes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Its id (a UUID).
    pub id: String,
    /// The agent that runs it.
    pub agent_id: String,
    /// `agent:<agentId>:cron:<jobId>`: the session each run uses.
    pub session_key: String,
    /// What people call it.
    pub name: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Runs when due.
    pub enabled: bool,
    /// A one-shot job is deleted after it ran (else disabled).
    #[serde(default)]
    pub delete_after_run: bool,
    /// When it was made (ms since the epoch).
    pub created_at_ms: i64,
    /// When it last changed.
    pub updated_at_ms: i64,
    /// When it runs.
    pub schedule: Schedule,
    /// What the agent is asked.
    pub payload: Payload,
    /// Where the answer goes.
    pub delivery: Delivery,
    /// The conversation that made it.
    pub owner: Owner,
    /// What the scheduler knows about its runs.
    #[serde(default)]
    pub state: JobState,
}

/// The part of a job its creator writes (the `job` of `add`; `patch` is merged into it).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobSpec {
    /// What people call it (default: the text, cut to 80 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Runs when due (default: yes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Delete a one-shot job after it ran (default: no; it is disabled instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_run: Option<bool>,
    /// When it runs.
    pub schedule: Schedule,
    /// What the agent is asked.
    pub payload: Payload,
    /// Where the answer goes (default: announce it in the conversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

impl JobSpec {
    /// Reads the tool's `job` argument, with messages a model can act on.
    pub fn from_value(v: &Value) -> Result<JobSpec, CronError> {
        if !v.is_object() {
            return Err(CronError::BadJob("`job` must be an object".to_owned()));
        }
        for key in ["schedule", "payload"] {
            if v.get(key).is_none() {
                return Err(CronError::BadJob(format!("`job.{key}` is required")));
            }
        }
        serde_json::from_value(v.clone()).map_err(|e| CronError::BadJob(e.to_string()))
    }
}

/// The longest job name kept.
const NAME_MAX: usize = 80;

impl Job {
    /// A new job `id` for `agent_id` from `spec`, made by `owner` at `now_ms`.
    pub fn new(id: String, agent_id: &str, spec: JobSpec, owner: Owner, now_ms: i64) -> Job {
        let name = spec
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| spec.payload.message().to_owned());
        Job {
            session_key: format!("agent:{agent_id}:cron:{id}"),
            id,
            agent_id: agent_id.to_owned(),
            name: name.trim().chars().take(NAME_MAX).collect(),
            description: spec.description,
            enabled: spec.enabled.unwrap_or(true),
            delete_after_run: spec.delete_after_run.unwrap_or(false),
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            schedule: spec.schedule,
            payload: spec.payload,
            delivery: spec.delivery.unwrap_or_default(),
            owner,
            state: JobState::default(),
        }
    }

    /// The editable part, as a spec.
    pub fn spec(&self) -> JobSpec {
        JobSpec {
            name: Some(self.name.clone()),
            description: self.description.clone(),
            enabled: Some(self.enabled),
            delete_after_run: Some(self.delete_after_run),
            schedule: self.schedule.clone(),
            payload: self.payload.clone(),
            delivery: Some(self.delivery.clone()),
        }
    }

    /// The job with `patch` merged into its editable part (JSON merge patch, RFC 7396: only the
    /// keys given change, so `{"schedule": {"expr": "0 8 * * *"}}` keeps the kind and zone).
    pub fn patched(&self, patch: &Value, now_ms: i64) -> Result<Job, CronError> {
        if !patch.is_object() {
            return Err(CronError::BadJob("`patch` must be an object".to_owned()));
        }
        let mut doc =
            serde_json::to_value(self.spec()).map_err(|e| CronError::BadJob(e.to_string()))?;
        json_patch::merge(&mut doc, patch);
        let spec = JobSpec::from_value(&doc)?;
        let mut job = self.clone();
        job.name = spec
            .name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| self.name.clone())
            .chars()
            .take(NAME_MAX)
            .collect();
        job.description = spec.description;
        job.enabled = spec.enabled.unwrap_or(self.enabled);
        job.delete_after_run = spec.delete_after_run.unwrap_or(self.delete_after_run);
        job.schedule = spec.schedule;
        job.payload = spec.payload;
        job.delivery = spec.delivery.unwrap_or_default();
        job.updated_at_ms = now_ms;
        Ok(job)
    }

    /// The job as shown to a model, the command line or the web page: the webhook's access
    /// token and signing secret hidden.
    pub fn redacted(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Delivery::Webhook { to, secret } = &self.delivery {
            v["delivery"]["to"] = json!(redact_url(to));
            if secret.is_some() {
                v["delivery"]["secret"] = json!("***");
            }
        }
        v
    }
}

/// One entry of a job's run log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    /// The job.
    pub job_id: String,
    /// When the run started (ms since the epoch).
    pub run_at_ms: i64,
    /// How long it took.
    pub duration_ms: u64,
    /// How it went.
    pub status: RunStatus,
    /// `schedule`, `manual` (run now), `missed` (caught up at start).
    pub trigger: String,
    /// How long after its scheduled time the run started (0 for a run started by hand).
    #[serde(default)]
    pub late_ms: u64,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The start of the answer.
    #[serde(default)]
    pub summary: String,
    /// Whether the answer was delivered.
    pub delivery_status: DeliveryStatus,
    /// Why it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_error: Option<String>,
    /// The session the run used.
    #[serde(default)]
    pub session_id: String,
}

impl RunRecord {
    /// The record as the operator is shown it: robot tokens and signing secrets in the
    /// answer and the errors masked.
    pub fn redacted(&self) -> RunRecord {
        let mask = |s: &str| redact_text(s).into_owned();
        RunRecord {
            summary: mask(&self.summary),
            error: self.error.as_deref().map(mask),
            delivery_error: self.delivery_error.as_deref().map(mask),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> Owner {
        Owner {
            channel: "dingtalk-connector".into(),
            account: "bot1".into(),
            chat: "group".into(),
            conversation_id: "cid1".into(),
            sender_id: "alice".into(),
        }
    }

    fn weather() -> Value {
        json!({
            "name": "Beijing weather",
            "schedule": {"kind": "cron", "expr": "0 9 * * *", "tz": "Asia/Shanghai"},
            "payload": {"kind": "agentTurn", "message": "Check the weather in Beijing", "model": "ignored"},
            "delivery": {"mode": "webhook", "to": "https://oapi.dingtalk.com/robot/send?access_token=abc123"},
        })
    }

    #[test]
    fn openclaw_shaped_jobs_are_read_and_patched() {
        let spec = JobSpec::from_value(&weather()).unwrap();
        let job = Job::new("j1".into(), "main", spec, owner(), 1_000);
        assert_eq!(job.session_key, "agent:main:cron:j1");
        assert_eq!(job.payload.message(), "Check the weather in Beijing");
        let moved = job
            .patched(&json!({"schedule": {"expr": "0 8 * * *"}}), 2_000)
            .unwrap();
        assert_eq!(
            moved.schedule,
            Schedule::Cron {
                expr: "0 8 * * *".into(),
                tz: Some("Asia/Shanghai".into())
            }
        );
        assert_eq!(moved.delivery, job.delivery);
        assert_eq!(moved.updated_at_ms, 2_000);
        let off = job.patched(&json!({"enabled": false}), 3_000).unwrap();
        assert!(!off.enabled);
    }

    #[test]
    fn missing_parts_are_explained_and_delivery_defaults_to_announce() {
        let err = JobSpec::from_value(&json!({"name": "x"})).unwrap_err();
        assert_eq!(err.to_string(), "invalid job: `job.schedule` is required");
        let err = JobSpec::from_value(&json!({
            "schedule": {"kind": "sometimes"}, "payload": {"kind": "agentTurn", "message": "m"}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("sometimes"), "{err}");
        let spec = JobSpec::from_value(&json!({
            "schedule": {"kind": "every", "everyMs": 3600000},
            "payload": {"kind": "systemEvent", "text": "stand-up time"},
        }))
        .unwrap();
        let job = Job::new("j2".into(), "main", spec, owner(), 0);
        assert_eq!(job.delivery, Delivery::Announce);
        assert_eq!(job.name, "stand-up time");
    }

    #[test]
    fn the_webhook_token_and_secret_never_show() {
        let mut v = weather();
        v["delivery"]["secret"] = json!("SECabcdef");
        let job = Job::new(
            "j1".into(),
            "main",
            JobSpec::from_value(&v).unwrap(),
            owner(),
            0,
        );
        let shown = job.redacted().to_string();
        assert!(
            !shown.contains("abc123") && !shown.contains("SECabcdef"),
            "{shown}"
        );
        assert!(shown.contains("access_token=***"), "{shown}");
    }
}
