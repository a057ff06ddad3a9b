//! When a job runs (reference/openclaw-routing.md 6.2): once `at` an instant, `every` so many
//! milliseconds, or on a `cron` expression (5 fields, or 6 with seconds) in a time zone.
//! Expressions are parsed with `croner`: day-of-month and day-of-week match either (as Vixie
//! cron does), a time skipped by a daylight-saving change runs at the first valid time after
//! it, and a time that happens twice runs once.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use serde::{Deserialize, Serialize};

use super::error::CronError;

/// Shortest interval of an `every` schedule: a chat message must not be able to make the
/// gateway post to a group more than once a minute.
pub const MIN_EVERY_MS: u64 = 60_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Schedule {
    /// Once, at an ISO 8601 instant (UTC when it names no offset).
    At { at: String },
    /// Every `everyMs`, counted from `anchorMs` (default: when the job was created).
    #[serde(rename_all = "camelCase")]
    Every {
        every_ms: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        anchor_ms: Option<i64>,
    },
    /// A cron expression in `tz` (default: the user's time zone).
    #[serde(rename_all = "camelCase")]
    Cron {
        expr: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tz: Option<String>,
    },
}

/// An instant from an `at` value: RFC 3339 with an offset, or a date-time without one (UTC).
pub fn parse_at(at: &str) -> Result<i64, CronError> {
    let at = at.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(at) {
        return Ok(t.timestamp_millis());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(at, format) {
            return Ok(Utc.from_utc_datetime(&t).timestamp_millis());
        }
    }
    Err(CronError::BadSchedule(format!(
        "\"{at}\" is not an ISO 8601 date-time (e.g. 2026-11-24T09:00:00+08:00)"
    )))
}

/// An IANA time zone.
pub fn parse_tz(name: &str) -> Result<Tz, CronError> {
    name.trim()
        .parse()
        .map_err(|_| CronError::BadSchedule(format!("unknown time zone \"{name}\"")))
}

fn parse_expr(expr: &str) -> Result<Cron, CronError> {
    let fields = expr.split_whitespace().count();
    if !(5..=6).contains(&fields) && !expr.trim().starts_with('@') {
        return Err(CronError::BadSchedule(format!(
            "\"{expr}\" has {fields} fields; a cron expression has 5 (minute hour day month weekday) or 6 (with seconds first)"
        )));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| CronError::BadSchedule(format!("\"{expr}\": {e}")))
}

impl Schedule {
    /// Checks the schedule (expression, zone, instant, interval) without computing a run.
    pub fn validate(&self, default_tz: &str) -> Result<(), CronError> {
        match self {
            Schedule::At { at } => parse_at(at).map(drop),
            Schedule::Every { every_ms, .. } if *every_ms < MIN_EVERY_MS => {
                Err(CronError::BadSchedule(format!(
                    "everyMs must be at least {MIN_EVERY_MS} (one minute)"
                )))
            }
            Schedule::Every { .. } => Ok(()),
            Schedule::Cron { expr, tz } => {
                parse_tz(tz.as_deref().unwrap_or(default_tz))?;
                parse_expr(expr).map(drop)
            }
        }
    }

    /// The first run strictly after `after_ms`; `None` when there is none (a past `at`).
    /// `created_ms` anchors `every` schedules without an `anchorMs`.
    pub fn next_after(
        &self,
        after_ms: i64,
        created_ms: i64,
        default_tz: &str,
    ) -> Result<Option<i64>, CronError> {
        match self {
            Schedule::At { at } => {
                let t = parse_at(at)?;
                Ok((t > after_ms).then_some(t))
            }
            Schedule::Every {
                every_ms,
                anchor_ms,
            } => {
                let every = (*every_ms).max(MIN_EVERY_MS) as i64;
                let anchor = anchor_ms.unwrap_or(created_ms);
                if after_ms < anchor {
                    return Ok(Some(anchor));
                }
                let periods = (after_ms - anchor) / every + 1;
                Ok(Some(anchor + periods * every))
            }
            Schedule::Cron { expr, tz } => {
                let zone = parse_tz(tz.as_deref().unwrap_or(default_tz))?;
                let cron = parse_expr(expr)?;
                let start = zone
                    .timestamp_millis_opt(after_ms)
                    .single()
                    .ok_or_else(|| CronError::BadSchedule(format!("{after_ms} is out of range")))?;
                cron.find_next_occurrence(&start, false)
                    .map(|t| Some(t.timestamp_millis()))
                    .map_err(|e| CronError::BadSchedule(format!("\"{expr}\": {e}")))
            }
        }
    }

    /// In words, for listings: "cron 0 9 * * * (Asia/Shanghai)".
    pub fn describe(&self, default_tz: &str) -> String {
        match self {
            Schedule::At { at } => format!("once at {at}"),
            Schedule::Every { every_ms, .. } => format!("every {} s", every_ms / 1000),
            Schedule::Cron { expr, tz } => {
                format!("cron {expr} ({})", tz.as_deref().unwrap_or(default_tz))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    fn cron(expr: &str, tz: &str) -> Schedule {
        Schedule::Cron {
            expr: expr.into(),
            tz: Some(tz.into()),
        }
    }

    #[test]
    fn nine_every_morning_in_shanghai_is_one_utc() {
        let s = cron("0 9 * * *", "Asia/Shanghai");
        let next = s
            .next_after(ms("2026-11-23T12:00:00+08:00"), 0, "UTC")
            .unwrap();
        assert_eq!(next, Some(ms("2026-11-24T01:00:00Z")));
        // Exactly at 9:00 the next run is tomorrow's.
        let again = s
            .next_after(ms("2026-11-24T09:00:00+08:00"), 0, "UTC")
            .unwrap();
        assert_eq!(again, Some(ms("2026-11-25T09:00:00+08:00")));
    }

    #[test]
    fn the_time_zone_defaults_to_the_users() {
        let s = Schedule::Cron {
            expr: "0 9 * * *".into(),
            tz: None,
        };
        // 08:00 in Shanghai: today's 9:00 is next.
        let next = s
            .next_after(ms("2026-11-23T00:00:00Z"), 0, "Asia/Shanghai")
            .unwrap();
        assert_eq!(next, Some(ms("2026-11-23T01:00:00Z")));
    }

    #[test]
    fn daylight_saving_changes_keep_the_wall_clock_time() {
        // New York springs forward on 2026-03-08 (02:00 → 03:00) and falls back on 2026-11-01.
        let nine = cron("0 9 * * *", "America/New_York");
        let before = nine
            .next_after(ms("2026-03-07T20:00:00Z"), 0, "UTC")
            .unwrap();
        assert_eq!(
            before,
            Some(ms("2026-03-08T09:00:00-04:00")),
            "EDT after the change"
        );
        let prev = nine
            .next_after(ms("2026-03-06T20:00:00Z"), 0, "UTC")
            .unwrap();
        assert_eq!(prev, Some(ms("2026-03-07T09:00:00-05:00")), "EST before it");
        // 02:30 does not exist on the day clocks spring forward: it runs just after the gap.
        let gap = cron("30 2 * * *", "America/New_York");
        let next = gap
            .next_after(ms("2026-03-08T06:00:00Z"), 0, "UTC")
            .unwrap()
            .unwrap();
        assert!(
            next >= ms("2026-03-08T03:00:00-04:00") && next <= ms("2026-03-08T03:30:00-04:00"),
            "{}",
            Utc.timestamp_millis_opt(next).unwrap()
        );
        // 01:30 happens twice on the day clocks fall back: it runs once.
        let twice = cron("30 1 * * *", "America/New_York");
        let first = twice
            .next_after(ms("2026-11-01T04:00:00Z"), 0, "UTC")
            .unwrap()
            .unwrap();
        assert_eq!(first, ms("2026-11-01T01:30:00-04:00"));
        let second = twice.next_after(first, 0, "UTC").unwrap().unwrap();
        assert_eq!(second, ms("2026-11-02T01:30:00-05:00"));
    }

    #[test]
    fn six_fields_have_seconds_and_bad_expressions_are_explained() {
        let s = cron("30 0 9 * * *", "UTC");
        assert_eq!(
            s.next_after(ms("2026-11-23T00:00:00Z"), 0, "UTC").unwrap(),
            Some(ms("2026-11-23T09:00:30Z"))
        );
        let err = cron("0 9 * *", "UTC")
            .validate("UTC")
            .unwrap_err()
            .to_string();
        assert!(err.contains("has 4 fields"), "{err}");
        assert!(cron("0 25 * * *", "UTC").validate("UTC").is_err());
        let err = cron("0 9 * * *", "Mars/Base")
            .validate("UTC")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown time zone"), "{err}");
    }

    #[test]
    fn at_and_every() {
        let at = Schedule::At {
            at: "2026-11-24T09:00:00+08:00".into(),
        };
        assert_eq!(
            at.next_after(ms("2026-11-24T00:00:00Z"), 0, "UTC").unwrap(),
            Some(ms("2026-11-24T01:00:00Z"))
        );
        assert_eq!(
            at.next_after(ms("2026-11-25T00:00:00Z"), 0, "UTC").unwrap(),
            None
        );
        assert_eq!(
            parse_at("2026-11-24T09:00").unwrap(),
            ms("2026-11-24T09:00:00Z")
        );
        assert!(parse_at("tomorrow at nine").is_err());
        let every = Schedule::Every {
            every_ms: 3_600_000,
            anchor_ms: None,
        };
        assert_eq!(
            every.next_after(1_000, 1_000, "UTC").unwrap(),
            Some(3_601_000)
        );
        assert_eq!(
            every.next_after(3_601_000, 1_000, "UTC").unwrap(),
            Some(7_201_000)
        );
        assert!(
            Schedule::Every {
                every_ms: 1_000,
                anchor_ms: None
            }
            .validate("UTC")
            .is_err()
        );
    }
}
