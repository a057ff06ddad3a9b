//! Chaos by the operator: the config is reloaded every second while steady traffic flows,
//! each time with a change the runtime applies live (the bound agent, its persona, provider
//! retries, the account's reply text limit). No message may be lost or answered twice.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use dingclaw_actors::config::load_str;
use support::chaos::{Tally, run_traffic_until_done, traffic};
use support::gateway::{Harness, TEST_ACCOUNT};

/// The config with variation `n`.
fn config(n: usize) -> String {
    let agent = if n.is_multiple_of(2) { "a" } else { "b" };
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m", identity: {{ name: "A{n}" }} }},
                                {{ id: "b", model: "offline/m", identity: {{ name: "B{n}" }} }} ] }},
            channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT}, textChunkLimit: {},
              accounts: {{ bot1: {{ clientId: "reloadbot1", clientSecret: "s1" }}, bot2: {{ clientId: "reloadbot2", clientSecret: "s2" }} }} }} }},
            bindings: [ {{ agentId: "{agent}", match: {{ channel: "dingtalk-connector", accountId: "*" }} }} ],
            models: {{ providers: {{ offline: {{ baseUrl: "${{MODEL}}", apiKey: "test-key", retries: {} }} }} }} }}"#,
        3000 + n,
        2 + n % 3
    )
}

#[actix_rt::test]
async fn a_reload_every_second_under_traffic_loses_and_duplicates_nothing() {
    let h = Harness::start(&config(0)).await;
    h.sim
        .sim
        .start_load(traffic(&["reloadbot1", "reloadbot2"], 10, 25.0, 10))
        .expect("load run");
    let start = Instant::now();
    let (mut reloads, mut changes) = (0u64, 0u64);
    while start.elapsed() < Duration::from_secs(10) {
        actix_rt::time::sleep(Duration::from_secs(1)).await;
        reloads += 1;
        let next = load_str(&config(reloads as usize), Path::new("/"), &h.env())
            .expect("the next config loads")
            .config;
        let report = h.rt.reload(next);
        assert!(
            report.needs_restart.is_empty(),
            "only live changes: {report:?}"
        );
        changes += report.applied.len() as u64;
    }
    let report = run_traffic_until_done(&h.sim, Duration::from_secs(90)).await;
    Tally::from_report("a config reload every second", &report)
        .note("reloads", reloads)
        .note("changes_applied", changes)
        .check();
    assert!(changes >= reloads, "every reload changed something");
    h.stop().await;
}
