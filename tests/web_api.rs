//! The operator server through real sockets: token auth (none, wrong, lockout, the loopback
//! exemption), health and readiness, the status, sessions, config and metrics APIs, the web
//! chat, hot reload (valid, invalid, an account added and removed under traffic), and that no
//! configured secret appears in any response or log line.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use dingclaw::sim::{NewBot, NewRobot, UserMessage};
use dingclaw::web::{Reloader, WebServer, operator_auth};
use dingclaw_actors::actors::scheduler::AddJob;
use dingclaw_actors::cron::JobSpec;
use serde_json::{Value, json};
use support::cron::{add_job, owner, run_job};
use support::gateway::{Harness, To, said, turn};
use support::wait_until;

/// Every line the gateway logs in this test binary.
fn captured_log() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOG.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buf);
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,actix_server=warn,hyper=info,h2=info,rustls=info")
            .with_ansi(false)
            .with_writer(move || Capture(Arc::clone(&sink)))
            .try_init();
        buf
    })
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const TOKEN: &str = "gw-operator-token-555";
const CLIENT_SECRET: &str = "dt-client-secret-7f3a9";
const API_KEY: &str = "sk-provider-key-31337";
const HOOK_TOKEN: &str = "cron-hook-token-999";
const ROBOT_TOKEN: &str = "robotaccess4242";
const ROBOT_SECRET: &str = "SECrobotsecret123";

fn config(gateway_extra: &str, accounts: &str, bindings: &str) -> String {
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", identity: {{ name: "Agent A" }}, model: "offline/m" }},
                                 {{ id: "b", identity: {{ name: "Agent B" }}, model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ endpoint: "${{SIM}}", groupReplyMode: "text", dmReplyMode: "text",
               stream: {{ pingIntervalMs: 500, pongTimeoutMs: 3000, silenceTimeoutMs: 5000, reconnectInitialMs: 100 }},
               accounts: {{ {accounts} }} }} }},
             bindings: [ {bindings} ],
             models: {{ providers: {{ offline: {{ baseUrl: "${{MODEL}}", apiKey: "{API_KEY}" }} }} }},
             gateway: {{ auth: {{ token: "{TOKEN}" {gateway_extra} }}, reload: {{ debounceMs: 100 }} }},
             cron: {{ webhookToken: "{HOOK_TOKEN}", dingtalkWebhookBase: "${{SIM}}" }},
             dingclaw: {{ store: "memory" }} }}"#
    )
}

const BOT1: &str = r#"bot1: { clientId: "webbot1", clientSecret: "dt-client-secret-7f3a9" }"#;
const BOT2: &str = r#"bot2: { clientId: "webbot2", clientSecret: "dt-client-secret-7f3a9" }"#;
const TO_A: &str = r#"{ agentId: "a", match: { channel: "dingtalk-connector", accountId: "*" } }"#;
const TO_B: &str =
    r#"{ agentId: "b", match: { channel: "dingtalk-connector", accountId: "bot1" } }"#;

struct Web {
    h: Harness,
    server: WebServer,
    http: awc::Client,
    reloader: Arc<Reloader>,
    file: std::path::PathBuf,
}

async fn start(text: &str) -> Web {
    captured_log();
    let h = Harness::start(text).await;
    let (file, reloader) = h.file_reloader(text);
    let (auth, _) = operator_auth(&h.config).unwrap();
    let server = WebServer::start(
        Arc::clone(&h.rt),
        "127.0.0.1:0".parse().unwrap(),
        auth,
        Some(Arc::clone(&reloader)),
    )
    .await
    .unwrap();
    Web {
        h,
        server,
        http: awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish(),
        reloader,
        file,
    }
}

impl Web {
    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, String) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.server.url));
        if let Some(t) = token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        let mut resp = match body {
            Some(b) => req.send_json(&b).await.unwrap(),
            None => req.send().await.unwrap(),
        };
        let body = resp.body().limit(16 << 20).await.unwrap();
        (
            resp.status().as_u16(),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    /// A request with the operator token and a JSON body.
    async fn send(&self, method: &str, path: &str, body: Value) -> (u16, String) {
        self.call(method, path, Some(TOKEN), Some(body)).await
    }

    async fn get(&self, path: &str) -> (u16, String) {
        self.call("GET", path, Some(TOKEN), None).await
    }

    async fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn stop(self) {
        self.server.stop().await;
        self.h.stop().await;
    }
}

#[actix_rt::test]
async fn the_api_needs_the_token_and_guessing_is_locked_out() {
    let w = start(&config(
        ", rateLimit: { maxAttempts: 3, exemptLoopback: false }",
        BOT1,
        TO_A,
    ))
    .await;
    assert_eq!(
        w.call("GET", "/health", None, None).await.0,
        200,
        "health needs no token"
    );
    assert_eq!(
        w.call("GET", "/", None, None).await.0,
        200,
        "the page holds no secret"
    );
    assert_eq!(w.call("GET", "/api/status", None, None).await.0, 401);
    assert_eq!(w.get("/api/status").await.0, 200);
    // No credentials at all is not a guess; three wrong tokens are allowed.
    for _ in 0..5 {
        assert_eq!(w.call("GET", "/api/status", None, None).await.0, 401);
    }
    for _ in 0..3 {
        assert_eq!(
            w.call("GET", "/api/status", Some("guess"), None).await.0,
            401
        );
    }
    // The fourth failure locks the address out, correct token or not.
    assert_eq!(
        w.call("GET", "/api/status", Some("guess"), None).await.0,
        401
    );
    let (status, body) = w.get("/api/status").await;
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too many failed logins"), "{body}");
    assert_eq!(w.call("GET", "/health", None, None).await.0, 200);
    w.stop().await;
}

#[actix_rt::test]
async fn loopback_is_exempt_from_the_lockout_by_default() {
    let w = start(&config(", rateLimit: { maxAttempts: 3 }", BOT1, TO_A)).await;
    for _ in 0..10 {
        assert_eq!(
            w.call("GET", "/api/status", Some("guess"), None).await.0,
            401
        );
    }
    assert_eq!(w.get("/api/status").await.0, 200);
    w.stop().await;
}

#[actix_rt::test]
async fn status_sessions_chat_and_metrics_show_what_happens() {
    let w = start(&config("", BOT1, TO_A)).await;
    let (status, body) = w.call("GET", "/ready", None, None).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#""ready":true"#) && body.contains("bot1"),
        "loopback sees details: {body}"
    );

    let reply = w.h.ask("alice", To::Dm("bot1"), "hello").await;
    assert_eq!(said(&reply), "hello");

    // The web chat: streamed through the same router and sessions.
    let (status, events) = w
        .send(
            "POST",
            "/api/chat",
            json!({"agent": "b", "thread": "t-1", "text": "from the page"}),
        )
        .await;
    assert_eq!(status, 200, "{events}");
    let done = events
        .split("\n\n")
        .find(|e| e.starts_with("event: done"))
        .unwrap_or_else(|| panic!("no done event in {events}"));
    assert!(
        done.contains("[Agent B · m · turn 1] You said: from the page"),
        "{done}"
    );
    // Chat commands work on the page too, answered by the gateway.
    let (status, events) = w
        .send(
            "POST",
            "/api/chat",
            json!({"agent": "b", "thread": "t-1", "text": "/status"}),
        )
        .await;
    assert_eq!(status, 200, "{events}");
    assert!(
        events.contains("Agent: b") && events.contains("Tokens:"),
        "{events}"
    );
    let (status, body) = w
        .send(
            "POST",
            "/api/chat",
            json!({"agent": "nobody", "thread": "t", "text": "x"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    let s = w.json("/api/status").await;
    assert_eq!(s["accounts"][0]["id"], "bot1");
    assert_eq!(s["accounts"][0]["stream"]["status"]["state"], "connected");
    assert_eq!(s["agents"].as_array().unwrap().len(), 2);
    assert_eq!(s["providers"][0]["circuit"]["state"], "closed");
    assert!(s["stats"]["messagesIn"].as_u64().unwrap() >= 2);
    // Reply latency percentiles over the last minutes, for the page's traffic line.
    assert!(
        s["replyLatency"]["count"].as_u64().unwrap() >= 1,
        "{}",
        s["replyLatency"]
    );
    assert!(
        s["replyLatency"]["p99Ms"].as_u64().unwrap()
            >= s["replyLatency"]["p50Ms"].as_u64().unwrap()
    );

    let sessions = w.json("/api/sessions").await;
    let keys: Vec<&str> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert!(
        keys.contains(&"agent:a:dingtalk-connector:direct:alice"),
        "{keys:?}"
    );
    assert!(keys.contains(&"agent:b:dashboard:t-1"), "{keys:?}");
    let t = w
        .json("/api/sessions/transcript?key=agent:b:dashboard:t-1")
        .await;
    assert_eq!(t["entries"][0]["content"], "from the page");
    assert_eq!(w.get("/api/sessions/transcript?key=nope").await.0, 404);

    let (status, metrics) = w.get("/metrics").await;
    assert_eq!(status, 200);
    for needle in [
        "# TYPE dingclaw_messages_received_total counter",
        r#"dingclaw_messages_received_total{account="bot1"}"#,
        r#"dingclaw_routes_total{matched_by="binding.channel"}"#,
        r#"dingclaw_routes_total{matched_by="explicit"}"#,
        r#"dingclaw_turn_seconds_bucket{agent="a",le="0.005"}"#,
        r#"dingclaw_provider_call_seconds_bucket{provider="offline",le="300"}"#,
        r#"dingclaw_reply_latency_seconds_count{channel="webchat"}"#,
        "dingclaw_sessions_resident",
        "dingclaw_accounts_connected",
        // Registered at zero, so alerts on increase() see the first one.
        r#"dingclaw_replies_total{account="bot1",result="error"}"#,
        r#"dingclaw_provider_errors_total{provider="offline",kind="auth"}"#,
        r#"dingclaw_cron_runs_total{status="skipped"}"#,
    ] {
        assert!(metrics.contains(needle), "{needle} missing from\n{metrics}");
    }
    assert_eq!(w.call("GET", "/metrics", None, None).await.0, 401);
    w.stop().await;
}

#[actix_rt::test]
async fn a_valid_change_applies_live_and_an_invalid_one_is_refused() {
    let w = start(&config("", BOT1, TO_A)).await;
    assert!(
        w.h.ask("alice", To::Dm("bot1"), "one")
            .await
            .starts_with("[Agent A")
    );

    // Bot1 now goes to agent b: the next message follows the new binding.
    std::fs::write(&w.file, config("", BOT1, &format!("{TO_B}, {TO_A}"))).unwrap();
    let (status, body) = w.call("POST", "/api/reload", Some(TOKEN), None).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["applied"], json!(["bindings"]));
    assert!(
        w.h.ask("alice", To::Dm("bot1"), "two")
            .await
            .starts_with("[Agent B")
    );

    // A broken file is refused with its paths; the running config stays.
    std::fs::write(
        &w.file,
        config("", BOT1, TO_A).replace("dmReplyMode", "dmReplyMod"),
    )
    .unwrap();
    let (status, body) = w.call("POST", "/api/reload", Some(TOKEN), None).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("channels.dingtalk-connector.dmReplyMod"),
        "{body}"
    );
    let s = w.json("/api/status").await;
    assert_eq!(s["reload"]["ok"], false);
    assert!(
        w.h.ask("alice", To::Dm("bot1"), "three")
            .await
            .starts_with("[Agent B")
    );

    // The file watcher does the same without being asked.
    let _watch = w.reloader.watch(Duration::from_millis(100)).unwrap();
    std::fs::write(&w.file, config("", BOT1, TO_A)).unwrap();
    let r = Arc::clone(&w.reloader);
    wait_until("the watcher reloads", Duration::from_secs(15), || {
        r.last().ok
    })
    .await;
    assert!(
        w.h.ask("alice", To::Dm("bot1"), "four")
            .await
            .starts_with("[Agent A")
    );
    w.stop().await;
}

#[actix_rt::test]
async fn accounts_added_and_removed_under_traffic_lose_no_message() {
    let w = start(&config("", BOT1, TO_A)).await;
    w.h.sim.sim.add_bot(NewBot {
        client_id: Some("webbot2".into()),
        client_secret: Some(CLIENT_SECRET.into()),
        name: Some("bot2".into()),
    });
    // Traffic to bot1 all along: 40 messages from 4 users while bot2 comes and goes.
    let traffic = async {
        let mut sent = Vec::new();
        for i in 0..40 {
            let user = format!("u{}", i % 4);
            sent.push((
                user.clone(),
                i / 4 + 1,
                w.h.say(&user, To::Dm("bot1"), &format!("m{i}")).await,
            ));
            actix_rt::time::sleep(Duration::from_millis(15)).await;
        }
        sent
    };
    let changes = async {
        actix_rt::time::sleep(Duration::from_millis(100)).await;
        std::fs::write(&w.file, config("", &format!("{BOT1}, {BOT2}"), TO_A)).unwrap();
        let added = w.reloader.reload_now("test");
        assert_eq!(
            added.report.applied,
            vec!["account bot2 started"],
            "{added:?}"
        );
        wait_until("bot2 connects", Duration::from_secs(15), || {
            w.h.sim
                .sim
                .bots()
                .iter()
                .any(|b| b.client_id == "webbot2" && b.connections > 0)
        })
        .await;
        let sent =
            w.h.sim
                .sim
                .say(&UserMessage {
                    from: "carol".into(),
                    bot: Some("webbot2".into()),
                    text: "hi bot2".into(),
                    ..UserMessage::default()
                })
                .await
                .unwrap();
        assert_eq!(said(&w.h.answered(&sent, 1).await[0].text), "hi bot2");
        std::fs::write(&w.file, config("", BOT1, TO_A)).unwrap();
        let removed = w.reloader.reload_now("test");
        assert_eq!(removed.report.applied, vec!["account bot2 stopped"]);
    };
    let (sent, ()) = tokio::join!(traffic, changes);
    for (user, n, s) in sent {
        let replies = w.h.answered(&s, 1).await;
        assert_eq!(replies.len(), 1, "{user}: answered once");
        assert_eq!(turn(&replies[0].text), n, "{user}: {}", replies[0].text);
    }
    wait_until("bot2 disconnects", Duration::from_secs(15), || {
        w.h.sim
            .sim
            .bots()
            .iter()
            .any(|b| b.client_id == "webbot2" && b.connections == 0)
    })
    .await;
    w.stop().await;
}

#[actix_rt::test]
async fn no_secret_appears_in_any_response_or_log_line() {
    let w = start(&config("", BOT1, TO_A)).await;
    let cid = w.h.group(&["bot1"], &["alice"]);
    w.h.sim
        .sim
        .add_robot(NewRobot {
            conversation_id: cid.clone(),
            secret: Some(ROBOT_SECRET.into()),
            access_token: Some(ROBOT_TOKEN.into()),
            ..NewRobot::default()
        })
        .unwrap();
    w.h.ask("alice", To::Group(&cid, &["bot1"]), "hello").await;
    let scheduler = w.h.rt.scheduler().unwrap();
    let job = add_job(
        &w.h.rt,
        owner("group", &cid),
        json!({
            "schedule": {"kind": "cron", "expr": "0 9 * * *"},
            "payload": {"kind": "agentTurn", "message": "report"},
            "delivery": {"mode": "webhook", "to": format!("https://oapi.dingtalk.com/robot/send?access_token={ROBOT_TOKEN}"), "secret": ROBOT_SECRET},
        }),
    )
    .await;
    assert_eq!(run_job(&w.h.rt, &job.id).await.delivery_error, None);
    // A webhook to a host that is not allowed, with a token in its address: refused, and the
    // address must not be echoed with its token.
    let refused = scheduler
        .send(AddJob {
            agent_id: "a".into(),
            owner: job.owner.clone(),
            spec: JobSpec::from_value(&json!({
                "schedule": {"kind": "cron", "expr": "0 9 * * *"},
                "payload": {"kind": "agentTurn", "message": "x"},
                "delivery": {"mode": "webhook", "to": format!("https://evil.example/hook?access_token={ROBOT_TOKEN}")},
            }))
            .unwrap(),
        })
        .await
        .unwrap();
    assert!(refused.is_err());
    // A broken reload, so its errors are logged and shown too.
    std::fs::write(
        &w.file,
        config("", BOT1, TO_A).replace("groupReplyMode", "groupReplyMod"),
    )
    .unwrap();
    let (_, reload) = w.call("POST", "/api/reload", Some(TOKEN), None).await;

    let mut seen = vec![reload];
    for path in [
        "/api/status".to_owned(),
        "/api/config".to_owned(),
        "/api/sessions".to_owned(),
        format!("/api/sessions/transcript?key=agent:a:cron:{}", job.id),
        "/api/cron/jobs".to_owned(),
        format!("/api/cron/jobs/{}/runs", job.id),
        "/metrics".to_owned(),
        "/ready".to_owned(),
    ] {
        let (status, body) = w.get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        seen.push(body);
    }
    let log = String::from_utf8_lossy(&captured_log().lock().unwrap()).into_owned();
    assert!(log.contains("scheduled task added"), "the log was captured");
    for secret in [
        TOKEN,
        CLIENT_SECRET,
        API_KEY,
        HOOK_TOKEN,
        ROBOT_TOKEN,
        ROBOT_SECRET,
    ] {
        for body in &seen {
            assert!(!body.contains(secret), "{secret} in a response: {body}");
        }
        assert!(!log.contains(secret), "{secret} in the log");
    }
    w.stop().await;
}

#[actix_rt::test]
async fn the_page_moves_with_its_base_path_and_can_be_turned_off() {
    let w = start(&config("}, controlUi: { basePath: \"/ops/\"", BOT1, TO_A)).await;
    // `/ops` redirects to `/ops/` (the client follows it).
    let (status, html) = w.call("GET", "/ops", None, None).await;
    assert!(
        status == 200 && html.contains("<title>dingclaw</title>"),
        "{status}"
    );
    let (status, html) = w.call("GET", "/ops/", None, None).await;
    assert_eq!(status, 200);
    assert!(html.contains("<title>dingclaw</title>"));
    assert_eq!(w.call("GET", "/ops/app.js", None, None).await.0, 200);
    assert_eq!(w.call("GET", "/", None, None).await.0, 404);
    assert_eq!(
        w.get("/api/status").await.0,
        200,
        "the API stays at the root"
    );
    assert!(
        w.server
            .login_url(&operator_auth(&w.h.config).unwrap().0)
            .contains("/ops/#token=")
    );
    w.stop().await;

    let w = start(&config("}, controlUi: { enabled: false", BOT1, TO_A)).await;
    assert_eq!(w.call("GET", "/", None, None).await.0, 404);
    assert_eq!(w.get("/api/status").await.0, 200);
    w.stop().await;
}

impl Web {
    /// A request with the given headers; returns the status, the answer's headers and body.
    async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (u16, awc::http::header::HeaderMap, String) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.server.url));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut resp = req.send().await.unwrap();
        let body = resp.body().limit(16 << 20).await.unwrap();
        (
            resp.status().as_u16(),
            resp.headers().clone(),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }
}

/// Found by probing a running gateway: `HEAD /health` was 404, a lower-case `bearer` was
/// refused (RFC 7235 makes the scheme case-insensitive), and API answers carried neither
/// `Cache-Control: no-store` nor `X-Content-Type-Options: nosniff`.
#[actix_rt::test]
async fn probes_schemes_and_headers_are_what_clients_expect() {
    let w = start(&config("", BOT1, TO_A)).await;
    for path in ["/health", "/healthz", "/ready", "/readyz"] {
        let (status, _, _) = w.raw("HEAD", path, &[]).await;
        assert!(status == 200 || status == 503, "HEAD {path}: {status}");
        let (status, headers, _) = w.raw("PUT", path, &[]).await;
        assert_eq!(status, 405, "PUT {path}");
        assert_eq!(headers.get("allow").unwrap(), "GET, HEAD");
    }
    let (status, headers, _) = w
        .raw(
            "GET",
            "/api/status",
            &[("Authorization", &format!("bearer {TOKEN}"))],
        )
        .await;
    assert_eq!(status, 200, "a lower-case scheme");
    assert_eq!(headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    let (_, headers, _) = w.raw("GET", "/api/sessions", &[]).await;
    assert_eq!(
        headers.get("cache-control").unwrap(),
        "no-store",
        "on a 401 too"
    );
    w.stop().await;
}

/// Found by probing: with `auth.mode: "none"` a DNS-rebinding page read every transcript,
/// and a cross-site form (`Content-Type: text/plain`) could `POST /api/reload`.
#[actix_rt::test]
async fn without_auth_only_local_hosts_and_same_site_writes_get_in() {
    let w = start(&config(", mode: \"none\"", BOT1, TO_A)).await;
    let (status, _, body) = w
        .raw(
            "GET",
            "/api/sessions",
            &[("Host", "rebind.attacker.example:18789")],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("127.0.0.1 or localhost"), "{body}");
    let (status, _, _) = w
        .raw("GET", "/api/sessions", &[("Host", "localhost")])
        .await;
    assert_eq!(status, 200);
    let (status, _, body) = w
        .raw(
            "POST",
            "/api/reload",
            &[
                ("Origin", "https://attacker.example"),
                ("Content-Type", "text/plain"),
            ],
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("cross-site"), "{body}");
    let (status, _, _) = w
        .raw("POST", "/api/reload", &[("Sec-Fetch-Site", "cross-site")])
        .await;
    assert_eq!(status, 403);
    let origin = w.server.url.clone();
    let (status, _, body) = w
        .raw("POST", "/api/reload", &[("Origin", origin.as_str())])
        .await;
    assert_eq!(status, 200, "the page itself: {body}");
    let (status, _, _) = w.raw("POST", "/api/reload", &[]).await;
    assert_eq!(status, 200, "a script");
    w.stop().await;
}

/// Found by probing: the lockout was keyed on the peer address, so behind a local reverse
/// proxy (every peer 127.0.0.1, exempt) guessing was never slowed, and behind a remote one a
/// single guesser locked everyone out. Now the forwarded client is the key.
#[actix_rt::test]
async fn behind_a_proxy_each_client_has_its_own_lockout() {
    let w = start(&config(", rateLimit: { maxAttempts: 3 }", BOT1, TO_A)).await;
    let guesser = [("X-Forwarded-For", "203.0.113.9")];
    for _ in 0..4 {
        let (status, _, _) = w
            .raw(
                "GET",
                "/api/status",
                &[guesser[0], ("Authorization", "Bearer guess")],
            )
            .await;
        assert_eq!(status, 401);
    }
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, body) = w
        .raw(
            "GET",
            "/api/status",
            &[guesser[0], ("Authorization", &bearer)],
        )
        .await;
    assert_eq!(
        status, 429,
        "the guesser is locked out, forwarded or not: {body}"
    );
    let (status, _, _) = w
        .raw(
            "GET",
            "/api/status",
            &[
                ("X-Forwarded-For", "198.51.100.20"),
                ("Authorization", &bearer),
            ],
        )
        .await;
    assert_eq!(status, 200, "the operator behind the same proxy is not");
    let (status, _, _) = w
        .raw("GET", "/api/status", &[("Authorization", &bearer)])
        .await;
    assert_eq!(status, 200, "nor a direct local client");
    w.stop().await;
}

/// What the page is built on: the live stream (status with `health`), a thread's history with
/// markdown rendered safely, earlier threads, Stop, a provider's last error and "try now", and
/// the log ring; all behind the token.
#[actix_rt::test]
async fn the_page_apis_stream_render_stop_and_retry() {
    let w = start(&config("", BOT1, TO_A)).await;
    for path in [
        "/api/events",
        "/api/chat/history?agent=a&thread=t",
        "/api/logs",
    ] {
        assert_eq!(w.call("GET", path, None, None).await.0, 401, "{path}");
    }

    // The live stream opens with the whole status, health included.
    let mut resp = w
        .http
        .get(format!("{}/api/events", w.server.url))
        .insert_header(("Authorization", format!("Bearer {TOKEN}")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers().get("content-type").unwrap(),
        "text/event-stream"
    );
    let mut first = String::new();
    while !first.contains("\n\n") {
        let chunk = futures_util::StreamExt::next(&mut resp)
            .await
            .unwrap()
            .unwrap();
        first.push_str(&String::from_utf8_lossy(&chunk));
    }
    let data: Value = serde_json::from_str(
        first
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .unwrap(),
    )
    .unwrap();
    assert!(first.starts_with("event: status\n"), "{first}");
    assert_eq!(data["health"], json!({"level": "ok", "problems": []}));
    drop(resp);

    // A thread comes back with the answer rendered and raw HTML kept as text.
    let text = "**hi** <script>alert(1)</script>";
    let (status, _) = w
        .send(
            "POST",
            "/api/chat",
            json!({"agent": "b", "thread": "web-1", "text": text}),
        )
        .await;
    assert_eq!(status, 200);
    // The store is written behind the answer: wait for both entries.
    let start = std::time::Instant::now();
    let history = loop {
        let h = w.json("/api/chat/history?agent=b&thread=web-1").await;
        if h["entries"].as_array().is_some_and(|e| e.len() >= 2) {
            break h;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{h}");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(history["entries"][0]["role"], "user");
    assert_eq!(history["entries"][0]["text"], text);
    let html = history["entries"][1]["html"].as_str().unwrap();
    assert!(html.contains("<strong>hi</strong>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;") && !html.contains("<script"),
        "{html}"
    );
    let threads = w.json("/api/chat/threads?agent=b").await;
    assert_eq!(threads[0]["thread"], "web-1");
    assert!(threads[0]["title"].as_str().unwrap().starts_with("**hi**"));
    let (status, body) = w.get("/api/chat/history?agent=b&thread=../x").await;
    assert_eq!(status, 400);
    assert!(body.contains(r#""code":"bad_thread""#), "{body}");

    // Stop ends a slow turn at once.
    w.h.model.script([dingclaw::offline_model::Step {
        model: None,
        times: Some(1),
        action: dingclaw::offline_model::Action::Delay { ms: 20_000 },
    }]);
    let slow = w.send(
        "POST",
        "/api/chat",
        json!({"agent": "b", "thread": "web-2", "text": "take your time"}),
    );
    let stop = async {
        actix_rt::time::sleep(Duration::from_millis(300)).await;
        w.send(
            "POST",
            "/api/chat/stop",
            json!({"agent": "b", "thread": "web-2"}),
        )
        .await
    };
    let started = std::time::Instant::now();
    let ((_, events), (status, stopped)) = futures_util::join!(slow, stop);
    assert_eq!(status, 200, "{stopped}");
    assert!(started.elapsed() < Duration::from_secs(10), "{events}");
    assert!(events.contains("event: done"), "{events}");

    // A refused key: the provider's last error, in a kind the page can word.
    let fail = |status: u16, times: u32| dingclaw::offline_model::Step {
        model: None,
        times: Some(times),
        action: dingclaw::offline_model::Action::Fail {
            status,
            retry_after: None,
            message: Some("Incorrect API key provided".into()),
        },
    };
    w.h.model.script([fail(401, 1)]);
    let ask = |i: usize| {
        w.send(
            "POST",
            "/api/chat",
            json!({"agent": "b", "thread": format!("fail-{i}"), "text": "x"}),
        )
    };
    ask(0).await;
    let p = w.json("/api/status").await["providers"][0].clone();
    assert_eq!(p["lastError"]["kind"], "auth", "{p}");
    // An outage opens the circuit: an error for the badge, and "try now" closes it.
    w.h.model.script([fail(503, 200)]);
    for i in 1..8 {
        ask(i).await;
    }
    let s = w.json("/api/status").await;
    let p = &s["providers"][0];
    assert_eq!(p["lastError"]["kind"], "server_error", "{p}");
    assert_eq!(p["circuit"]["state"], "open", "{p}");
    assert_eq!(s["health"]["level"], "error");
    assert_eq!(s["health"]["problems"][0]["kind"], "circuit_open");
    let (status, _) = w
        .call("POST", "/api/providers/offline/retry", Some(TOKEN), None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        w.json("/api/status").await["providers"][0]["circuit"]["state"],
        "closed"
    );
    let (status, body) = w
        .call("POST", "/api/providers/nobody/retry", Some(TOKEN), None)
        .await;
    assert_eq!(status, 404);
    assert!(body.contains(r#""code":"no_provider""#), "{body}");

    // Jobs made on the page: created for an agent, owned by the page, changed by merge patch.
    let job = json!({"name": "Standup", "schedule": {"kind": "cron", "expr": "0 9 * * 1-5"},
                     "payload": {"kind": "agentTurn", "message": "summarise"}, "delivery": {"mode": "none"}});
    let (status, body) = w
        .send(
            "POST",
            "/api/cron/jobs",
            json!({"agent": "nobody", "job": job}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(body.contains(r#""code":"no_agent""#), "{body}");
    let (status, body) = w
        .send(
            "POST",
            "/api/cron/jobs",
            json!({"agent": "a", "job": {"name": "x"}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = w
        .send("POST", "/api/cron/jobs", json!({"agent": "a", "job": job}))
        .await;
    assert_eq!(status, 201, "{body}");
    let created: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(created["owner"]["channel"], "webchat");
    let id = created["id"].as_str().unwrap();
    let (status, body) = w
        .send(
            "PATCH",
            &format!("/api/cron/jobs/{id}"),
            json!({"enabled": false, "schedule": {"expr": "30 8 * * *"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let changed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(changed["enabled"], false);
    assert!(
        changed["scheduleText"]
            .as_str()
            .unwrap()
            .starts_with("cron 30 8 * * *"),
        "{changed}"
    );
    let (status, _) = w
        .send("PATCH", "/api/cron/jobs/nope", json!({"enabled": true}))
        .await;
    assert_eq!(status, 404);
    w.stop().await;
}

/// The config editor: secrets never leave the server, an invalid edit is refused with its
/// paths and writes nothing, a valid one is written with its secrets back and applied, and a
/// file changed on disk meanwhile is not overwritten.
#[actix_rt::test]
async fn the_config_file_is_edited_safely() {
    let w = start(&config("", BOT1, TO_A)).await;
    let original = std::fs::read_to_string(&w.file).unwrap();
    let f = w.json("/api/config/file").await;
    let text = f["text"].as_str().unwrap();
    for secret in [TOKEN, CLIENT_SECRET, API_KEY, HOOK_TOKEN] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    assert!(text.contains("***secret-1***"), "{text}");
    let digest = f["digest"].as_str().unwrap();

    let broken = text.replace(r#"name: "Agent B""#, r#"nmae: "Agent B""#);
    let edit = |text: &str, digest: &str| json!({"text": text, "digest": digest});
    let (status, body) = w
        .send("POST", "/api/config/file/check", edit(&broken, digest))
        .await;
    assert_eq!(status, 200, "{body}");
    let verdict: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(verdict["ok"], false);
    assert!(
        verdict["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("agents.list.1.identity.nmae"),
        "{verdict}"
    );
    let (status, _) = w
        .send("PUT", "/api/config/file", edit(&broken, digest))
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        std::fs::read_to_string(&w.file).unwrap(),
        original,
        "nothing written"
    );

    let renamed = text.replace(r#"name: "Agent B""#, r#"name: "Agent Bee""#);
    let (status, body) = w
        .send("PUT", "/api/config/file", edit(&renamed, digest))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""ok":true"#), "{body}");
    let saved = std::fs::read_to_string(&w.file).unwrap();
    assert!(
        saved.contains("Agent Bee") && saved.contains(CLIENT_SECRET) && saved.contains(API_KEY)
    );
    assert!(!body.contains(CLIENT_SECRET) && !body.contains(API_KEY));
    let status = w.json("/api/status").await;
    assert!(
        status["agents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["name"] == "Agent Bee"),
        "{status}"
    );
    // The page's copy is now stale: saving it again is refused.
    let (status, body) = w
        .send("PUT", "/api/config/file", edit(&renamed, digest))
        .await;
    assert_eq!(status, 409);
    assert!(body.contains(r#""code":"changed""#), "{body}");
    w.stop().await;
}

/// Sessions carry what people call them (a group's name, a person's nick), and an operator
/// can start one afresh: its transcript stays stored, the agent no longer sees it.
#[actix_rt::test]
async fn sessions_have_titles_and_can_be_started_afresh() {
    let w = start(&config("", BOT1, TO_A)).await;
    let group =
        w.h.sim
            .sim
            .add_group(dingclaw::sim::NewGroup {
                title: Some("发布小组".into()),
                members: vec!["alice".into()],
                bots: vec![w.h.client_id("bot1")],
                ..dingclaw::sim::NewGroup::default()
            })
            .unwrap()
            .conversation_id;
    w.h.ask("alice", To::Group(&group, &["bot1"]), "first")
        .await;
    let second =
        w.h.ask("alice", To::Group(&group, &["bot1"]), "second")
            .await;
    assert_eq!(turn(&second), 2);
    let key = format!("agent:a:dingtalk-connector:group:{group}");
    let start = std::time::Instant::now();
    loop {
        let sessions = w.json("/api/sessions").await;
        let row = sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key.as_str())
            .cloned();
        if row.as_ref().is_some_and(|r| r["title"] == "发布小组") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{row:?}");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, body) = w
        .send("POST", "/api/sessions/reset", json!({"key": key}))
        .await;
    assert_eq!(status, 200, "{body}");
    let t = w
        .json(&format!("/api/sessions/transcript?key={}", urlencode(&key)))
        .await;
    assert_eq!(t["entries"], json!([]), "{t}");
    let again =
        w.h.ask("alice", To::Group(&group, &["bot1"]), "third")
            .await;
    assert_eq!(turn(&again), 1, "{again}");
    let (status, _) = w
        .send("POST", "/api/sessions/reset", json!({"key": "nope"}))
        .await;
    assert_eq!(status, 404);
    w.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b':' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
