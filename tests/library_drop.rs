//! A runtime built in code keeps its store in memory unless told otherwise, and dropping
//! its handle disconnects its bots and stops its threads. Alone in its test binary, so that
//! counting this process's threads measures this runtime's.

mod support;

use std::time::{Duration, Instant};

use dingclaw_actors::actors::Runtime;
use support::gateway::{Servers, TEST_ACCOUNT, TEST_PROVIDER};

fn config(extra: &str) -> String {
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "handlebot1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER} {extra} }}"#
    )
}

/// A runtime built in code keeps its sessions in memory unless it is told to use the
/// config's SQLite file, and dropping its handle disconnects it and stops its threads.
#[actix_rt::test]
async fn a_code_built_runtime_uses_memory_and_stops_when_dropped() {
    let servers = Servers::start("handlebot1", "s1").await;
    let sim = &servers.sim;
    let text = config(r#", dingclaw: { storePath: "${STATE}/dingclaw.sqlite" }"#);
    let config = servers.config(&text);
    let file = servers.state.path().join("dingclaw.sqlite");

    // The servers start their threads once polled: count after they have.
    actix_rt::time::sleep(Duration::from_millis(300)).await;
    let threads_before = thread_count();
    let rt = Runtime::builder(config.clone()).start().unwrap();
    assert!(rt.ready(Duration::from_secs(10)).await.all_connected());
    let answer = rt.ask("a", "t", "alice", "remember me").unwrap();
    assert!(answer.text().await.unwrap().contains("remember me"));
    rt.store().flush().await.unwrap();
    assert!(
        !file.exists(),
        "a code-built runtime wrote {}",
        file.display()
    );
    assert!(thread_count() > threads_before);

    drop(rt);
    let start = Instant::now();
    while sim.sim.bots().iter().any(|b| b.connections > 0) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still connected after the handle was dropped"
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
    while thread_count() > threads_before {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{} threads left running after the handle was dropped",
            thread_count() - threads_before
        );
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }

    // Asked for, the config's SQLite file is opened.
    let rt = Runtime::builder(config)
        .store_from_config()
        .start()
        .unwrap();
    let answer = rt.ask("a", "t", "alice", "remember me").unwrap();
    assert!(answer.text().await.unwrap().contains("remember me"));
    rt.store().flush().await.unwrap();
    assert!(file.exists());
    rt.shutdown(Duration::from_secs(2)).await;
    servers.stop().await;
}

/// Actix arbiter threads of this process (Linux): the runtime's workers, store writer and
/// MCP thread are arbiters. (The test's own runtime keeps idle blocking-pool threads for a
/// while; those are not the runtime's.)
fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
                .filter(|name| name.starts_with("actix-rt|"))
                .count()
        })
        .unwrap_or(0)
}
