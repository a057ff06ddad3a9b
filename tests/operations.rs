//! Running dingclaw for months: `dingclaw doctor` against the simulator and the offline model
//! (good and bad credentials, good and bad keys, a busy port), and `backup`/`restore` around
//! a running gateway process.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use dingclaw::offline_model::{ModelOptions, OfflineModel};
use dingclaw::sim::{NewBot, SimServer};
use support::gateway::test_sim;
use support::process::{GatewayProcess, ask_bot};

/// Runs the binary with `dir` as home and state directory; (exit code, stdout, stderr).
async fn cli(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let out = actix_rt::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_dingclaw"))
            .args(&args)
            .env_clear()
            .env("HOME", &dir)
            .env("OPENCLAW_STATE_DIR", &dir)
            .current_dir(&dir)
            .output()
            .expect("the binary runs")
    })
    .await
    .expect("the blocking task ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A private config file in a private state directory.
fn write_config(dir: &Path, text: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let path = dir.join("openclaw.json");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path.display().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn line<'a>(out: &'a str, start: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starting {start:?} in:\n{out}"))
}

#[actix_rt::test]
async fn doctor_says_what_works_and_how_to_fix_what_does_not() {
    let sim = SimServer::start(test_sim(), 0, 1).await.unwrap();
    let model = OfflineModel::start(
        ModelOptions {
            api_key: Some("sk-good-key".into()),
            ..ModelOptions::default()
        },
        0,
        1,
    )
    .await
    .unwrap();
    sim.sim.add_bot(NewBot {
        client_id: Some("dingdoctorgood".into()),
        client_secret: Some("doctor-good-secret".into()),
        name: None,
    });
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = |key: &str, accounts: &str| {
        format!(
            r#"{{ agents: {{ list: [ {{ id: "main", model: "offline/m" }} ] }},
                 channels: {{ "dingtalk-connector": {{ endpoint: "{}", accounts: {{ {accounts} }} }} }},
                 models: {{ providers: {{ offline: {{ baseUrl: "{}", apiKey: "{key}" }} }} }},
                 gateway: {{ port: {port} }} }}"#,
            sim.url, model.base_url
        )
    };
    let good = r#"good: { clientId: "dingdoctorgood", clientSecret: "doctor-good-secret" }"#;
    let bad = r#"bad: { clientId: "dingdoctorbad", clientSecret: "not-the-secret" }"#;

    // Everything right: exit 0, one line per check.
    let path = write_config(dir.path(), &config("sk-good-key", good));
    let (code, out, err) = cli(dir.path(), &["doctor", "--config", &path]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        line(&out, "ok   config:").contains("1 agent (main), 1 account"),
        "{out}"
    );
    assert!(line(&out, "ok   permissions:").contains("private"), "{out}");
    assert!(
        line(&out, "ok   state directory:").contains("GiB free"),
        "{out}"
    );
    assert!(line(&out, "ok   port:").contains("is free"), "{out}");
    assert!(
        line(&out, "ok   account good:").contains("accepted client id dingdoctorgood"),
        "{out}"
    );
    assert!(
        line(&out, "ok   provider offline:").contains("key accepted (1 models listed)"),
        "{out}"
    );
    assert!(line(&out, "ok   clock:").contains(" s against "), "{out}");
    assert!(
        out.ends_with("doctor: 7 ok, 0 warnings, 0 failed\n"),
        "{out}"
    );
    assert_eq!(
        model
            .stats
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "no model call without --live"
    );
    assert_eq!(
        sim.sim.bots().iter().map(|b| b.connections).sum::<usize>(),
        0,
        "no stream opened"
    );

    // --live makes one minimal call; --json says the same for scripts.
    let (code, out, _) = cli(
        dir.path(),
        &["doctor", "--live", "--json", "--config", &path],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
    let provider = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "provider offline")
        .unwrap();
    assert!(
        provider["detail"]
            .as_str()
            .unwrap()
            .contains("answered a minimal call"),
        "{provider}"
    );
    assert_eq!(
        model
            .stats
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );

    // A wrong secret, a wrong key and a busy port: exit 1, each with its fix; no secret shown.
    write_config(
        dir.path(),
        &config("sk-wrong-key", &format!("{good}, {bad}")),
    );
    let busy = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let (code, out, err) = cli(dir.path(), &["doctor", "--config", &path]).await;
    drop(busy);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        line(&out, "FAIL account bad:").contains("DingTalk refused client id dingdoctorbad"),
        "{out}"
    );
    assert!(
        out.contains("fix: copy the Client ID and Client Secret again"),
        "{out}"
    );
    assert!(
        line(&out, "FAIL provider offline:").contains("the API key was rejected (HTTP 401)"),
        "{out}"
    );
    assert!(
        out.contains("fix: the key was refused: check models.providers.offline.apiKey"),
        "{out}"
    );
    assert!(
        line(&out, "FAIL port:").contains("in use by another program"),
        "{out}"
    );
    assert!(out.ends_with("5 ok, 0 warnings, 3 failed\n"), "{out}");
    for secret in ["not-the-secret", "doctor-good-secret", "sk-wrong-key"] {
        assert!(
            !out.contains(secret) && !err.contains(secret),
            "{secret} shown"
        );
    }

    // An invalid config stops at the first check, with the paths of its errors.
    write_config(
        dir.path(),
        r#"{ channels: { "dingtalk-connector": { dmPolicy: "opne" } } }"#,
    );
    let (code, out, _) = cli(dir.path(), &["doctor", "--config", &path]).await;
    assert_eq!(code, 1);
    assert!(
        line(&out, "FAIL config:").contains("channels.dingtalk-connector.dmPolicy"),
        "{out}"
    );
}

async fn ask(sim: &SimServer, from: &str, text: &str) -> String {
    ask_bot(sim, from, "backupbot", text).await
}

#[actix_rt::test]
async fn backup_while_running_and_restore_only_when_stopped() {
    let sim = SimServer::start(test_sim(), 0, 1).await.unwrap();
    let model = OfflineModel::start(ModelOptions::default(), 0, 1)
        .await
        .unwrap();
    sim.sim.add_bot(NewBot {
        client_id: Some("backupbot".into()),
        client_secret: Some("s3cret-backup".into()),
        name: None,
    });
    let dir = tempfile::tempdir().unwrap();
    // The file is not watched (reload mode off): only SIGHUP makes the gateway read it again.
    let text = |persona: &str| {
        format!(
            r#"{{ agents: {{ list: [ {{ id: "main", model: "offline/m", identity: {{ name: "{persona}" }} }} ] }},
                 channels: {{ "dingtalk-connector": {{ endpoint: "{}", dmReplyMode: "text",
                   accounts: {{ bot1: {{ clientId: "backupbot", clientSecret: "s3cret-backup" }} }} }} }},
                 models: {{ providers: {{ offline: {{ baseUrl: "{}", apiKey: "k" }} }} }},
                 gateway: {{ port: 0, reload: {{ mode: "off" }} }} }}"#,
            sim.url, model.base_url
        )
    };
    let config = write_config(dir.path(), &text("Keeper"));
    let (log, out) = (dir.path().join("gw.log"), dir.path().join("gw.out"));
    let gw = GatewayProcess::start(Path::new(&config), dir.path(), &log, &out);
    assert!(ask(&sim, "alice", "remember me").await.contains("turn 1"));
    assert!(ask(&sim, "bob", "hello").await.contains("turn 1"));

    // A consistent copy while the gateway runs.
    let copy = dir.path().join("backup.sqlite");
    let copy = copy.to_str().unwrap();
    let (code, stdout, stderr) = cli(dir.path(), &["backup", "--config", &config, copy]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("2 sessions, 4 transcript entries"),
        "{stdout}"
    );

    // No restore under a running gateway, and no second gateway on the same store.
    let (code, _, stderr) = cli(dir.path(), &["restore", "--config", &config, copy]).await;
    assert_eq!(code, 1);
    assert!(
        stderr.contains("a dingclaw gateway (pid ") && stderr.contains("stop it first"),
        "{stderr}"
    );
    let (code, _, stderr) = cli(dir.path(), &["gateway", "--config", &config]).await;
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is using"), "{stderr}");

    // SIGHUP (systemctl reload) applies an edited config without a restart.
    write_config(dir.path(), &text("Archivist"));
    gw.signal("HUP");
    let start = Instant::now();
    loop {
        let r = ask(&sim, "carol", "who are you").await;
        if r.starts_with("[Archivist") {
            break;
        }
        assert!(r.starts_with("[Keeper"), "{r}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "SIGHUP did not reload"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }

    // Later talk, then stopped and restored: the conversation is back where the copy was.
    assert!(ask(&sim, "alice", "and this").await.contains("turn 2"));
    assert_eq!(gw.terminate(), Some(0));
    let (code, stdout, stderr) = cli(dir.path(), &["restore", "--config", &config, copy]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("2 sessions, 4 transcript entries"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the store it replaced is kept at"),
        "{stdout}"
    );
    let gw = GatewayProcess::start(Path::new(&config), dir.path(), &log, &out);
    let r = ask(&sim, "alice", "where were we").await;
    assert!(
        r.contains("turn 2") && r.contains("history: remember me | where were we"),
        "{r}"
    );
    assert_eq!(gw.terminate(), Some(0));
}
