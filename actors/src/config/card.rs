//! `card` (dingclaw) and `streaming` (the connector's code-only switch): how AI card replies
//! stream (docs/dingtalk-protocol.md 6). The connector hard-codes these; they are
//! settings here because the reference marks the card API's limits unverified.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::issue::{ConfigPath, Diagnostics};

/// The AI card template of the official Python SDK and openclaw-china: a markdown body whose
/// `msgContent` variable streams.
pub const DEFAULT_CARD_TEMPLATE: &str = "382e4302-551d-4880-bf29-a30acfab2e71.schema";
/// The variable that template streams into.
pub const DEFAULT_CARD_CONTENT_KEY: &str = "msgContent";

/// `card` in the channel or an account; an account's replaces the top level's as a whole.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CardEntry {
    /// Card template id; its streaming variable is `contentKey`.
    pub template_id: Option<String>,
    /// The template's streaming variable.
    pub content_key: Option<String>,
    /// Least time between two streaming updates of one card (default 800, at least 200).
    pub update_interval_ms: Option<u64>,
    /// How long a reply waits for the whole answer before it shows a card (default: the
    /// update interval; 0 shows a "processing" card at once, as the connectors do).
    pub hold_ms: Option<u64>,
    /// Card API calls per second for the whole account (default 20).
    pub qps: Option<u32>,
    /// Wait before the one retry of a call DingTalk throttled (default 2000).
    pub throttle_retry_ms: Option<u64>,
    /// After a card error, reply in markdown for this long (default 30 minutes).
    pub degrade_ms: Option<u64>,
}

/// The card settings in force for an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardSettings {
    /// `streaming: false` turns cards off: `aicard` replies go out as markdown.
    pub enabled: bool,
    /// The card template.
    pub template_id: String,
    /// Its streaming variable.
    pub content_key: String,
    /// `updateIntervalMs`: least time between two updates of one card.
    #[serde(with = "super::dingtalk::millis")]
    pub update_interval: Duration,
    /// `holdMs`: an answer complete within this time goes out as one finished card (one
    /// `createAndDeliver` call instead of three or more); a longer one opens its card then,
    /// already showing the text so far.
    #[serde(with = "super::dingtalk::millis")]
    pub hold: Duration,
    /// `qps`: card API calls a second for the account.
    pub qps: u32,
    /// `throttleRetryMs`: the wait before retrying a throttled call.
    #[serde(with = "super::dingtalk::millis")]
    pub throttle_retry: Duration,
    /// `degradeMs`: markdown replies for this long after a card error.
    #[serde(with = "super::dingtalk::millis")]
    pub degrade_for: Duration,
}

impl Default for CardSettings {
    fn default() -> Self {
        CardSettings::from_entry(true, &CardEntry::default())
    }
}

impl CardSettings {
    fn from_entry(enabled: bool, e: &CardEntry) -> Self {
        let ms = |v: Option<u64>, d: u64| Duration::from_millis(v.unwrap_or(d));
        let update_interval = ms(e.update_interval_ms, 800).max(Duration::from_millis(200));
        Self {
            enabled,
            template_id: e
                .template_id
                .clone()
                .unwrap_or_else(|| DEFAULT_CARD_TEMPLATE.to_owned()),
            content_key: e
                .content_key
                .clone()
                .unwrap_or_else(|| DEFAULT_CARD_CONTENT_KEY.to_owned()),
            update_interval,
            // The first streamed text would show one interval in anyway.
            hold: e.hold_ms.map_or(update_interval, Duration::from_millis),
            qps: e.qps.unwrap_or(20).max(1),
            throttle_retry: ms(e.throttle_retry_ms, 2_000),
            degrade_for: ms(e.degrade_ms, 30 * 60 * 1000),
        }
    }
}

/// Builds the settings of one account from its (inherited) `streaming` and `card` (`at`).
pub(crate) fn card_settings(
    streaming: Option<bool>,
    entry: &CardEntry,
    at: ConfigPath,
    diags: &mut Diagnostics,
) -> CardSettings {
    let enabled = streaming.unwrap_or(true);
    for (key, value) in [
        ("templateId", &entry.template_id),
        ("contentKey", &entry.content_key),
    ] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            diags.error(at.key(key), "must not be empty");
        }
    }
    if entry.qps == Some(0) {
        diags.error(at.key("qps"), "must be at least 1");
    }
    if entry.hold_ms.is_some_and(|v| v > 10_000) {
        diags.warn(
            at.key("holdMs"),
            "is over 10 s: users see nothing that long before a slow answer's card appears",
        );
    }
    if entry.update_interval_ms.is_some_and(|v| v < 200) {
        diags.warn(
            at.key("updateIntervalMs"),
            "is under 200 ms; 200 is used (DingTalk throttles faster card updates)",
        );
    }
    CardSettings::from_entry(enabled, entry)
}
