//! What every `Store` must do, as one run any implementation's tests call (SQLite and memory
//! here, PostgreSQL from `tests/store_postgres.rs` against a real server). Test support, not
//! part of the API.
#![allow(missing_docs, clippy::unwrap_used)]

use super::*;

/// A session index row for store tests.
pub fn meta(key: &str, sid: &str) -> SessionMeta {
    SessionMeta {
        key: key.into(),
        session_id: sid.into(),
        agent_id: "a".into(),
        channel: "dingtalk-connector".into(),
        account: "bot1".into(),
        chat: "group".into(),
        conversation_id: "cid".into(),
        created_ms: 1,
        updated_ms: 2,
        prompt_tokens: 0,
        completion_tokens: 0,
        settings: SessionSettings::default(),
        title: None,
    }
}

fn entry(seq: u64, role: Role, text: &str) -> TranscriptEntry {
    TranscriptEntry::message(seq, role, text.into(), seq as i64)
}

/// The same behaviour from every implementation.
pub fn exercise(store: &dyn Store) {
    assert!(store.load_session("k1", 10).unwrap().is_none());
    store
        .write(&[
            WriteOp::Session(meta("k1", "s1")),
            WriteOp::Entry {
                session_id: "s1".into(),
                entry: entry(1, Role::User, "hi"),
            },
            WriteOp::Entry {
                session_id: "s1".into(),
                entry: entry(2, Role::Assistant, "hello"),
            },
            WriteOp::Entry {
                session_id: "s1".into(),
                entry: entry(3, Role::User, "more"),
            },
        ])
        .unwrap();
    let s = store.load_session("k1", 2).unwrap().unwrap();
    assert_eq!(s.meta.session_id, "s1");
    assert_eq!(
        s.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![2, 3]
    );
    // A reset moves the key to a new session id; the old transcript stays readable.
    store.write(&[WriteOp::Session(meta("k1", "s2"))]).unwrap();
    let s = store.load_session("k1", 10).unwrap().unwrap();
    assert_eq!((s.meta.session_id.as_str(), s.entries.len()), ("s2", 0));
    assert_eq!(store.transcript("s1", 10).unwrap().len(), 3);
    store.write(&[WriteOp::Session(meta("k2", "s3"))]).unwrap();
    let all = store
        .sessions(&SessionFilter {
            limit: 10,
            ..SessionFilter::default()
        })
        .unwrap();
    assert_eq!(all.len(), 2);

    // Jobs are replaced by id; a run log keeps the newest `keep`; deleting a job drops both.
    store
        .write(&[
            WriteOp::Job {
                id: "j1".into(),
                json: "{\"v\":1}".into(),
            },
            WriteOp::Job {
                id: "j1".into(),
                json: "{\"v\":2}".into(),
            },
            WriteOp::Job {
                id: "j2".into(),
                json: "{}".into(),
            },
        ])
        .unwrap();
    let mut jobs = store.jobs().unwrap();
    jobs.sort();
    assert_eq!(jobs, vec!["{\"v\":2}".to_owned(), "{}".to_owned()]);
    let runs: Vec<WriteOp> = (1..=5)
        .map(|i| WriteOp::Run {
            job_id: "j1".into(),
            run_at_ms: i,
            json: format!("r{i}"),
            keep: 3,
        })
        .collect();
    store.write(&runs).unwrap();
    assert_eq!(store.runs("j1", 10).unwrap(), vec!["r5", "r4", "r3"]);
    assert_eq!(store.runs("j1", 1).unwrap(), vec!["r5"]);
    store
        .write(&[WriteOp::DeleteJob { id: "j1".into() }])
        .unwrap();
    assert_eq!(store.jobs().unwrap(), vec!["{}".to_owned()]);
    assert!(store.runs("j1", 10).unwrap().is_empty());

    // The journal: a second write of one (account, msgId) is ignored; open rows come
    // back in arrival order until done; pruning forgets only done rows.
    let inbound = |account: &str, msg: &str, at: i64| {
        WriteOp::Inbound(JournalEntry {
            seq: 0,
            account: account.into(),
            msg_id: msg.into(),
            received_ms: at,
            payload: format!("{{\"msgId\":\"{msg}\"}}").into(),
        })
    };
    store
        .write(&[
            inbound("bot1", "m1", 10),
            inbound("bot1", "m2", 20),
            inbound("bot2", "m1", 30),
            inbound("bot1", "m1", 40),
        ])
        .unwrap();
    let open = store.open_inbound().unwrap();
    let ids: Vec<(&str, &str, i64)> = open
        .iter()
        .map(|e| (e.account.as_str(), e.msg_id.as_str(), e.received_ms))
        .collect();
    assert_eq!(
        ids,
        vec![("bot1", "m1", 10), ("bot1", "m2", 20), ("bot2", "m1", 30)]
    );
    assert!(open.windows(2).all(|w| w[0].seq < w[1].seq));
    store
        .write(&[
            WriteOp::InboundDone {
                account: "bot1".into(),
                msg_id: "m1".into(),
            },
            WriteOp::InboundDone {
                account: "bot2".into(),
                msg_id: "m1".into(),
            },
        ])
        .unwrap();
    let open: Vec<String> = store
        .open_inbound()
        .unwrap()
        .into_iter()
        .map(|e| e.msg_id)
        .collect();
    assert_eq!(open, vec!["m2"]);
    let recent = |since| -> Vec<String> {
        store
            .inbound_ids(since)
            .unwrap()
            .into_iter()
            .map(|i| format!("{}/{}", i.account, i.msg_id))
            .collect()
    };
    assert_eq!(recent(0), vec!["bot1/m1", "bot1/m2", "bot2/m1"]);
    // An open row is always included, however old.
    assert_eq!(recent(25), vec!["bot1/m2", "bot2/m1"]);
    store
        .write(&[WriteOp::PruneInbound { done_before_ms: 35 }])
        .unwrap();
    assert_eq!(recent(0), vec!["bot1/m2"]);

    // Tool calls and results round-trip.
    let mut asked = entry(4, Role::Assistant, "");
    asked.tool_calls = vec![ToolCall {
        id: "c1".into(),
        name: "web_fetch".into(),
        arguments: "{\"url\":\"https://example.com\"}".into(),
    }];
    let mut answered = entry(5, Role::Tool, "{\"text\":\"ok\"}");
    answered.tool_call_id = Some("c1".into());
    store
        .write(&[
            WriteOp::Entry {
                session_id: "s1".into(),
                entry: asked.clone(),
            },
            WriteOp::Entry {
                session_id: "s1".into(),
                entry: answered.clone(),
            },
        ])
        .unwrap();
    let t = store.transcript("s1", 2).unwrap();
    assert_eq!(t, vec![asked, answered]);

    // Memory: files are replaced whole, searched by substring (Chinese included) and
    // forgotten.
    let file = |path: &str, size: u64| MemoryFile {
        path: path.into(),
        mtime_ms: 1,
        size,
    };
    let chunk = |text: &str| MemoryChunk {
        start_line: 1,
        end_line: 2,
        text: text.into(),
    };
    store
        .write(&[
            WriteOp::MemoryFile {
                agent: "a".into(),
                file: file("MEMORY.md", 10),
                chunks: vec![chunk("用户喜欢蓝色。"), chunk("Deploys on Friday")],
            },
            WriteOp::MemoryFile {
                agent: "b".into(),
                file: file("MEMORY.md", 10),
                chunks: vec![chunk("用户喜欢红色。")],
            },
        ])
        .unwrap();
    let found = store
        .memory_candidates("a", &["喜欢".into(), "friday".into()], 10)
        .unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(
        store.memory_candidates("a", &["红色".into()], 10).unwrap(),
        vec![]
    );
    store
        .write(&[WriteOp::MemoryFile {
            agent: "a".into(),
            file: file("MEMORY.md", 11),
            chunks: vec![chunk("用户喜欢绿色。")],
        }])
        .unwrap();
    let found = store.memory_candidates("a", &["喜欢".into()], 10).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].text, "用户喜欢绿色。");
    assert_eq!(
        store.memory_files("a").unwrap(),
        vec![file("MEMORY.md", 11)]
    );
    store
        .write(&[WriteOp::MemoryForget {
            agent: "a".into(),
            path: "MEMORY.md".into(),
        }])
        .unwrap();
    assert!(store.memory_files("a").unwrap().is_empty());
    assert!(
        store
            .memory_candidates("a", &["喜欢".into()], 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.memory_files("b").unwrap().len(), 1);
}
