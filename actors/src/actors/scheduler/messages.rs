//! What the SchedulerActor accepts. Every request says who asks (`Caller`): a conversation may
//! only see and touch its own jobs; the operator (command line, web page) may touch any.

use actix::prelude::*;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::cron::{CronError, Job, JobSpec, Owner, RunRecord};

/// Who asks.
#[derive(Clone, Debug)]
pub enum Caller {
    /// The operator (web page, command line): every job.
    Operator,
    /// Someone in a conversation: the jobs they own there.
    Conversation(Owner),
}

impl Caller {
    /// May this caller see or change `job`?
    pub fn may_touch(&self, job: &Job) -> bool {
        match self {
            Caller::Operator => true,
            Caller::Conversation(owner) => owner.same_conversation(&job.owner),
        }
    }
}

/// Creates a job for `agent_id`, owned by the conversation that asked.
#[derive(Message)]
#[rtype(result = "Result<Job, CronError>")]
pub struct AddJob {
    /// The agent that runs it.
    pub agent_id: String,
    /// Who made it and where (their conversation is where `announce` goes by default).
    pub owner: Owner,
    /// The job as OpenClaw's `cron` tool shapes it.
    pub spec: JobSpec,
}

/// Merges `patch` into a job (JSON merge patch over `name`, `schedule`, `payload`,
/// `delivery`, `enabled`...).
#[derive(Message)]
#[rtype(result = "Result<Job, CronError>")]
pub struct UpdateJob {
    /// The job.
    pub id: String,
    /// OpenClaw's patch shape (the fields to change).
    pub patch: Value,
    /// Who asks.
    pub by: Caller,
}

/// Removes a job and its run log.
#[derive(Message)]
#[rtype(result = "Result<Job, CronError>")]
pub struct RemoveJob {
    /// The job.
    pub id: String,
    /// Who asks.
    pub by: Caller,
}

/// The jobs the caller may see, by next run.
#[derive(Message)]
#[rtype(result = "Vec<Job>")]
pub struct ListJobs {
    /// Who asks.
    pub by: Caller,
    /// Disabled jobs too.
    pub include_disabled: bool,
}

/// Runs a job now. With `done`, the run's record is sent there when it ends.
#[derive(Message)]
#[rtype(result = "Result<Job, CronError>")]
pub struct RunJob {
    /// The job.
    pub id: String,
    /// Who asks.
    pub by: Caller,
    /// Gets the run's record once it is finished.
    pub done: Option<oneshot::Sender<RunRecord>>,
}

/// A job's newest runs.
#[derive(Message)]
#[rtype(result = "Result<Vec<RunRecord>, CronError>")]
pub struct JobRuns {
    /// The job.
    pub id: String,
    /// Who asks.
    pub by: Caller,
    /// At most this many, newest first.
    pub limit: usize,
}

/// A run ended (sent by the run's task).
#[derive(Message)]
#[rtype(result = "()")]
pub(super) struct RunFinished {
    pub record: RunRecord,
    /// The kind of a failed turn (`rate_limit`, `overloaded`, `network`, `timeout`,
    /// `server_error`), for `cron.retry.retryOn`.
    pub error_kind: Option<&'static str>,
}
