//! The library's examples (`actors/examples/`) run as a developer would run them: built by
//! `cargo test --workspace`, started as processes against the DingTalk simulator and the
//! offline model on 127.0.0.1, and checked by what they print and what the bot answers.

mod support;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dingclaw::offline_model::{ModelOptions, OfflineModel};
use dingclaw::sim::{NewBot, SimServer};
use support::gateway::test_sim;
use support::process::ask_bot;

fn example(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/debug/examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built: `cargo test --workspace` builds the examples (or `cargo build -p dingclaw-actors --examples`)",
        path.display()
    );
    path
}

/// A running example, its stdout in a file; killed when dropped.
struct Running {
    child: Child,
    out: tempfile::NamedTempFile,
}

impl Running {
    fn start(name: &str, env: &[(&str, &str)]) -> Running {
        let out = tempfile::NamedTempFile::new().unwrap();
        let mut cmd = Command::new(example(name));
        cmd.env("RUST_LOG", "warn")
            .stdout(Stdio::from(out.reopen().unwrap()))
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Running {
            child: cmd.spawn().expect("the example starts"),
            out,
        }
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.out.path()).unwrap_or_default()
    }

    async fn until_printed(&self, what: &str) {
        let start = Instant::now();
        while !self.stdout().contains(what) {
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "the example did not print {what:?}; it printed:\n{}",
                self.stdout()
            );
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn sim_with_example_bot() -> SimServer {
    let sim = SimServer::start(test_sim(), 0, 1).await.unwrap();
    sim.sim.add_bot(NewBot {
        client_id: Some("example-bot".into()),
        client_secret: Some("example-secret".into()),
        name: None,
    });
    sim
}

async fn until_connected(sim: &SimServer) {
    let start = Instant::now();
    while sim.sim.bots().iter().map(|b| b.connections).sum::<usize>() == 0 {
        assert!(start.elapsed() < Duration::from_secs(15), "no connection");
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn routing_alone_needs_nothing_running() {
    let out = Command::new(example("routing")).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        vec![
            "bot1 direct from alice: agent service (binding.account), session agent:service:dingtalk-connector:direct:alice",
            "bot2 direct from alice: agent tech (binding.account), session agent:tech:dingtalk-connector:direct:alice",
            "bot1 group from alice: agent service (binding.account), session agent:service:dingtalk-connector:group:cidRelease:alice",
            "bot1 group from bob: agent service (binding.account), session agent:service:dingtalk-connector:group:cidRelease:bob",
        ]
    );
}

#[actix_rt::test]
async fn the_runtime_example_answers_with_its_own_tool() {
    let sim = sim_with_example_bot().await;
    let model = OfflineModel::start(ModelOptions::default(), 0, 1)
        .await
        .unwrap();
    let run = Running::start(
        "runtime_with_tool",
        &[
            ("DINGCLAW_SIM_URL", &sim.url),
            ("DINGCLAW_MODEL_URL", &model.base_url),
            ("DINGCLAW_EXAMPLE_SECONDS", "30"),
        ],
    );
    run.until_printed("runtime started: 1 agent (helper), 1 account")
        .await;
    run.until_printed("ready: bot1 connected").await;
    run.until_printed("event: bot1 connected").await;
    // Its own channel: `ask` reached the agent through a session of its own.
    run.until_printed("ask answered: [Helper · qwen · turn 1] You said: hello from code")
        .await;
    run.until_printed("event: helper answered (ok: true)").await;
    let reply = ask_bot(
        &sim,
        "alice",
        "example-bot",
        r#"/tool shout {"text": "hello"}"#,
    )
    .await;
    assert!(reply.contains(r#""shouted":"HELLO""#), "{reply}");
    run.until_printed("tool shout called by agent helper for alice")
        .await;
}

/// Readiness tells a refused account from a connected one, with DingTalk's reason.
#[actix_rt::test]
async fn readiness_names_the_account_dingtalk_refused() {
    let sim = sim_with_example_bot().await;
    let text = format!(
        r#"{{ channels: {{ "dingtalk-connector": {{ endpoint: "{}",
              stream: {{ reconnectInitialMs: 100, authRetryMs: 60000 }},
              accounts: {{ good: {{ clientId: "example-bot", clientSecret: "example-secret" }},
                          bad: {{ clientId: "example-bot-2", clientSecret: "wrong" }} }} }} }},
             dingclaw: {{ store: "memory" }} }}"#,
        sim.url
    );
    let config = dingclaw_actors::config::load_str(
        &text,
        std::path::Path::new("."),
        &dingclaw_actors::config::MapEnv::new(),
    )
    .unwrap()
    .config;
    let rt = dingclaw_actors::actors::Runtime::start(config).unwrap();
    let r = rt.ready(Duration::from_secs(10)).await;
    assert!(r.settled, "{r:?}");
    let good = r.accounts.iter().find(|a| a.account == "good").unwrap();
    let bad = r.accounts.iter().find(|a| a.account == "bad").unwrap();
    assert!(good.connected && good.error.is_none(), "{r:?}");
    assert!(!bad.connected, "{r:?}");
    assert!(
        bad.error
            .as_deref()
            .unwrap_or("")
            .contains("refused the credentials"),
        "{r:?}"
    );
    assert!(!r.all_connected());
    rt.shutdown(Duration::from_secs(2)).await;
}

#[actix_rt::test]
async fn the_stream_client_example_hands_messages_to_its_own_actor() {
    let sim = sim_with_example_bot().await;
    let run = Running::start(
        "stream_client",
        &[
            ("DINGCLAW_SIM_URL", &sim.url),
            ("DINGCLAW_EXAMPLE_SECONDS", "30"),
        ],
    );
    run.until_printed("listening as example-bot").await;
    until_connected(&sim).await;
    sim.sim
        .say(&dingclaw::sim::UserMessage {
            from: "alice".into(),
            bot: Some("example-bot".into()),
            text: "hello from the simulator".into(),
            ..dingclaw::sim::UserMessage::default()
        })
        .await
        .unwrap();
    run.until_printed("message from alice").await;
    assert!(
        run.stdout().contains("(direct): hello from the simulator"),
        "{}",
        run.stdout()
    );
}

/// Outside an actix System the runtime refuses with a typed error instead of panicking.
#[test]
fn the_runtime_outside_a_system_is_an_error_not_a_panic() {
    let config = dingclaw_actors::config::load_str(
        r#"{ dingclaw: { store: "memory" } }"#,
        std::path::Path::new("."),
        &dingclaw_actors::config::MapEnv::new(),
    )
    .unwrap()
    .config;
    match dingclaw_actors::actors::Runtime::start(config) {
        Err(e @ dingclaw_actors::actors::RuntimeError::NoSystem) => {
            assert!(e.to_string().contains("actix System"), "{e}")
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("started without a System"),
    }
}

#[test]
fn the_supervision_example_restarts_and_loses_no_work() {
    let out = Command::new(example("supervision")).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "done: first", "{text}");
    assert!(
        lines[1].starts_with("restarting after a panic (1 so far)"),
        "{text}"
    );
    assert_eq!(
        &lines[2..],
        [
            "done: flaky",
            "done: last",
            "all done in order: first, flaky, last"
        ],
        "{text}"
    );
}
