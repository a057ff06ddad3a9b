//! When a job runs (docs/openclaw-routing.md 6.2): once `at` an instant, `every` so many
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

/// Longest interval of an `every` schedule (a year). Longer ones are a mistake or an attack:
/// 2^63 ms and more used to wrap around to a time in the past, so the job ran on every tick.
pub const MAX_EVERY_MS: u64 = 366 * 24 * 3_600_000;

/// `ms` rounded down to the whole second: runs start on the second, whatever the millisecond
/// a job was created at.
fn to_second(ms: i64) -> i64 {
    ms - ms.rem_euclid(1000)
}

fn out_of_range(what: impl std::fmt::Display) -> CronError {
    CronError::BadSchedule(format!("{what} is out of range"))
}

/// When a job runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Schedule {
    /// Once, at an ISO 8601 instant (UTC when it names no offset).
    At {
        /// An ISO 8601 instant.
        at: String,
    },
    /// Every `everyMs`, counted from `anchorMs` (default: when the job was created).
    #[serde(rename_all = "camelCase")]
    Every {
        /// The interval in ms.
        every_ms: u64,
        /// When the intervals are counted from (ms since the epoch).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        anchor_ms: Option<i64>,
    },
    /// A cron expression in `tz` (default: the user's time zone).
    #[serde(rename_all = "camelCase")]
    Cron {
        /// Five or six fields.
        expr: String,
        /// An IANA time zone name (`Asia/Shanghai`).
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
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if !(5..=6).contains(&fields.len()) && !expr.trim().starts_with('@') {
        return Err(CronError::BadSchedule(format!(
            "\"{expr}\" has {} fields; a cron expression has 5 (minute hour day month weekday) or 6 (with seconds first)",
            fields.len()
        )));
    }
    // Six fields are accepted (OpenClaw accepts them) only with one fixed second, so that no
    // expression runs more than once a minute; `* * * * * *` would be a paid model call and
    // a group post every second.
    if fields.len() == 6 && !fields[0].parse::<u8>().is_ok_and(|s| s < 60) {
        return Err(CronError::BadSchedule(format!(
            "\"{expr}\" runs every few seconds; the seconds field must be one number (as in \"0 0 9 * * *\"), and the shortest interval is one minute"
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
    /// Checks a schedule a job is given (created, or changed) at `now_ms`: the expression,
    /// zone, instant and interval are valid, and the job will run at least once.
    pub fn validate(&self, default_tz: &str, now_ms: i64) -> Result<(), CronError> {
        match self {
            Schedule::At { at } => {
                let t = parse_at(at)?;
                if t <= now_ms {
                    return Err(CronError::BadSchedule(format!(
                        "\"{at}\" is in the past; give a time still to come"
                    )));
                }
                Ok(())
            }
            Schedule::Every { every_ms, .. } if *every_ms < MIN_EVERY_MS => {
                Err(CronError::BadSchedule(format!(
                    "everyMs must be at least {MIN_EVERY_MS} (one minute)"
                )))
            }
            Schedule::Every { every_ms, .. } if *every_ms > MAX_EVERY_MS => {
                Err(CronError::BadSchedule(format!(
                    "everyMs must be at most {MAX_EVERY_MS} (a year); for rarer runs use a cron expression or a time (at)"
                )))
            }
            Schedule::Every { .. } => self.next_after(now_ms, now_ms, default_tz).map(drop),
            Schedule::Cron { expr, tz } => {
                parse_tz(tz.as_deref().unwrap_or(default_tz))?;
                parse_expr(expr)?;
                match self.next_after(now_ms, now_ms, default_tz) {
                    Ok(Some(_)) => Ok(()),
                    _ => Err(CronError::BadSchedule(format!(
                        "\"{expr}\" never runs: no date matches it (such as the 31st of February)"
                    ))),
                }
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
                // Checked all the way: a stored job's interval may come from before the
                // upper bound existed.
                let every = i64::try_from((*every_ms).clamp(MIN_EVERY_MS, MAX_EVERY_MS))
                    .map_err(|_| out_of_range("everyMs"))?;
                let anchor = anchor_ms.unwrap_or_else(|| to_second(created_ms));
                if after_ms < anchor {
                    return Ok(Some(anchor));
                }
                let next = after_ms
                    .checked_sub(anchor)
                    .map(|since| since / every + 1)
                    .and_then(|periods| periods.checked_mul(every))
                    .and_then(|offset| anchor.checked_add(offset))
                    .ok_or_else(|| out_of_range("the next run"))?;
                Ok(Some(next))
            }
            Schedule::Cron { expr, tz } => {
                let zone = parse_tz(tz.as_deref().unwrap_or(default_tz))?;
                let cron = parse_expr(expr)?;
                let start = zone
                    .timestamp_millis_opt(to_second(after_ms))
                    .single()
                    .ok_or_else(|| out_of_range(after_ms))?;
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
            .validate("UTC", 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("has 4 fields"), "{err}");
        assert!(cron("0 25 * * *", "UTC").validate("UTC", 0).is_err());
        let err = cron("0 9 * * *", "Mars/Base")
            .validate("UTC", 0)
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
            .validate("UTC", 0)
            .is_err()
        );
    }

    /// Found by probing a running gateway: everyMs of 2^63 or more passed the one-minute
    /// check and wrapped around to a time in the past, so the job ran on every tick.
    #[test]
    fn huge_intervals_are_refused_and_never_wrap() {
        for every_ms in [u64::MAX, 1 << 63, MAX_EVERY_MS + 1] {
            let s = Schedule::Every {
                every_ms,
                anchor_ms: None,
            };
            let err = s.validate("UTC", 1_000).unwrap_err().to_string();
            assert!(err.contains("at most"), "{err}");
            // Even stored from before the check, the next run is in the future.
            let now = ms("2026-11-30T00:00:00Z");
            let next = s.next_after(now, now, "UTC").unwrap().unwrap();
            assert!(next > now, "{next} <= {now}");
        }
        let far = Schedule::Every {
            every_ms: MAX_EVERY_MS,
            anchor_ms: Some(i64::MAX - 10),
        };
        assert!(
            far.next_after(i64::MAX - 5, 0, "UTC").is_err(),
            "overflow is an error"
        );
    }

    /// Found by probing: `* * * * * *` was accepted, a model call and a group post every
    /// second. Six fields need one fixed second.
    #[test]
    fn seconds_level_cron_is_refused() {
        let err = cron("* * * * * *", "UTC")
            .validate("UTC", 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("every few seconds"), "{err}");
        assert!(cron("*/5 * * * * *", "UTC").validate("UTC", 0).is_err());
        assert!(cron("0 0 9 * * *", "UTC").validate("UTC", 0).is_ok());
        assert!(
            cron("* * * * *", "UTC").validate("UTC", 0).is_ok(),
            "every minute is fine"
        );
    }

    #[test]
    fn impossible_schedules_and_past_times_are_refused() {
        let now = ms("2026-11-30T00:00:00Z");
        let err = cron("0 0 31 2 *", "UTC")
            .validate("UTC", now)
            .unwrap_err()
            .to_string();
        assert!(err.contains("never runs"), "{err}");
        let err = Schedule::At {
            at: "2026-11-29T09:00:00+08:00".into(),
        }
        .validate("UTC", now)
        .unwrap_err()
        .to_string();
        assert!(err.contains("in the past"), "{err}");
        assert!(
            Schedule::At {
                at: "2026-12-01T09:00:00+08:00".into()
            }
            .validate("UTC", now)
            .is_ok()
        );
    }

    /// Found by probing: a job created at :42.673 ran at 09:00:00.673.
    #[test]
    fn runs_start_on_the_second() {
        let created = ms("2026-11-30T08:59:42Z") + 673;
        let next = cron("0 9 * * *", "UTC")
            .next_after(created, created, "UTC")
            .unwrap()
            .unwrap();
        assert_eq!(next, ms("2026-11-30T09:00:00Z"));
        let every = Schedule::Every {
            every_ms: 3_600_000,
            anchor_ms: None,
        };
        let next = every.next_after(created, created, "UTC").unwrap().unwrap();
        assert_eq!(next % 1000, 0, "{next}");
        assert_eq!(next, ms("2026-11-30T09:59:42Z"));
    }
}
