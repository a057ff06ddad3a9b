//! The tool-calling loop end to end: the model asks for a tool, the gateway runs it with the
//! conversation's context and sends the result back, the model answers. A failing tool's
//! error goes back to the model as the result; a model that never stops calling tools gets
//! no tools on the last round and the user is told.

mod support;

use std::sync::{Arc, Mutex};

use dingclaw::offline_model::{Action, ModelOptions, Step};
use dingclaw_actors::actors::agent::MAX_TOOL_ROUNDS;
use dingclaw_actors::tools::{CurrentTime, Tool, ToolContext, ToolError, ToolRegistry};
use futures_util::future::LocalBoxFuture;
use serde_json::{Value, json};
use support::gateway::{Harness, TEST_ACCOUNT, TEST_PROVIDER, To, test_sim};

/// Records who called it and fails when asked to.
struct Probe {
    calls: Arc<Mutex<Vec<ToolContext>>>,
}

impl Tool for Probe {
    fn name(&self) -> &str {
        "probe"
    }

    fn description(&self) -> &str {
        "Test tool: echoes `word` in capitals, or fails when `fail` is true."
    }

    fn parameters(&self) -> Value {
        json!({"type": "object", "properties": {"word": {"type": "string"}, "fail": {"type": "boolean"}}})
    }

    fn call(
        &self,
        args: Value,
        ctx: ToolContext,
    ) -> LocalBoxFuture<'static, Result<Value, ToolError>> {
        self.calls.lock().unwrap().push(ctx);
        Box::pin(async move {
            if args.get("fail").and_then(Value::as_bool) == Some(true) {
                return Err(ToolError::Failed("the probe was told to fail".into()));
            }
            let word = args.get("word").and_then(Value::as_str).unwrap_or("");
            Ok(json!({"upper": word.to_uppercase()}))
        })
    }
}

async fn start() -> (Harness, Arc<Mutex<Vec<ToolContext>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let mut tools = ToolRegistry::empty();
    tools.register(CurrentTime).register(Probe {
        calls: Arc::clone(&calls),
    });
    let text = format!(
        r#"{{ agents: {{ defaults: {{ userTimezone: "Asia/Shanghai" }}, list: [ {{ id: "a", model: "offline/m" }} ] }},
             channels: {{ "dingtalk-connector": {{ {TEST_ACCOUNT},
               accounts: {{ bot1: {{ clientId: "toolbot1", clientSecret: "s1" }} }} }} }},
             {TEST_PROVIDER}, dingclaw: {{ store: "memory" }} }}"#
    );
    let h = Harness::start_with_tools(&text, ModelOptions::default(), test_sim(), tools).await;
    (h, calls)
}

#[actix_rt::test]
async fn a_tool_call_runs_with_the_conversation_context_and_its_result_reaches_the_model() {
    let (h, calls) = start().await;
    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool probe {"word": "dingtalk"}"#,
        )
        .await;
    assert!(
        reply.ends_with(r#"tool result: {"upper":"DINGTALK"}"#),
        "{reply}"
    );
    let ctx = calls.lock().unwrap().pop().expect("the tool was called");
    assert_eq!(ctx.agent_id, "a");
    assert_eq!(ctx.account, "bot1");
    assert_eq!(ctx.sender_id, "alice");
    assert_eq!(ctx.timezone, "Asia/Shanghai");
    assert_eq!(ctx.session_key, "agent:a:dingtalk-connector:direct:alice");

    let reply = h
        .ask(
            "alice",
            To::Dm("bot1"),
            r#"/tool current_time {"timezone": "UTC"}"#,
        )
        .await;
    assert!(reply.contains(r#""timezone":"UTC""#), "{reply}");
    h.stop().await;
}

#[actix_rt::test]
async fn a_failing_tool_is_reported_to_the_model_not_the_end_of_the_turn() {
    let (h, _) = start().await;
    let reply = h
        .ask("alice", To::Dm("bot1"), r#"/tool probe {"fail": true}"#)
        .await;
    assert!(
        reply.ends_with(r#"tool result: {"error":"the probe was told to fail"}"#),
        "{reply}"
    );
    // Arguments that are not JSON, and a tool that does not exist, are errors for the model.
    h.model.script([Step {
        model: None,
        times: Some(1),
        action: Action::ToolCall {
            name: "no_such_tool".into(),
            arguments: json!({}),
        },
    }]);
    let reply = h.ask("bob", To::Dm("bot1"), "anything").await;
    assert!(
        reply.contains(r#"tool result: {"error":"unknown tool \"no_such_tool\""#),
        "{reply}"
    );
    h.stop().await;
}

#[actix_rt::test]
async fn a_model_that_keeps_calling_tools_is_stopped_and_the_user_told() {
    let (h, calls) = start().await;
    h.model.script([Step {
        model: None,
        times: Some(MAX_TOOL_ROUNDS as u32 + 1),
        action: Action::ToolCall {
            name: "probe".into(),
            arguments: json!({"word": "again"}),
        },
    }]);
    let reply = h.ask("alice", To::Dm("bot1"), "loop").await;
    assert_eq!(
        reply,
        "⚠️ The assistant kept using tools without answering; please rephrase and try again."
    );
    assert_eq!(calls.lock().unwrap().len(), MAX_TOOL_ROUNDS);
    assert_eq!(h.model.stats.requests_for("m"), MAX_TOOL_ROUNDS as u64 + 1);
    h.stop().await;
}
