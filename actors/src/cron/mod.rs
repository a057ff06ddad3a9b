//! Scheduled tasks (docs/openclaw-routing.md 6): the job model in OpenClaw's shape, when
//! jobs run, where results may go, and the clock. No actors and no I/O here: the
//! `SchedulerActor` (`actors::scheduler`) runs jobs, the `cron` tool (`tools::cron`) creates
//! them from a chat.

mod clock;
mod delivery;
mod error;
mod job;
mod schedule;

pub use clock::{Clock, ManualClock, SystemClock};
pub use delivery::{DINGTALK_ROBOT_HOST, Webhook, check_delivery, check_webhook};
pub use error::CronError;
pub use job::{
    Delivery, DeliveryStatus, Job, JobSpec, JobState, Owner, Payload, RunRecord, RunStatus,
};
pub use schedule::{MIN_EVERY_MS, Schedule, parse_at, parse_tz};
