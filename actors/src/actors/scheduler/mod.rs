//! SchedulerActor: one per gateway. Holds the scheduled jobs (persisted in the store, so every
//! job is back after a restart), checks on every tick which are due by the runtime's clock,
//! runs them (at most `cron.maxConcurrentRuns` at once), and records each run in the job's
//! bounded run log.
//!
//! Rules (docs/openclaw-routing.md 6.4): a recurring job that keeps failing is pushed
//! back 30 s, 1 min, 5 min, 15 min, then 60 min; a one-shot job retries transient failures
//! (`cron.retry`) and is disabled when done (removed with `deleteAfterRun`); a schedule that
//! cannot be computed three times disables its job. A run missed while the gateway was down
//! runs once at start if it is at most `cron.missedRunGraceSeconds` old.

mod messages;
mod run;
mod tool;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use tokio::sync::oneshot;

pub use messages::{AddJob, Caller, JobRuns, ListJobs, RemoveJob, RunJob, UpdateJob};
pub use run::CRON_CHANNEL;
pub use tool::{CronTool, shown};

use crate::cron::{Clock, CronError, Job, RunRecord, RunStatus, Schedule, check_delivery};
use crate::fault::{FaultPoint, check};
use crate::store::WriteOp;
use crate::supervise::{ActorKind, Restarts, guard, resume_after};

use super::runtime::Runtime;
use messages::RunFinished;

/// How long a recurring job that keeps failing waits before its next run, by failures in a
/// row (OpenClaw's schedule).
const ERROR_BACKOFF_MS: [i64; 5] = [30_000, 60_000, 300_000, 900_000, 3_600_000];

/// Schedule errors that disable a job.
const MAX_SCHEDULE_ERRORS: u32 = 3;

/// In a cluster, how often the jobs are read again (other instances add and change them).
const CLUSTER_REFRESH: Duration = Duration::from_secs(2);

/// A job added here this recently is kept even if the shared store does not list it yet.
const FRESH_JOB_MS: i64 = 10_000;

/// Missed occurrences looked through at start.
const MAX_CATCH_UP_STEPS: usize = 10_000;

/// Runs scheduled jobs when due, delivers their answers, keeps their run logs.
pub struct SchedulerActor {
    rt: Arc<Runtime>,
    clock: Arc<dyn Clock>,
    tick: Duration,
    jobs: HashMap<String, Job>,
    /// Who waits for the end of a job's current run.
    waiters: HashMap<String, Vec<oneshot::Sender<RunRecord>>>,
    /// Jobs whose next run catches up a run missed while the gateway was down.
    catch_up: HashSet<String>,
    /// When each conversation's last run started: due runs go to the conversation served
    /// longest ago first, so one conversation's many jobs cannot starve another's.
    last_start: HashMap<String, i64>,
    loaded: bool,
    /// Built in `started`, on this actor's thread.
    http: Option<awc::Client>,
    /// In a cluster: the occurrence (scheduled time) each running job's claim is for.
    claimed: HashMap<String, i64>,
    /// In a cluster: occurrences taken over from a dead instance, waiting for their job to
    /// be free.
    orphans: Vec<(String, i64)>,
    restarts: Restarts,
}

impl SchedulerActor {
    /// The scheduler of `rt`, looking for due jobs every `tick` on `clock`.
    pub fn new(rt: Arc<Runtime>, clock: Arc<dyn Clock>, tick: Duration) -> Self {
        Self {
            rt,
            clock,
            tick,
            jobs: HashMap::new(),
            waiters: HashMap::new(),
            catch_up: HashSet::new(),
            last_start: HashMap::new(),
            loaded: false,
            http: None,
            claimed: HashMap::new(),
            orphans: Vec::new(),
            restarts: Restarts::default(),
        }
    }

    fn default_tz(&self) -> String {
        self.rt.config().agents.timezone().to_owned()
    }

    fn save(&self, job: &Job) {
        match serde_json::to_string(job) {
            Ok(json) => self.rt.store.write(vec![WriteOp::Job {
                id: job.id.clone(),
                json,
            }]),
            Err(e) => tracing::error!(job = %job.id, error = %e, "cannot serialise a job"),
        }
    }

    /// The next run after `after_ms`, or the job disabled after repeated schedule errors.
    fn plan(&self, job: &mut Job, after_ms: i64) {
        if !job.enabled {
            job.state.next_run_at_ms = None;
            return;
        }
        match job
            .schedule
            .next_after(after_ms, job.created_at_ms, &self.default_tz())
        {
            Ok(next) => {
                job.state.schedule_errors = 0;
                job.state.next_run_at_ms = next;
            }
            Err(e) => {
                job.state.schedule_errors += 1;
                job.state.last_error = Some(e.to_string());
                job.state.next_run_at_ms = None;
                if job.state.schedule_errors >= MAX_SCHEDULE_ERRORS {
                    tracing::warn!(job = %job.id, error = %e, "disabling a job whose schedule keeps failing");
                    job.enabled = false;
                }
            }
        }
    }

    // -- loading -------------------------------------------------------------------------

    fn load(&mut self, ctx: &mut Context<Self>) {
        let store = self.rt.store.clone();
        ctx.wait(
            actix::fut::wrap_future::<_, Self>(async move { store.jobs().await }).map(
                |res, act, _| match res {
                    Ok(rows) => act.apply_loaded(rows),
                    Err(e) => tracing::error!(error = %e, "cannot load scheduled jobs"),
                },
            ),
        );
    }

    fn apply_loaded(&mut self, rows: Vec<String>) {
        let now = self.clock.now_ms();
        let grace = self.rt.config().cron.missed_run_grace_seconds as i64 * 1000;
        for row in rows {
            let mut job: Job = match serde_json::from_str(&row) {
                Ok(j) => j,
                Err(e) => {
                    tracing::error!(error = %e, "skipping a stored job that cannot be read");
                    continue;
                }
            };
            job.state.running_at_ms = None;
            match job.state.next_run_at_ms {
                Some(due) if job.enabled && due <= now => {
                    let latest = self.latest_missed(&job, due, now);
                    if now - latest <= grace {
                        // Runs at the first tick, once.
                        job.state.next_run_at_ms = Some(latest);
                        self.catch_up.insert(job.id.clone());
                        tracing::info!(job = %job.id, missed_at = latest, "running a job missed while the gateway was down");
                    } else {
                        tracing::info!(job = %job.id, missed_at = latest, "skipping a run missed too long ago");
                        self.plan(&mut job, now);
                    }
                }
                None if job.enabled => self.plan(&mut job, now),
                _ => {}
            }
            self.save(&job);
            self.jobs.insert(job.id.clone(), job);
        }
        self.loaded = true;
        tracing::info!(jobs = self.jobs.len(), "scheduler started");
    }

    /// The latest occurrence at or before `now` of a job that was due at `due`.
    fn latest_missed(&self, job: &Job, due: i64, now: i64) -> i64 {
        let tz = self.default_tz();
        let mut latest = due;
        for _ in 0..MAX_CATCH_UP_STEPS {
            match job.schedule.next_after(latest, job.created_at_ms, &tz) {
                Ok(Some(next)) if next <= now => latest = next,
                _ => break,
            }
        }
        latest
    }

    // -- running -------------------------------------------------------------------------

    fn tick(&mut self, ctx: &mut Context<Self>) {
        if !self.loaded || !self.rt.config().cron.enabled {
            return;
        }
        if !self.orphans.is_empty() {
            self.run_orphans(ctx);
        }
        let now = self.clock.now_ms();
        let max = self.rt.config().cron.max_concurrent_runs as usize;
        let running = self
            .jobs
            .values()
            .filter(|j| j.state.running_at_ms.is_some())
            .count();
        let mut free = max.saturating_sub(running);
        if free == 0 {
            return;
        }
        let due: Vec<(i64, String, String)> = self
            .jobs
            .values()
            .filter(|j| j.enabled && j.state.running_at_ms.is_none())
            .filter_map(|j| {
                j.state
                    .next_run_at_ms
                    .filter(|t| *t <= now)
                    .map(|t| (t, j.id.clone(), j.owner.tenant()))
            })
            .collect();
        // Fair shares: each pick goes to the conversation whose last run started longest ago
        // (never first), earliest due time within it. One conversation's every-minute jobs
        // then take turns with everyone else's instead of going first in a block.
        let mut due = due;
        while free > 0 && !due.is_empty() {
            let pick = due
                .iter()
                .enumerate()
                .min_by_key(|(_, (t, _, tenant))| {
                    (self.last_start.get(tenant).copied().unwrap_or(i64::MIN), *t)
                })
                .map(|(i, _)| i)
                .unwrap_or(0);
            let (due_ms, id, _) = due.swap_remove(pick);
            let trigger = if self.catch_up.remove(&id) {
                "missed"
            } else {
                "schedule"
            };
            if self.rt.cluster().is_some() {
                self.claim_then_run(id, trigger, due_ms, ctx);
            } else {
                self.start_run(&id, trigger, ctx);
            }
            free -= 1;
        }
    }

    /// In a cluster every instance sees the job due; the one whose claim on this
    /// occurrence (job, scheduled time) lands runs it, the others plan the next one.
    fn claim_then_run(
        &mut self,
        id: String,
        trigger: &'static str,
        due_ms: i64,
        ctx: &mut Context<Self>,
    ) {
        let (Some(cluster), Some(store)) = (self.rt.cluster(), self.rt.store.cluster()) else {
            return;
        };
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        // Not picked again while the claim is out.
        job.state.running_at_ms = Some(self.clock.now_ms());
        let claim = store.claim_run(&cluster.me, &id, due_ms);
        ctx.spawn(claim.into_actor(self).map(move |res, act, ctx| {
            let Some(job) = act.jobs.get_mut(&id) else {
                return;
            };
            job.state.running_at_ms = None;
            match res {
                Ok(true) => {
                    act.claimed.insert(id.clone(), due_ms);
                    act.start_run(&id, trigger, ctx)
                }
                Ok(false) => {
                    if let Some(cluster) = act.rt.cluster() {
                        cluster
                            .counters
                            .runs_claimed_elsewhere
                            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    tracing::debug!(job = %id, due_ms, "another instance runs this occurrence");
                    let mut job = job.clone();
                    act.plan(&mut job, due_ms);
                    act.jobs.insert(id, job);
                }
                Err(e) => {
                    tracing::warn!(job = %id, error = %e, "could not claim a scheduled run; trying again at the next tick")
                }
            }
        }));
    }

    /// In a cluster: takes in the jobs other instances added, changed or removed (a job
    /// running here keeps its state; one added here moments ago may not be stored yet), and
    /// runs the claimed occurrences a dead instance did not finish.
    fn refresh(&mut self, ctx: &mut Context<Self>) {
        if let (Some(cluster), Some(store)) = (self.rt.cluster(), self.rt.store.cluster())
            && cluster.alive()
        {
            let orphans = store.orphan_runs(&cluster.me, cluster.ttl_ms());
            ctx.spawn(orphans.into_actor(self).map(|res, act, ctx| match res {
                Ok(runs) => {
                    act.orphans.extend(runs);
                    act.run_orphans(ctx);
                }
                Err(e) => tracing::warn!(error = %e, "cannot look for unfinished scheduled runs"),
            }));
        }
        let store = self.rt.store.clone();
        ctx.spawn(
            actix::fut::wrap_future::<_, Self>(async move { store.jobs().await }).map(
                |res, act, _| match res {
                    Ok(rows) => act.merge(rows),
                    Err(e) => tracing::warn!(error = %e, "cannot read the shared scheduled jobs"),
                },
            ),
        );
    }

    /// Runs the occurrences taken over from dead instances whose jobs are free now.
    fn run_orphans(&mut self, ctx: &mut Context<Self>) {
        let waiting = std::mem::take(&mut self.orphans);
        for (id, due_ms) in waiting {
            match self.jobs.get(&id).map(|j| j.state.running_at_ms.is_some()) {
                Some(false) => {
                    tracing::info!(job = %id, due_ms, "running a scheduled occurrence a silent instance left unfinished");
                    self.claimed.insert(id.clone(), due_ms);
                    self.start_run(&id, "missed", ctx);
                }
                // Running here now (another occurrence): this one waits for the next tick.
                Some(true) => self.orphans.push((id, due_ms)),
                // The job is gone: nothing to run, the claim is settled.
                None => {
                    if let Some(store) = self.rt.store.cluster() {
                        let done = store.finish_run(&id, due_ms);
                        actix_rt::spawn(async move {
                            let _ = done.await;
                        });
                    }
                }
            }
        }
    }

    fn merge(&mut self, rows: Vec<String>) {
        let now = self.clock.now_ms();
        let mut stored = HashSet::new();
        for row in rows {
            let Ok(mut job) = serde_json::from_str::<Job>(&row) else {
                continue;
            };
            stored.insert(job.id.clone());
            if self
                .jobs
                .get(&job.id)
                .is_some_and(|j| j.state.running_at_ms.is_some())
            {
                continue;
            }
            job.state.running_at_ms = None;
            if job.enabled && job.state.next_run_at_ms.is_none() {
                self.plan(&mut job, now);
            }
            self.jobs.insert(job.id.clone(), job);
        }
        self.jobs.retain(|id, j| {
            stored.contains(id)
                || j.state.running_at_ms.is_some()
                || now - j.created_at_ms < FRESH_JOB_MS
        });
    }

    fn start_run(&mut self, id: &str, trigger: &'static str, ctx: &mut Context<Self>) {
        let now = self.clock.now_ms();
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        let late_ms = match (trigger, job.state.next_run_at_ms) {
            ("manual", _) | (_, None) => 0,
            (_, Some(due)) => now.saturating_sub(due).max(0) as u64,
        };
        job.state.running_at_ms = Some(now);
        self.last_start.insert(job.owner.tenant(), now);
        let job = job.clone();
        self.save(&job);
        let (Some(http), rt) = (self.http.clone(), Arc::clone(&self.rt)) else {
            return;
        };
        let me = ctx.address();
        let fence = self
            .claimed
            .contains_key(&job.id)
            .then(|| rt.cluster().map(|c| c.generation()))
            .flatten();
        // Detached from the actor: a restart of the scheduler does not cancel a run.
        actix_rt::spawn(async move {
            let result = crate::supervise::catch(run::run_job(
                rt,
                http,
                job.clone(),
                trigger,
                now,
                late_ms,
                fence,
            ))
            .await;
            let finished = match result {
                Ok(r) => RunFinished {
                    record: r.record,
                    error_kind: r.error_kind,
                },
                Err(p) => RunFinished {
                    record: RunRecord {
                        job_id: job.id.clone(),
                        run_at_ms: now,
                        duration_ms: 0,
                        status: RunStatus::Error,
                        trigger: trigger.to_owned(),
                        late_ms,
                        error: Some(p.to_string()),
                        summary: String::new(),
                        delivery_status: crate::cron::DeliveryStatus::NotDelivered,
                        delivery_error: None,
                        session_id: String::new(),
                    },
                    error_kind: Some("server_error"),
                },
            };
            me.do_send(finished);
        });
    }

    fn finish(&mut self, msg: RunFinished) {
        let RunFinished { record, error_kind } = msg;
        if error_kind == Some(run::FENCED) {
            // Another instance holds the occurrence now: no record, no done mark from here.
            self.claimed.remove(&record.job_id);
            for waiter in self.waiters.remove(&record.job_id).unwrap_or_default() {
                let _ = waiter.send(record.clone());
            }
            if let Some(mut job) = self.jobs.remove(&record.job_id) {
                job.state.running_at_ms = None;
                self.plan(&mut job, self.clock.now_ms());
                self.jobs.insert(job.id.clone(), job);
            }
            return;
        }
        if let (Some(due_ms), Some(store)) =
            (self.claimed.remove(&record.job_id), self.rt.store.cluster())
        {
            let done = store.finish_run(&record.job_id, due_ms);
            actix_rt::spawn(async move {
                if let Err(e) = done.await {
                    tracing::warn!(error = %e, "could not mark a scheduled run finished; another instance may run it again");
                }
            });
        }
        let now = self.clock.now_ms();
        let cron = self.rt.config().cron.clone();
        self.rt.store.write(vec![WriteOp::Run {
            job_id: record.job_id.clone(),
            run_at_ms: record.run_at_ms,
            json: serde_json::to_string(&record).unwrap_or_default(),
            keep: cron.run_log_keep,
        }]);
        for waiter in self.waiters.remove(&record.job_id).unwrap_or_default() {
            let _ = waiter.send(record.clone());
        }
        // The run is on record; a crash from here on loses only the state update, which the
        // restart repairs.
        check(FaultPoint::SchedulerFinish, &record.job_id);
        let Some(mut job) = self.jobs.remove(&record.job_id) else {
            return; // removed while it ran
        };
        let ok = record.status == RunStatus::Ok;
        crate::telemetry::cron_run(if ok { "ok" } else { "error" });
        let s = &mut job.state;
        s.running_at_ms = None;
        s.last_run_at_ms = Some(record.run_at_ms);
        s.last_run_status = Some(record.status);
        s.last_duration_ms = Some(record.duration_ms);
        s.last_delivery_status = Some(record.delivery_status);
        s.last_error = record.error.clone().or(record.delivery_error.clone());
        s.consecutive_errors = if ok { 0 } else { s.consecutive_errors + 1 };
        let one_shot = matches!(job.schedule, Schedule::At { .. });
        if one_shot {
            if ok {
                job.state.attempts = 0;
                if job.delete_after_run {
                    self.rt
                        .store
                        .write(vec![WriteOp::DeleteJob { id: job.id.clone() }]);
                    return;
                }
                job.enabled = false;
                job.state.next_run_at_ms = None;
            } else {
                job.state.attempts += 1;
                let retry = error_kind.is_some_and(|k| cron.retry_on.iter().any(|r| r == k))
                    && job.state.attempts < cron.retry_max_attempts;
                if retry {
                    let i = (job.state.attempts as usize - 1)
                        .min(cron.retry_backoff_ms.len().saturating_sub(1));
                    let wait = cron.retry_backoff_ms.get(i).copied().unwrap_or(60_000) as i64;
                    job.state.next_run_at_ms = Some(now + wait);
                } else {
                    job.enabled = false;
                    job.state.next_run_at_ms = None;
                }
            }
        } else {
            self.plan(&mut job, now.max(record.run_at_ms));
            if !ok && let Some(next) = job.state.next_run_at_ms {
                let i = (job.state.consecutive_errors as usize - 1).min(ERROR_BACKOFF_MS.len() - 1);
                job.state.next_run_at_ms = Some(next.max(now + ERROR_BACKOFF_MS[i]));
            }
        }
        self.save(&job);
        self.jobs.insert(job.id.clone(), job);
    }

    // -- requests ------------------------------------------------------------------------

    fn check_delivery(&self, job: &Job) -> Result<(), CronError> {
        let config = self.rt.config();
        check_delivery(
            &job.delivery,
            &config.cron.webhook_allow_hosts,
            &config.cron.dingtalk_webhook_base,
        )
        .map(drop)
    }

    fn ready(&self) -> Result<(), CronError> {
        if !self.rt.config().cron.enabled {
            return Err(CronError::Disabled);
        }
        if !self.loaded {
            return Err(CronError::Unavailable("still loading jobs".to_owned()));
        }
        Ok(())
    }

    fn add(&mut self, msg: AddJob) -> Result<Job, CronError> {
        self.ready()?;
        let config = self.rt.config();
        if config.agents.get(&msg.agent_id).is_none() {
            return Err(CronError::BadJob(format!("no agent \"{}\"", msg.agent_id)));
        }
        msg.spec
            .schedule
            .validate(config.agents.timezone(), self.clock.now_ms())?;
        let mine = self
            .jobs
            .values()
            .filter(|j| j.owner.same_conversation(&msg.owner))
            .count();
        if mine >= config.cron.max_jobs_per_conversation as usize {
            return Err(CronError::BadJob(format!(
                "this conversation already has {mine} scheduled tasks (the limit); remove one first"
            )));
        }
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let now = self.clock.now_ms();
        let mut job = Job::new(id, &msg.agent_id, msg.spec, msg.owner, now);
        self.check_delivery(&job)?;
        self.plan(&mut job, now);
        self.save(&job);
        tracing::info!(job = %job.id, agent = %job.agent_id, schedule = %job.schedule.describe(config.agents.timezone()), "scheduled task added");
        self.jobs.insert(job.id.clone(), job.clone());
        Ok(job)
    }

    fn find(&self, id: &str, by: &Caller) -> Result<&Job, CronError> {
        let job = self
            .jobs
            .get(id.trim())
            .ok_or_else(|| CronError::NotFound(id.to_owned()))?;
        if !by.may_touch(job) {
            return Err(CronError::Forbidden(id.to_owned()));
        }
        Ok(job)
    }

    fn update(&mut self, msg: UpdateJob) -> Result<Job, CronError> {
        self.ready()?;
        let now = self.clock.now_ms();
        let old = self.find(&msg.id, &msg.by)?;
        let old_schedule = old.schedule.clone();
        let mut job = old.patched(&msg.patch, now)?;
        // Only a new schedule is checked: renaming a one-shot job whose time has passed is
        // not an error.
        if job.schedule != old_schedule {
            job.schedule.validate(&self.default_tz(), now)?;
        }
        self.check_delivery(&job)?;
        if job.state.running_at_ms.is_none() {
            job.state.attempts = 0;
            self.plan(&mut job, now);
        }
        self.save(&job);
        self.jobs.insert(job.id.clone(), job.clone());
        Ok(job)
    }

    fn run_now(&mut self, msg: RunJob, ctx: &mut Context<Self>) -> Result<Job, CronError> {
        self.ready()?;
        let job = self.find(&msg.id, &msg.by)?.clone();
        if let Some(done) = msg.done {
            self.waiters.entry(job.id.clone()).or_default().push(done);
        }
        // Already running: the caller waits for that run.
        if job.state.running_at_ms.is_none() {
            self.start_run(&job.id, "manual", ctx);
        }
        Ok(job)
    }

    fn remove(&mut self, msg: RemoveJob) -> Result<Job, CronError> {
        self.ready()?;
        let id = self.find(&msg.id, &msg.by)?.id.clone();
        self.rt
            .store
            .write(vec![WriteOp::DeleteJob { id: id.clone() }]);
        tracing::info!(job = %id, "scheduled task removed");
        self.jobs.remove(&id).ok_or(CronError::NotFound(id))
    }
}

fn restarted() -> CronError {
    CronError::Unavailable("the scheduler crashed on this request and restarted".to_owned())
}

impl Actor for SchedulerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(0);
        if self.http.is_none() {
            self.http = Some(crate::tls::client(Duration::from_secs(30)));
        }
        if !self.loaded {
            self.load(ctx);
        }
        ctx.run_interval(self.tick, |act, ctx| {
            guard(act, ctx, ActorKind::Scheduler, "scheduler", |act, ctx| {
                act.tick(ctx)
            });
        });
        if self.rt.cluster().is_some() {
            ctx.run_interval(CLUSTER_REFRESH, |act, ctx| {
                if act.loaded {
                    act.refresh(ctx);
                }
            });
        }
    }
}

impl Supervised for SchedulerActor {
    fn restarting(&mut self, ctx: &mut Self::Context) {
        let plan = self.restarts.record(ActorKind::Scheduler);
        // The end of a run may be what crashed: no job may stay "running" for ever. A run
        // still in flight reports to the restarted actor as usual.
        let now = self.clock.now_ms();
        let stuck: Vec<String> = self
            .jobs
            .values()
            .filter(|j| j.state.running_at_ms.is_some())
            .map(|j| j.id.clone())
            .collect();
        for id in stuck {
            if let Some(mut job) = self.jobs.remove(&id) {
                job.state.running_at_ms = None;
                self.plan(&mut job, now);
                self.save(&job);
                self.jobs.insert(id, job);
            }
        }
        resume_after(ctx, plan.backoff, |_: &mut Self, _| {});
    }
}

impl Handler<AddJob> for SchedulerActor {
    type Result = Result<Job, CronError>;

    fn handle(&mut self, msg: AddJob, ctx: &mut Self::Context) -> Self::Result {
        guard(self, ctx, ActorKind::Scheduler, "scheduler", |act, _| {
            act.add(msg)
        })
        .unwrap_or_else(|| Err(restarted()))
    }
}

impl Handler<UpdateJob> for SchedulerActor {
    type Result = Result<Job, CronError>;

    fn handle(&mut self, msg: UpdateJob, ctx: &mut Self::Context) -> Self::Result {
        guard(self, ctx, ActorKind::Scheduler, "scheduler", |act, _| {
            act.update(msg)
        })
        .unwrap_or_else(|| Err(restarted()))
    }
}

impl Handler<RemoveJob> for SchedulerActor {
    type Result = Result<Job, CronError>;

    fn handle(&mut self, msg: RemoveJob, ctx: &mut Self::Context) -> Self::Result {
        guard(self, ctx, ActorKind::Scheduler, "scheduler", |act, _| {
            act.remove(msg)
        })
        .unwrap_or_else(|| Err(restarted()))
    }
}

impl Handler<ListJobs> for SchedulerActor {
    type Result = MessageResult<ListJobs>;

    fn handle(&mut self, msg: ListJobs, _: &mut Self::Context) -> Self::Result {
        let mut jobs: Vec<Job> = self
            .jobs
            .values()
            .filter(|j| msg.by.may_touch(j) && (msg.include_disabled || j.enabled))
            .cloned()
            .collect();
        jobs.sort_by_key(|j| (j.state.next_run_at_ms.unwrap_or(i64::MAX), j.created_at_ms));
        MessageResult(jobs)
    }
}

impl Handler<RunJob> for SchedulerActor {
    type Result = Result<Job, CronError>;

    fn handle(&mut self, msg: RunJob, ctx: &mut Self::Context) -> Self::Result {
        guard(self, ctx, ActorKind::Scheduler, "scheduler", |act, ctx| {
            act.run_now(msg, ctx)
        })
        .unwrap_or_else(|| Err(restarted()))
    }
}

impl Handler<JobRuns> for SchedulerActor {
    type Result = ResponseFuture<Result<Vec<RunRecord>, CronError>>;

    fn handle(&mut self, msg: JobRuns, _: &mut Self::Context) -> Self::Result {
        let found = self.find(&msg.id, &msg.by).map(|j| j.id.clone());
        let store = self.rt.store.clone();
        Box::pin(async move {
            let id = found?;
            let rows = store
                .runs(&id, msg.limit.max(1))
                .await
                .map_err(|e| CronError::Unavailable(e.to_string()))?;
            Ok(rows
                .iter()
                .filter_map(|r| serde_json::from_str(r).ok())
                .collect())
        })
    }
}

impl Handler<RunFinished> for SchedulerActor {
    type Result = ();

    fn handle(&mut self, msg: RunFinished, ctx: &mut Self::Context) {
        guard(self, ctx, ActorKind::Scheduler, "scheduler", |act, ctx| {
            act.finish(msg);
            // The freed slot goes to the next due run now, not at the next tick: waiting for
            // the tick capped the scheduler at one run a tick.
            act.tick(ctx);
        });
    }
}
