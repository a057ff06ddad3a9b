//! No secret leaks: runs the whole offline demo (both bots, the group, the scheduled task)
//! with debug logging captured, then reads every operator API response, and looks for every
//! configured secret (client secrets, the model API key, the operator token) in all of it,
//! and for the secrets users typed into the chat: the group robot's access token and a
//! signing secret (found by a new operator in `/api/sessions/transcript` and the demo's
//! output).

use std::io::Write;
use std::sync::{Arc, Mutex};

use dingclaw::demo::{DEMO_ROBOT_TOKEN, Demo, DemoOptions};

/// A signing secret a user pastes into the web chat.
const TYPED_SIGNING_SECRET: &str =
    "SEC9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

/// Collects everything the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[actix_rt::test]
async fn the_demo_logs_and_api_answers_hold_no_configured_secret() {
    let log = Captured::default();
    let writer = log.clone();
    tracing_subscriber::fmt()
        .with_env_filter("debug")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let state = tempfile::tempdir().unwrap();
    let demo = Demo::start(DemoOptions {
        sim_port: 0,
        web_port: 0,
        state_dir: Some(state.path().to_path_buf()),
        config: None,
    })
    .await
    .expect("the demo starts");
    let mut exchanges = demo.script().await.expect("the demo script runs");
    exchanges.extend(demo.weather_task().await.expect("the weather task runs"));
    assert!(exchanges.iter().all(|e| e.complete()), "every bot answered");

    let token = demo
        .login_url
        .split("#token=")
        .nth(1)
        .expect("the login URL carries the token")
        .to_owned();
    let http = awc::Client::default();
    let get = |path: String| {
        let (http, token, base) = (http.clone(), token.clone(), demo.web.url.clone());
        async move {
            let mut resp = http
                .get(format!("{base}{path}"))
                .insert_header(("Authorization", format!("Bearer {token}")))
                .send()
                .await
                .expect("the API answers");
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            String::from_utf8_lossy(&resp.body().limit(16 << 20).await.unwrap()).into_owned()
        }
    };
    let mut answers = Vec::new();
    // A user pastes a robot address and its signing secret into the web chat; the offline
    // model repeats what it was told, as a real one may.
    let mut chat = http
        .post(format!("{}/api/chat", demo.web.url))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&serde_json::json!({
            "agent": "ding-bot1",
            "thread": "secrets",
            "text": format!("post to https://oapi.dingtalk.com/robot/send?access_token={DEMO_ROBOT_TOKEN} signed with {TYPED_SIGNING_SECRET}"),
        }))
        .await
        .expect("the chat answers");
    let streamed = String::from_utf8_lossy(&chat.body().limit(1 << 20).await.unwrap()).into_owned();
    assert!(streamed.contains("event: done"), "{streamed}");
    answers.push(("/api/chat".to_owned(), streamed));
    for path in [
        "/api/status",
        "/api/config",
        "/api/sessions",
        "/api/cron/jobs",
        "/metrics",
    ] {
        answers.push((path.to_owned(), get(path.to_owned()).await));
    }
    let sessions: serde_json::Value = serde_json::from_str(&answers[3].1).unwrap();
    for key in sessions
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("key").and_then(|k| k.as_str()))
    {
        let path = format!(
            "/api/sessions/transcript?key={}",
            url::form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
        );
        answers.push((path.clone(), get(path).await));
    }
    assert!(answers.len() > 5, "transcripts were read too");
    demo.stop().await;

    let config = demo.config.clone();
    let mut secrets: Vec<(String, String)> = config
        .channels
        .dingtalk
        .accounts
        .values()
        .map(|a| {
            (
                format!("{} clientSecret", a.id),
                a.client_secret.expose().to_owned(),
            )
        })
        .collect();
    for p in config.models.providers.values() {
        if let Some(key) = &p.api_key {
            secrets.push((format!("{} apiKey", p.id), key.expose().to_owned()));
        }
    }
    secrets.push(("operator token".to_owned(), token));
    secrets.push((
        "the robot token a user typed".to_owned(),
        DEMO_ROBOT_TOKEN.to_owned(),
    ));
    secrets.push((
        "the signing secret a user typed".to_owned(),
        TYPED_SIGNING_SECRET.to_owned(),
    ));
    let log = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    assert!(
        log.lines().count() > 20,
        "debug logging was captured: {log}"
    );
    for (what, secret) in &secrets {
        assert!(secret.len() >= 8, "{what} is a real secret");
        if let Some(line) = log.lines().find(|l| l.contains(secret.as_str())) {
            panic!("{what} is in the log: {line}");
        }
        for (path, body) in &answers {
            assert!(
                !body.contains(secret.as_str()),
                "{what} is in the answer of {path}"
            );
        }
    }
    println!(
        "checked {} secrets against {} log lines and {} API answers",
        secrets.len(),
        log.lines().count(),
        answers.len()
    );
}
