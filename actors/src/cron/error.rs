//! What can go wrong with a scheduled task. The tool hands these messages to the model, which
//! tells the user; the command line and the web page show them to the operator.

/// Why a scheduled task could not be made, changed or run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    /// The schedule cannot be read or never fires.
    #[error("invalid schedule: {0}")]
    BadSchedule(String),
    /// The job is not valid (no text, a bad delivery...).
    #[error("invalid job: {0}")]
    BadJob(String),
    /// No job of that id.
    #[error("no job \"{0}\"")]
    NotFound(String),
    /// Only the conversation that created a job (or an operator) may change or run it.
    #[error("job \"{0}\" belongs to another conversation")]
    Forbidden(String),
    #[error(
        "webhook host \"{host}\" is not allowed (cron.webhookAllowHosts: {allowed}); use a DingTalk group robot address https://oapi.dingtalk.com/robot/send?access_token=..."
    )]
    /// A webhook to a host the operator has not allowed.
    HostNotAllowed {
        /// The host asked for.
        host: String,
        /// The hosts allowed (`cron.webhookAllowHosts`).
        allowed: String,
    },
    /// The webhook address cannot be used.
    #[error("invalid webhook: {0}")]
    BadWebhook(String),
    /// `cron.enabled` is false.
    #[error("scheduled tasks are turned off on this gateway (cron.enabled: false)")]
    Disabled,
    /// The scheduler is not running.
    #[error("the scheduler is not running: {0}")]
    Unavailable(String),
}
