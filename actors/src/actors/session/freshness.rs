//! When a session starts afresh on its own (`session.reset`, `resetByType`, `resetByChannel`;
//! docs/openclaw-routing.md 4.5): a daily reset at `atHour` in the users' time zone
//! (`agents.defaults.userTimezone`: a gateway in a UTC container should still reset at the
//! users' 4 am), or after `idleMinutes` without a message. The check runs when the next
//! message arrives, so a reset costs nothing while nobody talks.

use chrono::{Duration, TimeZone};
use chrono_tz::Tz;

use crate::config::ResetPolicy;

/// Why a session is stale, if it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stale {
    /// It started before the latest daily reset point.
    Daily { at_hour: u8 },
    /// Nobody wrote for this many minutes.
    Idle { minutes: u64 },
}

/// The latest daily reset point at or before `now_ms`: today at `at_hour:00` in `tz`, or
/// yesterday's if that time has not come yet.
fn daily_boundary_ms(at_hour: u8, now_ms: i64, tz: Tz) -> Option<i64> {
    let now = tz.timestamp_millis_opt(now_ms).single()?;
    let today = now.date_naive().and_hms_opt(u32::from(at_hour), 0, 0)?;
    // A boundary inside a DST gap moves to the first instant after it.
    let at = |day: chrono::NaiveDateTime| {
        tz.from_local_datetime(&day)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(day + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.timestamp_millis())
    };
    let boundary = at(today)?;
    if boundary <= now_ms {
        Some(boundary)
    } else {
        at(today - Duration::days(1))
    }
}

/// Is a session that started at `started_ms` and last heard from at `active_ms` stale at
/// `now_ms`? Both rules apply when both are set; whichever expired says why.
pub fn stale(
    policy: ResetPolicy,
    started_ms: i64,
    active_ms: i64,
    now_ms: i64,
    tz: &str,
) -> Option<Stale> {
    if let Some(minutes) = policy.idle_minutes
        && now_ms > active_ms + (minutes as i64) * 60_000
    {
        return Some(Stale::Idle { minutes });
    }
    let at_hour = policy.daily_at_hour?;
    let tz: Tz = tz.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let boundary = daily_boundary_ms(at_hour, now_ms, tz)?;
    (started_ms < boundary).then_some(Stale::Daily { at_hour })
}

impl Stale {
    /// What the user is told.
    pub fn notice(self) -> String {
        match self {
            Stale::Daily { at_hour } => format!(
                "🌅 已开始新会话（每天 {at_hour}:00 重置）。A new session has started (sessions reset daily at {at_hour}:00)."
            ),
            Stale::Idle { minutes } => format!(
                "🕰 已开始新会话（{minutes} 分钟无消息后重置）。A new session has started (sessions reset after {minutes} idle minutes)."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30 in Shanghai (UTC+8) at `h:m`, as Unix ms.
    fn shanghai(day: u32, h: u32, m: u32) -> i64 {
        chrono_tz::Asia::Shanghai
            .with_ymd_and_hms(2026, 11, day, h, m, 0)
            .single()
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn daily_resets_at_the_hour_in_the_users_zone() {
        let daily = ResetPolicy {
            daily_at_hour: Some(4),
            idle_minutes: None,
        };
        let tz = "Asia/Shanghai";
        // Started at 23:00 on the 29th: still fresh at 3:59 on the 30th, stale at 4:00.
        let started = shanghai(29, 23, 0);
        assert_eq!(
            stale(daily, started, started, shanghai(30, 3, 59), tz),
            None
        );
        assert_eq!(
            stale(daily, started, started, shanghai(30, 4, 0), tz),
            Some(Stale::Daily { at_hour: 4 })
        );
        // Midnight: the day turns over in Shanghai while it is still the 29th in UTC.
        let midnight = ResetPolicy {
            daily_at_hour: Some(0),
            idle_minutes: None,
        };
        let evening = shanghai(29, 22, 0);
        assert_eq!(
            stale(midnight, evening, evening, shanghai(29, 23, 59), tz),
            None
        );
        assert!(stale(midnight, evening, evening, shanghai(30, 0, 1), tz).is_some());
        // In UTC the same instant is before midnight: nothing yet.
        assert_eq!(
            stale(midnight, evening, evening, shanghai(30, 0, 1), "UTC"),
            None
        );
    }

    #[test]
    fn idle_counts_from_the_last_message() {
        let idle = ResetPolicy {
            daily_at_hour: None,
            idle_minutes: Some(30),
        };
        let t = shanghai(30, 10, 0);
        assert_eq!(stale(idle, t - 3_600_000, t, t + 29 * 60_000, "UTC"), None);
        assert_eq!(
            stale(idle, t - 3_600_000, t, t + 31 * 60_000, "UTC"),
            Some(Stale::Idle { minutes: 30 })
        );
        assert_eq!(stale(ResetPolicy::default(), 0, 0, t, "UTC"), None);
    }
}
