//! The web page in a real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs), driven over WebDriver: open the login URL (token in the fragment), see
//! both bots connected, send a chat message and watch the reply stream in. A screenshot is
//! saved to `target/test-artifacts/web-page.png`.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dingclaw::offline_model::ModelOptions;
use dingclaw::web::{WebServer, operator_auth};
use fantoccini::{ClientBuilder, Locator};
use serde_json::json;
use support::gateway::{Harness, test_sim};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Stops chromedriver when the test ends, pass or fail.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const CONFIG: &str = r#"{ agents: { list: [
        { id: "service", identity: { name: "Service Assistant" }, model: "offline/qwen" },
        { id: "tech", identity: { name: "Tech Expert" }, model: "offline/qwen" } ] },
    channels: { "dingtalk-connector": { endpoint: "${SIM}", groupReplyMode: "text", dmReplyMode: "text",
      stream: { pingIntervalMs: 500, pongTimeoutMs: 3000, silenceTimeoutMs: 5000 },
      accounts: { bot1: { clientId: "browserbot1", clientSecret: "s1" }, bot2: { clientId: "browserbot2", clientSecret: "s2" } } } },
    bindings: [ { agentId: "service", match: { channel: "dingtalk-connector", accountId: "bot1" } },
                { agentId: "tech", match: { channel: "dingtalk-connector", accountId: "bot2" } } ],
    models: { providers: { offline: { baseUrl: "${MODEL}", apiKey: "k" } } },
    gateway: { auth: { token: "browser-test-token" } },
    dingclaw: { store: "memory" } }"#;

#[actix_rt::test]
async fn the_page_logs_in_shows_the_bots_and_streams_a_chat_reply() {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "this test needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver (.ci/run does)"
    );
    // A slow model, so the reply arrives in several parts.
    let h = Harness::start_with(
        CONFIG,
        ModelOptions {
            latency: Duration::from_millis(1_500),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await;
    let (auth, _) = operator_auth(&h.config).unwrap();
    let web = WebServer::start(
        Arc::clone(&h.rt),
        "127.0.0.1:0".parse().unwrap(),
        auth.clone(),
        None,
    )
    .await
    .unwrap();
    let port = free_port();
    let profile = tempfile::tempdir().unwrap();
    let _driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,900", format!("--user-data-dir={}", profile.path().display())],
        }),
    );
    let start = Instant::now();
    let browser = loop {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if start.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                actix_rt::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("chromedriver did not start: {e}"),
        }
    };

    browser.goto(&web.login_url(&auth)).await.unwrap();
    // Logged in from the fragment, which is then removed from the address bar.
    let health = browser
        .wait()
        .for_element(Locator::Css("#health"))
        .await
        .unwrap();
    let start = Instant::now();
    while health.text().await.unwrap() != "2/2 bots connected" {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{}",
            health.text().await.unwrap()
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    let url = browser.current_url().await.unwrap();
    assert!(!url.as_str().contains("token"), "{url}");

    // Chat with the tech agent; the reply streams in.
    let select = browser.find(Locator::Css("#chat-agent")).await.unwrap();
    select.select_by_value("tech").await.unwrap();
    let input = browser.find(Locator::Css("#chat-input")).await.unwrap();
    input.send_keys("my laptop does not boot").await.unwrap();
    browser
        .find(Locator::Css("#chat-send"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let bubble = browser
        .wait()
        .for_element(Locator::Css(".msg.assistant"))
        .await
        .unwrap();
    let full = "[Tech Expert · qwen · turn 1] You said: my laptop does not boot\nhistory: my laptop does not boot";
    let (mut partial_seen, start) = (false, Instant::now());
    loop {
        let text = bubble.text().await.unwrap();
        let class = bubble.attr("class").await.unwrap().unwrap_or_default();
        if class.contains("streaming") && !text.is_empty() && text != "…" && text != full {
            partial_seen = true;
        }
        if text == full && !class.contains("streaming") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{class}: {text}");
        actix_rt::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(
        partial_seen,
        "the reply was shown in parts before it was complete"
    );

    // The bots tab lists both accounts as connected.
    browser
        .find(Locator::Css("#tabs button[data-tab=bots]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for account in ["bot1", "bot2"] {
        // The table is redrawn every 2 s: read the cell afresh until it shows.
        let css = format!("#bots-table tr[data-account={account}] .state");
        let start = Instant::now();
        loop {
            let text = match browser.find(Locator::Css(&css)).await {
                Ok(cell) => cell.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text == "connected" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{account}: {text:?}"
            );
            actix_rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
    browser
        .find(Locator::Css("#tabs button[data-tab=chat]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let png = browser.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("web-page.png"), png).unwrap();
    browser.close().await.unwrap();
    web.stop().await;
    h.stop().await;
}
