//! `dingclaw cron` through the real binary against a running gateway's operator API: list
//! (secrets hidden), run now (the post reaches the group's robot), runs, remove; a wrong token
//! is refused.

mod support;

use std::time::Duration;

use dingclaw::sim::NewRobot;
use serde_json::json;
use support::cron::{add_job, owner};
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER};
use support::process::run_cli;

const TOKEN: &str = "operator-test-token-1";

fn cron(url: &str, token: &str, rest: &[&str]) -> Vec<String> {
    let mut v = vec![
        "cron".to_owned(),
        "--url".into(),
        url.into(),
        "--token".into(),
        token.into(),
    ];
    v.extend(rest.iter().map(|s| (*s).to_owned()));
    v
}

#[actix_rt::test]
async fn the_operator_lists_runs_and_removes_jobs_from_the_command_line() {
    let config = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "cronclibot", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER}, cron: {{ dingtalkWebhookBase: "${{SIM}}" }},
             dingclaw: {{ store: "memory" }} }}"#
    );
    let h = Harness::start(&config).await;
    let web = h.operator_web(TOKEN).await;
    let cid = h.group(&["bot1"], &["alice"]);
    h.sim
        .sim
        .add_robot(NewRobot {
            conversation_id: cid.clone(),
            access_token: Some("clitoken42".into()),
            ..NewRobot::default()
        })
        .unwrap();
    let job = add_job(
        &h.rt,
        owner("group", &cid),
        json!({
            "name": "Beijing weather",
            "schedule": {"kind": "cron", "expr": "0 9 * * *", "tz": "Asia/Shanghai"},
            "payload": {"kind": "agentTurn", "message": "Check the weather in Beijing"},
            "delivery": {"mode": "webhook", "to": "https://oapi.dingtalk.com/robot/send?access_token=clitoken42"},
        }),
    )
    .await;

    let (ok, out, err) = run_cli(cron(&web.url, TOKEN, &["list"])).await;
    assert!(ok, "{err}");
    assert!(
        out.contains(&job.id) && out.contains("Beijing weather"),
        "{out}"
    );
    assert!(out.contains("cron 0 9 * * * (Asia/Shanghai)"), "{out}");
    assert!(
        out.contains("access_token=***") && !out.contains("clitoken42"),
        "{out}"
    );

    let (ok, out, err) = run_cli(cron(&web.url, TOKEN, &["run", &job.id])).await;
    assert!(ok, "{out}{err}");
    let record: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (record["status"].as_str(), record["deliveryStatus"].as_str()),
        (Some("ok"), Some("delivered"))
    );
    let posted = h.sim.sim.conversation(&cid);
    assert!(
        posted
            .iter()
            .any(|e| e.via == "robotWebhook" && e.text.contains("Check the weather"))
    );

    let (ok, out, _) = run_cli(cron(&web.url, TOKEN, &["runs", &job.id])).await;
    assert!(ok && out.contains("\"trigger\": \"manual\""), "{out}");

    let (ok, _, err) = run_cli(cron(&web.url, "wrong-token", &["list"])).await;
    assert!(!ok && err.contains("HTTP 401"), "{err}");
    assert!(!err.contains(TOKEN));

    let (ok, out, err) = run_cli(cron(&web.url, TOKEN, &["remove", &job.id])).await;
    assert!(ok && out.contains("removed"), "{out}{err}");
    let (ok, _, err) = run_cli(cron(&web.url, TOKEN, &["remove", &job.id])).await;
    assert!(!ok && err.contains("HTTP 404"), "{err}");

    // No gateway there: a clear error.
    web.stop().await;
    actix_rt::time::sleep(Duration::from_millis(100)).await;
    let (ok, _, err) = run_cli(cron(&web.url, TOKEN, &["list"])).await;
    assert!(!ok && err.contains("cannot reach the gateway"), "{err}");
    h.stop().await;
}
