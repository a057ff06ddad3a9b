//! One run of a job: the agent answers the job's message in the job's own session
//! (`agent:<agentId>:cron:<jobId>`, a fresh session id each run, as OpenClaw's isolated
//! runs), the exchange is stored, and the answer is delivered. The run never touches the
//! scheduler's state; it reports a `RunRecord`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::actors::agent::{RunTurn, TurnError};
use crate::actors::router::ReplyTo;
use crate::actors::runtime::{Runtime, lane_of};
use crate::config::Secret;
use crate::cron::{Delivery, DeliveryStatus, Job, RunRecord, RunStatus, Webhook, check_delivery};
use crate::dingtalk::{OutboundMessage, ReplyTarget, RobotWebhook, send_robot};
use crate::provider::{ChatMessage, ProviderError};
use crate::routing::{ChatType, SessionKey};
use crate::store::{Role, SessionMeta, TranscriptEntry, WriteOp};
use crate::tools::ToolContext;

/// The channel recorded for cron sessions.
pub const CRON_CHANNEL: &str = "cron";

/// Characters of the answer kept in the run log.
const SUMMARY_CHARS: usize = 500;

/// Deadline of a non-DingTalk webhook delivery (OpenClaw's).
const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// How a run went, for the scheduler.
pub struct RunResult {
    pub record: RunRecord,
    /// OpenClaw's kind of a failed turn (`rate_limit`, `overloaded`, `network`, `timeout`,
    /// `server_error`), matched against `cron.retry.retryOn`.
    pub error_kind: Option<&'static str>,
}

/// `RunResult::error_kind` of a run not delivered because this instance's claim on it
/// lapsed (it was paused or cut off; another instance runs the occurrence).
pub const FENCED: &str = "fenced";

/// Runs `job` once. `now_ms` is the scheduler clock's time of the run, `late_ms` how long
/// after its scheduled time it started. `fence`: in a cluster, the lease generation the run
/// was claimed in; it is not delivered if that generation has ended.
pub async fn run_job(
    rt: Arc<Runtime>,
    http: awc::Client,
    job: Job,
    trigger: &'static str,
    now_ms: i64,
    late_ms: u64,
    fence: Option<u64>,
) -> RunResult {
    let started = Instant::now();
    let session_id = uuid::Uuid::new_v4().to_string();
    let mut record = RunRecord {
        job_id: job.id.clone(),
        run_at_ms: now_ms,
        duration_ms: 0,
        status: RunStatus::Ok,
        trigger: trigger.to_owned(),
        late_ms,
        error: None,
        summary: String::new(),
        delivery_status: DeliveryStatus::NotRequested,
        delivery_error: None,
        session_id: session_id.clone(),
    };
    let mut error_kind = None;
    match turn(&rt, &job).await {
        Ok(_)
            if fence.is_some_and(|generation| {
                rt.cluster()
                    .is_some_and(|c| c.generation() != generation || !c.alive())
            }) =>
        {
            tracing::warn!(job = %job.id, "not delivering a scheduled run: this instance's claim lapsed (another instance runs it)");
            record.status = RunStatus::Error;
            record.error =
                Some("not delivered: this instance's claim on the run lapsed".to_owned());
            return RunResult {
                record,
                error_kind: Some(FENCED),
            };
        }
        Ok(out) => {
            store_exchange(&rt, &job, &session_id, now_ms, &out.text, out.usage);
            record.summary = out.text.chars().take(SUMMARY_CHARS).collect();
            match deliver(&rt, &http, &job, &out.text, &record).await {
                Ok(true) => record.delivery_status = DeliveryStatus::Delivered,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(job = %job.id, error = %e, "scheduled task ran but its result was not delivered");
                    record.delivery_status = DeliveryStatus::NotDelivered;
                    record.delivery_error = Some(e);
                    record.status = RunStatus::Error;
                }
            }
        }
        Err(e) => {
            error_kind = kind(&e);
            tracing::warn!(job = %job.id, error = %e, "scheduled task failed");
            record.status = RunStatus::Error;
            record.error = Some(e.to_string());
        }
    }
    record.duration_ms = started.elapsed().as_millis() as u64;
    RunResult { record, error_kind }
}

/// The agent's answer to the job's message.
async fn turn(rt: &Arc<Runtime>, job: &Job) -> Result<crate::actors::agent::TurnOutput, TurnError> {
    let config = rt.config();
    let lane = &rt.lanes[lane_of(&job.session_key, rt.lanes.len())];
    let agent = lane.agent(&job.agent_id).ok_or_else(|| {
        TurnError::Provider(ProviderError::NotConfigured {
            provider: format!("agent {}", job.agent_id),
        })
    })?;
    let destination = match &job.delivery {
        Delivery::None => "kept in the task's log",
        Delivery::Announce => "posted in the chat that created the task",
        Delivery::Webhook { .. } => "posted to a DingTalk group by its robot",
    };
    let extra_system = format!(
        "This is a run of the scheduled task \"{}\". Do what the message asks and answer with \
         the result only; your answer is {destination}.",
        job.name
    );
    let context = ToolContext {
        agent_id: job.agent_id.clone(),
        session_key: job.session_key.clone(),
        channel: job.owner.channel.clone(),
        account: job.owner.account.clone(),
        chat: if job.owner.chat == "group" {
            ChatType::Group
        } else {
            ChatType::Direct
        },
        conversation_id: job.owner.conversation_id.clone(),
        sender_id: job.owner.sender_id.clone(),
        timezone: config.agents.timezone().to_owned(),
        job: Some(job.id.clone()),
        // A task runs with its creator's rights.
        owner: crate::tools::sender_is_owner(&config, &job.owner.channel, &job.owner.sender_id),
        workspace: config
            .agents
            .get(&job.agent_id)
            .map(|a| a.workspace.clone())
            .unwrap_or_default(),
        read_roots: Arc::default(),
        config: Arc::clone(&config),
    };
    agent
        .send(RunTurn {
            session_key: SessionKey::new(job.session_key.as_str()),
            history: vec![ChatMessage::user(job.payload.message())],
            extra_system: Some(extra_system),
            context,
            stream: None,
            notice: None,
            settings: Default::default(),
            stop: tokio_util::sync::CancellationToken::new(),
            compact: false,
        })
        .await
        .map_err(|e| TurnError::Crashed(e.to_string()))?
}

/// The `retryOn` kind of a failed turn; `None` for failures no retry would fix.
fn kind(e: &TurnError) -> Option<&'static str> {
    match e {
        TurnError::Crashed(_) => Some("server_error"),
        TurnError::Stopped => None,
        TurnError::Provider(p) => match p.kind() {
            "circuit_open" => Some("overloaded"),
            "protocol" => Some("server_error"),
            k @ ("rate_limit" | "overloaded" | "server_error" | "timeout" | "network") => Some(k),
            _ => None,
        },
    }
}

/// Keeps the run's exchange as a session of the job's key, for the web page and the log.
fn store_exchange(
    rt: &Runtime,
    job: &Job,
    session_id: &str,
    now_ms: i64,
    answer: &str,
    usage: crate::provider::Usage,
) {
    let entry = |seq: u64, role: Role, content: &str| WriteOp::Entry {
        session_id: session_id.to_owned(),
        entry: TranscriptEntry::message(seq, role, content.to_owned(), now_ms),
    };
    rt.store.write(vec![
        WriteOp::Session(SessionMeta {
            key: job.session_key.clone(),
            session_id: session_id.to_owned(),
            agent_id: job.agent_id.clone(),
            channel: CRON_CHANNEL.to_owned(),
            account: job.owner.account.clone(),
            chat: CRON_CHANNEL.to_owned(),
            conversation_id: job.id.clone(),
            created_ms: now_ms,
            updated_ms: now_ms,
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            settings: Default::default(),
            title: Some(job.name.clone()),
        }),
        entry(1, Role::User, job.payload.message()),
        entry(2, Role::Assistant, answer),
    ]);
}

/// Sends the answer where the job says. `Ok(false)`: nothing to deliver (`none`).
async fn deliver(
    rt: &Runtime,
    http: &awc::Client,
    job: &Job,
    answer: &str,
    record: &RunRecord,
) -> Result<bool, String> {
    let config = rt.config();
    let cron = &config.cron;
    let text = format!("**{}**\n\n{answer}", job.name);
    // Checked again: the allow-list may have changed since the job was saved.
    let webhook = check_delivery(
        &job.delivery,
        &cron.webhook_allow_hosts,
        &cron.dingtalk_webhook_base,
    )
    .map_err(|e| e.to_string())?;
    match (&job.delivery, webhook) {
        (Delivery::None, _) => Ok(false),
        (Delivery::Announce, _) => {
            let owner = &job.owner;
            let reply = ReplyTo::DingTalk {
                account: Arc::from(owner.account.as_str()),
                // No sessionWebhook: a scheduled message goes through the robot OpenAPI.
                target: ReplyTarget {
                    chat: if owner.chat == "group" {
                        ChatType::Group
                    } else {
                        ChatType::Direct
                    },
                    conversation_id: owner.conversation_id.clone(),
                    sender_staff_id: Some(owner.sender_id.clone()),
                    session_webhook: String::new(),
                    webhook_expires_at_ms: None,
                    mentions: Vec::new(),
                },
                lease: None,
            };
            rt.send_reply(&reply, OutboundMessage::markdown(text))
                .await
                .map(|_| true)
                .map_err(|e| e.to_string())
        }
        (Delivery::Webhook { .. }, Some(Webhook::Robot { url, secret })) => {
            let hook = RobotWebhook {
                url: Secret::new(url),
                secret: secret.map(Secret::new),
            };
            send_robot(
                http,
                &rt.robot_limiter,
                &hook,
                &OutboundMessage::markdown(text),
            )
            .await
            .map(|_| true)
            .map_err(|e| e.to_string())
        }
        (Delivery::Webhook { .. }, Some(Webhook::Other { url })) => {
            // The address is checked by what its name resolves to, like web_fetch: a listed
            // name that points into the private network is refused unless its address is
            // listed too.
            let policy = crate::config::SsrfPolicy {
                allowed_hostnames: cron
                    .webhook_allow_hosts
                    .iter()
                    .filter(|h| {
                        h.trim_matches(['[', ']'])
                            .parse::<std::net::IpAddr>()
                            .is_ok()
                    })
                    .cloned()
                    .collect(),
                ..crate::config::SsrfPolicy::default()
            };
            let parsed = url::Url::parse(&url).map_err(|e| e.to_string())?;
            crate::net::check_url(&policy, &parsed)
                .map_err(|e| format!("{e} (cron.webhookAllowHosts)"))?;
            let guarded = crate::net::guarded_client(&policy);
            post_event(
                &guarded,
                &url,
                cron.webhook_token.as_ref(),
                job,
                answer,
                record,
            )
            .await
        }
        (Delivery::Webhook { .. }, None) => Err("the webhook could not be checked".to_owned()),
    }
}

/// OpenClaw's cron event to a non-DingTalk webhook.
async fn post_event(
    http: &awc::Client,
    url: &str,
    token: Option<&Secret>,
    job: &Job,
    answer: &str,
    record: &RunRecord,
) -> Result<bool, String> {
    let event = json!({
        "jobId": job.id,
        "action": "finished",
        "runAtMs": record.run_at_ms,
        "status": "ok",
        "summary": answer,
        "sessionId": record.session_id,
        "sessionKey": job.session_key,
        "nextRunAtMs": job.state.next_run_at_ms,
    });
    let mut request = http.post(url).timeout(HOOK_TIMEOUT);
    if let Some(t) = token {
        // The bearer token would travel in clear text over http.
        if !url.starts_with("https://") {
            return Err(
                "cron.webhookToken is sent only over https, and this webhook address is http; nothing was sent"
                    .to_owned(),
            );
        }
        request = request.insert_header(("Authorization", format!("Bearer {}", t.expose())));
    }
    let resp = request.send_json(&event).await.map_err(|e| e.to_string())?;
    let status = resp.status();
    if status.is_success() {
        Ok(true)
    } else if status.is_redirection() {
        Err(format!(
            "the webhook answered with a redirect (HTTP {}); redirects are not followed, give the final address",
            status.as_u16()
        ))
    } else {
        Err(format!("the webhook answered HTTP {}", status.as_u16()))
    }
}
