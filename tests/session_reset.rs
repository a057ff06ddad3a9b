//! `session.reset` applied (docs/openclaw-routing.md 4.5): a daily reset at midnight in
//! the users' time zone, crossed by moving the runtime's clock (no sleeping), and an idle
//! reset for groups from `resetByType`. The next message starts a new session and its answer
//! says so; messages before the reset point stay in the same session.

mod support;

use std::sync::Arc;

use chrono::TimeZone;
use dingclaw::offline_model::ModelOptions;
use dingclaw_actors::actors::RuntimeBuilder;
use dingclaw_actors::cron::ManualClock;
use support::gateway::{Harness, TEST_ACCOUNT, To, said, test_sim, turn};

/// 2026-11-`day` at `h:m` in Shanghai (UTC+8 all year), as Unix ms.
fn shanghai(day: u32, h: u32, m: u32) -> i64 {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, day, h, m, 0)
        .single()
        .unwrap()
        .timestamp_millis()
}

#[actix_rt::test]
async fn a_daily_reset_at_midnight_in_shanghai_and_an_idle_reset_for_groups() {
    let text = format!(
        r#"{{ agents: {{ defaults: {{ userTimezone: "Asia/Shanghai" }}, list: [ {{ id: "a", model: "offline/m" }} ] }},
             session: {{ reset: {{ mode: "daily", atHour: 0 }},
                         resetByType: {{ group: {{ mode: "idle", idleMinutes: 30 }} }} }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "resetbot1", clientSecret: "s1" }} }} }} }},
             models: {{ providers: {{ offline: {{ baseUrl: "${{MODEL}}", apiKey: "k" }} }} }} }}"#
    );
    // 23:50 in Shanghai is 15:50 UTC: the day turns over in Shanghai first.
    let clock = Arc::new(ManualClock::new(shanghai(29, 23, 50)));
    let options = |b: RuntimeBuilder| b.clock(clock.clone());
    let h = Harness::start_with_options(&text, ModelOptions::default(), test_sim(), options).await;
    let first = h.ask("alice", To::Dm("bot1"), "first").await;
    assert_eq!(turn(&first), 1);
    clock.set(shanghai(29, 23, 59));
    let second = h.ask("alice", To::Dm("bot1"), "second").await;
    assert_eq!(
        turn(&second),
        2,
        "the same session before midnight: {second}"
    );
    clock.set(shanghai(30, 0, 1));
    let third = h.ask("alice", To::Dm("bot1"), "third").await;
    assert!(
        third.starts_with("🌅 已开始新会话（每天 0:00 重置）"),
        "the answer says the session is new: {third}"
    );
    assert_eq!(turn(&third), 1, "{third}");
    assert_eq!(said(&third), "third");

    // Groups reset after 30 idle minutes instead (resetByType wins over the daily reset).
    let cid = h.group(&["bot1"], &["bob"]);
    let g1 = h.ask("bob", To::Group(&cid, &["bot1"]), "g1").await;
    assert_eq!(turn(&g1), 1);
    clock.set(shanghai(30, 0, 25));
    let g2 = h.ask("bob", To::Group(&cid, &["bot1"]), "g2").await;
    assert_eq!(turn(&g2), 2, "{g2}");
    clock.set(shanghai(30, 0, 56));
    let g3 = h.ask("bob", To::Group(&cid, &["bot1"]), "g3").await;
    assert!(g3.contains("30 分钟无消息后重置"), "{g3}");
    assert_eq!(turn(&g3), 1, "{g3}");
    h.stop().await;
}
