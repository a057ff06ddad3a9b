//! Chaos on the disk: the state directory stops taking writes (a file-size limit set on the
//! running gateway with `prlimit`, so every write past the first page of the SQLite files
//! fails as on a full disk), then takes them again. Messages must still be answered, each once, while
//! the store cannot commit (they lose only the journal's crash protection meanwhile), and
//! the store must catch up when the disk is back.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dingclaw::offline_model::{ModelOptions, OfflineModel};
use dingclaw::sim::SimServer;
use dingclaw_actors::store::{SessionFilter, SqliteStore, Store};
use support::chaos::{Tally, add_bots, run_traffic_until_done, traffic, wait_bots_connected};
use support::gateway::test_sim;

const BOTS: [&str; 2] = ["diskbot1", "diskbot2"];

fn prlimit(pid: u32, fsize: &str) {
    let ok = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--fsize={fsize}")])
        .status()
        .expect("prlimit (util-linux) runs")
        .success();
    assert!(ok, "prlimit --fsize={fsize}");
}

fn file_size(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[actix_rt::test]
async fn a_full_disk_then_freed_loses_and_duplicates_nothing() {
    let sim = SimServer::start(test_sim(), 0, 2).await.unwrap();
    let model = OfflineModel::start(ModelOptions::default(), 0, 1)
        .await
        .unwrap();
    add_bots(&sim, &BOTS);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("openclaw.json");
    std::fs::write(
        &config,
        format!(
            r#"{{ agents: {{ list: [ {{ id: "main", model: "offline/m" }} ] }},
                 channels: {{ "dingtalk-connector": {{ endpoint: "{}", dmReplyMode: "text", groupReplyMode: "text",
                   accounts: {{ a: {{ clientId: "diskbot1", clientSecret: "diskbot1-secret" }}, b: {{ clientId: "diskbot2", clientSecret: "diskbot2-secret" }} }} }} }},
                 models: {{ providers: {{ offline: {{ baseUrl: "{}", apiKey: "sk-disk" }} }} }},
                 gateway: {{ port: 0 }} }}"#,
            sim.url, model.base_url
        ),
    )
    .unwrap();
    // SIGXFSZ is ignored (inherited through exec), so a write past the limit fails with
    // EFBIG instead of killing the process. The log goes through a pipe, which no file-size
    // limit applies to.
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; exec "$0" gateway --config "$1""#)
        .arg(env!("CARGO_BIN_EXE_dingclaw"))
        .arg(&config)
        .env_clear()
        .env("HOME", dir.path())
        .env("OPENCLAW_STATE_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the gateway");
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    wait_bots_connected(&sim, BOTS.len()).await;
    sim.sim
        .start_load(traffic(&BOTS, 10, 20.0, 12))
        .expect("load run");

    actix_rt::time::sleep(Duration::from_secs(3)).await;
    let db = dir.path().join("dingclaw/dingclaw.sqlite");
    // Every write at an offset past the first page of a file fails. A limit at the files'
    // current ends would no longer do: once checkpointed, the log is written again from its
    // start, into room the file already has (as a full disk would let it).
    assert!(file_size(&db) > 4096, "the store has been written");
    prlimit(child.id(), "4096:");
    actix_rt::time::sleep(Duration::from_secs(4)).await;
    prlimit(child.id(), "unlimited:");

    let report = run_traffic_until_done(&sim, Duration::from_secs(90)).await;
    // Let the writer's retry commit what it kept, then stop gently.
    actix_rt::time::sleep(Duration::from_secs(1)).await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    let log = log.lock().unwrap().clone();
    let failed_commits = log.matches("store commit failed").count() as u64;
    let unjournaled = log
        .matches("answering them without crash protection")
        .count() as u64;
    Tally::from_report("state directory full, then freed", &report)
        .note("failed_commits", failed_commits)
        .note("unjournaled_batches", unjournaled)
        .check();
    assert!(failed_commits > 0, "the disk was really full:\n{log}");
    assert_eq!(status.code(), Some(0), "{log}");
    // What was kept during the outage is in the store now: every conversation's transcript
    // has its user messages and answers.
    let store = SqliteStore::open(&db).unwrap();
    let sessions = store
        .sessions(&SessionFilter {
            limit: 1000,
            ..SessionFilter::default()
        })
        .unwrap();
    let entries: usize = sessions
        .iter()
        .map(|m| store.transcript(&m.session_id, 10_000).unwrap().len())
        .sum();
    assert_eq!(
        entries as u64,
        report.sent * 2,
        "every message and answer stored"
    );
    assert!(
        store.open_inbound().unwrap().is_empty(),
        "the journal holds no unanswered message"
    );
}
