//! `cron`: scheduled tasks (docs/openclaw-routing.md 1.12, 6).

use serde::{Deserialize, Serialize};

use super::environment::Environment;
use super::http_url::normalize_base_url;
use super::issue::{ConfigPath, Diagnostics};
use super::secret::{Secret, SecretInput, resolve_secret};
use super::substitute::Unresolved;

/// Hosts a scheduled task may post to unless `cron.webhookAllowHosts` says otherwise: only
/// DingTalk's custom robot host, so a chat message cannot make the gateway call anything else.
pub const DEFAULT_WEBHOOK_HOSTS: [&str; 1] = ["oapi.dingtalk.com"];

/// Where DingTalk's custom robot webhooks live.
pub const DEFAULT_DINGTALK_WEBHOOK_BASE: &str = "https://oapi.dingtalk.com";

/// OpenClaw's retry schedule for one-shot jobs.
pub const DEFAULT_RETRY_BACKOFF_MS: [u64; 3] = [30_000, 60_000, 300_000];

/// A run missed while the gateway was down still runs at start if it is at most this old.
pub const DEFAULT_MISSED_RUN_GRACE_SECS: u64 = 3600;

/// Runs kept per job in the run log (OpenClaw keeps 2000 lines).
pub const DEFAULT_RUN_LOG_KEEP: u32 = 2000;

/// Error kinds a one-shot job retries by default.
pub const DEFAULT_RETRY_ON: [&str; 5] = [
    "rate_limit",
    "overloaded",
    "network",
    "timeout",
    "server_error",
];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CronSection {
    /// `false` stops the scheduler; jobs stay stored.
    pub enabled: Option<bool>,
    /// Jobs running at once (default 1).
    pub max_concurrent_runs: Option<u32>,
    /// Bearer token sent with non-DingTalk webhook deliveries.
    pub webhook_token: Option<SecretInput>,
    pub retry: Option<RetryEntry>,
    /// Hosts webhook deliveries may reach (dingclaw); default `["oapi.dingtalk.com"]`.
    pub webhook_allow_hosts: Option<Vec<String>>,
    /// How old a missed run may be and still run at start (dingclaw).
    pub missed_run_grace_seconds: Option<u64>,
    /// Base URL that replaces `https://oapi.dingtalk.com` when delivering to DingTalk robot
    /// webhooks (dingclaw; the simulator, offline).
    pub dingtalk_webhook_base: Option<String>,
    /// Jobs one conversation may have (dingclaw; default 20).
    pub max_jobs_per_conversation: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RetryEntry {
    pub max_attempts: Option<u32>,
    pub backoff_ms: Option<Vec<u64>>,
    /// Error kinds retried: `rate_limit`, `overloaded`, `network`, `timeout`, `server_error`.
    pub retry_on: Option<Vec<String>>,
}

/// `cron`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CronConfig {
    /// `enabled`.
    pub enabled: bool,
    /// `maxConcurrentRuns`.
    pub max_concurrent_runs: u32,
    /// `webhookToken`: sent as `Authorization: Bearer` to webhooks (never shown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_token: Option<Secret>,
    /// `retry.maxAttempts` for one-shot jobs.
    pub retry_max_attempts: u32,
    /// `retry.backoffMs`.
    pub retry_backoff_ms: Vec<u64>,
    /// `retry.retryOn`: which errors are retried.
    pub retry_on: Vec<String>,
    /// Runs kept per job in the run log.
    pub run_log_keep: u32,
    /// `webhookAllowHosts`: hosts webhooks may go to besides DingTalk's robots.
    pub webhook_allow_hosts: Vec<String>,
    /// `missedRunGraceSeconds`: a run missed while down is made up if it is this recent.
    pub missed_run_grace_seconds: u64,
    /// `dingtalkWebhookBase`: DingTalk's robot host (tests point it at the simulator).
    pub dingtalk_webhook_base: String,
    /// `maxJobsPerConversation`.
    pub max_jobs_per_conversation: u32,
}

impl Default for CronConfig {
    fn default() -> Self {
        build_cron(
            None,
            &super::environment::MapEnv::new(),
            &Unresolved::new(),
            &mut Diagnostics::default(),
        )
    }
}

pub(crate) fn build_cron(
    section: Option<&CronSection>,
    env: &dyn Environment,
    unresolved: &Unresolved,
    diags: &mut Diagnostics,
) -> CronConfig {
    let empty = CronSection::default();
    let c = section.unwrap_or(&empty);
    let at = ConfigPath::root().key("cron");
    if c.max_concurrent_runs == Some(0) {
        diags.error(at.key("maxConcurrentRuns"), "must be at least 1");
    }
    let retry = c.retry.as_ref();
    CronConfig {
        enabled: c.enabled.unwrap_or(true),
        max_concurrent_runs: c.max_concurrent_runs.unwrap_or(1).max(1),
        webhook_token: c
            .webhook_token
            .as_ref()
            .map(|t| resolve_secret(t, &at.key("webhookToken"), env, unresolved).into_secret())
            .filter(|s| !s.is_empty()),
        retry_max_attempts: retry.and_then(|r| r.max_attempts).unwrap_or(3),
        retry_backoff_ms: retry
            .and_then(|r| r.backoff_ms.clone())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| DEFAULT_RETRY_BACKOFF_MS.to_vec()),
        retry_on: retry
            .and_then(|r| r.retry_on.clone())
            .unwrap_or_else(|| DEFAULT_RETRY_ON.iter().map(|k| (*k).to_owned()).collect()),
        run_log_keep: DEFAULT_RUN_LOG_KEEP,
        webhook_allow_hosts: c
            .webhook_allow_hosts
            .clone()
            .unwrap_or_else(|| {
                DEFAULT_WEBHOOK_HOSTS
                    .iter()
                    .map(|h| (*h).to_owned())
                    .collect()
            })
            .into_iter()
            .map(|h| h.trim().to_lowercase())
            .collect(),
        missed_run_grace_seconds: c
            .missed_run_grace_seconds
            .unwrap_or(DEFAULT_MISSED_RUN_GRACE_SECS),
        dingtalk_webhook_base: match &c.dingtalk_webhook_base {
            Some(base) => normalize_base_url(base).unwrap_or_else(|message| {
                diags.error(at.key("dingtalkWebhookBase"), message);
                DEFAULT_DINGTALK_WEBHOOK_BASE.to_owned()
            }),
            None => DEFAULT_DINGTALK_WEBHOOK_BASE.to_owned(),
        },
        max_jobs_per_conversation: c.max_jobs_per_conversation.unwrap_or(20).max(1),
    }
}
