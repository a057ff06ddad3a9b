//! Chaos inside the gateway: panics injected (test-only `fault-injection` feature) into every
//! actor kind on the message path, again and again, while steady traffic flows. Each actor
//! must restart on its own and the message it held must still be answered exactly once.

mod support;

use std::time::{Duration, Instant};

use dingclaw_actors::fault::{FaultPoint, arm, fired};
use dingclaw_actors::supervise::{ActorKind, restart_count};
use support::chaos::{Tally, run_traffic_until_done, traffic};
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER};

const CONFIG: &str = r#"{ agents: { list: [ { id: "a", model: "offline/m" } ] },
    channels: { "dingtalk-connector": { TEST_ACCOUNT,
      accounts: { bot1: { clientId: "panicbot1", clientSecret: "s1" }, bot2: { clientId: "panicbot2", clientSecret: "s2" } } } },
    TEST_PROVIDER }"#;

const POINTS: [FaultPoint; 5] = [
    FaultPoint::AccountInbound,
    FaultPoint::RouterDispatch,
    FaultPoint::SessionMidTurn,
    FaultPoint::AgentRunTurn,
    FaultPoint::ProviderComplete,
];

#[actix_rt::test]
async fn panics_in_every_actor_kind_under_traffic_lose_and_duplicate_nothing() {
    let config = CONFIG
        .replace("TEST_ACCOUNT", TEST_ACCOUNT)
        .replace("TEST_PROVIDER", TEST_PROVIDER);
    let h = Harness::start(&config).await;
    let before: u64 = ActorKind::ALL.iter().map(|k| restart_count(*k)).sum();
    h.sim
        .sim
        .start_load(traffic(&["panicbot1", "panicbot2"], 10, 25.0, 10))
        .expect("load run");
    let start = Instant::now();
    // Every point fires twice a second, on whichever actor passes it next. The restart
    // budget (5 a minute per actor) is spread over many actors of each kind, except the one
    // router; its crashes are spaced so that its budget is not spent.
    let mut round = 0u32;
    while start.elapsed() < Duration::from_secs(9) {
        for p in POINTS {
            let times = if p == FaultPoint::RouterDispatch {
                u32::from(round.is_multiple_of(3))
            } else {
                2
            };
            arm(p, times, None);
        }
        round += 1;
        actix_rt::time::sleep(Duration::from_secs(1)).await;
    }
    for p in POINTS {
        arm(p, 0, None);
    }
    let report = run_traffic_until_done(&h.sim, Duration::from_secs(90)).await;
    let after: u64 = ActorKind::ALL.iter().map(|k| restart_count(*k)).sum();
    let mut tally =
        Tally::from_report("panics in every actor kind", &report).restarts(after - before);
    for p in POINTS {
        let name = match p {
            FaultPoint::AccountInbound => "account_panics",
            FaultPoint::RouterDispatch => "router_panics",
            FaultPoint::SessionMidTurn => "session_panics",
            FaultPoint::AgentRunTurn => "agent_panics",
            _ => "provider_panics",
        };
        tally = tally.note(name, u64::from(fired(p)));
        assert!(fired(p) > 0, "{p:?} never fired");
    }
    tally.check();
    h.stop().await;
}
