//! Chaos: `kill -9` of the gateway process in the middle of steady traffic, twice, each time
//! started again. DingTalk does not redeliver a message that was acknowledged, so every
//! message the gateway had acknowledged and not answered must come back from the inbound
//! journal, and every message it had not acknowledged comes back as a redelivery (which
//! the journal's msgIds must not let it answer a second time). The one repeat allowed is the
//! README's window: a reply DingTalk accepted in the instant before the kill, whose done mark
//! the dead process never committed.

mod support;

use std::time::Duration;

use support::chaos::{
    Tally, run_traffic_until_done, sim_and_slow_model, traffic, wait_bots_connected,
};
use support::process::GatewayProcess;

const BOTS: [&str; 3] = ["killbot1", "killbot2", "killbot3"];

fn config(sim: &str, model: &str) -> String {
    let accounts: Vec<String> = BOTS
        .iter()
        .enumerate()
        .map(|(i, b)| format!(r#"a{i}: {{ clientId: "{b}", clientSecret: "{b}-secret" }}"#))
        .collect();
    format!(
        r#"{{ agents: {{ list: [ {{ id: "main", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ endpoint: "{sim}", dmReplyMode: "text", groupReplyMode: "text", ackReaction: "off",
               stream: {{ pingIntervalMs: 500, pongTimeoutMs: 3000, silenceTimeoutMs: 5000, reconnectInitialMs: 100, reconnectMaxMs: 500 }},
               accounts: {{ {} }} }} }},
             models: {{ providers: {{ offline: {{ baseUrl: "{model}", apiKey: "sk-kill" }} }} }},
             gateway: {{ port: 0 }} }}"#,
        accounts.join(", ")
    )
}

/// Messages the restarted gateways took from the journal, per their log lines.
fn recovered(log: &str) -> u64 {
    log.lines()
        .filter(|l| l.contains("answering messages an earlier run accepted"))
        .filter_map(|l| {
            l.split("messages=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

#[actix_rt::test]
async fn kill_9_mid_traffic_loses_nothing_and_repeats_only_the_last_instant() {
    // Turns take a while, so a kill finds many of them in flight; DingTalk redelivers what
    // was not acknowledged, here after 1.5 s.
    let (sim, model) = sim_and_slow_model(&BOTS, Duration::from_millis(150)).await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("openclaw.json");
    std::fs::write(&config_path, config(&sim.url, &model.base_url)).unwrap();
    let (log, out) = (
        dir.path().join("gateway.log"),
        dir.path().join("gateway.out"),
    );

    let mut gw = GatewayProcess::start(&config_path, dir.path(), &log, &out);
    wait_bots_connected(&sim, BOTS.len()).await;
    sim.sim
        .start_load(traffic(&BOTS, 10, 30.0, 12))
        .expect("load run");
    let kills = [3_000u64, 4_000];
    let mut killed_at = Vec::new();
    for wait in kills {
        actix_rt::time::sleep(Duration::from_millis(wait)).await;
        gw.kill9();
        killed_at.push(dingclaw_actors::dingtalk::api::now_ms());
        actix_rt::time::sleep(Duration::from_millis(300)).await;
        gw = GatewayProcess::start(&config_path, dir.path(), &log, &out);
    }
    let report = run_traffic_until_done(&sim, Duration::from_secs(90)).await;
    assert_eq!(gw.terminate(), Some(0));
    let log = std::fs::read_to_string(&log).unwrap();
    let stats = sim.sim.stats();
    Tally::from_report("kill -9 mid-traffic", &report)
        .restarts(kills.len() as u64)
        .killed_at(killed_at)
        .note("recovered_from_journal", recovered(&log))
        .note("redeliveries", stats.redeliveries)
        .check();
}
