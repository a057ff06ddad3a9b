//! The inbound journal: every bot message the gateway accepted, written before its ACK and
//! marked done once its reply was delivered (or could not be). DingTalk does not redeliver a
//! message that was acknowledged, so this record is the only copy of a message whose turn a
//! crash interrupted; at start the runtime answers every row not done, in order.
//!
//! Done rows stay for a while after their reply, without their frame (dropped by the done
//! mark: nothing reads it again): their msgIds seed the duplicate filter of a restarted
//! gateway, so a redelivery that arrives after a restart is still recognised.

use std::sync::Arc;

/// One accepted bot message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// Arrival order across the gateway, given by the store (0 in a write).
    pub seq: u64,
    /// The account that received it.
    pub account: String,
    /// DingTalk's msgId: stable across redeliveries.
    pub msg_id: String,
    /// ms since the epoch.
    pub received_ms: i64,
    /// The callback's `data` exactly as it arrived (the bot message JSON); shared with the
    /// message in flight rather than copied.
    pub payload: Arc<str>,
}

/// A journal row's identity and age, for seeding duplicate filters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalId {
    /// The account that received it.
    pub account: String,
    /// DingTalk's msgId.
    pub msg_id: String,
    /// When it arrived (ms since the epoch).
    pub received_ms: i64,
}
