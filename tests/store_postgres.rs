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
    let first_port = free_port();
    let first = config(first_port);
    let gw = support::process::GatewayProcess::start(
        &first,
        dir.path(),
        &dir.path().join("gw.log"),
        &dir.path().join("gw.out"),
    );
    // Started once its web port answers; it holds the store's lock from before that. (Taking
    // the lock here to see whether the gateway has it raced the gateway for it.)
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", first_port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first gateway never started: {}",
            std::fs::read_to_string(dir.path().join("gw.log")).unwrap_or_default()
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
    let secret = Secret::new(url.clone());
    assert!(matches!(
        PostgresGatewayLock::acquire(&secret, None),
        Err(StoreError::InUse { .. })
    ));
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
    let _lock = PostgresGatewayLock::acquire(&secret, None).expect("the store is free again");
}

/// The cluster's coordination in the store, two instances on one server: the journal is one
/// duplicate filter for both and numbers each session's messages; the first to journal a
/// session holds it and the other wakes it; a silent holder's session is taken over at a
/// higher epoch and its late writes are refused (and counted); a scheduled occurrence is
/// claimed once, and a dead claimer's unfinished one is taken over.
#[actix_rt::test]
async fn the_cluster_store_dedups_orders_leases_fences_and_claims() {
    use dingclaw_actors::store::{
        JournalEntry, Journaled, Lease, LeaseHolder, RoutedEntry, WriteOp,
    };
    let pg = server();
    let url = Secret::new(pg.database().unwrap());
    let (a, b) = (
        PostgresStore::connect(&url).unwrap(),
        PostgresStore::connect(&url).unwrap(),
    );
    let (ca, cb) = (a.cluster().unwrap(), b.cluster().unwrap());
    let ttl = 800;
    let info = serde_json::json!({"bots": []});
    ca.join("a", "a-1", info.clone()).await.unwrap();
    cb.join("b", "b-1", info.clone()).await.unwrap();
    assert!(ca.heartbeat("a", "a-1", info.clone()).await.unwrap());
    assert!(
        !ca.heartbeat("a", "someone-else", info.clone())
            .await
            .unwrap(),
        "another incarnation's heartbeat"
    );
    assert_eq!(ca.live(ttl).await.unwrap(), ["a", "b"]);

    let mut wake_a = ca.wakeups().unwrap();
    let listening = tokio::time::timeout(Duration::from_secs(10), wake_a.recv())
        .await
        .unwrap();
    assert_eq!(listening, Some((String::new(), String::new())));

    let entry = |msg_id: &str| RoutedEntry {
        entry: JournalEntry {
            seq: 0,
            account: "bot1".into(),
            msg_id: msg_id.into(),
            received_ms: 1,
            payload: "{}".into(),
        },
        session_key: "k1".into(),
    };
    let first = ca
        .journal("a", ttl, vec![entry("m1"), entry("m1")])
        .await
        .unwrap();
    assert_eq!(
        first,
        [
            Journaled::New {
                session_seq: 1,
                owner: LeaseHolder::Me { epoch: 1 }
            },
            Journaled::Duplicate
        ]
    );
    let second = cb
        .journal("b", ttl, vec![entry("m2"), entry("m1")])
        .await
        .unwrap();
    assert_eq!(
        second,
        [
            Journaled::New {
                session_seq: 2,
                owner: LeaseHolder::Other {
                    instance: "a".into()
                }
            },
            Journaled::Duplicate
        ]
    );
    let woken = tokio::time::timeout(Duration::from_secs(10), wake_a.recv())
        .await
        .unwrap();
    assert_eq!(woken, Some(("a".to_owned(), "k1".to_owned())));
    let work = ca.session_work("a", "k1", 0).await.unwrap().unwrap();
    assert_eq!(work.epoch, 1);
    assert_eq!(
        work.messages
            .iter()
            .map(|m| (m.session_seq, m.entry.msg_id.as_str()))
            .collect::<Vec<_>>(),
        [(1, "m1"), (2, "m2")]
    );
    assert!(cb.session_work("b", "k1", 0).await.unwrap().is_none());

    // a answers m1 under its lease.
    let lease = |owner: &str, epoch: u64| Lease {
        key: "k1".into(),
        owner: owner.into(),
        epoch,
        generation: 0,
    };
    let done = |msg_id: &str| WriteOp::InboundDone {
        account: "bot1".into(),
        msg_id: msg_id.into(),
    };
    a.write(&[done("m1").fenced(Some(&lease("a", 1)))]).unwrap();
    assert_eq!(ca.fenced_writes(), 0);

    // a goes silent; b takes the session over at a higher epoch, with m2 still open.
    tokio::time::sleep(Duration::from_millis(ttl as u64 + 200)).await;
    assert!(cb.heartbeat("b", "b-1", info.clone()).await.unwrap());
    assert_eq!(cb.live(ttl).await.unwrap(), ["b"]);
    let sweep = cb.sweep("b", ttl, 10).await.unwrap();
    assert_eq!(sweep.taken, [("k1".to_owned(), 2)]);
    assert_eq!(sweep.open, [("k1".to_owned(), 2, 2)]);
    // a's late done mark is refused: m2 stays open for b.
    a.write(&[done("m2").fenced(Some(&lease("a", 1)))]).unwrap();
    assert_eq!(ca.fenced_writes(), 1);
    let work = cb.session_work("b", "k1", 0).await.unwrap().unwrap();
    assert_eq!(work.epoch, 2);
    assert_eq!(work.messages.len(), 1);
    b.write(&[done("m2").fenced(Some(&lease("b", 2)))]).unwrap();
    assert!(
        cb.session_work("b", "k1", 0)
            .await
            .unwrap()
            .unwrap()
            .messages
            .is_empty()
    );
    // A new message of the session goes to its live holder, b.
    let third = ca.journal("a", ttl, vec![entry("m3")]).await.unwrap();
    assert_eq!(
        third,
        [Journaled::New {
            session_seq: 3,
            owner: LeaseHolder::Other {
                instance: "b".into()
            }
        }]
    );

    // Scheduled occurrences: one claim wins; a dead claimer's unfinished run is taken over.
    assert!(cb.claim_run("b", "job1", 60_000).await.unwrap());
    assert!(!cb.claim_run("b", "job1", 60_000).await.unwrap());
    cb.finish_run("job1", 60_000).await.unwrap();
    assert!(cb.orphan_runs("b", ttl).await.unwrap().is_empty());
    // a, silent, claims the next one and never finishes it.
    assert!(ca.claim_run("a", "job1", 120_000).await.unwrap());
    assert_eq!(
        cb.orphan_runs("b", ttl).await.unwrap(),
        [("job1".to_owned(), 120_000)]
    );
    assert!(cb.orphan_runs("b", ttl).await.unwrap().is_empty());

    let view = cb.view(ttl).await.unwrap();
    let states: Vec<(&str, bool, i64)> = view
        .instances
        .iter()
        .map(|i| (i.id.as_str(), i.live, i.sessions))
        .collect();
    assert_eq!(states, [("b", true, 1), ("a", false, 0)]);
    assert_eq!((view.leases, view.open_messages), (1, 1));
    // A new process of a frees what the old one held.
    ca.join("a", "a-2", info).await.unwrap();
    assert!(
        ca.heartbeat("a", "a-2", serde_json::json!({}))
            .await
            .unwrap()
    );
}

/// TLS to the server (`sslmode=require`, `dingclaw.storeCaFile`): the store's connections are
/// encrypted, as the server itself reports; a certificate the gateway cannot verify, or a CA
/// file that is not one, is a clear error.
#[actix_rt::test]
async fn tls_to_the_server_is_encrypted_and_verified() {
    let pg = TestPostgres::start_with_tls().unwrap_or_else(|e| panic!("a TLS test server: {e}"));
    let plain = pg.database().unwrap();
    let url = Secret::new(format!("{plain}?sslmode=require"));
    // Mozilla's roots do not know the test CA.
    let err = match PostgresStore::connect(&url) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a certificate from an unknown CA was accepted"),
    };
    assert!(err.contains("cannot reach PostgreSQL"), "{err}");
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("UnknownIssuer"),
        "{err}"
    );
    let not_pem = pg.ca_file().with_extension("missing");
    let err = match PostgresStore::connect_trusting(&url, Some(&not_pem)) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a missing CA file was accepted"),
    };
    assert!(err.contains("dingclaw.storeCaFile"), "{err}");

    let ca = pg.ca_file();
    let store = PostgresStore::connect_trusting(&url, Some(&ca)).unwrap();
    assert!(store.jobs().unwrap().is_empty());
    let (client, connection) = tokio_postgres::connect(&plain, tokio_postgres::NoTls)
        .await
        .unwrap();
    actix_rt::spawn(async move {
        let _ = connection.await;
    });
    let encrypted: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE a.application_name = 'dingclaw' AND s.ssl",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(encrypted >= 1, "no encrypted connection from the store");
    // The gateway lock and the wake-up listener connect the same way.
    let _lock = dingclaw_actors::store::PostgresGatewayLock::acquire(&url, Some(&ca)).unwrap();
}
