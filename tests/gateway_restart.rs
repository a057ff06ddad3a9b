//! The `dingclaw gateway` binary: logs each account as it connects, drains and exits 0 on
//! SIGTERM, and after a restart its conversations continue where they were (transcripts in
//! the SQLite store under the state directory).

mod support;

use std::time::{Duration, Instant};

use dingclaw::offline_model::{ModelOptions, OfflineModel};
use dingclaw::sim::{NewBot, SimServer};
use support::gateway::test_sim;
use support::process::{GatewayProcess as Gateway, ask_bot};

async fn ask(sim: &SimServer, text: &str) -> String {
    ask_bot(sim, "alice", "restartbot", text).await
}

async fn wait_connections(sim: &SimServer, n: usize) {
    let start = Instant::now();
    while sim.sim.bots().iter().map(|b| b.connections).sum::<usize>() != n {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "expected {n} connections"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn conversations_survive_a_gateway_restart() {
    let sim = SimServer::start(test_sim(), 0, 2).await.unwrap();
    let model = OfflineModel::start(ModelOptions::default(), 0, 1)
        .await
        .unwrap();
    sim.sim.add_bot(NewBot {
        client_id: Some("restartbot".into()),
        client_secret: Some("s3cret-restart".into()),
        name: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("openclaw.json");
    std::fs::write(
        &config,
        format!(
            r#"{{ agents: {{ list: [ {{ id: "main", model: "offline/m" }} ] }},
                 channels: {{ "dingtalk-connector": {{ endpoint: "{}", dmReplyMode: "text",
                   accounts: {{ bot1: {{ clientId: "restartbot", clientSecret: "s3cret-restart" }} }} }} }},
                 models: {{ providers: {{ offline: {{ baseUrl: "{}", apiKey: "sk-restart-key" }} }} }},
                 gateway: {{ port: 0 }} }}"#,
            sim.url, model.base_url
        ),
    )
    .unwrap();
    let log = dir.path().join("gateway.log");
    let out = dir.path().join("gateway.out");

    let gw = Gateway::start(&config, dir.path(), &log, &out);
    wait_connections(&sim, 1).await;
    assert!(ask(&sim, "first").await.contains("turn 1"));
    assert!(ask(&sim, "second").await.contains("turn 2"));
    assert_eq!(gw.terminate(), Some(0), "SIGTERM drains and exits 0");
    wait_connections(&sim, 0).await;

    // The second run logs JSON lines, as a log shipper wants them.
    let gw = Gateway::start_with_env(
        &config,
        dir.path(),
        &log,
        &out,
        &[("DINGCLAW_LOG_FORMAT", "json")],
    );
    wait_connections(&sim, 1).await;
    let r = ask(&sim, "third").await;
    assert!(
        r.contains("turn 3") && r.contains("history: first | second | third"),
        "{r}"
    );
    assert_eq!(gw.terminate(), Some(0));

    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        log.matches("connected to DingTalk").count(),
        2,
        "one line per account per start:\n{log}"
    );
    assert!(log.contains("account=bot1"));
    let json: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).expect("each JSON log line parses"))
        .collect();
    assert!(
        json.iter().any(|l| l["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("connected to DingTalk"))
            && l["fields"]["account"] == "bot1"
            && l["level"] == "INFO"),
        "{log}"
    );
    // The first start generated the operator token. Its stdout is a file here (as under
    // systemd or Docker, where it is the journal): it says where the token is, not the token.
    let out = std::fs::read_to_string(&out).unwrap();
    let token = std::fs::read_to_string(dir.path().join("dingclaw/gateway-token")).unwrap();
    assert!(!out.contains(&token), "the token is not printed: {out}");
    assert_eq!(out.matches("`dingclaw dashboard`").count(), 1, "{out}");
    assert!(out.contains("dingclaw/gateway-token"), "{out}");
    // `dingclaw dashboard` prints the login URL for the operator at a terminal.
    let dashboard = std::process::Command::new(env!("CARGO_BIN_EXE_dingclaw"))
        .args(["dashboard", "--config"])
        .arg(&config)
        .env_clear()
        .env("HOME", dir.path())
        .env("OPENCLAW_STATE_DIR", dir.path())
        .output()
        .unwrap();
    let url = String::from_utf8_lossy(&dashboard.stdout);
    assert!(dashboard.status.success(), "{dashboard:?}");
    assert_eq!(url.trim(), format!("http://127.0.0.1:0/#token={token}"));
    for secret in ["s3cret-restart", "sk-restart-key", token.as_str()] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
    assert!(log.contains("operator token in"), "{log}");
    assert!(dir.path().join("dingclaw/dingclaw.sqlite").exists());
}
