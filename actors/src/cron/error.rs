//! What can go wrong with a scheduled task. The tool hands these messages to the model, which
//! tells the user; the command line and the web page show them to the operator.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CronError {
    #[error("invalid schedule: {0}")]
    BadSchedule(String),
    #[error("invalid job: {0}")]
    BadJob(String),
    #[error("no job \"{0}\"")]
    NotFound(String),
    /// Only the conversation that created a job (or an operator) may change or run it.
    #[error("job \"{0}\" belongs to another conversation")]
    Forbidden(String),
    #[error(
        "webhook host \"{host}\" is not allowed (cron.webhookAllowHosts: {allowed}); use a DingTalk group robot address https://oapi.dingtalk.com/robot/send?access_token=..."
    )]
    HostNotAllowed { host: String, allowed: String },
    #[error("invalid webhook: {0}")]
    BadWebhook(String),
    #[error("scheduled tasks are turned off on this gateway (cron.enabled: false)")]
    Disabled,
    #[error("the scheduler is not running: {0}")]
    Unavailable(String),
}
