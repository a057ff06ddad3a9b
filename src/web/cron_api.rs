//! The operator's view of scheduled jobs: list, create, change (enable, disable, reschedule),
//! run log, run now, remove. Secrets (webhook tokens, signing secrets) are hidden in
//! everything returned.

use actix::{Handler, Message};
use actix_web::{HttpResponse, web};
use dingclaw_actors::actors::Runtime;
use dingclaw_actors::actors::scheduler::{
    AddJob, Caller, JobRuns, ListJobs, RemoveJob, RunJob, SchedulerActor, UpdateJob, shown,
};
use dingclaw_actors::actors::webchat::{WEBCHAT_ACCOUNT, WEBCHAT_CHANNEL};
use dingclaw_actors::cron::{CronError, JobSpec, Owner, RunRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::WebState;
use super::auth::Operator;

fn cron_error(e: CronError) -> HttpResponse {
    let body = json!({"error": e.to_string()});
    match e {
        CronError::NotFound(_) => HttpResponse::NotFound().json(body),
        CronError::Forbidden(_) => HttpResponse::Forbidden().json(body),
        CronError::Disabled | CronError::Unavailable(_) => {
            HttpResponse::ServiceUnavailable().json(body)
        }
        _ => HttpResponse::BadRequest().json(body),
    }
}

fn no_scheduler() -> HttpResponse {
    cron_error(CronError::Disabled)
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    /// Include disabled (finished one-shot) jobs.
    all: Option<bool>,
}

pub(super) async fn list(
    _: Operator,
    state: web::Data<WebState>,
    q: web::Query<ListQuery>,
) -> HttpResponse {
    let rt = &state.rt;
    let Some(scheduler) = rt.scheduler() else {
        return no_scheduler();
    };
    let jobs = match scheduler
        .send(ListJobs {
            by: Caller::Operator,
            include_disabled: q.all.unwrap_or(true),
        })
        .await
    {
        Ok(jobs) => jobs,
        Err(e) => return cron_error(CronError::Unavailable(e.to_string())),
    };
    let tz = rt.config().agents.timezone().to_owned();
    HttpResponse::Ok().json(jobs.iter().map(|j| shown(j, &tz)).collect::<Vec<_>>())
}

/// Sends a request to the scheduler; its error, or a missing scheduler, as an HTTP answer.
async fn ask<M, T>(rt: &Runtime, msg: M) -> Result<T, HttpResponse>
where
    M: Message<Result = Result<T, CronError>> + Send + 'static,
    T: Send + 'static,
    SchedulerActor: Handler<M>,
{
    let scheduler = rt.scheduler().ok_or_else(no_scheduler)?;
    match scheduler.send(msg).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(cron_error(e)),
        Err(e) => Err(cron_error(CronError::Unavailable(e.to_string()))),
    }
}

pub(super) async fn runs(
    _: Operator,
    state: web::Data<WebState>,
    id: web::Path<String>,
) -> HttpResponse {
    let request = JobRuns {
        id: id.into_inner(),
        by: Caller::Operator,
        limit: 50,
    };
    match ask(&state.rt, request).await {
        Ok(runs) => {
            HttpResponse::Ok().json(runs.iter().map(RunRecord::redacted).collect::<Vec<_>>())
        }
        Err(resp) => resp,
    }
}

#[derive(Deserialize)]
pub(super) struct RunQuery {
    /// Answer when the run has ended, with its record (default true).
    wait: Option<bool>,
}

pub(super) async fn run(
    _: Operator,
    state: web::Data<WebState>,
    id: web::Path<String>,
    q: web::Query<RunQuery>,
) -> HttpResponse {
    let wait = q.wait.unwrap_or(true);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let request = RunJob {
        id: id.into_inner(),
        by: Caller::Operator,
        done: wait.then_some(tx),
    };
    let job = match ask(&state.rt, request).await {
        Ok(job) => job,
        Err(resp) => return resp,
    };
    if !wait {
        return HttpResponse::Accepted().json(json!({"started": job.id}));
    }
    match rx.await {
        Ok(record) => HttpResponse::Ok().json(record.redacted()),
        Err(_) => cron_error(CronError::Unavailable(
            "the run ended without a record".to_owned(),
        )),
    }
}

pub(super) async fn remove(
    _: Operator,
    state: web::Data<WebState>,
    id: web::Path<String>,
) -> HttpResponse {
    let request = RemoveJob {
        id: id.into_inner(),
        by: Caller::Operator,
    };
    match ask(&state.rt, request).await {
        Ok(job) => HttpResponse::Ok().json(json!({"removed": job.id, "name": job.name})),
        Err(resp) => resp,
    }
}

/// Jobs made on the web page belong to the operator's own conversation: they are not shown to
/// any chat, and their answers go where their delivery says (a group robot, or the run log).
fn operator_owner() -> Owner {
    Owner {
        channel: WEBCHAT_CHANNEL.to_owned(),
        account: WEBCHAT_ACCOUNT.to_owned(),
        chat: "direct".to_owned(),
        conversation_id: "operator".to_owned(),
        sender_id: "operator".to_owned(),
    }
}

#[derive(Deserialize)]
pub(super) struct NewJob {
    agent: String,
    /// The job in OpenClaw's shape (`name`, `schedule`, `payload`, `delivery`...).
    job: Value,
}

/// `POST /api/cron/jobs {agent, job}`: a job the operator owns.
pub(super) async fn create(
    _: Operator,
    state: web::Data<WebState>,
    body: web::Json<NewJob>,
) -> HttpResponse {
    let body = body.into_inner();
    if state.rt.config().agents.get(&body.agent).is_none() {
        return HttpResponse::BadRequest()
            .json(json!({"error": format!("no agent \"{}\"", body.agent), "code": "no_agent"}));
    }
    let spec = match JobSpec::from_value(&body.job) {
        Ok(s) => s,
        Err(e) => return cron_error(e),
    };
    let request = AddJob {
        agent_id: body.agent,
        owner: operator_owner(),
        spec,
    };
    let tz = state.rt.config().agents.timezone().to_owned();
    match ask(&state.rt, request).await {
        Ok(job) => HttpResponse::Created().json(shown(&job, &tz)),
        Err(resp) => resp,
    }
}

/// `PATCH /api/cron/jobs/{id}`: a JSON merge patch (`enabled`, `schedule`, `name`,
/// `payload`, `delivery`).
pub(super) async fn update(
    _: Operator,
    state: web::Data<WebState>,
    id: web::Path<String>,
    patch: web::Json<Value>,
) -> HttpResponse {
    let request = UpdateJob {
        id: id.into_inner(),
        patch: patch.into_inner(),
        by: Caller::Operator,
    };
    let tz = state.rt.config().agents.timezone().to_owned();
    match ask(&state.rt, request).await {
        Ok(job) => HttpResponse::Ok().json(shown(&job, &tz)),
        Err(resp) => resp,
    }
}
