//! The cost of one tool dispatch round, without a model or a socket:
//!
//! - `tools/offer`: deciding which of the tools one model call is offered (the policy
//!   pipeline and each tool's gate, as the agent does for every model in its chain).
//! - `tools/dispatch_round`: that, then running one call the model made (`current_time`):
//!   finding the tool, parsing its JSON arguments, running it under its deadline and
//!   serialising the result the model reads.
//! - `tools/memory_rank`: scoring 500 memory chunks against a Chinese query (what
//!   `memory_search` does after the store's substring match).

use std::sync::Arc;

use actix::System;
use criterion::{Criterion, criterion_group, criterion_main};
use dingclaw_actors::config::{Config, MapEnv, load_str};
use dingclaw_actors::provider::ToolCall;
use dingclaw_actors::routing::ChatType;
use dingclaw_actors::tools::{OfferScope, ToolContext, ToolRegistry, offered};

fn config() -> Config {
    let text = r#"{ agents: { list: [ { id: "a", workspace: "/tmp/dingclaw-bench-ws", model: "dashscope/qwen-plus" } ] },
        tools: { profile: "coding", deny: ["apply_patch"], byProvider: { dashscope: { deny: ["process"] } } } }"#;
    load_str(text, std::path::Path::new("."), &MapEnv::new())
        .expect("valid config")
        .config
}

fn scope(config: &Config) -> OfferScope<'_> {
    OfferScope {
        config,
        agent: config.agents.get("a").expect("agent a"),
        provider: "dashscope",
        model: "qwen-plus",
        channel: "dingtalk-connector",
        sender: Some("alice"),
        chat: Some(ChatType::Direct),
        owner: false,
        group: None,
    }
}

fn offer(c: &mut Criterion) {
    let config = config();
    let registry = ToolRegistry::builtin();
    c.bench_function("tools/offer", |b| {
        b.iter(|| offered(&registry, &scope(&config)))
    });
}

fn dispatch(c: &mut Criterion) {
    let config = Arc::new(config());
    let registry = ToolRegistry::builtin();
    let ctx = ToolContext {
        agent_id: "a".into(),
        session_key: "agent:a:bench".into(),
        channel: "dingtalk-connector".into(),
        account: "bot1".into(),
        chat: ChatType::Direct,
        conversation_id: "cid".into(),
        sender_id: "alice".into(),
        timezone: "Asia/Shanghai".into(),
        job: None,
        workspace: "/tmp/dingclaw-bench-ws".into(),
        owner: false,
        read_roots: Arc::default(),
        config: Arc::clone(&config),
    };
    let call = ToolCall {
        id: "call_1".into(),
        name: "current_time".into(),
        arguments: r#"{"timezone": "Europe/Berlin"}"#.into(),
    };
    let system = System::new();
    c.bench_function("tools/dispatch_round", |b| {
        b.iter(|| {
            system.block_on(async {
                let specs = offered(&registry, &scope(&config));
                registry.run(&call, &specs, ctx.clone()).await
            })
        })
    });
}

fn memory_rank(c: &mut Criterion) {
    let chunks: Vec<String> = (0..500)
        .map(|i| format!("第 {i} 条笔记：Alice 喜欢蓝色，周三去上海出差，记得带伞。note {i} about deploys on Friday."))
        .collect();
    let query = "上海出差带伞";
    let terms = dingclaw_actors::memory::terms(query);
    c.bench_function("tools/memory_rank", |b| {
        b.iter(|| {
            chunks
                .iter()
                .map(|t| dingclaw_actors::memory::score(query, &terms, t))
                .filter(|s| *s >= 0.35)
                .count()
        })
    });
}

criterion_group!(benches, offer, dispatch, memory_rank);
criterion_main!(benches);
