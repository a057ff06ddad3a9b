//! Routing decisions: which agent and which session, for configs of 1, 100 and 10,000
//! bindings (the binding index should make the size not matter), and the session key alone.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dingclaw_actors::config::{Config, DmScope, GroupScope, MapEnv, load_str};
use dingclaw_actors::routing::{ChatType, Inbound, KeyScope, Routes, session_key};
use serde_json::json;

/// A config with `n` group bindings (peer tier) spread over 10 agents, plus an account-wide
/// fallback binding.
fn config(n: usize) -> Config {
    let mut bindings: Vec<_> = (0..n)
        .map(|i| {
            json!({"agentId": format!("a{}", i % 10), "match": {
                "channel": "dingtalk-connector", "accountId": "bot",
                "peer": {"kind": "group", "id": format!("cid{i}")}}})
        })
        .collect();
    bindings.push(
        json!({"agentId": "a0", "match": {"channel": "dingtalk-connector", "accountId": "*"}}),
    );
    let text = json!({
        "agents": {"list": (0..10).map(|i| json!({"id": format!("a{i}")})).collect::<Vec<_>>()},
        "channels": {"dingtalk-connector": {"accounts": {
            "bot": {"clientId": "dingbench", "clientSecret": "bench-secret"}}}},
        "bindings": bindings,
    })
    .to_string();
    load_str(&text, Path::new("."), &MapEnv::new())
        .expect("the benchmark config is valid")
        .config
}

fn routing(c: &mut Criterion) {
    let mut group = c.benchmark_group("route");
    for n in [1usize, 100, 10_000] {
        let routes = Routes::new(&config(n));
        // The last group binding: the worst place for a linear scan.
        let cid = format!("cid{}", n - 1);
        let inbound = Inbound {
            channel: "dingtalk-connector",
            account: "bot",
            chat: ChatType::Group,
            conversation_id: &cid,
            sender_id: "user0001",
        };
        group.bench_with_input(
            BenchmarkId::new("group_peer_binding", n),
            &inbound,
            |b, i| b.iter(|| routes.route(black_box(i))),
        );
        let dm = Inbound {
            chat: ChatType::Direct,
            conversation_id: "cidDM",
            ..inbound
        };
        group.bench_with_input(BenchmarkId::new("dm_account_binding", n), &dm, |b, i| {
            b.iter(|| routes.route(black_box(i)))
        });
    }
    group.finish();
}

fn key(c: &mut Criterion) {
    let input = Inbound {
        channel: "dingtalk-connector",
        account: "bot",
        chat: ChatType::Group,
        conversation_id: "cidAbCdEfGhIjKlMnOpQrStUvWx==",
        sender_id: "user0001",
    };
    let scope = KeyScope {
        conversation: Default::default(),
        dm_scope: DmScope::PerChannelPeer,
        group_scope: GroupScope::PerGroup,
        main_key: "main",
        identity_links: &[],
    };
    c.bench_function("session_key/group", |b| {
        b.iter(|| session_key(black_box("a0"), black_box(&input), &scope))
    });
    let dm = Inbound {
        chat: ChatType::Direct,
        ..input
    };
    c.bench_function("session_key/direct", |b| {
        b.iter(|| session_key(black_box("a0"), black_box(&dm), &scope))
    });
}

criterion_group!(benches, routing, key);
criterion_main!(benches);
