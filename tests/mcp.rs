//! MCP servers through the whole gateway, against servers no one here wrote: `mcp-server-time`
//! from PyPI (stdio), the MCP project's "everything" server from npm (stdio, streamable HTTP
//! and the legacy SSE transport) and its filesystem server. The offline model's script makes
//! the tool calls a real model would; each result reaches the answer. Failures: a server
//! killed mid-call is started again and the next call works; a server that never answers hits
//! the deadline and the turn still ends with a reply; a server that exits at once spends its
//! restart budget without taking the gateway down; a 5 MB result is cut; a reload touches only
//! the server that changed.

mod support;

use std::time::Duration;

use dingclaw::offline_model::{Action, ModelOptions, Step};
use dingclaw_actors::actors::RuntimeBuilder;
use dingclaw_actors::supervise::RestartPolicy;
use dingclaw_actors::tools::{McpServerStatus, McpState};
use serde_json::{Value, json};
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, test_config, test_sim};
use support::mcp::{HttpServer, everything, filesystem, free_port, node};
use support::python::mcp_server_time;

/// Fast restarts, so the budget test takes a second, not a minute.
const FAST_RESTARTS: RestartPolicy = RestartPolicy {
    max_restarts: 3,
    window: Duration::from_secs(60),
    initial_backoff: Duration::from_millis(50),
    max_backoff: Duration::from_millis(200),
};

fn config(servers: &str) -> String {
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", workspace: "${{STATE}}/ws", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "mcpbot1", clientSecret: "s1" }} }} }} }},
             mcp: {{ servers: {{ {servers} }} }},
             {TEST_PROVIDER}, dingclaw: {{ store: "memory" }} }}"#
    )
}

async fn start(servers: &str) -> Harness {
    let options = |b: RuntimeBuilder| b.mcp_restarts(FAST_RESTARTS);
    Harness::start_with_options(
        &config(servers),
        ModelOptions::default(),
        test_sim(),
        options,
    )
    .await
}

fn status(h: &Harness, name: &str) -> Option<McpServerStatus> {
    h.rt.catalog()
        .mcp_statuses()
        .into_iter()
        .find(|s| s.name == name)
}

/// Waits until `name` is in `state` (and, for a restart, has a pid other than `not_pid`).
async fn wait_state(
    h: &Harness,
    name: &str,
    state: McpState,
    not_pid: Option<u32>,
) -> McpServerStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(s) = status(h, name)
            && s.state == state
            && (not_pid.is_none() || s.pid != not_pid)
        {
            return s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{name} never reached {state:?}: {:?}",
            status(h, name)
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn call(h: &Harness, tool: &str, arguments: Value) {
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::ToolCall {
            name: tool.into(),
            arguments,
        },
    }]);
}

fn node_server(name: &str, script: &std::path::Path, args: &str) -> String {
    format!(
        r#""{name}": {{ command: "{}", args: ["{}"{args}] }},"#,
        node().display(),
        script.display()
    )
}

#[actix_rt::test]
async fn stdio_servers_from_pypi_and_npm_are_called_from_a_chat() {
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(shared.path().join("note.txt"), "会议改到周四下午三点").unwrap();
    let servers = format!(
        r#""time": {{ command: "{time}", args: ["--local-timezone", "Asia/Shanghai"] }},
           {everything}
           {fs}"#,
        time = mcp_server_time().display(),
        everything = node_server("everything", &everything(), r#", "stdio""#),
        fs = node_server(
            "fs",
            &filesystem(),
            &format!(r#", "{}""#, shared.path().display())
        ),
    );
    let h = start(&servers).await;
    for name in ["time", "everything", "fs"] {
        let s = wait_state(&h, name, McpState::Ready, None).await;
        assert!(!s.tools.is_empty(), "{name} listed no tools");
        assert!(s.pid.is_some());
    }
    let time = status(&h, "time").unwrap();
    assert!(
        time.tools
            .iter()
            .any(|t| t.name == "time__get_current_time"),
        "{:?}",
        time.tools
    );

    call(
        &h,
        "time__get_current_time",
        json!({"timezone": "Asia/Shanghai"}),
    );
    let reply = h.ask("alice", To::Dm("bot1"), "现在几点？").await;
    assert!(reply.contains("Asia/Shanghai"), "{reply}");

    call(&h, "everything__echo", json!({"message": "你好 MCP"}));
    let reply = h.ask("alice", To::Dm("bot1"), "echo").await;
    assert!(reply.contains("你好 MCP"), "{reply}");

    call(
        &h,
        "fs__read_text_file",
        json!({"path": shared.path().join("note.txt")}),
    );
    let reply = h.ask("alice", To::Dm("bot1"), "read the note").await;
    assert!(reply.contains("会议改到周四下午三点"), "{reply}");

    // Images are described, not pasted as base64.
    call(&h, "everything__get-tiny-image", json!({}));
    let reply = h.ask("alice", To::Dm("bot1"), "image").await;
    assert!(reply.contains("[image image/png"), "{reply}");

    // The server's environment is what the config gives it, not the gateway's (cargo's
    // variables stand in for the gateway's secrets here).
    call(&h, "everything__get-env", json!({}));
    let reply = h.ask("alice", To::Dm("bot1"), "env").await;
    assert!(reply.contains("PATH"), "{reply}");
    assert!(!reply.contains("CARGO_PKG_NAME"), "{reply}");

    // A tool's own error is an error the model reads.
    call(&h, "fs__read_text_file", json!({"path": "/etc/passwd"}));
    let reply = h.ask("alice", To::Dm("bot1"), "read passwd").await;
    assert!(reply.contains("\"error\""), "{reply}");
    assert!(!reply.contains("root:x:0"), "{reply}");

    let s = status(&h, "everything").unwrap();
    assert!(s.calls >= 3, "{s:?}");
    h.stop().await;
}

#[actix_rt::test]
async fn streamable_http_and_legacy_sse_servers_are_called() {
    let (http_port, sse_port) = (free_port(), free_port());
    let _http = HttpServer::start("streamableHttp", http_port);
    let _sse = HttpServer::start("sse", sse_port);
    let servers = format!(
        r#""web": {{ url: "http://127.0.0.1:{http_port}/mcp", transport: "streamable-http", headers: {{ "X-Team": "dingclaw" }} }},
           "legacy": {{ url: "http://127.0.0.1:{sse_port}/sse" }},"#
    );
    let h = start(&servers).await;
    for name in ["web", "legacy"] {
        wait_state(&h, name, McpState::Ready, None).await;
    }
    assert_eq!(status(&h, "web").unwrap().transport, "streamable-http");
    assert_eq!(status(&h, "legacy").unwrap().transport, "sse");
    call(&h, "web__get-sum", json!({"a": 20, "b": 22}));
    let reply = h.ask("alice", To::Dm("bot1"), "sum").await;
    assert!(reply.contains("42"), "{reply}");
    call(&h, "legacy__echo", json!({"message": "over SSE"}));
    let reply = h.ask("alice", To::Dm("bot1"), "echo").await;
    assert!(reply.contains("over SSE"), "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn a_killed_server_is_started_again_and_a_hung_one_hits_the_deadline() {
    let servers = format!(
        r#"{}
           "slow": {{ command: "{}", args: ["{}", "stdio"], requestTimeoutMs: 2000 }},"#,
        node_server("everything", &everything(), r#", "stdio""#),
        node().display(),
        everything().display()
    );
    let h = start(&servers).await;
    let first = wait_state(&h, "everything", McpState::Ready, None).await;
    wait_state(&h, "slow", McpState::Ready, None).await;

    // Killed in the middle of a call: the turn still answers, with the error.
    call(
        &h,
        "everything__trigger-long-running-operation",
        json!({"duration": 10, "steps": 5}),
    );
    let sent = h.say("alice", To::Dm("bot1"), "long job").await;
    actix_rt::time::sleep(Duration::from_millis(700)).await;
    let pid = first.pid.expect("a pid") as i32;
    // SAFETY: signalling the test's own MCP server child.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
    let reply = h.answered(&sent, 1).await.remove(0).text;
    assert!(reply.contains("\"error\""), "{reply}");
    let again = wait_state(&h, "everything", McpState::Ready, first.pid).await;
    assert!(again.restarts >= 1, "{again:?}");
    call(&h, "everything__echo", json!({"message": "back again"}));
    let reply = h.ask("alice", To::Dm("bot1"), "still there?").await;
    assert!(reply.contains("back again"), "{reply}");

    // A server that does not answer in time: the call fails at its deadline, the turn ends.
    call(
        &h,
        "slow__trigger-long-running-operation",
        json!({"duration": 30, "steps": 3}),
    );
    let started = std::time::Instant::now();
    let reply = h.ask("bob", To::Dm("bot1"), "slow job").await;
    assert!(reply.contains("did not answer within 2 s"), "{reply}");
    assert!(started.elapsed() < Duration::from_secs(12));
    h.stop().await;
}

#[actix_rt::test]
async fn a_server_that_exits_at_once_spends_its_budget_and_the_gateway_stays_up() {
    let h =
        start(r#""broken": { command: "sh", args: ["-c", "echo starting >&2; exit 3"] },"#).await;
    let s = wait_state(&h, "broken", McpState::Failed, None).await;
    assert!(s.restarts >= FAST_RESTARTS.max_restarts as u64, "{s:?}");
    assert!(s.last_error.is_some(), "{s:?}");
    // The gateway answers, and the broken server's tools are simply absent.
    let reply = h.ask("alice", To::Dm("bot1"), "hello").await;
    assert!(reply.contains("You said: hello"), "{reply}");
    assert!(
        h.rt.tools()
            .names()
            .iter()
            .all(|n| !n.starts_with("broken__"))
    );
    // A command that does not exist fails the same way, with the reason.
    h.stop().await;
}

#[actix_rt::test]
async fn a_huge_result_is_cut_and_policy_filters_mcp_tools() {
    let shared = tempfile::tempdir().unwrap();
    let big = "天气数据 weather data line\n".repeat(5 * 1024 * 1024 / 32);
    std::fs::write(shared.path().join("big.txt"), &big).unwrap();
    let servers = node_server(
        "fs",
        &filesystem(),
        &format!(r#", "{}""#, shared.path().display()),
    );
    let h = start(&servers).await;
    wait_state(&h, "fs", McpState::Ready, None).await;
    call(
        &h,
        "fs__read_text_file",
        json!({"path": shared.path().join("big.txt")}),
    );
    let reply = h.ask("alice", To::Dm("bot1"), "read it all").await;
    assert!(
        reply.contains("天气数据 weather data line"),
        "{}",
        &reply[..reply.len().min(300)]
    );
    // What the model was given (the reply is long, so it went out in several messages).
    let session =
        h.rt.store()
            .load_session("agent:a:dingtalk-connector:direct:alice", 10)
            .await
            .unwrap()
            .unwrap();
    let result = session
        .entries
        .iter()
        .find(|e| e.role == dingclaw_actors::store::Role::Tool)
        .expect("the tool result is in the transcript");
    assert!(
        result.content.contains("…cut: the result was"),
        "{}",
        &result.content[..300]
    );
    assert!(result.content.contains("\"truncated\":true"));
    assert!(
        result.content.chars().count() < 70_000,
        "{}",
        result.content.len()
    );
    h.stop().await;

    // `deny: ["bundle-mcp"]`: no MCP tool is offered.
    let text = config(&servers).replace(
        "dingclaw: {",
        r#"tools: { deny: ["bundle-mcp"] }, dingclaw: {"#,
    );
    let options = |b: RuntimeBuilder| b.mcp_restarts(FAST_RESTARTS);
    let h = Harness::start_with_options(&text, ModelOptions::default(), test_sim(), options).await;
    wait_state(&h, "fs", McpState::Ready, None).await;
    call(&h, "fs__list_allowed_directories", json!({}));
    let reply = h.ask("alice", To::Dm("bot1"), "dirs").await;
    assert!(
        reply.contains(r#"unknown tool \"fs__list_allowed_directories\""#),
        "{reply}"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn a_reload_restarts_only_the_server_that_changed() {
    let shared = tempfile::tempdir().unwrap();
    let fs = node_server(
        "fs",
        &filesystem(),
        &format!(r#", "{}""#, shared.path().display()),
    );
    let one = node_server("everything", &everything(), r#", "stdio""#);
    let h = start(&format!("{one}{fs}")).await;
    let everything_before = wait_state(&h, "everything", McpState::Ready, None).await;
    let fs_before = wait_state(&h, "fs", McpState::Ready, None).await;
    // fs gets a tool filter; everything is untouched; a third server appears.
    let fs_filtered = fs.replace("] },", r#"], toolFilter: { include: ["list_*"] } },"#);
    let time = format!(
        r#""time": {{ command: "{}" }},"#,
        mcp_server_time().display()
    );
    let next = test_config(
        &config(&format!("{one}{fs_filtered}{time}")),
        &h.sim.url,
        &h.model.base_url,
        h.state.path(),
    );
    let report = h.rt.reload(next);
    assert!(
        report
            .applied
            .contains(&"MCP server fs restarted".to_owned()),
        "{:?}",
        report.applied
    );
    assert!(
        report
            .applied
            .contains(&"MCP server time started".to_owned()),
        "{:?}",
        report.applied
    );
    assert!(
        !report.applied.iter().any(|a| a.contains("everything")),
        "{:?}",
        report.applied
    );
    let fs_after = wait_state(&h, "fs", McpState::Ready, fs_before.pid).await;
    assert!(
        fs_after.tools.iter().all(|t| t.tool.starts_with("list_")),
        "{:?}",
        fs_after.tools
    );
    wait_state(&h, "time", McpState::Ready, None).await;
    assert_eq!(status(&h, "everything").unwrap().pid, everything_before.pid);
    // The old fs child is gone.
    let old = fs_before.pid.unwrap();
    support::wait_until("the old fs server to exit", Duration::from_secs(10), || {
        !std::path::Path::new(&format!("/proc/{old}")).exists()
            || std::fs::read_to_string(format!("/proc/{old}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
    })
    .await;
    h.stop().await;
}

/// The `dingclaw` binary: `mcp list` shows the server (never its env), SIGTERM stops its
/// child, and a gateway killed outright takes its child with it (no orphans).
#[test]
fn stdio_children_never_outlive_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("openclaw.json");
    std::fs::write(
        &config,
        format!(
            r#"{{ agents: {{ list: [ {{ id: "main", model: "offline/m" }} ] }},
                 models: {{ providers: {{ offline: {{ baseUrl: "http://127.0.0.1:9/v1", apiKey: "k" }} }} }},
                 mcp: {{ servers: {{ everything: {{ command: "{}", args: ["{}", "stdio"],
                                     env: {{ EVERYTHING_TOKEN: "mcp-s3cret-value" }} }} }} }},
                 gateway: {{ port: {port} }} }}"#,
            node().display(),
            everything().display()
        ),
    )
    .unwrap();
    let path = std::env::var("PATH").unwrap_or_default();
    let env = [("PATH", path.as_str())];
    let mcp_list = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_dingclaw"))
            .args(["mcp", "list", "--json", "--config"])
            .arg(&config)
            .env_clear()
            .env("HOME", dir.path())
            .env("OPENCLAW_STATE_DIR", dir.path())
            .output()
            .expect("run dingclaw mcp list");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ready_pid = || {
        let start = std::time::Instant::now();
        loop {
            let listed: Value = serde_json::from_str(&mcp_list()).unwrap_or(Value::Null);
            if let Some(pid) = listed[0]["pid"].as_u64()
                && listed[0]["state"] == "ready"
            {
                return pid as u32;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "not ready: {listed}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let gone = |pid: u32| {
        let start = std::time::Instant::now();
        while std::path::Path::new(&format!("/proc/{pid}")).exists()
            && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.contains(") Z "))
        {
            if start.elapsed() > Duration::from_secs(10) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    };
    let (log, out) = (
        dir.path().join("gateway.log"),
        dir.path().join("gateway.out"),
    );
    let gw =
        support::process::GatewayProcess::start_with_env(&config, dir.path(), &log, &out, &env);
    let pid = ready_pid();
    let listed = mcp_list();
    assert!(listed.contains("everything__echo"), "{listed}");
    assert!(!listed.contains("mcp-s3cret-value"), "{listed}");
    assert_eq!(gw.terminate(), Some(0), "SIGTERM drains and exits 0");
    assert!(
        gone(pid),
        "the MCP server outlived a gateway stopped with SIGTERM"
    );

    let gw =
        support::process::GatewayProcess::start_with_env(&config, dir.path(), &log, &out, &env);
    let pid = ready_pid();
    gw.kill9();
    assert!(
        gone(pid),
        "the MCP server outlived a gateway killed with SIGKILL"
    );
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        !log.contains("mcp-s3cret-value"),
        "the server's env leaked into the log"
    );
    assert!(
        log.contains("mcp_server=everything"),
        "the server's stderr is logged with its name:\n{log}"
    );
}
