//! The agent's tools through the whole gateway (simulator → router → session → agent →
//! offline model → tools → reply): a page fetched from a chat, the workspace file tools and
//! their confinement, memory private to DMs, `exec` off by default, refused to non-owners and
//! working for an owner under an allowlist (with `/approve`), a multi-round tool turn on an
//! `anthropic-messages` provider, tool calls kept in the transcript, and a model's `params`
//! (DashScope's `enable_search`) in the request.

mod support;

use dingclaw::offline_model::{Action, ModelOptions, Step};
use dingclaw_actors::store::Role;
use serde_json::{Value, json};
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, test_sim};

/// A gateway with one agent `a` (workspace `${STATE}/ws`) on `bot1`, and `extra` top-level
/// config.
async fn start(extra: &str) -> Harness {
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", workspace: "${{STATE}}/ws", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "agenttools1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER}, {extra} dingclaw: {{ store: "memory" }} }}"#
    );
    Harness::start_with(&text, ModelOptions::default(), test_sim()).await
}

fn script_call(h: &Harness, name: &str, arguments: Value) {
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::ToolCall {
            name: name.into(),
            arguments,
        },
    }]);
}

/// The id of the approval request an `exec` result asks for.
fn approval_id(reply: &str) -> String {
    reply
        .split("\"approvalId\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no approval id in {reply}"))
        .to_owned()
}

fn workspace(h: &Harness) -> std::path::PathBuf {
    h.state.path().join("ws")
}

#[actix_rt::test]
async fn file_tools_work_inside_the_workspace_and_refuse_escapes() {
    let h = start("").await;
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool write {"path": "notes/todo.md", "content": "买牛奶\nbuy milk\n"}"#,
        )
        .await;
    assert!(reply.contains("tool result:"), "{reply}");
    let ws = workspace(&h);
    assert_eq!(
        std::fs::read_to_string(ws.join("notes/todo.md")).unwrap(),
        "买牛奶\nbuy milk\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&ws).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the workspace is created for its owner only");
    }
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool edit {"path": "notes/todo.md", "oldText": "buy milk", "newText": "buy tea"}"#,
        )
        .await;
    assert!(!reply.contains("\"error\""), "{reply}");
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool read {"path": "notes/todo.md"}"#,
        )
        .await;
    assert!(reply.contains("买牛奶\\nbuy tea"), "{reply}");

    let outside = h.state.path().join("secret.txt");
    std::fs::write(&outside, "operator secret").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, ws.join("link.txt")).unwrap();
    for path in [
        "../secret.txt",
        outside.to_str().unwrap(),
        "/etc/passwd",
        "link.txt",
    ] {
        let ask = format!(r#"/tool read {{"path": "{path}"}}"#);
        let reply = h.ask("alice", To::Dm("bot1"), &ask).await;
        assert!(
            reply.contains("outside the agent's workspace"),
            "{path}: {reply}"
        );
        assert!(!reply.contains("operator secret"), "{path}: {reply}");
        let ask = format!(r#"/tool write {{"path": "{path}", "content": "x"}}"#);
        let reply = h.ask("alice", To::Dm("bot1"), &ask).await;
        assert!(reply.contains("\"error\""), "{path}: {reply}");
    }
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "operator secret"
    );
    // Arguments the model got wrong are errors it can read.
    let reply = h
        .ask("alice", To::Dm("bot1"), r#"/tool read {"offset": 0}"#)
        .await;
    assert!(reply.contains("`path` is required"), "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn memory_is_searched_in_chinese_in_private_chats_and_hidden_from_groups() {
    let h = start("").await;
    let ws = workspace(&h);
    std::fs::create_dir_all(ws.join("memory")).unwrap();
    std::fs::write(
        ws.join("MEMORY.md"),
        "# 关于 Alice\n\n- Alice 最喜欢的颜色是蓝色。\n- Alice prefers tea over coffee.\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("memory/2026-11-29.md"),
        "今天和 Alice 讨论了上海出差的行程，周三出发。\n",
    )
    .unwrap();
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool memory_search {"query": "最喜欢的颜色"}"#,
        )
        .await;
    assert!(reply.contains("最喜欢的颜色是蓝色"), "{reply}");
    assert!(reply.contains("\"path\":\"MEMORY.md\""), "{reply}");
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool memory_search {"query": "上海出差"}"#,
        )
        .await;
    assert!(reply.contains("memory/2026-11-29.md"), "{reply}");
    // A file written after the first search is indexed on the next one.
    std::fs::write(
        ws.join("memory/2026-11-30.md"),
        "Alice 的生日是三月八日。\n",
    )
    .unwrap();
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool memory_search {"query": "生日"}"#,
        )
        .await;
    assert!(reply.contains("三月八日"), "{reply}");
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool memory_get {"path": "memory/2026-11-30.md"}"#,
        )
        .await;
    assert!(reply.contains("三月八日"), "{reply}");
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool memory_get {"path": "notes.md"}"#,
        )
        .await;
    assert!(reply.contains("not a memory file"), "{reply}");

    // In a group the memory tools are not offered, and the file tools will not read memory.
    let group = h.group(&["bot1"], &["alice", "bob"]);
    let reply = h
        .ask(
            "bob",
            To::Group(&group, &["bot1"]),
            r#"/tool memory_search {"query": "颜色"}"#,
        )
        .await;
    assert!(
        !reply.contains("tool result"),
        "not offered in a group: {reply}"
    );
    // While the file tools are, outside memory.
    std::fs::write(ws.join("shared.md"), "group notes").unwrap();
    let reply = h
        .ask(
            "bob",
            To::Group(&group, &["bot1"]),
            r#"/tool read {"path": "shared.md"}"#,
        )
        .await;
    assert!(reply.contains("group notes"), "{reply}");
    let reply = h
        .ask(
            "bob",
            To::Group(&group, &["bot1"]),
            r#"/tool read {"path": "MEMORY.md"}"#,
        )
        .await;
    assert!(reply.contains("memory is private"), "{reply}");
    assert!(!reply.contains("蓝色"), "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn exec_is_not_offered_by_default() {
    let h = start("").await;
    let reply = h
        .ask("alice", To::Dm("bot1"), r#"/tool exec {"command": "id"}"#)
        .await;
    assert!(!reply.contains("tool result"), "not offered: {reply}");
    // A model that calls it anyway gets an error, and nothing runs.
    script_call(&h, "exec", json!({"command": "touch pwned"}));
    let reply = h.ask("alice", To::Dm("bot1"), "hi").await;
    assert!(reply.contains(r#"unknown tool \"exec\""#), "{reply}");
    assert!(!workspace(&h).join("pwned").exists());
    h.stop().await;
}

const EXEC_FOR_ALICE: &str = r#"commands: { ownerAllowFrom: ["dingtalk-connector:alice"] },
    tools: { exec: { security: "allowlist", safeBins: ["echo", "env", "pwd"], ask: "on-miss" } },"#;

#[actix_rt::test]
async fn exec_runs_allowlisted_commands_for_owners_only_with_a_clean_environment() {
    let h = start(EXEC_FOR_ALICE).await;
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool exec {"command": "echo '你好 from exec; not a second command'"}"#,
        )
        .await;
    assert!(
        reply.contains("你好 from exec; not a second command"),
        "{reply}"
    );
    assert!(reply.contains("\"exitCode\":0"), "{reply}");
    let reply = h
        .ask("alice", To::Dm("bot1"), r#"/tool exec {"command": "pwd"}"#)
        .await;
    let ws = workspace(&h).canonicalize().unwrap();
    assert!(
        reply.contains(ws.to_str().unwrap()),
        "runs in the workspace: {reply}"
    );
    // dingclaw's own environment (here cargo's variables) does not reach a command.
    let reply = h
        .ask("alice", To::Dm("bot1"), r#"/tool exec {"command": "env"}"#)
        .await;
    assert!(
        reply.contains("PATH=/usr/local/bin:/usr/bin:/bin"),
        "{reply}"
    );
    assert!(!reply.contains("CARGO"), "{reply}");

    // bob is not an owner: exec is not offered, and a call anyway is refused.
    let reply = h
        .ask(
            "bob",
            To::Dm("bot1"),
            r#"/tool exec {"command": "echo hi"}"#,
        )
        .await;
    assert!(!reply.contains("tool result"), "{reply}");
    script_call(&h, "exec", json!({"command": "echo hi"}));
    let reply = h.ask("bob", To::Dm("bot1"), "run it").await;
    assert!(reply.contains(r#"unknown tool \"exec\""#), "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn a_command_off_the_allowlist_waits_for_an_owners_approval() {
    let h = start(EXEC_FOR_ALICE).await;
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool exec {"command": "uname -s"}"#,
        )
        .await;
    assert!(reply.contains("approval-pending"), "{reply}");
    let id = approval_id(&reply);
    // Only an owner may answer.
    let refused = h
        .ask("bob", To::Dm("bot1"), &format!("/approve {id} allow-once"))
        .await;
    assert!(refused.contains("Only the gateway's owners"), "{refused}");
    let ran = h
        .ask(
            "alice",
            To::Dm("bot1"),
            &format!("/approve {id} allow-once"),
        )
        .await;
    assert!(ran.contains("Approved and ran: `uname -s`"), "{ran}");
    assert!(ran.contains("Linux"), "{ran}");
    // Answered once: the id is gone.
    let again = h
        .ask("alice", To::Dm("bot1"), &format!("/approve {id} deny"))
        .await;
    assert!(again.contains("No command waits for approval"), "{again}");
    // Shell syntax is never run without a shell; it asks, and a denial runs nothing.
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool exec {"command": "echo hi > made-by-shell.txt"}"#,
        )
        .await;
    let id = approval_id(&reply);
    let denied = h
        .ask("alice", To::Dm("bot1"), &format!("/approve {id} deny"))
        .await;
    assert!(denied.contains("Denied"), "{denied}");
    assert!(!workspace(&h).join("made-by-shell.txt").exists());
    h.stop().await;
}

#[actix_rt::test]
async fn anthropic_messages_providers_run_multi_round_tool_turns_kept_in_the_transcript() {
    let text = format!(
        r#"{{ agents: {{ list: [ {{ id: "a", workspace: "${{STATE}}/ws", model: "claude-like/k2" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "anthropictools", clientSecret: "s1" }} }} }} }},
             models: {{ providers: {{ "claude-like": {{ baseUrl: "${{MODEL_ROOT}}", apiKey: "k",
                 api: "anthropic-messages" }} }} }},
             dingclaw: {{ store: "memory" }} }}"#
    );
    let h = Harness::start_with(&text, ModelOptions::default(), test_sim()).await;
    h.model.script([
        Step {
            model: None,
            times: Some(1),
            action: Action::ToolCall {
                name: "current_time".into(),
                arguments: json!({"timezone": "UTC"}),
            },
        },
        Step {
            model: None,
            times: Some(1),
            action: Action::ToolCall {
                name: "write".into(),
                arguments: json!({"path": "time.md", "content": "checked"}),
            },
        },
    ]);
    let reply = h.ask("alice", To::Dm("bot1"), "What time is it?").await;
    assert!(reply.contains("tool result:"), "{reply}");
    assert!(!reply.contains("tool_use"), "{reply}");
    assert_eq!(
        h.model.stats.requests_for("k2"),
        3,
        "two tool rounds and the answer"
    );
    assert!(workspace(&h).join("time.md").exists());
    let body = h.model.stats.last_body.lock().unwrap().clone().unwrap();
    let msgs = body["messages"].as_array().unwrap();
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant", "user"]);
    assert_eq!(msgs[1]["content"][0]["type"], "tool_use");
    assert_eq!(msgs[2]["content"][0]["type"], "tool_result");
    assert!(
        body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "web_fetch")
    );

    // The transcript keeps the rounds; the next turn sends them back in the same shape.
    let session =
        h.rt.store()
            .load_session("agent:a:dingtalk-connector:direct:alice", 100)
            .await
            .unwrap()
            .unwrap();
    let roles: Vec<Role> = session.entries.iter().map(|e| e.role).collect();
    assert_eq!(
        roles,
        [
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::Assistant,
            Role::Tool,
            Role::Assistant
        ]
    );
    assert_eq!(session.entries[1].tool_calls[0].name, "current_time");
    assert_eq!(
        session.entries[2].tool_call_id.as_deref(),
        Some(session.entries[1].tool_calls[0].id.as_str())
    );
    let reply = h.ask("alice", To::Dm("bot1"), "Thanks").await;
    assert!(reply.contains("turn 2"), "{reply}");
    let body = h.model.stats.last_body.lock().unwrap().clone().unwrap();
    let kinds: Vec<String> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .map(|b| b["type"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "tool_use").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "tool_result").count(),
        2,
        "{kinds:?}"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn a_models_params_and_the_tool_policy_shape_the_request() {
    let text = format!(
        r#"{{ agents: {{ defaults: {{ models: {{ "offline/m": {{ params: {{ enable_search: true, temperature: 0.3, model: "overridden?" }} }} }} }},
                      list: [ {{ id: "a", workspace: "${{STATE}}/ws", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "agenttools1", clientSecret: "s1" }} }} }} }},
             tools: {{ profile: "messaging", alsoAllow: ["web_fetch", "group:memory"] }},
             {TEST_PROVIDER}, dingclaw: {{ store: "memory" }} }}"#
    );
    let h = Harness::start_with(&text, ModelOptions::default(), test_sim()).await;
    let reply = h.ask("alice", To::Dm("bot1"), "北京今天天气怎么样？").await;
    assert!(reply.contains("北京今天天气怎么样"), "{reply}");
    let body = h.model.stats.last_body.lock().unwrap().clone().unwrap();
    assert_eq!(body["enable_search"], true);
    assert_eq!(body["temperature"], 0.3);
    assert_eq!(
        body["model"], "m",
        "params cannot replace the request's own fields"
    );
    let mut offered: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    offered.sort_unstable();
    assert_eq!(
        offered,
        [
            "current_time",
            "memory_get",
            "memory_search",
            "message",
            "web_fetch"
        ],
        "the messaging profile, plus what alsoAllow adds"
    );
    h.stop().await;
}
