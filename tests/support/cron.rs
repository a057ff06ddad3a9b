//! Scheduled jobs made directly through the scheduler (as the `cron` tool would).

use dingclaw_actors::actors::Runtime;
use dingclaw_actors::actors::scheduler::{AddJob, Caller, RunJob};
use dingclaw_actors::cron::{Job, JobSpec, Owner, RunRecord};
use serde_json::Value;

/// A conversation of `bot1` that owns jobs.
pub fn owner(chat: &str, conversation_id: &str) -> Owner {
    Owner {
        channel: "dingtalk-connector".into(),
        account: "bot1".into(),
        chat: chat.into(),
        conversation_id: conversation_id.into(),
        sender_id: "alice".into(),
    }
}

/// Adds a job for agent `a` from its OpenClaw-shaped JSON.
pub async fn add_job(rt: &Runtime, owner: Owner, job: Value) -> Job {
    rt.scheduler()
        .expect("the scheduler runs")
        .send(AddJob {
            agent_id: "a".into(),
            owner,
            spec: JobSpec::from_value(&job).expect("a valid job"),
        })
        .await
        .expect("the scheduler answers")
        .expect("the job is accepted")
}

/// Runs a job now, as the operator, and returns its run's record.
pub async fn run_job(rt: &Runtime, id: &str) -> RunRecord {
    let (tx, rx) = tokio::sync::oneshot::channel();
    rt.scheduler()
        .expect("the scheduler runs")
        .send(RunJob {
            id: id.to_owned(),
            by: Caller::Operator,
            done: Some(tx),
        })
        .await
        .expect("the scheduler answers")
        .expect("the job exists");
    rx.await.expect("the run ends")
}
