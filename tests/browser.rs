//! The web page in a real headless Chromium (Debian's `chromium` and `chromium-driver`, which
//! `.ci/run` installs), driven over WebDriver, at a desktop width and at a phone's (400 px):
//! login (neutral prompt, a wrong token, the login URL pasted into the open tab), chat with
//! two agents in threads of their own that survive a reload, markdown rendered and HTML shown
//! as text, Stop during a slow turn, a provider error in words, a bot refused by DingTalk
//! turning the badge red, the language switch, logs and transcripts, and the axe-core
//! accessibility engine on every tab (no serious or critical violation). Screenshots go to
//! `target/test-artifacts/`.

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dingclaw::offline_model::{Action, ModelOptions, Step};
use dingclaw::sim::ChaosRequest;
use dingclaw::web::{WebServer, operator_auth};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use support::gateway::{Harness, test_sim};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/mcp-servers/node_modules/axe-core/axe.min.js"
);
const TOKEN: &str = "browser-test-token";

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

const CONFIG: &str = r##"{ agents: { list: [
        { id: "service", identity: { name: "Service Assistant" }, model: "offline/qwen" },
        { id: "tech", identity: { name: "Tech Expert" }, model: "offline/qwen" } ] },
    channels: { "dingtalk-connector": { endpoint: "${SIM}", groupReplyMode: "text", dmReplyMode: "text",
      stream: { pingIntervalMs: 500, pongTimeoutMs: 3000, silenceTimeoutMs: 5000, reconnectInitialMs: 100, authRetryMs: 60000 },
      accounts: { bot1: { clientId: "browserbot1", clientSecret: "s1" }, bot2: { clientId: "browserbot2", clientSecret: "s2" } } } },
    bindings: [ { agentId: "service", match: { channel: "dingtalk-connector", accountId: "bot1" } },
                { agentId: "tech", match: { channel: "dingtalk-connector", accountId: "bot2" } } ],
    models: { providers: { offline: { baseUrl: "${MODEL}", apiKey: "k", retries: 0 } } },
    gateway: { auth: { token: "browser-test-token" } },
    dingclaw: { store: "memory" } }"##;

async fn start_browser(port: u16, profile: &std::path::Path) -> Client {
    start_browser_with(port, profile, &[]).await
}

async fn start_browser_with(port: u16, profile: &std::path::Path, extra: &[&str]) -> Client {
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--lang=en-US".into(),
        "--window-size=1400,900".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": CHROMIUM, "args": args}),
    );
    let start = Instant::now();
    loop {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => return c,
            Err(e) if start.elapsed() < Duration::from_secs(20) => {
                let _ = e;
                actix_rt::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("chromedriver did not start: {e}"),
        }
    }
}

/// Runs `script` in the page and returns its value.
async fn js(b: &Client, script: &str) -> Value {
    b.execute(script, vec![]).await.unwrap()
}

/// Waits (10 s at most) until `script` returns something truthy, and returns it.
async fn until(b: &Client, what: &str, script: &str) -> Value {
    let start = Instant::now();
    loop {
        let v = js(b, script).await;
        if !(v.is_null() || v == false || v == "" || v == 0) {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what}: still {v} after 10 s"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn click(b: &Client, css: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
}

async fn tab(b: &Client, name: &str) {
    click(b, &format!("#tabs [data-tab={name}]")).await;
}

/// axe-core in the page: no serious or critical WCAG 2.x A/AA violation on the visible tab.
async fn accessible(b: &Client, axe: &str, context: &str) {
    js(b, axe).await;
    let result = b
        .execute_async(
            r##"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] })
                 .then(r => done(r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
                   .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5) }))))
                 .catch(e => done([{ id: "axe-error", help: String(e) }]));"##,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(result, json!([]), "accessibility violations on {context}");
}

async fn screenshot(b: &Client, name: &str) {
    let png = b.screenshot().await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

async fn send_chat(b: &Client, text: &str) {
    let input = b.find(Locator::Css("#chat-input")).await.unwrap();
    input.send_keys(text).await.unwrap();
    click(b, "#chat-send").await;
}

/// The text of the last finished answer in the chat log.
const LAST_ANSWER: &str = r##"const m = [...document.querySelectorAll("#chat-log .msg.assistant")].pop();
    return m && !m.classList.contains("streaming") ? m.querySelector(".body").innerText : "";"##;

#[actix_rt::test]
async fn the_operator_page_works_in_a_real_browser_and_is_accessible() {
    assert!(
        std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
        "this test needs Debian's chromium and chromium-driver: apt-get install chromium chromium-driver (.ci/run does)"
    );
    let axe = std::fs::read_to_string(AXE).unwrap_or_else(|_| {
        panic!("this test needs axe-core: npm install --prefix target/mcp-servers axe-core (.ci/run does)")
    });
    dingclaw::log_ring::install_ring_only();
    // A slow model, so the reply arrives in several parts.
    let h = Harness::start_with(
        CONFIG,
        ModelOptions {
            latency: Duration::from_millis(600),
            ..ModelOptions::default()
        },
        test_sim(),
    )
    .await;
    let (auth, _) = operator_auth(&h.config).unwrap();
    // Started from a file, so the Config tab can edit it.
    let (file, reloader) = h.file_reloader(CONFIG);
    let web = WebServer::start(
        Arc::clone(&h.rt),
        "127.0.0.1:0".parse().unwrap(),
        auth.clone(),
        Some(reloader),
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
    let b = start_browser(port, profile.path()).await;
    let page = format!("{}/", web.url);

    // -- login: a neutral prompt, then a wrong token, then the login URL pasted in the tab.
    b.goto(&page).await.unwrap();
    until(
        &b,
        "the login form",
        "return !document.getElementById('login').hidden",
    )
    .await;
    assert_eq!(
        js(
            &b,
            "return document.getElementById('login-error').textContent"
        )
        .await,
        ""
    );
    accessible(&b, &axe, "the login form").await;
    b.find(Locator::Css("#login-token"))
        .await
        .unwrap()
        .send_keys("not-the-token")
        .await
        .unwrap();
    click(&b, "#login-form button[type=submit]").await;
    until(
        &b,
        "the refusal",
        "return document.getElementById('login-error').textContent.includes('not accepted')",
    )
    .await;
    js(&b, &format!("location.hash = '#token={TOKEN}'; return 1")).await;
    until(
        &b,
        "all bots connected",
        "return document.getElementById('health').textContent === 'All 2 bots connected'",
    )
    .await;
    assert!(!b.current_url().await.unwrap().as_str().contains("token"));

    // -- chat: one thread per agent, answers labelled, markdown rendered, HTML kept as text.
    b.find(Locator::Css("#chat-agent"))
        .await
        .unwrap()
        .select_by_value("service")
        .await
        .unwrap();
    send_chat(
        &b,
        "hello **bold** <img src=x onerror=window.__xss=1><script>window.__xss=2</script>",
    )
    .await;
    // Streamed in parts, then finished.
    until(
        &b,
        "a partial answer",
        r##"const m = document.querySelector("#chat-log .msg.assistant.streaming .body");
           return m && m.textContent.length > 2 && m.textContent !== "…""##,
    )
    .await;
    let answer = until(&b, "the service answer", LAST_ANSWER).await;
    let answer = answer.as_str().unwrap();
    assert!(
        answer.contains("You said: hello bold <img src=x"),
        "{answer}"
    );
    assert_eq!(
        js(&b, r##"return [document.querySelectorAll("#chat-log strong").length > 0,
                   document.querySelectorAll("#chat-log img, #chat-log script").length,
                   window.__xss === undefined,
                   [...document.querySelectorAll("#chat-log .msg.assistant .who")].map(w => w.textContent)]"##).await,
        json!([true, 0, true, ["Service Assistant"]])
    );
    b.find(Locator::Css("#chat-agent"))
        .await
        .unwrap()
        .select_by_value("tech")
        .await
        .unwrap();
    until(
        &b,
        "an empty tech thread",
        "return document.querySelector('#chat-log .empty') !== null",
    )
    .await;
    send_chat(&b, "my laptop does not boot").await;
    let answer = until(&b, "the tech answer", LAST_ANSWER).await;
    assert!(
        answer.as_str().unwrap().starts_with("[Tech Expert"),
        "{answer}"
    );
    assert_eq!(
        js(
            &b,
            "return document.querySelectorAll('#chat-log .msg').length"
        )
        .await,
        2,
        "the tech thread holds only its own messages"
    );
    // A reload gives each agent's thread back.
    b.refresh().await.unwrap();
    until(
        &b,
        "the tech thread after a reload",
        "return document.getElementById('chat-log').innerText.includes('my laptop does not boot')",
    )
    .await;
    b.find(Locator::Css("#chat-agent"))
        .await
        .unwrap()
        .select_by_value("service")
        .await
        .unwrap();
    until(
        &b,
        "the service thread after a reload",
        r##"const t = document.getElementById('chat-log').innerText;
           return t.includes('hello') && !t.includes('laptop') && document.querySelector('#chat-log strong') !== null"##,
    )
    .await;
    accessible(&b, &axe, "the chat tab").await;

    // -- Stop during a slow turn.
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Delay { ms: 20_000 },
    }]);
    send_chat(&b, "write me a novel").await;
    until(
        &b,
        "Stop enabled",
        "return !document.getElementById('chat-stop').disabled",
    )
    .await;
    click(&b, "#chat-stop").await;
    until(
        &b,
        "the turn stopped",
        "return document.getElementById('chat-stop').disabled",
    )
    .await;

    // -- a provider error in words, on the answer and on the Bots tab.
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::Fail {
            status: 401,
            retry_after: None,
            message: Some("Incorrect API key provided".into()),
        },
    }]);
    send_chat(&b, "are you there").await;
    until(&b, "the failed answer", LAST_ANSWER).await;
    tab(&b, "bots").await;
    until(
        &b,
        "the provider error in words",
        r##"const r = document.querySelector('#providers-table tr[data-provider=offline]');
           return r && r.innerText.includes('the API key was rejected')"##,
    )
    .await;
    accessible(&b, &axe, "the bots tab").await;

    // -- a bot refused by DingTalk turns the badge red, naming it, within 2 s.
    h.sim.sim.chaos(&ChaosRequest {
        reject_open: Some(401),
        ..ChaosRequest::default()
    });
    h.sim.sim.drop_connections("browserbot1");
    let start = Instant::now();
    until(
        &b,
        "a red badge naming bot1",
        r##"const h = document.getElementById('health');
           return h.classList.contains('level-error') && h.textContent.includes('bot1')"##,
    )
    .await;
    assert!(
        start.elapsed() < Duration::from_secs(2) + Duration::from_millis(800),
        "{:?}",
        start.elapsed()
    );

    // -- sessions and transcripts: message text stays text.
    tab(&b, "sessions").await;
    until(
        &b,
        "the web sessions",
        "return document.querySelectorAll('#sessions-table tbody tr').length >= 2",
    )
    .await;
    js(&b, r##"[...document.querySelectorAll('#sessions-table tbody tr')]
              .find(r => r.dataset.key.startsWith('agent:service:dashboard:')).querySelector('button').click(); return 1"##).await;
    until(
        &b,
        "the transcript",
        "return document.getElementById('transcript-entries').innerText.includes('<script>window.__xss=2</script>')",
    )
    .await;
    assert_eq!(
        js(
            &b,
            "return document.querySelectorAll('#transcript img, #transcript script').length"
        )
        .await,
        0
    );
    accessible(&b, &axe, "the sessions tab").await;

    // -- jobs: created on the page, run now (its history), rescheduled, disabled.
    tab(&b, "jobs").await;
    click(&b, "#job-new summary").await;
    for (css, text) in [
        ("#job-name", "Daily report"),
        ("#job-message", "report the weather"),
    ] {
        b.find(Locator::Css(css))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    accessible(&b, &axe, "the jobs tab with its form").await;
    click(&b, "#job-form button[type=submit]").await;
    until(
        &b,
        "the new job",
        "return document.getElementById('jobs-table').innerText.includes('Daily report')",
    )
    .await;
    let job = "document.querySelector('#jobs-table tr[data-job]')";
    let button = |label: &str| {
        format!(
            "[...{job}.querySelectorAll('button')].find(x => x.textContent === '{label}').click(); return 1"
        )
    };
    assert!(
        js(&b, &format!("return {job}.innerText"))
            .await
            .as_str()
            .unwrap()
            .contains("owner: the web page · agent: Service Assistant")
    );
    js(&b, &button("Run now")).await;
    until(
        &b,
        "the run's result",
        &format!("return {job}.children[3].textContent.startsWith('ok')"),
    )
    .await;
    js(&b, &button("History")).await;
    until(&b, "the run history", "const h = document.querySelector('#jobs-table tr[data-history] li'); return h && h.textContent.includes('manual')").await;
    js(&b, &button("Edit schedule")).await;
    let input = until(
        &b,
        "the schedule editor",
        "return document.querySelector('#jobs-table input[id^=edit-]') ? 1 : 0",
    )
    .await;
    assert_eq!(input, 1);
    let field = b
        .find(Locator::Css("#jobs-table input[id^=edit-]"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys("30 8 * * *").await.unwrap();
    js(&b, &button("Save")).await;
    until(
        &b,
        "the new schedule",
        &format!("return {job}.children[1].textContent.includes('cron 30 8 * * *')"),
    )
    .await;
    js(&b, &button("Disable")).await;
    until(&b, "the job disabled", &format!("return {job}.children[2].textContent === 'disabled' && {job}.innerText.includes('Enable')")).await;
    accessible(&b, &axe, "the jobs tab").await;

    // -- logs: the gateway's lines, and HTML in a line shown as text.
    tracing::warn!("a log line with <img src=x onerror=window.__xss=3> in it");
    tab(&b, "logs").await;
    until(
        &b,
        "the log lines",
        r##"const t = document.getElementById('log-lines').innerText;
           return t.includes('connected to DingTalk') && t.includes('<img src=x onerror=window.__xss=3>')"##,
    )
    .await;
    assert_eq!(js(&b, "return [document.querySelectorAll('#log-lines img').length, window.__xss === undefined]").await, json!([0, true]));
    accessible(&b, &axe, "the logs tab").await;

    tab(&b, "config").await;
    until(
        &b,
        "the config",
        "return document.getElementById('config-json').textContent.includes('browserbot1')",
    )
    .await;
    // The editor: secrets hidden, an invalid edit refused with its path, a valid one applied.
    click(&b, "#config-edit summary").await;
    until(
        &b,
        "the file in the editor",
        "return document.getElementById('config-text').value.includes('***secret-')",
    )
    .await;
    assert_eq!(
        js(
            &b,
            &format!("return document.getElementById('config-text').value.includes('{TOKEN}')")
        )
        .await,
        false
    );
    js(&b, r##"const t = document.getElementById('config-text'); t.value = t.value.replace('name: "Tech Expert"', 'nmae: "Tech Guru"'); return 1"##).await;
    click(&b, "#config-check").await;
    until(&b, "the refusal with its path", "return document.getElementById('config-verdict').innerText.includes('agents.list.1.identity.nmae')").await;
    js(&b, r##"const t = document.getElementById('config-text'); t.value = t.value.replace('nmae: "Tech Guru"', 'name: "Tech Guru"'); return 1"##).await;
    click(&b, "#config-apply").await;
    until(
        &b,
        "the change applied",
        "return document.getElementById('config-verdict').innerText.includes('Saved and applied')",
    )
    .await;
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("Tech Guru")
    );
    accessible(&b, &axe, "the config tab").await;
    screenshot(&b, "web-page.png").await;

    // -- the language switch: every label and the badge in Chinese.
    click(&b, "#lang").await;
    until(
        &b,
        "Chinese labels",
        r##"return document.documentElement.lang === 'zh-CN'
           && document.querySelector('#tabs [data-tab=chat]').textContent === '对话'
           && document.getElementById('health').textContent.includes('钉钉拒绝了它的凭证')"##,
    )
    .await;
    accessible(&b, &axe, "the config tab in Chinese").await;
    click(&b, "#lang").await;

    // -- a phone's width: tables become cards that keep their actions and errors.
    b.set_window_size(400, 800).await.unwrap();
    tab(&b, "jobs").await;
    until(
        &b,
        "Run now on a phone",
        r##"const btn = [...document.querySelectorAll('#jobs-table button')].find(x => x.textContent === 'Run now');
           const r = btn && btn.getBoundingClientRect();
           return r && r.width > 0 && r.right <= window.innerWidth"##,
    )
    .await;
    accessible(&b, &axe, "the jobs tab at 400 px").await;
    tab(&b, "bots").await;
    until(
        &b,
        "the bot's error on a phone",
        r##"const c = document.querySelector('#bots-table tr[data-account=bot1] td:last-child');
           const r = c && c.getBoundingClientRect();
           return r && r.width > 0 && c.textContent.length > 0 && getComputedStyle(c, '::before').content.includes('Last error')"##,
    )
    .await;
    accessible(&b, &axe, "the bots tab at 400 px").await;
    screenshot(&b, "web-page-phone.png").await;

    // -- Log out: back to the login form, the token forgotten.
    click(&b, "#logout").await;
    until(&b, "logged out", "return !document.getElementById('login').hidden && !sessionStorage.getItem('dingclaw.token')").await;

    b.close().await.unwrap();

    // -- the dark theme (the system's preference) keeps the same contrast.
    let dark_profile = tempfile::tempdir().unwrap();
    let d = start_browser_with(port, dark_profile.path(), &["--force-dark-mode"]).await;
    d.goto(&web.login_url(&auth)).await.unwrap();
    until(&d, "the dark theme", "return matchMedia('(prefers-color-scheme: dark)').matches && !document.getElementById('app').hidden").await;
    accessible(&d, &axe, "the chat tab, dark").await;
    tab(&d, "bots").await;
    accessible(&d, &axe, "the bots tab, dark").await;
    screenshot(&d, "web-page-dark.png").await;
    d.close().await.unwrap();

    web.stop().await;
    h.stop().await;
}
