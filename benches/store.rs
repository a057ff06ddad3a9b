//! Transcript appends through the store: one turn (user + assistant entries and the session
//! row) per transaction, and a group commit of 64 turns, as the store writer batches them
//! under load. SQLite (WAL, on disk in a temporary folder) and the in-memory store.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dingclaw_actors::store::{
    MemoryStore, Role, SessionMeta, SqliteStore, Store, TranscriptEntry, WriteOp,
};

/// The writes of one turn of session `s` at position `seq`.
fn turn(s: usize, seq: u64) -> [WriteOp; 3] {
    let sid = format!("session-{s:06}");
    let entry = |seq: u64, role: Role, text: &str| WriteOp::Entry {
        session_id: sid.clone(),
        entry: TranscriptEntry {
            seq,
            role,
            content: text.to_owned(),
            msg_id: Some(format!("msg-{s}-{seq}")),
            sender: Some("user0001".to_owned()),
            at_ms: 1_763_900_000_000 + seq as i64,
            tool_calls: Vec::new(),
            tool_call_id: None,
            attachments: Vec::new(),
            first_kept: None,
            sender_name: None,
        },
    };
    [
        entry(seq, Role::User, "what is the weather in Beijing tomorrow?"),
        entry(
            seq + 1,
            Role::Assistant,
            "Tomorrow in Beijing: sunny, 3 to 12 degrees, light wind from the north.",
        ),
        WriteOp::Session(SessionMeta {
            key: format!("agent:main:dingtalk-connector:group:cid{s:06}"),
            session_id: sid.clone(),
            agent_id: "main".to_owned(),
            channel: "dingtalk-connector".to_owned(),
            account: "bot".to_owned(),
            chat: "group".to_owned(),
            conversation_id: format!("cid{s:06}"),
            created_ms: 1_763_900_000_000,
            updated_ms: 1_763_900_000_000 + seq as i64,
            prompt_tokens: 100,
            completion_tokens: 20,
            settings: Default::default(),
            title: None,
        }),
    ]
}

/// Appends batches of `turns` turns, spread over 1,000 sessions.
fn bench_store(c: &mut Criterion, name: &str, store: &dyn Store) {
    let mut group = c.benchmark_group(format!("store_append/{name}"));
    for turns in [1usize, 64] {
        group.throughput(Throughput::Elements(turns as u64));
        let mut n = 0u64;
        group.bench_function(BenchmarkId::new("turns_per_commit", turns), |b| {
            b.iter(|| {
                let ops: Vec<WriteOp> = (0..turns)
                    .flat_map(|_| {
                        n += 1;
                        turn((n % 1_000) as usize, 2 * (n / 1_000) + 1)
                    })
                    .collect();
                store.write(black_box(&ops)).expect("store write");
            })
        });
    }
    group.finish();
}

fn stores(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let sqlite = SqliteStore::open(&dir.path().join("bench.sqlite")).expect("open SQLite");
    bench_store(c, "sqlite", &sqlite);
    bench_store(c, "memory", &MemoryStore::default());
}

criterion_group!(benches, stores);
criterion_main!(benches);
