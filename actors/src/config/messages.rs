//! `messages.queue`: what a message does when its session is already answering
//! (docs/openclaw-routing.md 4.2). The rest of `messages` is OpenClaw-only.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::issue::{ConfigPath, Diagnostics};

/// Messages waiting per session (OpenClaw's default cap).
pub const DEFAULT_QUEUE_CAP: usize = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessagesSection {
    pub queue: Option<QueueEntry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QueueEntry {
    /// `followup` (default in dingclaw): each message is its own turn, in order. `collect`:
    /// messages that arrived during a turn become one next turn. OpenClaw's `steer` and
    /// `interrupt` are accepted and behave as `followup` (dingclaw cannot steer a running call).
    pub mode: Option<QueueModeEntry>,
    /// Messages waiting per session (default 20). Past the cap, dingclaw does not drop
    /// silently: the new message gets a short "busy" reply.
    pub cap: Option<usize>,
    /// Mode per channel.
    pub by_channel: Option<IndexMap<String, QueueModeEntry>>,
}

/// Queue modes as OpenClaw spells them, aliases included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QueueModeEntry {
    Followup,
    Collect,
    Steer,
    #[serde(alias = "steer+backlog")]
    SteerBacklog,
    Interrupt,
    Queue,
    Queued,
    Abort,
    Coalesce,
}

/// What dingclaw does with messages that arrive during a turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueMode {
    /// Each message is its own turn, in order.
    #[default]
    Followup,
    /// Messages that came during a turn become one next turn.
    Collect,
}

/// `messages.queue`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueConfig {
    /// `mode`.
    pub mode: QueueMode,
    /// `cap`: messages waiting per session.
    pub cap: usize,
    /// `byChannel`: the mode per channel.
    pub by_channel: IndexMap<String, QueueMode>,
}

impl QueueConfig {
    /// The mode for a channel.
    pub fn mode_for(&self, channel: &str) -> QueueMode {
        self.by_channel.get(channel).copied().unwrap_or(self.mode)
    }
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            mode: QueueMode::Followup,
            cap: DEFAULT_QUEUE_CAP,
            by_channel: IndexMap::new(),
        }
    }
}

fn mode(entry: QueueModeEntry, at: ConfigPath, diags: &mut Diagnostics) -> QueueMode {
    match entry {
        QueueModeEntry::Followup => QueueMode::Followup,
        QueueModeEntry::Collect | QueueModeEntry::Coalesce => QueueMode::Collect,
        other => {
            diags.warn(
                at,
                format!("{other:?} is handled as \"followup\": dingclaw cannot steer or interrupt a running model call"),
            );
            QueueMode::Followup
        }
    }
}

pub(crate) fn build_queue(
    section: Option<&MessagesSection>,
    diags: &mut Diagnostics,
) -> QueueConfig {
    let Some(q) = section.and_then(|m| m.queue.as_ref()) else {
        return QueueConfig::default();
    };
    let at = ConfigPath::root().key("messages").key("queue");
    if q.cap == Some(0) {
        diags.error(at.key("cap"), "must be at least 1");
    }
    QueueConfig {
        mode: q
            .mode
            .map(|m| mode(m, at.key("mode"), diags))
            .unwrap_or_default(),
        cap: q.cap.unwrap_or(DEFAULT_QUEUE_CAP).max(1),
        by_channel: q
            .by_channel
            .iter()
            .flatten()
            .map(|(ch, m)| {
                (
                    ch.trim().to_lowercase(),
                    mode(*m, at.key("byChannel").key(ch), diags),
                )
            })
            .collect(),
    }
}
