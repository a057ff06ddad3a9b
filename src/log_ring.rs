//! The newest log lines in memory, for the web page's Logs tab: a tracing layer beside the
//! one that writes stderr, keeping the last `CAPACITY` lines as they were logged (level,
//! target, message and fields). Lines hold no secret, as the log itself holds none; robot
//! webhook tokens a user pasted are masked again on the way in, as everywhere operators look.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};

use dingclaw_actors::dingtalk::redact::redact_text;
use serde::Serialize;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// Lines kept.
pub const CAPACITY: usize = 2000;

/// One log line.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// Increasing from 1, so the page asks only for what is new.
    pub seq: u64,
    pub at_ms: i64,
    pub level: &'static str,
    pub target: String,
    /// The message, then the fields as `name=value`.
    pub text: String,
}

/// The lines, newest last.
pub struct LogRing {
    lines: Mutex<VecDeque<LogLine>>,
    next: AtomicU64,
}

/// The process' ring, filled by `RingLayer`.
pub static RING: LazyLock<LogRing> = LazyLock::new(|| LogRing {
    lines: Mutex::new(VecDeque::with_capacity(CAPACITY)),
    next: AtomicU64::new(1),
});

fn rank(level: &str) -> u8 {
    match level {
        "ERROR" => 5,
        "WARN" => 4,
        "INFO" => 3,
        "DEBUG" => 2,
        _ => 1,
    }
}

impl LogRing {
    fn push(&self, level: &'static str, target: &str, text: String) {
        let line = LogLine {
            seq: self.next.fetch_add(1, Ordering::Relaxed),
            at_ms: chrono::Utc::now().timestamp_millis(),
            level,
            target: target.to_owned(),
            text: redact_text(&text).into_owned(),
        };
        let mut lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        if lines.len() == CAPACITY {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// Lines after `after` at `min_level` or above whose text or target contains `search`
    /// (any case), the newest `limit` of them, oldest first.
    pub fn query(&self, min_level: &str, search: &str, after: u64, limit: usize) -> Vec<LogLine> {
        let min = rank(&min_level.to_ascii_uppercase());
        let search = search.to_lowercase();
        let lines = self.lines.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<LogLine> = lines
            .iter()
            .rev()
            .filter(|l| l.seq > after && rank(l.level) >= min)
            .filter(|l| {
                search.is_empty()
                    || l.text.to_lowercase().contains(&search)
                    || l.target.to_lowercase().contains(&search)
            })
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }
}

/// Collects an event's message and fields into one line.
struct Line(String, String);

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.1, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.1, " {}={value}", field.name());
        }
    }
}

/// The layer that fills `RING`.
pub struct RingLayer;

impl<S: Subscriber> Layer<S> for RingLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = match *meta.level() {
            Level::ERROR => "ERROR",
            Level::WARN => "WARN",
            Level::INFO => "INFO",
            Level::DEBUG => "DEBUG",
            Level::TRACE => "TRACE",
        };
        let mut line = Line(String::new(), String::new());
        event.record(&mut line);
        RING.push(level, meta.target(), line.0 + &line.1);
    }
}

/// For processes that log nowhere else (tests, embedders): only the ring, at `info`.
pub fn install_ring_only() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(RingLayer)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_filter_by_level_search_and_position() {
        let ring = LogRing {
            lines: Mutex::new(VecDeque::new()),
            next: AtomicU64::new(1),
        };
        ring.push(
            "INFO",
            "dingclaw",
            "connected to DingTalk account=bot1".into(),
        );
        ring.push("WARN", "dingclaw", "connection lost account=bot2".into());
        ring.push(
            "ERROR",
            "dingclaw",
            "send failed https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789".into(),
        );
        assert_eq!(ring.query("warn", "", 0, 10).len(), 2);
        assert_eq!(ring.query("info", "BOT2", 0, 10)[0].seq, 2);
        assert_eq!(ring.query("info", "", 2, 10).len(), 1);
        assert!(
            !ring.query("error", "", 0, 10)[0]
                .text
                .contains("abcdef0123456789")
        );
    }
}
