//! The PostgreSQL store (`dingclaw.store: "postgres"`) against a real, throwaway PostgreSQL
//! server started by the test: it keeps everything the SQLite store keeps (the same
//! conformance run), migrates once when several gateways start together, keeps a
//! conversation across gateway restarts, and never shows its URL's password.

mod support;

use std::sync::Arc;
use std::time::Duration;

use dingclaw_actors::actors::Runtime;
use dingclaw_actors::config::Secret;
use dingclaw_actors::store::{PostgresStore, Store, StoreError};
use dingclaw_testing::postgres::TestPostgres;
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, turn};

fn server() -> TestPostgres {
    TestPostgres::start().unwrap_or_else(|e| panic!("a test PostgreSQL server: {e}"))
}

fn config(url: &str) -> String {
    format!(
        r#"{{ agents: {{ list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "pgbot1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER}, dingclaw: {{ store: "postgres", storeUrl: "{url}" }} }}"#
    )
}

#[test]
fn the_postgres_store_keeps_what_the_sqlite_store_keeps() {
    let pg = server();
    let store = PostgresStore::connect(&Secret::new(pg.database().unwrap())).unwrap();
    dingclaw_actors::store::conformance::exercise(&store);
}

#[test]
fn gateways_starting_together_migrate_once() {
    let pg = server();
    let url = pg.database().unwrap();
    let stores: Vec<_> = (0..4)
        .map(|_| {
            let url = Secret::new(url.clone());
            std::thread::spawn(move || PostgresStore::connect(&url).map(|_| ()))
        })
        .collect();
    for s in stores {
        s.join().unwrap().unwrap();
    }
    // And a store opened afterwards finds the schema in place.
    let store = PostgresStore::connect(&Secret::new(url)).unwrap();
    assert!(store.jobs().unwrap().is_empty());
}

#[test]
fn an_unreachable_server_is_a_clear_error_without_the_password() {
    let url = Secret::new("postgres://dingclaw:hunter2-secret@127.0.0.1:1/dingclaw");
    let err = match PostgresStore::connect(&url) {
        Err(e) => e,
        Ok(_) => panic!("connected to port 1"),
    };
    assert!(matches!(err, StoreError::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("127.0.0.1:1/dingclaw"), "{text}");
    assert!(text.contains("refused"), "the cause is said: {text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn the_config_needs_a_url_for_postgres() {
    let err = dingclaw_actors::config::load_str(
        r#"{ dingclaw: { store: "postgres" } }"#,
        std::path::Path::new("/"),
        &dingclaw_actors::config::MapEnv::new(),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(err.contains("dingclaw.storeUrl: required"), "{err}");
    let err = dingclaw_actors::config::load_str(
        r#"{ dingclaw: { store: "postgres", storeUrl: "${DINGCLAW_PG_URL}" } }"#,
        std::path::Path::new("/"),
        &dingclaw_actors::config::MapEnv::new(),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert!(err.contains("DINGCLAW_PG_URL"), "{err}");
}

/// The gateway on PostgreSQL: a conversation continues across a restart of the runtime, and
/// the transcript is in the server.
#[actix_rt::test]
async fn a_conversation_survives_a_restart_on_postgres() {
    let pg = Arc::new(server());
    let url = pg.database().unwrap();
    let h = Harness::start(&config(&url)).await;
    let first = h.ask("alice", To::Dm("bot1"), "first").await;
    assert_eq!(turn(&first), 1, "{first}");
    let second = h.ask("alice", To::Dm("bot1"), "second").await;
    assert_eq!(turn(&second), 2, "{second}");
    h.rt.shutdown(Duration::from_secs(5)).await;

    let rt = Runtime::builder(h.config.clone())
        .store_from_config()
        .start()
        .expect("runtime");
    assert!(rt.ready(Duration::from_secs(10)).await.all_connected());
    let third = h.ask("alice", To::Dm("bot1"), "third").await;
    assert_eq!(turn(&third), 3, "{third}");
    rt.store().flush().await.unwrap();
    let stored = rt
        .store()
        .load_session("agent:a:dingtalk-connector:direct:alice", 100)
        .await
        .unwrap()
        .expect("the session is in PostgreSQL");
    let said: Vec<&str> = stored
        .entries
        .iter()
        .filter(|e| e.role == dingclaw_actors::store::Role::User)
        .map(|e| e.content.as_str())
        .collect();
    assert_eq!(said.len(), 3, "{said:?}");
    rt.shutdown(Duration::from_secs(5)).await;
    h.model.stop().await;
    h.sim.stop().await;
}

/// `dingclaw doctor` checks the shared store: reachable (and migrated), or a failure that
/// says where and how to fix it, without the password.
#[actix_rt::test]
async fn doctor_checks_the_shared_store() {
    let pg = server();
    let url = pg.database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let write = |name: &str, url: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                r#"{{ gateway: {{ port: {port} }}, dingclaw: {{ store: "postgres", storeUrl: "{url}" }} }}"#
            ),
        )
        .unwrap();
        path.display().to_string()
    };
    let good = write("good.json5", &url);
    let (ok, out, _) =
        support::process::run_cli(vec!["doctor".into(), "--config".into(), good]).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("store: PostgreSQL at postgres://postgres@127.0.0.1:"),
        "{out}"
    );

    let bad = write(
        "bad.json5",
        "postgres://dingclaw:hunter2-secret@127.0.0.1:1/dingclaw",
    );
    let (ok, out, err) =
        support::process::run_cli(vec!["doctor".into(), "--config".into(), bad]).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("store: cannot reach PostgreSQL at postgres://dingclaw@127.0.0.1:1/dingclaw"),
        "{out}"
    );
    assert!(out.contains("fix: check dingclaw.storeUrl"), "{out}");
    assert!(
        !out.contains("hunter2") && !err.contains("hunter2"),
        "{out}{err}"
    );
}

/// Until several gateways can share a store, a second gateway on the same PostgreSQL store
/// is refused (it would answer the messages DingTalk hands it from a split history), and the
/// lock goes with the first gateway.
#[actix_rt::test]
async fn a_second_gateway_on_the_same_store_is_refused() {
    use dingclaw_actors::store::PostgresGatewayLock;
    let pg = server();
    let url = pg.database().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let config = |port: u16| {
        let path = dir.path().join(format!("gw{port}.json5"));
        std::fs::write(
            &path,
            format!(
                r#"{{ gateway: {{ port: {port} }}, dingclaw: {{ store: "postgres", storeUrl: "{url}" }} }}"#
            ),
        )
        .unwrap();
        path
    };
    let first = config(free_port());
    let gw = support::process::GatewayProcess::start(
        &first,
        dir.path(),
        &dir.path().join("gw.log"),
        &dir.path().join("gw.out"),
    );
    let secret = Secret::new(url.clone());
    let start = std::time::Instant::now();
    loop {
        match PostgresGatewayLock::acquire(&secret) {
            Err(StoreError::InUse { .. }) => break,
            Ok(lock) => drop(lock),
            Err(e) => panic!("{e}"),
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the gateway never took the store: {}",
            std::fs::read_to_string(dir.path().join("gw.log")).unwrap_or_default()
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    let second = config(free_port()).display().to_string();
    let (ok, _, stderr) =
        support::process::run_cli(vec!["gateway".into(), "--config".into(), second]).await;
    assert!(!ok);
    assert!(
        stderr.contains("another dingclaw gateway uses the PostgreSQL store"),
        "{stderr}"
    );
    assert_eq!(gw.terminate(), Some(0));
    // Released with the first gateway.
    let _lock = PostgresGatewayLock::acquire(&secret).expect("the store is free again");
}
